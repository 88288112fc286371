"""``python -m plugin token create|rotate|list|revoke``: the channel's API bearer tokens (plaintext shown once)."""

from __future__ import annotations

import argparse
from datetime import datetime, timezone
from typing import Any, Optional

from plugin.cli import CommandError
from plugin.cli.state import add_state_options, cli_actor, open_state


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("token", help="create, rotate, list and revoke API tokens of the channel")
    actions = parser.add_subparsers(dest="token_command", metavar="ACTION", required=True)

    create = actions.add_parser("create", help="create a token and print it once")
    create.add_argument("--label", default="", help="what the token is for, e.g. crm-integration")
    add_state_options(create)
    create.set_defaults(func=_create)

    rotate = actions.add_parser("rotate", help="issue a new token; active ones keep working for the grace period")
    rotate.add_argument("--label", default="")
    rotate.add_argument("--grace", type=int, help="seconds old tokens keep working (default: access.token_grace_seconds)")
    add_state_options(rotate)
    rotate.set_defaults(func=_rotate)

    listing = actions.add_parser("list", help="list token ids, labels and status (never the tokens)")
    add_state_options(listing)
    listing.set_defaults(func=_list)

    revoke = actions.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("token_id", help="id as shown by `token list`, e.g. tok_1a2b3c4d5e6f")
    add_state_options(revoke)
    revoke.set_defaults(func=_revoke)


def _store(args: argparse.Namespace) -> Any:
    from plugin.storage.token_store import TokenStore

    state = open_state(args)
    return state, TokenStore(state.db, state.audit)


def _print_once(plaintext: str, record: Any) -> None:
    print(f"id: {record.id}")
    print(f"token: {plaintext}")
    print("Store the token now: it is not shown again (only its hash is kept).")


def _create(args: argparse.Namespace) -> int:
    from plugin.storage.token_store import TokenLabelError

    _, store = _store(args)
    try:
        plaintext, record = store.create(args.label, actor=cli_actor(), role="operator")
    except TokenLabelError as error:
        raise CommandError(str(error)) from None
    _print_once(plaintext, record)
    return 0


def _rotate(args: argparse.Namespace) -> int:
    from plugin.storage.token_store import TokenLabelError

    state, store = _store(args)
    grace = state.config.settings.access.token_grace_seconds if args.grace is None else args.grace
    if grace < 0:
        raise CommandError("--grace must be 0 seconds or more")
    try:
        plaintext, record = store.rotate(grace, args.label, actor=cli_actor(), role="operator")
    except TokenLabelError as error:
        raise CommandError(str(error)) from None
    _print_once(plaintext, record)
    print(f"previously active tokens stop working in {grace} seconds")
    return 0


def _list(args: argparse.Namespace) -> int:
    _, store = _store(args)
    now = datetime.now(timezone.utc)
    rows = [("id", "label", "created", "status")]
    for record in store.records():
        rows.append((record.id, record.label or "-", _when(record.created_at), _status(record, now)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    return 0


def _revoke(args: argparse.Namespace) -> int:
    from plugin.policy.api_tokens import UnknownToken

    _, store = _store(args)
    try:
        record = store.revoke(args.token_id, actor=cli_actor(), role="operator")
    except UnknownToken as error:
        raise CommandError(str(error)) from None
    print(f"revoked {record.id}")
    return 0


def _status(record: Any, now: datetime) -> str:
    if record.revoked_at is not None:
        return f"revoked {_when(record.revoked_at)}"
    if record.expires_at is not None:
        return f"{'expires' if now < record.expires_at else 'expired'} {_when(record.expires_at)}"
    return "active"


def _when(moment: Optional[datetime]) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"
