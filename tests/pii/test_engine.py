"""Overlap order, allow/deny lists, custom rules, strategies and views, time budget."""

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.pii import (
    BUILTIN_TYPES,
    DEFAULT_TAGS,
    VIEWS,
    AdminViewError,
    CustomRule,
    EngineConfig,
    InvalidRuleError,
    PIIConfigError,
    StrategySpec,
    UnknownViewError,
    build_engine,
)

from .generators import found


def test_catalogue_names_and_tags():
    assert BUILTIN_TYPES[0] == "credit_card" and BUILTIN_TYPES[-1] == "long_number"
    assert DEFAULT_TAGS["credit_card"] == "#creditcardnr#" and DEFAULT_TAGS["sim_number"] == "#simnr#"
    assert set(BUILTIN_TYPES) <= set(DEFAULT_TAGS)


def test_checksum_type_beats_long_number_and_phone(engine):
    assert found(engine, "card 4111111111111111") == [("credit_card", "4111111111111111")]


def test_iban_beats_card_digits_inside_it(engine):
    text = "HU57 5376 3613 9130 6393 0108 3844"
    assert [kind for kind, _value in found(engine, text)] == ["iban"]


def test_values_beside_a_checksum_find_are_still_found(engine):
    # finders skip the digits an IBAN holds; the values after it must still be found
    text = "HU57 5376 3613 9130 6393 0108 3844, bel 0612345678 op 12-05-1985 pin 4821"
    assert [kind for kind, _value in found(engine, text)] == ["iban", "phone", "date", "pin_puk"]


def test_a_deny_term_that_outranks_an_iban_leaves_no_digit_group_raw():
    # the deny term wins over the IBAN, so the IBAN's other digits must be judged again, not skipped as "inside an IBAN"
    engine = build_engine(EngineConfig(deny_list=("5376",)))
    masked = engine.mask("HU57 5376 3613 9130 6393 0108 3844", "log").text
    assert masked == "HU57 #redacted# #number#"


def test_specific_beats_generic_for_same_stretch(engine):
    # the phone number is also a 10-digit run; the phone wins over long_number
    assert found(engine, "bel 0612345678") == [("phone", "0612345678")]


def test_spans_are_sorted_and_disjoint(engine):
    spans = engine.detect("jan@example.com, 4111 1111 1111 1111, 06-12345678 and 12-05-1985")
    assert [span.type for span in spans] == ["email", "credit_card", "phone", "date"]
    assert all(a.end <= b.start for a, b in zip(spans, spans[1:]))


def test_span_repr_has_no_value(engine):
    text = "mail jan@example.com"
    assert "jan@" not in repr(engine.detect(text)) and "jan@" not in repr(engine.mask(text, "agent"))


def test_allow_list_is_never_masked():
    engine = build_engine(EngineConfig(allow_list=("support@shop.example",)))
    text = "write support@shop.example or me@home.example"
    assert found(engine, text) == [("email", "me@home.example")]


def test_deny_list_is_always_masked():
    engine = build_engine(EngineConfig(deny_list=("Project Tulip",)))
    result = engine.mask("about project tulip and more", "log")
    assert result.text == "about #redacted# and more"


def test_disabled_type_is_not_detected():
    types = frozenset(BUILTIN_TYPES) - {"email"}
    engine = build_engine(EngineConfig(enabled_types=types))
    assert found(engine, "jan@example.com") == []


# -- custom rules -------------------------------------------------------------------------------------------------


def _rule(**overrides) -> CustomRule:
    values = dict(name="customer_id", pattern=r"CUS-\d{6}", tag="#customerid#")
    values.update(overrides)
    return CustomRule(**values)


def test_custom_rule_masks_with_its_tag():
    engine = build_engine(EngineConfig(custom_rules=(_rule(),)))
    result = engine.mask("my id is CUS-123456", "nlu")
    assert result.text == "my id is #customerid#"
    assert [(span.type, span.rule) for span in result.spans] == [("customer_id", "customer_id")]


