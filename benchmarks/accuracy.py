"""Accuracy of the PII engine on the generated corpus: precision and recall per type, hard-negative false positives.

Run from the repository root: ``.venv/bin/python benchmarks/accuracy.py [--per-type N] [--negatives N] [--strict]``.

How spans are matched (type-aware):
- a label is a true positive when one detected span of the *same type* covers it entirely
  (``span.start <= label.start and span.end >= label.end``); otherwise it is a false negative. ``covered`` counts
  labels hidden by the union of all spans of any type (what masking would still hide), ``partial`` those where a span
  of the right type overlaps without covering.
- a detected span is a false positive of its type when it overlaps no label of that type.
- ``long_number`` hides every number of N+ digits by design (N = ``EngineConfig.long_number_digits``): a
  ``long_number`` span over N or more digits is tolerated anywhere (neither TP nor FP) unless it matches a
  ``long_number`` label; one over fewer digits is a false positive.
- a hard negative is a false positive when the engine returns any span on it that is not tolerated as above.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import corpus  # noqa: E402
from benchmarks.engine import build_default_engine, corpus_options  # noqa: E402

CHECKSUM_TYPES = ("credit_card", "iban", "sim_number", "bsn", "vat_number")
FORMAT_TYPES = ("phone", "email", "date")
CHECKSUM_RECALL_TARGET = 0.995
FORMAT_RECALL_TARGET = 0.98
NEGATIVE_FP_TARGET = 0.01


@dataclass
class TypeScore:
    """Counts for one type."""

    support: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    covered: int = 0
    partial: int = 0
    missed_patterns: Counter = field(default_factory=Counter)
    fp_patterns: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / self.support if self.support else 1.0


def _digit_count(text: str) -> int:
    return sum(c.isdigit() for c in text)


def tolerated(span: Any, text: str, long_number_digits: int) -> bool:
    """A long-number span over N+ digits is the long-number rule doing its job."""
    return span.type == "long_number" and _digit_count(text[span.start : span.end]) >= long_number_digits


def _covered_by_union(start: int, end: int, spans: Sequence[Any]) -> bool:
    position = start
    for span in sorted(spans, key=lambda s: s.start):
        if span.start <= position < span.end:
            position = span.end
        if position >= end:
            return True
    return position >= end


def _pattern(sample: corpus.Sample, label_type: str) -> str:
    """The kind descriptor of the part of a (possibly joined) sample that carries ``label_type``."""
    parts = [p for p in sample.kind.split("+") if p.startswith(label_type + ":")]
    return parts[0].split(":", 1)[1] if parts else sample.kind


def score_samples(
    samples: Iterable[corpus.Sample], detect: Any, long_number_digits: int, max_examples: int
) -> dict[str, TypeScore]:
    """Run ``detect`` on every sample and tally per type (see the module docstring for the matching rules)."""
    scores: dict[str, TypeScore] = defaultdict(TypeScore)
    for sample in samples:
        spans = tuple(detect(sample.text))
        for label in sample.labels:
            score = scores[label.type]
            score.support += 1
            same_type = [s for s in spans if s.type == label.type]
            if any(s.start <= label.start and s.end >= label.end for s in same_type):
                score.tp += 1
            else:
                score.fn += 1
                score.missed_patterns[_pattern(sample, label.type)] += 1
                if len(score.examples) < max_examples:
                    found = ", ".join(f"{s.type}[{sample.text[s.start:s.end]}]" for s in spans) or "nothing"
                    score.examples.append(f"{_pattern(sample, label.type)}: {sample.text!r} -> {found}")
                if any(s.start < label.end and s.end > label.start for s in same_type):
                    score.partial += 1
            if _covered_by_union(label.start, label.end, spans):
                score.covered += 1
        for span in spans:
            matches_label = any(
                l.type == span.type and span.start < l.end and span.end > l.start for l in sample.labels
            )
            if matches_label or tolerated(span, sample.text, long_number_digits):
                continue
            scores[span.type].fp += 1
            scores[span.type].fp_patterns[sample.kind.split(":")[0]] += 1
    return scores


@dataclass
class NegativeScore:
    """Hard-negative tally."""

    total: int = 0
    flagged: int = 0
    by_kind: Counter = field(default_factory=Counter)
    by_type: Counter = field(default_factory=Counter)
    examples: list = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.flagged / self.total if self.total else 0.0


def score_negatives(
    negatives: Iterable[corpus.Sample], detect: Any, long_number_digits: int, max_examples: int
) -> NegativeScore:
    """A negative counts once when any non-tolerated span is found on it."""
    result = NegativeScore()
    for sample in negatives:
        result.total += 1
        bad = [s for s in detect(sample.text) if not tolerated(s, sample.text, long_number_digits)]
        if bad:
            result.flagged += 1
            result.by_kind[sample.kind.split(":", 1)[1]] += 1
            result.by_type.update(s.type for s in bad)
            if len(result.examples) < max_examples:
                found = ", ".join(f"{s.type}[{sample.text[s.start:s.end]}]" for s in bad)
                result.examples.append(f"{sample.kind}: {sample.text!r} -> {found}")
    return result


def _fmt_pct(value: float) -> str:
    return f"{100 * value:6.2f}%"


def print_table(scores: dict[str, TypeScore]) -> None:
    header = (
        f"{'type':<15} {'support':>7} {'TP':>6} {'FP':>5} {'FN':>5} {'precision':>9} {'recall':>8} "
        f"{'covered':>8} {'partial':>7}"
    )
    print(header)
    print("-" * len(header))
    for pii_type in corpus.PII_TYPES:
        s = scores.get(pii_type, TypeScore())
        covered = s.covered / s.support if s.support else 1.0
        print(
            f"{pii_type:<15} {s.support:>7} {s.tp:>6} {s.fp:>5} {s.fn:>5} {_fmt_pct(s.precision):>9} "
            f"{_fmt_pct(s.recall):>8} {_fmt_pct(covered):>8} {s.partial:>7}"
        )


def check_targets(scores: dict[str, TypeScore], negatives: NegativeScore) -> list[tuple[str, bool, str]]:
    """``(target, passed, measured)`` for every target of the issue."""
    results = []
    for pii_type in CHECKSUM_TYPES:
        recall = scores.get(pii_type, TypeScore()).recall
        results.append((f"recall {pii_type} >= 99.5%", recall >= CHECKSUM_RECALL_TARGET, _fmt_pct(recall)))
    for pii_type in FORMAT_TYPES:
        recall = scores.get(pii_type, TypeScore()).recall
        results.append((f"recall {pii_type} >= 98%", recall >= FORMAT_RECALL_TARGET, _fmt_pct(recall)))
    results.append(("hard-negative FP <= 1%", negatives.rate <= NEGATIVE_FP_TARGET, _fmt_pct(negatives.rate)))
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--per-type", type=int, default=400, help="labelled samples per PII type")
    parser.add_argument("--negatives", type=int, default=2800, help="hard-negative messages")
    parser.add_argument("--show-misses", type=int, default=3, help="example misses printed per type")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target fails")
    args = parser.parse_args(argv)

    engine, config = build_default_engine()
    options = corpus_options(config)
    print(
        f"corpus: seed={args.seed}, {args.per_type} samples/type, {args.negatives} hard negatives; "
        f"phone home regions={','.join(options.home_regions)}, long_number >= {options.long_number_digits} digits"
    )
    samples = corpus.generate_samples(args.seed, args.per_type, options=options)
    negatives = corpus.generate_negatives(args.seed, args.negatives)

    scores = score_samples(samples, engine.detect, options.long_number_digits, args.show_misses)
    negative_score = score_negatives(negatives, engine.detect, options.long_number_digits, args.show_misses * 4)

    print()
    print_table(scores)
    print()
    rate = _fmt_pct(negative_score.rate).strip()
    print(f"hard negatives: {negative_score.flagged}/{negative_score.total} flagged = {rate}")
    if negative_score.flagged:
        print("  by negative kind: " + ", ".join(f"{k} {v}" for k, v in negative_score.by_kind.most_common()))
        print("  by span type:     " + ", ".join(f"{k} {v}" for k, v in negative_score.by_type.most_common()))
        for example in negative_score.examples:
            print(f"    {example}")

    print()
    print("misses and false positives by pattern:")
    for pii_type in corpus.PII_TYPES:
        score = scores.get(pii_type)
        if not score or not (score.fn or score.fp):
            continue
        if score.fn:
            print(f"  {pii_type} FN: " + ", ".join(f"{k} {v}" for k, v in score.missed_patterns.most_common(8)))
        if score.fp:
            print(
                f"  {pii_type} FP on samples of: " + ", ".join(f"{k} {v}" for k, v in score.fp_patterns.most_common(8))
            )
        for example in score.examples:
            print(f"    {example}")

    print()
    print("targets:")
    results = check_targets(scores, negative_score)
    for name, passed, measured in results:
        print(f"  {'PASS' if passed else 'FAIL'}  {name:<32} measured {measured.strip()}")
    failed = [name for name, passed, _ in results if not passed]
    print(f"{len(results) - len(failed)} of {len(results)} targets met")
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
