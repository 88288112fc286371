"""The staff directory: exact identities per channel, no plaintext secrets or identities at rest, audited changes."""

from __future__ import annotations

import os
from typing import List

import pyotp
import pytest

from plugin.policy.audit import AuditLog
from plugin.policy.staff import (
    CODE,
    StaffDirectory,
    StaffError,
    StaffSecretError,
    UnknownStaff,
)
from plugin.storage.db import StateDB
from plugin.storage.keys import MasterKey
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)
from tests.storage.test_vault import FakeClock, audit, clock, master  # noqa: F401  (fixtures)

PHONE = "+31612345678"
CONTACT = "ann.admin@example.com"


@pytest.fixture
def directory(db: StateDB, master: MasterKey, audit: AuditLog, clock: FakeClock) -> StaffDirectory:
    return StaffDirectory(db, master, audit, clock=clock)


def actions(audit: AuditLog) -> List[str]:
    return [entry.action for entry in audit.entries()]


def test_add_enrols_totp_and_finds_the_member_by_exact_identity(directory: StaffDirectory) -> None:
    enrolment = directory.add("ann", "admin", [("whatsapp", f"whatsapp:{PHONE}"), ("telegram", "998877")], actor="cli")
    assert enrolment.uri is not None and enrolment.uri.startswith("otpauth://totp/rasa-guard:ann?secret=")
    assert pyotp.parse_uri(enrolment.uri).secret == enrolment.secret
    assert directory.totp_secret(enrolment.member.id) == enrolment.secret

    # Phone sender ids compare as E.164 whatever the notation; other ids compare exactly, per channel.
    assert directory.find_by_identity("whatsapp", "31612345678") == enrolment.member
    assert directory.find_by_identity("WhatsApp", "+31 6 1234 5678") == enrolment.member
    assert directory.find_by_identity("telegram", "998877") == enrolment.member
    assert directory.find_by_identity("telegram", "9988770") is None
    assert directory.find_by_identity("rest", "998877") is None
    assert directory.find_by_identity("sms", PHONE) is None


def test_nothing_personal_or_secret_is_stored_in_plain_text(directory: StaffDirectory, state_url: str) -> None:
    enrolment = directory.add("ann", "admin", [("whatsapp", PHONE)], actor="cli")
    directory.add("bob", "agent", [("telegram", "998877")], otp_method=CODE, contact=CONTACT, actor="cli")
    dump = repr(raw_sql(state_url, "SELECT * FROM rg_staff")) + repr(raw_sql(state_url, "SELECT * FROM rg_staff_identities"))
    for secret in (enrolment.secret, "12345678", "998877", "ann.admin"):
        assert secret not in dump
    assert enrolment.secret not in repr(enrolment)
    bob = directory.get("bob")
    assert bob.contact_shown == "a***@example.com"
    assert directory.contact(bob.id) == CONTACT
    assert directory.get("ann").identities == ("whatsapp:+31 6 **** **78",)


def test_secrets_do_not_open_under_another_master_key(
    db: StateDB, directory: StaffDirectory, audit: AuditLog
) -> None:
    member = directory.add("ann", "admin", [("whatsapp", PHONE)], actor="cli").member
    other = StaffDirectory(db, MasterKey(os.urandom(32)), audit)
    with pytest.raises(StaffSecretError, match="master key"):
        other.totp_secret(member.id)
    assert other.find_by_identity("whatsapp", PHONE) is None  # identity hashes are keyed too


def test_bad_requests_change_nothing(directory: StaffDirectory) -> None:
    with pytest.raises(StaffError, match="role must be one of"):
        directory.add("ann", "owner", [("whatsapp", PHONE)], actor="cli")
    with pytest.raises(StaffError, match="contact e-mail"):
        directory.add("ann", "admin", [("whatsapp", PHONE)], otp_method=CODE, actor="cli")
    with pytest.raises(StaffError, match="e-mail address"):
        directory.add("ann", "admin", [("whatsapp", PHONE)], otp_method=CODE, contact="+31612345678", actor="cli")
    with pytest.raises(StaffError, match="at least one"):
        directory.add("ann", "admin", [], actor="cli")
    directory.add("ann", "admin", [("whatsapp", PHONE)], actor="cli")
    with pytest.raises(StaffError, match="exists already|another staff member"):
        directory.add("bob", "agent", [("whatsapp", "0031612345678")], actor="cli")
    assert [m.name for m in directory.list()] == ["ann"]


def test_reset_issues_a_new_secret_and_remove_forgets_the_identities(directory: StaffDirectory, audit: AuditLog) -> None:
    first = directory.add("ann", "admin", [("whatsapp", PHONE)], actor="cli")
    second = directory.reset_secret("ann", actor="cli")
    assert second.secret != first.secret
    assert directory.totp_secret(first.member.id) == second.secret
    directory.remove("ann", actor="cli")
    assert directory.find_by_identity("whatsapp", PHONE) is None
    with pytest.raises(UnknownStaff):
        directory.get("ann")
    assert actions(audit) == ["staff.add", "staff.reset", "staff.remove"]
    assert all(entry.actor == "cli" for entry in audit.entries())
