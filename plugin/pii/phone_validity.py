"""Phone number validity from ``phonenumbers``' own metadata, compiled once per region.

``phonenumbers.is_valid_number_for_region`` builds a number object and tries up to ten number types one regex at a
time (~6 µs); here each region's types are merged, per number length, into one alternation (~1 µs), with the same
answer: a national significant number is valid for a region when it fits the region's general description and at
least one type's lengths and pattern. ``tests/pii/test_phone_validity.py`` compares both on every region.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Dict, Optional, Tuple

import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumber

# The types ``phonenumbers`` tries in ``_number_type_helper``; any match makes a number valid.
NUMBER_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan", "voicemail",
    "fixed_line", "mobile",
)
NON_GEO_REGION = "001"

_TypeDescs = Tuple[Tuple[frozenset, str], ...]  # (possible lengths, national number pattern) per number type


@lru_cache(maxsize=None)
def _region_table(region: str) -> Optional[Tuple[frozenset, "re.Pattern[str]", _TypeDescs]]:
    """(general lengths, general pattern, the number types' lengths and patterns) of a region."""
    metadata = PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None or not metadata.general_desc.national_number_pattern:
        return None
    general = metadata.general_desc
    types = tuple(
        (frozenset(desc.possible_length or ()), desc.national_number_pattern)
        for desc in (getattr(metadata, name) for name in NUMBER_TYPES)
        if desc is not None and desc.national_number_pattern
    )
    return frozenset(general.possible_length or ()), re.compile(str(general.national_number_pattern)), types


@lru_cache(maxsize=None)
def _types_pattern(region: str, length: int) -> "Optional[re.Pattern[str]]":
    """One alternation of the region's type patterns that allow numbers of ``length`` digits (compiled when first
    needed: a region's first number from abroad costs one pattern, not one per length)."""
    table = _region_table(region)
    allowed = [pattern for lengths, pattern in (table[2] if table else ()) if not lengths or length in lengths]
    return re.compile("|".join(f"(?:{pattern})" for pattern in allowed)) if allowed else None


def load_region(region: str) -> None:
    """Compile a region's patterns now (at engine build) rather than on the first message that needs them."""
    table = _region_table(region)
    for length in table[0] if table else ():
        _types_pattern(region, length)


def valid_for_region(national: str, region: str) -> bool:
    """``phonenumbers.is_valid_number_for_region`` for a national significant number (digits, leading zeros kept)
    of ``region``'s own country code."""
    if not national.isascii():
        national = ascii_digits(national)
    table = _region_table(region)
    if table is None:
        return False
    general_lengths, general, _types = table
    if general_lengths and len(national) not in general_lengths or general.fullmatch(national) is None:
        return False
    types = _types_pattern(region, len(national))
    return types is not None and types.fullmatch(national) is not None


@lru_cache(maxsize=None)
def _leading_digits(region: str) -> "Optional[re.Pattern[str]]":
    metadata = PhoneMetadata.metadata_for_region(region)
    return re.compile(metadata.leading_digits) if metadata is not None and metadata.leading_digits else None


def valid_international(country_code: int, national: str) -> bool:
    """``phonenumbers.is_valid_number``: the number's region is the only one of its country code, or the first whose
    leading digits match, or else the first it is valid for; then it must be valid for that region."""
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code)
    if not regions:
        return False
    if not national.isascii():
        national = ascii_digits(national)
    if NON_GEO_REGION in regions:  # +800, +808, ...: rare enough to ask the library
        return phonenumbers.is_valid_number(library_number(country_code, national))
    if len(regions) == 1:
        return valid_for_region(national, regions[0])
    for region in regions:
        if PhoneMetadata.metadata_for_region(region) is None:
            continue
        leading = _leading_digits(region)
        if leading is not None:
            if leading.match(national):
                return valid_for_region(national, region)
        elif valid_for_region(national, region):
            return True
    return False


def ascii_digits(digits: str) -> str:
    """Other scripts' digits ("٣") as ASCII, as the library reads them (it stores the number as an int); "" when a
    character is no decimal digit to Python (``regex`` knows digits of newer Unicode versions than ``unicodedata``)."""
    values = [unicodedata.decimal(char, None) for char in digits]
    return "" if None in values else "".join(map(str, values))


def library_number(country_code: int, national: str) -> PhoneNumber:
    """The library's number object for a national significant number, leading zeros kept."""
    number = PhoneNumber(country_code=country_code, national_number=int(national))
    zeros = len(national) - len(national.lstrip("0"))
    if zeros:
        number.italian_leading_zero = True
        number.number_of_leading_zeros = zeros
    return number
