"""Properties over arbitrary Unicode: never raises, valid offsets, idempotent masking, no detected value survives."""

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from plugin.pii import VIEWS, EngineConfig, build_engine

from .generators import card_number, grouped, iban

ENGINE = build_engine(EngineConfig())
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_rng = random.Random(42)
PII_VALUES = (
    [card_number(_rng) for _ in range(5)]
    + [grouped(card_number(_rng, "51")) for _ in range(3)]
    + [iban(_rng, country) for country in ("NL", "DE", "GB", "FR", "BE")]
    + ["jan.jansen@example.com", "a.b+c@sub.example.org", "+31 6 12345678", "06-12345678", "(415) 555-2671", "12-05-1985",
       "192.168.10.20", "111222333", "Keizersgracht 123", "€12,50"]
)

unicode_text = st.text(max_size=200)
chat_text = st.lists(
    st.one_of(st.text(max_size=12), st.sampled_from(PII_VALUES), st.sampled_from([" ", ", ", ". ", "\n", " pin ", " bsn "])),
    max_size=12,
).map("".join)


@SETTINGS
@given(st.one_of(unicode_text, chat_text))
def test_detect_never_raises_and_offsets_are_valid(text):
    spans = ENGINE.detect(text)
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


@SETTINGS
@given(st.one_of(unicode_text, chat_text), st.sampled_from(VIEWS))
def test_masking_is_idempotent(text, view):
    once = ENGINE.mask(text, view)
    assert not once.timed_out
    assert ENGINE.mask(once.text, view).text == once.text


@SETTINGS
@given(chat_text, st.sampled_from(("nlu", "log")))
def test_no_detected_value_survives(text, view):
    """Tag views; agent/storage keep last digits by design (see test_engine), which can coincide with nearby text."""
    result = ENGINE.mask(text, view)
    for span in result.spans:
        value = text[span.start : span.end]
        if sum(char.isalnum() for char in value) >= 8 and text.count(value) == 1:
            assert value not in result.text


@SETTINGS
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Nd",)), max_size=10), min_size=1, max_size=4),
       st.sampled_from(PII_VALUES[:13]), st.sampled_from(VIEWS))
def test_inserted_checksum_value_never_survives(words, value, view):
    """Cards and IBANs separated by spaces from any digit-free text are always masked in every view."""
    text = " ".join(words[:1] + [value] + words[1:])
    assert value not in ENGINE.mask(text, view).text


@given(st.one_of(unicode_text, chat_text), st.lists(st.sampled_from(VIEWS), min_size=1, max_size=4))
@SETTINGS
def test_one_pass_for_several_views_renders_each_as_mask_does(text, views):
    assert ENGINE.mask_views(text, views) == tuple(ENGINE.mask(text, view) for view in views)
