"""Currency amounts in euro, dollar and pound: ``€12,50``, ``12.50 EUR``, ``EUR 1.234,56``, ``$ 5``, ``£3.99``."""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.scan import Scan, finditer, hint_pattern
from plugin.pii.spans import Span, make_span

_AMOUNT = r"\d{1,3}(?:[.,' ]\d{3})+(?:[.,]\d{1,2}|,-)?|\d+(?:[.,]\d{1,2}|,-)?"
_SYMBOL_BEFORE = r"(?:€|\$|£|(?i:eur|usd|gbp|us\$))"
_SYMBOL_AFTER = r"(?:€|\$|£|(?i:eur|euro|euros|usd|dollars?|gbp|pounds?))"

_MONEY = regex.compile(
    r"(?<![\w.,])(?:" + _SYMBOL_BEFORE + r"\s?(?:" + _AMOUNT + r")"
    r"|(?:" + _AMOUNT + r")\s?" + _SYMBOL_AFTER + r")(?![\w])(?![.,]\d)"
)
_HINT = hint_pattern(("€", "$", "£", "eur", "usd", "gbp", "dollar", "pound"))


def _symbol_before(text: str, start: int) -> bool:
    """The last character of a symbol (€ $ £, eur usd gbp us$) right before a run, or before one space."""
    index = start - 1
    if index >= 0 and text[index].isspace():
        index -= 1
    return index >= 0 and text[index].lower() in "€$£rdp"


def _symbol_after(text: str, end: int) -> bool:
    """The first character of a symbol (€ $ £, eur euro usd dollar gbp pound) right after a run, after ",-", or
    after one space."""
    if text.startswith(",-", end):
        end += 2
    if end < len(text) and text[end].isspace():
        end += 1
    return end < len(text) and text[end].lower() in "€$£eudgp"


def may_hold_currency(scan: Scan) -> bool:
    """Gate: an amount starts and ends with a run, and a currency symbol or word touches one of its ends."""
    text = scan.text
    return any(_symbol_before(text, start) or _symbol_after(text, end) for start, end in scan.runs) and (
        _HINT.search(scan.lower) is not None
    )


def find_money(scan: Scan) -> Iterator[Span]:
    if not scan.digit_total:
        return  # the engine calls this only when may_hold_currency says yes
    for match in finditer(_MONEY, scan, scan.digit_start(4)):  # "US$ 5"
        yield make_span(match.start(), match.end(), "currency")
