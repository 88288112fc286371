"""Check-digit algorithms used to make (and verify) synthetic identifiers.

Written independently of ``plugin.pii`` so the benchmark does not grade the engine against its own code.
"""

from __future__ import annotations

import string


def luhn_valid(digits: str) -> bool:
    """True when ``digits`` passes the Luhn (mod 10) check used by cards and ICCIDs."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` Luhn-valid."""
    for digit in string.digits:
        if luhn_valid(payload + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


def alnum_to_digits(text: str) -> str:
    """ISO 13616 / ISO 7064 letter expansion: A=10 ... Z=35."""
    return "".join(str(int(char, 36)) for char in text.upper())


def iban_valid(iban: str) -> bool:
    """True when ``iban`` (compact, upper case) passes the ISO 13616 mod-97 check."""
    if len(iban) < 5 or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int(alnum_to_digits(rearranged)) % 97 == 1


def iban_check_digits(country: str, bban: str) -> str:
    """The two check digits of an IBAN for ``country`` and ``bban``."""
    remainder = int(alnum_to_digits(bban + country + "00")) % 97
    return f"{98 - remainder:02d}"


def elfproef_valid(digits: str) -> bool:
    """Dutch BSN 11-proof: weights 9..2 and -1 on the last digit, sum divisible by 11."""
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1))) - int(digits[8])
    return total % 11 == 0


def nl_vat_valid(vat: str) -> bool:
    """Dutch VAT id NL999999999B99: digits pass the 11-proof (pre-2020) or the whole id mod 97 is 1 (2020 format)."""
    if len(vat) != 14 or not vat.startswith("NL") or vat[11] != "B":
        return False
    body, suffix = vat[2:11], vat[12:]
    if not (body.isdigit() and suffix.isdigit()) or suffix == "00":
        return False
    return elfproef_valid(body) or int(alnum_to_digits(vat)) % 97 == 1


def mod_11_10_checksum(digits: str) -> int:
    """ISO 7064 Mod 11,10 running checksum (German VAT); a valid number yields 1."""
    check = 5
    for char in digits:
        check = (((check or 10) * 2) % 11 + int(char)) % 10
    return check


def mod_11_10_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` valid under ISO 7064 Mod 11,10."""
    return str((1 - ((mod_11_10_checksum(payload) or 10) * 2) % 11) % 10)


def be_vat_valid(digits: str) -> bool:
    """Belgian enterprise number: 10 digits, first 0 or 1, last two = 97 - (first eight mod 97)."""
    return len(digits) == 10 and digits.isdigit() and digits[0] in "01" and 97 - int(digits[:8]) % 97 == int(digits[8:])


def fr_vat_key(siren: str) -> str:
    """French VAT key for a 9-digit SIREN: (12 + 3 * (SIREN mod 97)) mod 97."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"
