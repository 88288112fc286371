"""Phone numbers: international (+CC / 00CC) and national formats of the configured regions, valid per ``phonenumbers``.

``phonenumbers.parse`` costs ~60 µs and ``is_valid_number`` ~6 µs, so candidates are checked with the same metadata
compiled per region (``phone_validity``, ~1 µs).
"""

from __future__ import annotations

from functools import lru_cache
from typing import FrozenSet, Iterator, List, Optional, Sequence, Tuple

import phonenumbers
import regex
from phonenumbers import PhoneMetadata

from plugin.pii.builders import make_span
from plugin.pii.context_words import PIN_CONTEXT, REFERENCE_BEFORE
from plugin.pii.phone_validity import load_region, valid_for_region, valid_international
from plugin.pii.scan import SPACE_CHARS, Scan, finditer, is_ascii_letter, only_chars, search
from plugin.pii.spans import Span

# Not glued to a word or another number, except a phone label and a colon ("tel:0612345678"): after other words a
# colon starts another value ("kamer:101 (020) ..."), and "12:30" is a time.
_CANDIDATE = regex.compile(
    r"(?:(?<=\b(?i:tel|telefoon|telefon|phone|mobiel|mobil|mobile|mob|gsm|fax|handy|whatsapp|call|bel|ruf)\.?:)"
    r"|(?<![\w+@.,:/=\-]))(?:\+|\b00)?\s?\(?\d[\d()]*(?:(?:[ \-./]|\s?\(\s?|\s?\)\s?)\d[\d()]*){0,7}(?![\w@])(?![.,/:\-]\d)"
)
_DATE_SHAPE = regex.compile(r"\d{1,4}([./\-])\d{1,2}\1\d{1,4}")
_IPV4_SHAPE = regex.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_CURRENCY_NEAR = regex.compile(r"[€$£]\s?$|(?i:\b(?:eur|euro|usd|gbp))\s?$")
# A PIN/PUK word up to three words before a short bare digit run names it a secret ("the PUK is 05571344").
_SECRET_BEFORE = regex.compile(PIN_CONTEXT.pattern + r"(?:\W+\w+){0,3}\W*$")
_SECRET_MAX_DIGITS = 8
_MIN_DIGITS = 7  # shortest national significant number plus trunk prefix that _region_of accepts
_SENTENCE_NUMBER_DIGITS = 2  # "room 12", "3 times": short numbers that may precede a phone in a sentence
_CURRENCY_AFTER = regex.compile(r"^\s?(?:[€$£]|(?i:eur|euro|usd|gbp|dollar|pound)\b|,-)")


def international_region(digits: str) -> Optional[str]:
    """Region of a number written with + or 00 (``digits`` without that prefix), or None when invalid."""
    for width in (1, 2, 3):
        code = int(digits[:width] or 0)
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(code)
        if not regions:
            continue
        national = digits[width:]
        if national.startswith("0") and regions[0] not in ("IT", "SM", "VA", "CI", "GA", "CG"):
            national = national[1:]  # "+31 (0)6 ..." keeps the trunk zero by habit
        if not 4 <= len(national) <= 14:
            return None
        if valid_international(code, national):
            return phonenumbers.region_code_for_country_code(code)
        return None
    return None


@lru_cache(maxsize=64)
def _trunk_prefixes(regions: Tuple[str, ...]) -> Tuple[Tuple[str, str], ...]:
    """(region, trunk prefix) per configured region with metadata, looked up once instead of on every candidate."""
    table = []
    for region in regions:
        metadata = PhoneMetadata.metadata_for_region(region)
        if metadata is not None:
            table.append((region, metadata.national_prefix or ""))
    return tuple(table)


def national_region(digits: str, regions: Sequence[str]) -> Optional[str]:
    """First configured region for which a nationally written number is valid."""
    for region, prefix in _trunk_prefixes(tuple(regions)):
        national = digits
        if prefix and national.startswith(prefix):
            national = national[len(prefix) :]
        elif prefix and region != "US":
            continue  # NL/DE/GB/FR/BE numbers are written with the trunk 0 nationally
        if national[:1] == "0" or not 4 <= len(national) <= 14:
            continue
        if valid_for_region(national, region):
            return region
    return None


