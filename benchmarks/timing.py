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


MIN_THROUGHPUT_SECONDS = 1.0
"""Throughput passes repeat until they have run this long: one pass of a fast engine over 2,000 messages lasts ~0.01 s,
which one stall of a shared virtual machine can double; a slow one's single pass already lasts longer."""

MIN_PASSES = 5
"""Throughput is the median pass of at least this many, each over every message: a stall slows one pass, and the
median of several does not move with it (a total over all passes would, and did by up to 20 % between runs here)."""


def timed_pass(call: Callable[[str], Any], messages: Sequence[str]) -> float:
    """Seconds for one call per message, the calls not timed one by one: a throughput pass."""
    start = time.perf_counter()
    for message in messages:
        call(message)
    return time.perf_counter() - start


def time_calls(call: Callable[[str], Any], messages: Sequence[str], rounds: int) -> dict[str, float]:
    """Warm up once, then time every call over ``rounds`` passes (latency); throughput from separate passes over all
    messages that are not timed per call, at least ``MIN_PASSES`` and ``MIN_THROUGHPUT_SECONDS`` of them, as the
    median pass (and the slowest and fastest pass, to show the spread)."""
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
    passes: list[float] = []
    total_s = 0.0
    while len(passes) < MIN_PASSES or total_s < MIN_THROUGHPUT_SECONDS:
        passes.append(timed_pass(call, messages))
        total_s += passes[-1]
    latencies_us = sorted(ns / 1000 for ns in latencies_ns)
    return {
        "calls": float(len(latencies_us)),
        "median_us": statistics.median(latencies_us),
        "p99_us": percentile(latencies_us, 0.99),
        "mean_us": statistics.fmean(latencies_us),
        "max_us": latencies_us[-1],
        "throughput_msg_s": len(messages) / statistics.median(passes),
        "throughput_slowest_pass_msg_s": len(messages) / max(passes),
        "throughput_fastest_pass_msg_s": len(messages) / min(passes),
        "throughput_passes": float(len(passes)),
    }
