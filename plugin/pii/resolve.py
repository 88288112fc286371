"""Overlap resolution: one span per stretch of text, chosen by priority class, then rank, then length."""

from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Tuple

from plugin.pii.spans import Span

Rank = Tuple[int, int]  # (priority class, rank within the class)


LONGEST_FIRST_CLASSES = frozenset({0, 1})
"""Deny terms and checksum-validated values are all equally certain, so there the longer span wins (an IBAN over the
card-like digits inside it); in the other classes the more specific type wins, then the longer span."""


def _sort_key(ranks: Dict[str, Rank]) -> Callable[[Span], tuple]:
    def key(span: Span) -> tuple:
        priority_class, rank = ranks[span.rule]
        if priority_class in LONGEST_FIRST_CLASSES:
            return (priority_class, span.start - span.end, rank, span.start)
        return (priority_class, rank, span.start - span.end, span.start)

    return key


def resolve(candidates: Iterable[Span], ranks: Dict[str, Rank]) -> Tuple[Span, ...]:
    """Greedy by priority (see ``_sort_key``); a candidate overlapping an accepted span is dropped whole."""
    candidates = list(candidates)
    if len(candidates) == 1:  # the common case: nothing to rank
        return tuple(span for span in candidates if span.end > span.start)

    accepted: List[Span] = []
    for span in sorted(candidates, key=_sort_key(ranks)):
        start, end = span.start, span.end
        if end > start and not any(start < other.end and other.start < end for other in accepted):
            accepted.append(span)
    accepted.sort(key=lambda span: span.start)
    return tuple(accepted)
