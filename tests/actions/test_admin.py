"""The admin chat actions with rasa-sdk's real Tracker and CollectingDispatcher on a real temporary state database.

Messages are masked by the real ``Guard.protect`` first, exactly as the guarded channel does, so the actions see what
they see in production: masked text and PII entities whose values are vault tokens.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Dict, List, Optional

import pyotp
import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from plugin.policy.metadata_seal import sealed
from plugin.actions import admin
from plugin.actions.admin import ActionAdminCommand, ActionAdminConfirm, ActionAdminLogin, ActionAdminVerify
from plugin.policy.guard import Guard, set_current_guard
from plugin.policy.otp import EditingWindows, OtpService, sender_from_env
from plugin.policy.settings import load_privacy_config
from plugin.policy.staff import StaffDirectory
from plugin.storage.admin_conversations import CODE_MASKING_GRACE_SECONDS, AdminConversations
from plugin.storage.token_store import TokenStore

CHANNEL = "rest"
ADMIN_PHONE = "+31612345678"
ROUTES: Dict[str, Action] = {
    "admin_login": ActionAdminLogin(),
    "admin_code": ActionAdminVerify(),
    "affirm": ActionAdminConfirm(),
    "deny": ActionAdminConfirm(),
}


@pytest.fixture
def guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    monkeypatch.setenv("RASA_GUARD_OTP_OUTBOX", str(tmp_path / "outbox.jsonl"))
    guard = Guard(load_privacy_config(), poll_seconds=0)
    set_current_guard(guard)
    admin._services.clear()
    yield guard
    admin._services.clear()
    set_current_guard(None)


def directory(guard: Guard) -> StaffDirectory:
    return admin.services(guard).directory


def add_staff(guard: Guard, name: str, role: str, sender: str, method: str = "totp") -> Optional[str]:
    contact = f"{name}@example.com" if method == "code" else None
    enrolment = directory(guard).add(name, role, [(CHANNEL, sender)], otp_method=method, contact=contact, actor="test")
    return enrolment.secret


class Chat:
    """One conversation: each message is masked like the channel does, then routed to the admin action for its intent."""

    def __init__(self, guard: Guard, sender: str, metadata: Optional[Dict[str, Any]] = None) -> None:
        self.guard, self.sender, self.metadata = guard, sender, metadata or {}
        self.slots: Dict[str, Any] = {}

    def say(self, text: str, intent: str) -> List[str]:
        protected = self.guard.protect(
            text, CHANNEL, conversation_id=self.sender, awaiting_code=self.guard.awaiting_code(self.sender)
        )
        self.last_stored = protected.storage_text
        guard_data = sealed({"channel": CHANNEL, **self.metadata}, self.guard.metadata_seal_key())
        tracker = Tracker.from_dict(
            {
                "sender_id": self.sender,
                "slots": dict(self.slots),
                "latest_message": {"text": protected.nlu_text, "intent": {"name": intent}, "entities": list(protected.entities)},
                "events": [{"event": "user", "text": protected.storage_text, "metadata": {"rasa_guard": guard_data}}],
            }
        )
        dispatcher = CollectingDispatcher()
        action = ROUTES.get(intent, ActionAdminCommand())
        events = asyncio.run(action.run(dispatcher, tracker, {}))
        for event in events:
            if event.get("event") == "slot":
                self.slots[event["name"]] = event["value"]
        return [m.get("text") or m.get("response") for m in dispatcher.messages]

    def login(self, secret: str) -> List[str]:
        assert "authenticator app" in self.say("log in as admin", "admin_login")[0]
        return self.say(pyotp.TOTP(secret).now(), "admin_code")


def audit_actions(guard: Guard, action: str) -> List[Any]:
    return guard.state.audit.entries(action=action)


def test_a_customer_using_admin_phrases_gets_the_neutral_reply_and_is_audited(guard: Guard) -> None:
    add_staff(guard, "ann", "admin", ADMIN_PHONE)
    customer = Chat(guard, "+31687654321")
    for text, intent in [("log in as admin", "admin_login"), ("block +44", "admin_list_edit"),
                         ("show the masking settings", "admin_show"), ("yes", "affirm"), ("123456", "admin_code")]:
        assert customer.say(text, intent) == ["utter_default"]
    refused = audit_actions(guard, "admin.refused")
    assert len(refused) == 3 and all("not in the staff directory" in e.detail for e in refused)
    assert guard.state.settings_store.snapshot().flat == {}


def test_staff_rights_need_the_directory_channel_too(guard: Guard) -> None:
    """The same sender id on another channel is not the staff member (the channel comes from the trusted channel)."""
    add_staff(guard, "ann", "admin", ADMIN_PHONE)
    other = Chat(guard, ADMIN_PHONE)
    other.metadata = {"channel": "whatsapp"}
    assert other.say("log in as admin", "admin_login") == ["utter_default"]


def test_login_with_totp_opens_a_window_and_the_code_never_stays_raw(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.say("log in as admin", "admin_login")
    assert guard.awaiting_code(ADMIN_PHONE)
    code = pyotp.TOTP(secret).now()
    reply = chat.say(f"my code is {code}", "admin_code")
    assert "Verified, ann (admin)" in reply[0]
    assert code not in chat.last_stored and "#pinpuknr#" in chat.last_stored
    assert not guard.awaiting_code(ADMIN_PHONE)
    assert admin.services(guard).windows.check(directory(guard).get("ann").id, ADMIN_PHONE)


@pytest.mark.parametrize("separator", [" ", "-"])
def test_a_code_typed_in_groups_is_masked_and_accepted(guard: Guard, separator: str) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.say("log in as admin", "admin_login")
    code = pyotp.TOTP(secret).now()
    typed = f"{code[:3]}{separator}{code[3:]}"
    reply = chat.say(f"it is {typed}", "admin_code")
    assert chat.last_stored == "it is #pinpuknr#" and code[:3] not in chat.last_stored
    assert "Verified, ann (admin)" in reply[0]


def test_a_code_typed_after_the_request_expired_is_still_masked_for_a_while(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.say("log in as admin", "admin_login")
    conversations = admin.services(guard).conversations
    member_id = directory(guard).get("ann").id
    conversations.expect_code(ADMIN_PHONE, member_id, -1)  # the request's validity has just run out
    code = pyotp.TOTP(secret).now()
    assert chat.say(code, "admin_code") == ["utter_default"]  # no longer accepted
    assert chat.last_stored == "#pinpuknr#"  # but not stored as typed: an authenticator code is still valid
    conversations.expect_code(ADMIN_PHONE, member_id, -CODE_MASKING_GRACE_SECONDS - 1)
    assert not guard.awaiting_code(ADMIN_PHONE)  # after the grace period numbers are masked by the usual rules


def test_five_wrong_codes_lock_the_member_out(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    valid = {pyotp.TOTP(secret).at(pyotp.TOTP(secret).timecode(__import__("datetime").datetime.now()) * 30 + d) for d in (-30, 0, 30)}
    wrong = next(c for c in ("000000", "111111", "222222") if c not in valid)
    chat = Chat(guard, ADMIN_PHONE)
    chat.say("log in", "admin_login")
    replies = [chat.say(wrong, "admin_code")[0] for _ in range(5)]
    assert all("not right" in r for r in replies[:4])
    assert "locked" in replies[4]
    assert not guard.awaiting_code(ADMIN_PHONE)
    assert "locked" in chat.say("log in", "admin_login")[0]
    assert [e.action for e in audit_actions(guard, "otp.lockout")] == ["otp.lockout"]


def test_a_change_is_read_back_and_applied_only_after_yes(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    readback = chat.say("set the idle timeout to 20 minutes", "admin_set")[0]
    assert "session.idle_timeout_seconds (global): 900 → 1200" in readback and "(yes/no)" in readback
    assert chat.slots[admin.PENDING_SLOT] is True
    assert guard.settings().session.idle_timeout_seconds == 900
    assert "Done" in chat.say("yes", "affirm")[0]
    assert guard.settings().session.idle_timeout_seconds == 1200
    assert chat.slots[admin.PENDING_SLOT] is False
    [entry] = audit_actions(guard, "settings.change")
    assert (entry.actor, entry.role, entry.old_value, entry.new_value) == ("ann", "admin", "900", "1200")


def test_deny_discards_the_change(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    chat.say("turn on card neutralisation for whatsapp", "admin_set")
    assert "Cancelled" in chat.say("no", "deny")[0]
    assert "no change waiting" in chat.say("yes", "affirm")[0]
    assert guard.state.settings_store.snapshot().flat == {}


def test_blocking_a_masked_phone_number_reads_it_from_the_vault_and_shows_it_masked(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    readback = chat.say("block 06 12345678", "admin_list_edit")[0]
    assert "blacklist.phone_numbers" in readback and "12345678" not in readback and "**78" in readback
    chat.say("yes", "affirm")
    assert guard.settings().blacklist.phone_numbers == ("+31612345678",)
    assert "12345678" not in json.dumps([e.new_value for e in audit_actions(guard, "settings.change")])
    chat.say("unblock 06 12345678", "admin_list_edit")
    chat.say("yes", "affirm")
    assert guard.settings().blacklist.phone_numbers == ()


def test_ip_ranges_and_country_codes_and_emails(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    for text, intent in [("allow 10.0.0.0/8 for the API", "admin_list_edit"), ("block +44", "admin_list_edit"),
                         ("block noreply@example.com", "admin_list_edit"),
                         ("redact transcripts 24 hours after creation", "admin_set")]:
        assert "(yes/no)" in chat.say(text, intent)[0], text
        assert "Done" in chat.say("yes", "affirm")[0], text
    settings = guard.settings()
    assert settings.access.api_ip_allowlist == ("10.0.0.0/8",)
    assert settings.blacklist.country_codes == ("+44",)
    assert settings.blacklist.emails == ("noreply@example.com",)
    assert (settings.redaction.trigger, settings.redaction.hours) == ("time_based", 24)


def test_a_failed_validation_says_what_is_allowed(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    reply = chat.say("redact transcripts 6 hours after creation", "admin_set")[0]
    assert reply.startswith("Nothing changed") and "12" in reply and "72" in reply
    assert "I understand" in chat.say("make it nicer", "admin_set")[0]


@pytest.mark.parametrize(
    "role, text, intent, allowed",
    [
        ("agent", "allow 10.0.0.0/8 for the API", "admin_list_edit", False),
        ("agent", "block +44", "admin_list_edit", True),
        ("supervisor", "set the idle timeout to 10 minutes", "admin_set", True),
        ("supervisor", "set roles.edit.agent to blacklist, session", "admin_set", False),
        ("supervisor", "rotate the API token", "admin_rotate_token", False),
    ],
)
def test_permissions_follow_roles_edit(guard: Guard, role: str, text: str, intent: str, allowed: bool) -> None:
    secret = add_staff(guard, "bob", role, ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    reply = chat.say(text, intent)[0]
    if allowed:
        assert "(yes/no)" in reply
    else:
        assert reply.startswith("Not allowed") and f"a {role} may change" in reply
        [entry] = audit_actions(guard, "admin.refused")
        assert entry.actor == "bob" and "permission" in entry.detail


def test_commands_need_an_open_window_and_logout_closes_it(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    assert chat.say("block +44", "admin_list_edit") == [admin.LOGIN_HINT]
    chat.login(secret)
    chat.say("block +44", "admin_list_edit")
    assert chat.say("log out", "admin_logout") == ["You are logged out."]
    assert chat.say("yes", "affirm") == ["There is no change waiting for your confirmation."]
    assert chat.say("block +44", "admin_list_edit") == [admin.LOGIN_HINT]
    assert guard.settings().blacklist.country_codes == ()
    assert any("no open editing window" in e.detail for e in audit_actions(guard, "admin.refused"))


def test_the_window_ends_after_an_hour_or_30_idle_minutes(guard: Guard) -> None:
    now = [1_000_000.0]
    state = guard.state
    svc = admin.services(guard)
    windows = EditingWindows(state.db, state.audit, clock=lambda: now[0])
    otp = OtpService(state.db, svc.directory, state.master_key, state.audit, windows, sender=sender_from_env(), clock=lambda: now[0])
    admin._services[id(state)] = admin.Services(guard, svc.directory, windows, otp, AdminConversations(state.db), TokenStore(state.db, state.audit))
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.say("log in", "admin_login")
    assert "Verified" in chat.say(pyotp.TOTP(secret).at(now[0]), "admin_code")[0]
    for _ in range(2):  # activity every 25 minutes keeps it open ...
        now[0] += 25 * 60
        assert "Settings in force" in chat.say("show the session settings", "admin_show")[0]
    now[0] += 11 * 60  # ... but not beyond one hour
    assert chat.say("show the session settings", "admin_show") == [admin.LOGIN_HINT]
    chat.say("log in", "admin_login")
    chat.say(pyotp.TOTP(secret).at(now[0]), "admin_code")
    now[0] += 30 * 60  # 30 minutes without activity
    assert chat.say("show the session settings", "admin_show") == [admin.LOGIN_HINT]


def test_show_and_history_show_masked_values(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    assert "masking.long_number_digits: 9" in chat.say("show the masking settings", "admin_show")[0]
    chat.say("block 06 12345678", "admin_list_edit")
    chat.say("yes", "affirm")
    shown = chat.say("show the blacklist", "admin_show")[0]
    history = chat.say("show the last 10 changes", "admin_history")[0]
    assert "blacklist.phone_numbers" in shown and "blacklist.phone_numbers (global)" in history
    assert "12345678" not in shown + history and "ann" in history


def test_rotating_the_token_delivers_it_out_of_band_never_in_the_chat(guard: Guard, tmp_path: Path) -> None:
    add_staff(guard, "cas", "admin", ADMIN_PHONE, method="code")
    chat = Chat(guard, ADMIN_PHONE)
    assert "I sent a 6-digit code to" in chat.say("log in", "admin_login")[0]
    outbox = tmp_path / "outbox.jsonl"
    code = re.search(r"code is (\d{6})", json.loads(outbox.read_text().splitlines()[-1])["text"]).group(1)
    assert "Verified" in chat.say(code, "admin_code")[0]
    assert "(yes/no)" in chat.say("rotate the API token", "admin_rotate_token")[0]
    reply = chat.say("yes", "affirm")[0]
    token_line = json.loads(outbox.read_text().splitlines()[-1])
    token = re.search(r"API token: (\S+)", token_line["text"]).group(1)
    assert token_line["to"] == "cas@example.com" and token not in reply and "sent to" in reply
    assert TokenStore(guard.state.db, guard.state.audit).check(f"Bearer {token}").allowed


def test_totp_staff_are_told_to_rotate_on_the_server(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    assert "python -m plugin token rotate" in chat.say("rotate the API token", "admin_rotate_token")[0]


def test_admin_chat_is_refused_outside_the_management_allowlist(guard: Guard) -> None:
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE, metadata={"management_allowed": False})
    assert chat.say("log in", "admin_login") == ["Admin access is not allowed from this network."]
    assert any("management IP allowlist" in e.detail for e in audit_actions(guard, "admin.refused"))


def test_intent_shortcut_entities_are_not_read(guard: Guard) -> None:
    """``/admin_list_edit{"phone": "vlt_..."}`` carries no PIIMasker extractor: the value is never looked up."""
    secret = add_staff(guard, "ann", "admin", ADMIN_PHONE)
    chat = Chat(guard, ADMIN_PHONE)
    chat.login(secret)
    token = guard.vault.store("+447700900123", pii_type="phone", ttl_seconds=60)
    tracker = Tracker.from_dict(
        {
            "sender_id": ADMIN_PHONE, "slots": {},
            "latest_message": {"text": "block #phonenr#", "intent": {"name": "admin_list_edit"},
                               "entities": [{"entity": "phone", "value": token, "start": 6, "end": 15}]},
            "events": [{"event": "user", "metadata": {"rasa_guard": sealed({"channel": CHANNEL}, guard.metadata_seal_key())}}],
        }
    )
    dispatcher = CollectingDispatcher()
    asyncio.run(ActionAdminCommand().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["text"].startswith("Nothing changed")
    assert not audit_actions(guard, "vault.use") or all(e.actor != "ann" or "command" not in (e.detail or "") for e in audit_actions(guard, "vault.use"))
