"""GuardTurnPolicy predicts the guard action once per real customer message, never for reminders."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, ActionReverted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from plugin.server.turn_policy import needs_guard_turn


def tracker(*events) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("c1", [ActionExecuted("action_listen"), *events])


def test_a_customer_message_needs_the_guard_once() -> None:
    message = UserUttered("hi", {"name": "greet"})
    assert needs_guard_turn(tracker(message))
    assert not needs_guard_turn(tracker(message, ActionExecuted("action_guard_turn"), ActionReverted()))
    assert not needs_guard_turn(tracker(message, ActionExecuted("action_guard_turn"), ActionReverted(), ActionExecuted("utter_greet")))


def test_reminder_messages_and_empty_conversations_do_not() -> None:
    assert not needs_guard_turn(tracker(UserUttered.create_external("EXTERNAL_idle_warning", [])))
    assert not needs_guard_turn(tracker())
