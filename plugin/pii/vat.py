"""VAT numbers: Dutch (old 11-proof and 2020 mod 97 formats), German USt-IdNr (ISO 7064 mod 11,10), other EU VAT ids.

Each entry: country prefix -> body pattern and optional check-digit function (None: format only).
"""

from __future__ import annotations

import re
import string
from typing import Callable, Dict, FrozenSet, Iterator, List, Optional, Tuple

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import alnum_to_number, iso7064_mod11_10_valid, luhn_valid, weighted_mod11
from plugin.pii.scan import Scan, finditer, fold_case, is_ascii_word_char, is_letter, only_chars
from plugin.pii.spans import Span


def _nl_valid(body: str) -> bool:
    """NL: 9 digits + 'B' + 2 digits; the 9 digits pass the 11-proof (RSIN) or 'NL'+body passes mod 97 (2020)."""
    digits = body[:9]
    old = sum(weight * int(char) for weight, char in zip(range(9, 1, -1), digits[:8])) % 11 == int(digits[8])
    return old or alnum_to_number("NL" + body) % 97 == 1


def _be_valid(body: str) -> bool:
    body = body.rjust(10, "0")
    return 97 - int(body[:8]) % 97 == int(body[8:])


def _fr_valid(body: str) -> bool:
    key, siren = body[:2], body[2:]
    if not key.isdigit():
        return True  # newer alphanumeric keys have no simple check
    return int(key) == (12 + 3 * (int(siren) % 97)) % 97


def _at_valid(body: str) -> bool:
    digits = body[1:]
    total = 0
    for index, char in enumerate(digits[:7]):
        value = int(char) * (2 if index % 2 else 1)
        total += value // 10 + value % 10
    return (96 - total) % 10 == int(digits[7])


def _dk_valid(body: str) -> bool:
    return weighted_mod11(body, (2, 7, 6, 5, 4, 3, 2, 1)) == 0


def _fi_valid(body: str) -> bool:
    remainder = weighted_mod11(body[:7], (7, 9, 10, 5, 8, 4, 2))
    return (0 if remainder == 0 else 11 - remainder) == int(body[7]) and remainder != 1


VAT_FORMATS: Dict[str, Tuple[str, Optional[Callable[[str], bool]]]] = {
    "NL": (r"\d{9}B\d{2}", _nl_valid),
    "DE": (r"\d{9}", iso7064_mod11_10_valid),
    "BE": (r"[01]?\d{9}", _be_valid),
    "FR": (r"[0-9A-HJ-NP-Z]{2}\d{9}", _fr_valid),
    "IT": (r"\d{11}", luhn_valid),
    "AT": (r"U\d{8}", _at_valid),
    "DK": (r"\d{8}", _dk_valid),
    "FI": (r"\d{8}", _fi_valid),
    "HR": (r"\d{11}", iso7064_mod11_10_valid),
    "ES": (r"[0-9A-Z]\d{7}[0-9A-Z]", None),
    "PT": (r"\d{9}", None),
    "PL": (r"\d{10}", None),
    "SE": (r"\d{10}01", None),
    "IE": (r"\d{7}[A-W][A-I]?|\d[A-Z+*]\d{5}[A-W]", None),
    "LU": (r"\d{8}", None),
    "CZ": (r"\d{8,10}", None),
    "SK": (r"\d{10}", None),
    "SI": (r"\d{8}", None),
    "HU": (r"\d{8}", None),
    "RO": (r"\d{2,10}", None),
    "BG": (r"\d{9,10}", None),
    "EL": (r"\d{9}", None),
    "CY": (r"\d{8}[A-Z]", None),
    "EE": (r"\d{9}", None),
    "LV": (r"\d{11}", None),
    "LT": (r"\d{9}|\d{12}", None),
    "MT": (r"\d{8}", None),
    "XI": (r"\d{9}|\d{12}", None),
}

# How many digits each country's body holds (a test checks these against VAT_FORMATS): the gate's length test.
BODY_DIGITS: Dict[str, FrozenSet[int]] = {
    country: frozenset(counts)
    for country, counts in {
        "NL": (11,), "DE": (9,), "BE": (9, 10), "FR": (9, 10, 11), "IT": (11,), "AT": (8,), "DK": (8,), "FI": (8,),
        "HR": (11,), "ES": (7, 8, 9), "PT": (9,), "PL": (10,), "SE": (12,), "IE": (6, 7), "LU": (8,),
        "CZ": (8, 9, 10), "SK": (10,), "SI": (8,), "HU": (8,), "RO": range(2, 11), "BG": (9, 10), "EL": (9,),
        "CY": (8,), "EE": (9,), "LV": (11,), "LT": (9, 12), "MT": (8,), "XI": (9, 12),
    }.items()
}

