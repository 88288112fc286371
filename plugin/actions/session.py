"""Session guard actions: blacklist at session start and on every turn, idle warning and idle timeout.

How "every turn" works in Rasa 3.6 without a round trip per message: ``plugin.server.turn_policy.GuardTurnPolicy``
makes the blacklist and idle-expiry decision inside the Rasa server and predicts ``action_guard_turn`` only when there
is something to do (a blocked sender, a session that expired while no timer was running). That action reverts its own
``ActionExecuted``, so rules and stories are unaffected. The idle timers themselves (``EXTERNAL_idle_warning`` /
``EXTERNAL_idle_timeout``, one pair per conversation) are restarted by the guarded channels on every customer message
(``plugin.server.idle_timers``) and reach ``action_idle_warning`` / ``action_idle_timeout`` through the rules in
``data/protection.yml``. Timers live in memory, so the same timeout is also found lazily: when a customer message
arrives after the idle timeout (counted from the last *customer* message; reminder events are not activity), the old
session is ended exactly as the timer would have, then the message is answered in a new one.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import (
    ActionExecuted,
    ActionReverted,
    BotUttered,
    FollowupAction,
    ReminderCancelled,
    SessionStarted,
    UserUtteranceReverted,
)
from rasa_sdk.executor import CollectingDispatcher

from plugin.actions.blacklist import find_block, refusal
from plugin.actions.context import (
    SESSION_START_METADATA_SLOT,
    channel_of,
    current_session,
    fresh_settings,
    guard_metadata_of,
    is_customer_message,
    latest_user_event,
    sealed_entry,
)
from plugin.policy.guard import current_guard
from plugin.policy.idle import TIMER_INTENTS, InvalidIdleTimers, plan_idle_timers, reminder_name, session_expired
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)

IDLE_NOTICE = "idle_timeout"
# A reminder may fire a little early relative to event timestamps written by another process.
CLOCK_TOLERANCE_S = 1.0
Event = Dict[Text, Any]


def last_customer_message_at(events: Sequence[Mapping[str, Any]]) -> Optional[float]:
    """Timestamp of the latest customer message among ``events`` (reminder-triggered messages do not count)."""
    for event in reversed(events):
        if is_customer_message(event) and event.get("timestamp") is not None:
            return float(event["timestamp"])
    return None


def cancel_idle_reminders(conversation_id: str) -> List[Event]:
    return [ReminderCancelled(name=reminder_name(kind, conversation_id)) for kind in TIMER_INTENTS]


def mark_for_redaction(conversation_id: str, channel: Optional[str], settings: Settings) -> None:
    """Under deferred masking an idle-closed conversation counts as resolved, so the redaction job rewrites it."""
    if settings.redaction.trigger == "off":
        return
    try:
        from plugin.storage.transcripts import ConversationStatuses

        ConversationStatuses(current_guard().state.db).mark_resolved(conversation_id, channel=channel, by="idle_timeout")
    except Exception as error:  # noqa: BLE001 - the session still ends; the redaction job's time trigger remains
        logger.error("rasa-guard: an idle-closed conversation could not be marked for redaction (%s)", type(error).__name__)


def end_idle_session(tracker: Tracker, channel: Optional[str], settings: Settings) -> List[Event]:
    """The timeout notice and a session reset (``SessionStarted`` clears every slot); audited, marked for redaction."""
    mark_for_redaction(tracker.sender_id, channel, settings)
    try:
        current_guard().state.audit.append("session.idle_timeout", outcome="ok", channel=channel)
    except Exception as error:  # noqa: BLE001
        logger.error("rasa-guard: an idle timeout could not be audited (%s)", type(error).__name__)
    return [BotUttered(text=settings.session.timeout_message, metadata={"rasa_guard_notice": IDLE_NOTICE}), SessionStarted()]


def _session_start_metadata(tracker: Tracker) -> Dict[str, Any]:
    return sealed_entry(tracker.get_slot(SESSION_START_METADATA_SLOT))


class ActionSessionStart(Action):
    """``action_session_start``: refuses a blacklisted sender and ends an idle-expired previous session."""

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Event]:
        verified = _session_start_metadata(tracker)
        channel = verified.get("channel") or channel_of(tracker)
        settings = fresh_settings(channel)
        block = find_block(tracker, channel, settings, verified)
        if block is not None:
            # The message that follows is reverted by action_guard_turn; the refusal goes out now.
            return [SessionStarted(), *refusal(block, tracker, channel, settings, "session start"), ActionExecuted("action_listen")]
        events: List[Event] = []
        previous = current_session(tracker.events)
        last = last_customer_message_at(previous)
        if last is not None and session_expired(last, time.time(), settings.session.idle_timeout_seconds):
            # Reminders were lost (e.g. a restart): end the expired session as the timeout reminder would have.
            events = [*end_idle_session(tracker, channel, settings)[:-1], *cancel_idle_reminders(tracker.sender_id)]
        return [*events, SessionStarted(), ActionExecuted("action_listen")]


class ActionGuardTurn(Action):
    """``action_guard_turn``: run first after a customer message when ``GuardTurnPolicy`` found a block or an expired
    session; it decides again on the action server's view (settings may have changed since), invisible to the policies."""

    def name(self) -> Text:
        return "action_guard_turn"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Event]:
        session = current_session(tracker.events)
        latest = latest_user_event(session)
        if latest is None or not is_customer_message(latest):
            return [ActionReverted()]
        verified = guard_metadata_of(latest)
        channel = verified.get("channel") or channel_of(tracker)
        settings = fresh_settings(channel)

        block = find_block(tracker, channel, settings, verified)
        if block is not None:
            return [
                UserUtteranceReverted(),  # the blocked message, its NLU result and any slot it filled are undone
                *refusal(block, tracker, channel, settings, "message"),
                *cancel_idle_reminders(tracker.sender_id),
                FollowupAction("action_listen"),
            ]

        now_at = float(latest.get("timestamp") or time.time())
        earlier = session[: max(i for i, e in enumerate(session) if e is latest)]
        last = last_customer_message_at(earlier)
        if last is not None and session_expired(last, now_at, settings.session.idle_timeout_seconds):
            # Lazy path (timers lost, e.g. after a restart): end the old session, then replay this message in a new one.
            return [*end_idle_session(tracker, channel, settings), ActionExecuted("action_listen"), _replayed(latest)]
        return [ActionReverted()]


