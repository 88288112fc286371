"""Idle warning and timeout timers, kept by the guarded channels without any work per message beyond a dict write.

Each conversation has at most one pending timer in Rasa's own process-wide scheduler (``rasa.core.jobs``), named as
Rasa names reminder jobs, so an action's ``ReminderCancelled(name=reminder_name(...))`` (a blocked sender, a resolved
conversation) cancels it too. A customer message only records when it came; the pending timer is not moved (unless
it would now fire too late, e.g. after the timeout was shortened). When a timer fires it compares itself with the
latest customer message: too early, it re-arms for the right time; due, the external intent (``EXTERNAL_idle_warning``
then ``EXTERNAL_idle_timeout``) runs through the bot under the conversation's lock, as a Rasa reminder would, and
``action_idle_warning`` / ``action_idle_timeout`` check the silence once more on the tracker. Timers die with the
process; the lazy expiry check of ``GuardTurnPolicy`` covers that.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Optional

from rasa.core import jobs
from rasa.core.channels.channel import OutputChannel
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ReminderScheduled

from plugin.policy.idle import TIMEOUT_INTENT, TIMER_INTENTS, WARNING_INTENT, InvalidIdleTimers, plan_idle_timers, reminder_name
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)

ProcessorOf = Callable[[], Optional[MessageProcessor]]
# A timer this close to its due time counts as due (scheduler and clock jitter).
DUE_TOLERANCE_S = 0.5
# Conversations whose timers were cancelled by an action leave an entry behind; swept every so many messages.
SWEEP_EVERY = 1000
SWEEP_AFTER_S = 600.0


@dataclass(frozen=True)
class TimerStep:
    """What a firing timer does: run ``trigger`` (an intent) now, if any; then arm ``next_kind`` at ``next_at``."""

    trigger: Optional[str]
    next_kind: Optional[str]
    next_at: float = 0.0


def step_on_firing(kind: str, last_message_at: float, now: float, idle_timeout_s: int, warning_lead_s: int) -> TimerStep:
    """The decision of a timer of ``kind`` firing at ``now`` when the customer last wrote at ``last_message_at``."""
    warning_at, timeout_at = plan_idle_timers(last_message_at, idle_timeout_s, warning_lead_s)
    if kind == "warning":
        if now + DUE_TOLERANCE_S < warning_at:  # the customer wrote since this timer was armed
            return TimerStep(None, "warning", warning_at)
        return TimerStep(WARNING_INTENT, "timeout", timeout_at)
    if now + DUE_TOLERANCE_S < timeout_at:  # the customer answered the warning: a new cycle
        return TimerStep(None, "warning", warning_at)
    return TimerStep(TIMEOUT_INTENT, None)


@dataclass
class Activity:
    """The latest customer message of one conversation, and how to reach the bot and the customer from a timer."""

    at: float
    settings_of: Callable[[], Settings] = field(repr=False)
    processor_of: ProcessorOf = field(repr=False)
    output_channel: Optional[OutputChannel] = field(repr=False)


_activity: Dict[str, Activity] = {}
_noted = 0


async def note_customer_message(
    processor_of: ProcessorOf,
    sender_id: str,
    output_channel: Optional[OutputChannel],
    settings_of: Callable[[], Settings],
    now: Optional[float] = None,
) -> None:
    """Record a customer message; arm the conversation's warning timer unless one is pending that fires in time."""
    global _noted
    activity = Activity(time.time() if now is None else now, settings_of, processor_of, output_channel)
    _activity[sender_id] = activity
    _noted += 1
    if _noted % SWEEP_EVERY == 0:
        _sweep(activity.at)
    settings = settings_of()
    try:
        warning_at, _ = plan_idle_timers(activity.at, settings.session.idle_timeout_seconds, settings.session.warning_lead_seconds)
    except InvalidIdleTimers as error:
        logger.error("rasa-guard: idle timers not started: %s", error)
        return
    scheduler = await jobs.scheduler()
    pending = scheduler.get_job(reminder_name("warning", sender_id))
    if pending is not None and pending.next_run_time.timestamp() <= warning_at + DUE_TOLERANCE_S:
        return  # the usual case, one look-up: the pending warning fires in time and re-arms itself if early
    if scheduler.get_job(reminder_name("timeout", sender_id)) is not None:
        return  # the warning went out; the timeout timer will see this message and start a new cycle
    _arm(scheduler, sender_id, "warning", warning_at)


async def fire_idle_timer(sender_id: str, kind: str) -> None:
    """A timer is due: re-arm it if the customer wrote since, else run its intent through the bot and arm the next."""
    activity = _activity.get(sender_id)
    if activity is None:
        return
    settings = activity.settings_of()
    try:
        step = step_on_firing(
            kind, activity.at, time.time(), settings.session.idle_timeout_seconds, settings.session.warning_lead_seconds
        )
    except InvalidIdleTimers as error:
        logger.error("rasa-guard: idle timer ignored: %s", error)
        return
    if step.trigger is not None:
        await _run_intent(activity, sender_id, step.trigger)
    if step.next_kind is not None:
        _arm(await jobs.scheduler(), sender_id, step.next_kind, step.next_at)
    elif _activity.get(sender_id) is activity:  # the session is over, unless the customer wrote meanwhile
        del _activity[sender_id]


def _arm(scheduler: Any, sender_id: str, kind: str, at: float) -> None:
    name = reminder_name(kind, sender_id)
    # A run date already past would count as a missed run and never fire.
    due = datetime.fromtimestamp(max(at, time.time() + 0.05), timezone.utc)
    timer = ReminderScheduled(TIMER_INTENTS[kind], due, name=name, kill_on_user_message=False)
    scheduler.add_job(
        fire_idle_timer, "date", run_date=due, args=[sender_id, kind], id=name, replace_existing=True,
        name=timer.scheduled_job_name(sender_id),
    )


async def _run_intent(activity: Activity, sender_id: str, intent: str) -> None:
    """What Rasa does for a due reminder: the external intent runs through the bot under the conversation's lock."""
    processor = activity.processor_of()
    if processor is None:
        logger.error("rasa-guard: an idle timer fired but no model is loaded; the lazy expiry check remains")
        return
    try:
        async with processor.lock_store.lock(sender_id):
            tracker = await processor.fetch_tracker_and_update_session(sender_id, activity.output_channel)
            await processor.trigger_external_user_uttered(intent, {}, tracker, activity.output_channel)
    except Exception as error:  # noqa: BLE001 - logged without details (they may hold conversation data)
        logger.error("rasa-guard: an idle timer could not run (%s); the lazy expiry check remains", type(error).__name__)


def _sweep(now: float) -> None:
    for sender_id in [s for s, a in _activity.items() if now - a.at > a.settings_of().session.idle_timeout_seconds + SWEEP_AFTER_S]:
        del _activity[sender_id]
