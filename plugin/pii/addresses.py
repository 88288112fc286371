"""Street addresses with a house number: Dutch/German one-word streets (``Keizersgracht 123``, ``Hauptstraße 5a``)
and English ``12 Baker Street``; the seeds' "word before road/alley" rule, generalised to street-type words."""

from __future__ import annotations

import re
from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.context_words import ADDRESS_BEFORE
from plugin.pii.scan import Scan, finditer, has_word_near, hint_pattern, is_ascii_letter, is_ascii_word_char, is_letter
from plugin.pii.spans import Span

# Strong suffixes are street words on their own; weak ones ("weg", "ring", "pad") also end ordinary words
# (onderweg, during, iPad), so those streets must start with a capital letter.
_STRONG_SUFFIXES = "straat|gracht|laan|plein|kade|singel|dijk|burgwal|plantsoen|straße|strasse|allee|platz|gasse|chaussee"
_WEAK_SUFFIXES = "weg|hof|pad|steeg|markt|wal|veld|erf|haven|baan|dreef|str\\.|ring|damm|ufer|stieg|pfad|steig"
_HOUSE_NUMBER = r"\d{1,5}(?:\s?[a-zA-Z](?![\w])|\s?-\s?\d{1,4}|(?:\s?|-)(?:hs|bis|I{1,3}|IV)\b)?"
# Anchored on the house number (only digits start a match); the street word is then found by walking back.
_NL_DE_NUMBER = regex.compile(r"(?<![\w])" + _HOUSE_NUMBER + r"(?![\w])")
_SUFFIX_BEFORE = regex.compile(
    r"[^\W\d_](?i:(?P<strong>" + _STRONG_SUFFIXES + r")|(?P<weak>" + _WEAK_SUFFIXES + r"))\s?$"
)
# A street named in two words: a capitalised word, then the street word on its own ("Berliner Straße 12").
_SEPARATE_SUFFIX_BEFORE = regex.compile(
    r"(?<![\w])[A-ZÄÖÜ][^\W\d_]+\s(?=[A-ZÄÖÜ])(?i:" + _STRONG_SUFFIXES + "|" + _WEAK_SUFFIXES + r")\s?$"
)
_PARTICLE_BEFORE = regex.compile(r"(?<![\w])(?:[Vv]an|[Dd]e|[Dd]er|[Aa]m|[Aa]n|[Ii]m|[Tt]en|[Tt]er|[Ss]int|St\.)\s$")
_STREET_CHARS = frozenset("-'.")
# Case-folded suffix endings for a C-speed pre-check before ``_SUFFIX_BEFORE`` (most numbers follow no street word).
_SUFFIX_ENDINGS = tuple({word.replace("\\", "").casefold() for word in (_STRONG_SUFFIXES + "|" + _WEAK_SUFFIXES).split("|")})
# Their last three characters (every suffix has at least three): the first test of _may_end_in_suffix.
_SUFFIX_TAILS = frozenset(ending[-3:] for ending in _SUFFIX_ENDINGS)


def _may_follow_street_word(text: str, number_start: int) -> bool:
    """Cheap pre-check for ``_SUFFIX_BEFORE``: a street word (ending in a letter or "str.") then at most one space."""
    before = number_start - 1
    if before >= 0 and text[before].isspace():
        before -= 1
    return before >= 0 and (is_letter(text[before]) or text[before] == ".")


def _may_end_in_suffix(text: str, number_start: int) -> bool:
    """Pre-check for ``_SUFFIX_BEFORE``: the 12 characters before the number, with or without their last one (the
    optional space), end in a street suffix once case-folded (folding also covers the regex's case-insensitive forms)."""
    # Case-folding is per character, so the folded window ends as its last three characters fold.
    if (
        text[max(0, number_start - 3) : number_start].casefold()[-3:] not in _SUFFIX_TAILS
        and text[max(0, number_start - 4) : max(0, number_start - 1)].casefold()[-3:] not in _SUFFIX_TAILS
    ):
        return False
    window = text[max(0, number_start - 12) : number_start]
    return window.casefold().endswith(_SUFFIX_ENDINGS) or window[:-1].casefold().endswith(_SUFFIX_ENDINGS)


