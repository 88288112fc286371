"""Check-digit algorithms shared by the identifier modules; inputs are strings of decimal digits (or A-Z for mod 97)."""

from __future__ import annotations

from typing import Sequence


_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")  # each digit doubled, minus 9 when above 9
_ALNUM_EXPANDED = {ord(char): str(int(char, 36)) for char in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"}


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by payment cards, ICCIDs and several VAT numbers."""
    if digits.isascii():  # the common case, in C: every second digit from the right doubled by a translation table
        return (sum(map(int, digits[::-2])) + sum(map(int, digits[-2::-2].translate(_LUHN_DOUBLED)))) % 10 == 0
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def alnum_to_number(value: str) -> int:
    """ISO 7064 letter expansion (A=10 .. Z=35) used by IBAN and NL VAT mod 97."""
    if value.isascii():
        return int(value.translate(_ALNUM_EXPANDED))
    return int("".join(str(int(char, 36)) for char in value))


def mod97_valid(value: str) -> bool:
    """ISO 7064 MOD 97-10 as used by IBAN: move the first four characters to the end, remainder must be 1."""
    rearranged = value[4:] + value[:4]
    return alnum_to_number(rearranged) % 97 == 1


def elfproef_valid(digits: str) -> bool:
    """Dutch 11-proof for BSN: weights 9..2 and -1 on the last digit, sum divisible by 11 and not zero."""
    if len(digits) != 9:
        return False
    total = sum(weight * int(char) for weight, char in zip(range(9, 1, -1), digits[:8])) - int(digits[8])
    return total % 11 == 0 and int(digits) != 0


def weighted_mod11(digits: str, weights: Sequence[int]) -> int:
    """Weighted sum modulo 11, the building block of many national check digits."""
    return sum(weight * int(char) for weight, char in zip(weights, digits)) % 11


def iso7064_mod11_10_valid(digits: str) -> bool:
    """ISO 7064 MOD 11,10 (German USt-IdNr, Croatian OIB): the final product must come out as 1."""
    product = 10
    for char in digits[:-1]:
        total = (int(char) + product) % 10 or 10
        product = (total * 2) % 11
    return (11 - product) % 10 == int(digits[-1])


VALIDATORS = {
    "luhn": luhn_valid,
    "mod97": mod97_valid,
    "elfproef": elfproef_valid,
}
"""Validators a custom rule may name; they receive the match with separators removed."""
