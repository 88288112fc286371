"""API tokens of the channel, persisted: the pure records of ``plugin.policy.api_tokens`` in the state database.

Only SHA-256 hashes are stored; a token's plaintext is returned once by ``create``/``rotate`` and never again. Each
change runs under the database write lock (read, transform, write), so two admins rotating at once cannot lose a token,
and each is audited without the token or its hash.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Callable, Optional, Tuple

from sqlalchemy import BigInteger, Column, String, Table, insert, select, update
from sqlalchemy.engine import Connection

from plugin.policy import api_tokens
from plugin.policy.api_tokens import TokenCheck, TokenRecord
from plugin.policy.audit import OK, AuditLog
from plugin.storage.db import StateDB, metadata

MAX_LABEL_CHARS = 100
_LABEL_RE = re.compile(r"^[^\x00-\x1f\x7f]*$")

api_token_records = Table(
    "rg_api_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("hash", String(64), nullable=False, unique=True),
    Column("label", String(MAX_LABEL_CHARS), nullable=False),
    # unix microseconds (UTC): exact round trips on every database
    Column("created_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger),
    Column("revoked_at", BigInteger),
)


class TokenLabelError(ValueError):
    """A token label was refused; nothing was stored."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class TokenStore:
    """Create, rotate, revoke and list API tokens; every change is audited as ``token.*``."""

    def __init__(self, db: StateDB, audit: AuditLog, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        db.ensure_tables(api_token_records)

    def records(self) -> Tuple[TokenRecord, ...]:
        """Every token ever created (active, expiring, expired, revoked), oldest first."""
        with self._db.read() as connection:
            return _load(connection)

    def active(self) -> Tuple[TokenRecord, ...]:
        return api_tokens.active_records(self.records(), self._clock())

    def check(self, authorization: Optional[str]) -> TokenCheck:
        """Decide a request's ``Authorization`` header against the stored tokens (see ``api_tokens.check_request``)."""
        return api_tokens.check_request(self.records(), authorization, self._clock())

    def create(self, label: str = "", *, actor: str, role: Optional[str] = None) -> Tuple[str, TokenRecord]:
        """A new token alongside the existing ones; returns (plaintext to show once, record)."""
        _check_label(label)
        plaintext, record = api_tokens.new_token(self._clock(), label)
        with self._db.write() as connection:
            connection.execute(insert(api_token_records).values(**_row(record)))
        self._audited("token.create", record, actor, role, f"label={label!r}")
        return plaintext, record

    def rotate(self, grace_s: int, label: str = "", *, actor: str, role: Optional[str] = None) -> Tuple[str, TokenRecord]:
        """Issue a new token; tokens active now keep working ``grace_s`` seconds more. Returns (plaintext, new record)."""
        _check_label(label)
        now = self._clock()
        with self._db.write() as connection:
            before = _load(connection, lock=True)
            plaintext, after = api_tokens.rotate(before, now, grace_s, label)
            fresh = after[-1]
            for old, new in zip(before, after):
                if new.expires_at != old.expires_at:
                    connection.execute(
                        update(api_token_records).where(api_token_records.c.id == new.id).values(expires_at=_micros(new.expires_at))
                    )
            connection.execute(insert(api_token_records).values(**_row(fresh)))
        expiring = [new.id for old, new in zip(before, after) if new.expires_at != old.expires_at]
        self._audited("token.rotate", fresh, actor, role, f"grace={grace_s}s; expiring: {', '.join(expiring) or 'none'}")
        return plaintext, fresh

    def revoke(self, token_id: str, *, actor: str, role: Optional[str] = None) -> TokenRecord:
        """Revoke at once (no grace); raises ``UnknownToken`` for an id that was never issued."""
        now = self._clock()
        with self._db.write() as connection:
            before = _load(connection, lock=True)
            after = api_tokens.revoke(before, token_id, now)
            record = next(r for r in after if r.id == token_id)
            connection.execute(
                update(api_token_records)
                .where(api_token_records.c.id == token_id, api_token_records.c.revoked_at.is_(None))
                .values(revoked_at=_micros(record.revoked_at))
            )
        self._audited("token.revoke", record, actor, role, f"label={record.label!r}")
        return record

    def _audited(self, action: str, record: TokenRecord, actor: str, role: Optional[str], detail: str) -> None:
        self._audit.append(action, outcome=OK, actor=actor, role=role, setting=record.id, detail=detail)


def _check_label(label: str) -> None:
    if not isinstance(label, str) or len(label) > MAX_LABEL_CHARS or not _LABEL_RE.match(label):
        raise TokenLabelError(f"a token label is at most {MAX_LABEL_CHARS} characters of printable text")


def _load(connection: Connection, lock: bool = False) -> Tuple[TokenRecord, ...]:
    query = select(api_token_records).order_by(api_token_records.c.created_at, api_token_records.c.id)
    if lock:
        query = query.with_for_update()
    return tuple(
        TokenRecord(
            id=row.id,
            hash=row.hash,
            created_at=_time(row.created_at),
            expires_at=_time(row.expires_at),
            revoked_at=_time(row.revoked_at),
            label=row.label,
        )
        for row in connection.execute(query)
    )


def _row(record: TokenRecord) -> dict:
    return {
        "id": record.id,
        "hash": record.hash,
        "label": record.label,
        "created_at": _micros(record.created_at),
        "expires_at": _micros(record.expires_at),
        "revoked_at": _micros(record.revoked_at),
    }


def _micros(moment: Optional[datetime]) -> Optional[int]:
    if moment is None:
        return None
    delta = moment - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def _time(micros: Optional[int]) -> Optional[datetime]:
    if micros is None:
        return None
    seconds, rest = divmod(int(micros), 1_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).replace(microsecond=rest)

