"""``action_handoff``: tell the customer a human agent takes over and mark the conversation as handed over."""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

HANDOFF_SLOT = "handoff_requested"


class ActionHandoff(Action):
    """Hands the conversation to a human; the ``handoff_requested`` slot lets agent tooling find it."""

    def name(self) -> Text:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        dispatcher.utter_message(response="utter_handoff")
        return [SlotSet(HANDOFF_SLOT, True)]
