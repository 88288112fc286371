"""Idle timers: one warning/timeout pair per conversation in Rasa's scheduler, replaced by each customer message and
cancelled by the same ``ReminderCancelled`` events that cancel Rasa reminders. Firing is tested end to end
(tests/e2e/test_protection.py, through the callback channel)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, List

from rasa.core import jobs
from rasa.shared.core.events import ReminderCancelled

from plugin.policy.idle import reminder_name
from plugin.policy.settings import parse_privacy_config, resolve
from plugin.server.idle_timers import fire_idle_timer, restart_idle_timers

SETTINGS = resolve(parse_privacy_config({"session": {"idle_timeout_seconds": 60, "warning_lead_seconds": 20}}))


def scheduled(jobs_list: List[Any], sender: str) -> List[Any]:
    return sorted((job for job in jobs_list if job.id.endswith(f"__{sender}")), key=lambda job: job.id)


def test_each_customer_message_replaces_the_conversations_pair() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        first = time.time()
        await restart_idle_timers(lambda: None, "c1", None, SETTINGS, now=first)
        await restart_idle_timers(lambda: None, "c2", None, SETTINGS, now=first)
        await restart_idle_timers(lambda: None, "c1", None, SETTINGS, now=first + 30)
        timeout, warning = scheduled(scheduler.get_jobs(), "c1")
        assert (warning.id, timeout.id) == (reminder_name("warning", "c1"), reminder_name("timeout", "c1"))
        assert abs(warning.next_run_time.timestamp() - (first + 30 + 40)) < 1e-3
        assert abs(timeout.next_run_time.timestamp() - (first + 30 + 60)) < 1e-3
        assert len(scheduled(scheduler.get_jobs(), "c2")) == 2

    asyncio.run(scenario())


def test_an_actions_reminder_cancelled_events_cancel_the_timers() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        await restart_idle_timers(lambda: None, "c1", None, SETTINGS)
        await restart_idle_timers(lambda: None, "c2", None, SETTINGS)
        cancels = [ReminderCancelled(name=reminder_name(kind, "c1")) for kind in ("warning", "timeout")]
        # what Rasa's MessageProcessor._cancel_reminders does with an action's events
        for event in cancels:
            for job in scheduler.get_jobs():
                if event.cancels_job_with_name(job.name, "c1"):
                    scheduler.remove_job(job.id)
        assert scheduled(scheduler.get_jobs(), "c1") == []
        assert len(scheduled(scheduler.get_jobs(), "c2")) == 2

    asyncio.run(scenario())


def test_impossible_timer_settings_start_nothing_and_say_why(caplog) -> None:
    # each value is in range on its own; together the warning would come at the start of the session
    bad = dataclasses.replace(SETTINGS, session=dataclasses.replace(SETTINGS.session, warning_lead_seconds=60))

    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        with caplog.at_level(logging.ERROR):
            await restart_idle_timers(lambda: None, "c3", None, bad)
        assert scheduled(scheduler.get_jobs(), "c3") == []

    asyncio.run(scenario())
    assert "idle timers not started" in caplog.text and "warning lead" in caplog.text


def test_a_timer_firing_without_a_loaded_model_is_logged_not_raised(caplog) -> None:
    with caplog.at_level(logging.ERROR):
        asyncio.run(fire_idle_timer(lambda: None, "EXTERNAL_idle_warning", "c1", None))
    assert "no model is loaded" in caplog.text
