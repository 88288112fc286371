"""IPv4 and IPv6 addresses, confirmed by the standard ``ipaddress`` module (rejects 999.1.1.1, leading zeros, bad groups)."""

from __future__ import annotations

import ipaddress
from typing import Iterator

import regex

from plugin.pii.scan import Scan, finditer
from plugin.pii.spans import Span, make_span

_IPV4 = regex.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = regex.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_VERSION_BEFORE = regex.compile(r"(?i)\b(?:v|ver|version|versie|release|build)\W{0,3}$")


def _may_hold_ipv4(scan: Scan) -> bool:
    """Four runs of at most three digits joined by dots."""
    if scan.digit_total < 4 or scan.text.count(".") < 3:
        return False
    return any(gap == "." and max(lengths) <= 3 for _index, gap, lengths in scan.same_gap_groups(4))


def _may_hold_ipv6(scan: Scan) -> bool:
    return scan.text.count(":") >= 2


def may_hold_ip_address(scan: Scan) -> bool:
    """Gate: four dotted numbers, or two colons."""
    return _may_hold_ipv4(scan) or _may_hold_ipv6(scan)


def find_ip_addresses(scan: Scan) -> Iterator[Span]:
    text = scan.text
    if _may_hold_ipv4(scan):
        for match in finditer(_IPV4, scan, scan.digit_start(0)):
            if _VERSION_BEFORE.search(text, max(0, match.start() - 12), match.start()):
                continue
            try:
                ipaddress.IPv4Address(match.group())
            except ValueError:
                continue
            yield make_span(match.start(), match.end(), "ip_address", {"version": "4"}, validated=True)
    if _may_hold_ipv6(scan):
        for match in finditer(_IPV6, scan, max(0, text.find(":") - 4)):  # a colon follows at most 4 hex digits
            value = match.group()
            if sum(char.isalnum() for char in value) < 2:
                continue  # "::" alone, or a lone hex digit between colons
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                continue
            yield make_span(match.start(), match.end(), "ip_address", {"version": "6"}, validated=True)
