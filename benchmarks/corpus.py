"""Deterministic labelled corpus of chat messages with synthetic PII, hard negatives and a realistic mix.

Used by ``benchmarks/accuracy.py`` and ``benchmarks/speed.py`` and by the end-to-end leak tests. Written
independently of ``plugin.pii``: own check digits, own IIN and IBAN tables, ``phonenumbers`` for phone validity.
Every value is synthetic (checksum-valid random numbers, example.* or random-letter domains).

API: ``generate_samples(seed, n_per_type)``, ``generate_negatives(seed, n)``, ``generate_chat_messages(seed, n)``,
``generate_conversations(seed, n)``, ``spaced_variants(value)``.
"""

from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass, field
from typing import Callable, Optional, Sequence

from benchmarks import checksums, identifiers
from benchmarks.identifiers import Value
from benchmarks.templates import CHATTER, NEGATIVE_TEMPLATES, TEMPLATES, Template

PII_TYPES: tuple[str, ...] = (
    "credit_card",
    "iban",
    "email",
    "phone",
    "ip_address",
    "date",
    "currency",
    "sim_number",
    "pin_puk",
    "bsn",
    "passport",
    "ssn",
    "vat_number",
    "postal_code",
    "street_address",
    "long_number",
)
DEFAULT_LONG_NUMBER_DIGITS = 9
LANGUAGES = ("en", "nl", "de")


@dataclass(frozen=True)
class Label:
    """A labelled value: ``text[start:end]`` is a value of ``type``."""

    start: int
    end: int
    type: str


@dataclass(frozen=True)
class Sample:
    """One chat message and its labels; ``kind`` describes the value shapes (no raw values), for miss reports."""

    text: str = field(repr=False)
    labels: tuple[Label, ...]
    kind: str
    lang: str


@dataclass(frozen=True)
class CorpusOptions:
    """What the corpus assumes about the deployment: default phone regions and the long-number threshold."""

    home_regions: tuple[str, ...] = identifiers.HOME_REGIONS
    long_number_digits: int = DEFAULT_LONG_NUMBER_DIGITS


ValueMaker = Callable[[random.Random, str, CorpusOptions], Value]

VALUE_MAKERS: dict[str, ValueMaker] = {
    "credit_card": lambda rng, lang, opts: identifiers.credit_card(rng),
    "iban": lambda rng, lang, opts: identifiers.iban(rng),
    "email": lambda rng, lang, opts: identifiers.email(rng),
    "phone": lambda rng, lang, opts: identifiers.phone(rng, opts.home_regions),
    "ip_address": lambda rng, lang, opts: identifiers.ip_address(rng),
    "date": lambda rng, lang, opts: identifiers.date(rng, lang),
    "currency": lambda rng, lang, opts: identifiers.currency(rng),
    "sim_number": lambda rng, lang, opts: identifiers.sim_number(rng),
    "pin_puk": lambda rng, lang, opts: identifiers.pin_puk(rng),
    "bsn": lambda rng, lang, opts: identifiers.bsn(rng),
    "passport": lambda rng, lang, opts: identifiers.passport(rng),
    "ssn": lambda rng, lang, opts: identifiers.ssn(rng),
    "vat_number": lambda rng, lang, opts: identifiers.vat_number(rng),
    "postal_code": lambda rng, lang, opts: identifiers.postal_code(rng),
    "street_address": lambda rng, lang, opts: identifiers.street_address(rng, lang),
    "long_number": lambda rng, lang, opts: identifiers.long_number(rng, opts.long_number_digits, opts.home_regions),
}


def _rng(seed: int, purpose: str) -> random.Random:
    """An independent, reproducible stream per purpose (string seeds hash the same in every process)."""
    return random.Random(f"{seed}:{purpose}")


def _fill(template: str, value: str) -> tuple[str, int, int]:
    prefix, suffix = template.split("{v}")
    return prefix + value + suffix, len(prefix), len(prefix) + len(value)


def _pick_template(rng: random.Random, templates: Sequence[Template], lang: str) -> Template:
    same_lang = [t for t in templates if t[0] == lang]
    return rng.choice(same_lang or list(templates))


def make_sample(rng: random.Random, pii_type: str, options: CorpusOptions = CorpusOptions()) -> Sample:
    """One message carrying one value of ``pii_type`` in a template of a random language."""
    lang = rng.choice(LANGUAGES)
    value = VALUE_MAKERS[pii_type](rng, lang, options)
    templates = TEMPLATES[value.group or pii_type]
    template_lang, template = _pick_template(rng, templates, lang)
    text, start, end = _fill(template, value.text)
    if rng.random() < 0.1:
        text = text[0].upper() + text[1:] if start > 0 else text
    return Sample(text, (Label(start, end, pii_type),), f"{pii_type}:{value.pattern}", template_lang)