def _street_start(text: str, number_start: int) -> int:
    """Start of the street word that ends right before the house number (at most 41 characters back)."""
    index = number_start
    if index > 0 and text[index - 1].isspace():
        index -= 1
    limit = max(0, index - 42)
    while index > limit and (text[index - 1].isalnum() or text[index - 1] == "_" or text[index - 1] in _STREET_CHARS):
        index -= 1
    while index < number_start and not text[index].isalpha():
        index += 1  # a street word starts with a letter
    return index


_EN_TYPES = (
    "street|st\\.?|road|rd\\.?|avenue|ave\\.?|lane|ln\\.?|drive|dr\\.?|boulevard|blvd\\.?|way|court|ct\\.?|place|pl\\.?"
    "|alley|square|sq\\.?|terrace|close|crescent|gardens|grove|parkway|highway|hwy|row|mews|walk"
)
# Name words must be capitalised: "5 miles down the road" is not an address.
_EN = regex.compile(r"(?<![\w])\d{1,5}[A-Za-z]?,?\s(?:[A-Z][\w'\-]*\s){1,3}(?i:" + _EN_TYPES + r")(?![\w])")
_STREET_HINTS = ("str", "laan", "weg", "gracht", "plein", "kade", "singel", "dijk", "dreef", "hof", "pad", "steeg", "markt",
                 "wal", "veld", "plantsoen", "erf", "haven", "baan", "allee", "platz", "gasse", "ring", "damm", "ufer",
                 "chaussee", "stieg", "steig", "road", "rd", "ave", "lane", "ln", "dr", "blvd", "way", "court", "ct",
                 "place", "pl", "alley", "square", "sq", "terrace", "close", "crescent", "gardens", "grove", "parkway",
                 "highway", "hwy", "row", "mews", "walk", "st")
_STREET_HINT = hint_pattern(_STREET_HINTS)
# What every _EN match holds, for its gate on ``Scan.lower`` (case-folded): a street type right after whitespace and
# not followed by an ASCII letter or digit (which any \w is).
_EN_TYPE_WORD = re.compile(r"\s(?:" + _EN_TYPES + r")(?![A-Za-z0-9_])")


def _may_start_en_address(text: str, end: int) -> bool:
    """After a house number, _EN needs an optional letter and comma, one space, then a capital letter."""
    if end < len(text) and is_ascii_letter(text[end]):
        end += 1
    if end < len(text) and text[end] == ",":
        end += 1
    return end + 1 < len(text) and text[end].isspace() and "A" <= text[end + 1] <= "Z"


def may_hold_address(scan: Scan) -> bool:
    """Gate: a house number is a whole run of at most five digits after a street word (NL/DE, and some street word
    must occur) or before capitalised words (EN, and a street type must follow some whitespace)."""
    text = scan.text
    english = False
    for (start, end), length in zip(scan.runs, scan.lengths):
        if length > 5 or (start > 0 and is_ascii_word_char(text[start - 1])):
            continue  # both patterns' house numbers begin after no \w ("7a78:bf4e" holds none)
        if _may_follow_street_word(text, start) and _may_end_in_suffix(text, start):
            return _STREET_HINT.search(scan.lower) is not None
        english = english or _may_start_en_address(text, end)
    return english and _EN_TYPE_WORD.search(scan.lower) is not None


def find_addresses(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 1 or not _STREET_HINT.search(scan.lower):
        return
    text = scan.text
    for match in finditer(_NL_DE_NUMBER, scan, scan.digit_start(0)):
        if not _may_follow_street_word(text, match.start()) or not _may_end_in_suffix(text, match.start()):
            continue
        suffix = _SUFFIX_BEFORE.search(text, max(0, match.start() - 12), match.start())
        if suffix is None:
            two_words = _SEPARATE_SUFFIX_BEFORE.search(text, max(0, match.start() - 45), match.start())
            if two_words is None:
                continue
            start = two_words.start()
        else:
            start = _street_start(text, match.start())
            if start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
                continue
            if suffix.group("weak") and not text[start].isupper() and not has_word_near(ADDRESS_BEFORE, scan, start, start, 40, 0):
                continue  # "onderweg 12": a weak street word in lower case needs an address word before it
            particle = _PARTICLE_BEFORE.search(text, max(0, start - 6), start)
            if particle:
                start = particle.start()
        yield make_span(start, match.end(), "street_address")
    for match in finditer(_EN, scan, scan.digit_start(0)):
        yield make_span(match.start(), match.end(), "street_address")
