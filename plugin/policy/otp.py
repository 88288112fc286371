"""One-time passwords for staff and the editing window a verified OTP opens.

Two methods: an authenticator app (RFC 6238 TOTP; a time step is accepted once, so a code cannot be replayed) or a
random code sent out of band to the contact stored in the staff directory (valid ``admin.otp_validity_seconds``,
``admin.otp_attempts`` tries, single use, stored only as an HMAC). Consecutive failures are counted per staff member
across sessions and channels and lock the member out for ``admin.lockout_minutes``. Every failure, lockout, sent code
and window open/close is audited. Times come from an injectable clock (unix seconds).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import smtplib
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Callable, Mapping, Optional, Protocol

import pyotp
from sqlalchemy import BigInteger, Column, ForeignKey, Integer, String, Table, delete, insert, select, update
from sqlalchemy.engine import Connection, Row
from sqlalchemy.exc import IntegrityError

from plugin.policy.audit import FAILED, OK, REFUSED, AuditLog
from plugin.policy.schema import AdminSettings
from plugin.policy.staff import CODE, TOTP, StaffDirectory, StaffMember, staff_members
from plugin.storage.db import StateDB, metadata
from plugin.storage.keys import MasterKey, subkey

CODE_DIGITS = 6
TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1  # accept the previous and next 30-second step too (clock drift of the phone)
OUTBOX_ENV = "RASA_GUARD_OTP_OUTBOX"
SMTP_ENV_PREFIX = "RASA_GUARD_SMTP_"

# Reasons a verification returns (stable codes for the chat replies and tests).
VERIFIED = "ok"
WRONG_CODE = "wrong_code"
NO_CODE = "no_code"  # no live sent code: never requested, used, dead after too many attempts, or expired
EXPIRED = "expired"
REPLAYED = "replayed"
LOCKED = "locked"
MALFORMED = "malformed"

_FK = ForeignKey("rg_staff.id", ondelete="CASCADE")

otp_state = Table(
    "rg_otp_state",
    metadata,
    Column("staff_id", String(32), _FK, primary_key=True),
    Column("failures", Integer, nullable=False),  # consecutive, across sessions and channels
    Column("locked_until", BigInteger),
    Column("last_totp_step", BigInteger),  # the last accepted time step: it and every earlier one are spent
    Column("last_sent_at", BigInteger),
)

otp_codes = Table(
    "rg_otp_codes",
    metadata,
    Column("staff_id", String(32), ForeignKey("rg_staff.id", ondelete="CASCADE"), primary_key=True),  # one live code each
    Column("code_hash", String(64), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("attempts_left", Integer, nullable=False),
)

admin_windows = Table(
    "rg_admin_windows",
    metadata,
    Column("staff_id", String(32), ForeignKey("rg_staff.id", ondelete="CASCADE"), primary_key=True),
    Column("conversation_id", String(255), primary_key=True),
    Column("actor", String(64), nullable=False),
    Column("opened_at", BigInteger, nullable=False),
    Column("last_active", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("idle_seconds", Integer, nullable=False),
)


class OtpError(Exception):
    """An OTP could not be issued; the message says why and what to do."""


class LockedOut(OtpError):
    def __init__(self, until: int) -> None:
        super().__init__("too many wrong codes: this staff account is locked; try again later or ask an admin to reset it")
        self.until = until


class ResendTooSoon(OtpError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"a code was sent moments ago; a new one can be sent in {retry_after} seconds")
        self.retry_after = retry_after


class CodeNotSent(OtpError):
    """No sender is configured, or sending failed; no code is live."""


@dataclass(frozen=True)
class Challenge:
    """What the staff member is asked for: a code from their app, or the code just sent to ``sent_to`` (masked)."""

    method: str
    sent_to: str = ""
    expires_at: Optional[int] = None


@dataclass(frozen=True)
class Verification:
    ok: bool
    reason: str
    attempts_left: Optional[int] = None  # of the live sent code
    locked_until: Optional[int] = None
    locked_now: bool = False  # this very attempt caused the lockout


@dataclass(frozen=True)
class Window:
    staff_id: str
    conversation_id: str
    opened_at: int
    expires_at: int
    idle_seconds: int


class CodeSender(Protocol):
    """Delivers a sent code (or another secret for staff, e.g. a rotated API token) to a directory contact (SMTP in
    production, a local outbox file in development)."""

    def send(self, contact: str, code: str, validity_seconds: int) -> None: ...

    def send_text(self, contact: str, subject: str, text: str) -> None: ...


CODE_SUBJECT = "Your rasa-guard admin code"


def message_text(code: str, validity_seconds: int) -> str:
    return f"Your rasa-guard admin code is {code}. It is valid for {validity_seconds // 60} minutes. Never share it."


@dataclass(frozen=True)
class OutboxSender:
    """Development sender: appends each message as a JSON line to a private file instead of mailing it."""

    path: Path

    def send(self, contact: str, code: str, validity_seconds: int) -> None:
        self.send_text(contact, CODE_SUBJECT, message_text(code, validity_seconds))

    def send_text(self, contact: str, subject: str, text: str) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"to": contact, "text": text}) + "\n")


@dataclass(frozen=True)
class SmtpSender:
    host: str
    from_address: str
    port: int = 587
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    starttls: bool = True
    timeout_s: float = 10.0

    def send(self, contact: str, code: str, validity_seconds: int) -> None:
        self.send_text(contact, CODE_SUBJECT, message_text(code, validity_seconds))

    def send_text(self, contact: str, subject: str, text: str) -> None:
        message = EmailMessage()
        message["From"] = self.from_address
        message["To"] = contact
        message["Subject"] = subject
        message.set_content(text)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def sender_from_env(env: Optional[Mapping[str, str]] = None) -> Optional[CodeSender]:
    """``$RASA_GUARD_OTP_OUTBOX`` (a file, development) or ``$RASA_GUARD_SMTP_HOST`` (+ _PORT, _FROM, _USER,
    _PASSWORD, _STARTTLS=0/1); None when neither is set."""
    environ = os.environ if env is None else env
    if environ.get(OUTBOX_ENV):
        return OutboxSender(Path(environ[OUTBOX_ENV]))
    host = environ.get(SMTP_ENV_PREFIX + "HOST")
    if not host:
        return None
    sender = environ.get(SMTP_ENV_PREFIX + "FROM")
    if not sender:
        raise CodeNotSent(f"set {SMTP_ENV_PREFIX}FROM to the address codes are sent from")
    return SmtpSender(
        host=host,
        from_address=sender,
        port=int(environ.get(SMTP_ENV_PREFIX + "PORT", "587")),
        username=environ.get(SMTP_ENV_PREFIX + "USER") or None,
        password=environ.get(SMTP_ENV_PREFIX + "PASSWORD") or None,
        starttls=environ.get(SMTP_ENV_PREFIX + "STARTTLS", "1") != "0",
    )


class EditingWindows:
    """Open editing windows, one per staff member and conversation, in the state database (shared by all processes)."""

    def __init__(self, db: StateDB, audit: AuditLog, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._audit = audit
        self._clock = clock
        db.ensure_tables(staff_members, admin_windows)

    def open(
        self, member: StaffMember, conversation_id: str, settings: AdminSettings, *, channel: Optional[str] = None
    ) -> Window:
        """Open (or restart) the window: it lasts ``window_seconds`` and closes after ``window_idle_seconds`` idle."""
        now = int(self._clock())
        conversation_id = self._db.conversation_ids.stored(conversation_id)
        window = Window(member.id, conversation_id, now, now + settings.window_seconds, settings.window_idle_seconds)
        key = _window_key(member.id, conversation_id)
        with self._db.write() as connection:
            connection.execute(delete(admin_windows).where(*key))
            connection.execute(
                insert(admin_windows).values(
                    staff_id=member.id, conversation_id=conversation_id, actor=member.name, opened_at=now,
                    last_active=now, expires_at=window.expires_at, idle_seconds=window.idle_seconds,
                )
            )
        self._audit.append(
            "admin.window.open", outcome=OK, actor=member.name, role=member.role, channel=channel,
            conversation_id=conversation_id, detail=f"until {window.expires_at}",
        )
        return window

    def check(self, staff_id: str, conversation_id: str, now: Optional[float] = None) -> bool:
        """True while the window is open, and records the activity; an expired or idle window is closed and audited."""
        moment = int(self._clock() if now is None else now)
        key = _window_key(staff_id, self._db.conversation_ids.stored(conversation_id))
        with self._db.write() as connection:
            row = connection.execute(select(admin_windows).where(*key).with_for_update()).first()
            if row is None:
                return False
            if moment >= row.expires_at:
                ended = "expired"
            elif moment - row.last_active >= row.idle_seconds:
                ended = "idle"
            else:
                connection.execute(update(admin_windows).where(*key).values(last_active=max(moment, row.last_active)))
                return True
            connection.execute(delete(admin_windows).where(*key))
        self._audit_close(row, ended)
        return False

    def close(self, staff_id: str, conversation_id: str, reason: str = "logout") -> bool:
        """End the window now (logout); False if none was open."""
        key = _window_key(staff_id, self._db.conversation_ids.stored(conversation_id))
        with self._db.write() as connection:
            row = connection.execute(select(admin_windows).where(*key).with_for_update()).first()
            if row is not None:
                connection.execute(delete(admin_windows).where(*key))
        if row is None:
            return False
        self._audit_close(row, reason)
        return True

    def close_all(self, staff_id: str, reason: str) -> int:
        """End every window of a staff member (e.g. after a reset or removal); returns how many were open."""
        with self._db.write() as connection:
            rows = connection.execute(select(admin_windows).where(admin_windows.c.staff_id == staff_id)).all()
            connection.execute(delete(admin_windows).where(admin_windows.c.staff_id == staff_id))
        for row in rows:
            self._audit_close(row, reason)
        return len(rows)

    def _audit_close(self, row: Row, reason: str) -> None:
        self._audit.append(
            "admin.window.close", outcome=OK, actor=row.actor, conversation_id=row.conversation_id, detail=reason
        )


class OtpService:
    """Issue and check OTPs for directory staff; a successful check opens an editing window."""

    def __init__(
        self,
        db: StateDB,
        directory: StaffDirectory,
        master_key: MasterKey,
        audit: AuditLog,
        windows: EditingWindows,
        *,
        sender: Optional[CodeSender] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._directory = directory
        self._audit = audit
        self._windows = windows
        self._sender = sender
        self._clock = clock
        self._code_key = subkey(master_key, "otp-codes")
        db.ensure_tables(staff_members, otp_state, otp_codes)

    def request(
        self, member: StaffMember, settings: AdminSettings, *, channel: Optional[str] = None, conversation_id: Optional[str] = None
    ) -> Challenge:
        """Ask for an OTP: nothing to send for TOTP; for sent codes a fresh code replaces any live one (rate-limited)."""
        now = int(self._clock())
        audit = self._auditor(member, channel, conversation_id)
        if member.otp_method == TOTP:
            self._raise_if_locked(member, now, audit)
            return Challenge(TOTP)
        if self._sender is None:
            audit("otp.send", FAILED, "no code sender configured")
            raise CodeNotSent(f"no code sender is configured; set {OUTBOX_ENV} (development) or {SMTP_ENV_PREFIX}HOST")
        code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = secrets.token_hex(16)
        expires_at = now + settings.otp_validity_seconds
        refusal: Optional[OtpError] = None
        self._ensure_state(member.id)
        with self._db.write() as connection:
            state = self._state(connection, member.id)
            if state.locked_until is not None and now < state.locked_until:
                refusal = LockedOut(int(state.locked_until))
            elif state.last_sent_at is not None and now - state.last_sent_at < settings.resend_interval_seconds:
                refusal = ResendTooSoon(int(state.last_sent_at + settings.resend_interval_seconds - now))
            else:
                connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))
                connection.execute(
                    insert(otp_codes).values(
                        staff_id=member.id, code_hash=self._hash(member.id, salt, code), salt=salt,
                        expires_at=expires_at, attempts_left=settings.otp_attempts,
                    )
                )
                connection.execute(update(otp_state).where(otp_state.c.staff_id == member.id).values(last_sent_at=now))
        # Audited after the transaction: the audit log takes the write lock itself.
        if isinstance(refusal, LockedOut):
            audit("otp.send", REFUSED, "locked out")
            raise refusal
        if isinstance(refusal, ResendTooSoon):
            audit("otp.send", REFUSED, f"resend rate limit; retry after {refusal.retry_after}s")
            raise refusal
        try:
            self._sender.send(self._directory.contact(member.id), code, settings.otp_validity_seconds)
        except Exception as error:  # any delivery failure: withdraw the code so a resend is possible at once
            with self._db.write() as connection:
                connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))
                connection.execute(update(otp_state).where(otp_state.c.staff_id == member.id).values(last_sent_at=None))
            audit("otp.send", FAILED, f"delivery failed: {type(error).__name__}")
            raise CodeNotSent("the code could not be sent; try again later or contact an admin") from None
        audit("otp.send", OK, f"sent to {member.contact_shown}")
        return Challenge(CODE, member.contact_shown, expires_at)

    def verify(
        self,
        member: StaffMember,
        code: str,
        settings: AdminSettings,
        *,
        channel: Optional[str] = None,
        conversation_id: Optional[str] = None,
    ) -> Verification:
        """Check a code; on success open the editing window for ``conversation_id`` (if given). Failures count
        toward the member's lockout whatever the session or channel."""
        now = int(self._clock())
        audit = self._auditor(member, channel, conversation_id)
        typed = "".join((code or "").split()).replace("-", "")
        secret = self._directory.totp_secret(member.id) if member.otp_method == TOTP else None
        self._ensure_state(member.id)
        with self._db.write() as connection:
            state = self._state(connection, member.id)
            if state.locked_until is not None and now < state.locked_until:
                result = Verification(False, LOCKED, locked_until=int(state.locked_until))
            else:
                if state.locked_until is not None:  # the lockout has ended: start counting afresh
                    connection.execute(
                        update(otp_state).where(otp_state.c.staff_id == member.id).values(failures=0, locked_until=None)
                    )
                    state = self._state(connection, member.id)
                result = self._check(connection, member, typed, secret, state, now)
                result = self._count(connection, member.id, result, state, settings, now)
        if result.ok:
            audit("otp.verify", OK, member.otp_method)
            if conversation_id:
                self._windows.open(member, conversation_id, settings, channel=channel)
        elif result.locked_now:
            audit("otp.fail", FAILED, f"{member.otp_method}: wrong code")
            audit("otp.lockout", FAILED, f"locked until {result.locked_until} after {settings.lockout_failures} failures")
        elif result.reason == LOCKED:
            audit("otp.verify", REFUSED, "locked out")
        else:
            audit("otp.fail", FAILED, f"{member.otp_method}: {result.reason}")
        return result

    def clear(self, member: StaffMember, *, actor: str) -> None:
        """Clear failures, lockout and any live code (after ``staff reset``); the TOTP replay memory stays. Audited."""
        with self._db.write() as connection:
            connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))
            connection.execute(
                update(otp_state).where(otp_state.c.staff_id == member.id).values(failures=0, locked_until=None, last_sent_at=None)
            )
        self._audit.append("otp.clear", outcome=OK, actor=actor, setting=member.name, detail="failures and lockout cleared")

    def locked_until(self, member: StaffMember) -> Optional[int]:
        """When the member's lockout ends, or None if not locked now."""
        with self._db.read() as connection:
            until = connection.execute(select(otp_state.c.locked_until).where(otp_state.c.staff_id == member.id)).scalar()
        return int(until) if until is not None and int(self._clock()) < until else None

    def _check(
        self, connection: Connection, member: StaffMember, typed: str, secret: Optional[str], state: Row, now: int
    ) -> Verification:
        if not typed.isdigit() or len(typed) != CODE_DIGITS:
            return Verification(False, MALFORMED)
        if member.otp_method == TOTP:
            return self._check_totp(connection, member.id, typed, secret or "", state, now)
        row = connection.execute(select(otp_codes).where(otp_codes.c.staff_id == member.id).with_for_update()).first()
        if row is None:
            return Verification(False, NO_CODE)
        if now >= row.expires_at:
            connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))
            return Verification(False, EXPIRED)
        if hmac.compare_digest(self._hash(member.id, row.salt, typed), row.code_hash):
            connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))  # single use
            return Verification(True, VERIFIED)
        left = row.attempts_left - 1
        if left <= 0:
            connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == member.id))  # dead
        else:
            connection.execute(update(otp_codes).where(otp_codes.c.staff_id == member.id).values(attempts_left=left))
        return Verification(False, WRONG_CODE, attempts_left=max(left, 0))

    def _check_totp(
        self, connection: Connection, staff_id: str, typed: str, secret: str, state: Row, now: int
    ) -> Verification:
        totp = pyotp.TOTP(secret, digits=CODE_DIGITS, interval=TOTP_STEP_SECONDS)
        current = now // TOTP_STEP_SECONDS
        matched = None
        for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
            if hmac.compare_digest(totp.generate_otp(step), typed):
                matched = step
        if matched is None:
            return Verification(False, WRONG_CODE)
        if state.last_totp_step is not None and matched <= state.last_totp_step:
            return Verification(False, REPLAYED)
        connection.execute(update(otp_state).where(otp_state.c.staff_id == staff_id).values(last_totp_step=matched))
        return Verification(True, VERIFIED)

    def _count(
        self, connection: Connection, staff_id: str, result: Verification, state: Row, settings: AdminSettings, now: int
    ) -> Verification:
        """Success resets the failure count; a wrong, replayed or malformed code adds one and may lock the member out."""
        where = otp_state.c.staff_id == staff_id
        if result.ok:
            connection.execute(update(otp_state).where(where).values(failures=0))
            return result
        if result.reason in (NO_CODE, EXPIRED):
            return result  # nothing was guessed against a live code
        failures = state.failures + 1
        if failures < settings.lockout_failures:
            connection.execute(update(otp_state).where(where).values(failures=failures))
            return result
        until = now + settings.lockout_minutes * 60
        connection.execute(update(otp_state).where(where).values(failures=failures, locked_until=until))
        connection.execute(delete(otp_codes).where(otp_codes.c.staff_id == staff_id))
        return Verification(False, LOCKED, locked_until=until, locked_now=True)

    def _raise_if_locked(self, member: StaffMember, now: int, audit: Callable[[str, str, str], None]) -> None:
        with self._db.read() as connection:
            until = connection.execute(select(otp_state.c.locked_until).where(otp_state.c.staff_id == member.id)).scalar()
        if until is not None and now < until:
            audit("otp.request", REFUSED, "locked out")
            raise LockedOut(int(until))

    def _state(self, connection: Connection, staff_id: str) -> Row:
        """The member's OTP state row, locked for this transaction (``_ensure_state`` created it beforehand)."""
        return connection.execute(select(otp_state).where(otp_state.c.staff_id == staff_id).with_for_update()).one()

    def _ensure_state(self, staff_id: str) -> None:
        # In its own transaction: on PostgreSQL a failed concurrent insert would abort the caller's transaction.
        try:
            with self._db.write() as connection:
                if connection.execute(select(otp_state.c.staff_id).where(otp_state.c.staff_id == staff_id)).first() is None:
                    connection.execute(insert(otp_state).values(staff_id=staff_id, failures=0))
        except IntegrityError:
            pass  # another process created it first

    def _hash(self, staff_id: str, salt: str, code: str) -> str:
        message = f"{salt}\x00{staff_id}\x00{code}".encode("utf-8")
        return hmac.new(self._code_key, message, hashlib.sha256).hexdigest()

    def _auditor(
        self, member: StaffMember, channel: Optional[str], conversation_id: Optional[str]
    ) -> Callable[[str, str, str], None]:
        def audit(action: str, outcome: str, detail: str) -> None:
            self._audit.append(
                action, outcome=outcome, actor=member.name, role=member.role, channel=channel,
                conversation_id=conversation_id, detail=detail,
            )

        return audit


def _window_key(staff_id: str, conversation_id: str) -> tuple:
    return (admin_windows.c.staff_id == staff_id, admin_windows.c.conversation_id == conversation_id)
