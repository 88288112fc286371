"""Runtime settings: resolution order with stored changes, versioning across processes, validation before any write."""

from __future__ import annotations

import json

import pytest

from plugin.policy.audit import AuditLog
from plugin.policy.permissions import PermissionDenied
from plugin.policy.settings import parse_privacy_config
from plugin.policy.validation import SettingsError
from plugin.storage.db import StateDB
from plugin.storage.settings_store import LiveSettings, SettingsStore, StaleChange
from tests.storage.backends import db, raw_sql, state_url  # noqa: F401  (fixtures)

CONFIG = parse_privacy_config(
    {
        "session": {"idle_timeout_seconds": 600},
        "blacklist": {"phone_numbers": ["06-12345678"]},
        "channels": {"whatsapp": {"session": {"idle_timeout_seconds": 300}}},
    }
)
PHONE_NATIONAL = "06-12345678"
PHONE_INTERNATIONAL = "+31 6 1234 5678"
OTHER_PHONE = "+31 20 794 0000"


@pytest.fixture
def store(db: StateDB) -> SettingsStore:
    return SettingsStore(db, AuditLog(db))


def change(store: SettingsStore, key: str, value: object, scope: str = "") -> int:
    return store.apply(store.propose(CONFIG, key, value, scope), actor="ann", role="admin")


def test_runtime_change_beats_the_file_and_a_channel_override_beats_both(store: SettingsStore) -> None:
    change(store, "session.idle_timeout_seconds", 1200)
    runtime = store.snapshot()
    assert runtime.resolve(CONFIG).session.idle_timeout_seconds == 1200
    assert runtime.resolve(CONFIG, "whatsapp").session.idle_timeout_seconds == 300  # file's channel override wins
    assert runtime.resolve(CONFIG, "telegram").session.idle_timeout_seconds == 1200

    change(store, "session.idle_timeout_seconds", 450, scope="whatsapp")
    runtime = store.snapshot()
    assert runtime.resolve(CONFIG, "whatsapp").session.idle_timeout_seconds == 450  # runtime channel change wins
    assert runtime.resolve(CONFIG).session.idle_timeout_seconds == 1200


def test_every_write_bumps_the_version_seen_by_a_second_process(store: SettingsStore, state_url: str) -> None:
    other = StateDB.open(state_url)
    try:
        second = SettingsStore(other, AuditLog(other))
        start = second.version()
        change(store, "redaction.trigger", "upon_resolve")
        assert second.version() == start + 1
        assert second.snapshot().resolve(CONFIG).redaction.trigger == "upon_resolve"
        store.reset(CONFIG, "redaction.trigger", actor="ann")
        assert second.version() == start + 2
        assert second.snapshot().resolve(CONFIG).redaction.trigger == "off"
    finally:
        other.close()


