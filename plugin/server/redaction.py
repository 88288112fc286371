"""The deferred-redaction job: rewrite due transcripts in Rasa's SQL tracker store to their final form, shred the keys.

Due: under ``redaction.trigger: upon_resolve`` the conversations resolved since their last redaction
(``rg_conversation_status``); under ``time_based`` the events created more than ``redaction.hours`` ago. Each
conversation is redacted under Rasa's lock-store lock for it, in batches of rows; per batch the vault records its
rows name are shredded first and then the rows rewritten in one transaction, and the progress mark moves on. A crash
at any point leaves rows that are either final or still masked (agent rendering), and a rerun finishes them:
rewriting a final row changes nothing. Rows are updated in place, never deleted, inserted or reordered.

Locks: the in-memory lock store (Rasa's default) only serialises within one process; the scheduler inside
``rasa run`` (``redaction.scheduler_interval_minutes``) shares the server's, and a Redis lock store is cluster-wide,
so ``python -m plugin redact`` next to a running server wants ``lock_store: type: redis`` in endpoints.yml.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, List, Optional, Set

from rasa.core.lock_store import InMemoryLockStore, LockStore

from plugin.policy.audit import FAILED, OK
from plugin.policy.guard import Guard
from plugin.policy.redaction import FinalRendering, due_row_ids, redact_event, tokens_in
from plugin.policy.schema import RedactionSettings
from plugin.server.lock_store import PseudonymousLockStore
from plugin.storage.conversation_ids import LEGACY_IDS_MESSAGE, ConversationIds
from plugin.storage.transcripts import ConversationStatuses, TranscriptStore

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 200
MIN_TIME_BASED_HOURS = 12  # the smallest redaction.hours: older rows are the only ones any channel may find due


class TranscriptError(Exception):
    """A stored event row cannot be read as JSON; the conversation is left as it is (its rows stay masked)."""


@dataclass(frozen=True)
class Candidate:
    """One conversation found due: rows after ``after_id`` (and created before ``cutoff``, if set) get their final form."""

    conversation_id: str
    channel: Optional[str]
    trigger: str
    after_id: Optional[int]
    cutoff: Optional[float] = None  # time_based: only rows created before this


@dataclass(frozen=True)
class RedactionReport:
    """What a run did, or (dry run) would do."""

    dry_run: bool = False
    conversations: int = 0
    events: int = 0
    vault_records: int = 0
    failed: int = 0
    failed_ids: tuple = field(default=(), repr=False)

    def plus(self, events: int, records: int) -> "RedactionReport":
        return replace(self, conversations=self.conversations + 1, events=self.events + events,
                       vault_records=self.vault_records + records)

    def summary(self) -> str:
        verb = "would rewrite" if self.dry_run else "rewrote"
        text = (f"{'dry run: ' if self.dry_run else ''}{self.conversations} conversation(s) due; {verb} {self.events} "
                f"event(s); {'would shred' if self.dry_run else 'shredded'} {self.vault_records} vault record(s)")
        return text + (f"; {self.failed} conversation(s) failed (see the log)" if self.failed else "")


class RedactionJob:
    """One run over every due conversation; construct per run or keep for the scheduler."""

    def __init__(
        self,
        guard: Guard,
        transcripts: TranscriptStore,
        lock_store: Optional[LockStore] = None,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        actor: str = "redaction-job",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive number of event rows")
        self.guard = guard
        self.transcripts = transcripts
        self.lock_store = lock_store or InMemoryLockStore()
        self.batch_size = batch_size
        self.actor = actor
        self.clock = clock
        self.statuses = ConversationStatuses(guard.state.db, clock=clock)

    # -- which conversations --------------------------------------------------------------------------------------

    def due(self) -> List[Candidate]:
        """Resolved conversations under ``upon_resolve``, then conversations with old rows under ``time_based``."""
        now = self.clock()
        found: List[Candidate] = []
        for status in self.statuses.awaiting_redaction():
            channel = status.channel or self.transcripts.latest_channel(status.conversation_id)
            if self._redaction(channel).trigger == "upon_resolve":
                found.append(Candidate(status.conversation_id, channel, "upon_resolve", status.redacted_upto_id))
        seen = {c.conversation_id for c in found}
        old_rows = self.transcripts.conversations_with_rows_before(now - MIN_TIME_BASED_HOURS * 3600)
        statuses = self.statuses.all(old_rows)
        for conversation_id, top_id in sorted(old_rows.items()):
            upto = statuses[conversation_id].redacted_upto_id
            if conversation_id in seen or (upto is not None and top_id <= upto):
                continue
            channel = self.transcripts.latest_channel(conversation_id)
            redaction = self._redaction(channel)
            if redaction.trigger == "time_based":
                found.append(Candidate(conversation_id, channel, "time_based", upto, now - redaction.hours * 3600))
        return found

    def _redaction(self, channel: Optional[str]) -> RedactionSettings:
        return self.guard.settings(channel).redaction

    # -- the run --------------------------------------------------------------------------------------------------

    async def run(self, *, dry_run: bool = False, on_due: Callable[[int], None] = lambda n: None,
                  on_done: Callable[[], None] = lambda: None) -> RedactionReport:
        """Redact every due conversation (or count what that would change); ``on_due``/``on_done`` drive a progress bar."""
        loop = asyncio.get_running_loop()
        candidates = await loop.run_in_executor(None, self.due)
        on_due(len(candidates))
        report = RedactionReport(dry_run=dry_run)
        for candidate in candidates:
            try:
                async with self.lock_store.lock(candidate.conversation_id):
                    events, records = await loop.run_in_executor(None, self.redact_conversation, candidate, dry_run)
                report = report.plus(events, records)
            except Exception as error:  # noqa: BLE001 - one bad conversation must not stop the others
                logger.error("redaction of a conversation failed: %s", type(error).__name__)
                self._audit(candidate, FAILED, f"{type(error).__name__}: {error}")
                report = replace(report, failed=report.failed + 1, failed_ids=report.failed_ids + (candidate.conversation_id,))
            on_done()
        return report

    def redact_conversation(self, candidate: Candidate, dry_run: bool = False) -> tuple:
        """Rewrite the conversation's due rows batch by batch; returns (events rewritten, vault records shredded)."""
        settings = self.guard.settings(candidate.channel)
        rules = replace(self.guard.event_rules(candidate.channel), mask=self._storage(candidate.channel))
        vault = self.guard.state.vault
        conversation_id = candidate.conversation_id
        complete = candidate.trigger == "upon_resolve"
        after, events, records, all_tokens, last_id = candidate.after_id, 0, 0, set(), candidate.after_id
        while True:
            rows = self.transcripts.rows(conversation_id, after, self.batch_size)
            due = rows[: len(due_row_ids([(r.id, r.timestamp) for r in rows], candidate.cutoff))]
            if due:
                parsed = [_loads(row.data, row.id) for row in due]
                tokens: Set[str] = set().union(*(tokens_in(event) for event in parsed))
                rendering = FinalRendering(rules, rules.mask, vault.read_for_rewrite(tokens, owner=conversation_id))
                changes = [(row.id, json.dumps(new)) for row, old in zip(due, parsed)
                           if (new := redact_event(old, rendering)) != old]
                events += len(changes)
                all_tokens |= tokens
                last_id = due[-1].id
                if not dry_run:
                    records += vault.shred_many(tokens, owner=conversation_id)  # first: after a crash here the rows re-mask
                    self.transcripts.rewrite(conversation_id, changes)
                    self.statuses.mark_progress(conversation_id, last_id, completed=False)
            if len(due) < len(rows) or len(rows) < self.batch_size:
                break
            after = rows[-1].id
        shred_conversation = conversation_id if complete else None
        if dry_run:
            return events, vault.count_unshredded(all_tokens, shred_conversation, owner=conversation_id)
        if complete:
            records += vault.shred_many(conversation_id=conversation_id)
        if last_id is not None or complete:
            self.statuses.mark_progress(conversation_id, last_id or 0, completed=complete)
        self._audit(candidate, OK, f"trigger={candidate.trigger} events={events} vault_records={records} "
                                   f"hours={settings.redaction.hours if candidate.cutoff else '-'}")
        return events, records

    def _storage(self, channel: Optional[str]) -> Callable[[str], str]:
        return lambda text: self.guard.mask(text, "storage", channel)

    def _audit(self, candidate: Candidate, outcome: str, detail: str) -> None:
        self.guard.state.audit.append(
            "redaction.run", outcome=outcome, actor=self.actor, role="system", channel=candidate.channel,
            conversation_id=candidate.conversation_id, detail=detail,
        )


