"""The plugin-state database: one SQLAlchemy engine and one ``MetaData`` that every state module adds its tables to.

SQLite (one file, WAL) is the embedded default; any SQLAlchemy URL, e.g. PostgreSQL, lets several machines share state.
A module that owns a table declares it on ``metadata`` and calls ``StateDB.ensure_tables`` before first use, so tables
exist no matter in which order modules are imported.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator, Mapping, Optional, Sequence, Set, Tuple

from sqlalchemy import Enum, Integer, LargeBinary, MetaData, String, Table, create_engine, event, insert, text
from sqlalchemy.dialects.sqlite import dialect as SQLiteDialect
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from plugin.storage.conversation_ids import KEPT_AS_SENT, ConversationIds

DEFAULT_STATE_DIR = Path(".rasa-guard")
DEFAULT_STATE_URL = f"sqlite:///{DEFAULT_STATE_DIR / 'state.db'}"
SQLITE_BUSY_TIMEOUT_MS = 10_000

# Table names carry the rg_ prefix so the state can share a database with Rasa's own tracker-store tables.
metadata = MetaData()

_BEGIN_OPTION = "rasa_guard_sqlite_begin"
_SQLITE_DIALECT = SQLiteDialect()


class StateDBError(Exception):
    """The state database URL is unusable or the database cannot be opened."""


def parse_url(url: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        raise StateDBError("state database URL is not a valid SQLAlchemy URL, e.g. sqlite:///.rasa-guard/state.db") from None


def sqlite_path(url: str) -> Optional[Path]:
    """The file behind a SQLite URL; ``None`` for other databases and for in-memory SQLite."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def build_engine(url: str) -> Engine:
    """An engine for ``url``; on SQLite with WAL, a busy timeout, foreign keys and zeroing of deleted content. Its
    errors and logs never show statement parameters (blacklist entries, settings values)."""
    parsed = parse_url(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            return create_engine(parsed, future=True, pool_pre_ping=True, hide_parameters=True)
        except (NoSuchModuleError, ImportError) as error:
            raise StateDBError(f"no driver for {parsed.drivername!r}: install it (e.g. psycopg2 for postgresql): {error}") from None
    path = sqlite_path(url)
    if path is None:
        engine = create_engine(parsed, future=True, poolclass=StaticPool, hide_parameters=True,
                               connect_args={"check_same_thread": False})
    else:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Create the file private; SQLite gives its -wal and -shm files the same permissions.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        # Pooled connections (SQLAlchemy 1.4 opens one per use on SQLite files): a read per message stays cheap.
        engine = create_engine(parsed, future=True, poolclass=QueuePool, pool_size=4, max_overflow=16, hide_parameters=True,
                               connect_args={"check_same_thread": False})
    _install_sqlite_hooks(engine)
    return engine


def _install_sqlite_hooks(engine: Engine) -> None:
    # pysqlite's own transaction handling cannot issue BEGIN IMMEDIATE; take it over (SQLAlchemy's documented recipe).
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        # Deleted rows (shredded vault keys) are overwritten with zeros instead of lingering in free pages.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        connection.exec_driver_sql(f"BEGIN {connection.get_execution_options().get(_BEGIN_OPTION, 'DEFERRED')}")


class StateDB:
    """The open plugin-state database that state modules receive; create with ``StateDB.open``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._ensured: Set[str] = set()
        # How the state tables store conversation ids; the opener sets it from ``storage.conversation_ids``.
        self.conversation_ids: ConversationIds = KEPT_AS_SENT

    @classmethod
    def open(cls, url: Optional[str] = None) -> "StateDB":
        """Connect and create every table declared so far (idempotent; safe when several processes start at once)."""
        db = cls(build_engine(url or DEFAULT_STATE_URL))
        try:
            db.ensure_tables(*metadata.sorted_tables)
        except OperationalError as error:
            db.close()
            where = db.engine.url.render_as_string(hide_password=True)
            raise StateDBError(f"cannot open the state database {where}: {error.orig}") from None
        return db

    def __repr__(self) -> str:
        return f"StateDB({self.engine.url!r})"  # SQLAlchemy's URL repr hides the password

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def ensure_tables(self, *tables: Table) -> None:
        """Create the given tables if missing, serialised so that concurrent first runs do not collide."""
        missing = [table for table in tables if table.name not in self._ensured]
        if not missing:
            return
        with self.write() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(hashtext('rasa_guard.create_tables'))"))
            metadata.create_all(connection, tables=missing, checkfirst=True)
        self._ensured.update(table.name for table in missing)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that writes; on SQLite it takes the write lock at BEGIN so read-then-write steps are atomic."""
        with self.engine.connect() as connection:
            if self.is_sqlite:
                connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                yield connection

    def insert_rows(self, *batches: Tuple[Table, Sequence[Mapping[str, Any]]]) -> None:
        """Insert each batch of rows (every row of a batch with the same keys) in one write transaction, all or nothing.

        On SQLite the pooled DB-API connection runs prepared statements directly, for tables of plain columns (text,
        integers, bytes; no Python-side defaults): the vault writes every message's originals in the request thread,
        where SQLAlchemy's per-statement machinery cost more than the insert (~250 vs ~100 us of CPU per write).
        Elsewhere SQLAlchemy Core. Database errors are SQLAlchemy's, without the statement's parameters.
        """
        batches = tuple((table, rows) for table, rows in batches if rows)
        for table, rows in batches:
            _check_rows(table, rows)
        if not batches:
            return
        if not self.is_sqlite:
            with self.write() as connection:
                for table, rows in batches:
                    connection.execute(insert(table), list(rows))
            return
        connection = self.engine.raw_connection()
        try:
            statement = "BEGIN IMMEDIATE"
            try:
                cursor = connection.cursor()
                try:
                    cursor.execute(statement)
                    for table, rows in batches:
                        columns = tuple(rows[0])
                        statement = _sqlite_insert(table, columns)
                        cursor.executemany(statement, [tuple(row[name] for name in columns) for row in rows])
                    statement = "COMMIT"
                    cursor.execute(statement)
                except BaseException:
                    _rollback_quietly(cursor)
                    raise
                finally:
                    cursor.close()
            except sqlite3.Error as error:  # parameters left out: the message must not carry stored values
                raise DBAPIError.instance(statement, None, error, sqlite3.Error, hide_parameters=True) from None
        finally:
            connection.close()

    @contextmanager
    def read(self, snapshot: bool = False) -> Iterator[Connection]:
        """A read transaction; ``snapshot`` makes every statement in it see the same committed state."""
        with self.engine.connect() as connection:
            if snapshot and not self.is_sqlite:  # a SQLite (WAL) read transaction is a snapshot already
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection

    def flush_deleted(self) -> None:
        """Best effort: move SQLite's WAL into the main file and truncate it so deleted bytes leave the WAL file."""
        if self.is_sqlite:
            with self.engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def close(self) -> None:
        self.engine.dispose()


def _check_rows(table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse what SQLAlchemy would silently drop (unknown columns) and rows whose keys differ within a batch."""
    keys = set(rows[0])
    unknown = sorted(name for name in keys if name not in table.c)
    if unknown:
        raise ValueError(f"table {table.name} has no column(s) {', '.join(unknown)}")
    if any(set(row) != keys for row in rows):
        raise ValueError(f"rows for table {table.name} must all name the same columns")


def _rollback_quietly(cursor: sqlite3.Cursor) -> None:
    """End a failed transaction without hiding its error: SQLite may have rolled it back already (disk full, I/O
    error, interrupt), and if this fails the pool's rollback on return is the backstop."""
    if cursor.connection.in_transaction:
        try:
            cursor.execute("ROLLBACK")
        except sqlite3.Error:
            pass


_PLAIN_TYPES = (String, Integer, LargeBinary)  # bound by sqlite3 as SQLAlchemy would bind them (BigInteger is Integer)


@lru_cache(maxsize=None)
def _sqlite_insert(table: Table, columns: Tuple[str, ...]) -> str:
    """``INSERT INTO table (columns) VALUES (?, ...)`` with the names quoted as SQLAlchemy quotes them for SQLite.
    Tables whose columns SQLAlchemy would convert or fill in are refused: the direct path would store something else."""
    named = {table.c[name] for name in columns}
    for column in table.c:
        filled_in = column.default is not None or column.onupdate is not None
        converted = column in named and (not isinstance(column.type, _PLAIN_TYPES) or isinstance(column.type, Enum))
        if filled_in or converted or column.key != column.name or table.schema is not None:
            raise ValueError(f"column {table.name}.{column.name} is not a plain column; insert it through SQLAlchemy")
    quote = _SQLITE_DIALECT.identifier_preparer.quote
    return (f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})")


def state_dir_of(url: str) -> Path:
    """Where per-installation files (the master key) live by default: next to a SQLite file, else ``.rasa-guard``."""
    path = sqlite_path(url)
    return path.parent if path is not None else DEFAULT_STATE_DIR

