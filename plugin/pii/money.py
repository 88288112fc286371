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


def may_hold_currency(scan: Scan) -> bool:
    """Gate: an amount has digits and a currency symbol or word."""
    return scan.digit_total > 0 and _HINT.search(scan.lower) is not None


def find_money(scan: Scan) -> Iterator[Span]:
    if not may_hold_currency(scan):
        return
    for match in finditer(_MONEY, scan, scan.digit_start(4)):  # "US$ 5"
        yield make_span(match.start(), match.end(), "currency")
