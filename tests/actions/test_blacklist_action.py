"""Blacklist enforcement by action_session_start and action_guard_turn: one refusal, nothing else, audited masked."""

from __future__ import annotations

import asyncio
import json

from rasa_sdk.executor import CollectingDispatcher

from plugin.actions.blacklist import NOTICE_KEY
from plugin.actions.session import ActionGuardTurn, ActionSessionStart
from plugin.policy.guard import current_guard
from tests.actions.guard_fixtures import action, now, tracker, use_settings, user  # noqa: F401

BLOCKED = "+442079460018"  # Ofcom drama-range London number: blocked by the +44 country code
MESSAGE = "We cannot help you here."


def run(action_instance, t):
    return asyncio.run(action_instance.run(CollectingDispatcher(), t, {}))


def settings(**blacklist):
    return {"blacklist": {"message": MESSAGE, **blacklist}}


def test_session_start_refuses_a_blocked_country_code_once(use_settings) -> None:
    use_settings(settings(country_codes=["+44"]))
    events = run(ActionSessionStart(), tracker(BLOCKED, [], slots={"session_started_metadata": {"rasa_guard": {"channel": "rest"}}}))
    assert [e["event"] for e in events] == ["session_started", "bot", "action"]
    assert events[1]["text"] == MESSAGE and events[1]["metadata"] == {NOTICE_KEY: "blacklist"}

    # the first message after the start is reverted silently: the refusal was already sent
    history = [action("action_session_start", now()), *events[:2], action("action_listen", now()), user("greet", now())]
    turn = run(ActionGuardTurn(), tracker(BLOCKED, history))
    assert [e["event"] for e in turn] == ["rewind", "cancel_reminder", "cancel_reminder", "followup"]
    assert turn[-1]["name"] == "action_listen"


def test_phone_numbers_match_in_any_notation_and_the_audit_entry_masks_the_number(use_settings) -> None:
    use_settings(settings(phone_numbers=["+31 6 12345678"]))
    turn = run(ActionGuardTurn(), tracker("0031612345678", [user("greet", now())]))
    assert [e["event"] for e in turn][:2] == ["rewind", "bot"]
    entry = current_guard().state.audit.entries(action="blacklist.block")[-1]
    shown = json.dumps(entry.__dict__ if hasattr(entry, "__dict__") else str(entry), default=str)
    assert "612345678" not in shown and "12345678" not in shown
    assert entry.outcome == "refused"


def test_email_domain_and_sender_id_entries_block_the_matching_sender_only(use_settings) -> None:
    use_settings(settings(emails=["@spam.example"], sender_ids=["bad-bot-7"]))
    assert run(ActionGuardTurn(), tracker("Someone@Mail.Spam.Example", [user("greet", now())]))[0]["event"] == "rewind"
    assert run(ActionGuardTurn(), tracker("bad-bot-7", [user("greet", now())]))[0]["event"] == "rewind"
    allowed = run(ActionGuardTurn(), tracker("good@other.example", [user("greet", now())]))
    assert allowed[0]["event"] == "undo"  # not blocked: the guard action only reverts itself and plans reminders


def test_a_runtime_blacklist_change_applies_to_the_very_next_message(use_settings) -> None:
    guard = use_settings(settings())
    sender = "+31612345678"
    assert run(ActionGuardTurn(), tracker(sender, [user("greet", now())]))[0]["event"] == "undo"
    store = guard.state.settings_store
    store.apply(store.add_to_list(guard.config, "blacklist.phone_numbers", "06 1234 5678"), actor="test-admin")
    assert run(ActionGuardTurn(), tracker(sender, [user("greet", now())]))[0]["event"] == "rewind"


def test_the_refusal_is_sent_again_after_the_sender_was_served_normally(use_settings) -> None:
    use_settings(settings(sender_ids=["s1"]))
    refused_before = [user("greet", 1.0), {"event": "bot", "text": MESSAGE, "metadata": {NOTICE_KEY: "blacklist"}},
                      action("action_listen", 2.0), user("greet", 3.0)]
    assert [e["event"] for e in run(ActionGuardTurn(), tracker("s1", refused_before))][1] != "bot"
    served_since = refused_before[:3] + [user("greet", 3.0), action("utter_greet", 4.0), action("action_listen", 5.0), user("greet", 6.0)]
    assert [e["event"] for e in run(ActionGuardTurn(), tracker("s1", served_since))][1] == "bot"
