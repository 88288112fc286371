"""Postal codes: Dutch ``1234 AB``, British postcodes (``SW1A 1AA``), German 5-digit codes only with address context.

Letters must be upper case: ``1000 km`` or ``2000 in`` are not postal codes; ``A4000`` product codes never match.
"""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.scan import Scan, finditer, has_word_near
from plugin.pii.spans import Span, make_span

_NL = regex.compile(r"(?<![\w\-.,])[1-9]\d{3} ?(?!SA|SD|SS)[A-Z]{2}(?![\w])")
_GB = regex.compile(
    r"(?<![\w\-])(?:GIR ?0AA|(?:[A-PR-UWYZ][0-9][0-9A-HJKPSTUW]?|[A-PR-UWYZ][A-HK-Y][0-9][0-9ABEHMNPRVWXY]?) ?[0-9][ABD-HJLNP-UW-Z]{2})(?![\w])"
)
_DE = regex.compile(r"(?<![\w\-.,€$£])\d{5}(?![\w]|[.,\-/]\d)")
_DE_CONTEXT = regex.compile(
    r"(?i)\b(?:plz|postleitzahl|postcode|post\s?code|zip|\w*adresse|\w*anschrift|address|wohne|wohnhaft)\b|(?:stra(?:ss|ß)e|str\.|weg|allee|platz|gasse)\s?\d"
)
_DE_CITY_AFTER = regex.compile(r" [A-ZÄÖÜ][a-zäöüß]{2,}(?:[ \-][A-ZÄÖÜ][a-zäöüß]+)?\b")


_LETTER_PAIR_AFTER_DIGIT = regex.compile(r"\d ?[A-Z]{2}(?![\w])")


def find_postal_codes(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 1:
        return
    text = scan.text
    letters_follow = _LETTER_PAIR_AFTER_DIGIT.search(text) is not None  # both NL and GB codes end this way
    if scan.max_run >= 4:
        if letters_follow:
            for match in finditer(_NL, scan, scan.digit_start(0)):
                yield make_span(match.start(), match.end(), "postal_code", {"country": "NL"})
        if scan.max_run >= 5:
            for match in finditer(_DE, scan, scan.digit_start(0)):
                start, end = match.start(), match.end()
                if has_word_near(_DE_CONTEXT, scan, start, end, 40, 0) and _DE_CITY_AFTER.match(text, end):
                    yield make_span(start, end, "postal_code", {"country": "DE"})
                elif has_word_near(_DE_CONTEXT, scan, start, end, 20, 0):
                    yield make_span(start, end, "postal_code", {"country": "DE"})
    if letters_follow:
        for match in finditer(_GB, scan, scan.digit_start(4)):  # "GIR 0AA"
            yield make_span(match.start(), match.end(), "postal_code", {"country": "GB"})
