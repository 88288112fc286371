"""Per-conversation state of the admin chat, shared by the Rasa server and the action server through the state DB.

Two records, keyed by conversation id: an OTP request that is awaiting its code (the channel then masks every
4-8 digit number as a PIN before anything stores it) and a proposed settings change awaiting the admin's yes/no.
A pending change keeps only values that are safe to show (masked) in the table; the new value itself, which may be
personal data (a blocked phone number), is kept in the vault and addressed by a token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional

from sqlalchemy import BigInteger, Boolean, Column, Integer, String, Table, Text, delete, insert, select
from sqlalchemy.exc import IntegrityError

from plugin.storage.change_signal import ChangeSignal, SignalledRead
from plugin.storage.db import StateDB, metadata

# After an OTP request expires its code is refused, but numbers are still masked as codes this long: an authenticator
# code stays valid for a while, and a code typed late must not be stored as typed.
CODE_MASKING_GRACE_SECONDS = 600
CODE_REQUESTS_SIGNAL_SUFFIX = ".code-requests"  # beside a SQLite state database: replaced after every request change

admin_code_requests = Table(
    "rg_admin_code_requests",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("staff_id", String(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
)

admin_pending_changes = Table(
    "rg_admin_pending_changes",
    metadata,
    Column("conversation_id", String(255), primary_key=True),
    Column("staff_id", String(32), nullable=False),
    Column("kind", String(16), nullable=False),  # set, add, remove, reset, rotate
    Column("setting_key", String(255), nullable=False),
    Column("scope", String(100), nullable=False),
    Column("reset", Boolean, nullable=False),
    Column("base_version", Integer, nullable=False),
    Column("shown_old", Text, nullable=False),
    Column("shown_new", Text, nullable=False),
    Column("value_token", String(64)),  # vault token of the JSON of the new value (None for reset and rotate)
    Column("expires_at", BigInteger, nullable=False),
)


@dataclass(frozen=True)
class PendingChange:
    """A change read back to the admin and not yet confirmed; ``value_token`` addresses the new value in the vault."""

    conversation_id: str
    staff_id: str
    kind: str
    key: str
    scope: str
    reset: bool
    base_version: int
    shown_old: str
    shown_new: str
    value_token: Optional[str] = field(default=None, repr=False)
    expires_at: int = 0


class AdminConversations:
    """Code requests and pending changes per conversation; expired records count as absent."""

    def __init__(self, db: StateDB, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock
        db.ensure_tables(admin_code_requests, admin_pending_changes)
        # Whether a code is awaited is asked for every customer message that holds a 4-8 digit number.
        self._code_signal = ChangeSignal(db, CODE_REQUESTS_SIGNAL_SUFFIX)
        self._code_requests = SignalledRead(self._code_signal, self._read_code_requests)

    # -- OTP code requests -------------------------------------------------------------------------------------------

    def expect_code(self, conversation_id: str, staff_id: str, ttl_seconds: int) -> None:
        """From now on (for ``ttl_seconds``) this conversation's 4-8 digit numbers are treated as OTPs."""
        self._replace(
            admin_code_requests,
            conversation_id,
            {"staff_id": staff_id, "expires_at": int(self._clock()) + ttl_seconds},
        )

    def awaiting_code(self, conversation_id: str) -> Optional[str]:
        """The staff id whose code this conversation is expected to send next, or None."""
        with self._db.read() as connection:
            row = connection.execute(
                select(admin_code_requests).where(admin_code_requests.c.conversation_id == self._stored(conversation_id))
            ).first()
        if row is None or int(self._clock()) >= row.expires_at:
            return None
        return row.staff_id

    def masks_codes(self, conversation_id: str) -> bool:
        """Whether this conversation's 4-8 digit numbers are masked as OTPs: while a code is awaited, and for
        ``CODE_MASKING_GRACE_SECONDS`` after the request expired, until a code is received. On SQLite all pending
        requests (a handful: staff logging in) are read again only after a change is signalled (``change_signal``)."""
        stored = self._stored(conversation_id)
        if self._code_signal.path is not None:
            expires_at = self._code_requests.get().get(stored)
        else:
            with self._db.read() as connection:
                expires_at = connection.execute(
                    select(admin_code_requests.c.expires_at).where(admin_code_requests.c.conversation_id == stored)
                ).scalar()
        return expires_at is not None and int(self._clock()) < expires_at + CODE_MASKING_GRACE_SECONDS

    def _read_code_requests(self) -> Dict[str, int]:
        with self._db.read() as connection:
            rows = connection.execute(select(admin_code_requests.c.conversation_id, admin_code_requests.c.expires_at))
            return {row.conversation_id: row.expires_at for row in rows}

    def code_received(self, conversation_id: str) -> None:
        """Stop treating numbers as OTPs (verified, locked out, expired or logged out)."""
        self._delete(admin_code_requests, conversation_id)

    # -- pending changes ---------------------------------------------------------------------------------------------

    def propose(self, change: PendingChange) -> None:
        values = {k: v for k, v in change.__dict__.items() if k not in ("conversation_id", "key")}
        values["setting_key"] = change.key
        self._replace(admin_pending_changes, change.conversation_id, values)

    def pending(self, conversation_id: str) -> Optional[PendingChange]:
        with self._db.read() as connection:
            row = connection.execute(
                select(admin_pending_changes).where(
                    admin_pending_changes.c.conversation_id == self._stored(conversation_id)
                )
            ).first()
        if row is None or int(self._clock()) >= row.expires_at:
            return None
        return PendingChange(
            conversation_id=row.conversation_id, staff_id=row.staff_id, kind=row.kind, key=row.setting_key,
            scope=row.scope, reset=bool(row.reset), base_version=row.base_version, shown_old=row.shown_old,
            shown_new=row.shown_new, value_token=row.value_token, expires_at=row.expires_at,
        )

    def discard(self, conversation_id: str) -> Optional[PendingChange]:
        """Remove and return the pending change (None if there was none or it expired)."""
        found = self.pending(conversation_id)
        self._delete(admin_pending_changes, conversation_id)
        return found

    def _stored(self, conversation_id: str) -> str:
        return self._db.conversation_ids.stored(conversation_id)

    def _replace(self, table: Table, conversation_id: str, values: dict) -> None:
        conversation_id = self._stored(conversation_id)
        try:
            with self._db.write() as connection:
                connection.execute(delete(table).where(table.c.conversation_id == conversation_id))
                connection.execute(insert(table).values(conversation_id=conversation_id, **values))
        except IntegrityError:  # a concurrent write for the same conversation: the last one wins
            with self._db.write() as connection:
                connection.execute(delete(table).where(table.c.conversation_id == conversation_id))
                connection.execute(insert(table).values(conversation_id=conversation_id, **values))
        self._signal_if_codes(table)

    def _delete(self, table: Table, conversation_id: str) -> None:
        with self._db.write() as connection:
            connection.execute(delete(table).where(table.c.conversation_id == self._stored(conversation_id)))
        self._signal_if_codes(table)

    def _signal_if_codes(self, table: Table) -> None:
        if table is admin_code_requests:
            self._code_signal.signal()
