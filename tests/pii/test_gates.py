"""The finders' gates: the engine skips a finder whose gate says no, so a gate must say yes wherever its finder finds
something (else values would go unmasked), and it should say no on ordinary chat (else it saves nothing). These are
sampled checks (a corpus, its mutations, hypothesis), not a proof: each gate's docstring names the pattern it mirrors."""

import regex
import sys
from functools import partial

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchmarks.equivalence import texts
from plugin.pii.cards import _CHUNK, _WIDE_CHUNK, chunks
from plugin.pii.catalogue import CATALOGUE
from plugin.pii.numbers import find_long_numbers, may_hold_long_number
from plugin.pii.scan import SPACE_CHARS, Scan, _ascii_runs
from plugin.pii.vat import BODY_DIGITS, VAT_FORMATS

from .test_properties import PII_VALUES

REGIONS = ("NL", "DE", "GB", "US", "FR", "BE")
FINDERS = [(info.name, info.finder, info.gate) for info in CATALOGUE if info.name != "long_number"]
FINDERS.append(("long_number", partial(find_long_numbers, min_digits=9), partial(may_hold_long_number, min_digits=9)))
CORPUS = [text for _source, text in texts(chat=600, fuzz=6000)]


def _gate_misses(text: str) -> list:
    """Types whose finder finds something in ``text`` while its gate says it cannot."""
    return [
        name
        for name, finder, gate in FINDERS
        if list(finder(Scan(text, None, REGIONS))) and not gate(Scan(text, None, REGIONS))
    ]


def test_every_type_has_a_gate():
    assert all(gate is not None for _name, _finder, gate in FINDERS)


def test_no_gate_refuses_a_text_its_finder_finds_something_in():
    """Generated values of every type in chat sentences, hard negatives, the unit tests' odd inputs, and thousands of
    random mutations of those (separators, brackets, digits and letters inserted or cut, other scripts)."""
    misses = {}
    for text in CORPUS:
        for name in _gate_misses(text):
            misses.setdefault(name, 0)
            misses[name] += 1
    assert misses == {}
    found = {name for text in CORPUS for name, finder, _gate in FINDERS if list(finder(Scan(text, None, REGIONS)))}
    assert found == {name for name, _finder, _gate in FINDERS}  # the corpus exercises every finder


pieces = st.one_of(
    st.sampled_from(PII_VALUES),
    st.sampled_from([" ", "  ", " - ", "-", ".", "/", "(", ")", "+", ":", "\u00a0", "\u2007", "\u0663", "NL", "de ",
                     "pin ", "puk ", "bsn ", "ssn ", "passport ", "straat ", "Street", " Baker ", "jan ", "€", "EUR",
                     "\u00b2", "\u00bd", "\u2460", "\u017f", "\u0130", "\u212a", "AB", "SW1A 1AA", "ES-X ",
                     "plz ", "wohnhaft ", "Straße ", "the code is ", "mei ", "Sep ", "19", "20", "of ", " is", "AT U",
                     "IT", "B", "(0)", "00", "+1 ", "1 ", "US$", "u\u017fd", " Dollars", "Pound", ",-"]),
    st.text(alphabet="0123456789", min_size=1, max_size=12),
    st.text(max_size=6),
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pieces, max_size=10).map("".join))
def test_gates_hold_on_generated_texts(text):
    assert _gate_misses(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Hello, I would like to know when my order arrives",
        "my order 12345 has not arrived yet",
        "we spoke at 10:30 about 3 parcels",
        "it costs 4 times as much as last year",
    ],
)
def test_gates_refuse_ordinary_chat(text):
    """Only cheap, always-possible types may pass on plain chat and everyday numbers (no card, IBAN, phone...)."""
    scan_gate = {name: gate(Scan(text, None, REGIONS)) for name, _finder, gate in FINDERS}
    passed = {name for name, allowed in scan_gate.items() if allowed}
    assert passed <= {"postal_code", "pin_puk", "date"}  # a 5-digit run may be a DE postcode; "10:30" has short runs
    assert not passed & {"credit_card", "iban", "sim_number", "vat_number", "bsn", "ssn", "phone", "street_address"}


def test_scan_runs_lengths_and_gaps():
    scan = Scan("call 06-1234 5678 or ٣٤", None, REGIONS)
    assert scan.runs == [(5, 7), (8, 12), (13, 17), (21, 23)]
    assert scan.lengths == [2, 4, 4, 2]
    assert scan.gaps == ["-", " ", " or "]
    assert (scan.digit_total, scan.max_run, scan.first_digit) == (12, 4, 5)
    assert scan.longest_cluster(lambda gap: gap in {"-", " "}) == 10
    empty = Scan("no digits", None, REGIONS)
    assert (empty.runs, empty.gaps, empty.digit_total, empty.first_digit) == ([], [], 0, len("no digits"))


def test_space_chars_are_every_space_and_cover_regex_whitespace():
    every = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert set(SPACE_CHARS) == every
    assert all(char in every for char in map(chr, range(sys.maxunicode + 1)) if regex.match(r"\s", char))


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789 ab.-", max_size=40))
def test_ascii_runs_loop_finds_what_the_regex_finds(text):
    """The compiled build finds runs by a character loop (see scan._ascii_runs); it must agree with the regex."""
    assert _ascii_runs(text) == [match.span() for match in regex.finditer(r"\d+", text)]


