"""API bearer tokens for the channel: created, rotated with a grace period, revoked; only their SHA-256 is ever kept.

All functions are pure state transitions over a tuple of ``TokenRecord``; the caller persists the result and passes
``now`` explicitly (timezone-aware), so rotation and expiry are testable and identical on every node.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterable, Optional, Sequence, Tuple

TOKEN_PREFIX = "rg_"
_TOKEN_BYTES = 32  # 256 bits: a plain SHA-256 is enough, no slow hash needed for a random secret.
_BEARER = re.compile(r"^Bearer[ \t]+([A-Za-z0-9\-._~+/]+=*)[ \t]*$", re.IGNORECASE)


class UnknownToken(LookupError):
    """A token id that is not among the records."""


@dataclass(frozen=True)
class TokenRecord:
    """A stored token: never the plaintext, only its hash. ``expires_at`` is set when a newer token replaces it."""

    id: str
    hash: str = field(repr=False)
    created_at: datetime
    expires_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None
    label: str = ""

    def is_active(self, now: datetime) -> bool:
        """Not revoked (revocation is immediate and final) and not past its rotation grace period."""
        _require_aware(now)
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


@dataclass(frozen=True)
class TokenCheck:
    """The channel's decision on one request's Authorization header; ``reason`` is a stable code for logs and audit."""

    allowed: bool
    reason: str  # ok | no_tokens_configured | missing_token | malformed_header | invalid_token
    record: Optional[TokenRecord] = None


def hash_token(plaintext: str) -> str:
    """Hex SHA-256 of the token as stored."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def new_token(now: datetime, label: str = "") -> Tuple[str, TokenRecord]:
    """A fresh token: the plaintext (show it to the admin once, never store it) and the record to store."""
    _require_aware(now)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    record = TokenRecord(id="tok_" + secrets.token_hex(6), hash=hash_token(plaintext), created_at=now, label=label)
    return plaintext, record


def rotate(
    records: Sequence[TokenRecord], now: datetime, grace_s: int, label: str = ""
) -> Tuple[str, Tuple[TokenRecord, ...]]:
    """Issue a new token; every token active now keeps working for ``grace_s`` seconds more, then stops (0 = at once).

    A token already expiring sooner keeps its earlier expiry, so rotating twice never extends an old token.
    """
    if grace_s < 0:
        raise ValueError(f"the rotation grace period must be 0 seconds or more, got {grace_s}")
    plaintext, fresh = new_token(now, label)
    until = now + timedelta(seconds=grace_s)
    updated = tuple(
        replace(r, expires_at=until) if r.is_active(now) and (r.expires_at is None or r.expires_at > until) else r
        for r in records
    )
    return plaintext, updated + (fresh,)


def revoke(records: Sequence[TokenRecord], token_id: str, now: datetime) -> Tuple[TokenRecord, ...]:
    """Revoke one token at once (grace does not apply); revoking a revoked token changes nothing."""
    _require_aware(now)
    if not any(r.id == token_id for r in records):
        raise UnknownToken(f"there is no API token with id {token_id!r}; list the tokens to see their ids")
    return tuple(replace(r, revoked_at=now) if r.id == token_id and r.revoked_at is None else r for r in records)


def verify(records: Iterable[TokenRecord], presented: Optional[str], now: datetime) -> Optional[TokenRecord]:
    """The active record whose hash matches ``presented``, else None; every record is compared in constant time."""
    _require_aware(now)
    if not presented:
        return None
    digest = hash_token(presented)
    found: Optional[TokenRecord] = None
    for record in records:
        # No early exit: the time taken does not depend on which record matches.
        if hmac.compare_digest(record.hash, digest) and record.is_active(now):
            found = record
    return found


def parse_bearer(header: Optional[str]) -> Optional[str]:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive), else None."""
    if not header:
        return None
    match = _BEARER.match(header.strip())
    return match.group(1) if match else None


def check_request(records: Sequence[TokenRecord], authorization: Optional[str], now: datetime) -> TokenCheck:
    """Decide a request. Once any token was ever created the header is required, even if all are revoked (fail closed)."""
    if not records:
        return TokenCheck(True, "no_tokens_configured")
    if not authorization or not authorization.strip():
        return TokenCheck(False, "missing_token")
    presented = parse_bearer(authorization)
    if presented is None:
        return TokenCheck(False, "malformed_header")
    record = verify(records, presented, now)
    if record is None:
        return TokenCheck(False, "invalid_token")
    return TokenCheck(True, "ok", record)


def active_records(records: Iterable[TokenRecord], now: datetime) -> Tuple[TokenRecord, ...]:
    """Records that still authenticate at ``now`` (for listing tokens in the admin chat)."""
    return tuple(r for r in records if r.is_active(now))


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("token times must be timezone-aware (use datetime.now(timezone.utc))")