def test_custom_rule_validator_and_context():
    rule = _rule(pattern=r"\b\d{9}\b", validator="elfproef", context_words=("klant",), context_window=20)
    engine = build_engine(EngineConfig(custom_rules=(rule,), enabled_types=frozenset()))
    assert found(engine, "klant 111222333") == [("customer_id", "111222333")]
    assert found(engine, "klant 111222334") == []  # 11-proof fails
    assert found(engine, "nummer 111222333") == []  # no context word


def test_disabled_custom_rule_is_skipped():
    engine = build_engine(EngineConfig(custom_rules=(_rule(enabled=False, pattern="("),)))
    assert found(engine, "CUS-123456") == []


@pytest.mark.parametrize(
    "overrides,fragment",
    [
        ({"pattern": "(unclosed"}, "not a valid regular expression"),
        ({"pattern": r"\d*"}, "empty string"),
        ({"pattern": r"x|"}, "empty string"),
        ({"pattern": r"(a+)+$"}, "too slow"),
        ({"pattern": r"(\w+\s?)+$"}, "too slow"),
        ({"validator": "crc32"}, "unknown validator"),
        ({"tag": "#id1#"}, "tag"),
        ({"name": "email"}, "built-in type"),
    ],
)
def test_bad_custom_rule_is_refused_naming_the_rule(overrides, fragment):
    rule = _rule(**overrides)
    with pytest.raises(InvalidRuleError) as error:
        build_engine(EngineConfig(custom_rules=(rule,)))
    assert rule.name in str(error.value) and fragment in str(error.value)


def test_duplicate_custom_rule_names_are_refused():
    with pytest.raises(InvalidRuleError, match="unique"):
        build_engine(EngineConfig(custom_rules=(_rule(), _rule())))


def test_runtime_timeout_fails_closed(caplog):
    # Quadratic only on runs of ';' and ',' (absent from the load-time probes), so it loads but overruns at run time.
    rule = _rule(pattern=r"[;,]+[0-9][A-Z]")
    events = []
    engine = build_engine(EngineConfig(custom_rules=(rule,), scan_timeout_s=0.002), on_timeout=lambda *a: events.append(a))
    text = "secret " + ";," * 30000 + "!"
    with caplog.at_level(logging.WARNING, logger="plugin.pii"):
        result = engine.mask(text, "storage")
    assert result.timed_out and result.text == "#redacted#" and result.spans == ()
    assert events and events[0][1] == len(text)
    assert "secret" not in caplog.text and ";," not in caplog.text
    assert [span.type for span in engine.detect(text)] == ["unscanned"]
    both = engine.mask_views(text, ("storage", "nlu"))
    assert [(r.timed_out, r.text) for r in both] == [(True, "#redacted#")] * 2 and len(events) == 3  # once more, not per view


# -- strategies and views -----------------------------------------------------------------------------------------

TEXT = "card 4111-1111-1111-1111, mail jan@example.com, call (415) 555-2671, iban NL91ABNA0417164300, pin 1234"


def test_nlu_and_log_views_use_tags(engine):
    expected = "card #creditcardnr#, mail #email#, call #phonenr#, iban #iban#, pin #pinpuknr#"
    assert engine.mask(TEXT, "nlu").text == expected
    assert engine.mask(TEXT, "log").text == expected


@pytest.mark.parametrize("view", ["agent", "storage"])
def test_agent_and_storage_defaults(engine, view):
    assert engine.mask(TEXT, view).text == (
        "card ****-****-****-1111, mail ****@example.com, call (XXX) XXX-2671, iban **************4300, pin #pinpuknr#"
    )


def test_nlu_hides_numbers_with_n_digits(engine):
    result = engine.mask("I need 12345 items, not 1234", "nlu")
    assert result.text == "I need #number# items, not 1234"


def test_redact_strategy_counts_significant_characters():
    spec = StrategySpec("redact", mask_char="#", keep_left=2, keep_right=2)
    engine = build_engine(EngineConfig(strategies={"storage": {"credit_card": spec}}))
    assert engine.mask("4111-1111-1111-1111", "storage").text == "41##-####-####-##11"


