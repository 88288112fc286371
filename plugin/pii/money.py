"""Currency amounts in euro, dollar and pound: ``€12,50``, ``12.50 EUR``, ``EUR 1.234,56``, ``$ 5``, ``£3.99``."""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.scan import Scan, finditer, fold_case
from plugin.pii.spans import Span

_AMOUNT = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2}|,-)?|\d+(?:[.,]\d{1,2}|,-)?"
_SYMBOL_BEFORE = r"(?:€|\$|£|(?i:eur|usd|gbp|us\$))"
_SYMBOL_AFTER = r"(?:€|\$|£|(?i:eur|euro|euros|usd|dollars?|gbp|pounds?))"

_MONEY = regex.compile(
    r"(?<![\w.,])(?:" + _SYMBOL_BEFORE + r"\s?(?:" + _AMOUNT + r")"
    r"|(?:" + _AMOUNT + r")\s?" + _SYMBOL_AFTER + r")(?![\w])(?![.,]\d)"
)
# The symbols as case-folded text (IGNORECASE also takes "uſd"): "eur", "dollar", "pound" begin their plurals.
_BEFORE_WORDS = ("€", "$", "£", "eur", "usd", "gbp", "us$")
_AFTER_WORDS = ("€", "$", "£", "eur", "usd", "dollar", "gbp", "pound")


def _symbol_before(text: str, start: int) -> bool:
    """A symbol of _SYMBOL_BEFORE (€ $ £, eur usd gbp us$) ends right before a run, or before one space."""
    index = start
    if index > 0 and text[index - 1].isspace():
        index -= 1
    if index == 0 or text[index - 1] not in "€$£rdpRDP":  # the cheap test first: a symbol's last character
        return False
    return fold_case(text[max(0, index - 3) : index]).endswith(_BEFORE_WORDS)


def _symbol_after(text: str, end: int) -> bool:
    """A symbol of _SYMBOL_AFTER (€ $ £, eur(o)(s) usd dollar(s) gbp pound(s)) begins right after a run, after ",-",
    or after one space."""
    if text.startswith(",-", end):
        end += 2
    if end < len(text) and text[end].isspace():
        end += 1
    if end >= len(text) or text[end] not in "€$£eudgpEUDGP":  # the cheap test first: a symbol's first character
        return False
    return fold_case(text[end : end + 6]).startswith(_AFTER_WORDS)


def _names_a_currency(lower: str) -> bool:
    """Some symbol occurs anywhere (``Scan.lower`` is case-folded): a few substring searches, cheaper than looking
    around every run of a text that names no currency, which is most of them."""
    return (
        "€" in lower or "$" in lower or "£" in lower or "eur" in lower or "usd" in lower or "gbp" in lower
        or "dollar" in lower or "pound" in lower
    )


def may_hold_currency(scan: Scan) -> bool:
    """Gate: an amount starts and ends with a run, and a currency symbol touches one of its ends."""
    if not _names_a_currency(scan.lower):
        return False
    text = scan.text
    return any(_symbol_before(text, start) or _symbol_after(text, end) for start, end in scan.runs)


def find_money(scan: Scan) -> Iterator[Span]:
    if not scan.digit_total:
        return  # the engine calls this only when may_hold_currency says yes
    for match in finditer(_MONEY, scan, scan.digit_start(4)):  # "US$ 5"
        yield make_span(match.start(), match.end(), "currency")
