"""``python -m plugin redact`` (deferred redaction of stored transcripts) and ``python -m plugin resolve`` (mark a
conversation resolved, e.g. when an agent hands it back, so that ``upon_resolve`` redaction picks it up)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import Any

from plugin.cli import CommandError
from plugin.cli.state import cli_actor

DEFAULT_ENDPOINTS = "endpoints.yml"


def register(subparsers: Any) -> None:
    redact = subparsers.add_parser(
        "redact", help="rewrite due transcripts in the SQL tracker store to their final masked form; shred the originals"
    )
    add_guard_options(redact)
    redact.add_argument("--batch-size", type=int, default=200, help="event rows per transaction (default: 200)")
    redact.add_argument("--dry-run", action="store_true", help="count what would change; change nothing")
    redact.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    redact.set_defaults(func=_redact)

    resolve = subparsers.add_parser(
        "resolve", help="mark a conversation resolved (agent hand-back); upon_resolve redaction then rewrites it"
    )
    add_guard_options(resolve)
    resolve.add_argument("conversation_id", metavar="CONVERSATION", help="the conversation (sender) id")
    resolve.add_argument("--channel", help="its settings scope, e.g. whatsapp (default: taken from the transcript)")
    resolve.add_argument("--by", default="agent", help="who resolved it, for the record (default: agent)")
    resolve.set_defaults(func=_resolve)


def add_guard_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--endpoints", default=DEFAULT_ENDPOINTS, help="Rasa endpoints file naming the SQL tracker store")
    parser.add_argument("--config", help="settings file (default: $RASA_GUARD_CONFIG or ./privacy.yml)")
    parser.add_argument("--state-url", help="state database URL (default: $RASA_GUARD_STATE_URL, else privacy.yml)")


def open_guard(args: argparse.Namespace) -> Any:
    """The process guard for ``--config``/``--state-url``, with its state database open."""
    from plugin.policy.guard import Guard, StateUnavailable, set_current_guard
    from plugin.policy.settings import STATE_URL_ENV, load_privacy_config
    from plugin.policy.validation import SettingsError

    if args.state_url:
        os.environ[STATE_URL_ENV] = args.state_url
    try:
        guard = Guard(load_privacy_config(args.config))
        guard.state  # noqa: B018 - open it now, so a bad URL is one clear error
    except (SettingsError, StateUnavailable) as error:
        raise CommandError(str(error)) from None
    set_current_guard(guard)
    return guard


def open_transcripts(args: argparse.Namespace, guard: Any) -> Any:
    from plugin.server.redaction import EndpointsError, transcripts_from_endpoints

    if not os.path.exists(args.endpoints):
        raise CommandError(f"no endpoints file at {args.endpoints}; pass --endpoints")
    try:
        return transcripts_from_endpoints(args.endpoints, guard.conversation_ids)
    except EndpointsError as error:
        raise CommandError(str(error)) from None


def _redact(args: argparse.Namespace) -> int:
    from rasa.core.lock_store import InMemoryLockStore
    from tqdm import tqdm

    from plugin.server.lock_store import PseudonymousLockStore
    from plugin.server.redaction import LOCK_MISMATCH, RedactionJob, lock_store_from_endpoints, locks_other_ids

    if args.batch_size < 1:
        raise CommandError("--batch-size must be a positive number of event rows")
    guard = open_guard(args)
    transcripts = open_transcripts(args, guard)
    lock_store = lock_store_from_endpoints(args.endpoints)
    inner_lock_store = lock_store.inner if isinstance(lock_store, PseudonymousLockStore) else lock_store
    if isinstance(inner_lock_store, InMemoryLockStore) and not args.dry_run:
        print("note: in-memory lock store: this run is not locked against a running server; "
              "use a Redis lock_store or redaction.scheduler_interval_minutes", file=sys.stderr)
    elif locks_other_ids(lock_store, guard.conversation_ids) and not args.dry_run:
        raise CommandError(LOCK_MISMATCH)  # a shared lock store that would not keep the job and the servers apart
    job = RedactionJob(guard, transcripts, lock_store, batch_size=args.batch_size, actor=cli_actor())
    bar = tqdm(total=0, unit="conv", file=sys.stderr, disable=args.no_progress, desc="redact")

    def on_due(count: int) -> None:
        bar.total = count
        bar.refresh()

    try:
        report = asyncio.run(job.run(dry_run=args.dry_run, on_due=on_due, on_done=lambda: bar.update(1)))
    finally:
        bar.close()
    print(report.summary())
    return 1 if report.failed else 0


def _resolve(args: argparse.Namespace) -> int:
    from plugin.storage.transcripts import ConversationStatuses

    guard = open_guard(args)
    channel = args.channel
    if channel is None and os.path.exists(args.endpoints):
        channel = open_transcripts(args, guard).latest_channel(args.conversation_id)
    try:
        ConversationStatuses(guard.state.db).mark_resolved(args.conversation_id, channel=channel, by=args.by)
    except ValueError as error:
        raise CommandError(str(error)) from None
    trigger = guard.settings(channel).redaction.trigger
    print(f"resolved; redaction trigger for this channel: {trigger}")
    return 0