def _loads(data: Optional[str], row_id: int) -> Any:
    try:
        event = json.loads(data or "")
    except ValueError:
        event = None
    if not isinstance(event, dict):
        raise TranscriptError(f"event row {row_id} is not a JSON object; it was left unchanged")
    return event


# -- the scheduler inside ``rasa run`` -----------------------------------------------------------------------------


class RedactionScheduler:
    """Runs the job every ``redaction.scheduler_interval_minutes`` in the server's event loop, with the server's lock
    store (found through the Sanic app once the agent is loaded). Started by ``MaskingTrackerStore``."""

    def __init__(self, guard: Guard, transcripts: TranscriptStore) -> None:
        self.guard = guard
        self.transcripts = transcripts
        self.task: Optional[asyncio.Task] = None

    def interval_seconds(self) -> float:
        return self.guard.settings().redaction.scheduler_interval_minutes * 60.0

    def ensure_started(self) -> None:
        """Start the loop once, from inside a running event loop; a no-op when the setting is 0 or outside a loop."""
        if self.task is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        try:
            enabled = self.interval_seconds() > 0
        except Exception:  # noqa: BLE001 - unreadable settings: the CLI job still works
            enabled = False
        if enabled:
            self.task = loop.create_task(self._loop())

    async def _loop(self) -> None:
        while True:
            interval = self.interval_seconds()
            await asyncio.sleep(interval if interval > 0 else 60.0)
            if self.interval_seconds() <= 0:
                continue
            try:
                lock_store = _server_lock_store()
                if lock_store is not None and locks_other_ids(lock_store, self.guard.conversation_ids):
                    logger.warning("deferred redaction: %s", LOCK_MISMATCH)
                job = RedactionJob(self.guard, self.transcripts, lock_store, actor="redaction-scheduler")
                report = await job.run()
                if report.conversations or report.failed:
                    logger.info("deferred redaction: %s", report.summary())
            except Exception as error:  # noqa: BLE001 - keep the server up; retried next interval
                logger.error("deferred redaction run failed: %s", type(error).__name__)


