"""IPv4 and IPv6 addresses, validated as the standard ``ipaddress`` module does (rejects 999.1.1.1, leading zeros, bad groups)."""

from __future__ import annotations

import ipaddress
from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.scan import Scan, finditer
from plugin.pii.spans import Span

_IPV4 = regex.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)")
_IPV6 = regex.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
_VERSION_BEFORE = regex.compile(r"(?i)\b(?:v|ver|version|versie|release|build)\W{0,3}$")


def valid_ipv4(value: str) -> bool:
    """``ipaddress.IPv4Address(value)`` succeeds (four ASCII decimal octets up to 255, no leading zeros), without
    building the object: the standard module's class costs ~2 µs per address. A test compares both."""
    octets = value.split(".")
    if len(octets) != 4:
        return False
    for octet in octets:
        if not (octet and octet.isascii() and octet.isdigit() and len(octet) <= 3):
            return False
        if (octet != "0" and octet[0] == "0") or int(octet) > 255:
            return False
    return True


def _may_hold_ipv4(scan: Scan) -> bool:
    """Four runs of at most three digits joined by dots."""
    if scan.digit_total < 4 or scan.text.count(".") < 3:
        return False
    return any(gap == "." and max(lengths) <= 3 for _index, gap, lengths in scan.same_gap_groups(4))


def _may_hold_ipv6(scan: Scan) -> bool:
    """Two colons (``find`` twice: compiled, it is native where ``count`` is a generic method call)."""
    first = scan.text.find(":")
    return first >= 0 and scan.text.find(":", first + 1) >= 0


def may_hold_ip_address(scan: Scan) -> bool:
    """Gate: four dotted numbers, or two colons."""
    return _may_hold_ipv4(scan) or _may_hold_ipv6(scan)


def find_ip_addresses(scan: Scan) -> Iterator[Span]:
    text = scan.text
    if _may_hold_ipv4(scan):
        for match in finditer(_IPV4, scan, scan.digit_start(0)):
            if _VERSION_BEFORE.search(text, max(0, match.start() - 12), match.start()):
                continue
            if valid_ipv4(match.group()):
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
