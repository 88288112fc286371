"""The benchmark corpus: generated values are valid, labels point at them, output is reproducible per seed."""

from __future__ import annotations

import random
import re

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks import checksums, corpus, identifiers

SEED = 20240611


@pytest.fixture(scope="module")
def samples() -> list[corpus.Sample]:
    return corpus.generate_samples(SEED, 60)


def _values(samples: list[corpus.Sample], pii_type: str) -> list[tuple[str, str]]:
    return [(s.text[l.start : l.end], s.kind) for s in samples for l in s.labels if l.type == pii_type]


def _compact(text: str) -> str:
    return re.sub(r"[\s.\-()]", "", text)


# ---------------------------------------------------------------- check-digit algorithms against published examples


@pytest.mark.parametrize(
    "number, valid",
    [
        ("4111111111111111", True),
        ("378282246310005", True),
        ("6011111111111117", True),
        ("4111111111111112", False),
        ("79927398710", False),
        ("79927398713", True),
    ],
)
def test_luhn_matches_published_examples(number: str, valid: bool) -> None:
    assert checksums.luhn_valid(number) is valid


@pytest.mark.parametrize(
    "iban, valid",
    [
        ("NL91ABNA0417164300", True),
        ("DE89370400440532013000", True),
        ("GB82WEST12345698765432", True),
        ("BE68539007547034", True),
        ("NL92ABNA0417164300", False),
        ("DE89370400440532013001", False),
    ],
)
def test_iban_mod97_matches_published_examples(iban: str, valid: bool) -> None:
    assert checksums.iban_valid(iban) is valid


def test_national_checks_match_published_examples() -> None:
    assert checksums.elfproef_valid("111222333") and checksums.elfproef_valid("123456782")
    assert not checksums.elfproef_valid("123456789")
    assert checksums.mod_11_10_checksum("136695976") == 1  # DE136695976
    assert checksums.mod_11_10_check_digit("13669597") == "6"
    assert checksums.be_vat_valid("0403019261") and not checksums.be_vat_valid("0403019262")
    assert checksums.fr_vat_key("303265045") == "40"  # FR40303265045
    assert checksums.nl_vat_valid("NL004495445B01") and not checksums.nl_vat_valid("NL004495446B01")


# ---------------------------------------------------------------- registry tables


def test_iban_registry_lengths_agree_with_structures() -> None:
    assert len(identifiers.IBAN_REGISTRY) >= 89
    for country, (length, structure) in identifiers.IBAN_REGISTRY.items():
        assert 4 + sum(n for n, _ in identifiers.parse_bban_structure(structure)) == length, country


@pytest.mark.parametrize("country", sorted(identifiers.IBAN_REGISTRY))
def test_every_country_yields_valid_ibans_of_registry_shape(country: str) -> None:
    rng = random.Random(country)
    length, structure = identifiers.IBAN_REGISTRY[country]
    pattern = "".join(
        {"n": r"\d", "a": "[A-Z]", "c": "[A-Z0-9]"}[kind] + f"{{{n}}}"
        for n, kind in identifiers.parse_bban_structure(structure)
    )
    for _ in range(20):
        iban = identifiers.iban_number(rng, country)
        assert len(iban) == length and iban.startswith(country)
        assert checksums.iban_valid(iban)
        assert re.fullmatch(pattern, iban[4:])


@pytest.mark.parametrize("card_range", identifiers.CARD_RANGES, ids=lambda r: f"{r.brand}-{r.low}")
def test_every_brand_range_and_length_yields_luhn_valid_cards(card_range: identifiers.CardRange) -> None:
    rng = random.Random(f"{card_range.brand}{card_range.low}")
    width = len(str(card_range.low))
    for length in card_range.lengths:
        for _ in range(10):
            number = identifiers.card_number(rng, card_range, length)
            assert len(number) == length and checksums.luhn_valid(number)
            assert card_range.low <= int(number[:width]) <= card_range.high


def test_all_required_brands_are_in_the_table() -> None:
    assert set(identifiers.CARD_BRANDS) >= {
        "visa",
        "mastercard",
        "amex",
        "discover",
        "jcb",
        "diners",
        "maestro",
        "unionpay",
        "rupay",
        "elo",
        "mir",
    }


# ---------------------------------------------------------------- generated samples


