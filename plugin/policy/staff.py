"""The staff directory: who may administer the bot, with which role, from which channel identities, and how they get OTPs.

Staff rights come only from this directory (managed with ``python -m plugin staff ...``) plus a verified OTP, never from
anything a client sends. Personal data stays out of the database in plain text: channel identities are stored as an
HMAC (exact-match lookup) plus a masked form for listings; TOTP secrets and contact addresses are AES-GCM encrypted
under keys derived from the master key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import pyotp
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import BigInteger, Column, ForeignKey, LargeBinary, String, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from plugin.policy import blacklist
from plugin.policy.audit import OK, AuditLog
from plugin.policy.schema import ROLES
from plugin.storage.db import StateDB, metadata
from plugin.storage.keys import MasterKey, subkey

TOTP = "totp"
CODE = "code"
OTP_METHODS: Tuple[str, ...] = (TOTP, CODE)
ISSUER = "rasa-guard"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
_NONCE_BYTES = 12

staff_members = Table(
    "rg_staff",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(32), nullable=False),
    Column("otp_method", String(16), nullable=False),
    Column("secret", LargeBinary),  # nonce + AES-GCM(TOTP secret), bound to the staff id
    Column("contact", LargeBinary),  # nonce + AES-GCM(e-mail address for sent codes)
    Column("contact_shown", String(255)),
    Column("key_id", String(32), nullable=False),  # master key the secrets were encrypted under
    Column("created_at", BigInteger, nullable=False),
)

staff_identities = Table(
    "rg_staff_identities",
    metadata,
    Column("identity_hash", String(64), primary_key=True),  # HMAC(channel, normalised sender id): one staff member each
    Column("staff_id", String(32), ForeignKey("rg_staff.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("channel", String(100), nullable=False),
    Column("shown", String(255), nullable=False),
)


class StaffError(ValueError):
    """A staff directory request was refused (bad name, role, identity or contact); nothing was changed."""


class UnknownStaff(StaffError, LookupError):
    """No staff member has that name."""


class StaffSecretError(Exception):
    """A stored secret cannot be decrypted: another master key is configured, or the row was altered."""


@dataclass(frozen=True)
class StaffMember:
    """A directory entry as the rest of the plugin sees it: no secrets, identities and contact masked."""

    id: str
    name: str
    role: str
    otp_method: str
    identities: Tuple[str, ...] = ()  # "channel:masked sender"
    contact_shown: str = ""
    created_at: int = 0


@dataclass(frozen=True)
class Enrolment:
    """What ``add``/``reset_secret`` hand out once: the TOTP secret and its otpauth:// URI (None for sent codes)."""

    member: StaffMember
    secret: Optional[str] = field(default=None, repr=False)
    uri: Optional[str] = field(default=None, repr=False)


def normalised_identity(channel: str, sender_id: str, default_region: str) -> Tuple[str, str]:
    """(lookup form, masked form) of a channel identity; phone-number sender ids compare as E.164."""
    name = (channel or "").strip().lower()
    if not name or not (sender_id or "").strip():
        raise StaffError("an identity needs a channel and a sender id, e.g. whatsapp:+31612345678")
    identity = blacklist.identity_from_sender(name, sender_id, default_region)
    value = identity.phone_e164 or identity.sender_id
    return f"{name}\x00{value}", f"{name}:{blacklist.mask_identity(identity)}"


