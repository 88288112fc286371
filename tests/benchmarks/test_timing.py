"""benchmarks/timing.py: throughput passes repeat until they have lasted long enough to be stable, and throughput is
their median pass."""

from benchmarks import timing


def test_throughput_passes_repeat_until_the_minimum_time(monkeypatch):
    monkeypatch.setattr(timing, "MIN_THROUGHPUT_SECONDS", 0.05)
    seen = []
    messages = ["a", "b"]
    result = timing.time_calls(seen.append, messages, rounds=2)
    warm_up_and_timed = len(messages) * (1 + 2)
    throughput_calls = len(seen) - warm_up_and_timed
    assert throughput_calls > 10 * len(messages)  # a fast call needs many passes to fill 50 ms
    assert throughput_calls % len(messages) == 0  # whole passes over every message
    assert result["throughput_passes"] == throughput_calls / len(messages)
    assert result["calls"] == 2 * len(messages)
    low, mid, high = (result[key] for key in ("throughput_slowest_pass_msg_s", "throughput_msg_s", "throughput_fastest_pass_msg_s"))
    assert 0 < low <= mid <= high


def test_a_slow_call_still_runs_the_minimum_number_of_passes(monkeypatch):
    monkeypatch.setattr(timing, "MIN_THROUGHPUT_SECONDS", 0.0)
    seen = []
    result = timing.time_calls(seen.append, ["a"], rounds=1)
    assert result["throughput_passes"] == timing.MIN_PASSES == len(seen) - 2


def test_throughput_is_the_median_pass_so_one_stall_does_not_move_it(monkeypatch):
    """One message per pass; five throughput passes of 10 ms, one stalled to 100 ms: the median says 100 msg/s."""
    now = [0.0]
    pass_lengths = iter([0.01, 0.01, 0.1, 0.01, 0.01])
    calls = []

    def call(message: str) -> None:
        calls.append(message)
        if len(calls) > 2:  # after the warm-up call and the one timed latency round
            now[0] += next(pass_lengths)

    monkeypatch.setattr(timing, "MIN_THROUGHPUT_SECONDS", 0.0)
    monkeypatch.setattr(timing.time, "perf_counter", lambda: now[0])
    result = timing.time_calls(call, ["m"], rounds=1)
    assert result["throughput_passes"] == 5
    assert abs(result["throughput_msg_s"] - 100.0) < 1e-6
    assert abs(result["throughput_slowest_pass_msg_s"] - 10.0) < 1e-6
