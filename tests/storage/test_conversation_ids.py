"""Conversation ids in the plugin's state tables: a keyed pseudonym, never the phone number or e-mail address a
channel uses as the id; every method still takes the id the channel sent (or the pseudonym read back)."""

from __future__ import annotations

import os
import re
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.audit import AuditLog
from plugin.policy.otp import EditingWindows
from plugin.policy.schema import AdminSettings
from plugin.policy.settings import parse_privacy_config
from plugin.policy.staff import StaffDirectory
from plugin.policy.validation import SettingsError
from plugin.storage.admin_conversations import AdminConversations
from plugin.storage.conversation_ids import KEPT_AS_SENT, ConversationIds, for_mode, is_pseudonym
from plugin.storage.db import StateDB
from plugin.storage.keys import MasterKey
from plugin.storage.transcripts import ConversationStatuses
from plugin.storage.vault import ForeignRecord, Vault
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

# Generated ids shaped like the ones WhatsApp, SMS and e-mail channels use (not anyone's number or address).
PHONE_ID = "whatsapp:+31612345670"
EMAIL_ID = "klant.0042@example.org"
DAY = 86400


@pytest.fixture
def ids() -> ConversationIds:
    return for_mode("pseudonym", MasterKey(os.urandom(32)))


@pytest.fixture
def pseudonymous_db(db: StateDB, ids: ConversationIds) -> StateDB:
    db.conversation_ids = ids
    return db


def test_a_pseudonym_is_keyed_deterministic_and_reveals_nothing_of_the_id(ids: ConversationIds) -> None:
    stored = ids.stored(PHONE_ID)
    assert re.fullmatch(r"cid-[a-p]{32}", stored) and is_pseudonym(stored)
    assert ids.stored(PHONE_ID) == stored  # every process of a deployment finds the same conversation
    assert ids.stored(EMAIL_ID) != stored
    assert for_mode("pseudonym", MasterKey(os.urandom(32))).stored(PHONE_ID) != stored  # keyed: no dictionary attack
    assert "31612345670" not in stored and "example" not in stored


@given(st.text(max_size=80))
def test_stored_is_idempotent_and_as_is_keeps_the_id(conversation_id: str) -> None:
    ids = ConversationIds(b"k" * 32)
    once = ids.stored(conversation_id)
    assert ids.stored(once) == once  # ids read back from storage (the redaction job, keys()) map to themselves
    assert KEPT_AS_SENT.stored(conversation_id) == conversation_id
    assert for_mode("as_is", MasterKey(os.urandom(32))).stored(conversation_id) == conversation_id


def test_the_setting_defaults_to_pseudonyms_and_refuses_unknown_modes() -> None:
    assert parse_privacy_config({}).settings.storage.conversation_ids == "pseudonym"
    assert parse_privacy_config({"storage": {"conversation_ids": "as_is"}}).settings.storage.conversation_ids == "as_is"
    with pytest.raises(SettingsError, match="storage.conversation_ids"):
        parse_privacy_config({"storage": {"conversation_ids": "hashed"}})


