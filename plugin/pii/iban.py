"""IBAN: every country of the SWIFT IBAN registry, spaced or not, any case; per-country length and BBAN format + mod 97."""

from __future__ import annotations

from typing import Dict, Iterator, Optional

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import mod97_valid
from plugin.pii.scan import Scan, is_ascii_letter, is_ascii_word_char
from plugin.pii.spans import Span

# Country -> BBAN format in registry notation (n: digits, a: upper-case letters, c: letters or digits).
BBAN_FORMATS: Dict[str, str] = {
    "AD": "4!n4!n12!c", "AE": "3!n16!n", "AL": "8!n16!c", "AT": "5!n11!n", "AZ": "4!a20!c", "BA": "3!n3!n8!n2!n",
    "BE": "3!n7!n2!n", "BG": "4!a4!n2!n8!c", "BH": "4!a14!c", "BI": "5!n5!n11!n2!n", "BR": "8!n5!n10!n1!a1!c",
    "BY": "4!c4!n16!c", "CH": "5!n12!c", "CR": "4!n14!n", "CY": "3!n5!n16!c", "CZ": "4!n6!n10!n", "DE": "8!n10!n",
    "DJ": "5!n5!n11!n2!n", "DK": "4!n9!n1!n", "DO": "4!c20!n", "EE": "2!n2!n11!n1!n", "EG": "4!n4!n17!n",
    "ES": "4!n4!n1!n1!n10!n", "FI": "3!n11!n", "FK": "2!a12!n", "FO": "4!n9!n1!n", "FR": "5!n5!n11!c2!n",
    "GB": "4!a6!n8!n", "GE": "2!a16!n", "GI": "4!a15!c", "GL": "4!n9!n1!n", "GR": "3!n4!n16!c", "GT": "4!c20!c",
    "HN": "4!a20!n", "HR": "7!n10!n", "HU": "3!n4!n1!n15!n1!n", "IE": "4!a6!n8!n", "IL": "3!n3!n13!n",
    "IQ": "4!a3!n12!n", "IS": "4!n2!n6!n10!n", "IT": "1!a5!n5!n12!c", "JO": "4!a4!n18!c", "KW": "4!a22!c",
    "KZ": "3!n13!c", "LB": "4!n20!c", "LC": "4!a24!c", "LI": "5!n12!c", "LT": "5!n11!n", "LU": "3!n13!c",
    "LV": "4!a13!c", "LY": "3!n3!n15!n", "MC": "5!n5!n11!c2!n", "MD": "2!c18!c", "ME": "3!n13!n2!n", "MK": "3!n10!c2!n",
    "MN": "4!n12!n", "MR": "5!n5!n11!n2!n", "MT": "4!a5!n18!c", "MU": "4!a2!n2!n12!n3!n3!a", "NI": "4!a20!n",
    "NL": "4!a10!n", "NO": "4!n6!n1!n", "OM": "3!n16!c", "PK": "4!a16!c", "PL": "8!n16!n", "PS": "4!a21!c",
    "PT": "4!n4!n11!n2!n", "QA": "4!a21!c", "RO": "4!a16!c", "RS": "3!n13!n2!n", "RU": "9!n5!n15!c", "SA": "2!n18!c",
    "SC": "4!a2!n2!n16!n3!a", "SD": "2!n12!n", "SE": "3!n16!n1!n", "SI": "5!n8!n2!n", "SK": "4!n6!n10!n",
    "SM": "1!a5!n5!n12!c", "SO": "4!n3!n12!n", "ST": "4!n4!n11!n2!n", "SV": "4!a20!n", "TL": "3!n14!n2!n",
    "TN": "2!n3!n13!n2!n", "TR": "5!n1!n16!c", "UA": "6!n19!c", "VA": "3!n15!n", "VG": "4!a16!n", "XK": "4!n10!n2!n",
    "YE": "4!a4!n18!c",
}


def _expand(bban_format: str) -> str:
    """'4!a10!n' -> 'aaaannnnnnnnnn': one class letter per position."""
    return "".join(kind * int(count) for count, kind in regex.findall(r"(\d+)!?([nac])", bban_format))


BBAN_CLASSES: Dict[str, str] = {country: _expand(fmt) for country, fmt in BBAN_FORMATS.items()}
IBAN_LENGTHS: Dict[str, int] = {country: 4 + len(classes) for country, classes in BBAN_CLASSES.items()}

_CLASS_PATTERNS = {"n": "[0-9]", "a": "[A-Z]", "c": "[0-9A-Z]"}  # ASCII only, whatever the text's script
BBAN_PATTERNS: Dict[str, "regex.Pattern[str]"] = {
    country: regex.compile("".join(_CLASS_PATTERNS[kind] for kind in classes)) for country, classes in BBAN_CLASSES.items()
}


def is_iban(value: str) -> bool:
    """Compact (no separators) value: registry country, exact length, BBAN format and mod 97."""
    value = value.upper()
    classes = BBAN_CLASSES.get(value[:2])
    if classes is None or len(value) != len(classes) + 4 or not value[2:4].isdigit():
        return False
    if BBAN_PATTERNS[value[:2]].fullmatch(value, 4) is None:
        return False
    return mod97_valid(value)


# ``length`` ASCII letters or digits with at most one space or dash between two of them, by IBAN length.
_SIGNIFICANT_RUNS: Dict[int, "regex.Pattern[str]"] = {
    length: regex.compile(r"[A-Za-z0-9](?:[ \-]?[A-Za-z0-9]){%d}" % (length - 1)) for length in set(IBAN_LENGTHS.values())
}


def _take(text: str, start: int, length: int) -> Optional[int]:
    """End offset after ``length`` significant chars from ``start``, allowing single spaces/dashes between them."""
    match = _SIGNIFICANT_RUNS[length].match(text, start)
    if match is None:
        return None
    index = match.end()
    if index < len(text) and text[index].isalnum():
        return None
    return index


def _country_before(text: str, start: int) -> str:
    """The registry country whose code stands right before a run of check digits at ``start`` (two ASCII letters, not
    glued on to a letter or digit before them), or ""."""
    if start < 2 or not (is_ascii_letter(text[start - 2]) and is_ascii_letter(text[start - 1])):
        return ""
    if start > 2 and is_ascii_word_char(text[start - 3]) and text[start - 3] != "_":
        return ""
    country = text[start - 2 : start].upper()
    return country if country in IBAN_LENGTHS else ""


def may_hold_iban(scan: Scan) -> bool:
    """Gate: an IBAN's check digits start a run of 2+ digits right after a registry country's two letters."""
    text = scan.text
    return any(
        length >= 2 and _country_before(text, start) != "" for (start, _), length in zip(scan.runs, scan.lengths)
    )


def find_ibans(scan: Scan) -> Iterator[Span]:
    """An IBAN starts two letters before a run of 2+ digits (its check digits), so only those places are tried."""
    text = scan.text
    for (run_start, _), digits in zip(scan.runs, scan.lengths):
        if digits < 2:
            continue
        country = _country_before(text, run_start)
        if not country:
            continue
        start = run_start - 2
        end = _take(text, start, IBAN_LENGTHS[country])
        if end is None:
            continue
        compact = text[start:end].replace(" ", "").replace("-", "")
        if is_iban(compact):
            yield make_span(start, end, "iban", {"country": country}, validated=True)