LOCK_MISMATCH = (
    "the lock store keys conversations by the ids channels send while transcripts are stored under pseudonyms, so "
    "the job does not lock out message handling; set lock_store type: plugin.server.lock_store.PseudonymousLockStore"
)


def locks_other_ids(lock_store: LockStore, ids: ConversationIds) -> bool:
    """True when message handling and the job would lock different keys for one conversation."""
    return ids.pseudonymous and not isinstance(lock_store, PseudonymousLockStore)


def _server_lock_store() -> Optional[LockStore]:
    """The lock store of the agent this process serves, so the job and message handling share one lock."""
    try:
        from sanic import Sanic

        for app in list(Sanic._app_registry.values()):
            agent = getattr(app.ctx, "agent", None)
            if agent is not None and getattr(agent, "lock_store", None) is not None:
                return agent.lock_store
    except Exception:  # noqa: BLE001
        pass
    logger.warning("deferred redaction: no server lock store found; locking only within the job")
    return None


# -- the CLI's view of endpoints.yml ---------------------------------------------------------------------------------


class EndpointsError(ValueError):
    """endpoints.yml does not name a SQL tracker store the job can rewrite."""


def transcripts_from_endpoints(path: str, ids: ConversationIds) -> TranscriptStore:
    """The SQL tracker store of endpoints.yml: the ``store:`` under MaskingTrackerStore, or a plain ``type: SQL``."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.utils.endpoints import read_endpoint_config

    from plugin.server.tracker_store import INNER_KEY, build_inner_store

    config = read_endpoint_config(path, "tracker_store")
    if config is None:
        raise EndpointsError(f"{path} has no tracker_store section")
    inner = config.kwargs.get(INNER_KEY) if config.type and config.type.endswith("MaskingTrackerStore") else None
    store_config = inner if inner is not None else {"type": config.type, "url": config.url, **config.kwargs}
    if str((store_config or {}).get("type", "")).lower() != "sql":
        raise EndpointsError(f"deferred redaction rewrites SQL tracker stores only; {path} names type "
                             f"{(store_config or {}).get('type')!r}")
    store = build_inner_store(store_config, None, None)
    if not isinstance(store, SQLTrackerStore):
        raise EndpointsError(f"the tracker store of {path} is not Rasa's SQLTrackerStore")
    transcripts = TranscriptStore(store.engine, ids)
    if transcripts.holds_unmapped_ids():
        raise EndpointsError(LEGACY_IDS_MESSAGE)
    return transcripts


def lock_store_from_endpoints(path: str) -> LockStore:
    from rasa.utils.endpoints import read_endpoint_config

    return LockStore.create(read_endpoint_config(path, "lock_store"))
