"""Payment card numbers: 12-19 digits, plain or grouped, Luhn-valid, with a known issuer (IIN) range; the brand is reported."""

from __future__ import annotations

from typing import Dict, Iterator, List, Optional, Tuple

import regex

from plugin.pii.builders import make_span
from plugin.pii.checksums import luhn_valid
from plugin.pii.scan import Scan
from plugin.pii.spans import Span

# (brand, first prefix, last prefix, lengths). Prefixes are compared on their own width; the longest matching
# prefix wins, so co-branded sub-ranges (Elo inside Visa/Discover space, Mir inside 22) are listed by width.
IIN_RANGES: Tuple[Tuple[str, str, str, Tuple[int, ...]], ...] = (
    ("visa", "4", "4", (13, 16, 19)),
    ("mastercard", "51", "55", (16,)),
    ("mastercard", "2221", "2720", (16,)),
    ("amex", "34", "34", (15,)),
    ("amex", "37", "37", (15,)),
    ("discover", "6011", "6011", (16, 17, 18, 19)),
    ("discover", "644", "649", (16, 17, 18, 19)),
    ("discover", "65", "65", (16, 17, 18, 19)),
    ("discover", "622126", "622925", (16, 17, 18, 19)),
    ("jcb", "3528", "3589", (16, 17, 18, 19)),
    ("diners", "300", "305", (14, 15, 16, 17, 18, 19)),
    ("diners", "3095", "3095", (14, 15, 16, 17, 18, 19)),
    ("diners", "36", "36", (14, 15, 16, 17, 18, 19)),
    ("diners", "38", "39", (14, 15, 16, 17, 18, 19)),
    ("maestro", "50", "50", tuple(range(12, 20))),
    ("maestro", "56", "58", tuple(range(12, 20))),
    ("maestro", "6304", "6304", tuple(range(12, 20))),
    ("maestro", "6759", "6759", tuple(range(12, 20))),
    ("maestro", "6761", "6763", tuple(range(12, 20))),
    ("unionpay", "62", "62", (16, 17, 18, 19)),
    ("unionpay", "81", "81", (16, 17, 18, 19)),
    ("rupay", "82", "82", (16,)),
    ("rupay", "60", "60", (16,)),
    ("rupay", "652", "652", (16,)),
    ("rupay", "508", "508", (16,)),
    ("rupay", "353", "353", (16,)),
    ("rupay", "356", "356", (16,)),
    ("elo", "401178", "401179", (16,)),
    ("elo", "431274", "431274", (16,)),
    ("elo", "438935", "438935", (16,)),
    ("elo", "451416", "451416", (16,)),
    ("elo", "457393", "457393", (16,)),
    ("elo", "457631", "457632", (16,)),
    ("elo", "504175", "504175", (16,)),
    ("elo", "506699", "506778", (16,)),
    ("elo", "509000", "509999", (16,)),
    ("elo", "627780", "627780", (16,)),
    ("elo", "636297", "636297", (16,)),
    ("elo", "636368", "636368", (16,)),
    ("elo", "650031", "650051", (16,)),
    ("elo", "650405", "650439", (16,)),
    ("elo", "650485", "650538", (16,)),
    ("elo", "650541", "650598", (16,)),
    ("elo", "650700", "650727", (16,)),
    ("elo", "650901", "650920", (16,)),
    ("elo", "651652", "651679", (16,)),
    ("elo", "655000", "655058", (16,)),
    ("mir", "2200", "2204", (16, 17, 18, 19)),
)


def _prefix_table() -> Dict[str, Tuple[str, Tuple[int, ...]]]:
    """Every prefix of every range, so a lookup is at most six dict probes (longest prefix first)."""
    table: Dict[str, Tuple[str, Tuple[int, ...]]] = {}
    for brand, low, high, lengths in IIN_RANGES:
        for prefix in range(int(low), int(high) + 1):
            table[str(prefix).rjust(len(low), "0")] = (brand, lengths)
    return table


_PREFIXES = _prefix_table()
_WIDTHS = sorted({len(low) for _brand, low, _high, _lengths in IIN_RANGES}, reverse=True)

# Where a card may be: the chunker below reads these two patterns' matches off the scan's runs and gaps (a regex
# pass costs more than the whole card check; a test holds the two to the same matches).
# A run of digit groups separated by single spaces or dashes; '+' before it means a phone, a digit a longer number.
_CHUNK = regex.compile(r"(?<![\d_+.,/])\d+(?:[ \-]\d+)*(?![\d_])")
# Cards are also typed with two spaces, " - " or dots between the groups: a second pass, with one such separator
# throughout, not ending on a group glued on to more digits ("412345678905 - 0612-345678" is a number and a phone;
# "... 1111 4821" after a card is the next number), so that "3.85-5175170" stays a price and a number.
_WIDE_CHUNK = regex.compile(r"(?<![\d_+.,/])(?:\d+(?:  \d+)+|\d+(?:\.\d+)+|\d+(?: - \d+)+)(?![\d_]|[\-.]\d)")


def card_brand(digits: str) -> Optional[str]:
    """The brand for a Luhn-valid number whose IIN and length match a known range, else None."""
    for width in _WIDTHS:
        entry = _PREFIXES.get(digits[:width])
        if entry is not None and len(digits) in entry[1]:
            return entry[0]
    return None


def is_card_number(digits: str) -> Optional[str]:
    """Brand of a valid card number (digits only), or None."""
    if not 12 <= len(digits) <= 19:
        return None
    brand = card_brand(digits)  # a few dict probes: cheaper than Luhn, and most digit runs have no card prefix
    return brand if brand is not None and luhn_valid(digits) else None