def generate_samples(
    seed: int, n_per_type: int, types: Sequence[str] = PII_TYPES, options: CorpusOptions = CorpusOptions()
) -> list[Sample]:
    """``n_per_type`` labelled messages for each type in ``types``; same seed, same list."""
    unknown = set(types) - set(PII_TYPES)
    if unknown:
        raise ValueError(f"unknown PII types {sorted(unknown)}; choose from {PII_TYPES}")
    samples = []
    for pii_type in types:
        rng = _rng(seed, f"samples:{pii_type}")
        samples.extend(make_sample(rng, pii_type, options) for _ in range(n_per_type))
    return samples


# ---------------------------------------------------------------- hard negatives


def _digits(rng: random.Random, count: int, first_nonzero: bool = True) -> str:
    head = str(rng.randint(1, 9)) if first_nonzero else rng.choice(string.digits)
    return head + "".join(rng.choice(string.digits) for _ in range(count - 1))


def _luhn_failing(rng: random.Random) -> str:
    while True:
        digits = rng.choice("3456") + "".join(rng.choice(string.digits) for _ in range(15))
        if not checksums.luhn_valid(digits):
            return rng.choice(
                (digits, identifiers.group_digits(digits, (4,), " "), identifiers.group_digits(digits, (4,), "-"))
            )


def _phone_like(rng: random.Random) -> str:
    """Phone-shaped digits that ``phonenumbers`` rejects for every region we try (and that fail Luhn)."""
    shapes = ("+999 {3} {4}", "0{1}-{4}", "+31 6 {4} {2}", "000 {3} {4}", "({3}) {2}-{2}")
    while True:
        shape = rng.choice(shapes)
        text = re.sub(r"\{(\d)\}", lambda m: _digits(rng, int(m.group(1)), first_nonzero=False), shape)
        digits = "".join(c for c in text if c.isdigit())
        if len(digits) >= 12 and checksums.luhn_valid(digits):
            continue
        if not identifiers.phone_valid_in(text, (None, *identifiers.PHONE_REGIONS)):
            return text


def _invalid_iban(rng: random.Random) -> str:
    country = rng.choice(("NL", "DE", "BE", "FR", "GB", "ES"))
    valid = identifiers.iban_number(rng, country)
    wrong = f"{(int(valid[2:4]) + rng.randint(1, 96)) % 97 + 2:02d}"
    candidate = valid[:2] + wrong + valid[4:]
    return candidate if not checksums.iban_valid(candidate) else valid[:2] + "00" + valid[4:]


def _guid_fragment(rng: random.Random) -> str:
    hexd = "0123456789abcdef"
    groups = ["".join(rng.choice(hexd) for _ in range(n)) for n in (8, 4, 4, 4, 12)]
    return "-".join(groups[: rng.randint(2, 5)])


def _order_number(rng: random.Random) -> str:
    return rng.choice(
        (
            f"#{_digits(rng, 5)}",
            f"A-{_digits(rng, 6)}",
            f"ORD-20{rng.randint(10, 30)}-{_digits(rng, 5)}",
            f"{_digits(rng, 4)}-{_digits(rng, 4)}",
            _digits(rng, rng.randint(5, 8)),
        )
    )


def _tracking_code(rng: random.Random) -> str:
    letters = "".join(rng.choice(string.ascii_uppercase) for _ in range(4))
    alnum = "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(6))
    return rng.choice(
        (
            f"1Z{alnum}{_digits(rng, 10, False)}",
            f"3S{letters}{_digits(rng, 7)}",
            f"JJD{_digits(rng, 15, False)}",
            f"LX{_digits(rng, 9)}NL",
        )
    )


def _product_code(rng: random.Random) -> str:
    return rng.choice(
        (
            "A4000",
            "A 4000",
            f"XK-{_digits(rng, 4)}",
            f"WH-{_digits(rng, 4)}XM4",
            f"RTX {_digits(rng, 4)}",
            f"SKU{_digits(rng, 6)}",
        )
    )


def _version(rng: random.Random) -> str:
    return rng.choice(
        (
            f"{rng.randint(1, 20)}.{rng.randint(0, 20)}.{rng.randint(0, 30)}",
            f"v{rng.randint(1, 9)}.{rng.randint(0, 9)}",
            f"10.0.{rng.randint(10000, 22999)}",
            f"{rng.randint(1, 5)}.{rng.randint(0, 9)}.{rng.randint(0, 9)}-rc{rng.randint(1, 4)}",
        )
    )


