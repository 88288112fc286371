"""How often the reference bot with and without rasa-guard picks the same intent and the same actions, and where not.

Run from the repository root: ``.venv/bin/python -m benchmarks.path_agreement [--seeds S ...] [--per-type N] [--show K]``.

Uses the two models of ``benchmarks/rasa_latency.py`` (trained or reused: ``models/test-<fingerprint>.tar.gz`` for the
guarded bot, ``models/bench-plain.tar.gz`` for the bot without the plugin) and the same generated chat messages
(seed 11, 440 messages: the README's run), optionally more seeds and single-value PII messages (``--seeds 11 12
--per-type 20``) or messages of a file (``--texts FILE``). Both agents are loaded in-process; nothing is executed:
- *plain*: the message as typed, parsed by the model trained without ``PIIMasker``;
- *guarded*: the message as the guarded channel hands it over (``protected_user_message``: masked, with the nlu view
  in its metadata), parsed by the model as shipped.
Actions are the policies' predictions after the message, in a fresh conversation (``action_listen`` ends the turn)
and, as in the latency benchmark, in conversations of 10 messages. Prints the share of messages on which both bots
agree, per kind of message, and the most frequent disagreements. Examples are shown in the guarded bot's nlu view
only, so no raw PII value is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus, rasa_latency  # noqa: E402

MAX_ACTIONS_PER_TURN = 6  # a turn that predicts more has gone wrong; the tuple shows it
CONVERSATION_LENGTH = 10


def message_kind(kind: str) -> str:
    """Coarse kind of a message: chatter only, chatter with a hard negative, with PII values, or from ``--texts``."""
    parts = kind.split("+")
    if parts == ["file"]:
        return "file"
    if all(p == "chatter" for p in parts):
        return "chatter"
    if any(p.startswith("negative:") for p in parts):
        return "chatter+negative"
    return "pii" if parts[0] != "chatter" else "chatter+pii"


def predicted_actions(processor: Any, tracker: Any) -> Tuple[str, ...]:
    """The actions the policies predict after the tracker's last user message, applied without being run (but the
    core fallback's own event, the revert of the user message, is applied as Rasa would)."""
    from rasa.shared.core.events import ActionExecuted, UserUtteranceReverted

    names: List[str] = []
    for _ in range(MAX_ACTIONS_PER_TURN):
        prediction = processor._predict_next_with_tracker(tracker)
        name = processor.domain.action_names_or_texts[prediction.max_confidence_index]
        tracker.update(ActionExecuted(name, policy=prediction.policy_name, confidence=prediction.max_confidence))
        if name == "action_listen":
            break
        names.append(name)
        if name == "action_default_fallback":
            tracker.update(UserUtteranceReverted())
    return tuple(names)


