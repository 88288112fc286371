"""Per-message latency of the reference bot with and without rasa-guard, in one run.

Run from the repository root: ``.venv/bin/python -m benchmarks.rasa_latency [--messages N] [--warmup W]``.

Two in-process Rasa agents answer the same generated chat messages (mostly without PII, as in real traffic),
alternating message by message so both see the same machine load:
- *plain*: the bot's config without ``PIIMasker`` and ``GuardTurnPolicy``, Rasa's own SQL tracker store (SQLite),
  messages as typed;
- *guarded*: the bot as shipped: ``PIIMasker`` first, ``GuardTurnPolicy`` (blacklist and idle-expiry check per
  message, in the Rasa process), ``MaskingTrackerStore`` around the same kind of SQL store, and each message handled
  as the guarded channel does: masked (``protected_user_message``, vault writes included) and its idle timers
  restarted (``restart_idle_timers``) before the agent gets it.
Both use the same real action server. Each agent keeps its own conversations, a new one every 10 messages.
Prints median and p99 per message and the overhead of the plugin; target: at most +3 % on the median.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, List

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus  # noqa: E402
from tests import harness  # noqa: E402

MEDIAN_OVERHEAD_TARGET = 0.03


def plain_model(workdir: Path) -> Path:
    """The same bot trained without the plugin's NLU component (cached by Rasa's training cache)."""
    config = (harness.ROOT / "config.yml").read_text()
    plugin_lines = ("PIIMasker", "GuardTurnPolicy", "rasa-guard")
    plain = "\n".join(line for line in config.splitlines() if not any(mark in line for mark in plugin_lines))
    config_path = workdir / "config-plain.yml"
    config_path.write_text(plain + "\n")
    out = harness.MODEL_DIR / "bench-plain.tar.gz"
    import subprocess

    subprocess.run(
        [harness.RASA, "train", "--config", str(config_path), "--domain", "domain.yml", "--data", "data",
         "--out", str(harness.MODEL_DIR), "--fixed-model-name", "bench-plain"],
        cwd=harness.ROOT, env=harness.subprocess_env(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )
    return out


def percentile(values: List[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=600, help="measured messages per agent (default 600)")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured messages per agent first (default 40)")
    args = parser.parse_args(argv)

    workdir = Path(tempfile.mkdtemp(prefix="rasa-latency-"))
    os.environ["RASA_GUARD_STATE_URL"] = f"sqlite:///{workdir / 'state.db'}"
    os.environ["RASA_GUARD_CONFIG"] = str(harness.ROOT / "privacy.yml")
    os.environ.update(harness.QUIET_ENV)
    print("training / reusing models ...", file=sys.stderr)
    guarded_model = harness.trained_model(workdir)
    unguarded_model = plain_model(workdir)

    from rasa.core.agent import load_agent
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
    from rasa.core.utils import AvailableEndpoints

    from plugin.policy.guard import current_guard
    from plugin.server.channel import protected_user_message
    from plugin.server.idle_timers import restart_idle_timers

    stack = harness.RasaStack(model=guarded_model, workdir=workdir)
    actions = harness.ServerProcess(
        "rasa run actions", [harness.RASA, "run", "actions", "--actions", "actions", "--port", str(stack.actions_port)],
        workdir / "actions.log", harness.subprocess_env(),
    )
    actions.start()
    try:
        actions.wait_until(f"{stack.actions_url}/health", timeout_s=60)

        def endpoints(masking: bool, name: str) -> AvailableEndpoints:
            path = workdir / f"endpoints-{name}.yml"
            store = f"    type: SQL\n    dialect: sqlite\n    db: \"{workdir / (name + '.db')}\"\n"
            tracker = (
                "tracker_store:\n  type: plugin.server.tracker_store.MaskingTrackerStore\n  store:\n" + store
                if masking else "tracker_store:\n" + store.replace("    ", "  ")
            )
            path.write_text(f"action_endpoint:\n  url: \"{stack.actions_url}/webhook\"\n" + tracker)
            return AvailableEndpoints.read_endpoints(str(path))

        loop = asyncio.new_event_loop()
        plain_agent = loop.run_until_complete(load_agent(model_path=str(unguarded_model), endpoints=endpoints(False, "plain")))
        guarded_agent = loop.run_until_complete(load_agent(model_path=str(guarded_model), endpoints=endpoints(True, "guarded")))
        messages = [s.text for s in corpus.generate_chat_messages(seed=11, n=args.messages + args.warmup)]
        timings = {"plain": [], "guarded": []}

        async def one(kind: str, index: int, text: str) -> float:
            sender = f"{kind}-{index // 10}"
            started = time.perf_counter()
            if kind == "plain":
                await plain_agent.handle_message(UserMessage(text, CollectingOutputChannel(), sender))
            else:
                message = protected_user_message(text, sender, CollectingOutputChannel())
                settings = current_guard().settings(message.input_channel)
                await restart_idle_timers(lambda: guarded_agent.processor, sender, message.output_channel, settings)
                await guarded_agent.handle_message(message)
            return time.perf_counter() - started

        for index, text in enumerate(messages):
            order = ("plain", "guarded") if index % 2 == 0 else ("guarded", "plain")
            for kind in order:
                elapsed = loop.run_until_complete(one(kind, index, text))
                if index >= args.warmup:
                    timings[kind].append(elapsed * 1000)
        loop.close()
    finally:
        actions.stop()

    print(f"\nReference bot, in-process, {args.messages} messages each (after {args.warmup} warm-up), same action server")
    print(f"{'':10} {'median ms':>10} {'p99 ms':>10} {'mean ms':>10}")
    for kind in ("plain", "guarded"):
        values = timings[kind]
        print(f"{kind:10} {statistics.median(values):10.2f} {percentile(values, 0.99):10.2f} {statistics.fmean(values):10.2f}")
    median_plain, median_guarded = statistics.median(timings["plain"]), statistics.median(timings["guarded"])
    overhead = median_guarded / median_plain - 1
    p99_overhead = percentile(timings["guarded"], 0.99) / percentile(timings["plain"], 0.99) - 1
    verdict = "PASS" if overhead <= MEDIAN_OVERHEAD_TARGET else "FAIL"
    print(f"\nplugin overhead on the median: {overhead * 100:+.1f} % (target <= +{MEDIAN_OVERHEAD_TARGET * 100:.0f} %): {verdict}")
    print(f"plugin overhead on the p99:    {p99_overhead * 100:+.1f} %")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
