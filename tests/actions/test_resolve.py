"""action_resolve_conversation ends the session only when session.disconnect_after_resolve is on."""

import asyncio
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from plugin.actions.resolve import ActionResolveConversation
from plugin.policy.guard import Guard, set_current_guard
from plugin.policy.settings import parse_privacy_config
from plugin.storage.transcripts import ConversationStatuses


@pytest.mark.parametrize("disconnect, expected", [(True, ["cancel_reminder", "cancel_reminder", "session_started"]), (False, [])])
def test_resolve_marks_the_conversation_and_disconnects_as_configured(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, disconnect: bool, expected: list
) -> None:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    guard = Guard(parse_privacy_config({"session": {"disconnect_after_resolve": disconnect}}))
    set_current_guard(guard)
    try:
        tracker = Tracker.from_dict({"sender_id": "c-9", "slots": {}, "latest_message": {},
                                     "events": [{"event": "user", "text": "solved, thanks", "input_channel": "rest"}]})
        events = asyncio.run(ActionResolveConversation().run(CollectingDispatcher(), tracker, {}))
        assert [e["event"] for e in events] == expected
        assert ConversationStatuses(guard.state.db).get("c-9") is not None
    finally:
        set_current_guard(None)