def new_tracker(sender: str) -> Any:
    """A conversation just started, as ``action_session_start`` leaves it."""
    from rasa.shared.core.events import ActionExecuted, SessionStarted
    from rasa.shared.core.trackers import DialogueStateTracker

    return DialogueStateTracker.from_events(
        sender, [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    )


def user_event(message: Any, parse_data: Dict[str, Any]) -> Any:
    from rasa.shared.core.events import UserUttered

    return UserUttered(message.text, parse_data["intent"], parse_data["entities"], parse_data,
                       input_channel=message.input_channel, metadata=message.metadata)


def share(count: int, total: int) -> str:
    return f"{count:4d} / {total:4d} = {100 * count / max(total, 1):5.1f} %"


def compare(agents: Dict[str, Any], samples: Sequence[Any]) -> List[Dict[str, Any]]:
    """Per message: each bot's intent and actions (fresh conversation, and in conversations of 10 messages)."""
    from rasa.core.channels.channel import UserMessage

    from plugin.server.channel import protected_user_message

    async def parse(kind: str, text: str, sender: str) -> Tuple[Any, Dict[str, Any]]:
        message = UserMessage(text, sender_id=sender) if kind == "plain" else protected_user_message(text, sender)
        return message, await agents[kind].processor.parse_message(message)

    loop = asyncio.new_event_loop()
    rows: List[Dict[str, Any]] = []
    conversations: Dict[str, Any] = {}
    for index, sample in enumerate(samples):
        row: Dict[str, Any] = {"kind": message_kind(sample.kind)}
        for kind, agent in agents.items():
            sender = f"{kind}-{index // CONVERSATION_LENGTH}"
            message, parsed = loop.run_until_complete(parse(kind, sample.text, sender))
            fresh = new_tracker(sender)
            fresh.update(user_event(message, parsed))
            tracker = conversations.setdefault(sender, new_tracker(sender))
            tracker.update(user_event(message, parsed))
            row[kind] = (parsed["intent"]["name"], predicted_actions(agent.processor, fresh))
            row[kind + "_in_context"] = predicted_actions(agent.processor, tracker)
            if kind == "guarded":
                row["shown"] = parsed["text"]  # the nlu view: PII already replaced by tags
        rows.append(row)
    loop.close()
    return rows


def report(title: str, rows: List[Dict[str, Any]], show: int) -> None:
    total = len(rows)
    same_intent = [r for r in rows if r["plain"][0] == r["guarded"][0]]
    same_path = [r for r in rows if r["plain"] == r["guarded"]]
    same_context = [r for r in rows if r["plain_in_context"] == r["guarded_in_context"]]
    print(f"\n{title}: {total} messages")
    print(f"same intent:                                   {share(len(same_intent), total)}")
    print(f"same intent and actions (fresh conversation):  {share(len(same_path), total)}")
    print(f"same actions in conversations of {CONVERSATION_LENGTH} messages: {share(len(same_context), total)}")

    print("per kind of message (same intent and actions, fresh conversation):")
    for kind in ("chatter", "chatter+negative", "pii", "chatter+pii", "file"):
        of_kind = [r for r in rows if r["kind"] == kind]
        if of_kind:
            print(f"  {kind:18} {share(sum(r['plain'] == r['guarded'] for r in of_kind), len(of_kind))}")

    admin = {kind: sum(r[kind][0].startswith("admin_") for r in rows) for kind in ("plain", "guarded")}
    print(f"admin intents predicted for these customer messages: plain {admin['plain']}, guarded {admin['guarded']}")

    pairs = collections.Counter((r["plain"][0], r["guarded"][0]) for r in rows if r["plain"][0] != r["guarded"][0])
    if pairs:
        print("intent disagreements (plain -> guarded), with examples in the guarded nlu view:")
    for (plain_intent, guarded_intent), count in pairs.most_common():
        print(f"  {count:4d}  {plain_intent} -> {guarded_intent}")
        shown = [r["shown"] for r in rows if (r["plain"][0], r["guarded"][0]) == (plain_intent, guarded_intent)]
        for text in list(dict.fromkeys(shown))[:show]:
            print(f"          {text!r}")
    action_only = collections.Counter(
        (r["plain"][1], r["guarded"][1]) for r in rows if r["plain"][0] == r["guarded"][0] and r["plain"][1] != r["guarded"][1]
    )
    if action_only:
        print("same intent, different actions (plain -> guarded):")
        for (plain_actions, guarded_actions), count in action_only.most_common():
            print(f"  {count:4d}  {plain_actions} -> {guarded_actions}")
    in_context = collections.Counter(
        (r["plain"][0], r["plain_in_context"], r["guarded_in_context"])
        for r in rows if r["plain"][0] == r["guarded"][0] and r["plain_in_context"] != r["guarded_in_context"]
    )
    if in_context:
        print(f"same intent, different actions in conversations of {CONVERSATION_LENGTH} (intent: plain -> guarded):")
        for (intent, plain_actions, guarded_actions), count in in_context.most_common():
            print(f"  {count:4d}  {intent}: {plain_actions} -> {guarded_actions}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=440, help="chat messages per seed (default 440)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11], help="corpus seeds (default 11, the latency benchmark's)")
    parser.add_argument("--per-type", type=int, default=0,
                        help="also N single-value messages per PII type (corpus.generate_samples, seed 5; default 0)")
    parser.add_argument("--texts", type=Path, help="also the messages in this file, one per line (synthetic PII only)")
    parser.add_argument("--show", type=int, default=3, help="examples shown per disagreement (default 3)")
    args = parser.parse_args(argv)

    _workdir, guarded_model, plain_model = rasa_latency.prepare_models("path-agreement-")

    from rasa.core.agent import Agent
    from rasa.utils.common import configure_library_logging

    configure_library_logging()
    agents = {"plain": Agent.load(str(plain_model)), "guarded": Agent.load(str(guarded_model))}
    print(f"\nReference bot without / with rasa-guard ({plain_model.name} / {guarded_model.name})")
    for seed in args.seeds:
        samples = corpus.generate_chat_messages(seed=seed, n=args.messages)
        report(f"generated chat messages, seed {seed}", compare(agents, samples), args.show)
    if args.per_type:
        samples = corpus.generate_samples(seed=5, n_per_type=args.per_type)
        report(f"one PII value per message, {args.per_type} per type", compare(agents, samples), args.show)
    if args.texts:
        lines = [line.strip() for line in args.texts.read_text().splitlines() if line.strip()]
        samples = [corpus.Sample(text, (), "file", "") for text in lines]
        report(f"messages of {args.texts.name}", compare(agents, samples), args.show)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
