"""Idle warning and timeout timers, restarted by the guarded channels on every customer message.

They live in Rasa's own process-wide scheduler (``rasa.core.jobs``), beside its reminders, named as Rasa names
reminder jobs, so an action's ``ReminderCancelled(name=reminder_name(...))`` (a blocked sender, a resolved
conversation) cancels them too. Restarting them costs two in-memory scheduler calls and no round trip to the action
server: this is why they are not scheduled by an action after every message. When a timer fires, the external intent
goes through Rasa under the conversation's lock, exactly as a Rasa reminder would, and ``action_idle_warning`` /
``action_idle_timeout`` check that the customer has really been silent. Timers die with the process; the lazy expiry
check of ``GuardTurnPolicy`` covers that.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Callable, Optional

from rasa.core import jobs
from rasa.core.channels.channel import OutputChannel
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import ReminderScheduled

from plugin.policy.idle import TIMER_KINDS, InvalidIdleTimers, plan_idle_timers, reminder_name
from plugin.policy.schema import Settings

logger = logging.getLogger(__name__)

ProcessorOf = Callable[[], Optional[MessageProcessor]]


async def restart_idle_timers(
    processor_of: ProcessorOf,
    sender_id: str,
    output_channel: Optional[OutputChannel],
    settings: Settings,
    now: Optional[float] = None,
) -> None:
    """Replace the conversation's warning and timeout timers by a pair counted from ``now`` (a customer message)."""
    try:
        planned = plan_idle_timers(
            time.time() if now is None else now, settings.session.idle_timeout_seconds, settings.session.warning_lead_seconds
        )
    except InvalidIdleTimers as error:
        logger.error("rasa-guard: idle timers not started: %s", error)
        return
    scheduler = await jobs.scheduler()
    for (kind, intent), at in zip(TIMER_KINDS, planned):
        timer = ReminderScheduled(
            intent, datetime.fromtimestamp(at, timezone.utc), name=reminder_name(kind, sender_id), kill_on_user_message=False
        )
        scheduler.add_job(
            fire_idle_timer,
            "date",
            run_date=timer.trigger_date_time,
            args=[processor_of, intent, sender_id, output_channel],
            id=timer.name,
            replace_existing=True,
            name=timer.scheduled_job_name(sender_id),
        )


async def fire_idle_timer(
    processor_of: ProcessorOf, intent: str, sender_id: str, output_channel: Optional[OutputChannel]
) -> None:
    """What Rasa does for a due reminder: the external intent runs through the bot under the conversation's lock."""
    processor = processor_of()
    if processor is None:
        logger.error("rasa-guard: an idle timer fired but no model is loaded; the lazy expiry check remains")
        return
    try:
        async with processor.lock_store.lock(sender_id):
            tracker = await processor.fetch_tracker_and_update_session(sender_id, output_channel)
            await processor.trigger_external_user_uttered(intent, {}, tracker, output_channel)
    except Exception as error:  # noqa: BLE001 - logged without details (they may hold conversation data)
        logger.error("rasa-guard: an idle timer could not run (%s); the lazy expiry check remains", type(error).__name__)
