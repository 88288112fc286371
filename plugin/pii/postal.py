"""Postal codes: Dutch ``1234 AB``, British postcodes (``SW1A 1AA``), German 5-digit codes only with address context.

Upper-case letters make a code on their own; ``A4000`` product codes never match. Typed in lower case (``1234ab``,
``sw1a 1aa``) a code needs a postal word before it (postcode, pc, zip, address...) or a capitalised place name after
it, and common two-letter words are never its letters: ``1000 km`` or ``2000 in`` are not postal codes.
"""

from __future__ import annotations

from typing import Iterator, Optional

import regex

from plugin.pii.builders import make_span
from plugin.pii.context_words import ADDRESS_WORDS
from plugin.pii.scan import Scan, finditer, has_word_near, hint_pattern, is_ascii_word_char
from plugin.pii.spans import Span

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
_ANY_CASE_PAIR_AFTER_DIGIT = regex.compile(r"\d ?[A-Za-z]{2}(?![\w])")
_NL_ANY_CASE = regex.compile(_NL.pattern, regex.IGNORECASE)
_GB_ANY_CASE = regex.compile(_GB.pattern, regex.IGNORECASE)
# Units, ordinals and short words of en/nl/de that follow a number: never a lower-case code's letters.
_NOT_CODE_LETTERS = frozenset(
    "am an as at be by cm do en er es go hz in is it kb kg km kw mb mg ml mm my nd no of on op or pm rd so st te th "
    "to tv uk up us we ab da du im ja ob um zu".split()
)
# A postal or address word before a lower-case code (one search for both kinds of word).
_POSTAL_WORD_BEFORE = regex.compile(r"(?i)\b(?:post\s?code|postal|pc|zip|plz|postleitzahl|" + ADDRESS_WORDS + r")\b")
_PLACE_AFTER = regex.compile(r",?\s[A-ZÄÖÜ][a-zäöüßéè]{2,}")


def _letters_follow(text: str, end: int) -> bool:
    """Two letters ending a word right after a run, or after one space (a NL code's form; a GB code's inward digit
    has none): how every NL and GB code ends. Unless both are A-Z they are a lower-case code's, which are never
    the short words of _NOT_CODE_LETTERS ("8993 is")."""
    if end < len(text) and text[end] == " ":
        end += 1
    after = text[end + 2 : end + 3]  # the codes end in (?![\w]); "²" is alphanumeric for Python but not \w
    pair = text[end : end + 2]
    if not pair.isalpha() or is_ascii_word_char(after):
        return False
    return (pair.isascii() and pair.isupper()) or pair.lower() not in _NOT_CODE_LETTERS


# Pieces of every _DE_CONTEXT match (case-folded): a DE code needs one of those words.
_DE_CONTEXT_HINT = hint_pattern(
    ("plz", "postleitzahl", "post", "zip", "adresse", "anschrift", "address", "wohn", "stra", "str.", "weg", "allee",
     "platz", "gasse")
)


def may_hold_postal_code(scan: Scan) -> bool:
    """Gate: a DE code is a whole run of five digits and needs an address word; NL and GB codes end in a run of at
    most four, then letters."""
    text = scan.text
    de_context: Optional[bool] = None  # looked up once, when a five-digit run asks
    for (_, end), length in zip(scan.runs, scan.lengths):
        if length <= 4 and _letters_follow(text, end):
            return True
        if length == 5:
            if de_context is None:
                de_context = _DE_CONTEXT_HINT.search(scan.lower) is not None
            if de_context:
                return True
    return False


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
                # An address word up to 40 characters before, with a city name after; else up to 20 before.
                reach = 40 if _DE_CITY_AFTER.match(text, end) else 20
                if has_word_near(_DE_CONTEXT, scan, start, end, reach, 0):
                    yield make_span(start, end, "postal_code", {"country": "DE"})
    if letters_follow:
        for match in finditer(_GB, scan, scan.digit_start(4)):  # "GIR 0AA"
            yield make_span(match.start(), match.end(), "postal_code", {"country": "GB"})
    if not text.isupper() and _ANY_CASE_PAIR_AFTER_DIGIT.search(text):
        yield from _lower_case_codes(scan)


def _lower_case_codes(scan: Scan) -> Iterator[Span]:
    """Codes typed with lower-case letters, where the text says it is an address (the upper-case ones are found
    above: a match equal to its upper-case form is skipped here)."""
    text = scan.text
    for pattern, country, lead in ((_NL_ANY_CASE, "NL", 0), (_GB_ANY_CASE, "GB", 4)):
        for match in finditer(pattern, scan, scan.digit_start(lead)):
            value = match.group()
            if value == value.upper() or value[-2:].lower() in _NOT_CODE_LETTERS:
                continue
            start, end = match.start(), match.end()
            if _PLACE_AFTER.match(text, end) or has_word_near(_POSTAL_WORD_BEFORE, scan, start, end, 40, 0):
                yield make_span(start, end, "postal_code", {"country": country})
