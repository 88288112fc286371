"""The catch-all: any run of N or more digits (the seeds' "numbers with that many digits or more")."""

from __future__ import annotations

from typing import Iterator

from plugin.pii.builders import make_span
from plugin.pii.scan import DIGIT_RUN, Scan, finditer
from plugin.pii.spans import Span


def may_hold_long_number(scan: Scan, min_digits: int) -> bool:
    """Gate: a run of at least ``min_digits`` (0 turns the catch-all off)."""
    return min_digits > 0 and scan.max_run >= min_digits


def find_long_numbers(scan: Scan, min_digits: int) -> Iterator[Span]:
    if min_digits <= 0 or scan.max_run < min_digits:
        return
    for match in finditer(DIGIT_RUN, scan, scan.digit_start(0)):
        if match.end() - match.start() >= min_digits:
            yield make_span(match.start(), match.end(), "long_number")
