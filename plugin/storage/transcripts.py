"""Stored transcripts for deferred redaction: Rasa's SQL tracker-store ``events`` table, and which conversations are
resolved and how far each has been redacted (``rg_conversation_status`` in the plugin-state database).

The ``events`` table is declared here exactly as ``rasa.core.tracker_store.SQLTrackerStore`` defines it (Core only,
on a separate MetaData so the state database never gets one), so this layer needs no Rasa import. Rows are only
ever updated in place (``data``): never deleted, inserted or reordered, so Rasa's event counts stay right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, String, Table, Text, and_, bindparam, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from plugin.storage.conversation_ids import KEPT_AS_SENT, PREFIX, PSEUDONYM_LENGTH, ConversationIds
from plugin.storage.db import StateDB, metadata

_rasa_metadata = MetaData()
events = Table(
    "events",
    _rasa_metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
)

conversation_status = Table(
    "rg_conversation_status",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("channel", String(100)),
    Column("resolved_at", BigInteger),  # unix seconds of the latest resolve
    Column("resolved_by", String(255)),
    Column("redacted_at", BigInteger),  # unix seconds of the latest completed redaction
    Column("redacted_upto_id", BigInteger),  # every event row of the conversation up to this id is in its final form
)


@dataclass(frozen=True)
class EventRow:
    id: int
    timestamp: Optional[float]
    data: str  # JSON of Event.as_dict(), already masked (agent or storage rendering)


@dataclass(frozen=True)
class Status:
    conversation_id: str
    channel: Optional[str] = None
    resolved_at: Optional[int] = None
    resolved_by: Optional[str] = None
    redacted_at: Optional[int] = None
    redacted_upto_id: Optional[int] = None

    @property
    def awaiting_redaction(self) -> bool:
        """Resolved since its last redaction (a resolve after a reopened conversation counts again)."""
        return self.resolved_at is not None and (self.redacted_at is None or self.redacted_at < self.resolved_at)


class TranscriptStore:
    """Read and rewrite rows of Rasa's ``events`` table (SQLite or PostgreSQL, any SQLAlchemy engine). Its
    ``sender_id`` column holds conversation ids as ``ids`` stores them; methods take either form."""

    def __init__(self, engine: Engine, ids: ConversationIds = KEPT_AS_SENT) -> None:
        self.engine = engine
        self.ids = ids

    def conversations_with_rows_before(self, cutoff: float) -> Dict[str, int]:
        """conversation id -> highest row id among its events created before ``cutoff``."""
        query = select(events.c.sender_id, func.max(events.c.id)).where(events.c.timestamp < cutoff).group_by(events.c.sender_id)
        with self.engine.connect() as connection:
            return {sender: int(top) for sender, top in connection.execute(query)}

    def holds_unmapped_ids(self) -> bool:
        """True when, with pseudonyms on, some rows were stored under an id as sent (before the setting): the job and
        the bot would look for them under the pseudonym and never find them."""
        if not self.ids.pseudonymous:
            return False
        query = (
            select(events.c.sender_id)
            .where(or_(~events.c.sender_id.like(f"{PREFIX}%"), func.length(events.c.sender_id) != PSEUDONYM_LENGTH))
            .limit(1)
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first() is not None

    def rows(self, conversation_id: str, after_id: Optional[int], limit: int) -> List[EventRow]:
        """The next ``limit`` rows of a conversation after row ``after_id``, in stored order."""
        query = select(events.c.id, events.c.timestamp, events.c.data).where(
            events.c.sender_id == self.ids.stored(conversation_id)
        )
        if after_id is not None:
            query = query.where(events.c.id > after_id)
        with self.engine.connect() as connection:
            found = connection.execute(query.order_by(events.c.id).limit(limit)).all()
        return [EventRow(int(row.id), row.timestamp, row.data) for row in found]

    def latest_channel(self, conversation_id: str) -> Optional[str]:
        """The input channel of the conversation's latest user message (settings are per channel)."""
        import json

        query = (
            select(events.c.data)
            .where(events.c.sender_id == self.ids.stored(conversation_id), events.c.type_name == "user")
            .order_by(events.c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as connection:
            data = connection.execute(query).scalar()
        try:
            channel = json.loads(data).get("input_channel") if data else None
        except (ValueError, AttributeError):
            return None
        return channel if isinstance(channel, str) else None

    def rewrite(self, conversation_id: str, changes: Sequence[Tuple[int, str]]) -> int:
        """Replace ``data`` of the given rows in one transaction; a row of another conversation is never touched."""
        if not changes:
            return 0
        statement = (
            update(events)
            .where(and_(events.c.id == bindparam("row_id"), events.c.sender_id == bindparam("conversation")))
            .values(data=bindparam("new_data"))
        )
        with self.engine.begin() as connection:
            connection.execute(
                statement,
                [{"row_id": row_id, "conversation": self.ids.stored(conversation_id), "new_data": data}
                 for row_id, data in changes],
            )
        return len(changes)

    def count(self, conversation_id: Optional[str] = None) -> int:
        query = select(func.count()).select_from(events)
        if conversation_id is not None:
            query = query.where(events.c.sender_id == self.ids.stored(conversation_id))
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())


class ConversationStatuses:
    """Resolves (from ``action_resolve_conversation`` or an agent hand-back) and redaction progress per conversation."""

    def __init__(self, db: StateDB, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.ensure_tables(conversation_status)

    def mark_resolved(self, conversation_id: str, *, channel: Optional[str] = None, by: str = "bot") -> Status:
        """Record that the conversation was resolved now; the redaction job rewrites it on its next run."""
        if not isinstance(conversation_id, str) or not conversation_id or len(conversation_id) > 255:
            raise ValueError("conversation_id must be a non-empty string of at most 255 characters")
        conversation_id = self._db.conversation_ids.stored(conversation_id)
        now = int(self._clock())
        values = {"resolved_at": now, "resolved_by": by[:255]}
        if channel:
            values["channel"] = channel[:100]
        for _ in range(2):  # insert-or-update without dialect-specific upserts; a concurrent insert means: update
            with self._db.write() as connection:
                done = connection.execute(
                    update(conversation_status).where(conversation_status.c.conversation_id == conversation_id).values(**values)
                ).rowcount
                if not done:
                    try:
                        with connection.begin_nested():
                            connection.execute(conversation_status.insert().values(conversation_id=conversation_id, **values))
                    except IntegrityError:
                        continue
            break
        return self.get(conversation_id)

    def mark_progress(self, conversation_id: str, upto_id: int, *, completed: bool) -> None:
        """Every row up to ``upto_id`` is final; ``completed`` also records the redaction time (the resolve is served)."""
        conversation_id = self._db.conversation_ids.stored(conversation_id)
        values: Dict[str, object] = {"redacted_upto_id": upto_id}
        if completed:
            values["redacted_at"] = int(self._clock())
        with self._db.write() as connection:
            done = connection.execute(
                update(conversation_status).where(conversation_status.c.conversation_id == conversation_id).values(**values)
            ).rowcount
            if not done:
                connection.execute(conversation_status.insert().values(conversation_id=conversation_id, **values))

    def get(self, conversation_id: str) -> Status:
        conversation_id = self._db.conversation_ids.stored(conversation_id)
        with self._db.read() as connection:
            row = connection.execute(
                select(conversation_status).where(conversation_status.c.conversation_id == conversation_id)
            ).first()
        return Status(**row._mapping) if row is not None else Status(conversation_id)

    def all(self, conversation_ids: Optional[Iterable[str]] = None) -> Dict[str, Status]:
        query = select(conversation_status)
        with self._db.read() as connection:
            found = {row.conversation_id: Status(**row._mapping) for row in connection.execute(query)}
        if conversation_ids is None:
            return found
        stored = self._db.conversation_ids.stored
        return {cid: found.get(stored(cid), Status(stored(cid))) for cid in conversation_ids}

    def awaiting_redaction(self) -> List[Status]:
        """Conversations resolved since their last redaction, oldest resolve first."""
        query = (
            select(conversation_status)
            .where(
                conversation_status.c.resolved_at.isnot(None),
                or_(
                    conversation_status.c.redacted_at.is_(None),
                    conversation_status.c.redacted_at < conversation_status.c.resolved_at,
                ),
            )
            .order_by(conversation_status.c.resolved_at, conversation_status.c.conversation_id)
        )
        with self._db.read() as connection:
            return [Status(**row._mapping) for row in connection.execute(query)]
