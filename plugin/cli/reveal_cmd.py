"""``python -m plugin reveal CONVERSATION --staff NAME --reason TEXT``: an admin's audited read of a conversation's
original messages before deferred redaction; afterwards it reports that the originals are gone."""

from __future__ import annotations

import argparse
import json
from typing import Any, Iterator

from plugin.cli import CommandError
from plugin.cli.redact_cmd import add_guard_options, open_guard, open_transcripts

PAGE_ROWS = 500


def register(subparsers: Any) -> None:
    reveal = subparsers.add_parser("reveal", help="show a conversation's original messages (admin view, audited)")
    add_guard_options(reveal)
    reveal.add_argument("conversation_id", metavar="CONVERSATION", help="the conversation (sender) id")
    reveal.add_argument("--staff", required=True, help="your name in the staff directory (its role must have view admin)")
    reveal.add_argument("--reason", required=True, help="why you need the originals (recorded in the audit trail)")
    reveal.set_defaults(func=_reveal)


def _user_events(transcripts: Any, conversation_id: str) -> Iterator[dict]:
    after = None
    while True:
        rows = transcripts.rows(conversation_id, after, PAGE_ROWS)
        for row in rows:
            try:
                event = json.loads(row.data or "")
            except ValueError:
                continue
            if isinstance(event, dict) and event.get("event") == "user":
                yield event
        if len(rows) < PAGE_ROWS:
            return
        after = rows[-1].id


def _reveal(args: argparse.Namespace) -> int:
    from plugin.policy.audit import REFUSED
    from plugin.policy.redaction import original_token
    from plugin.policy.staff import StaffDirectory, UnknownStaff
    from plugin.storage.vault import ForeignRecord, RecordUnavailable, RevealRefused

    guard = open_guard(args)
    transcripts = open_transcripts(args, guard)
    state = guard.state
    channel = transcripts.latest_channel(args.conversation_id)
    settings = guard.settings(channel)
    allowed = sorted(role for role, view in settings.roles.views.items() if view == "admin")
    try:
        member = StaffDirectory(state.db, state.master_key, state.audit).get(args.staff)
    except UnknownStaff as error:
        state.audit.append("vault.reveal", outcome=REFUSED, actor=args.staff[:255], channel=channel,
                           conversation_id=args.conversation_id, detail=f"unknown staff member; reason={args.reason[:500]}")
        raise CommandError(str(error)) from None
    if member.role not in allowed:
        refusal = f"role {member.role!r} may not reveal originals (roles with view admin: {', '.join(allowed) or 'none'})"
        state.audit.append("vault.reveal", outcome=REFUSED, actor=member.name, role=member.role, channel=channel,
                           conversation_id=args.conversation_id, detail=f"{refusal}; reason={args.reason[:500]}")
        raise CommandError(refusal)
    shown = gone = foreign = 0
    for event in _user_events(transcripts, args.conversation_id):
        token = original_token(event)
        if token is None:
            continue
        try:
            text = state.vault.reveal(token, actor=member.name, role=member.role, reason=args.reason,
                                      allowed_roles=allowed, channel=channel, owner=args.conversation_id)
        except RevealRefused as error:
            raise CommandError(str(error)) from None
        except ForeignRecord:
            foreign += 1  # audited as refused: a token copied in from another conversation is not this one's
            continue
        except RecordUnavailable:
            gone += 1
            continue
        shown += 1
        print(f"{_when(event)}  {text}")
    if not shown:
        print("no originals to reveal: the conversation was redacted (or never held personal data); they are gone")
        return 1
    if gone:
        print(f"({gone} message(s) no longer have an original: expired or redacted)")
    if foreign:
        print(f"({foreign} message(s) name another conversation's record; not shown)")
    return 0


def _when(event: dict) -> str:
    from datetime import datetime, timezone

    stamp = event.get("timestamp")
    if not isinstance(stamp, (int, float)):
        return "?"
    return datetime.fromtimestamp(stamp, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
