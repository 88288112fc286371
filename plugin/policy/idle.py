"""Idle sessions: when to warn a silent customer and when the session times out.

Only real user messages restart the clock; the bot's own reminders and warnings must not, or a session would never end.
Times may be ``datetime`` objects or POSIX timestamps (Rasa event timestamps); results have the same type as the input.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, Mapping, Optional, Tuple, TypeVar, Union

Instant = TypeVar("Instant", datetime, float)

# The external intents the idle timers trigger; data/protection.yml maps them to action_idle_warning / _timeout.
WARNING_INTENT = "EXTERNAL_idle_warning"
TIMEOUT_INTENT = "EXTERNAL_idle_timeout"
TIMER_INTENTS: Dict[str, str] = {"warning": WARNING_INTENT, "timeout": TIMEOUT_INTENT}
EXTERNAL_PREFIX = "EXTERNAL: "  # Rasa's text of reminder and trigger_intent messages
EXTERNAL_FLAG = "is_external"  # Rasa's metadata flag on such messages


def is_customer_text(text: Optional[str], metadata: Optional[Mapping[str, Any]]) -> bool:
    """A user message typed by the customer, not one injected by a reminder or the trigger_intent API: only these
    count as activity."""
    return not (metadata or {}).get(EXTERNAL_FLAG) and not str(text or "").startswith(EXTERNAL_PREFIX)


def reminder_name(kind: str, conversation_id: str) -> str:
    """One warning and one timeout timer per conversation: the name carries the conversation, so each customer
    message replaces the pair, and an action's ``ReminderCancelled(name=...)`` cancels it."""
    return f"rasa_guard_idle_{kind}__{conversation_id}"


class InvalidIdleTimers(ValueError):
    """Idle timeout and warning lead that cannot be scheduled (the warning must come before the timeout)."""


def plan_idle_timers(last_user_message_at: Instant, idle_timeout_s: int, warning_lead_s: int) -> Tuple[Instant, Instant]:
    """``(warning_at, timeout_at)`` for a session whose last real user message was at ``last_user_message_at``."""
    if idle_timeout_s <= 0:
        raise InvalidIdleTimers(f"the idle timeout must be more than 0 seconds, got {idle_timeout_s}")
    if not 0 < warning_lead_s < idle_timeout_s:
        raise InvalidIdleTimers(
            f"the warning must come between 1 second and the idle timeout ({idle_timeout_s} s) before the timeout, "
            f"got {warning_lead_s} s; lower the warning lead or raise the timeout"
        )
    timeout_at = _add(last_user_message_at, idle_timeout_s)
    return _add(timeout_at, -warning_lead_s), timeout_at


def session_expired(last_real_user_message_at: Optional[Instant], now: Instant, idle_timeout_s: int) -> bool:
    """True once ``idle_timeout_s`` seconds have passed since the last real user message (None: nothing to expire)."""
    if idle_timeout_s <= 0:
        raise InvalidIdleTimers(f"the idle timeout must be more than 0 seconds, got {idle_timeout_s}")
    if last_real_user_message_at is None:
        return False
    return now >= _add(last_real_user_message_at, idle_timeout_s)  # type: ignore[operator]


def _add(instant: Union[datetime, float], seconds: int) -> Union[datetime, float]:
    if isinstance(instant, datetime):
        return instant + timedelta(seconds=seconds)
    return float(instant) + seconds
