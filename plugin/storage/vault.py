"""The vault: originals the bot or an agent legitimately needs, encrypted at rest and erasable by deleting their key.

Each record has its own random AES-256-GCM data key, wrapped by the master key (see ``keys.py``) and kept in a separate
key table; deleting that key row ("crypto-shredding") makes the ciphertext unrecoverable. Associated data binds each
ciphertext to its token, PII type, conversation and expiry, and each wrapped key to its token, so rows cannot be swapped.

Reads: ``reveal`` is a person's read (role + reason, audited as ``vault.reveal``); ``lookup`` is the bot's own read, e.g.
to check an OTP (reason given by the caller, audited as ``vault.use``). Both are audited before the value is returned,
and refused or failed attempts are audited too. Storing and shredding are not audited per record (high volume); the
jobs that shred whole conversations audit at their level.

Writes: ``store_many`` commits a message's records in one transaction before it returns, in the caller's thread. (A
writer thread that committed while Rasa went on was measured slower in the served path: its Python work contended for
the GIL with the request, costing more than the disk sync it overlapped.)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import string
import time
from typing import Callable, Collection, Dict, List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table, and_, delete, func, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import OperationalError
from sqlalchemy.sql.expression import ColumnElement

from plugin.policy.audit import FAILED, OK, REFUSED, AuditLog
from plugin.storage.db import StateDB, metadata
from plugin.storage.keys import MasterKey

TOKEN_PREFIX = "vlt_"
TOKEN_RANDOM_CHARS = 22  # 22 alphanumerics = 131 random bits
TOKEN_RE = re.compile(r"vlt_[A-Za-z0-9]{22}(?![A-Za-z0-9])")
_TOKEN_ALPHABET = string.ascii_letters + string.digits
# Random bytes at or above this are skipped so that ``byte % 62`` stays uniform (248 = 4 * 62).
_UNBIASED_BELOW = len(_TOKEN_ALPHABET) * (256 // len(_TOKEN_ALPHABET))
_PII_TYPE_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_NONCE_BYTES = 12
_DATA_KEY_BYTES = 32  # AES-256
MAX_REASON_CHARS = 500

vault_records = Table(
    "rg_vault_records",
    metadata,
    Column("token", String(32), primary_key=True),
    Column("conversation_id", String(255), index=True),
    Column("pii_type", String(64), nullable=False),
    Column("created_at", BigInteger, nullable=False),  # unix seconds
    Column("expires_at", BigInteger, nullable=False, index=True),
    Column("nonce", LargeBinary),  # NULL once shredded
    Column("ciphertext", LargeBinary),  # NULL once shredded
    Column("shredded_at", BigInteger),
)

vault_keys = Table(
    "rg_vault_keys",
    metadata,
    Column("token", String(32), ForeignKey("rg_vault_records.token", ondelete="CASCADE"), primary_key=True),
    Column("key_id", String(32), nullable=False),  # which master key wrapped it (for rotation)
    Column("wrapped_key", LargeBinary, nullable=False),  # wrap nonce + AES-GCM(master key, data key)
)


class VaultError(Exception):
    """Base of every vault error; messages name the token at most, never a value."""


class VaultInputError(VaultError, ValueError):
    """``store`` was called with arguments it cannot accept; nothing was stored."""


class RevealRefused(VaultError):
    """The caller's role may not read originals, or no reason was given (the attempt is audited)."""


class RecordUnavailable(VaultError):
    """The token names no readable record."""


class UnknownToken(RecordUnavailable):
    """No record has this token (never stored, or removed after it expired)."""


class RecordExpired(RecordUnavailable):
    """The record's time to live has passed; it has now been shredded."""


class RecordShredded(RecordUnavailable):
    """The record's key was deleted; its value is gone for good."""


class ForeignRecord(RecordUnavailable):
    """The record belongs to another conversation than the one being read (its token was copied there)."""


class MasterKeyMismatch(VaultError):
    """The record was wrapped by a different master key than the configured one."""


class VaultIntegrityError(VaultError):
    """Decryption failed: the stored record or key was altered or moved to another row."""


def new_token() -> str:
    """An opaque, unguessable token that is safe inside text and NLU entity values (letters and digits only).
    One read of the system's random source per token, not one per character (a system call each)."""
    chars: List[str] = []
    while len(chars) < TOKEN_RANDOM_CHARS:
        chars += [_TOKEN_ALPHABET[byte % len(_TOKEN_ALPHABET)] for byte in secrets.token_bytes(2 * TOKEN_RANDOM_CHARS)
                  if byte < _UNBIASED_BELOW]
    return TOKEN_PREFIX + "".join(chars[:TOKEN_RANDOM_CHARS])


