"""Dates: numeric with dot / space / hyphen / slash separators, ISO order, and written months in English, Dutch, German.

Only plausible calendar dates count (no 31/02; years 1900-2099 or two digits); day-first and month-first both accepted.
"""

from __future__ import annotations

import calendar
from typing import Dict, Iterator, Optional

import regex

from plugin.pii.builders import make_span
from plugin.pii.scan import Scan, finditer, fold_case, hint_pattern, is_ascii_word_char, is_letter
from plugin.pii.spans import Span

MONTHS: Dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan januari januar jänner",
        "february feb februari februar",
        "march mar maart mrt märz mär maerz",
        "april apr",
        "may mei mai",
        "june jun juni",
        "july jul juli",
        "august aug augustus",
        "september sep sept",
        "october oct oktober okt",
        "november nov",
        "december dec dezember dez",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

# Month names that are also ordinary words or names: accepted only with a year.
_NEEDS_YEAR = frozenset({"may", "mei", "mai", "mar", "jan", "jun", "jul", "aug", "sep", "oct", "nov", "dec", "apr", "feb",
                         "march", "okt", "dez", "mrt", "sept"})

_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))

_NUMERIC = regex.compile(
    r"(?<![\d.,:/\-])(?:"
    r"(?P<y1>(?:19|20)\d\d)(?P<s1>[./\-])(?P<m1>\d{1,2})(?P=s1)(?P<d1>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<s2>[./\-])(?P<b>\d{1,2})(?P=s2)(?P<y2>\d{4}|\d{2})"
    r"|(?P<a3>\d{1,2}) (?P<b3>\d{1,2}) (?P<y3>(?:19|20)\d\d)"
    r")(?![\d]|[.,:/\-]\d)"
)
_WRITTEN = regex.compile(
    r"(?i)(?<![\w])(?:"
    r"(?P<d1>\d{1,2})(?:st|nd|rd|th|e|ste|de|\.)?\s?(?:of\s)?(?P<m1>" + _MONTH_ALT + r")\.?(?:,?\s(?P<y1>(?:19|20)\d\d|'\d\d))?"
    r"|(?P<m2>" + _MONTH_ALT + r")\.?\s(?P<d2>\d{1,2})(?:st|nd|rd|th)?(?:,?\s(?P<y2>(?:19|20)\d\d))?"
    r")(?![\w])"
)


_VERSION_BEFORE = regex.compile(r"(?i)\b(?:v|ver|version|versie|release|build|update)\W{0,3}$")
_VERSION_AFTER = regex.compile(r"(?i)\W{0,3}(?:update|upgrade|release|build|version|versie|patch)\b")


def _year(text: Optional[str]) -> Optional[int]:
    if not text:
        return None
    text = text.lstrip("'")
    value = int(text)
    return value + 2000 if len(text) == 2 else value


def is_calendar_date(year: Optional[int], month: int, day: int) -> bool:
    """Plausible calendar date; ``year`` None means 'any leap year' (29 Feb allowed)."""
    if not 1 <= month <= 12 or day < 1:
        return False
    if year is not None and not 1900 <= year <= 2099:
        return False
    return day <= calendar.monthrange(year if year is not None else 2000, month)[1]


def _numeric_ok(match: "regex.Match[str]") -> bool:
    if match.group("y1"):
        return is_calendar_date(int(match.group("y1")), int(match.group("m1")), int(match.group("d1")))
    if match.group("a"):
        first, second, year = int(match.group("a")), int(match.group("b")), _year(match.group("y2"))
    else:
        first, second, year = int(match.group("a3")), int(match.group("b3")), _year(match.group("y3"))
    return is_calendar_date(year, second, first) or is_calendar_date(year, first, second)


def _written_ok(match: "regex.Match[str]") -> bool:
    if match.group("m1"):
        month_word, day, year_text = match.group("m1"), match.group("d1"), match.group("y1")
    else:
        month_word, day, year_text = match.group("m2"), match.group("d2"), match.group("y2")
    month_word = fold_case(month_word)  # IGNORECASE matched "ſeptember" too
    if year_text is None and month_word in _NEEDS_YEAR:
        return False
    return is_calendar_date(_year(year_text), MONTHS[month_word], int(day))


