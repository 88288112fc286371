"""Checksum-valid synthetic identifiers for tests: generated, never real people's data."""

from __future__ import annotations

import random

from plugin.pii.checksums import alnum_to_number, elfproef_valid
from plugin.pii.iban import BBAN_CLASSES

_CLASS_CHARS = {"n": "0123456789", "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"}


def luhn_complete(partial: str) -> str:
    """Append the Luhn check digit."""
    for check in "0123456789":
        candidate = partial + check
        total = 0
        for index, char in enumerate(reversed(candidate)):
            value = int(char) * (2 if index % 2 else 1)
            total += value - 9 if value > 9 else value
        if total % 10 == 0:
            return candidate
    raise AssertionError("unreachable")


def card_number(rng: random.Random, prefix: str = "4", length: int = 16) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return luhn_complete(body)


def iban(rng: random.Random, country: str) -> str:
    bban = "".join(rng.choice(_CLASS_CHARS[kind]) for kind in BBAN_CLASSES[country])
    check = 98 - alnum_to_number(bban + country + "00") % 97
    return f"{country}{check:02d}{bban}"


def bsn(rng: random.Random) -> str:
    while True:
        value = "".join(rng.choice("0123456789") for _ in range(9))
        if value[0] != "0" and elfproef_valid(value):
            return value


def iccid(rng: random.Random) -> str:
    return luhn_complete("8931" + "".join(rng.choice("0123456789") for _ in range(14)))


def grouped(value: str, size: int = 4, separator: str = " ") -> str:
    return separator.join(value[index : index + size] for index in range(0, len(value), size))


def found(engine, text: str) -> list:
    """(type, value) pairs detected in ``text``; test data is synthetic, so showing values in failures is fine."""
    return [(span.type, text[span.start : span.end]) for span in engine.detect(text)]
