"""OTPs and editing windows: expiry, attempts, single use, replay, lockout across sessions and channels, rate limits."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import List, Tuple

import pyotp
import pytest

from plugin.policy import otp
from plugin.policy.audit import AuditLog
from plugin.policy.otp import CodeNotSent, EditingWindows, LockedOut, OtpService, ResendTooSoon
from plugin.policy.schema import AdminSettings
from plugin.policy.staff import CODE, StaffDirectory, StaffMember
from plugin.storage.db import StateDB
from plugin.storage.keys import MasterKey
from tests.policy.test_staff import CONTACT, PHONE, actions, directory  # noqa: F401
from tests.storage.test_vault import FakeClock, audit, clock, master  # noqa: F401  (fixtures)
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

ADMIN = AdminSettings()  # 600 s validity, 5 attempts, lockout after 5 failures for 30 min, resend every 60 s


@dataclass
class RecordingSender:
    sent: List[Tuple[str, str]] = field(default_factory=list)

    def send(self, contact: str, code: str, validity_seconds: int) -> None:
        self.sent.append((contact, code))

    @property
    def last_code(self) -> str:
        return self.sent[-1][1]


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def windows(db: StateDB, audit: AuditLog, clock: FakeClock) -> EditingWindows:
    return EditingWindows(db, audit, clock=clock)


@pytest.fixture
def service(
    db: StateDB, directory: StaffDirectory, master: MasterKey, audit: AuditLog, windows: EditingWindows,
    sender: RecordingSender, clock: FakeClock,
) -> OtpService:
    return OtpService(db, directory, master, audit, windows, sender=sender, clock=clock)


@pytest.fixture
def code_member(directory: StaffDirectory) -> StaffMember:
    return directory.add("bob", "supervisor", [("telegram", "998877")], otp_method=CODE, contact=CONTACT, actor="cli").member


@pytest.fixture
def totp_member(directory: StaffDirectory) -> Tuple[StaffMember, pyotp.TOTP]:
    enrolment = directory.add("ann", "admin", [("whatsapp", PHONE)], actor="cli")
    return enrolment.member, pyotp.TOTP(enrolment.secret)


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_sent_code_goes_to_the_directory_contact_and_works_once(
    service: OtpService, code_member: StaffMember, sender: RecordingSender, windows: EditingWindows, state_url: str
) -> None:
    challenge = service.request(code_member, ADMIN, channel="telegram", conversation_id="c1")
    assert challenge.sent_to == "a***@example.com" and sender.sent[-1][0] == CONTACT
    code = sender.last_code
    assert code not in repr(raw_sql(state_url, "SELECT * FROM rg_otp_codes"))  # only an HMAC is stored
    assert service.verify(code_member, f"{code[:3]} {code[3:]}", ADMIN, conversation_id="c1").ok
    assert windows.check(code_member.id, "c1")
    again = service.verify(code_member, code, ADMIN, conversation_id="c1")
    assert (again.ok, again.reason) == (False, otp.NO_CODE)


def test_a_sent_code_expires_after_its_validity(
    service: OtpService, code_member: StaffMember, sender: RecordingSender, clock: FakeClock
) -> None:
    service.request(code_member, ADMIN)
    clock.now += ADMIN.otp_validity_seconds
    assert service.verify(code_member, sender.last_code, ADMIN).reason == otp.EXPIRED


def test_a_sent_code_dies_after_its_attempts(
    service: OtpService, code_member: StaffMember, sender: RecordingSender
) -> None:
    settings = AdminSettings(otp_attempts=3, lockout_failures=10)
    service.request(code_member, settings)
    code = sender.last_code
    left = [service.verify(code_member, wrong(code), settings).attempts_left for _ in range(3)]
    assert left == [2, 1, 0]
    assert service.verify(code_member, code, settings).reason == otp.NO_CODE  # the right code is dead too


def test_resending_is_rate_limited_and_a_new_code_replaces_the_old(
    service: OtpService, code_member: StaffMember, sender: RecordingSender, clock: FakeClock, audit: AuditLog
) -> None:
    service.request(code_member, ADMIN)
    first = sender.last_code
    clock.now += ADMIN.resend_interval_seconds - 1
    with pytest.raises(ResendTooSoon) as too_soon:
        service.request(code_member, ADMIN)
    assert too_soon.value.retry_after == 1
    clock.now += 1
    service.request(code_member, ADMIN)
    assert len(sender.sent) == 2
    if sender.last_code != first:
        assert service.verify(code_member, first, ADMIN).reason == otp.WRONG_CODE
    assert service.verify(code_member, sender.last_code, ADMIN).ok
    assert actions(audit).count("otp.send") == 3  # two sent, one refused


def test_a_totp_code_cannot_be_replayed(
    service: OtpService, totp_member: Tuple[StaffMember, pyotp.TOTP], clock: FakeClock
) -> None:
    member, totp = totp_member
    code = totp.at(clock.now)
    assert service.verify(member, code, ADMIN, conversation_id="c1").ok
    assert service.verify(member, code, ADMIN, conversation_id="c2").reason == otp.REPLAYED
    previous = totp.at(clock.now - 30)  # within the drift window, but older than the step already used
    assert service.verify(member, previous, ADMIN).reason in (otp.REPLAYED, otp.WRONG_CODE)
    clock.now += 30
    assert service.verify(member, totp.at(clock.now), ADMIN).ok


def test_a_totp_code_from_another_time_is_refused(
    service: OtpService, totp_member: Tuple[StaffMember, pyotp.TOTP], clock: FakeClock
) -> None:
    member, totp = totp_member
    assert service.verify(member, totp.at(clock.now - 120), ADMIN).reason == otp.WRONG_CODE
    assert service.verify(member, "abc", ADMIN).reason == otp.MALFORMED


def test_failures_count_across_sessions_and_channels_and_lock_out(
    service: OtpService, totp_member: Tuple[StaffMember, pyotp.TOTP], clock: FakeClock, audit: AuditLog
) -> None:
    member, totp = totp_member
    settings = AdminSettings(lockout_failures=4, lockout_minutes=10)
    bad = wrong(totp.at(clock.now))
    sessions = [("whatsapp", "conv-a"), ("telegram", "conv-b")]
    results = [
        service.verify(member, bad, settings, channel=channel, conversation_id=conversation)
        for channel, conversation in sessions * 2
    ]
    assert [r.reason for r in results] == [otp.WRONG_CODE] * 3 + [otp.LOCKED]
    assert results[-1].locked_until == int(clock.now) + 600
    # While locked, even the right code fails, in any session.
    assert service.verify(member, totp.at(clock.now), settings, conversation_id="conv-c").reason == otp.LOCKED
    with pytest.raises(LockedOut):
        service.request(member, settings)
    assert actions(audit).count("otp.fail") == 4 and actions(audit).count("otp.lockout") == 1
    clock.now += 600
    assert service.verify(member, totp.at(clock.now), settings).ok
    # The count starts afresh after the lockout.
    assert service.verify(member, bad, settings).reason == otp.WRONG_CODE


def test_a_success_resets_the_failure_count(
    service: OtpService, code_member: StaffMember, sender: RecordingSender, clock: FakeClock
) -> None:
    settings = AdminSettings(lockout_failures=3, otp_attempts=10)
    service.request(code_member, settings)
    service.verify(code_member, wrong(sender.last_code), settings)
    service.verify(code_member, wrong(sender.last_code), settings)
    assert service.verify(code_member, sender.last_code, settings).ok
    clock.now += settings.resend_interval_seconds
    service.request(code_member, settings)
    service.verify(code_member, wrong(sender.last_code), settings)
    assert service.verify(code_member, wrong(sender.last_code), settings).reason == otp.WRONG_CODE


def test_clear_lifts_a_lockout(
    service: OtpService, totp_member: Tuple[StaffMember, pyotp.TOTP], clock: FakeClock
) -> None:
    member, totp = totp_member
    settings = AdminSettings(lockout_failures=3)
    used = totp.at(clock.now)
    assert service.verify(member, used, settings).ok
    clock.now += 30
    for _ in range(3):
        service.verify(member, wrong(totp.at(clock.now)), settings)
    assert service.locked_until(member) is not None
    service.clear(member, actor="cli")
    assert service.locked_until(member) is None
    assert service.verify(member, used, settings).reason == otp.REPLAYED  # clearing a lockout keeps replay protection
    assert service.verify(member, totp.at(clock.now), settings).ok


def test_a_failed_delivery_leaves_no_live_code(
    db: StateDB, directory: StaffDirectory, master: MasterKey, audit: AuditLog, windows: EditingWindows,
    code_member: StaffMember,
) -> None:
    class Broken:
        def send(self, contact: str, code: str, validity_seconds: int) -> None:
            raise ConnectionRefusedError("smtp down")

    service = OtpService(db, directory, master, audit, windows, sender=Broken())
    with pytest.raises(CodeNotSent):
        service.request(code_member, ADMIN)
    with pytest.raises(CodeNotSent, match="no code sender"):
        OtpService(db, directory, master, audit, windows).request(code_member, ADMIN)


def test_the_outbox_sender_writes_a_private_file(tmp_path, code_member: StaffMember) -> None:  # type: ignore[no-untyped-def]
    sender = otp.sender_from_env({otp.OUTBOX_ENV: str(tmp_path / "outbox.jsonl")})
    sender.send(CONTACT, "123456", 600)
    line = json.loads((tmp_path / "outbox.jsonl").read_text())
    assert line["to"] == CONTACT and "123456" in line["text"]
    assert (tmp_path / "outbox.jsonl").stat().st_mode & 0o077 == 0
    assert otp.sender_from_env({}) is None


def test_the_window_lasts_its_length_and_closes_when_idle(
    windows: EditingWindows, code_member: StaffMember, clock: FakeClock, audit: AuditLog
) -> None:
    settings = AdminSettings(window_seconds=3600, window_idle_seconds=1800)
    start = clock.now
    windows.open(code_member, "c1", settings)
    assert not windows.check(code_member.id, "c2")  # another conversation has no window
    for minutes in (29, 58, 59):
        assert windows.check(code_member.id, "c1", now=start + minutes * 60)
    assert not windows.check(code_member.id, "c1", now=start + 3600)  # the hour is over, activity or not
    assert not windows.check(code_member.id, "c1", now=start + 3601)

    windows.open(code_member, "c1", settings)
    assert not windows.check(code_member.id, "c1", now=clock.now + 1800)  # 30 minutes without activity
    windows.open(code_member, "c1", settings)
    assert windows.close(code_member.id, "c1")
    assert not windows.check(code_member.id, "c1")
    closes = [e.detail for e in audit.entries(action="admin.window.close")]
    assert closes == ["expired", "idle", "logout"]
    assert len(audit.entries(action="admin.window.open")) == 3


def test_removing_a_staff_member_ends_their_windows_and_otp_state(
    directory: StaffDirectory, service: OtpService, windows: EditingWindows, code_member: StaffMember,
    sender: RecordingSender,
) -> None:
    service.request(code_member, ADMIN)
    assert service.verify(code_member, sender.last_code, ADMIN, conversation_id="c1").ok
    directory.remove(code_member.name, actor="cli")
    assert not windows.check(code_member.id, "c1")