def test_hash_strategy_is_deterministic_per_key():
    spec = StrategySpec("hash")
    config = EngineConfig(strategies={"log": {"email": spec, "credit_card": spec}}, hash_key=b"k1")
    engine = build_engine(config)
    first = engine.mask("jan@example.com", "log").text
    assert first == engine.mask("JAN@example.com", "log").text and first.startswith("#email:")
    assert engine.mask("4111 1111 1111 1111", "log").text == engine.mask("4111-1111-1111-1111", "log").text
    other = build_engine(EngineConfig(strategies=config.strategies, hash_key=b"k2"))
    assert other.mask("jan@example.com", "log").text != first
    assert not any(char.isdigit() for char in first)


def test_hash_without_key_falls_back_to_tag():
    engine = build_engine(EngineConfig(strategies={"log": {"email": StrategySpec("hash")}}))
    assert engine.mask("jan@example.com", "log").text == "#email#"


def test_token_strategy_uses_tokenizer_or_fails_closed():
    engine = build_engine(EngineConfig(strategies={"storage": {"email": StrategySpec("token")}}))
    calls = []

    def tokenizer(value, span):
        calls.append((value, span.type))
        return "#vault:abc#"

    assert engine.mask("jan@example.com", "storage", tokenizer).text == "#vault:abc#"
    assert calls == [("jan@example.com", "email")]
    assert engine.mask("jan@example.com", "storage").text == "#email#"


def test_tag_override():
    engine = build_engine(EngineConfig(strategies={"nlu": {"email": StrategySpec("tag", tag="#mail#")}}))
    assert engine.mask("jan@example.com", "nlu").text == "#mail#"


def test_admin_view_raises(engine):
    with pytest.raises(AdminViewError):
        engine.mask("x", "admin")
    with pytest.raises(UnknownViewError):
        engine.mask("x", "nope")
    assert set(VIEWS) == {"nlu", "agent", "storage", "log"}


@pytest.mark.parametrize(
    "config",
    [
        EngineConfig(enabled_types=frozenset({"emails"})),
        EngineConfig(strategies={"admin": {}}),
        EngineConfig(strategies={"log": {"email": StrategySpec("shred")}}),
        EngineConfig(strategies={"log": {"email": StrategySpec("redact", mask_char="1")}}),
        EngineConfig(phone_regions=("XX",)),
        EngineConfig(scan_timeout_s=0),
        EngineConfig(long_number_digits=9.0),
        EngineConfig(nlu_hidden_digits=True),
        EngineConfig(strategies={"agent": {"iban": StrategySpec("redact", keep_right=4.0)}}),
        EngineConfig(custom_rules=(CustomRule("ref", r"R-\d{6}", strategy=StrategySpec("redact", keep_left=-1)),)),
    ],
)
def test_bad_settings_are_refused(config):
    with pytest.raises(PIIConfigError):
        build_engine(config)


def test_masking_is_idempotent_on_examples(engine):
    for view in VIEWS:
        once = engine.mask(TEXT, view).text
        assert engine.mask(once, view).text == once


def test_masking_is_idempotent_when_a_bracket_follows_the_value(engine):
    # A number then " )": masking the number lets the phone finder start at the bracket, so the result is re-scanned.
    for view in VIEWS:
        once = engine.mask("00000 )0100)0000/0", view).text
        assert engine.mask(once, view).text == once


def test_adjacent_values_stay_masked(engine):
    text = "1234 AB4111111111111111"
    once = engine.mask(text, "nlu").text
    assert "4111111111111111" not in once and engine.mask(once, "nlu").text == once


def test_output_spans_locate_each_replacement_in_the_masked_text() -> None:
    from plugin.pii import build_engine

    text = "card 4111 1111 1111 1111, mail a.b@example.com and call +31 6 12345678 today"
    for view in ("nlu", "agent", "storage", "log"):
        result = build_engine().mask(text, view)
        assert len(result.output_spans) == len(result.spans) == 3
        pieces = [result.text[start:end] for start, end in result.output_spans]
        rebuilt, position = [], 0
        for span, piece in zip(result.spans, pieces):
            rebuilt.append(text[position : span.start])
            rebuilt.append(piece)
            position = span.end
        rebuilt.append(text[position:])
        assert "".join(rebuilt) == result.text
    assert [result.text[s:e] for s, e in build_engine().mask(text, "nlu").output_spans] == [
        "#creditcardnr#", "#email#", "#phonenr#"]