_VAT = regex.compile(
    r"(?<![\w])(?P<country>" + "|".join(VAT_FORMATS) + r")[ \-.]?(?P<body>[0-9A-Z]? ?\d[0-9A-Z+*]*(?:[ .][0-9A-Z+*]+){0,4})(?![\w])",
    regex.IGNORECASE,
)
_BODY_PATTERNS = {country: regex.compile(pattern) for country, (pattern, _check) in VAT_FORMATS.items()}


# What may stand between two digit runs of one body: letters (with the three non-ASCII ones that IGNORECASE [A-Z]
# also matches: dotless i, long s, Kelvin sign), "+", "*", and the spaces and dots between groups.
_BODY_GAP_CHARS = string.ascii_letters + "+* .\u0131\u017f\u212a"
_CODE_TO_BODY = re.compile("[ \\-.]?[0-9A-Za-z\u0131\u017f\u212a]? ?")  # _VAT between the code and the first digit


def _joins_body(gap: str) -> bool:
    return only_chars(gap, _BODY_GAP_CHARS)


def _country_codes_before(text: str, start: int) -> List[str]:
    """The VAT country codes (any case) that end 0-3 characters before the digit at ``start``: _VAT's code,
    [ -.]?, one letter or digit, and a space may stand between."""
    codes: List[str] = []
    for end in range(start, max(2, start - 3) - 1, -1):
        if not (is_letter(text[end - 1]) and is_letter(text[end - 2])):
            continue  # the cheap test first: most runs follow a space
        if end >= 3 and is_ascii_word_char(text[end - 3]):
            continue  # the code must start a word ("order 123" holds no DE)
        pair = text[end - 2 : end]
        code = pair.upper() if pair.isascii() else fold_case(pair).upper()  # "ſe", Kelvin sign: as IGNORECASE
        if code in VAT_FORMATS and _CODE_TO_BODY.fullmatch(text, end, start):
            codes.append(code)
    return codes


def may_hold_vat_number(scan: Scan) -> bool:
    """Gate: a VAT id's body starts with the run right after a country code and holds, in that run and the runs
    joined to it (the body may end after any of them), as many digits as that country's ids have (6 at least)."""
    if scan.digit_total < MIN_DIGITS:
        return False
    text, runs, lengths, gaps = scan.text, scan.runs, scan.lengths, scan.gaps
    for index in range(len(runs)):
        codes = _country_codes_before(text, runs[index][0])
        if not codes:
            continue
        digits, last = 0, index
        while True:
            digits += lengths[last]
            if digits >= MIN_DIGITS and any(digits in BODY_DIGITS[code] for code in codes):
                return True
            if last >= len(gaps) or not _joins_body(gaps[last]):
                break
            last += 1
    return False


def vat_country(value: str) -> Optional[str]:
    """Country of a compact VAT id (prefix + body) whose format and check digits are valid, else None."""
    value = value.upper()
    country, body = value[:2], value[2:]
    pattern = _BODY_PATTERNS.get(country)
    if pattern is None or not pattern.fullmatch(body):
        return None
    check = VAT_FORMATS[country][1]
    return country if check is None or check(body) else None


MIN_DIGITS = 6
"""Shortest VAT id detected, in digits (IE and ES ids have 6-8). Applied per id, not per text, so that an id is found
or not on its own, whatever other numbers the message holds; RO ids of 2-5 digits are too short to tell from words."""


def find_vat_numbers(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < MIN_DIGITS:
        return
    for match in finditer(_VAT, scan, scan.digit_start(5)):  # "ES-X 1": code, separator, letter, space, digit
        code, body = match.group("country", "body")
        counts = BODY_DIGITS.get(code.upper())
        # The body may run into the next word ("NL123456789B01 please"); trim at the first space that ends the id.
        for end_offset in _candidate_ends(body):
            digits = _ascii_digits(body, end_offset)
            if digits < MIN_DIGITS or (counts is not None and digits not in counts):
                continue  # too short, or the country's format cannot match: skip its pattern and check digits
            # The body holds letters, digits, "+", "*" and the spaces and dots between groups.
            country = vat_country(code + body[:end_offset].replace(" ", "").replace(".", ""))
            if country:
                end = match.start("body") + end_offset
                validated = VAT_FORMATS[country][1] is not None
                yield make_span(match.start(), end, "vat_number", {"country": country}, validated=validated)
                break


def _ascii_digits(text: str, end: int) -> int:
    """How many of ``text[:end]`` are ASCII digits (the only digits a VAT body holds)."""
    count = 0
    for index in range(end):
        if 48 <= ord(text[index]) <= 57:
            count += 1
    return count


def _candidate_ends(body: str) -> Iterator[int]:
    yield len(body)
    for index in range(len(body) - 1, 0, -1):
        if body[index] == " ":
            yield index