# The card finder reads its chunks off the runs (cards.chunks) instead of a regex pass: the same matches, always.
_CHUNK_PIECES = ["4111", "1111", "12", "5", "٣", " ", "  ", " - ", "-", ".", "_", "+", "/", ",", "a", "x.", "-1"]


def _assert_chunks_are_the_patterns_matches(text: str) -> None:
    scan = Scan(text, None, REGIONS)
    for wide, pattern in ((False, _CHUNK), (True, _WIDE_CHUNK)):
        found = [(scan.runs[first][0], scan.runs[last][1]) for first, last in chunks(scan, wide)]
        assert found == [match.span() for match in pattern.finditer(text)], text


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(_CHUNK_PIECES), max_size=16).map("".join))
def test_card_chunks_are_the_chunk_patterns_matches(text):
    _assert_chunks_are_the_patterns_matches(text)


def test_card_chunks_match_the_patterns_on_the_corpus():
    for text in CORPUS:
        _assert_chunks_are_the_patterns_matches(text)


# The phone gate reads the configured regions (trunk prefixes, valid lengths): it must hold for other sets too.
OTHER_REGIONS = [("US",), ("GB",), ("JP", "IT", "HU", "RU"), ("NL", "DE", "GB", "US", "FR", "BE", "BR", "IN", "AR")]


@pytest.mark.parametrize("regions", OTHER_REGIONS)
def test_phone_gate_holds_for_other_regions(regions):
    phone = next(info for info in CATALOGUE if info.name == "phone")
    samples = CORPUS[::3] + [
        "bel 0612345678", "06-1234 5678", "call (212) 555-0182", "1 212 555 0182", "020 7946 0958", "+7 912 345-67-89",
        "8 912 345 67 89", "06 1234 5678", "03-1234-5678", "+39 06 1234 5678", "011 15 2345-6789", "98765 43210",
    ]
    misses = [
        text for text in samples
        if list(phone.finder(Scan(text, None, regions))) and not phone.gate(Scan(text, None, regions))
    ]
    assert len(misses) == 0, f"{len(misses)} texts"


@pytest.mark.parametrize(
    "text", ["born on 13.02.1953", "SSN 514-91-6094", "BSN 227692068", "order 6165-1038", "PUK 18894304", "4389359095190842"]
)
def test_phone_gate_refuses_numbers_no_configured_region_could_accept(text):
    """Seven to nine digits without a trunk prefix or "+", or a card's 16: no region of the defaults takes them."""
    assert not next(info for info in CATALOGUE if info.name == "phone").gate(Scan(text, None, REGIONS))


@pytest.mark.parametrize("text", ["0612345678", "+31 6 1234 5678", "0031 6 12345678", "(212) 555-0182", "1 212 555 0182"])
def test_phone_gate_passes_numbers_a_configured_region_may_accept(text):
    assert next(info for info in CATALOGUE if info.name == "phone").gate(Scan(text, None, REGIONS))


@pytest.mark.parametrize("country", sorted(VAT_FORMATS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_vat_gate_digit_counts_match_the_body_formats(country, data):
    """The VAT gate refuses a body whose digit count is not in BODY_DIGITS: every body the format accepts must have
    one of those counts (and each count listed must be possible, or the table is wrong the other way)."""
    pattern = VAT_FORMATS[country][0]
    body = data.draw(st.from_regex(regex.compile(f"(?:{pattern})").pattern, fullmatch=True))
    if regex.fullmatch(pattern, body):
        assert len(regex.findall(r"\d", body)) in BODY_DIGITS[country]
    for count in BODY_DIGITS[country]:
        assert any(regex.fullmatch(pattern, candidate) for candidate in _bodies_with_digits(count))


def _bodies_with_digits(count: int):
    """Bodies of ``count`` digits in the shapes VAT_FORMATS use: plain, letters before/inside/after, B, 01 ending."""
    digits = "1" * count
    yield digits
    yield "U" + digits
    yield "AB" + digits
    yield "A" + digits + "B"
    yield digits[:-2] + "B" + digits[-2:]
    yield digits + "A"
    yield digits + "AB"
    yield digits[:1] + "A" + digits[1:] + "W"
    yield digits[:-2] + "01"


def test_character_helpers_agree_with_the_str_methods():
    """The gates' per-character helpers (ord-based, for the compiled build) answer as the str methods they replace."""
    from plugin.pii.scan import is_ascii_letter, is_ascii_word_char, is_letter, only_chars

    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert is_letter(char) == char.isalpha()
        assert is_ascii_letter(char) == (char.isascii() and char.isalpha())
        assert is_ascii_word_char(char) == (char.isascii() and (char.isalnum() or char == "_"))
    assert not is_letter("") and not is_ascii_letter("") and not is_ascii_word_char("")
    for gap, allowed in [(" - ", " -"), ("a-", " -"), ("", "x"), ("..", "."), (" \u00a0", " \u00a0")]:
        assert only_chars(gap, allowed) == (not gap.strip(allowed))
