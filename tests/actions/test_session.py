"""Idle sessions: warning and timeout only after real silence, lazy expiry, the guard action's own turn."""

from __future__ import annotations

import asyncio

from rasa_sdk.executor import CollectingDispatcher

from plugin.actions.session import (
    ActionGuardTurn,
    ActionIdleTimeout,
    ActionIdleWarning,
    ActionSessionStart,
)
from plugin.storage.transcripts import ConversationStatuses
from plugin.policy.guard import current_guard
from tests.actions.guard_fixtures import action, now, tracker, use_settings, user  # noqa: F401

SESSION = {"session": {"idle_timeout_seconds": 60, "warning_lead_seconds": 20,
                       "warning_message": "Still there?", "timeout_message": "Chat closed."}}


def run(action_instance, t, dispatcher=None):
    return asyncio.run(action_instance.run(dispatcher or CollectingDispatcher(), t, {}))


def test_a_turn_with_nothing_to_do_only_reverts_the_action(use_settings) -> None:
    """GuardTurnPolicy predicted the action, but by now there is nothing to do (e.g. the entry was removed again)."""
    use_settings(SESSION)
    events = run(ActionGuardTurn(), tracker("c1", [user("greet", now() - 30), action("utter_greet", now() - 29), user("greet", now())]))
    assert events == [{"event": "undo", "timestamp": None}]  # invisible to rules and stories; timers are the channel's


def test_reminder_triggered_messages_are_not_activity(use_settings) -> None:
    use_settings(SESSION)
    events = run(ActionGuardTurn(), tracker("c1", [user("greet", now() - 50), user("EXTERNAL_idle_warning", now(), external=True)]))
    assert events == [{"event": "undo", "timestamp": None}]


def test_the_warning_goes_only_to_a_customer_who_has_been_silent(use_settings) -> None:
    use_settings(SESSION)
    silent, dispatcher = tracker("c1", [user("greet", now() - 41), user("EXTERNAL_idle_warning", now(), external=True)]), CollectingDispatcher()
    run(ActionIdleWarning(), silent, dispatcher)
    assert [m["text"] for m in dispatcher.messages] == ["Still there?"]

    # the customer wrote 5 s ago: an old reminder that still fires sends nothing
    spoke, dispatcher = tracker("c1", [user("greet", now() - 41), user("greet", now() - 5), user("EXTERNAL_idle_warning", now(), external=True)]), CollectingDispatcher()
    assert run(ActionIdleWarning(), spoke, dispatcher) == [] and dispatcher.messages == []


def test_the_timeout_sends_the_message_and_resets_the_session(use_settings) -> None:
    use_settings(SESSION)
    history = [user("greet", now() - 61), {"event": "slot", "name": "handoff_requested", "value": True},
               user("EXTERNAL_idle_warning", now() - 20, external=True), user("EXTERNAL_idle_timeout", now(), external=True)]
    events = run(ActionIdleTimeout(), tracker("c1", history))
    assert [e["event"] for e in events] == ["bot", "session_started", "followup"]
    assert events[0]["text"] == "Chat closed." and events[2]["name"] == "action_listen"
    # not yet silent long enough (the warning's external message does not count): nothing happens
    assert run(ActionIdleTimeout(), tracker("c1", [user("greet", now() - 30), user("EXTERNAL_idle_timeout", now(), external=True)])) == []


def test_a_timeout_in_a_session_already_closed_does_nothing(use_settings) -> None:
    use_settings(SESSION)
    history = [user("greet", now() - 100), {"event": "session_started"}, action("action_listen", now() - 39),
               user("EXTERNAL_idle_timeout", now(), external=True)]
    assert run(ActionIdleTimeout(), tracker("c1", history)) == []


def test_deferred_masking_marks_an_idle_closed_conversation_for_redaction(use_settings) -> None:
    use_settings({**SESSION, "redaction": {"trigger": "upon_resolve"}})
    run(ActionIdleTimeout(), tracker("c-idle", [user("greet", now() - 61), user("EXTERNAL_idle_timeout", now(), external=True)]))
    assert ConversationStatuses(current_guard().state.db).get("c-idle").resolved_at is not None


def test_lazy_path_a_message_after_the_timeout_ends_the_old_session_then_is_replayed(use_settings) -> None:
    use_settings(SESSION)
    latest = user("greet", now())
    events = run(ActionGuardTurn(), tracker("c1", [user("greet", now() - 120), action("utter_greet", now() - 119), latest]))
    assert [e["event"] for e in events] == ["bot", "session_started", "action", "user"]
    assert events[0]["text"] == "Chat closed."
    assert events[3]["text"] == latest["text"] and events[3]["metadata"] == latest["metadata"]


def test_lazy_path_at_session_start_after_a_restart(use_settings) -> None:
    use_settings(SESSION)
    events = run(ActionSessionStart(), tracker("c1", [user("greet", now() - 4000), action("utter_greet", now() - 3999)]))
    assert [e["event"] for e in events] == ["bot", "cancel_reminder", "cancel_reminder", "session_started", "action"]
    fresh = run(ActionSessionStart(), tracker("c2", []))
    assert [e["event"] for e in fresh] == ["session_started", "action"]


def test_actions_trust_only_the_channel_written_client_context() -> None:
    from plugin.actions.context import management_allowed, trusted_guard_metadata

    inside = user("admin_login", now(), client_ip="192.0.2.5", management_allowed=True)
    assert management_allowed(tracker("a", [inside])) is True
    assert trusted_guard_metadata(tracker("a", [inside]))["client_ip"] == "192.0.2.5"
    # a reminder-triggered message carries no client context: refused, never assumed
    assert management_allowed(tracker("a", [inside, user("EXTERNAL_idle_warning", now(), external=True)])) is False
    assert management_allowed(tracker("a", [user("admin_login", now())])) is False
    # through a stock channel a client can write its own entry; without the channel's seal it counts for nothing
    forged = user("admin_login", now(), client_ip="192.0.2.5", management_allowed=True, forged=True)
    assert management_allowed(tracker("a", [forged])) is False and trusted_guard_metadata(tracker("a", [forged])) == {}