def is_token(candidate: str) -> bool:
    return TOKEN_RE.fullmatch(candidate) is not None


def _data_aad(token: str, pii_type: str, conversation_id: Optional[str], expires_at: int) -> bytes:
    return json.dumps(["rasa-guard/vault/v1", token, pii_type, conversation_id, expires_at]).encode("utf-8")


def _key_aad(token: str, key_id: str) -> bytes:
    return json.dumps(["rasa-guard/vault-key/v1", token, key_id]).encode("utf-8")


class Vault:
    """Store, read and shred encrypted originals in the state database."""

    def __init__(
        self, db: StateDB, master_key: MasterKey, audit: AuditLog, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = db
        self._master = master_key
        self._master_cipher = AESGCM(master_key.material)  # stateless per call: one object serves every thread
        self._audit = audit
        self._clock = clock
        db.ensure_tables(vault_records, vault_keys)

    def store(self, value: str, *, pii_type: str, conversation_id: Optional[str] = None, ttl_seconds: int) -> str:
        """Encrypt ``value`` under a fresh data key and return the token that addresses it."""
        return self.store_many([(value, pii_type)], conversation_id=conversation_id, ttl_seconds=ttl_seconds)[0]

    def store_many(
        self, values: Sequence[Tuple[str, str]], *, conversation_id: Optional[str] = None, ttl_seconds: int
    ) -> List[str]:
        """``store`` for every ``(value, pii_type)`` of one message, in one transaction (one disk sync, not one each);
        all or nothing. Returns the tokens in order."""
        records, keys = self._sealed(values, conversation_id, ttl_seconds)
        self._db.insert_rows((vault_records, records), (vault_keys, keys))
        return [record["token"] for record in records]

    def _sealed(
        self, values: Sequence[Tuple[str, str]], conversation_id: Optional[str], ttl_seconds: int
    ) -> Tuple[List[Dict[str, object]], List[Dict[str, object]]]:
        """The record and key rows of ``values``: each encrypted under a fresh data key, wrapped by the master key."""
        if conversation_id is not None and (not isinstance(conversation_id, str) or len(conversation_id) > 255):
            raise VaultInputError("conversation_id must be a string of at most 255 characters, or None")
        conversation_id = self._db.conversation_ids.stored_optional(conversation_id)
        if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int) or ttl_seconds <= 0:
            raise VaultInputError("ttl_seconds must be a positive whole number of seconds")
        created_at = int(self._clock())
        expires_at = created_at + ttl_seconds
        records, keys = [], []
        for value, pii_type in values:
            if not isinstance(value, str):
                raise VaultInputError("the vault stores text; convert the value to str first")
            if not isinstance(pii_type, str) or not _PII_TYPE_RE.match(pii_type):
                raise VaultInputError("pii_type must be 1-64 characters of letters, digits, '_', '.', ':', '-'")
            token = new_token()
            # One read of the random source for the data key and both nonces (each read is a system call).
            fresh = os.urandom(_DATA_KEY_BYTES + 2 * _NONCE_BYTES)
            data_key, nonce, wrap_nonce = fresh[:_DATA_KEY_BYTES], fresh[_DATA_KEY_BYTES:-_NONCE_BYTES], fresh[-_NONCE_BYTES:]
            ciphertext = AESGCM(data_key).encrypt(
                nonce, value.encode("utf-8"), _data_aad(token, pii_type, conversation_id, expires_at)
            )
            wrapped = wrap_nonce + self._master_cipher.encrypt(wrap_nonce, data_key, _key_aad(token, self._master.key_id))
            records.append(dict(token=token, conversation_id=conversation_id, pii_type=pii_type, created_at=created_at,
                                expires_at=expires_at, nonce=nonce, ciphertext=ciphertext))
            keys.append(dict(token=token, key_id=self._master.key_id, wrapped_key=wrapped))
        return records, keys

    def reveal(
        self,
        token: str,
        *,
        actor: str,
        role: str,
        reason: str,
        allowed_roles: Collection[str],
        channel: Optional[str] = None,
        owner: Optional[str] = None,
    ) -> str:
        """A person's read of an original: needs an allowed role and a reason; audited (without the value). With
        ``owner`` (the conversation being read) a record of another conversation is refused (``ForeignRecord``)."""
        allowed = {allowed_roles} if isinstance(allowed_roles, str) else set(allowed_roles)  # "admin" is not {"a", ...}
        refusal = None
        if role not in allowed:
            refusal = f"role {role!r} may not reveal vault records (allowed: {', '.join(sorted(allowed)) or 'none'})"
        elif not reason or not reason.strip():
            refusal = "a reason is required to reveal a vault record"
        return self._audited_read(
            "vault.reveal", token, actor=actor, role=role, reason=reason, channel=channel, refusal=refusal, owner=owner
        )

    def lookup(self, token: str, *, reason: str, actor: str = "bot", channel: Optional[str] = None) -> str:
        """The bot's own read of an original (e.g. comparing an OTP); audited as ``vault.use`` with the caller's reason."""
        refusal = None if reason and reason.strip() else "a reason is required to use a vault record"
        return self._audited_read("vault.use", token, actor=actor, role="bot", reason=reason, channel=channel, refusal=refusal)

    def _audited_read(
        self,
        action: str,
        token: str,
        *,
        actor: str,
        role: str,
        reason: str,
        channel: Optional[str],
        refusal: Optional[str],
        owner: Optional[str] = None,
    ) -> str:
        owner = self._db.conversation_ids.stored_optional(owner)
        row = self._fetch(token) if is_token(token) else None
        detail = f"token={token if is_token(token) else '(malformed)'} reason={(reason or '')[:MAX_REASON_CHARS]}"

        def audit(outcome: str, note: str = "") -> None:
            self._audit.append(
                action,
                outcome=outcome,
                actor=actor,
                role=role,
                channel=channel,
                conversation_id=row.conversation_id if row is not None else None,
                scope=row.pii_type if row is not None else None,
                detail=f"{detail}; {note}" if note else detail,
            )

        if refusal is not None:
            audit(REFUSED, refusal)
            raise RevealRefused(refusal)
        try:
            if row is not None and not _owned_by(row.conversation_id, owner):
                raise ForeignRecord(f"vault record {token} belongs to another conversation")  # ids may be phone numbers
            value = self._decrypt(token, row)
        except RecordUnavailable as error:
            audit(REFUSED, str(error))
            raise
        except VaultError as error:
            audit(FAILED, str(error))
            raise
        audit(OK)
        return value

    def _fetch(self, token: str) -> Optional[Row]:
        query = (
            select(vault_records, vault_keys.c.key_id, vault_keys.c.wrapped_key)
            .select_from(vault_records.outerjoin(vault_keys))
            .where(vault_records.c.token == token)
        )
        with self._db.read() as connection:
            return connection.execute(query).first()

    def _decrypt(self, token: str, row: Optional[Row]) -> str:
        if row is None:
            raise UnknownToken(f"no vault record has token {token if is_token(token) else '(malformed token)'}")
        if row.wrapped_key is None or row.ciphertext is None:
            raise RecordShredded(f"vault record {token} was shredded; its value is gone")
        if self._clock() >= row.expires_at:
            self.shred(token)
            raise RecordExpired(f"vault record {token} expired and has been shredded")
        if row.key_id != self._master.key_id:
            raise MasterKeyMismatch(
                f"vault record {token} was wrapped by master key {row.key_id}, but the configured key is "
                f"{self._master.key_id}; configure the original master key"
            )
        wrapped = row.wrapped_key
        try:
            data_key = self._master_cipher.decrypt(
                wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _key_aad(token, row.key_id)
            )
            plain = AESGCM(data_key).decrypt(
                row.nonce, row.ciphertext, _data_aad(token, row.pii_type, row.conversation_id, row.expires_at)
            )
        except (InvalidTag, ValueError):
            raise VaultIntegrityError(f"vault record {token} failed authentication: it was altered or moved") from None
        return plain.decode("utf-8")

    def read_for_rewrite(self, tokens: Collection[str], owner: Optional[str] = None) -> Dict[str, Tuple[str, Optional[str]]]:
        """PII type and, while still readable, the original of each known token: the deferred-redaction job's read.

        Not audited per record: the values only feed the final storage rendering, and the job audits each
        conversation it rewrites. Unknown tokens are left out; shredded, expired or unreadable ones map to None.
        With ``owner``, records of another conversation count as unknown (see ``_records_of``).
        """
        owner = self._db.conversation_ids.stored_optional(owner)
        found: Dict[str, Tuple[str, Optional[str]]] = {}
        for token in sorted({t for t in tokens if is_token(t)}):
            row = self._fetch(token)
            if row is None or not _owned_by(row.conversation_id, owner):
                continue
            try:
                found[token] = (row.pii_type, self._decrypt(token, row))
            except VaultError:
                found[token] = (row.pii_type, None)
        return found

    def count_unshredded(
        self, tokens: Collection[str] = (), conversation_id: Optional[str] = None, *, owner: Optional[str] = None
    ) -> int:
        """How many records among ``tokens`` or of ``conversation_id`` still have a key (what a shred would remove)."""
        condition = self._records_of(tokens, conversation_id, owner)
        if condition is None:
            return 0
        query = select(func.count()).select_from(vault_keys.join(vault_records)).where(condition)
        with self._db.read() as connection:
            return int(connection.execute(query).scalar_one())

    def shred_many(
        self, tokens: Collection[str] = (), conversation_id: Optional[str] = None, *, owner: Optional[str] = None
    ) -> int:
        """Shred every record among ``tokens`` or of ``conversation_id`` in one transaction; returns how many had a key."""
        condition = self._records_of(tokens, conversation_id, owner)
        return 0 if condition is None else self._shred(condition)

    def shred(self, token: str) -> bool:
        """Delete the record's key and ciphertext (a tombstone remains until expiry); False if nothing was left to shred."""
        return self._shred(vault_records.c.token == token) > 0

    def shred_conversation(self, conversation_id: str) -> int:
        """Shred every record of a conversation; returns how many still had a key."""
        return self._shred(vault_records.c.conversation_id == self._db.conversation_ids.stored(conversation_id))

    def _records_of(
        self, tokens: Collection[str], conversation_id: Optional[str], owner: Optional[str]
    ) -> Optional[ColumnElement]:
        ids = self._db.conversation_ids
        return _records_of(tokens, ids.stored_optional(conversation_id), ids.stored_optional(owner))

    def _shred(self, condition: ColumnElement) -> int:
        tokens = select(vault_records.c.token).where(condition).scalar_subquery()
        with self._db.write() as connection:
            removed = connection.execute(delete(vault_keys).where(vault_keys.c.token.in_(tokens))).rowcount
            connection.execute(
                update(vault_records)
                .where(condition, vault_records.c.shredded_at.is_(None))
                .values(nonce=None, ciphertext=None, shredded_at=int(self._clock()))
            )
        self._flush()
        return removed

    def purge_expired(self, now: Optional[float] = None) -> int:
        """Delete every record (key, ciphertext and tombstone) whose expiry has passed; returns how many."""
        cutoff = int(self._clock() if now is None else now)
        expired = select(vault_records.c.token).where(vault_records.c.expires_at <= cutoff).scalar_subquery()
        with self._db.write() as connection:
            connection.execute(delete(vault_keys).where(vault_keys.c.token.in_(expired)))
            removed = connection.execute(delete(vault_records).where(vault_records.c.expires_at <= cutoff)).rowcount
        self._flush()
        return removed

    def _flush(self) -> None:
        try:
            self._db.flush_deleted()
        except OperationalError:
            pass  # best effort: a busy checkpoint is retried by the next shred; the key rows are deleted either way


def _records_of(
    tokens: Collection[str], conversation_id: Optional[str], owner: Optional[str] = None
) -> Optional[ColumnElement]:
    """The records named by ``tokens`` or belonging to ``conversation_id``; None when that selects nothing.

    With ``owner``, ``tokens`` name only records of that conversation or of none (``PIIMasker`` on a stock channel
    stores without one): a token copied into another conversation's transcript (a client can write one into its
    metadata) must not make a job on that conversation read or shred a record that is not its own."""
    clauses = []
    wanted = sorted({t for t in tokens if is_token(t)})
    if wanted:
        named = vault_records.c.token.in_(wanted)
        if owner is not None:
            named = and_(named, or_(vault_records.c.conversation_id.is_(None), vault_records.c.conversation_id == owner))
        clauses.append(named)
    if conversation_id is not None:
        clauses.append(vault_records.c.conversation_id == conversation_id)
    return or_(*clauses) if clauses else None


def _owned_by(conversation_id: Optional[str], owner: Optional[str]) -> bool:
    return owner is None or conversation_id is None or conversation_id == owner
