"""National identifiers: Dutch BSN (11-proof), US SSN (area/group/serial rules), passport numbers (context required)."""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.checksums import elfproef_valid
from plugin.pii.context_words import REFERENCE_BEFORE
from plugin.pii.scan import Scan, finditer, has_word_near, search
from plugin.pii.spans import Span

_BSN = regex.compile(r"(?<![\w.,\-+/])(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}\.\d{3}\.\d{3}|\d{3} \d{3} \d{3})(?![\w]|[.,\-/]\d)")
_BSN_CONTEXT = regex.compile(r"(?i)\b(?:bsn|burgerservice\w*|sofi\w*|citizen)")

_SSN = regex.compile(r"(?<![\w.,\-+/])(?P<area>\d{3})(?P<sep>[- ]?)(?P<group>\d{2})(?P=sep)(?P<serial>\d{4})(?![\w]|[.,\-/]\d)")
_SSN_CONTEXT = regex.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tin\b|taxpayer)")

_PASSPORT = regex.compile(r"(?<![\w\-])(?=[A-Za-z0-9]*\d[A-Za-z0-9]*\d)[A-Za-z0-9]{6,9}(?![\w\-])")
_PASSPORT_CONTEXT = regex.compile(
    r"(?i)\b(?:passport|pasport|paspoort\w*|reisepass\w*|pass(?:nummer|nr)|reisdocument\w*|travel\s+document|passeport)"
)
_PASSPORT_SHAPES = regex.compile(
    r"[A-NP-Z]{2}[A-NP-Z0-9]{6}\d"  # NL: 2 letters, 6 letters/digits, 1 digit (no letter O)
    r"|[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}"  # DE
    r"|\d{9}|[A-Z]\d{8}|[A-Z]{2}\d{7}"  # US / GB
    r"|[A-Z0-9]{6,9}",
    regex.IGNORECASE,
)


def is_ssn(area: str, group: str, serial: str) -> bool:
    """SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def find_bsns(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 9:
        return
    for match in finditer(_BSN, scan):
        digits = "".join(char for char in match.group() if char.isdigit())
        if not elfproef_valid(digits):
            continue
        start = match.start()
        if search(REFERENCE_BEFORE, scan, max(0, start - 30), start) and not has_word_near(
            _BSN_CONTEXT, scan, start, match.end(), 30, 0
        ):
            continue
        yield Span(start, match.end(), "bsn", {"country": "NL"}, validated=True)


def find_ssns(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 9:
        return
    for match in finditer(_SSN, scan):
        if not is_ssn(match.group("area"), match.group("group"), match.group("serial")):
            continue
        if not match.group("sep") and not has_word_near(_SSN_CONTEXT, scan, match.start(), match.end(), 40, 10):
            continue  # nine bare digits are too common to call an SSN without context
        yield Span(match.start(), match.end(), "ssn", {"country": "US"}, validated=True)


def find_passports(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 2 or not any(word in scan.lower for word in ("pas", "pass", "reis", "travel")):
        return
    for match in finditer(_PASSPORT, scan):
        if _PASSPORT_SHAPES.fullmatch(match.group()) and has_word_near(
            _PASSPORT_CONTEXT, scan, match.start(), match.end(), 40, 15
        ):
            yield Span(match.start(), match.end(), "passport")
