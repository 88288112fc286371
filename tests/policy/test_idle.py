"""Idle sessions: a warning before the timeout, expiry measured from the last real user message."""

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.idle import InvalidIdleTimers, plan_idle_timers, session_expired

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_warning_comes_lead_seconds_before_the_timeout() -> None:
    warning_at, timeout_at = plan_idle_timers(T0, idle_timeout_s=900, warning_lead_s=120)
    assert timeout_at == T0 + timedelta(seconds=900)
    assert warning_at == T0 + timedelta(seconds=780)


def test_rasa_float_timestamps_give_float_results() -> None:
    assert plan_idle_timers(1714564800.5, 900, 120) == (1714565580.5, 1714565700.5)
    assert session_expired(1714564800.0, 1714565700.0, 900)
    assert not session_expired(1714564800.0, 1714565699.9, 900)


@pytest.mark.parametrize("timeout,lead", [(900, 900), (900, 1000), (900, 0), (900, -5), (0, 0), (-1, 1)])
def test_warning_lead_must_fall_inside_the_timeout(timeout: int, lead: int) -> None:
    with pytest.raises(InvalidIdleTimers, match="idle timeout"):
        plan_idle_timers(T0, timeout, lead)


def test_session_expires_exactly_at_the_timeout() -> None:
    assert not session_expired(T0, T0 + timedelta(seconds=899), 900)
    assert session_expired(T0, T0 + timedelta(seconds=900), 900)
    assert session_expired(T0, T0 + timedelta(days=2), 900)


def test_a_session_without_user_messages_has_nothing_to_expire() -> None:
    assert not session_expired(None, T0, 900)


def test_invalid_timeout_is_refused_when_checking_expiry() -> None:
    with pytest.raises(InvalidIdleTimers):
        session_expired(T0, T0, 0)


@given(
    st.integers(min_value=2, max_value=86400).flatmap(
        lambda timeout: st.tuples(st.just(timeout), st.integers(min_value=1, max_value=timeout - 1))
    ),
    st.integers(min_value=0, max_value=200000),
)
def test_not_expired_at_the_warning_and_expired_at_the_timeout(timers, offset: int) -> None:
    timeout, lead = timers
    last = T0 + timedelta(seconds=offset)
    warning_at, timeout_at = plan_idle_timers(last, timeout, lead)
    assert last < warning_at < timeout_at
    assert not session_expired(last, warning_at, timeout)
    assert session_expired(last, timeout_at, timeout)