@lru_cache(maxsize=64)
def _national_forms(regions: Tuple[str, ...]) -> Tuple[Tuple[str, FrozenSet[int], bool], ...]:
    """Per configured region, what ``national_region`` accepts of a nationally written number: (trunk prefix, the
    digit counts a valid number may have after it, whether it may also be written without the prefix, as in the US)."""
    table = []
    for region, prefix in _trunk_prefixes(regions):
        metadata = PhoneMetadata.metadata_for_region(region)
        lengths = metadata.general_desc.possible_length if metadata is not None and metadata.general_desc else None
        table.append((prefix, frozenset(lengths or range(4, 15)), not prefix or region == "US"))
    return tuple(table)


def warm_up(regions: Sequence[str]) -> None:
    """Load metadata for the configured regions at build time, so the first message does not pay for it."""
    for region in regions:
        load_region(region)
    _national_forms(tuple(regions))


def _rejected(text: str, start: int, end: int, scan: Scan) -> bool:
    candidate = text[start:end]
    if _DATE_SHAPE.fullmatch(candidate) or _IPV4_SHAPE.fullmatch(candidate):
        return True
    if candidate.isdigit() and len(candidate) == 10 and candidate[0] == "1":
        return True  # epoch timestamp
    if search(REFERENCE_BEFORE, scan, max(0, start - 40), start) is not None:
        return True
    if (
        candidate.isdigit()
        and len(candidate) <= _SECRET_MAX_DIGITS
        and search(_SECRET_BEFORE, scan, max(0, start - 40), start) is not None
    ):
        return True
    if _CURRENCY_NEAR.search(text, max(0, start - 5), start) or _CURRENCY_AFTER.search(text[end : end + 8]):
        return True
    return False


def _region_of(text: str, start: int, groups: List[Tuple[int, int]], scan: Scan) -> Optional[str]:
    digits = "".join(text[a:b] for a, b in groups)
    if not 7 <= len(digits) <= 15:
        return None
    lead = text[start]
    if lead == "+":
        return international_region(digits)
    if digits.startswith("00"):
        return international_region(digits[2:])
    return national_region(digits, scan.phone_regions)


def _best_phone(text: str, start: int, groups: List[Tuple[int, int]], scan: Scan) -> Tuple[Optional[Span], int]:
    """Groups around the number may belong to the sentence ("call 0612345678 3 times", "00000 0201 000"): drop up to
    two short leading and any trailing groups until valid, trying first without a lone trailing single digit. Leading
    groups are kept when the number starts with '+' (the country code defines it) or is joined by '-' or '.'."""
    droppable = 1 if text[start] == "+" else _droppable_leading(text, groups)
    for first in range(droppable):
        if first:
            start = groups[first][0]
        order = list(range(len(groups) - 1, first - 1, -1))
        if len(order) > 2 and groups[-1][1] - groups[-1][0] == 1:
            order[0], order[1] = order[1], order[0]
        for last in order:
            end = groups[last][1]
            if end < len(text) and text[end] == ")":
                end += 1
            if text[start] == "(" and ")" not in text[start:end]:
                continue
            region = _region_of(text, start, groups[first : last + 1], scan)
            if region is not None:
                if _rejected(text, start, end, scan):
                    return None, len(groups)
                return make_span(start, end, "phone", {"region": region}, validated=True), last + 1
    return None, len(groups)


def _droppable_leading(text: str, groups: List[Tuple[int, int]]) -> int:
    """How many start positions to try: up to two leading groups of one or two digits that whitespace separates from
    the rest ("room 12 0612345678"); a longer leading group is read as part of the number ("3144 0653 4720 3624")."""
    count = 1
    while (
        count < min(3, len(groups))
        and groups[count - 1][1] - groups[count - 1][0] <= _SENTENCE_NUMBER_DIGITS
        and text[groups[count - 1][1] : groups[count][0]].isspace()
    ):
        count += 1
    return count


_CANDIDATE_GAP_CHARS = SPACE_CHARS + "-./()"  # every character _CANDIDATE allows between two digits


def _joins_candidate(gap: str) -> bool:
    return only_chars(gap, _CANDIDATE_GAP_CHARS)