def test_fast_constructors_build_values_equal_to_the_dataclass_ones() -> None:
    from plugin.pii import MaskResult, Span
    from plugin.pii.builders import make_mask_result, make_span

    assert make_span(3, 9, "phone", {"region": "NL"}, validated=True) == Span(3, 9, "phone", {"region": "NL"}, validated=True)
    assert make_span(0, 4, "pin_puk").rule == "pin_puk"
    assert hash(make_span(0, 4, "pin_puk")) == hash(Span(0, 4, "pin_puk"))
    assert "4111" not in repr(make_mask_result("card 4111", (), False, ()))
    assert make_mask_result("x", (), True, ()) == MaskResult("x", (), True, ())


@pytest.mark.parametrize(
    "value, pii_type",
    [
        ("September 12, 2021", "date"),  # month word before the first digit
        ("US$ 5", "currency"),
        ("GIR 0AA", "postal_code"),
        ("NL91ABNA0417164300", "iban"),
        ("+ (31) 6 12345678", "phone"),
        ("DE 136695976", "vat_number"),
        ("4111 1111 1111 1111", "credit_card"),
        ("Keizersgracht 123", "street_address"),
    ],
)
def test_values_whose_match_starts_before_the_first_digit_are_found_after_chatter(engine, value, pii_type):
    # The finders start their pass a few characters before the first digit; the leading letters/symbols must fit.
    for text in (value, "Thanks, that helps a lot, one more question: " + value + " ok"):
        start = text.index(value)
        assert [(s.start, s.end, s.type) for s in engine.detect(text)] == [(start, start + len(value), pii_type)]


def test_first_digit_offsets_of_a_scan() -> None:
    from plugin.pii.scan import Scan

    assert Scan("no digits here", None, ()).first_digit == len("no digits here")
    scan = Scan("call +31 6", None, ())
    assert (scan.first_digit, scan.digit_start(3), scan.digit_start(99)) == (6, 3, 0)
    assert Scan("ref ٣٤٥", None, ()).first_digit == 4  # non-ASCII digits count too


# Digits that the `regex` module's \d accepts (Unicode 14/15 scripts) but Python 3.10's int() rejects.
NEW_UNICODE_DIGITS = [chr(c) for r in ((0x11F50, 0x11F5A), (0x16AC0, 0x16ACA), (0x1E4F0, 0x1E4FA)) for c in range(*r)]


def test_a_finder_failing_on_unexpected_digits_fails_closed() -> None:
    from plugin.pii import build_engine

    engine = build_engine()
    for digit in NEW_UNICODE_DIGITS[::9]:
        text = "card 4111 " + digit * 12 + " end"
        result = engine.mask(text, "storage")
        assert result.timed_out and result.text == "#redacted#"
        assert [span.type for span in engine.detect(text)] == ["unscanned"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(NEW_UNICODE_DIGITS + list("0123456789 -+./()abcEUR€@")), max_size=40))
def test_unusual_digits_never_raise(chars) -> None:
    from plugin.pii import build_engine

    text = "".join(chars)
    for view in ("nlu", "agent", "storage", "log"):
        build_engine().mask(text, view)


def test_a_fractional_context_window_is_refused_naming_the_rule():
    with pytest.raises(InvalidRuleError, match="ref"):
        build_engine(EngineConfig(custom_rules=(CustomRule("ref", r"R-\d{6}", context_words=("ref",), context_window=40.5),)))


def test_settings_given_as_lists_work_as_tuples_do():
    """EngineConfig stays an ordinary dataclass in the compiled build too: library users may pass lists."""
    listed = build_engine(EngineConfig(phone_regions=["NL", "US"], allow_list=["a@example.com"], deny_list=["Falcon"]))
    tupled = build_engine(EngineConfig(phone_regions=("NL", "US"), allow_list=("a@example.com",), deny_list=("Falcon",)))
    text = "call 06 12345678 about Falcon, mail a@example.com"
    assert listed.mask(text, "log").text == tupled.mask(text, "log").text == "call #phonenr# about #redacted#, mail a@example.com"