def test_on_sqlite_the_version_costs_no_query_until_a_change_is_signalled(
    store: SettingsStore, state_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not state_url.startswith("sqlite"):
        pytest.skip("the change signal is a file beside a SQLite state database")
    from sqlalchemy import event, update

    from plugin.storage import change_signal, settings_store

    other = StateDB.open(state_url)
    queries = []
    event.listen(other.engine, "before_cursor_execute", lambda *args: queries.append(1))
    try:
        second = SettingsStore(other, AuditLog(other))
        start = second.version()
        queries.clear()
        assert [second.version() for _ in range(50)] == [start] * 50 and queries == []
        change(store, "redaction.trigger", "upon_resolve")
        assert second.version() == start + 1  # seen at once, through the signal
        # a writer that died between its commit and its signal is caught up by the periodic re-read
        with other.write() as connection:
            connection.execute(update(settings_store.settings_version).values(version=start + 5))
        assert second.version() == start + 1
        monkeypatch.setattr(change_signal, "REVALIDATE_SECONDS", 0.0)
        assert second.version() == start + 5
    finally:
        other.close()


def test_a_refused_change_writes_nothing_and_names_the_allowed_range(store: SettingsStore, state_url: str) -> None:
    before = store.version()
    with pytest.raises(SettingsError, match=r"redaction.hours: must be between 12 and 72$"):
        store.propose(CONFIG, "redaction.hours", 100)
    proposal = store.propose(CONFIG, "redaction.hours", 48)  # valid, but only proposed
    assert proposal.shown_old == "24" and proposal.shown_new == "48"
    assert store.version() == before
    assert raw_sql(state_url, "SELECT COUNT(*) FROM rg_settings_changes") == [(0,)]
    assert store.history() == []


def test_a_global_change_that_breaks_a_channel_is_refused(store: SettingsStore) -> None:
    config = parse_privacy_config({"channels": {"sms": {"session": {"warning_lead_seconds": 600}}}})
    with pytest.raises(SettingsError, match="channel sms"):
        store.propose(config, "session.idle_timeout_seconds", 300)


def test_settings_outside_the_editable_groups_are_refused(store: SettingsStore) -> None:
    with pytest.raises(SettingsError, match="cannot be changed at run time"):
        store.propose(CONFIG, "storage.state_url", "sqlite:///elsewhere.db")
    with pytest.raises(SettingsError, match="unknown setting"):
        store.propose(CONFIG, "session.no_such_thing", 1)


def test_admins_cannot_remove_their_own_right_to_change_roles(store: SettingsStore) -> None:
    with pytest.raises(SettingsError, match="roles.edit.admin"):
        store.propose(CONFIG, "roles.edit", {"admin": ["session"]})


def test_role_is_checked_when_given(store: SettingsStore) -> None:
    with pytest.raises(PermissionDenied, match="agent may change: blacklist"):
        store.propose(CONFIG, "access.api_ip_allowlist", ["10.0.0.0/8"], role="agent")
    assert store.propose(CONFIG, "session.idle_timeout_seconds", 700, role="supervisor").new == 700


def test_a_change_applied_after_another_one_is_stale(store: SettingsStore) -> None:
    first = store.propose(CONFIG, "session.idle_timeout_seconds", 700)
    second = store.propose(CONFIG, "session.warning_lead_seconds", 60)
    store.apply(first, actor="ann")
    with pytest.raises(StaleChange):
        store.apply(second, actor="bob")
    assert store.snapshot().resolve(CONFIG).session.warning_lead_seconds == 120


def test_blacklist_entries_are_normalised_so_notation_makes_no_duplicate(store: SettingsStore) -> None:
    with pytest.raises(SettingsError, match="already contains"):
        store.add_to_list(CONFIG, "blacklist.phone_numbers", PHONE_INTERNATIONAL)
    store.apply(store.add_to_list(CONFIG, "blacklist.phone_numbers", OTHER_PHONE), actor="ann")
    assert store.snapshot().resolve(CONFIG).blacklist.phone_numbers == ("+31612345678", "+31207940000")  # stored normalised

    removal = store.remove_from_list(CONFIG, "blacklist.phone_numbers", "+31612345678")
    store.apply(removal, actor="ann")
    assert store.snapshot().resolve(CONFIG).blacklist.phone_numbers == ("+31207940000",)
    with pytest.raises(SettingsError, match="does not contain"):
        store.remove_from_list(CONFIG, "blacklist.phone_numbers", PHONE_NATIONAL)
    with pytest.raises(SettingsError, match="not a valid blacklist entry"):
        store.add_to_list(CONFIG, "blacklist.phone_numbers", "not a number")


def test_blacklist_values_are_masked_in_the_audit_trail(store: SettingsStore, state_url: str) -> None:
    store.apply(store.add_to_list(CONFIG, "blacklist.emails", "jan.jansen@example.com"), actor="ann", role="admin")
    store.apply(store.add_to_list(CONFIG, "blacklist.phone_numbers", OTHER_PHONE), actor="ann", role="admin")
    (email_entry, phone_entry) = store.history()
    assert email_entry.action == "settings.change" and email_entry.setting == "blacklist.emails"
    assert json.loads(email_entry.new_value) == ["j***@example.com"]
    assert json.loads(phone_entry.old_value) == ["+31 6 **** **78"]
    assert json.loads(phone_entry.new_value) == ["+31 6 **** **78", "+31 2 **** **00"]
    dump = " ".join(str(row) for row in raw_sql(state_url, "SELECT * FROM rg_audit_log"))
    assert "jan.jansen" not in dump and "7940000" not in dump and "12345678" not in dump


def test_custom_rule_patterns_and_context_words_are_masked_in_the_audit_trail(store: SettingsStore, state_url: str) -> None:
    # a rule written to hide one client's name and account word spells both out
    rule = {"name": "vip_client", "pattern": r"Smithson\s+Holdings", "tag": "#client#", "context_words": ["falconridge"]}
    store.apply(store.propose(CONFIG, "masking.custom_rules", [rule]), actor="ann", role="admin")
    (entry,) = store.history()
    (shown,) = json.loads(entry.new_value)
    assert shown["name"] == "vip_client" and shown["tag"] == "#client#"
    assert shown["pattern"] == "Sm" + "*" * (len(rule["pattern"]) - 4) + "gs" and shown["context_words"] == ["fa*******ge"]
    dump = " ".join(str(row) for row in raw_sql(state_url, "SELECT * FROM rg_audit_log"))
    assert "Smithson" not in dump and "falconridge" not in dump


def test_reset_drops_the_runtime_change_and_keys_under_it(store: SettingsStore) -> None:
    change(store, "masking.types.email", False)
    change(store, "masking.types", {"iban": False})
    types = store.snapshot().resolve(CONFIG).masking.types
    assert types["iban"] is False and types["email"] is True  # the parent change superseded the child
    change(store, "masking.types.phone", False)
    types = store.snapshot().resolve(CONFIG).masking.types
    assert types["iban"] is False and types["phone"] is False  # a child change merges into the parent change
    store.reset(CONFIG, "masking.types", actor="ann")
    assert all(store.snapshot().resolve(CONFIG).masking.types.values())
    with pytest.raises(SettingsError, match="no runtime change"):
        store.propose_reset(CONFIG, "masking.types")
    assert [e.action for e in store.history()][-1] == "settings.reset"


def test_live_settings_follow_the_database_after_the_poll_interval(store: SettingsStore) -> None:
    now = [0.0]
    live = LiveSettings(store, CONFIG, poll_seconds=2.0, clock=lambda: now[0])
    assert live.settings().session.idle_timeout_seconds == 600
    change(store, "session.idle_timeout_seconds", 900)
    now[0] = 1.0
    assert live.settings().session.idle_timeout_seconds == 600  # not polled yet
    now[0] = 2.5
    assert live.settings().session.idle_timeout_seconds == 900
    assert live.settings("whatsapp").session.idle_timeout_seconds == 300


def live_with_a_refused_version(store: SettingsStore, state_url: str) -> LiveSettings:
    """Live settings loaded with redaction.hours 48, whose stored change then stops validating (500), polled again."""
    now = [0.0]
    change(store, "redaction.hours", 48)
    live = LiveSettings(store, CONFIG, clock=lambda: now[0])
    raw_sql(state_url, "UPDATE rg_settings_changes SET value = '500'")
    raw_sql(state_url, "UPDATE rg_settings_version SET version = version + 1")
    now[0] = 10.0
    return live


def test_live_settings_keep_the_last_good_version_when_stored_changes_stop_validating(
    store: SettingsStore, state_url: str
) -> None:
    assert live_with_a_refused_version(store, state_url).settings().redaction.hours == 48



def test_a_refused_version_is_logged_while_log_masking_reads_the_settings(store: SettingsStore, state_url: str) -> None:
    # the refusal is logged inside the refresh; the plugin's log masking reads the settings on the same thread
    import logging
    import threading

    live = live_with_a_refused_version(store, state_url)
    seen = []

    class ReadsSettings(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            seen.append(live.settings().redaction.hours)
            return True

    reader = ReadsSettings()
    logger = logging.getLogger("plugin.storage.settings_store")
    logger.addFilter(reader)
    try:
        worker = threading.Thread(target=live.settings, daemon=True)
        worker.start()
        worker.join(timeout=10)
    finally:
        logger.removeFilter(reader)
    assert not worker.is_alive() and seen == [48]
