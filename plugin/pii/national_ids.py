"""National identifiers: Dutch BSN (11-proof), US SSN (area/group/serial rules), passport numbers (context required)."""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import elfproef_valid
from plugin.pii.context_words import REFERENCE_BEFORE
from plugin.pii.scan import Scan, finditer, has_word_near, is_ascii_word_char, search
from plugin.pii.spans import Span

# Not a tail of a longer grouped run ("0051 912 347 259", "+421 (0)912 123 965"): those are one number.
_BSN = regex.compile(
    r"(?<![\w.,\-+/)]|\d )(?:\d{9}|\d{4}\.\d{2}\.\d{3}|\d{3}\.\d{3}\.\d{3}|\d{3} \d{3} \d{3})(?![\w]|[.,\-/ ]\d)"
)
_BSN_CONTEXT = regex.compile(r"(?i)\b(?:bsn|burgerservice\w*|sofi\w*|citizen)")

# Another identifier's word before nine digits names what they are (11-proof passes for 1 in 11 random numbers).
_OTHER_ID_BEFORE = regex.compile(
    r"(?i)\b(?:ssn|social\s+security|ss#|taxpayer|passport|pasport|paspoort\w*|reisepass\w*|pass(?:nummer|nr)"
    r"|reisdocument\w*|travel\s+document|passeport)"
)

_SSN = regex.compile(r"(?<![\w.,\-+/])(?P<area>\d{3})(?P<sep>[- ]?)(?P<group>\d{2})(?P=sep)(?P<serial>\d{4})(?![\w]|[.,\-/]\d)")
_SSN_CONTEXT = regex.compile(r"(?i)\b(?:ssn|social\s+security|ss#|tin\b|taxpayer)")

_PASSPORT = regex.compile(r"(?<![\w\-])[A-Za-z0-9]{6,9}(?![\w\-])")
# Digits only after "(030) " or "0151/" are the subscriber part of a phone number, not a passport number.
_PHONE_PREFIX_BEFORE = regex.compile(r"(?:\(\d{2,5}\)\s?|\d/)$")
# With fewer than two digits only the capitalised NL shape (check digit last) or the DE alphabet, which has no
# vowels, are specific enough to tell a document number from a word.
_PASSPORT_FEW_DIGITS = regex.compile(r"[A-NP-Z]{2}[A-NP-Z0-9]{6}\d|[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}")
# German "Pass" alone is a passport only after a possessive ("mein Pass"); in English "pass" is a boarding or bus pass.
_PASSPORT_CONTEXT = regex.compile(
    r"(?i)\b(?:passport|pasport|paspoort\w*|reisepass\w*|pass(?:nummer|nr)|reisdocument\w*|travel\s+document|passeport"
    r"|(?:mein|meinen|meinem|dein|deinen|ihr|ihren|sein|seinen|unser|unseren)\s+pass\b)"
)
_PASSPORT_SHAPES = regex.compile(
    r"[A-NP-Z]{2}[A-NP-Z0-9]{6}\d"  # NL: 2 letters, 6 letters/digits, 1 digit (no letter O)
    r"|[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}"  # DE
    r"|\d{9}|[A-Z]\d{8}|[A-Z]{2}\d{7}"  # US / GB
    r"|[A-Z0-9]{6,9}",
    regex.IGNORECASE,
)


# The grouped forms of _BSN and _SSN: (group lengths, separators that may join them, the same one twice).
_BSN_GROUPS = (((4, 2, 3), "."), ((3, 3, 3), ". "))
_SSN_GROUPS = (((3, 2, 4), "- "),)


def _has_nine_digits(scan: Scan, groups: tuple) -> bool:
    """A whole run of nine digits, or three runs of the given lengths joined twice by the same one-character gap."""
    if 9 in scan.lengths:
        return True
    return any(
        gap in separators and tuple(lengths) == shape
        for _index, gap, lengths in scan.same_gap_groups(3)
        for shape, separators in groups
    )


def may_hold_bsn(scan: Scan) -> bool:
    """Gate: a BSN is nine digits, plain or in the dotted or spaced groups of _BSN."""
    return scan.digit_total >= 9 and _has_nine_digits(scan, _BSN_GROUPS)


def may_hold_ssn(scan: Scan) -> bool:
    """Gate: an SSN is nine digits, plain or grouped 3-2-4 by dashes or spaces."""
    return scan.digit_total >= 9 and _has_nine_digits(scan, _SSN_GROUPS)


def may_hold_passport(scan: Scan) -> bool:
    """Gate: a passport number needs a _PASSPORT_CONTEXT word, and each of those contains one of these pieces (in
    ``Scan.lower``, which also folds the odd letters the IGNORECASE pattern accepts): "password" holds none."""
    lower = scan.lower
    if "pas" not in lower and "reis" not in lower and "travel" not in lower:
        return False  # most chat: three substring tests
    if "reis" in lower or "travel" in lower or "pasp" in lower or "passp" in lower or "passn" in lower or "passe" in lower:
        return True
    index = lower.find("pass")  # "mein Pass": the word ends there (no ASCII letter, digit or _ follows)
    while index >= 0:
        after = lower[index + 4 : index + 5]
        if not is_ascii_word_char(after):
            return True
        index = lower.find("pass", index + 1)
    return False


def is_ssn(area: str, group: str, serial: str) -> bool:
    """SSA rules: area not 000, 666 or 900-999; group not 00; serial not 0000."""
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def find_bsns(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 9:
        return
    for match in finditer(_BSN, scan, scan.digit_start(0)):
        digits = "".join(char for char in match.group() if char.isdigit())
        if not elfproef_valid(digits):
            continue
        start = match.start()
        if not has_word_near(_BSN_CONTEXT, scan, start, match.end(), 30, 0) and (
            search(REFERENCE_BEFORE, scan, max(0, start - 30), start)
            or search(_OTHER_ID_BEFORE, scan, max(0, start - 40), start)
        ):
            continue  # labelled as an order number, a passport or an SSN: the 11-proof alone does not make it a BSN
        yield make_span(start, match.end(), "bsn", {"country": "NL"}, validated=True)


def find_ssns(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 9:
        return
    for match in finditer(_SSN, scan, scan.digit_start(0)):
        if not is_ssn(match.group("area"), match.group("group"), match.group("serial")):
            continue
        if not match.group("sep") and not has_word_near(_SSN_CONTEXT, scan, match.start(), match.end(), 40, 10):
            continue  # nine bare digits are too common to call an SSN without context
        yield make_span(match.start(), match.end(), "ssn", {"country": "US"}, validated=True)


def find_passports(scan: Scan) -> Iterator[Span]:
    # A context word inside a window is one in the whole text too (the pattern ends in no boundary or lookahead that
    # a window's end could fake), so a text without any has no passport number.
    if not may_hold_passport(scan) or search(_PASSPORT_CONTEXT, scan, 0, len(scan.text)) is None:
        return
    for match in finditer(_PASSPORT, scan):
        value = match.group()
        if sum(char.isdigit() for char in value) < 2 and not (
            len(value) == 9 and "A" <= value[0] <= "Z" and _PASSPORT_FEW_DIGITS.fullmatch(value)
        ):
            continue  # both shapes are nine characters from a capital on: most words are not even tried
        if value.isdigit() and _PHONE_PREFIX_BEFORE.search(scan.text, max(0, match.start() - 8), match.start()):
            continue
        if _PASSPORT_SHAPES.fullmatch(value) and has_word_near(
            _PASSPORT_CONTEXT, scan, match.start(), match.end(), 40, 15
        ):
            yield make_span(match.start(), match.end(), "passport")
