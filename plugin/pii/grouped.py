"""Fail-closed coverage of digit groups: digits the finders could not segment must not stay visible.

"puk 44928684 0031 10 123 4936" is a PUK followed by a spaced phone number; glued together by single spaces no finder
recognises either value. So after resolution, every sequence of digit groups joined by single spaces or dashes that
holds at least the long-number threshold of digits (``EngineConfig.long_number_digits``) is checked: its groups that
no span touches become ``long_number`` spans (one per uncovered stretch), unless the stretch is a short count of the
sentence ("call 0612345678 3 times").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Iterator, List, Mapping, Sequence, Tuple

import regex

from plugin.pii.scan import Scan, finditer
from plugin.pii.spans import Span, make_span

# Whole sequences only: not after a digit and separator, a sign, a letter code ("ORD-2023-12345") or a decimal
# point, and not followed by a letter or by a decimal, time or date separator and digit ("1 234 567,89").
_GROUPED = regex.compile(r"(?<![\w.,/+\-]|\d[ \-])(?>\d+(?:[ \-]\d+)+)(?![\w]|[.,/:]\d)")
MIN_UNCOVERED_DIGITS = 3
"""Shorter leftovers next to a detected value are counts or units of the sentence, not hidden digits."""
ATTRIBUTES: Mapping[str, str] = MappingProxyType({"source": "digit_groups"})


def _joins_group(gap: str) -> bool:
    return gap == " " or gap == "-"


def uncovered_groups(scan: Scan, spans: Sequence[Span], min_digits: int) -> List[Span]:
    """``long_number`` spans over the groups of N+-digit sequences that ``spans`` leave uncovered."""
    # A _GROUPED match is whole digit runs joined by single spaces or dashes: such a cluster must reach N digits.
    if min_digits <= 0 or scan.digit_total < min_digits or scan.longest_cluster(_joins_group) < min_digits:
        return []
    found: List[Span] = []
    for match in finditer(_GROUPED, scan, scan.digit_start(0)):
        start, end = match.span()
        runs = [run for run in scan.runs if start <= run[0] and run[1] <= end]
        if sum(end - start for start, end in runs) < min_digits:
            continue
        for first, last, digits in _uncovered_stretches(runs, spans):
            if digits >= MIN_UNCOVERED_DIGITS:
                found.append(make_span(first, last, "long_number", ATTRIBUTES))
    return found


def _uncovered_stretches(runs: List[Tuple[int, int]], spans: Sequence[Span]) -> Iterator[Tuple[int, int, int]]:
    """(start, end, digit count) of each maximal stretch of consecutive runs that no span overlaps."""
    stretch: List[Tuple[int, int]] = []
    for start, end in runs:
        if any(span.start < end and start < span.end for span in spans):
            if stretch:
                yield stretch[0][0], stretch[-1][1], sum(b - a for a, b in stretch)
            stretch = []
        else:
            stretch.append((start, end))
    if stretch:
        yield stretch[0][0], stretch[-1][1], sum(b - a for a, b in stretch)
