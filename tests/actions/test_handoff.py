"""Unit test of the handoff action with rasa-sdk's own tracker and dispatcher."""

import asyncio

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from plugin.actions import ActionHandoff


def test_handoff_answers_with_the_domain_response_and_marks_the_conversation() -> None:
    tracker = Tracker.from_dict({"sender_id": "c1", "slots": {}, "events": [], "latest_message": {"text": "human please"}})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionHandoff().run(dispatcher, tracker, {}))
    assert [m["response"] for m in dispatcher.messages] == ["utter_handoff"]
    assert events == [{"event": "slot", "timestamp": None, "name": "handoff_requested", "value": True}]
