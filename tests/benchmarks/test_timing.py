"""benchmarks/timing.py: throughput passes repeat until they have lasted long enough to be stable."""

from benchmarks import timing


def test_throughput_passes_repeat_until_the_minimum_time(monkeypatch):
    monkeypatch.setattr(timing, "MIN_THROUGHPUT_SECONDS", 0.05)
    seen = []
    messages = ["a", "b"]
    result = timing.time_calls(seen.append, messages, rounds=2)
    warm_up_and_timed = len(messages) * (1 + 2)
    throughput_calls = len(seen) - warm_up_and_timed
    assert throughput_calls > 10 * 2 * len(messages)  # a fast call needs many passes to fill 50 ms
    assert throughput_calls % (2 * len(messages)) == 0  # whole passes of every round
    assert result["calls"] == 2 * len(messages) and result["throughput_msg_s"] > 0
