"""Where the plugin's time goes in the served path: ``rasa_latency`` with the plugin's entry points timed.

Run from the repository root: ``.venv/bin/python -m benchmarks.overhead_stages [--messages N] [--warmup W]``.

Wraps each entry point of the plugin that a message passes through (the channel's masking, the idle timers,
``PIIMasker``, the per-turn check, the tracker store's masking, the vault writes) with a timer, runs the
``rasa_latency`` benchmark, and prints each stage's calls and median and mean time per call, then the median over
messages of the guarded-minus-plain time beside the median of the stages' sum. It also times Rasa's own steps
(fetching the tracker, NLU, each prediction, each action, saving) for both bots, per call and per message, so the
overhead outside the plugin's stages shows where it lands. The wrappers cost well under a microsecond per call.
Medians in the served path are often ten times a micro-benchmark's figure: Rasa's own steps evict the plugin's code
and data from the CPU caches between calls.
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
RASA_STEPS = ("get_tracker", "parse_message", "predict_next_with_tracker_if_should", "_run_action", "save_tracker")
_steps: Dict[str, Dict[str, List[float]]] = {"plain": defaultdict(list), "guarded": defaultdict(list)}
_handled = {"plain": 0, "guarded": 0}  # messages handled per bot
_current = {"kind": "plain"}  # the bot handling a message now
_per_message: List[float] = []


def _wrapped(function: Callable[..., Any], begin: Callable[[], None], finish: Callable[[float], None]) -> Callable[..., Any]:
    """``function`` (sync or async) with ``begin()`` before each call and ``finish(elapsed seconds)`` after it."""
    if asyncio.iscoroutinefunction(function):
        @functools.wraps(function)
        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            begin()
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                finish(time.perf_counter() - started)

        return timed_async

    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        begin()
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            finish(time.perf_counter() - started)

    return timed


def _timed(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Time one of the plugin's stages; only the outermost stage of a nest counts towards the message's sum."""
    def begin() -> None:
        _message["depth"] += 1

    def finish(elapsed: float) -> None:
        _calls[label].append(elapsed)
        _message["depth"] -= 1
        if _message["depth"] == 0:
            _message["stages"] += elapsed

    return _wrapped(function, begin, finish)


def _step_timer(label: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Time one of Rasa's steps for whichever bot is handling the current message."""
    return _wrapped(function, lambda: None, lambda elapsed: _steps[_current["kind"]][label].append(elapsed))


def _install() -> None:
    from rasa.core.agent import Agent
    from rasa.core.processor import MessageProcessor

    import plugin.server.channel as channel
    import plugin.server.idle_timers as idle_timers
    import plugin.server.nlu as nlu
    import plugin.server.tracker_store as tracker_store
    import plugin.server.turn_policy as turn_policy
    from plugin.policy.guard import Guard
    from plugin.storage.vault import Vault

    stages = [
        (channel, "protected_user_message"), (Guard, "protect"), (channel, "seal_guard_entry"),
        (idle_timers, "note_customer_message"), (nlu.PIIMasker, "process"),
        (turn_policy.TurnCheck, "guard_action_index"), (tracker_store.MaskingTrackerStore, "masked_copy"),
        (tracker_store, "marked_as_stored"), (Vault, "store_many"),
    ]
    for owner, name in stages:
        setattr(owner, name, _timed(f"{owner.__name__.rsplit('.', 1)[-1]}.{name}", getattr(owner, name)))
    for name in RASA_STEPS:
        setattr(MessageProcessor, name, _step_timer(name, getattr(MessageProcessor, name)))
    handle = Agent.handle_message

    async def handle_message(agent: Any, message: Any) -> Any:
        guarded = isinstance(getattr(agent.tracker_store, "_tracker_store", agent.tracker_store),
                             tracker_store.MaskingTrackerStore)
        kind = "guarded" if guarded else "plain"
        _current["kind"] = kind
        _handled[kind] += 1
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
    print(f"\n{'Rasa step':38} {'calls':>6} {'median plain':>13} {'guarded':>8} {'per message plain':>18} {'guarded':>8}"
          f" {'difference':>11}")
    for name in RASA_STEPS:
        plain, guarded = _steps["plain"][name], _steps["guarded"][name]
        if not plain or not guarded:
            continue
        per_plain, per_guarded = sum(plain) * 1e3 / _handled["plain"], sum(guarded) * 1e3 / _handled["guarded"]
        print(f"{name:38} {len(guarded):6d} {statistics.median(plain) * 1e3:10.2f} ms {statistics.median(guarded) * 1e3:8.2f}"
              f" {per_plain:15.2f} ms {per_guarded:8.2f} {(per_guarded - per_plain) * 1e3:+8.0f} us")
    measured = len(totals["guarded"])
    stages = _per_message[-measured:]
    differences = [g - p for g, p in zip(totals["guarded"], totals["plain"])]
    print(f"\nper message (median): guarded - plain {statistics.median(differences):.2f} ms, "
          f"plugin stages {statistics.median(stages) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
