"""The compiled validity tables give ``phonenumbers``' own answer, for every region and country code."""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings, strategies as st
from phonenumbers import PhoneNumberType

from plugin.pii.phone_validity import library_number, valid_for_region, valid_international

REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS)
COUNTRY_CODES = sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
TYPES = [value for name, value in vars(PhoneNumberType).items() if name.isupper() and value != PhoneNumberType.UNKNOWN]


def _near_valid(rng: random.Random, region: str) -> list:
    """Each type's example number of the region and a few edits of it: valid and invalid numbers close to the
    patterns' edges (random digit strings are almost never valid, so they would test little)."""
    found = []
    for number_type in TYPES:
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        national = phonenumbers.national_significant_number(example)
        found.append(national)
        for _ in range(6):
            digits = list(national)
            edit = rng.randrange(3)
            position = rng.randrange(len(digits))
            if edit == 0:
                digits[position] = str(rng.randrange(10))
            elif edit == 1 and len(digits) > 2:
                del digits[position]
            else:
                digits.insert(position, str(rng.randrange(10)))
            found.append("".join(digits))
    return [national for national in found if national.strip("0")]


@pytest.mark.parametrize("region", REGIONS)
def test_valid_for_region_agrees_with_phonenumbers(region: str) -> None:
    code = phonenumbers.country_code_for_region(region)
    rng = random.Random(region)
    for national in _near_valid(rng, region):
        expected = phonenumbers.is_valid_number_for_region(library_number(code, national), region)
        assert valid_for_region(national, region) == expected, (region, len(national))


@pytest.mark.parametrize("country_code", COUNTRY_CODES)
def test_valid_international_agrees_with_phonenumbers(country_code: int) -> None:
    rng = random.Random(country_code)
    candidates = []
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]:
        if region == "001":
            example = phonenumbers.example_number_for_non_geo_entity(country_code)
            candidates += [phonenumbers.national_significant_number(example)] if example else []
        else:
            candidates += _near_valid(rng, region)
    for national in candidates:
        expected = phonenumbers.is_valid_number(library_number(country_code, national))
        assert valid_international(country_code, national) == expected, (country_code, len(national))


@settings(max_examples=300, deadline=None)
@given(country_code=st.sampled_from(COUNTRY_CODES), national=st.from_regex(r"[1-9][0-9]{3,13}", fullmatch=True))
def test_random_numbers_agree(country_code: int, national: str) -> None:
    assert valid_international(country_code, national) == phonenumbers.is_valid_number(library_number(country_code, national))
    for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]:
        if region != "001":
            expected = phonenumbers.is_valid_number_for_region(library_number(country_code, national), region)
            assert valid_for_region(national, region) == expected


def test_examples_are_valid() -> None:
    """The comparison above is not vacuous: the tables accept the library's example numbers."""
    assert valid_for_region("612345678", "NL")
    assert valid_for_region("2015550123", "US")
    assert not valid_for_region("612345678", "US")
    assert valid_international(44, "7400123456")
    assert not valid_international(44, "0000123456")


def test_other_scripts_digits_read_as_the_library_reads_them() -> None:
    """phonenumbers keeps the number as an int, so "٣" counts as 3: a phone typed with Arabic-Indic digits stays
    valid (and masked), as it was when the library was asked directly."""
    arabic_indic = "612345678".translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert valid_for_region(arabic_indic, "NL")
    assert valid_international(31, arabic_indic)


def test_digits_python_does_not_know_make_no_phone_and_no_failure() -> None:
    """``regex`` matches digits of newer Unicode versions than Python's ``unicodedata`` (U+11F51, Kawi one): such a
    number is no phone, and the scan goes on instead of failing (which would redact the whole message)."""
    from plugin.pii import EngineConfig, build_engine

    digits = "61234567\U00011F51"
    assert not valid_for_region(digits, "NL") and not valid_international(31, digits)
    result = build_engine(EngineConfig()).mask(f"bel me op 06 1234 567\U00011F51 graag", "storage")
    assert not result.timed_out


def test_numbers_of_international_services_are_phones() -> None:
    """+800 freephone, +870 Inmarsat, +881 satellite phones have no country but are valid numbers: masked as phones
    (the engine dropped them before it asked these tables)."""
    from plugin.pii import EngineConfig, build_engine

    engine = build_engine(EngineConfig())
    for text, value in (("my satellite phone is +881 612345678", "+881 612345678"), ("call +800 12345678", "+800 12345678")):
        spans = engine.detect(text)
        assert [(span.type, text[span.start : span.end]) for span in spans] == [("phone", value)]