def _replayed(event: Mapping[str, Any]) -> Event:
    replay = {k: copy.deepcopy(v) for k, v in event.items() if k in ("text", "parse_data", "input_channel", "metadata", "message_id")}
    replay["event"] = "user"
    return replay


def silent_until_due(tracker: Tracker, warning: bool) -> Optional[Tuple[Optional[str], Settings]]:
    """(channel, settings) when the customer has really been silent until the warning (or timeout) was due, else
    None: the customer wrote since (that message planned a new pair), or the session already ended."""
    session = current_session(tracker.events)
    last = last_customer_message_at(session)
    if last is None:
        return None
    customer = next((e for e in reversed(session) if is_customer_message(e)), None)
    channel = guard_metadata_of(customer).get("channel") or channel_of(tracker)
    settings = fresh_settings(channel)
    try:
        warning_at, timeout_at = plan_idle_timers(
            last, settings.session.idle_timeout_seconds, settings.session.warning_lead_seconds
        )
    except InvalidIdleTimers as error:
        logger.error("rasa-guard: idle reminder ignored: %s", error)
        return None
    if time.time() + CLOCK_TOLERANCE_S < (warning_at if warning else timeout_at):
        return None
    return channel, settings


class ActionIdleWarning(Action):
    """``action_idle_warning``: the configured warning, sent only to a customer who has been silent."""

    def name(self) -> Text:
        return "action_idle_warning"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Event]:
        due = silent_until_due(tracker, warning=True)
        if due is not None:
            dispatcher.utter_message(text=due[1].session.warning_message)
        return []


class ActionIdleTimeout(Action):
    """``action_idle_timeout``: the timeout message, then the session ends (slots cleared, redaction marked)."""

    def name(self) -> Text:
        return "action_idle_timeout"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[Event]:
        due = silent_until_due(tracker, warning=False)
        if due is None:
            return []
        channel, settings = due
        return [*end_idle_session(tracker, channel, settings), FollowupAction("action_listen")]
