"""Telecom secrets: SIM card numbers (ICCID, 19-20 digits starting 89, Luhn) and PIN/PUK/OTP codes (context required)."""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import luhn_valid
from plugin.pii.context_words import PIN_CONTEXT, PIN_HINTS
from plugin.pii.scan import Scan, finditer, has_word_near, hint_pattern, is_ascii_word_char, search
from plugin.pii.spans import Span

_ICCID = regex.compile(r"(?<![\w+])89(?:[ \-]?\d){17,18}(?![\w])")

# A PIN stands alone: not one group of a longer grouped number ("5636 1184 1554 3209", "+999 432 7521").
_CODE = regex.compile(r"(?<![\w.,\-+/:€$£]|\d[ \-.]|\d\)\s?)\d{4,8}(?![\w]|[.,:/\-]\d| \d)")
_NOT_A_PIN_BEFORE = regex.compile(
    r"(?i)\b(?:promo|discount|korting\w*|rabatt\w*|voucher|coupon|gutschein\w*|zip|postal|post|postcode|postleitzahl"
    r"|area|country|error|status"
    r"|fout\w*|fehler\w*|http|product\w*|artikel\w*|article|item|order\w*|bestel\w*|tracking|sku|model|modell?)\b"
    r"[\s\w:#.\-]{0,12}$"
)


# A bare "code" is no secret word ("promo code", "the code on the letter"), but "the code is 4821" right before the
# number tells a code's value, and customers type the one the bot asked for that way.
_CODE_IS_BEFORE = regex.compile(
    r"(?i)\b(?:the|this|my|your|de|deze|mijn|je|jouw|uw|der|die|den|dieser|mein\w*|dein\w*|ihr\w*|unser\w*)\s+code"
    r"\s*(?:is|ist|lautet|=|:)\s*$"
)
_PIN_HINT = hint_pattern(PIN_HINTS)


_ICCID_GAPS = frozenset({" ", "-"})


def may_hold_sim_number(scan: Scan) -> bool:
    """Gate: an ICCID is 19-20 digits, single spaces or dashes between them."""
    return scan.digit_total >= 19 and scan.longest_cluster(_ICCID_GAPS.__contains__) >= 19


def _may_be_code(text: str, start: int, end: int) -> bool:
    """False where _CODE's lookarounds surely refuse the run: glued to a word or sign, or one group of a grouped
    number ("5636 1184", "+999 432 7521", "(030) 1234"). Only certain cases refuse (ASCII word characters, decimal
    digits), so the gate never refuses a code the pattern takes."""
    if start > 0:
        before = text[start - 1]
        if is_ascii_word_char(before) or before in ".,-+/:€$£":
            return False
        if before == " " and start > 1 and (text[start - 2].isdecimal() or (text[start - 2] == ")" and start > 2 and text[start - 3].isdecimal())):
            return False
        if before == ")" and start > 1 and text[start - 2].isdecimal():
            return False
    if end < len(text):
        after = text[end]
        if is_ascii_word_char(after):
            return False
        if after in ".,:/- " and text[end + 1 : end + 2].isdecimal():
            return False
    return True


def may_hold_pin_code(scan: Scan) -> bool:
    """Gate: a code is one whole run of 4-8 digits standing alone, and some secret word must be in the text."""
    if scan.max_run < 4:
        return False
    text = scan.text
    return any(
        4 <= length <= 8 and _may_be_code(text, start, end) for (start, end), length in zip(scan.runs, scan.lengths)
    ) and _PIN_HINT.search(scan.lower) is not None


def find_sim_numbers(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 19:
        return
    for match in finditer(_ICCID, scan, scan.digit_start(0)):
        digits = "".join(char for char in match.group() if char.isdigit())
        if luhn_valid(digits):
            yield make_span(match.start(), match.end(), "sim_number", validated=True)


def find_pin_codes(scan: Scan) -> Iterator[Span]:
    if scan.max_run < 4 or not _PIN_HINT.search(scan.lower):  # a code is one run of 4-8 digits
        return
    for match in finditer(_CODE, scan, scan.digit_start(0)):
        start = match.start()
        # "order 12345678" is no PIN, but "bestelling. pukcode 18669615" is: a PIN word right before the code wins.
        named = search(PIN_CONTEXT, scan, max(0, start - 12), start) is not None
        if not named and search(_NOT_A_PIN_BEFORE, scan, max(0, start - 25), start) is not None:
            continue
        if has_word_near(PIN_CONTEXT, scan, start, match.end(), 30, 20) or search(
            _CODE_IS_BEFORE, scan, max(0, start - 25), start
        ) is not None:
            yield make_span(match.start(), match.end(), "pin_puk")
