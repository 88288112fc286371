"""Overlap resolution: one span per stretch of text, chosen by priority class, then rank, then length."""

from __future__ import annotations

from typing import Dict, Iterable, List, Tuple

from plugin.pii.spans import Span

Rank = Tuple[int, int]  # (priority class, rank within the class)


LONGEST_FIRST_CLASSES = frozenset({0, 1})
"""Deny terms and checksum-validated values are all equally certain, so there the longer span wins (an IBAN over the
card-like digits inside it); in the other classes the more specific type wins, then the longer span."""


def _key(span: Span, ranks: Dict[str, Rank]) -> tuple:
    priority_class, rank = ranks[span.rule]
    length = span.end - span.start
    if priority_class in LONGEST_FIRST_CLASSES:
        return (priority_class, -length, rank, span.start)
    return (priority_class, rank, -length, span.start)


def resolve(candidates: Iterable[Span], ranks: Dict[str, Rank]) -> Tuple[Span, ...]:
    """Greedy by priority (see ``_key``); a candidate overlapping an accepted span is dropped whole."""
    ordered = sorted(candidates, key=lambda span: _key(span, ranks))
    accepted: List[Span] = []
    for span in ordered:
        if span.end > span.start and not any(span.overlaps(other) for other in accepted):
            accepted.append(span)
    accepted.sort(key=lambda span: span.start)
    return tuple(accepted)