NEGATIVE_MAKERS: dict[str, Callable[[random.Random], str]] = {
    "order_number": _order_number,
    "timestamp": lambda rng: str(rng.randint(1_500_000_000, 1_800_000_000) * rng.choice((1, 1000))),
    "guid_fragment": _guid_fragment,
    "tracking_code": _tracking_code,
    "product_code": _product_code,
    "price": lambda rng: rng.choice(
        (f"{rng.randint(1, 99)}.99", f"{rng.randint(1, 99)},95", str(rng.randint(5, 2000)))
    ),
    "version": _version,
    "year": lambda rng: str(rng.randint(1950, 2030)),
    "small_number": lambda rng: _digits(rng, rng.randint(1, 8)),
    "luhn_failing": _luhn_failing,
    "phone_like": _phone_like,
    "invalid_iban": _invalid_iban,
    "time_of_day": lambda rng: f"{rng.randint(0, 23):02d}:{rng.choice((0, 15, 30, 45)):02d}",
    "dimension": lambda rng: rng.choice(
        ("1920x1080", "2560x1440", f"{rng.randint(10, 90)}x{rng.randint(10, 90)}x{rng.randint(10, 90)} cm")
    ),
}


NEGATIVE_KINDS: tuple[str, ...] = tuple(NEGATIVE_MAKERS)


def make_negative(rng: random.Random, kind: str) -> Sample:
    """One message whose only number-like content is a hard negative of ``kind``."""
    value = NEGATIVE_MAKERS[kind](rng)
    lang, template = rng.choice(NEGATIVE_TEMPLATES[kind])
    text, _, _ = _fill(template, value)
    return Sample(text, (), f"negative:{kind}", lang)


def generate_negatives(seed: int, n: int) -> list[Sample]:
    """``n`` hard negatives, kinds in turn (order numbers, timestamps, GUIDs, Luhn-failing 16 digits, ...)."""
    rng = _rng(seed, "negatives")
    return [make_negative(rng, NEGATIVE_KINDS[i % len(NEGATIVE_KINDS)]) for i in range(n)]


# ---------------------------------------------------------------- realistic mix


def _join(parts: Sequence[Sample], lang: str) -> Sample:
    """Concatenate messages with a space, shifting labels."""
    text, labels, offset = "", [], 0
    for part in parts:
        if text:
            text += " "
            offset += 1
        labels.extend(Label(l.start + offset, l.end + offset, l.type) for l in part.labels)
        text += part.text
        offset += len(part.text)
    return Sample(text, tuple(labels), "+".join(p.kind for p in parts), lang)


def _chatter(rng: random.Random, lang: Optional[str] = None) -> Sample:
    lang_, text = _pick_template(rng, CHATTER, lang) if lang else rng.choice(CHATTER)
    return Sample(text, (), "chatter", lang_)


def make_chat_message(rng: random.Random, options: CorpusOptions = CorpusOptions()) -> Sample:
    """One chat-sized (20-200 chars) message: ~65 % plain chatter, ~15 % hard negative, ~20 % one or two values."""
    while True:
        roll = rng.random()
        if roll < 0.65:
            parts = [_chatter(rng)]
            if rng.random() < 0.35:
                parts.append(_chatter(rng, parts[0].lang))
        elif roll < 0.80:
            parts = [_chatter(rng), make_negative(rng, rng.choice(NEGATIVE_KINDS))]
        else:
            count = 2 if rng.random() < 0.2 else 1
            parts = [make_sample(rng, rng.choice(PII_TYPES), options) for _ in range(count)]
            if rng.random() < 0.5:
                parts.insert(0, _chatter(rng, parts[0].lang))
        message = _join(parts, parts[0].lang)
        if 20 <= len(message.text) <= 200:
            return message


def generate_chat_messages(seed: int, n: int, options: CorpusOptions = CorpusOptions()) -> list[Sample]:
    """``n`` realistic chat messages (mostly no PII), each 20-200 characters, labelled."""
    rng = _rng(seed, "chat")
    return [make_chat_message(rng, options) for _ in range(n)]


def generate_conversations(seed: int, n: int, options: CorpusOptions = CorpusOptions()) -> list[list[Sample]]:
    """``n`` conversations; each has one message per PII type (in random order) between chatter and negatives."""
    rng = _rng(seed, "conversations")
    conversations = []
    for _ in range(n):
        turns = [make_sample(rng, pii_type, options) for pii_type in PII_TYPES]
        turns += [make_chat_message(rng, options) for _ in range(rng.randint(3, 8))]
        rng.shuffle(turns)
        conversations.append(turns)
    return conversations


def spaced_variants(value: str) -> tuple[str, ...]:
    """Ways people (or evaders) separate one value: compact, groups of 4/3/2 by space, dash or dot, one by one."""
    compact = "".join(c for c in value if c.isalnum())
    variants = [value, compact]
    for size in (4, 3, 2):
        for sep in (" ", "-", "."):
            variants.append(identifiers.group_digits(compact, (size,), sep))
    variants.append(" ".join(compact))
    return tuple(dict.fromkeys(variants))
