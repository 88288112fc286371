"""One message being scanned: the text plus cheap features that let finders skip work (digit counts, case-folded copy)."""

from __future__ import annotations

import re
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

import regex

DIGIT_RUN = regex.compile(r"\d+")

SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.isspace`` accepts (a superset of ``regex``'s ``\\s``; a test checks both), for gap tests."""


# Once compiled by mypyc (see ``compiled``) a character loop finds the runs of an ASCII text ~5x faster than a regex
# pass; interpreted it is ~3x slower, so the sources keep the regex.
_COMPILED = not __file__.endswith(".py")


def _ascii_runs(text: str) -> List[Tuple[int, int]]:
    """The runs of ASCII digits, by one pass over the characters."""
    runs: List[Tuple[int, int]] = []
    start = -1
    index = 0
    length = len(text)
    while index < length:
        code = ord(text[index])
        if 48 <= code <= 57:
            if start < 0:
                start = index
        elif start >= 0:
            runs.append((start, index))
            start = -1
        index += 1
    if start >= 0:
        runs.append((start, length))
    return runs


_FOLD = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0307": None})


def fold_case(text: str) -> str:
    """Lower case, with the letters that ``regex``'s IGNORECASE also takes for s and i ("ſ", "ı", "İ") folded to them:
    for word look-ups and pre-filters (the length may change, so never for offsets)."""
    return _fold_lowered(text.lower())


def _fold_lowered(lower: str) -> str:
    if "\u017f" in lower or "\u0131" in lower or "\u0307" in lower:  # str.translate is slow; these letters are rare
        return lower.translate(_FOLD)
    return lower


# The gates test single characters many times per message; compiled, ``ord`` is a native operation while
# ``str.isalpha``/``isascii`` are generic method calls, so ASCII is decided by the code point.


def is_ascii_word_char(char: str) -> bool:
    """An ASCII letter, digit or underscore: a character every pattern's ``\w`` matches (a gate that refuses only
    on these never refuses what a ``(?<![\w])`` or ``(?![\w])`` would have let through). "" (a text's edge) is not."""
    if len(char) != 1:
        return False
    code = ord(char)
    return 48 <= code <= 57 or 65 <= code <= 90 or 97 <= code <= 122 or code == 95


def only_chars(text: str, allowed: str) -> bool:
    """``not text.strip(allowed)``: every character of ``text`` is one of ``allowed`` (a gap test)."""
    for char in text:
        if char not in allowed:
            return False
    return True


def is_letter(char: str) -> bool:
    """``char.isalpha()`` for one character ("" is no letter)."""
    if len(char) != 1:
        return False
    code = ord(char)
    if code < 128:
        return 65 <= code <= 90 or 97 <= code <= 122
    return char.isalpha()


def is_ascii_letter(char: str) -> bool:
    """``char.isascii() and char.isalpha()`` for one character ("" is none)."""
    if len(char) != 1:
        return False
    code = ord(char)
    return 65 <= code <= 90 or 97 <= code <= 122


def _has_ascii_digit(text: str) -> bool:
    """Ten substring searches (C ``memchr`` speed) beat any regex pass on the digit-free messages most chat consists of."""
    return (
        "0" in text or "1" in text or "2" in text or "3" in text or "4" in text
        or "5" in text or "6" in text or "7" in text or "8" in text or "9" in text
    )


class Scan:
    """Per-message state shared by the finders. ``timeout`` is the remaining regex budget (None: no limit needed)."""

    __slots__ = (
        "text", "lower", "runs", "lengths", "gaps", "digit_total", "max_run", "first_digit", "timeout", "phone_regions",
        "claimed", "settled",
    )

    def __init__(self, text: str, timeout: Optional[float], phone_regions: tuple) -> None:
        self.text = text
        # Only for cheap substring pre-filters (offsets never come from it: lower() may change lengths); folded below
        # for non-ASCII text (see fold_case).
        self.lower = text.lower()
        # Every maximal run of ``\d`` digits as (start, end), its length, and the text between each run and the next:
        # what the finders' gates (``TypeInfo.gate``) read.
        self.runs: List[Tuple[int, int]] = []
        if not text.isascii():
            self.lower = _fold_lowered(self.lower)
            self.runs = [match.span() for match in DIGIT_RUN.finditer(text)]
        elif _has_ascii_digit(text):
            self.runs = _ascii_runs(text) if _COMPILED else [match.span() for match in DIGIT_RUN.finditer(text)]
        self.lengths: List[int] = [end - start for start, end in self.runs]
        if self.runs:
            self.gaps: List[str] = [text[end:start] for (_, end), (start, _) in zip(self.runs, self.runs[1:])]
            self.digit_total = sum(self.lengths)
            self.max_run = max(self.lengths)
            self.first_digit = self.runs[0][0]
        else:
            self.gaps = []
            self.digit_total = self.max_run = 0
            self.first_digit = len(text)
        self.timeout = timeout
        self.phone_regions = phone_regions
        self.claimed: list = []  # (start, end) of checksum-validated finds, which lower-priority finders may skip
        # True while every claimed find is sure to be in the result (set by the engine): then even checksum finders
        # may skip a stretch inside one, since a shorter find of the same class loses to it.
        self.settled = False

    def longest_cluster(self, joins: Callable[[str], bool]) -> int:
        """The most digits in a sequence of runs whose every gap ``joins`` accepts. A finder whose values are such a
        sequence with N digits cannot find one when this is below N."""
        lengths = self.lengths
        if not lengths:
            return 0
        best = total = lengths[0]
        for gap, length in zip(self.gaps, lengths[1:]):
            total = total + length if joins(gap) else length
            if total > best:
                best = total
        return best

    def same_gap_groups(self, count: int) -> Iterator[Tuple[int, str, List[int]]]:
        """(index of the first run, gap, lengths) of every ``count`` consecutive runs joined by one and the same
        one-character gap: the shape of dates ("12.05.1985"), grouped national ids ("123 456 782") and IPv4."""
        gaps, lengths = self.gaps, self.lengths
        for index in range(len(gaps) - count + 2):
            gap = gaps[index]
            if len(gap) == 1 and all(other == gap for other in gaps[index + 1 : index + count - 1]):
                yield index, gap, lengths[index : index + count]

    def claim(self, spans: list) -> None:
        """Record checksum-validated spans: they win every overlap, so later finders need not validate inside them."""
        self.claimed.extend((span.start, span.end) for span in spans if span.validated)

    def digit_start(self, lead: int) -> int:
        """Where a pass may start when every match has a digit at most ``lead`` characters after its start: no match
        can begin earlier, and lookbehinds still see the text before ``pos``, so the matches are the same."""
        return max(0, self.first_digit - lead)

    def is_claimed(self, start: int, end: int) -> bool:
        return any(low <= start and end <= high for low, high in self.claimed)


def hint_pattern(words: Iterable[str]) -> "re.Pattern[str]":
    """A literal-set test (stdlib ``re``, ~10x faster than ``any(word in text ...)`` over many words) for the cheap
    pre-filters on ``Scan.lower``. It only answers whether some word occurs, so a word containing another word ("str"
    and "st") is left out, and the words are merged into a prefix tree so each position tries a few branches, not all."""
    unique = set(words)
    needed = [word for word in unique if not any(other != word and other in word for other in unique)]
    trie: dict = {}
    for word in needed:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here
    return re.compile(_trie_regex(trie))


def _trie_regex(node: dict) -> str:
    branches = [re.escape(char) + _trie_regex(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return "(?:" + body + ")?" if "" in node else body


def finditer(pattern: "regex.Pattern[str]", scan: Scan, pos: int = 0, endpos: Optional[int] = None):
    """``pattern.finditer`` under the scan's time budget (the keyword costs ~1 µs, so it is passed only when set)."""
    end = len(scan.text) if endpos is None else endpos
    if scan.timeout is None:
        return pattern.finditer(scan.text, pos, end)
    return pattern.finditer(scan.text, pos, end, timeout=scan.timeout)


def search(pattern: "regex.Pattern[str]", scan: Scan, pos: int, endpos: int):
    """``pattern.search`` under the scan's time budget."""
    if scan.timeout is None:
        return pattern.search(scan.text, pos, endpos)
    return pattern.search(scan.text, pos, endpos, timeout=scan.timeout)


def match_at(pattern: "regex.Pattern[str]", scan: Scan, pos: int):
    """``pattern.match`` at ``pos`` under the scan's time budget (lookbehinds still see the text before ``pos``)."""
    if scan.timeout is None:
        return pattern.match(scan.text, pos)
    return pattern.match(scan.text, pos, timeout=scan.timeout)


def has_word_near(pattern: "regex.Pattern[str]", scan: Scan, start: int, end: int, before: int, after: int) -> bool:
    """True when a context word (``pattern``) occurs within ``before`` chars left or ``after`` chars right of a match."""
    return (
        search(pattern, scan, max(0, start - before), start) is not None
        or search(pattern, scan, end, end + after) is not None
    )


def strip_separators(value: str) -> str:
    """The significant characters of a value: letters and digits only."""
    return "".join(char for char in value if char.isalnum())