def _is_version(text: str, start: int, end: int) -> bool:
    """A release word right before or after ("version 1.2.3", "the 2.7.19 update") makes dotted numbers a version."""
    return bool(_VERSION_BEFORE.search(text, max(0, start - 12), start) or _VERSION_AFTER.match(text, end, end + 12))


_MONTH_LEAD = max(map(len, MONTHS)) + 2  # "september. 5": month, dot, space, then the digit
_MONTH_STEM = hint_pattern(name[:3] for name in MONTHS)


def _may_hold_numeric(scan: Scan) -> bool:
    """Three runs joined twice by the same separator, shaped as one of _NUMERIC's forms (a 19xx/20xx year then two
    short parts, or two short parts then a 2- or 4-digit year; with spaces only the latter and a 19xx/20xx year),
    not continuing a number before ("1.2.3.4") or after."""
    if scan.digit_total < 4:
        return False
    text, runs = scan.text, scan.runs
    for index, gap, (first, second, third) in scan.same_gap_groups(3):
        if second > 2:
            continue
        if gap == " ":
            shaped = first <= 2 and third == 4 and text.startswith(("19", "20"), runs[index + 2][0])
        else:
            shaped = gap in "./-" and (
                (first == 4 and third <= 2 and text.startswith(("19", "20"), runs[index][0]))
                or (first <= 2 and third in (2, 4))
            )
        if shaped and not _continues_number(text, runs[index][0], runs[index + 2][1]):
            return True
    return False


def _continues_number(text: str, start: int, end: int) -> bool:
    """_NUMERIC's edges: no separator before the date, no separator and digit after it."""
    if start > 0 and text[start - 1] in ".,:/-":
        return True
    return end + 1 < len(text) and text[end] in ".,:/-" and text[end + 1].isdigit()


def _day_next_to_word(text: str, start: int, end: int) -> bool:
    """_WRITTEN's day is followed by a suffix, dot or month (maybe after a space), or preceded by a month and a space."""
    after = text[end : end + 1]
    if is_letter(after) or after == "." or (after.isspace() and is_letter(text[end + 1 : end + 2])):
        return True
    return start >= 2 and text[start - 1].isspace() and (is_letter(text[start - 2]) or text[start - 2] == ".")


def _may_hold_written(scan: Scan) -> bool:
    """A day (a whole run of one or two digits) next to a word, and a month stem near it: _WRITTEN's month starts at
    most 11 characters before the day (month, dot, space) or 7 after it (suffix, space, "of ")."""
    text = scan.text
    for (start, end), length in zip(scan.runs, scan.lengths):
        if length > 2 or (start > 0 and is_ascii_word_char(text[start - 1])):
            continue  # _WRITTEN's day begins after no \w: after a space, or at a word's start
        if _day_next_to_word(text, start, end):
            if _MONTH_STEM.search(fold_case(text[max(0, start - 11) : end + 10])) is not None:
                return True
    return False


def may_hold_date(scan: Scan) -> bool:
    """Gate: a numeric date or a day with a written month."""
    return _may_hold_numeric(scan) or _may_hold_written(scan)


def find_dates(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 1:
        return
    if _may_hold_numeric(scan):
        for match in finditer(_NUMERIC, scan, scan.digit_start(0)):
            if scan.claimed and scan.is_claimed(match.start(), match.end()):
                continue
            if _numeric_ok(match) and not _is_version(scan.text, match.start(), match.end()):
                yield make_span(match.start(), match.end(), "date", validated=True)
    if not _may_hold_written(scan):
        return
    for match in finditer(_WRITTEN, scan, scan.digit_start(_MONTH_LEAD)):
        if _written_ok(match):
            yield make_span(match.start(), match.end(), "date", validated=True)
