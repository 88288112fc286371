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

from plugin.pii.builders import make_span
from plugin.pii.scan import Scan, match_at
from plugin.pii.spans import Span

# Whole sequences only: not after a digit and separator, a sign, a letter code ("ORD-2023-12345") or a decimal
# point, and not followed by a letter or by a decimal, time or date separator and digit ("1 234 567,89").
_GROUPED = regex.compile(r"(?<![\w.,/+\-]|\d[ \-])(?>\d+(?:[ \-]\d+)+)(?![\w]|[.,/:]\d)")
MIN_UNCOVERED_DIGITS = 3
"""Shorter leftovers next to a detected value are counts or units of the sentence, not hidden digits."""
ATTRIBUTES: Mapping[str, str] = MappingProxyType({"source": "digit_groups"})


def uncovered_groups(scan: Scan, spans: Sequence[Span], min_digits: int) -> List[Span]:
    """``long_number`` spans over the groups of N+-digit sequences that ``spans`` leave uncovered.

    A _GROUPED match is a whole sequence of 2+ digit runs joined by single spaces or dashes (atomic: a sequence that
    fails the lookarounds matches nowhere), so the pattern is only tried at the start of each long enough sequence.
    """
    if min_digits <= 0 or scan.digit_total < min_digits:
        return []
    runs, lengths, gaps = scan.runs, scan.lengths, scan.gaps
    found: List[Span] = []
    first = 0
    while first < len(runs):
        last, digits = first, lengths[first]
        while last < len(gaps) and (gaps[last] == " " or gaps[last] == "-"):
            last += 1
            digits += lengths[last]
        if last > first and digits >= min_digits and match_at(_GROUPED, scan, runs[first][0]) is not None:
            for start, end, uncovered in _uncovered_stretches(runs[first : last + 1], spans):
                if uncovered >= MIN_UNCOVERED_DIGITS:
                    found.append(make_span(start, end, "long_number", ATTRIBUTES))
        first = last + 1
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
