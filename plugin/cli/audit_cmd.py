"""``python -m plugin audit verify|show``: check the audit trail's hash chain and list or export its entries."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone
from typing import Any

from plugin.cli import CommandError
from plugin.cli.state import add_state_options, open_state

FORMATS = ("table", "csv", "jsonl")
_TABLE_COLUMNS = ("id", "at", "actor", "role", "action", "outcome", "setting", "old_value", "new_value", "detail")
_CELL_WIDTH = 40


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("audit", help="verify and show the tamper-evident audit trail")
    actions = parser.add_subparsers(dest="audit_command", metavar="ACTION", required=True)

    verify = actions.add_parser("verify", help="recompute the hash chain; exit 1 naming each broken row")
    add_state_options(verify)
    verify.set_defaults(func=_verify)

    show = actions.add_parser("show", help="list or export entries, oldest first")
    add_state_options(show)
    show.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    show.add_argument("--limit", type=int, help="only the newest N entries")
    show.add_argument("--action", help="only this action, e.g. vault.reveal; a trailing * matches a prefix (vault.*)")
    show.add_argument("--actor", help="only entries by this actor")
    show.add_argument("--since", help="only entries at or after this ISO 8601 time (UTC if no offset)")
    show.add_argument("--until", help="only entries before this ISO 8601 time (UTC if no offset)")
    show.set_defaults(func=_show)


def _open_audit(args: argparse.Namespace) -> Any:
    return open_state(args, must_exist=True).audit


def _verify(args: argparse.Namespace) -> int:
    result = _open_audit(args).verify()
    if result.ok:
        print(f"audit chain OK: {result.rows} rows, head {result.head_id} {result.head_hash}")
        return 0
    for problem in result.problems:
        print(f"row {problem.row_id}: {problem.problem}")
    print(f"audit chain BROKEN: {len(result.problems)} problem(s) in {result.rows} rows", file=sys.stderr)
    return 1


def _parse_time(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise CommandError(f"{option} must be an ISO 8601 time such as 2024-05-01 or 2024-05-01T13:00:00+02:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _show(args: argparse.Namespace) -> int:
    from plugin.policy.audit import write_csv, write_jsonl

    if args.limit is not None and args.limit < 1:
        raise CommandError("--limit must be a positive number of entries")
    entries = _open_audit(args).entries(
        since=_parse_time(args.since, "--since"),
        until=_parse_time(args.until, "--until"),
        action=args.action,
        actor=args.actor,
        limit=args.limit,
    )
    if args.format == "csv":
        write_csv(entries, sys.stdout)
    elif args.format == "jsonl":
        write_jsonl(entries, sys.stdout)
    else:
        _print_table(entries)
    return 0


def _print_table(entries: Any) -> None:
    rows = [[_cell(getattr(entry, name)) for name in _TABLE_COLUMNS] for entry in entries]
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, name in enumerate(_TABLE_COLUMNS)]
    print("  ".join(name.ljust(width) for name, width in zip(_TABLE_COLUMNS, widths)).rstrip())
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())


def _cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())  # one line per entry whatever the value holds
    return text if len(text) <= _CELL_WIDTH else text[: _CELL_WIDTH - 1] + "…"
