"""``action_resolve_conversation``: mark the conversation resolved, so deferred redaction (``upon_resolve``) rewrites it,
and, with ``session.disconnect_after_resolve``, end the session (idle reminders cancelled, slots cleared).

The mark lands in ``rg_conversation_status`` in the plugin-state database; the redaction job (``python -m plugin
redact`` or the in-server scheduler) does the rewriting, under Rasa's conversation lock, never this action. An agent
system that hands a conversation back marks it the same way with ``python -m plugin resolve CONVERSATION_ID``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from rasa_sdk.events import SessionStarted

from plugin.actions.session import cancel_idle_reminders
from plugin.policy.guard import current_guard
from plugin.storage.transcripts import ConversationStatuses

logger = logging.getLogger(__name__)


class ActionResolveConversation(Action):
    """Thanks the customer and records the resolve (the conversation's channel decides whether it is redacted)."""

    def name(self) -> Text:
        return "action_resolve_conversation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        channel = tracker.get_latest_input_channel()
        try:
            ConversationStatuses(current_guard().state.db).mark_resolved(tracker.sender_id, channel=channel, by="bot")
        except Exception as error:  # noqa: BLE001 - the customer still gets an answer; the failure is logged
            logger.error("could not record the resolve of a conversation: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_resolved")
        if current_guard().settings(channel).session.disconnect_after_resolve:
            return [*cancel_idle_reminders(tracker.sender_id), SessionStarted()]
        return []
