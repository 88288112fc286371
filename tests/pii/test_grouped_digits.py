"""Fail-closed coverage of digit groups that no finder segments (plugin/pii/grouped.py)."""

import random

import pytest

from plugin.pii import EngineConfig, build_engine

from .generators import card_number, found, grouped

SEEDS = range(5)


def _digits(rng: random.Random, count: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def _visible_digits(engine, text: str, view: str) -> str:
    return "".join(char for char in engine.mask(text, view).text if char.isdigit())


@pytest.mark.parametrize("seed", SEEDS)
def test_puk_glued_to_a_spaced_phone_number_leaves_no_digit_visible(engine, seed):
    rng = random.Random(seed)
    text = f"puk {_digits(rng, 8)} 0031 {rng.randint(10, 99)} {_digits(rng, 3)} {_digits(rng, 4)}"
    for view in ("nlu", "agent", "storage", "log"):
        assert _visible_digits(engine, text, view) == ""


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("separator", [" ", "-"])
def test_digit_groups_reaching_the_threshold_never_stay_visible(engine, seed, separator):
    """Random groups may happen to form a phone; whatever the finders make of them, no digit stays visible beyond
    the last four that the agent and storage views keep of a phone by design."""
    rng = random.Random(seed)
    text = f"the number {separator.join(_digits(rng, rng.randint(2, 4)) for _ in range(4))} please"
    for view in ("nlu", "log"):
        assert _visible_digits(engine, text, view) == ""
    for view in ("agent", "storage"):
        assert len(_visible_digits(engine, text, view)) <= 4


@pytest.mark.parametrize("value", ["123-456-789", "12 34 56 78 90", "1 2 3 4 5 6 7 8 9"])
def test_groups_no_finder_recognises_become_one_long_number(engine, value):
    assert found(engine, f"the number {value} please") == [("long_number", value)]


@pytest.mark.parametrize("seed", SEEDS)
def test_digits_left_next_to_a_card_are_masked(engine, seed):
    rng = random.Random(seed)
    card, extra = grouped(card_number(rng)), _digits(rng, 5)  # 21 digits: never one longer card
    assert found(engine, f"card {card} {extra} thanks") == [("credit_card", card), ("long_number", extra)]


@pytest.mark.parametrize(
    "text",
    [
        "12-05-1985",  # a date under the threshold
        "call me at 14 30 or 15 45",  # times
        "it costs 1 234 567,89 in total",  # a price with decimals
        "update to 10.0.22621 today",  # a version
        "ORD-2023-12345 is late",  # a reference code: letters and a dash before the groups
        "the box is 20 30 40",  # too few digits
    ],
)
def test_no_new_masking_for_dates_times_prices_versions_and_codes(engine, text):
    assert [kind for kind, _ in found(engine, text) if kind == "long_number"] == []


def test_short_counts_after_a_phone_stay(engine):
    assert found(engine, "call 020 123 4567 8 times") == [("phone", "020 123 4567")]


def test_threshold_follows_the_long_number_setting():
    text = "the number 123 456 78 please"
    assert found(build_engine(EngineConfig(long_number_digits=8)), text) == [("long_number", "123 456 78")]
    assert found(build_engine(EngineConfig(long_number_digits=9)), text) == []
    disabled = EngineConfig(enabled_types=frozenset(EngineConfig().enabled_types - {"long_number"}))
    assert found(build_engine(disabled), "the number 123 456 789 please") == []


def test_allow_listed_groups_stay_visible():
    engine = build_engine(EngineConfig(allow_list=("0800 123 4567",)))
    assert found(engine, "call 0800 123 4567 for help") == []