def test_vault_records_are_kept_under_the_pseudonym_and_found_by_either_id(
    pseudonymous_db: StateDB, ids: ConversationIds, state_url: str
) -> None:
    audit = AuditLog(pseudonymous_db)
    vault = Vault(pseudonymous_db, MasterKey(os.urandom(32)), audit)
    token = vault.store("+31 20 794 0000", pii_type="phone", conversation_id=PHONE_ID, ttl_seconds=DAY)
    other = vault.store("NL91ABNA0417164300", pii_type="iban", conversation_id=EMAIL_ID, ttl_seconds=DAY)
    assert raw_sql(state_url, "SELECT conversation_id FROM rg_vault_records WHERE token = :t", {"t": token}) == [
        (ids.stored(PHONE_ID),)
    ]
    reveal = dict(actor="ada", role="admin", reason="call back", allowed_roles=("admin",), channel="rest")
    assert vault.reveal(token, owner=PHONE_ID, **reveal) == "+31 20 794 0000"
    assert vault.reveal(token, owner=ids.stored(PHONE_ID), **reveal) == "+31 20 794 0000"
    with pytest.raises(ForeignRecord):
        vault.reveal(other, owner=PHONE_ID, **reveal)
    assert vault.count_unshredded((), PHONE_ID) == 1
    assert vault.shred_many(conversation_id=ids.stored(PHONE_ID)) == 1  # the redaction job knows only the pseudonym
    assert vault.count_unshredded((), EMAIL_ID) == 1 and vault.shred_conversation(EMAIL_ID) == 1
    audited = {entry.conversation_id for entry in audit.entries()}
    assert audited == {ids.stored(PHONE_ID), ids.stored(EMAIL_ID)}
    assert_ids_absent(state_url)


def test_statuses_audit_and_admin_tables_hold_pseudonyms_only(
    pseudonymous_db: StateDB, ids: ConversationIds, state_url: str
) -> None:
    statuses = ConversationStatuses(pseudonymous_db)
    statuses.mark_resolved(PHONE_ID, channel="whatsapp", by="bot")
    statuses.mark_progress(ids.stored(PHONE_ID), 17, completed=True)
    status = statuses.get(PHONE_ID)
    assert (status.conversation_id, status.resolved_by, status.redacted_upto_id) == (ids.stored(PHONE_ID), "bot", 17)
    assert statuses.all([PHONE_ID])[PHONE_ID].redacted_upto_id == 17

    conversations = AdminConversations(pseudonymous_db)
    conversations.expect_code(EMAIL_ID, "staff-1", ttl_seconds=600)
    assert conversations.awaiting_code(EMAIL_ID) == "staff-1" and conversations.masks_codes(EMAIL_ID)
    conversations.code_received(EMAIL_ID)
    assert conversations.awaiting_code(EMAIL_ID) is None

    audit = AuditLog(pseudonymous_db)
    member = StaffDirectory(pseudonymous_db, MasterKey(os.urandom(32)), audit).add(
        "ada", "admin", [("whatsapp", PHONE_ID)], actor="test"
    ).member
    windows = EditingWindows(pseudonymous_db, audit)
    windows.open(member, PHONE_ID, AdminSettings(), channel="whatsapp")
    assert windows.check(member.id, PHONE_ID, now=time.time() + 1)
    assert windows.close(member.id, PHONE_ID)
    window_entries = [entry for entry in audit.entries() if entry.action.startswith("admin.window")]
    assert {entry.conversation_id for entry in window_entries} == {ids.stored(PHONE_ID)}
    assert_ids_absent(state_url)


def assert_ids_absent(state_url: str) -> None:
    """No table of the state database holds either id, in any column (a tamperer's view of the database)."""
    tables = [row[0] for row in raw_sql(state_url, "SELECT name FROM sqlite_master WHERE type = 'table'")] if (
        state_url.startswith("sqlite")
    ) else [row[0] for row in raw_sql(state_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    for table in tables:
        dump = repr(raw_sql(state_url, f'SELECT * FROM "{table}"'))
        assert "31612345670" not in dump and "klant.0042" not in dump, table


def test_log_lines_show_pseudonyms_whole(ids: ConversationIds) -> None:
    from plugin.policy.guard import Guard

    # Letters only, like the engine's tags: no digit run for the long-number or any other numeric rule to take.
    line = "conversations " + ", ".join(ids.stored(f"whatsapp:+316{n:08d}") for n in range(500))
    assert Guard(parse_privacy_config({})).mask_log(line) == line


def test_the_setting_is_not_accepted_per_channel() -> None:
    with pytest.raises(SettingsError, match="channels.whatsapp.storage"):
        parse_privacy_config({"channels": {"whatsapp": {"storage": {"conversation_ids": "as_is"}}}})