_CHUNK_GAPS = frozenset({" ", "-", "  ", ".", " - "})  # what joins the groups of a _CHUNK or _WIDE_CHUNK


def may_hold_card(scan: Scan) -> bool:
    """Gate: a card is 12+ digits in groups joined by the chunks' separators, starting at a group whose first digits
    are an issuer prefix (what _cards_in_groups requires of every start)."""
    if scan.longest_cluster(_CHUNK_GAPS.__contains__) < 12:
        return False
    runs, lengths, gaps, text = scan.runs, scan.lengths, scan.gaps, scan.text
    for first in range(len(runs)):
        digits, last = lengths[first], first
        while digits < 12 and last + 1 < len(runs) and gaps[last] in _CHUNK_GAPS:
            last += 1
            digits += lengths[last]
        if digits >= 12:
            lead = "".join(text[start:end] for start, end in runs[first : last + 1])[:6]
            if any(lead[:width] in _PREFIXES for width in _WIDTHS):
                return True
    return False


_NOT_BEFORE_CHUNK = "_+.,/"  # (and a digit, which never stands right before a run)


def _chunk_last(text: str, runs: List[Tuple[int, int]], first: int, reach: int, sep: str) -> int:
    """The run a chunk from run ``first`` ends on when its separators join it up to run ``reach`` (-1: none), as the
    pattern backtracks: not before "_", and a wide chunk (``sep``) not before "-" or "." and a digit."""
    end = runs[reach][1]
    after = text[end : end + 1]
    if after != "_" and not (sep and after in ("-", ".") and reach + 1 < len(runs) and runs[reach + 1][0] == end + 1):
        return reach
    # One run back the separator follows, which ends a chunk well, unless it is "." (a digit comes next).
    shortest = first + 1 if sep else first
    return reach - 1 if reach - 1 >= shortest and sep != "." else -1


def chunks(scan: Scan, wide: bool) -> List[Tuple[int, int]]:
    """The first and last run of each _CHUNK (``wide``: _WIDE_CHUNK) match, in text order: what the regex pass
    finds, read off the runs and the gaps between them."""
    text, runs, gaps = scan.text, scan.runs, scan.gaps
    found: List[Tuple[int, int]] = []
    first = 0
    while first < len(runs):
        start = runs[first][0]
        last = -1
        if start == 0 or text[start - 1] not in _NOT_BEFORE_CHUNK:
            if not wide:
                reach = first
                while reach < len(gaps) and (gaps[reach] == " " or gaps[reach] == "-"):
                    reach += 1
                last = _chunk_last(text, runs, first, reach, "")
            else:
                for sep in ("  ", ".", " - "):  # the alternatives, in the pattern's order
                    reach = first
                    while reach < len(gaps) and gaps[reach] == sep:
                        reach += 1
                    if reach > first:
                        last = _chunk_last(text, runs, first, reach, sep)
                        if last >= 0:
                            break
        if last >= 0:
            found.append((first, last))
            first = last + 1
        else:
            first += 1
    return found


def find_cards(scan: Scan) -> Iterator[Span]:
    if scan.digit_total < 12:
        return
    runs = scan.runs
    for wide in (False, True):
        for first, last in chunks(scan, wide):
            start, end = runs[first][0], runs[last][1]
            if end - start < 12:
                continue  # fewer than 12 characters cannot hold 12 digits
            if scan.settled and scan.is_claimed(start, end):
                continue  # inside an IBAN, which wins over any shorter checksum find
            groups = [(runs[index][0] - start, runs[index][1] - start) for index in range(first, last + 1)]
            yield from _cards_in_groups(scan.text, start, groups)


def _cards_in_groups(text: str, base: int, groups: list) -> Iterator[Span]:
    """Try the longest run of whole groups from each group on (the whole chunk first), then shorter ones: a card next to
    another number. Only runs of 12-19 digits are tried, so a long chunk costs linear time."""
    count = len(groups)
    parts = [text[base + a : base + b] for a, b in groups]
    first = 0
    while first < count:
        found = False
        lead = "".join(parts[first : first + 6])[:6]
        if not any(lead[:width] in _PREFIXES for width in _WIDTHS):
            first += 1  # no issuer range starts with these digits: no run from this group is a card
            continue
        lasts, size = [], 0
        for last in range(first, count):  # the runs from ``first`` that hold 12-19 digits
            size += len(parts[last])
            if size > 19:
                break
            if size >= 12:
                lasts.append(last)
        for last in reversed(lasts):
            start, end = base + groups[first][0], base + groups[last][1]
            brand = is_card_number("".join(parts[first : last + 1]))
            if brand and not _continues_grouping(text, base, groups, first, last):
                yield make_span(start, end, "credit_card", {"brand": brand}, validated=True)
                first = last + 1
                found = True
                break
        if not found:
            first += 1


def _continues_grouping(text: str, base: int, groups: list, first: int, last: int) -> bool:
    """True when a group next to ``groups[first..last]`` has the same width and separator as the groups at that edge:
    "5620 3247 3224 5254" is one 16-digit number, not a 12-digit card plus 5254."""
    for inner, outer, between in ((first, first - 1, first), (last, last + 1, last + 1)):
        if not 0 <= outer < len(groups) or first == last:
            continue
        neighbour = inner + 1 if inner == first else inner - 1
        inner_width = groups[inner][1] - groups[inner][0]
        if groups[outer][1] - groups[outer][0] != inner_width or groups[neighbour][1] - groups[neighbour][0] != inner_width:
            continue
        gap = text[base + groups[between - 1][1] : base + groups[between][0]]
        inside = text[base + min(groups[inner][1], groups[neighbour][1]) : base + max(groups[inner][0], groups[neighbour][0])]
        if gap == inside:
            return True
    return False
