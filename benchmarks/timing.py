"""Per-message latency and throughput, measured the same way for our engine and for Presidio.

Standard library only: ``presidio_runner.py`` imports it inside Presidio's throwaway virtualenv.
"""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any, Callable, Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        raise ValueError("percentile of no values: pass at least one measurement")
    rank = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


def time_calls(call: Callable[[str], Any], messages: Sequence[str], rounds: int) -> dict[str, float]:
    """Warm up once, then time every call over ``rounds`` passes; throughput from separate untimed-per-call passes."""
    for message in messages:
        call(message)
    gc.collect()
    latencies_ns = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        for message in messages:
            start = clock()
            call(message)
            latencies_ns.append(clock() - start)
    gc.collect()
    start = time.perf_counter()
    for _ in range(rounds):
        for message in messages:
            call(message)
    elapsed = time.perf_counter() - start
    latencies_us = sorted(ns / 1000 for ns in latencies_ns)
    return {
        "calls": float(len(latencies_us)),
        "median_us": statistics.median(latencies_us),
        "p99_us": percentile(latencies_us, 0.99),
        "mean_us": statistics.fmean(latencies_us),
        "max_us": latencies_us[-1],
        "throughput_msg_s": rounds * len(messages) / elapsed,
    }