def test_labels_point_at_values_inside_the_text(samples: list[corpus.Sample]) -> None:
    for sample in samples:
        assert len(sample.labels) == 1
        label = sample.labels[0]
        value = sample.text[label.start : label.end]
        assert value == value.strip() and value
        assert sample.kind.startswith(label.type + ":")
        # the template put the value between word boundaries, never glued to a letter or digit
        before = sample.text[label.start - 1] if label.start else " "
        after = sample.text[label.end] if label.end < len(sample.text) else " "
        assert not before.isalnum() and not after.isalnum()


def test_every_type_is_generated(samples: list[corpus.Sample]) -> None:
    assert {l.type for s in samples for l in s.labels} == set(corpus.PII_TYPES)
    with pytest.raises(ValueError, match="unknown PII types"):
        corpus.generate_samples(SEED, 1, types=("credit_card", "shoe_size"))


def test_card_values_are_luhn_valid(samples: list[corpus.Sample]) -> None:
    for value, _ in _values(samples, "credit_card"):
        digits = _compact(value)
        assert 12 <= len(digits) <= 19 and checksums.luhn_valid(digits)


def test_iban_values_pass_mod97(samples: list[corpus.Sample]) -> None:
    for value, _ in _values(samples, "iban"):
        compact = _compact(value).upper()
        assert checksums.iban_valid(compact)
        assert len(compact) == identifiers.IBAN_REGISTRY[compact[:2]][0]


def test_phone_values_are_valid_for_phonenumbers(samples: list[corpus.Sample]) -> None:
    for value, kind in _values(samples, "phone"):
        region = kind.split(":")[1].split("-")[0]
        text = "+" + value[2:] if value.startswith("00") else value.replace("(0)", "")
        number = phonenumbers.parse(text, region)
        assert phonenumbers.is_valid_number_for_region(number, region), kind


def test_phone_national_notations_only_for_home_regions() -> None:
    options = corpus.CorpusOptions(home_regions=("NL",))
    for sample in corpus.generate_samples(SEED, 200, types=("phone",), options=options):
        region, notation = sample.kind.split(":")[1].split("/")
        if notation.startswith("national"):
            assert region.startswith("NL-")


def test_national_ids_and_telecom_values_pass_their_checks(samples: list[corpus.Sample]) -> None:
    for value, _ in _values(samples, "bsn"):
        assert checksums.elfproef_valid(_compact(value))
    for value, _ in _values(samples, "sim_number"):
        digits = _compact(value)
        assert digits.startswith("89") and len(digits) in (19, 20) and checksums.luhn_valid(digits)
    for value, _ in _values(samples, "ssn"):
        digits = _compact(value)
        assert len(digits) == 9 and digits[:3] not in ("000", "666") and digits[0] != "9"
        assert digits[3:5] != "00" and digits[5:] != "0000"
    for value, kind in _values(samples, "pin_puk"):
        pattern = kind.split(":")[1]
        assert value.isdigit() and (len(value) == 8 if pattern.startswith("puk") else 4 <= len(value) <= 6)


def test_vat_values_pass_their_national_checks(samples: list[corpus.Sample]) -> None:
    seen = set()
    for value, kind in _values(samples, "vat_number"):
        seen.add(kind)
        country, body = value[:2], value[2:]
        if country == "NL":
            assert checksums.nl_vat_valid(value)
        elif country == "DE":
            assert len(body) == 9 and checksums.mod_11_10_checksum(body) == 1
        elif country == "BE":
            assert checksums.be_vat_valid(body)
        elif country == "FR":
            assert checksums.luhn_valid(body[2:]) and checksums.fr_vat_key(body[2:]) == body[:2]
        else:
            assert country == "IT" and len(body) == 11 and checksums.luhn_valid(body)
    assert {"vat_number:vat-nl_2020", "vat_number:vat-nl_elfproef"} <= seen


def test_nl_2020_vat_ids_use_mod97_not_elfproef() -> None:
    rng = random.Random(SEED)
    for _ in range(50):
        vat = identifiers._nl_vat_2020(rng)
        assert int(checksums.alnum_to_digits(vat)) % 97 == 1


def test_emails_and_ips_have_the_expected_shape(samples: list[corpus.Sample]) -> None:
    for value, _ in _values(samples, "email"):
        local, _, domain = value.partition("@")
        assert local and "." in domain
        assert re.search(r"example\.|^[a-zäöüéë]+\.[a-z.]+$", domain.lower()), domain
    for value, kind in _values(samples, "ip_address"):
        if kind.endswith("ipv4"):
            assert all(0 <= int(o) <= 255 for o in value.split("."))
        else:
            assert value.count("::") <= 1 and all(len(g) <= 4 for g in value.split(":"))


