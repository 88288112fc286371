"""Behaviour check for engine refactors: a baseline copy of ``plugin/pii`` and the current one must agree exactly.

Run from the repository root, after copying the engine BEFORE changing it (``cp -r plugin/pii /tmp/pii_baseline``)::

    .venv/bin/python -m benchmarks.equivalence --baseline /tmp/pii_baseline [--chat 6000] [--fuzz 20000]

The baseline is imported under another package name (its ``plugin.pii`` imports are rewritten into a temporary
directory), both engines are built from the same configurations, and for every text ``detect()`` spans (offsets, type,
rule, attributes, validated) and ``mask()`` text, spans and output spans of every view are compared. Texts:
``generate_samples`` for seeds 7, 3 and 99, ``generate_negatives``, ``generate_chat_messages``, every string literal
of ``tests/pii`` (the hand-written odd inputs), and seeded random mutations of all of those (separators, brackets,
signs, letters and digit groups inserted, cut or duplicated; arbitrary Unicode) so shape pre-filters meet the edges
they must not change. Prints the differences by kind (never more than a few examples, synthetic values only) and
exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import random
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, List, Sequence, Tuple

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus  # noqa: E402
from benchmarks.engine import REPO_ROOT, corpus_options  # noqa: E402

BASELINE_PACKAGE = "pii_baseline_engine"
SEEDS = (7, 3, 99)
VIEWS = ("nlu", "agent", "storage", "log")
_MUTATION_PIECES = (" ", "  ", "-", ".", "/", ",", ":", "(", ")", "+", "+31 ", "00", "0", "1", "12", "123", "4567",
                    "a", "A", "AB", "NL", "de", "#", "*", "**", "X", "€", "$", "EUR", "\n", "\u00a0", "٣", "str ",
                    "pin ", "bsn ", "puk ", "passport ", "order ", "jan ", "May ", " 2023", "@", "x@y.nl", "::")


def load_baseline(directory: Path) -> Any:
    """Import a copy of ``plugin/pii`` as ``pii_baseline_engine`` (imports rewritten), return the package."""
    target_root = Path(tempfile.mkdtemp(prefix="pii-baseline-"))
    package = target_root / BASELINE_PACKAGE
    shutil.copytree(directory, package, ignore=shutil.ignore_patterns("__pycache__"))
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        source.write_text(text.replace("plugin.pii.", BASELINE_PACKAGE + ".").replace("plugin.pii", BASELINE_PACKAGE),
                          encoding="utf-8")
    sys.path.insert(0, str(target_root))
    return importlib.import_module(BASELINE_PACKAGE)


def configurations(pii: Any) -> List[Tuple[str, Any]]:
    """The default catalogue plus one owner configuration with rules, lists and non-default strategies."""
    strategy = pii.StrategySpec
    custom = pii.EngineConfig(
        custom_rules=(
            pii.CustomRule("member_id", r"\bM-\d{6}\b", tag="#member#", context_words=("member", "lid")),
            pii.CustomRule("loyalty", r"\b\d{10}\b", tag="#loyalty#", validator="luhn"),
        ),
        allow_list=("0800-1234", "example.com"),
        deny_list=("Project Falcon",),
        strategies={
            "log": {"phone": strategy("redact", keep_right=2), "credit_card": strategy("redact", mask_char="X", keep_left=4)},
            "nlu": {"email": strategy("hash")},
        },
        hash_key=b"equivalence-key",
        long_number_digits=7,
        phone_regions=("NL", "US"),
    )
    return [("default", pii.EngineConfig()), ("custom", custom)]


def string_literals(directory: Path) -> List[str]:
    """Every string constant in the test modules: the hand-picked edge cases of the unit tests."""
    found = []
    for path in sorted(directory.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 400:
                found.append(node.value)
    return found


def mutate(rng: random.Random, text: str) -> str:
    """One random edit: insert a piece, cut a slice, duplicate a slice, or swap a character for a separator."""
    if not text:
        return rng.choice(_MUTATION_PIECES)
    position = rng.randrange(len(text) + 1)
    choice = rng.random()
    if choice < 0.45:
        return text[:position] + rng.choice(_MUTATION_PIECES) + text[position:]
    if choice < 0.6:
        return text[:position] + text[position + rng.randint(1, 4):]
    if choice < 0.8:
        start = rng.randrange(len(text))
        return text[:position] + text[start : start + rng.randint(1, 12)] + text[position:]
    return text[:position] + rng.choice(" -./()+,") + text[position + 1:]


def random_unicode(rng: random.Random) -> str:
    """Arbitrary code points (digits of other scripts, spaces, marks) like the hypothesis property tests use."""
    alphabet = "0123456789 -./()+,:#*@€$abcXYZ\n\t\u00a0\u2007\u0660\u0661\u0966\u00b2\u0308ßİſK"
    return "".join(rng.choice(alphabet) if rng.random() < 0.8 else chr(rng.randrange(32, 0x3000))
                   for _ in range(rng.randint(0, 60)))


def texts(chat: int, fuzz: int) -> Iterator[Tuple[str, str]]:
    """(source, text) pairs; sources name the corpus part, never the value."""
    options = corpus_options(__import__("plugin.pii", fromlist=["EngineConfig"]).EngineConfig())
    base: List[Tuple[str, str]] = []
    for seed in SEEDS:
        base += [(f"samples:{seed}", s.text) for s in corpus.generate_samples(seed, 120, options=options)]
    base += [("negatives", s.text) for s in corpus.generate_negatives(7, 2800)]
    base += [("chat", s.text) for s in corpus.generate_chat_messages(11, chat, options)]
    base += [("tests", text) for text in string_literals(REPO_ROOT / "tests" / "pii")]
    yield from base
    rng = random.Random(2024)
    for _ in range(fuzz):
        source, text = rng.choice(base)
        for _ in range(rng.randint(1, 4)):
            text = mutate(rng, text)
        yield "mutated:" + source.split(":")[0], text
    for _ in range(fuzz // 4):
        yield "unicode", random_unicode(rng)


def _span_key(span: Any) -> tuple:
    return (span.start, span.end, span.type, span.rule, span.validated, tuple(sorted(span.attributes.items())))


def compare(old: Any, new: Any, text: str) -> Iterator[str]:
    """Kinds of disagreement on one text (empty when the engines agree)."""
    if [_span_key(s) for s in old.detect(text)] != [_span_key(s) for s in new.detect(text)]:
        yield "detect"
    for view in VIEWS:
        a, b = old.mask(text, view), new.mask(text, view)
        if (a.text, a.timed_out, a.output_spans) != (b.text, b.timed_out, b.output_spans) or [
            _span_key(s) for s in a.spans
        ] != [_span_key(s) for s in b.spans]:
            yield f"mask:{view}"


def run(baseline_dir: Path, chat: int, fuzz: int, show: int) -> int:
    baseline = load_baseline(baseline_dir)
    current = importlib.import_module("plugin.pii")
    pairs = [
        (name, baseline.build_engine(old_config), current.build_engine(new_config))
        for (name, old_config), (_, new_config) in zip(configurations(baseline), configurations(current))
    ]
    checked = 0
    differences: dict = {}
    for source, text in texts(chat, fuzz):
        for name, old, new in pairs:
            checked += 1
            for kind in compare(old, new, text):
                examples = differences.setdefault((name, source, kind), [])
                examples.append(text)
    print(f"compared {checked} (configuration, text) pairs over {len(VIEWS)} views and detect")
    for (name, source, kind), examples in sorted(differences.items()):
        print(f"  DIFF {name:<8} {source:<18} {kind:<13} {len(examples):5d}  e.g. {examples[:show]!r}")
    print("0 differences" if not differences else f"{sum(map(len, differences.values()))} differences")
    return 1 if differences else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", type=Path, required=True, help="a copy of plugin/pii from before the change")
    parser.add_argument("--chat", type=int, default=6000, help="generated chat messages")
    parser.add_argument("--fuzz", type=int, default=20000, help="mutated texts (plus a quarter as many random ones)")
    parser.add_argument("--show", type=int, default=3, help="examples per kind of difference")
    args = parser.parse_args(argv)
    return run(args.baseline, args.chat, args.fuzz, args.show)


if __name__ == "__main__":
    sys.exit(main())
