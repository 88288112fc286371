"""E-mail addresses incl. subdomains, plus-tags and internationalised (IDN) names; purely syntactic, no network look-ups.

The local part never contains ``*`` or ``#`` so already-masked forms (``****@domain.com``, tags) are not re-detected.
"""

from __future__ import annotations

from typing import Iterator

import regex

from plugin.pii.builders import make_span
from plugin.pii.scan import Scan, finditer
from plugin.pii.spans import Span

_EMAIL = regex.compile(
    r"(?<![\w.%+\-'])"
    r"[\w%+\-'](?:[\w.%+\-']{0,62}[\w%+\-'])?"
    r"@(?:[^\W_](?:[\w\-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9\-]{2,59})"
    r"(?![\w\-])(?!\.[^\W_])"
)


def may_hold_email(scan: Scan) -> bool:
    """Gate: an address has an @."""
    return "@" in scan.text


def find_emails(scan: Scan) -> Iterator[Span]:
    if not may_hold_email(scan):
        return
    for match in finditer(_EMAIL, scan):
        value = match.group()
        if ".." in value:
            continue
        domain = value[value.index("@") + 1 :]
        yield make_span(match.start(), match.end(), "email", {"domain_tld": domain.rsplit(".", 1)[-1].lower()}, validated=True)
