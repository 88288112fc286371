"""The state database: one engine per URL, tables created idempotently, SQLite tuned for several processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, Table, inspect, select

from plugin.storage.db import (
    DEFAULT_STATE_URL,
    StateDB,
    StateDBError,
    build_engine,
    metadata,
    sqlite_path,
    state_dir_of,
)
from tests.storage.backends import db, state_url  # noqa: F401  (fixtures)


def test_opening_creates_every_declared_table_and_is_idempotent(state_url: str) -> None:
    first = StateDB.open(state_url)
    second = StateDB.open(state_url)  # a second open (another process, a restart) must not fail
    names = set(inspect(second.engine).get_table_names())
    assert {"rg_audit_log", "rg_audit_head", "rg_vault_records", "rg_vault_keys"} <= names
    first.close()
    second.close()


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_secure_delete(tmp_path: Path) -> None:
    state = StateDB.open(f"sqlite:///{tmp_path / 'nested' / 'state.db'}")
    with state.read() as connection:
        for name in ("state.db", "state.db-wal", "state.db-shm"):  # the WAL files exist while a connection is open
            assert (tmp_path / "nested" / name).stat().st_mode & 0o777 == 0o600, name
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
    state.close()


def test_a_table_declared_after_opening_is_created_on_first_use(db: StateDB) -> None:
    late = Table("rg_test_late_table", metadata, Column("id", Integer, primary_key=True))
    try:
        db.ensure_tables(late)
        db.ensure_tables(late)
        with db.write() as connection:
            connection.execute(late.insert().values(id=1))
        with db.read() as connection:
            assert connection.execute(select(late.c.id)).scalar_one() == 1
    finally:
        with db.write() as connection:
            late.drop(connection)
        metadata.remove(late)


def test_a_failed_write_transaction_changes_nothing(db: StateDB) -> None:
    from plugin.policy.audit import audit_head

    with db.read() as connection:
        before = connection.execute(select(audit_head)).all()
    with pytest.raises(RuntimeError):
        with db.write() as connection:
            connection.execute(audit_head.delete())
            raise RuntimeError("abort")
    with db.read() as connection:
        assert connection.execute(select(audit_head)).all() == before


@pytest.mark.parametrize(
    "url, message",
    [
        ("not a url", "not a valid SQLAlchemy URL"),
        ("nosuchdb://x/y", "not a valid SQLAlchemy URL|no driver"),
        ("postgresql://nobody@127.0.0.1:1/nothing", "cannot open the state database"),
    ],
)
def test_an_unusable_url_is_refused_clearly(url: str, message: str) -> None:
    with pytest.raises(StateDBError, match=message):
        StateDB.open(url)


def test_the_password_never_appears_in_errors_or_reprs() -> None:
    with pytest.raises(StateDBError) as error:
        StateDB.open("postgresql://rg:s3cret-pw@127.0.0.1:1/state")
    assert "s3cret-pw" not in str(error.value)
    assert "s3cret-pw" not in repr(StateDB(build_engine("postgresql://rg:s3cret-pw@127.0.0.1:1/state")))


def test_sqlite_path_and_default_url() -> None:
    assert sqlite_path(DEFAULT_STATE_URL) == Path(".rasa-guard/state.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("postgresql://u@h/db") is None
    assert state_dir_of("sqlite:////srv/bot/state/state.db") == Path("/srv/bot/state")
    assert state_dir_of("postgresql://u@h/db") == Path(".rasa-guard")


def test_inserted_rows_land_in_one_transaction_or_not_at_all(db: StateDB) -> None:
    from sqlalchemy.exc import IntegrityError

    from plugin.storage.vault import vault_keys, vault_records

    record = dict(token="vlt_test_one", conversation_id="c1", pii_type="credit_card", created_at=1, expires_at=2,
                  nonce=b"\x00" * 12, ciphertext=b"sealed-bytes")
    key = dict(token="vlt_test_one", key_id="k1", wrapped_key=b"\x01" * 40)
    db.insert_rows((vault_records, [record]), (vault_keys, [key]), (vault_keys, []))
    with db.read() as connection:
        assert connection.execute(select(vault_records.c.nonce, vault_records.c.shredded_at)).one() == (b"\x00" * 12, None)
        assert connection.execute(select(vault_keys.c.wrapped_key)).scalar_one() == b"\x01" * 40

    second = dict(record, token="vlt_test_two", ciphertext=b"second-secret")
    with pytest.raises(IntegrityError) as error:  # the key row repeats a token: the whole write is undone
        db.insert_rows((vault_records, [second]), (vault_keys, [key]))
    assert "second-secret" not in str(error.value)  # statement parameters are never shown
    with db.read() as connection:
        assert connection.execute(select(vault_records.c.token)).scalars().all() == ["vlt_test_one"]
    with pytest.raises(ValueError, match="no column"):
        db.insert_rows((vault_keys, [dict(key, token="vlt_test_three", colour="red")]))


def test_rows_that_sqlite_cannot_take_directly_are_refused_before_anything_is_written(db: StateDB) -> None:
    from sqlalchemy import DateTime, String

    from plugin.storage.vault import vault_keys

    key = dict(token="vlt_test_one", key_id="k1", wrapped_key=b"\x01" * 40)
    with pytest.raises(ValueError, match="same columns"):
        db.insert_rows((vault_keys, [key, dict(token="vlt_test_two", key_id="k1")]))
    if not db.is_sqlite:
        return
    stamped = Table("rg_test_stamped", metadata, Column("id", Integer, primary_key=True), Column("at", DateTime),
                    Column("kind", String(8), default="x"))
    try:
        db.ensure_tables(stamped)
        # a converted type named in the row, a column SQLAlchemy would fill in whether named or not
        for row, column in (({"id": 1, "at": None}, "at"), ({"id": 2, "kind": "y"}, "kind"), ({"id": 3}, "kind")):
            with pytest.raises(ValueError, match=f"stamped.{column} is not a plain column"):
                db.insert_rows((stamped, [row]))
        with db.read() as connection:
            assert connection.execute(select(stamped.c.id)).all() == []
    finally:
        with db.write() as connection:
            stamped.drop(connection)
        metadata.remove(stamped)


def test_a_write_sqlite_abandons_itself_reports_the_real_error_and_leaves_the_database_usable(tmp_path: Path) -> None:
    from sqlalchemy import event
    from sqlalchemy.exc import OperationalError

    from plugin.storage.vault import vault_keys, vault_records

    state = StateDB.open(f"sqlite:///{tmp_path / 'state.db'}")
    with state.read() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()

    def cap(dbapi_connection, _record, _proxy) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 2}")

    record = dict(token="vlt_test_big", conversation_id="c1", pii_type="x", created_at=1, expires_at=2,
                  nonce=b"\x00" * 12, ciphertext=os.urandom(200_000))  # far more than two free pages: SQLITE_FULL
    event.listen(state.engine, "checkout", cap)
    with pytest.raises(OperationalError, match="full"):
        state.insert_rows((vault_records, [record]), (vault_keys, [dict(token="vlt_test_big", key_id="k", wrapped_key=b"w")]))
    event.remove(state.engine, "checkout", cap)
    small = dict(record, token="vlt_test_small", ciphertext=b"c")
    state.engine.dispose()  # the capped connections go; the next write gets a fresh one
    state.insert_rows((vault_records, [small]), (vault_keys, [dict(token="vlt_test_small", key_id="k", wrapped_key=b"w")]))
    with state.read() as connection:
        assert connection.execute(select(vault_records.c.token)).scalars().all() == ["vlt_test_small"]
    state.close()