def test_postal_codes_and_addresses_follow_national_shapes(samples: list[corpus.Sample]) -> None:
    shapes = {"nl": r"[1-9]\d{3} ?[A-Z]{2}", "de": r"\d{5}", "gb": r"[A-Z]{1,2}\d[A-Z\d]? \d[A-Z]{2}"}
    for value, kind in _values(samples, "postal_code"):
        assert re.fullmatch(shapes[kind.rsplit("-", 1)[1]], value), kind
    for value, _ in _values(samples, "street_address"):
        assert re.search(r"\d", value)


def test_long_numbers_are_nothing_else() -> None:
    options = corpus.CorpusOptions(long_number_digits=9)
    for sample in corpus.generate_samples(SEED, 100, types=("long_number",), options=options):
        value = sample.text[sample.labels[0].start : sample.labels[0].end]
        assert value.isdigit() and len(value) >= 9 and not checksums.luhn_valid(value)


# ---------------------------------------------------------------- determinism


def test_same_seed_same_corpus_other_seed_other_corpus() -> None:
    def fingerprint(seed: int) -> list[tuple[str, tuple[corpus.Label, ...]]]:
        return [
            (s.text, s.labels)
            for s in corpus.generate_samples(seed, 5)
            + corpus.generate_negatives(seed, 30)
            + corpus.generate_chat_messages(seed, 30)
        ]

    assert fingerprint(1) == fingerprint(1)
    assert fingerprint(1) != fingerprint(2)


# ---------------------------------------------------------------- negatives, chat mix, conversations


def test_negatives_carry_no_labels_and_fail_the_checks_they_imitate() -> None:
    negatives = corpus.generate_negatives(SEED, 14 * 20)
    assert {n.kind for n in negatives} == {f"negative:{k}" for k in corpus.NEGATIVE_KINDS}
    for sample in negatives:
        assert sample.labels == ()
        kind = sample.kind.split(":")[1]
        runs = re.findall(r"[\dA-Z][\dA-Z \-]+[\dA-Z]", sample.text)
        if kind == "luhn_failing":
            assert not any(checksums.luhn_valid(_compact(r)) for r in runs if len(_compact(r)) == 16)
        if kind == "invalid_iban":
            token = next(t for t in sample.text.rstrip("?").split() if len(t) >= 15)
            assert not checksums.iban_valid(token)
        if kind == "small_number":
            assert max(len(r) for r in re.findall(r"\d+", sample.text)) < corpus.DEFAULT_LONG_NUMBER_DIGITS


def test_phone_like_negatives_are_invalid_for_every_region() -> None:
    rng = random.Random(SEED)
    for _ in range(30):
        text = corpus.NEGATIVE_MAKERS["phone_like"](rng)
        for region in (None, *identifiers.PHONE_REGIONS):
            try:
                assert not phonenumbers.is_valid_number(phonenumbers.parse(text, region))
            except phonenumbers.NumberParseException:
                pass


def test_chat_messages_are_chat_sized_and_mostly_without_pii() -> None:
    messages = corpus.generate_chat_messages(SEED, 500)
    assert all(20 <= len(m.text) <= 200 for m in messages)
    with_pii = sum(1 for m in messages if m.labels)
    assert 0.1 < with_pii / len(messages) < 0.35
    for message in messages:
        for label in message.labels:
            assert 0 <= label.start < label.end <= len(message.text)
            assert message.text[label.start : label.end].strip() == message.text[label.start : label.end]


def test_conversations_contain_every_type() -> None:
    for conversation in corpus.generate_conversations(SEED, 5):
        assert {l.type for turn in conversation for l in turn.labels} == set(corpus.PII_TYPES)


def test_sample_repr_hides_the_text() -> None:
    sample = corpus.generate_samples(SEED, 1, types=("iban",))[0]
    assert sample.text not in repr(sample)


@settings(max_examples=50, deadline=None)
@given(st.text(alphabet="0123456789ABCDEF -", min_size=1, max_size=24).filter(lambda t: any(c.isalnum() for c in t)))
def test_spaced_variants_keep_the_characters(value: str) -> None:
    variants = corpus.spaced_variants(value)
    compact = "".join(c for c in value if c.isalnum())
    assert variants[0] == value and compact in variants
    assert len(set(variants)) == len(variants)
    for variant in variants:
        assert "".join(c for c in variant if c.isalnum()) == compact