def _may_start_candidate(text: str, start: int) -> bool:
    """False when _CANDIDATE's lookbehind rules out a candidate starting with the run at ``start`` (right after a
    letter, "@", "." and the like); a "+", "(", space or label before the run may begin one."""
    if start == 0:
        return True
    char = text[start - 1]
    return not (is_ascii_letter(char) or char in "@.,/=-_")


def _national_may_fit(lead: str, digits: int, forms: Tuple[Tuple[str, FrozenSet[int], bool], ...]) -> bool:
    """Whether ``digits`` digits beginning with ``lead`` may be a nationally written number of a configured region:
    with its trunk prefix, or bare where the region allows it, leaving a valid count of digits not starting with 0."""
    for prefix, lengths, bare in forms:
        if prefix and lead.startswith(prefix):
            if digits - len(prefix) in lengths and lead[len(prefix) : len(prefix) + 1] != "0":
                return True
        elif bare and digits in lengths and lead[:1] != "0":
            return True
    return False


def _leading_digits(text: str, runs: List[Tuple[int, int]], joined: List[bool], index: int) -> str:
    """The first (up to four) digits of a number beginning with run ``index``; they may span joined runs."""
    lead = ""
    while True:
        start, end = runs[index]
        lead += text[start : min(end, start + 4)]
        if len(lead) >= 4 or index >= len(joined) or not joined[index]:
            return lead
        index += 1


def _may_begin_phone(scan: Scan, index: int, joined: List[bool], forms: Tuple[Tuple[str, FrozenSet[int], bool], ...]) -> bool:
    """Whether ``_region_of`` may accept a number whose groups are run ``index`` and the joined runs after it (any
    number of them: trailing groups may be dropped): written internationally ("+" just before it, or "00"), else as
    a national number of a configured region."""
    text, runs, lengths = scan.text, scan.runs, scan.lengths
    start = runs[index][0]
    lead = _leading_digits(text, runs, joined, index)
    international = "+" in text[max(0, start - 3) : start] or lead.startswith("00")
    digits = 0
    while True:
        digits += lengths[index]
        if digits > 15:
            return False
        if digits >= _MIN_DIGITS and (international or _national_may_fit(lead, digits, forms)):
            return True
        if index >= len(joined) or not joined[index]:
            return False
        index += 1


def may_hold_phone(scan: Scan) -> bool:
    """Gate: a phone candidate starts where its lookbehind allows and holds 7+ digits with only spaces, dashes,
    dots, slashes or brackets between them; and from some run of it on (leading groups may be dropped, the next
    number may follow a found one) its groups may make a number that ``_region_of`` could accept."""
    if scan.digit_total < _MIN_DIGITS:
        return False
    text, runs = scan.text, scan.runs
    joined = [_joins_candidate(gap) for gap in scan.gaps]  # joined[i]: runs i and i + 1 may be one candidate
    forms = _national_forms(tuple(scan.phone_regions))
    chained = False  # a candidate may run through the previous run into this one
    for index in range(len(runs)):
        chained = (chained and joined[index - 1]) or _may_start_candidate(text, runs[index][0])
        if chained and _may_begin_phone(scan, index, joined, forms):
            return True
    return False


def find_phones(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 7:
        return
    text, runs = scan.text, scan.runs
    index = 0  # candidates come in text order: the first run that may lie in the next one
    for match in finditer(_CANDIDATE, scan, scan.digit_start(3)):  # "+ (6"
        start, stop = match.span()
        if text[start].isspace():
            start += 1
        if stop - start < _MIN_DIGITS:
            continue  # too short to hold a phone's digits
        if scan.claimed and scan.is_claimed(start, stop):
            continue  # inside a card / IBAN / ... that wins anyway
        # No digit stands right before or after a candidate, so its digit groups are the scan's runs inside it.
        while index < len(runs) and runs[index][0] < start:
            index += 1
        groups: List[Tuple[int, int]] = []
        while index < len(runs) and runs[index][1] <= stop:
            groups.append(runs[index])
            index += 1
        if sum(end - begin for begin, end in groups) < _MIN_DIGITS:
            continue  # no sub-grouping can reach a phone's length
        while groups:
            span, used = _best_phone(text, start, groups, scan)
            if span is not None:
                yield span
            groups = groups[used:]  # what follows a number may be another number
            if groups:
                start = groups[0][0]
