"""Where the plugin's time goes in the served path: ``rasa_latency`` with the plugin's entry points timed.

Run from the repository root: ``.venv/bin/python -m benchmarks.overhead_stages [--messages N] [--warmup W]``.

Wraps each entry point of the plugin that a message passes through (the channel's masking, the idle timers,
``PIIMasker``, the per-turn check, the tracker store's masking and vault waits) with a timer, runs the
``rasa_latency`` benchmark, and prints each stage's calls and median and mean time per call, then the median over
messages of the guarded-minus-plain time beside the median of the stages' sum. The wrappers cost well under a
microsecond per call. Medians in the served path are often ten times a micro-benchmark's figure: Rasa's own steps
evict the plugin's code and data from the CPU caches between calls.
"""

from __future__ import annotations

import asyncio
import functools
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import rasa_latency  # noqa: E402

_calls: Dict[str, List[float]] = defaultdict(list)
_message = {"stages": 0.0, "depth": 0}  # time in outermost plugin stages since the current guarded message began
_per_message: List[float] = []


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    def finish(started: float) -> None:
        elapsed = time.perf_counter() - started
        _calls[label].append(elapsed)
        _message["depth"] -= 1
        if _message["depth"] == 0:
            _message["stages"] += elapsed

    if asyncio.iscoroutinefunction(function):
        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            _message["depth"] += 1
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                finish(started)

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        _message["depth"] += 1
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            finish(started)

    return timed


def _install() -> None:
    from rasa.core.agent import Agent

    import plugin.server.channel as channel
    import plugin.server.idle_timers as idle_timers
    import plugin.server.nlu as nlu
    import plugin.server.tracker_store as tracker_store
    import plugin.server.turn_policy as turn_policy
    from plugin.policy.guard import Guard

    stages = [
        (channel, "protected_user_message"), (Guard, "protect"), (channel, "seal_guard_entry"),
        (idle_timers, "note_customer_message"), (nlu.PIIMasker, "process"), (Guard, "wait_stored"),
        (turn_policy.TurnCheck, "guard_action_index"), (tracker_store.MaskingTrackerStore, "masked_copy"),
        (Guard, "wait_all_stored"), (tracker_store, "marked_as_stored"),
    ]
    for owner, name in stages:
        setattr(owner, name, _timed(f"{owner.__name__.rsplit('.', 1)[-1]}.{name}", getattr(owner, name)))
    handle = Agent.handle_message

    async def handle_message(agent: Any, message: Any) -> Any:
        guarded = isinstance(getattr(agent.tracker_store, "_tracker_store", agent.tracker_store),
                             tracker_store.MaskingTrackerStore)
        try:
            return await handle(agent, message)
        finally:
            if guarded:  # the guarded message began in protected_user_message, before this call
                _per_message.append(_message["stages"])
                _message["stages"] = 0.0

    Agent.handle_message = handle_message  # type: ignore[method-assign]


def main(argv: Sequence[str] = ()) -> int:
    _install()
    report = rasa_latency.report
    totals: Dict[str, Any] = {}

    def keep(title: str, plain: List[float], guarded: List[float]) -> None:
        report(title, plain, guarded)
        if title.startswith("all"):
            totals.update(plain=plain, guarded=guarded)

    rasa_latency.report = keep
    rasa_latency.main(list(argv))
    print(f"\n{'stage (guarded bot)':45} {'calls':>6} {'median us':>10} {'mean us':>10}")
    for label, times in sorted(_calls.items(), key=lambda item: -statistics.median(item[1]) * len(item[1])):
        print(f"{label:45} {len(times):6d} {statistics.median(times) * 1e6:10.1f} {statistics.fmean(times) * 1e6:10.1f}")
    measured = len(totals["guarded"])
    stages = _per_message[-measured:]
    differences = [g - p for g, p in zip(totals["guarded"], totals["plain"])]
    print(f"\nper message (median): guarded - plain {statistics.median(differences):.2f} ms, "
          f"plugin stages {statistics.median(stages) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
