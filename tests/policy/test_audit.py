"""The audit trail: append-only, hash-chained, tamper-evident, safe under concurrent writers, exportable."""

from __future__ import annotations

import argparse
import csv
import io
import json
import multiprocessing
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterator, List

import pytest

from plugin.cli import CommandError
from plugin.cli import audit_cmd
from plugin.policy.audit import (
    FAILED,
    OK,
    REDACTION_FAILED,
    REFUSED,
    AuditError,
    AuditLog,
    write_csv,
    write_jsonl,
)
from plugin.storage.db import StateDB
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

START = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


class StepClock:
    """Each call returns a time one minute after the previous one."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(minutes=1)
        return current


@pytest.fixture
def audit(db: StateDB) -> AuditLog:
    return AuditLog(db, clock=StepClock())


def fill(audit: AuditLog, count: int) -> None:
    for number in range(count):
        audit.append(
            "settings.change",
            outcome=OK,
            actor=f"staff-{number % 2}",
            role="admin",
            channel="rest",
            setting="session.idle_minutes",
            scope="global",
            old_value=number,
            new_value=number + 1,
        )


def problem_rows(audit: AuditLog) -> List[int]:
    return [problem.row_id for problem in audit.verify().problems]


def test_appended_entries_read_back_in_order_with_a_linked_chain(audit: AuditLog) -> None:
    fill(audit, 3)
    entries = audit.entries()
    assert [entry.id for entry in entries] == [1, 2, 3]
    assert entries[0].prev_hash == "0" * 64
    assert entries[1].prev_hash == entries[0].row_hash
    assert entries[2].old_value == "2" and entries[2].new_value == "3"
    assert entries[0].at == "2024-05-01T12:00:00.000000Z"
    assert audit.head() == (3, entries[2].row_hash)
    result = audit.verify()
    assert result.ok and result.rows == 3 and result.head_hash == entries[2].row_hash


def test_an_empty_trail_verifies(audit: AuditLog) -> None:
    result = audit.verify()
    assert result.ok and result.rows == 0 and result.head_id == 0


def test_reopening_the_database_continues_the_same_chain(state_url: str) -> None:
    first = StateDB.open(state_url)
    fill(AuditLog(first), 2)
    first.close()
    second = StateDB.open(state_url)
    log = AuditLog(second)
    fill(log, 2)
    assert log.verify().ok and log.head()[0] == 4
    second.close()


TAMPERING = [
    # (what an attacker runs on five rows, the row ids verify must name, words in the first problem)
    ("UPDATE rg_audit_log SET new_value = '999' WHERE id = 3", [3], "edited"),
    # row 2's content no longer matches its (recomputed-looking) hash, and row 3 no longer links to it
    ("UPDATE rg_audit_log SET outcome = 'refused', row_hash = '" + "f" * 64 + "' WHERE id = 2", [2, 3], "edited"),
    ("DELETE FROM rg_audit_log WHERE id = 3", [4], "missing"),
    ("DELETE FROM rg_audit_log WHERE id >= 4", [4], "missing"),
]


@pytest.mark.parametrize("sql, rows, words", TAMPERING)
def test_verify_names_the_tampered_row(audit: AuditLog, state_url: str, sql: str, rows: List[int], words: str) -> None:
    fill(audit, 5)
    raw_sql(state_url, sql)
    problems = audit.verify().problems
    assert [problem.row_id for problem in problems] == rows
    assert words in problems[0].problem


def test_verify_detects_a_row_inserted_in_the_middle(audit: AuditLog, state_url: str) -> None:
    fill(audit, 4)
    # Make room after row 2 and insert a forged row that copies row 2's linkage.
    for row_id in (4, 3):
        raw_sql(state_url, "UPDATE rg_audit_log SET id = :new WHERE id = :old", {"new": row_id + 1, "old": row_id})
    raw_sql(
        state_url,
        "INSERT INTO rg_audit_log (id, at, action, outcome, prev_hash, row_hash, new_value) "
        "SELECT 3, at, 'settings.change', 'ok', row_hash, row_hash, 'forged' FROM rg_audit_log WHERE id = 2",
    )
    rows = problem_rows(audit)
    assert 3 in rows and 4 in rows


def test_verify_detects_a_row_appended_without_the_chain_head(audit: AuditLog, state_url: str) -> None:
    fill(audit, 2)
    raw_sql(
        state_url,
        "INSERT INTO rg_audit_log (id, at, action, outcome, prev_hash, row_hash) "
        "SELECT 3, at, 'staff.add', 'ok', row_hash, row_hash FROM rg_audit_log WHERE id = 2",
    )
    problems = audit.verify().problems
    assert 3 in [problem.row_id for problem in problems]


def test_verify_detects_reordered_rows(audit: AuditLog, state_url: str) -> None:
    fill(audit, 4)
    for old, new in ((2, 100), (3, 2), (100, 3)):
        raw_sql(state_url, "UPDATE rg_audit_log SET id = :new WHERE id = :old", {"new": new, "old": old})
    rows = problem_rows(audit)
    assert 2 in rows and 3 in rows


def test_redact_masks_values_and_detail_before_they_are_written(db: StateDB) -> None:
    log = AuditLog(db, redact=lambda text: text.replace("4111111111111111", "#creditcardnr#"))
    entry = log.append(
        "blacklist.add", outcome=OK, actor="staff-1", old_value=None, new_value="4111111111111111", detail="4111111111111111"
    )
    assert entry.new_value == "#creditcardnr#" and entry.detail == "#creditcardnr#"
    assert "4111111111111111" not in json.dumps([vars(e) for e in log.entries()])


def test_a_failing_redactor_never_lets_the_raw_value_through(db: StateDB) -> None:
    def broken(_: str) -> str:
        raise RuntimeError("engine down")

    entry = AuditLog(db, redact=broken).append("settings.change", outcome=FAILED, new_value="+31 6 12345678")
    assert entry.new_value == REDACTION_FAILED


def test_non_text_values_are_stored_as_json(audit: AuditLog) -> None:
    entry = audit.append("settings.change", outcome=OK, old_value=["a", "b"], new_value={"hours": 24, "on": True})
    assert entry.old_value == '["a", "b"]' and json.loads(entry.new_value) == {"hours": 24, "on": True}


@pytest.mark.parametrize(
    "action, outcome", [("", OK), ("Settings Change", OK), ("settings.change", "maybe"), ("x" * 101, OK)]
)
def test_bad_entries_are_rejected_and_nothing_is_written(audit: AuditLog, action: str, outcome: str) -> None:
    with pytest.raises(AuditError):
        audit.append(action, outcome=outcome)
    assert audit.entries() == [] and audit.head()[0] == 0


def test_filters_by_time_action_actor_and_newest_limit(audit: AuditLog) -> None:
    fill(audit, 4)  # 12:00 .. 12:03, actors staff-0 / staff-1 alternating
    audit.append("otp.verify", outcome=REFUSED, actor="staff-1")  # 12:04
    audit.append("otp.send", outcome=OK, actor="staff-1")  # 12:05
    assert [e.id for e in audit.entries(since=START + timedelta(minutes=2))] == [3, 4, 5, 6]
    assert [e.id for e in audit.entries(until=START + timedelta(minutes=2))] == [1, 2]
    assert [e.id for e in audit.entries(action="otp.verify")] == [5]
    assert [e.id for e in audit.entries(action="otp.*")] == [5, 6]
    assert [e.id for e in audit.entries(actor="staff-0")] == [1, 3]
    assert [e.id for e in audit.entries(limit=2)] == [5, 6]
    assert [e.id for e in audit.entries(actor="staff-1", limit=3)] == [4, 5, 6]
    naive_since = datetime(2024, 5, 1, 12, 4)  # naive means UTC
    assert [e.id for e in audit.entries(since=naive_since)] == [5, 6]


def test_action_prefix_filter_treats_like_wildcards_literally(audit: AuditLog) -> None:
    audit.append("vault_x.use", outcome=OK)
    audit.append("vaultyx.use", outcome=OK)
    assert [e.action for e in audit.entries(action="vault_*")] == ["vault_x.use"]


def test_jsonl_export_has_every_field_and_re_verifies(audit: AuditLog) -> None:
    fill(audit, 3)
    out = io.StringIO()
    assert write_jsonl(audit.entries(), out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == [1, 2, 3]
    from plugin.policy.audit import row_hash

    assert all(row_hash(line) == line["row_hash"] for line in lines)
    assert lines[1]["prev_hash"] == lines[0]["row_hash"]


def test_csv_export_round_trips_and_neutralises_formulas(audit: AuditLog) -> None:
    audit.append("blacklist.add", outcome=OK, actor="staff-1", new_value="=HYPERLINK(\"http://x\")", detail="a, \"b\"\nc")
    out = io.StringIO()
    assert write_csv(audit.entries(), out) == 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert len(rows) == 1
    assert rows[0]["new_value"] == "'=HYPERLINK(\"http://x\")"
    assert rows[0]["detail"] == "a, \"b\"\nc"
    assert rows[0]["actor"] == "staff-1" and rows[0]["id"] == "1"


def _append_many(url: str, worker: int, count: int, start: "multiprocessing.synchronize.Event") -> None:
    db = StateDB.open(url)
    log = AuditLog(db)
    start.wait(10)
    for number in range(count):
        log.append("settings.change", outcome=OK, actor=f"worker-{worker}", new_value=number)
    db.close()


def test_two_processes_appending_at_once_produce_one_valid_chain(state_url: str) -> None:
    StateDB.open(state_url).close()  # create the tables once, as the bot does before workers start
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    per_worker = 40
    workers = [context.Process(target=_append_many, args=(state_url, n, per_worker, start)) for n in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    db = StateDB.open(state_url)
    log = AuditLog(db)
    result = log.verify()
    assert result.ok, result.problems
    entries = log.entries()
    assert [entry.id for entry in entries] == list(range(1, 2 * per_worker + 1))
    actors = [entry.actor for entry in entries]
    assert actors.count("worker-0") == per_worker and actors.count("worker-1") == per_worker
    db.close()


# --- the `python -m plugin audit` commands -------------------------------------------------------------------------


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Iterator[Callable[..., "tuple[int, str, str]"]]:
    parser = argparse.ArgumentParser(prog="python -m plugin")
    audit_cmd.register(parser.add_subparsers(dest="command"))

    def run(*argv: str) -> "tuple[int, str, str]":
        args = parser.parse_args(list(argv))
        status = args.func(args)
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    yield run


def test_cli_verify_reports_ok_then_the_edited_row(audit: AuditLog, state_url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    fill(audit, 3)
    status, out, _ = run_cli("audit", "verify", "--state-url", state_url)
    assert status == 0 and "OK: 3 rows" in out
    raw_sql(state_url, "UPDATE rg_audit_log SET actor = 'someone-else' WHERE id = 2")
    status, out, err = run_cli("audit", "verify", "--state-url", state_url)
    assert status == 1 and out.startswith("row 2:") and "BROKEN" in err


def test_cli_show_formats_and_filters(audit: AuditLog, state_url: str, run_cli) -> None:  # type: ignore[no-untyped-def]
    fill(audit, 3)
    audit.append("vault.reveal", outcome=REFUSED, actor="agent-7", role="agent", detail="token=vlt_x reason=callback")
    status, out, _ = run_cli("audit", "show", "--state-url", state_url, "--format", "jsonl", "--action", "vault.*")
    assert status == 0
    assert [json.loads(line)["actor"] for line in out.splitlines()] == ["agent-7"]
    status, out, _ = run_cli("audit", "show", "--state-url", state_url, "--format", "csv", "--limit", "2")
    assert [row["id"] for row in csv.DictReader(io.StringIO(out))] == ["3", "4"]
    status, out, _ = run_cli("audit", "show", "--state-url", state_url, "--since", "2024-05-01T12:02:00Z")
    lines = out.splitlines()
    assert lines[0].split()[:3] == ["id", "at", "actor"] and len(lines) == 3


def test_cli_refuses_bad_input_with_a_clear_message(tmp_path, run_cli, audit: AuditLog, state_url: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CommandError, match="no state database"):
        run_cli("audit", "verify", "--state-url", f"sqlite:///{tmp_path / 'missing.db'}")
    with pytest.raises(CommandError, match="ISO 8601"):
        run_cli("audit", "show", "--state-url", state_url, "--since", "yesterday")
    with pytest.raises(CommandError, match="positive"):
        run_cli("audit", "show", "--state-url", state_url, "--limit", "0")
    with pytest.raises(CommandError, match="not a valid SQLAlchemy URL"):
        run_cli("audit", "verify", "--state-url", "not a url")
