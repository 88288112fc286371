"""What an action may trust about the current turn: the guarded channel's own metadata, and the settings in force now.

``metadata["rasa_guard"]`` of a user message is trusted only when its seal verifies (``plugin.policy.metadata_seal``):
then rasa-guard's channel wrote it, and the client address and ``management_allowed`` found there were decided by the
server. Messages without a valid one (reminders, other channels, a client forging the entry through a stock channel)
get an empty mapping: callers must treat a missing key as "not allowed".
"""

from __future__ import annotations

import logging
from typing import Any, Dict, Iterable, List, Mapping, Optional

from rasa_sdk import Tracker

from plugin.policy.event_masking import GUARD_METADATA_KEY, SESSION_START_METADATA_SLOT
from plugin.policy.guard import current_guard
from plugin.policy.idle import is_customer_text
from plugin.policy.metadata_seal import verified_entry
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)


def is_customer_message(event: Mapping[str, Any]) -> bool:
    """A user event typed by the customer, not one injected by a reminder or the trigger_intent API."""
    return event.get("event") == "user" and is_customer_text(event.get("text"), event.get("metadata"))


def latest_user_event(events: Iterable[Mapping[str, Any]]) -> Optional[Mapping[str, Any]]:
    found = None
    for event in events:
        if event.get("event") == "user":
            found = event
    return found


def guard_metadata_of(event: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The channel-written ``rasa_guard`` entry of one user event ({} for reminders, unguarded channels, forgeries)."""
    if event is None or not is_customer_message(event):
        return {}
    return sealed_entry(event.get("metadata"))


def sealed_entry(metadata: Any) -> Dict[str, Any]:
    """The ``rasa_guard`` entry of some metadata when its seal verifies, else {}."""
    if not isinstance(metadata, Mapping) or metadata.get(GUARD_METADATA_KEY) is None:
        return {}  # nothing to verify: no need for the key (or the plugin state it comes from)
    return verified_entry(metadata, current_guard().metadata_seal_key()) or {}


def trusted_guard_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The channel's ``rasa_guard`` metadata of the latest user message: ``channel``, ``client_ip``,
    ``management_allowed`` (bool), ``nlu_text``, ``entities``. Empty when the latest message is not a customer's."""
    return guard_metadata_of(latest_user_event(tracker.events))


def management_allowed(tracker: Tracker) -> bool:
    """Whether the latest message came from an address in ``access.management_ip_allowlist`` (fail closed)."""
    return trusted_guard_metadata(tracker).get("management_allowed") is True


def channel_of(tracker: Tracker) -> Optional[str]:
    """The settings scope of the conversation: the guarded channel's name, else Rasa's input channel."""
    guarded = trusted_guard_metadata(tracker).get("channel")
    if not guarded:
        start = tracker.get_slot(SESSION_START_METADATA_SLOT)
        guarded = sealed_entry(start).get("channel")
    return str(guarded or tracker.get_latest_input_channel() or "") or None


def fresh_settings(channel: Optional[str]) -> Settings:
    """Settings in force for ``channel`` as of this instant: an admin's change applies to the very next message."""
    return current_guard().settings_now(channel)


def current_session(events: List[Mapping[str, Any]]) -> List[Mapping[str, Any]]:
    """The events after the latest ``session_started``."""
    for index in range(len(events) - 1, -1, -1):
        if events[index].get("event") == "session_started":
            return list(events[index + 1 :])
    return list(events)