def provisioning_uri(name: str, secret: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app scans (RFC 6238, 30-second steps, 6 digits, SHA-1)."""
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name=issuer)


class StaffDirectory:
    """Add, find, list, re-key and remove staff members; every change is audited."""

    def __init__(
        self,
        db: StateDB,
        master_key: MasterKey,
        audit: AuditLog,
        *,
        default_region: str = "NL",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._master = master_key
        self._audit = audit
        self._region = default_region
        self._clock = clock
        self._secret_key = subkey(master_key, "staff-secrets")
        self._identity_key = subkey(master_key, "staff-identities")
        db.ensure_tables(staff_members, staff_identities)

    def add(
        self,
        name: str,
        role: str,
        identities: Sequence[Tuple[str, str]],
        *,
        otp_method: str = TOTP,
        contact: Optional[str] = None,
        actor: str,
    ) -> Enrolment:
        """Add a staff member; for TOTP the returned enrolment holds the new secret and URI (show once, then forget)."""
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise StaffError("a staff name is 1-64 characters of a-z, 0-9, '_', '.', '-' starting with a letter or digit")
        if role not in ROLES:
            raise StaffError(f"role must be one of: {', '.join(ROLES)}")
        if otp_method not in OTP_METHODS:
            raise StaffError(f"the OTP method must be one of: {', '.join(OTP_METHODS)}")
        if not identities:
            raise StaffError("give at least one channel identity the staff member chats from, e.g. whatsapp:+31612345678")
        staff_id = "stf_" + secrets.token_hex(8)
        contact_value, contact_shown = self._contact(contact, otp_method)
        secret = pyotp.random_base32(32) if otp_method == TOTP else None
        rows = self._identity_rows(staff_id, identities)
        try:
            with self._db.write() as connection:
                connection.execute(
                    insert(staff_members).values(
                        id=staff_id,
                        name=name,
                        role=role,
                        otp_method=otp_method,
                        secret=self._encrypt(staff_id, "secret", secret) if secret else None,
                        contact=self._encrypt(staff_id, "contact", contact_value) if contact_value else None,
                        contact_shown=contact_shown,
                        key_id=self._master.key_id,
                        created_at=int(self._clock()),
                    )
                )
                connection.execute(insert(staff_identities), rows)
        except IntegrityError:
            raise StaffError(
                f"a staff member named {name!r} exists already, or one of the identities belongs to another staff member"
            ) from None
        member = self.get(name)
        self._audit.append(
            "staff.add", outcome=OK, actor=actor, setting=name, new_value=role,
            detail=f"otp={otp_method} identities={', '.join(member.identities)}",
        )
        return Enrolment(member, secret, provisioning_uri(name, secret) if secret else None)

    def get(self, name: str) -> StaffMember:
        members = self._members(staff_members.c.name == name)
        if not members:
            raise UnknownStaff(f"no staff member is named {name!r}; see: python -m plugin staff list")
        return members[0]

    def by_id(self, staff_id: str) -> Optional[StaffMember]:
        members = self._members(staff_members.c.id == staff_id)
        return members[0] if members else None

    def list(self) -> List[StaffMember]:
        return self._members(None)

    def find_by_identity(self, channel: str, sender_id: str) -> Optional[StaffMember]:
        """The staff member who chats from exactly this identity on this channel, else None."""
        try:
            lookup, _ = normalised_identity(channel, sender_id, self._region)
        except StaffError:
            return None
        with self._db.read() as connection:
            staff_id = connection.execute(
                select(staff_identities.c.staff_id).where(staff_identities.c.identity_hash == self._hash(lookup))
            ).scalar()
        return self.by_id(staff_id) if staff_id else None

    def remove(self, name: str, *, actor: str) -> StaffMember:
        member = self.get(name)
        with self._db.write() as connection:
            connection.execute(delete(staff_identities).where(staff_identities.c.staff_id == member.id))
            connection.execute(delete(staff_members).where(staff_members.c.id == member.id))
        self._audit.append("staff.remove", outcome=OK, actor=actor, setting=name, old_value=member.role)
        return member

    def reset_secret(self, name: str, *, actor: str) -> Enrolment:
        """Issue a new TOTP secret (the old one stops working at once); for sent codes there is no secret to renew."""
        member = self.get(name)
        secret = pyotp.random_base32(32) if member.otp_method == TOTP else None
        if secret is not None:
            with self._db.write() as connection:
                connection.execute(
                    update(staff_members)
                    .where(staff_members.c.id == member.id)
                    .values(secret=self._encrypt(member.id, "secret", secret), key_id=self._master.key_id)
                )
        self._audit.append(
            "staff.reset", outcome=OK, actor=actor, setting=name, detail="new TOTP secret" if secret else "no secret (sent codes)"
        )
        return Enrolment(member, secret, provisioning_uri(name, secret) if secret else None)

    def totp_secret(self, staff_id: str) -> str:
        """The decrypted TOTP secret, for the OTP check only."""
        return self._decrypted(staff_id, "secret")

    def contact(self, staff_id: str) -> str:
        """The decrypted contact address codes are sent to (never an address typed in the chat)."""
        return self._decrypted(staff_id, "contact")

    def _decrypted(self, staff_id: str, column: str) -> str:
        with self._db.read() as connection:
            row = connection.execute(
                select(staff_members.c[column], staff_members.c.key_id).where(staff_members.c.id == staff_id)
            ).first()
        if row is None or row[0] is None:
            raise StaffSecretError(f"staff member {staff_id} has no stored {column}")
        if row.key_id != self._master.key_id:
            raise StaffSecretError(
                f"the {column} of staff member {staff_id} was encrypted under master key {row.key_id}; "
                f"configure that key or run: python -m plugin staff reset"
            )
        blob = bytes(row[0])
        try:
            plain = AESGCM(self._secret_key).decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], _aad(staff_id, column))
        except InvalidTag:
            raise StaffSecretError(f"the {column} of staff member {staff_id} failed authentication (altered?)") from None
        return plain.decode("utf-8")

    def _encrypt(self, staff_id: str, column: str, value: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + AESGCM(self._secret_key).encrypt(nonce, value.encode("utf-8"), _aad(staff_id, column))

    def _hash(self, lookup: str) -> str:
        return hmac.new(self._identity_key, lookup.encode("utf-8"), hashlib.sha256).hexdigest()

    def _identity_rows(self, staff_id: str, identities: Sequence[Tuple[str, str]]) -> List[Dict[str, str]]:
        rows: Dict[str, Dict[str, str]] = {}
        for channel, sender_id in identities:
            lookup, shown = normalised_identity(channel, sender_id, self._region)
            digest = self._hash(lookup)
            rows[digest] = {"identity_hash": digest, "staff_id": staff_id, "channel": lookup.split("\x00")[0], "shown": shown}
        return list(rows.values())

    def _contact(self, contact: Optional[str], otp_method: str) -> Tuple[Optional[str], str]:
        if otp_method != CODE:
            if contact:
                raise StaffError("a contact address is only used with --otp code")
            return None, ""
        if not contact:
            raise StaffError("sent codes need a contact e-mail address from the directory, e.g. --contact name@example.com")
        try:
            entry = blacklist.parse_entry(contact, self._region, ("email",))
        except blacklist.InvalidBlacklistEntry:
            raise StaffError("the contact must be an e-mail address, e.g. name@example.com") from None
        return entry.value, entry.masked

    def _members(self, condition: object) -> List[StaffMember]:
        query = select(
            staff_members.c.id, staff_members.c.name, staff_members.c.role, staff_members.c.otp_method,
            staff_members.c.contact_shown, staff_members.c.created_at,
        ).order_by(staff_members.c.name)
        if condition is not None:
            query = query.where(condition)
        with self._db.read() as connection:
            rows = connection.execute(query).all()
            shown: Dict[str, List[str]] = {}
            ids = [row.id for row in rows]
            if ids:
                for ident in connection.execute(
                    select(staff_identities.c.staff_id, staff_identities.c.shown)
                    .where(staff_identities.c.staff_id.in_(ids))
                    .order_by(staff_identities.c.shown)
                ):
                    shown.setdefault(ident.staff_id, []).append(ident.shown)
        return [
            StaffMember(row.id, row.name, row.role, row.otp_method, tuple(shown.get(row.id, ())), row.contact_shown or "", row.created_at)
            for row in rows
        ]


def _aad(staff_id: str, column: str) -> bytes:
    return f"rasa-guard/staff/v1\x00{staff_id}\x00{column}".encode("utf-8")
