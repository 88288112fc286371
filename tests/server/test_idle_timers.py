"""Idle timers: at most one pending timer per conversation in Rasa's scheduler, not moved by ordinary messages,
re-armed when it fires too early, cancelled by the same ``ReminderCancelled`` events that cancel Rasa reminders.
Running the warning and the timeout through the bot is tested end to end (tests/e2e/test_protection.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from typing import Any, List

import pytest
from rasa.core import jobs
from rasa.shared.core.events import ReminderCancelled

from plugin.policy.idle import reminder_name
from plugin.policy.settings import parse_privacy_config, resolve
from plugin.server.idle_timers import TimerStep, fire_idle_timer, note_customer_message, step_on_firing

SETTINGS = resolve(parse_privacy_config({"session": {"idle_timeout_seconds": 60, "warning_lead_seconds": 20}}))


def pending(scheduler: Any, sender: str) -> List[Any]:
    return sorted((job for job in scheduler.get_jobs() if job.id.endswith(f"__{sender}")), key=lambda job: job.id)


def note(sender: str, at: float, settings: Any = SETTINGS) -> Any:
    return note_customer_message(lambda: None, sender, None, lambda: settings, now=at)


def test_a_firing_timer_decides_from_the_latest_customer_message() -> None:
    t = 1_000_000.0
    # silent until the warning: warn, then arm the timeout
    assert step_on_firing("warning", t, t + 40, 60, 20) == TimerStep("EXTERNAL_idle_warning", "timeout", t + 60)
    # the customer wrote at t + 30: too early, re-arm for the new warning time
    assert step_on_firing("warning", t + 30, t + 40, 60, 20) == TimerStep(None, "warning", t + 70)
    # silent until the timeout: the session ends, nothing more to arm
    assert step_on_firing("timeout", t, t + 60, 60, 20) == TimerStep("EXTERNAL_idle_timeout", None)
    # the customer answered the warning: a new cycle starts
    assert step_on_firing("timeout", t + 45, t + 60, 60, 20) == TimerStep(None, "warning", t + 85)


def test_ordinary_messages_do_not_move_the_pending_timer() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        first = time.time()
        await note("c1", first)
        await note("c2", first)
        [warning] = pending(scheduler, "c1")
        assert warning.id == reminder_name("warning", "c1")
        assert abs(warning.next_run_time.timestamp() - (first + 40)) < 1e-3
        await note("c1", first + 30)  # later warning: the pending one will re-arm itself when it fires
        [still] = pending(scheduler, "c1")
        assert still.next_run_time == warning.next_run_time
        assert len(pending(scheduler, "c2")) == 1

    asyncio.run(scenario())


def test_a_shorter_timeout_moves_the_pending_timer_forward() -> None:
    shorter = dataclasses.replace(SETTINGS, session=dataclasses.replace(SETTINGS.session, idle_timeout_seconds=30, warning_lead_seconds=10))

    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        first = time.time()
        await note("c1", first)
        await note("c1", first + 1, shorter)
        [warning] = pending(scheduler, "c1")
        assert abs(warning.next_run_time.timestamp() - (first + 1 + 20)) < 1e-3

    asyncio.run(scenario())


def test_a_timer_that_fires_too_early_re_arms_for_the_right_time() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        now = time.time()
        await note("c1", now - 50)  # the warning would have been due 10 s ago...
        await note("c1", now - 5)  # ...but the customer wrote 5 s ago
        await fire_idle_timer("c1", "warning")
        [warning] = pending(scheduler, "c1")
        assert warning.id == reminder_name("warning", "c1")
        assert abs(warning.next_run_time.timestamp() - (now - 5 + 40)) < 1e-3

    asyncio.run(scenario())


def test_a_message_after_the_warning_leaves_the_timeout_timer_to_start_the_next_cycle() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        now = time.time()
        await note("c1", now - 45)  # silent past the warning's time (40 s)
        scheduler.remove_job(reminder_name("warning", "c1"))  # as the scheduler does with a date job it runs
        await fire_idle_timer("c1", "warning")  # no model loaded: the warning is logged as not run; the timeout is armed
        [timeout] = pending(scheduler, "c1")
        assert timeout.id == reminder_name("timeout", "c1")
        await note("c1", now)  # the customer answers the warning: no second timer
        assert [job.id for job in pending(scheduler, "c1")] == [timeout.id]

    asyncio.run(scenario())


def test_an_actions_reminder_cancelled_events_cancel_the_timer() -> None:
    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        await note("c1", time.time())
        await note("c2", time.time())
        cancels = [ReminderCancelled(name=reminder_name(kind, "c1")) for kind in ("warning", "timeout")]
        # what Rasa's MessageProcessor._cancel_reminders does with an action's events
        for event in cancels:
            for job in scheduler.get_jobs():
                if event.cancels_job_with_name(job.name, "c1"):
                    scheduler.remove_job(job.id)
        assert pending(scheduler, "c1") == []
        assert len(pending(scheduler, "c2")) == 1
        await note("c1", time.time())  # the next customer message arms a timer again
        assert len(pending(scheduler, "c1")) == 1

    asyncio.run(scenario())


def test_impossible_timer_settings_start_nothing_and_say_why(caplog: pytest.LogCaptureFixture) -> None:
    # each value is in range on its own; together the warning would come at the start of the session
    bad = dataclasses.replace(SETTINGS, session=dataclasses.replace(SETTINGS.session, warning_lead_seconds=60))

    async def scenario() -> None:
        scheduler = await jobs.scheduler()
        with caplog.at_level(logging.ERROR):
            await note("c3", time.time(), bad)
        assert pending(scheduler, "c3") == []

    asyncio.run(scenario())
    assert "idle timers not started" in caplog.text and "warning lead" in caplog.text


def test_a_due_timer_without_a_loaded_model_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        await note("c4", time.time() - 45)
        with caplog.at_level(logging.ERROR):
            await fire_idle_timer("c4", "warning")

    asyncio.run(scenario())
    assert "no model is loaded" in caplog.text
