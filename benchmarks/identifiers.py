"""Synthetic, checksum-valid identifier values and the registry tables they are drawn from.

Every generator takes a ``random.Random`` and returns a ``Value``: the text as a user would type it plus a
``pattern`` that describes its shape without the value (``visa-16/space4``), safe to print in reports.
The tables are our own (IIN ranges per brand, the SWIFT IBAN registry), not the engine's.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Optional, Sequence

import phonenumbers
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from benchmarks import checksums


@dataclass(frozen=True)
class Value:
    """A generated value and a description of its shape (no digits of the value in ``pattern``)."""

    text: str = field(repr=False)
    pattern: str
    group: str = ""  # which sentence templates fit, when a type has several (``pin`` vs ``puk``)


# ---------------------------------------------------------------- cards


@dataclass(frozen=True)
class CardRange:
    """One IIN range of a brand: prefixes ``low``..``high`` (same number of digits) and the valid lengths."""

    brand: str
    low: int
    high: int
    lengths: tuple[int, ...]


# fmt: off
_ELO_RANGES = (
    (401178, 401179), (431274, 431274), (438935, 438935), (451416, 451416), (457393, 457393), (457631, 457632),
    (504175, 504175), (506699, 506778), (509000, 509999), (627780, 627780), (636297, 636297), (636368, 636368),
    (650031, 650033), (650035, 650051), (650405, 650439), (650485, 650538), (650541, 650598), (650700, 650718),
    (650720, 650727), (650901, 650978), (651652, 651679), (655000, 655019), (655021, 655058),
)
# fmt: on

CARD_RANGES: tuple[CardRange, ...] = (
    CardRange("visa", 4, 4, (13, 16, 19)),
    CardRange("mastercard", 51, 55, (16,)),
    CardRange("mastercard", 2221, 2720, (16,)),
    CardRange("amex", 34, 34, (15,)),
    CardRange("amex", 37, 37, (15,)),
    CardRange("discover", 6011, 6011, (16, 17, 18, 19)),
    CardRange("discover", 644, 649, (16, 17, 18, 19)),
    CardRange("discover", 65, 65, (16, 17, 18, 19)),
    CardRange("discover", 622126, 622925, (16, 17, 18, 19)),
    CardRange("jcb", 3528, 3589, (16, 17, 18, 19)),
    CardRange("diners", 36, 36, (14, 15, 16, 17, 18, 19)),
    CardRange("diners", 300, 305, (14, 16, 17, 18, 19)),
    CardRange("diners", 3095, 3095, (16, 17, 18, 19)),
    CardRange("diners", 38, 39, (16, 17, 18, 19)),
    *(CardRange("maestro", p, p, tuple(range(12, 20))) for p in (5018, 5020, 5038, 5893, 6304, 6759, 6761, 6762, 6763)),
    CardRange("unionpay", 62, 62, (16, 17, 18, 19)),
    *(CardRange("rupay", p, p, (16,)) for p in (60, 65, 81, 82, 353, 356, 508)),
    *(CardRange("elo", low, high, (16,)) for low, high in _ELO_RANGES),
    CardRange("mir", 2200, 2204, (16, 17, 18, 19)),
)

CARD_BRANDS: tuple[str, ...] = tuple(dict.fromkeys(r.brand for r in CARD_RANGES))


def card_number(rng: random.Random, card_range: CardRange, length: int) -> str:
    """A Luhn-valid card number of ``length`` digits inside ``card_range``."""
    prefix = str(rng.randint(card_range.low, card_range.high))
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return body + checksums.luhn_check_digit(body)


def group_digits(digits: str, sizes: tuple[int, ...], sep: str) -> str:
    """Split ``digits`` into groups of ``sizes`` (the last size repeats) joined by ``sep``."""
    parts, index, size_index = [], 0, 0
    while index < len(digits):
        size = sizes[min(size_index, len(sizes) - 1)]
        parts.append(digits[index : index + size])
        index += size
        size_index += 1
    return sep.join(parts)


def _card_layout(digits: str, layout: str) -> str:
    if layout == "compact":
        return digits
    if layout == "dash4":
        return group_digits(digits, (4,), "-")
    if layout == "brand" and len(digits) == 15:
        return group_digits(digits, (4, 6, 5), " ")
    if layout == "brand" and len(digits) == 14:
        return group_digits(digits, (4, 6, 4), " ")
    if layout == "phone_like":
        return group_digits(digits, (3, 3, 4), " ")
    return group_digits(digits, (4,), " ")


def credit_card(rng: random.Random) -> Value:
    """A card of a random brand and valid length, in one of the layouts people type."""
    card_range = rng.choice(CARD_RANGES)
    length = rng.choice(card_range.lengths)
    layout = rng.choices(("compact", "space4", "dash4", "brand", "phone_like"), (30, 40, 12, 12, 6))[0]
    return Value(_card_layout(card_number(rng, card_range, length), layout), f"{card_range.brand}-{length}/{layout}")


# ---------------------------------------------------------------- IBAN

# SWIFT IBAN registry: country -> (total length, BBAN structure). n = digits, a = upper-case letters, c = alphanumeric.
# fmt: off
IBAN_REGISTRY: dict[str, tuple[int, str]] = {
    "AD": (24, "4n4n12c"), "AE": (23, "3n16n"), "AL": (28, "8n16c"), "AT": (20, "5n11n"), "AZ": (28, "4a20c"),
    "BA": (20, "3n3n8n2n"), "BE": (16, "3n7n2n"), "BG": (22, "4a4n2n8c"), "BH": (22, "4a14c"),
    "BI": (27, "5n5n11n2n"), "BR": (29, "8n5n10n1a1c"), "BY": (28, "4c4n16c"), "CH": (21, "5n12c"),
    "CR": (22, "4n14n"), "CY": (28, "3n5n16c"), "CZ": (24, "4n6n10n"), "DE": (22, "8n10n"), "DJ": (27, "5n5n11n2n"),
    "DK": (18, "4n9n1n"), "DO": (28, "4c20n"), "EE": (20, "2n2n11n1n"), "EG": (29, "4n4n17n"),
    "ES": (24, "4n4n1n1n10n"), "FI": (18, "3n11n"), "FK": (18, "2a12n"), "FO": (18, "4n9n1n"),
    "FR": (27, "5n5n11c2n"), "GB": (22, "4a6n8n"), "GE": (22, "2a16n"), "GI": (23, "4a15c"), "GL": (18, "4n9n1n"),
    "GR": (27, "3n4n16c"), "GT": (28, "4c20c"), "HN": (28, "4a20n"), "HR": (21, "7n10n"), "HU": (28, "3n4n1n15n1n"),
    "IE": (22, "4a6n8n"), "IL": (23, "3n3n13n"), "IQ": (23, "4a3n12n"), "IS": (26, "4n2n6n10n"),
    "IT": (27, "1a5n5n12c"), "JO": (30, "4a4n18c"), "KW": (30, "4a22c"), "KZ": (20, "3n13c"), "LB": (28, "4n20c"),
    "LC": (32, "4a24c"), "LI": (21, "5n12c"), "LT": (20, "5n11n"), "LU": (20, "3n13c"), "LV": (21, "4a13c"),
    "LY": (25, "3n3n15n"), "MC": (27, "5n5n11c2n"), "MD": (24, "2c18c"), "ME": (22, "3n13n2n"), "MK": (19, "3n10c2n"),
    "MN": (20, "4n12n"), "MR": (27, "5n5n11n2n"), "MT": (31, "4a5n18c"), "MU": (30, "4a2n2n12n3n3a"),
    "NI": (28, "4a20n"), "NL": (18, "4a10n"), "NO": (15, "4n6n1n"), "OM": (23, "3n16c"), "PK": (24, "4a16c"),
    "PL": (28, "8n16n"), "PS": (29, "4a21c"), "PT": (25, "4n4n11n2n"), "QA": (29, "4a21c"), "RO": (24, "4a16c"),
    "RS": (22, "3n13n2n"), "RU": (33, "9n5n15c"), "SA": (24, "2n18c"), "SC": (31, "4a2n2n16n3a"), "SD": (18, "2n12n"),
    "SE": (24, "3n16n1n"), "SI": (19, "5n8n2n"), "SK": (24, "4n6n10n"), "SM": (27, "1a5n5n12c"),
    "SO": (23, "4n3n12n"), "ST": (25, "4n4n11n2n"), "SV": (28, "4a20n"), "TL": (23, "3n14n2n"),
    "TN": (24, "2n3n13n2n"), "TR": (26, "5n1n16c"), "UA": (29, "6n19c"), "VA": (22, "3n15n"), "VG": (24, "4a16n"),
    "XK": (20, "4n10n2n"), "YE": (30, "4a4n18c"),
}
# fmt: on

_ALPHABETS = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}


def parse_bban_structure(structure: str) -> list[tuple[int, str]]:
    """``"4a10n"`` -> ``[(4, "a"), (10, "n")]``."""
    parts, number = [], ""
    for char in structure:
        if char.isdigit():
            number += char
        else:
            parts.append((int(number), char))
            number = ""
    return parts


def iban_number(rng: random.Random, country: str) -> str:
    """A compact, mod-97-valid IBAN for ``country`` following its registry BBAN structure."""
    _, structure = IBAN_REGISTRY[country]
    bban = "".join(
        "".join(rng.choice(_ALPHABETS[kind]) for _ in range(count)) for count, kind in parse_bban_structure(structure)
    )
    return country + checksums.iban_check_digits(country, bban) + bban


def iban(rng: random.Random) -> Value:
    """An IBAN of a random registry country, compact or in the 4-character print format."""
    country = rng.choice(sorted(IBAN_REGISTRY))
    compact = iban_number(rng, country)
    layout = rng.choices(("compact", "print", "lower"), (45, 52, 3))[0]
    text = {"compact": compact, "print": group_digits(compact, (4,), " "), "lower": compact.lower()}[layout]
    return Value(text, f"{country}/{layout}")


# ---------------------------------------------------------------- phones

# Regions whose numbers are also written in national notation (no country code) in the corpus: a parser can only
# read a national number with a default region, so these are the regions an engine is expected to assume.
HOME_REGIONS: tuple[str, ...] = ("NL", "BE", "DE", "GB", "US")

# fmt: off
PHONE_REGIONS: tuple[str, ...] = (
    "NL", "BE", "DE", "GB", "US", "FR", "ES", "IT", "PT", "IE", "LU", "AT", "CH", "DK", "SE", "NO", "FI", "PL", "CZ",
    "SK", "HU", "RO", "BG", "GR", "HR", "SI", "EE", "LV", "LT", "TR", "UA", "RU", "IL", "AE", "SA", "EG", "MA", "ZA",
    "NG", "KE", "IN", "PK", "CN", "JP", "KR", "SG", "MY", "TH", "ID", "PH", "VN", "AU", "NZ", "CA", "MX", "BR", "AR",
    "CL", "CO", "PE", "SR", "CW", "AW",
)
# fmt: on

_PHONE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE)


def phone_number(rng: random.Random, region: str, kind: int) -> phonenumbers.PhoneNumber:
    """The region's example number with its last digits varied, kept only while ``phonenumbers`` calls it valid."""
    example = phonenumbers.example_number_for_type(region, kind)
    national = str(example.national_number)
    for _ in range(20):
        keep = len(national) - rng.randint(2, 4)
        candidate = national[:keep] + "".join(rng.choice(string.digits) for _ in range(len(national) - keep))
        number = phonenumbers.PhoneNumber(
            country_code=example.country_code,
            national_number=int(candidate),
            italian_leading_zero=example.italian_leading_zero,
            number_of_leading_zeros=example.number_of_leading_zeros,
        )
        if phonenumbers.is_valid_number_for_region(number, region):
            return number
    return example


def format_phone(number: phonenumbers.PhoneNumber, region: str, notation: str) -> str:
    """Render ``number`` in one of the notations people type."""
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    if notation == "e164":
        return e164
    if notation == "international":
        return international
    if notation == "international_dash":
        return international.replace(" ", "-")
    if notation == "idd_00":
        return "00" + international[1:]
    if notation == "trunk_paren":
        code = f"+{number.country_code} "
        return code + "(0)" + international[len(code) :]
    if notation == "group4":
        return "+" + group_digits(e164[1:], (4,), " ")
    national = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if notation == "national":
        return national
    if notation == "national_compact":
        return "".join(c for c in national if c.isdigit())
    if notation == "national_dash":
        return "-".join(national.replace("(", "").replace(")", "").replace("-", " ").split())
    raise ValueError(f"unknown phone notation {notation!r}; use one of {PHONE_NOTATIONS}")


PHONE_NOTATIONS = (
    "e164",
    "international",
    "international_dash",
    "idd_00",
    "trunk_paren",
    "group4",
    "national",
    "national_compact",
    "national_dash",
)


def phone(rng: random.Random, home_regions: tuple[str, ...] = HOME_REGIONS) -> Value:
    """A valid mobile or fixed-line number of a random region; national notations only for ``home_regions``."""
    region = rng.choice(PHONE_REGIONS)
    kind = rng.choice(_PHONE_TYPES)
    number = phone_number(rng, region, kind)
    notations = ["e164", "international", "international_dash", "idd_00", "group4"]
    if phonenumbers.PhoneMetadata.metadata_for_region(region).national_prefix == "0":
        notations.append("trunk_paren")
    if region in home_regions:
        notations += ["national", "national", "national_compact", "national_dash"]
    notation = rng.choice(notations)
    kind_name = "mobile" if kind == PhoneNumberType.MOBILE else "fixed"
    return Value(format_phone(number, region, notation), f"{region}-{kind_name}/{notation}")


# ---------------------------------------------------------------- e-mail, IP

_FIRST = (
    "jan",
    "anna",
    "piet",
    "lisa",
    "max",
    "emma",
    "tom",
    "sara",
    "noah",
    "mila",
    "lukas",
    "sophie",
    "finn",
    "julia",
)
_LAST = ("jansen", "devries", "bakker", "visser", "mueller", "schmidt", "smith", "jones", "brown", "peters", "meijer")
_SAFE_DOMAINS = ("example.com", "example.org", "example.net", "example.nl", "example.de", "example.co.uk")


def _letters(rng: random.Random, low: int, high: int) -> str:
    return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(low, high)))


def email(rng: random.Random) -> Value:
    """An address at an example.* or random-letter domain: dotted names, plus tags, subdomains, IDN, upper case."""
    local_style = rng.choice(("first.last", "firstlast99", "tag", "letters", "under_dash"))
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    local = {
        "first.last": f"{first}.{last}",
        "firstlast99": f"{first}{last}{rng.randint(1, 99)}",
        "tag": f"{first}+{_letters(rng, 3, 8)}",
        "letters": _letters(rng, 3, 12),
        "under_dash": f"{first}_{last}-{rng.randint(1, 9)}",
    }[local_style]
    domain_style = rng.choices(("example", "subdomain", "random", "idn"), (40, 20, 30, 10))[0]
    if domain_style == "example":
        domain = rng.choice(_SAFE_DOMAINS)
    elif domain_style == "subdomain":
        domain = f"{rng.choice(('mail', 'support', 'eu', 'mx1'))}.{rng.choice(_SAFE_DOMAINS)}"
    elif domain_style == "random":
        domain = f"{_letters(rng, 4, 10)}.{rng.choice(('com', 'org', 'nl', 'de', 'io', 'info', 'co.uk'))}"
    else:
        word = _letters(rng, 3, 6)
        domain = f"{word[:2]}{rng.choice('äöüéë')}{word[2:]}.{rng.choice(('de', 'nl', 'com'))}"
    address = f"{local}@{domain}"
    upper = rng.random() < 0.08
    if upper:
        address = f"{local[0].upper()}{local[1:]}@{domain.upper()}"
    return Value(address, f"{local_style}@{domain_style}{'/upper' if upper else ''}")


def ip_address(rng: random.Random) -> Value:
    """An IPv4 address or an IPv6 address (full, zero-stripped or ``::``-compressed)."""
    if rng.random() < 0.55:
        octets = [rng.randint(1, 223)] + [rng.randint(0, 255) for _ in range(3)]
        return Value(".".join(map(str, octets)), "ipv4")
    groups = [rng.randint(0, 0xFFFF) for _ in range(8)]
    style = rng.choice(("full", "stripped", "compressed"))
    if style == "full":
        text = ":".join(f"{g:04x}" for g in groups)
    elif style == "stripped":
        text = ":".join(f"{g:x}" for g in groups)
    else:
        start = rng.randint(1, 5)
        run = rng.randint(2, 7 - start)
        head = ":".join(f"{g:x}" for g in groups[:start])
        tail = ":".join(f"{g:x}" for g in groups[start + run :])
        text = f"{head}::{tail}"
    if rng.random() < 0.2:
        text = text.upper()
    return Value(text, f"ipv6/{style}")


# ---------------------------------------------------------------- dates, money

MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
}

# Abbreviations as the locales write them (glibc %b): Dutch "mrt", German "Mär".
MONTH_ABBREVIATIONS = {
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
    "nl": ("jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"),
    "de": ("Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"),
}

DATE_FORMATS = (
    "dmy_dash",
    "dmy_slash",
    "dmy_dot",
    "ymd_iso",
    "mdy_slash",
    "dmy_short_year",
    "d_month_y",
    "month_d_y",
    "d_mon_y",
    "d_dot_month_y",
)


def date(rng: random.Random, lang: str = "en") -> Value:
    """A calendar date between 1940 and 2035 in a numeric or written (en/nl/de) format."""
    year, month = rng.randint(1940, 2035), rng.randint(1, 12)
    day = rng.randint(1, 28)
    fmt = rng.choice(DATE_FORMATS)
    months = MONTHS[lang]
    text = {
        "dmy_dash": f"{day:02d}-{month:02d}-{year}",
        "dmy_slash": f"{day:02d}/{month:02d}/{year}",
        "dmy_dot": f"{day:02d}.{month:02d}.{year}",
        "ymd_iso": f"{year}-{month:02d}-{day:02d}",
        "mdy_slash": f"{month:02d}/{day:02d}/{year}",
        "dmy_short_year": f"{day}-{month}-{year % 100:02d}",
        "d_month_y": f"{day} {months[month - 1]} {year}",
        "month_d_y": f"{MONTHS['en'][month - 1]} {day}, {year}",
        "d_mon_y": f"{day} {MONTH_ABBREVIATIONS[lang][month - 1]} {year}",
        "d_dot_month_y": f"{day}. {MONTHS['de'][month - 1]} {year}",
    }[fmt]
    return Value(text, f"{fmt}/{lang if 'month' in fmt or 'mon' in fmt else 'num'}")


def _thousands(amount: int, sep: str) -> str:
    return f"{amount:,}".replace(",", sep)


def currency(rng: random.Random) -> Value:
    """An amount with a currency symbol, ISO code or word, in euro (mostly), dollar or pound, EU or US notation."""
    whole, cents = rng.choice((rng.randint(1, 99), rng.randint(100, 9999), rng.randint(10000, 250000))), rng.randint(
        0, 99
    )
    style = rng.choice(
        (
            "eur_symbol_eu",
            "eur_symbol_tight",
            "eur_code_eu",
            "eur_word",
            "eur_suffix_symbol",
            "eur_dash",
            "usd_symbol",
            "usd_code",
            "gbp_symbol",
            "eur_symbol_us",
        )
    )
    eu = f"{_thousands(whole, '.')},{cents:02d}"
    us = f"{_thousands(whole, ',')}.{cents:02d}"
    text = {
        "eur_symbol_eu": f"€ {eu}",
        "eur_symbol_tight": f"€{eu}",
        "eur_code_eu": f"EUR {eu}",
        "eur_word": f"{whole} euro",
        "eur_suffix_symbol": f"{eu} €",
        "eur_dash": f"€ {whole},-",
        "usd_symbol": f"${us}",
        "usd_code": f"USD {us}",
        "gbp_symbol": f"£{us}",
        "eur_symbol_us": f"€{us}",
    }[style]
    return Value(text, style)


# ---------------------------------------------------------------- telecom, national ids


def sim_number(rng: random.Random) -> Value:
    """An ICCID: 89, a country code, issuer and account digits, Luhn check digit; 19 or 20 digits."""
    length = rng.choice((19, 20))
    body = (
        "89"
        + rng.choice(("31", "49", "44", "32", "33", "01"))
        + "".join(rng.choice(string.digits) for _ in range(length - 5))
    )
    digits = body + checksums.luhn_check_digit(body)
    layout = rng.choices(("compact", "space4", "space5"), (60, 30, 10))[0]
    text = {"compact": digits, "space4": group_digits(digits, (4,), " "), "space5": group_digits(digits, (5,), " ")}[
        layout
    ]
    return Value(text, f"iccid-{length}/{layout}", group="sim")


def pin_puk(rng: random.Random) -> Value:
    """A 4-6 digit PIN or an 8-digit PUK; the templates put a PIN/PUK context word next to it."""
    if rng.random() < 0.6:
        length = rng.choice((4, 4, 4, 5, 6))
        return Value("".join(rng.choice(string.digits) for _ in range(length)), f"pin-{length}", group="pin")
    return Value("".join(rng.choice(string.digits) for _ in range(8)), "puk-8", group="puk")


def bsn_number(rng: random.Random) -> str:
    """Nine digits passing the Dutch 11-proof (first digit non-zero)."""
    while True:
        body = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(7))
        for last in string.digits:
            if checksums.elfproef_valid(body + last):
                return body + last


def bsn(rng: random.Random) -> Value:
    """A BSN, compact, dotted 4-2-3 or spaced 3-3-3."""
    digits = bsn_number(rng)
    layout = rng.choices(("compact", "dots", "space3"), (70, 15, 15))[0]
    text = {
        "compact": digits,
        "dots": f"{digits[:4]}.{digits[4:6]}.{digits[6:]}",
        "space3": group_digits(digits, (3,), " "),
    }[layout]
    return Value(text, f"bsn/{layout}", group="bsn")


def ssn(rng: random.Random) -> Value:
    """A US SSN with a valid area (not 000, 666, 9xx), group and serial."""
    area = rng.choice([a for a in range(1, 900) if a != 666])
    group, serial = rng.randint(1, 99), rng.randint(1, 9999)
    layout = rng.choices(("dash", "space", "compact"), (70, 15, 15))[0]
    sep = {"dash": "-", "space": " ", "compact": ""}[layout]
    return Value(f"{area:03d}{sep}{group:02d}{sep}{serial:04d}", f"ssn/{layout}", group="ssn")


_PASSPORT_LETTERS_NL = "ABCDEFGHIJKLMNPQRSTUVWXYZ"  # no O
_PASSPORT_CHARS_DE = "CFGHJKLMNPRTVWXYZ0123456789"


def passport(rng: random.Random) -> Value:
    """A passport number in a Dutch, German, British or US shape; templates carry a passport context word."""
    style = rng.choice(("nl", "de", "gb", "us", "us_letter"))
    if style == "nl":
        text = (
            "".join(rng.choice(_PASSPORT_LETTERS_NL) for _ in range(2))
            + "".join(rng.choice(_PASSPORT_LETTERS_NL + string.digits) for _ in range(6))
            + rng.choice(string.digits)
        )
    elif style == "de":
        text = rng.choice("CFGHJK") + "".join(rng.choice(_PASSPORT_CHARS_DE) for _ in range(8))
    elif style in ("gb", "us"):
        text = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(8))
    else:
        text = rng.choice(string.ascii_uppercase) + "".join(rng.choice(string.digits) for _ in range(8))
    return Value(text, f"passport-{style}", group="passport")


# ---------------------------------------------------------------- VAT


def _nl_vat_2020(rng: random.Random) -> str:
    """A 2020-format Dutch VAT id: NL + 9 digits + B + 2 digits, whole id mod 97 == 1."""
    head = "".join(rng.choice(string.digits) for _ in range(7))
    suffix = f"{rng.randint(1, 99):02d}"
    for tail in range(100):
        candidate = f"NL{head}{tail:02d}B{suffix}"
        if int(checksums.alnum_to_digits(candidate)) % 97 == 1:
            return candidate
    raise AssertionError("unreachable: 100 consecutive tails cover every residue mod 97")


def vat_number(rng: random.Random) -> Value:
    """A VAT id: Dutch (pre-2020 11-proof or 2020 mod-97), German, Belgian, French or Italian."""
    style = rng.choice(("nl_elfproef", "nl_2020", "de", "be", "fr", "it"))
    if style == "nl_elfproef":
        text = f"NL{bsn_number(rng)}B{rng.randint(1, 99):02d}"
    elif style == "nl_2020":
        text = _nl_vat_2020(rng)
    elif style == "de":
        body = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(7))
        text = "DE" + body + checksums.mod_11_10_check_digit(body)
    elif style == "be":
        head = "0" + str(rng.randint(2, 9)) + "".join(rng.choice(string.digits) for _ in range(6))
        text = f"BE{head}{97 - int(head) % 97:02d}"
    elif style == "fr":
        body = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(7))
        siren = body + checksums.luhn_check_digit(body)
        text = f"FR{checksums.fr_vat_key(siren)}{siren}"
    else:
        body = (
            "".join(rng.choice(string.digits) for _ in range(6)) + str(rng.randint(1, 9)) + f"{rng.randint(1, 100):03d}"
        )
        text = "IT" + body + checksums.luhn_check_digit(body)
    return Value(text, f"vat-{style}", group="vat")


# ---------------------------------------------------------------- postal codes, addresses


def _nl_postcode(rng: random.Random) -> str:
    while True:
        letters = rng.choice(string.ascii_uppercase) + rng.choice(string.ascii_uppercase)
        if letters not in ("SA", "SD", "SS"):
            return f"{rng.randint(1000, 9999)}{rng.choice((' ', ' ', ''))}{letters}"


# Real postcode areas (one or two letters) and the central London districts written with a trailing letter.
_GB_AREAS_1 = ("B", "E", "G", "L", "M", "N", "S", "W")
# fmt: off
_GB_AREAS_2 = (
    "AB", "BN", "BS", "BT", "CB", "CF", "CR", "EH", "GU", "KT", "LE", "LS", "NG", "NW", "OX", "PO", "RG", "SE", "SO",
    "SW", "TN", "YO",
)
# fmt: on
# fmt: off
_GB_LETTER_DISTRICTS = (
    "E1W", "N1C", "W1A", "W1B", "W1D", "W1F", "W1G", "W1H", "W1J", "W1K", "W1S", "W1T", "W1U", "SW1A", "SW1E", "SW1H",
    "SW1P", "SW1V", "SW1W", "SW1X", "SW1Y", "EC1A", "EC1M", "EC2A", "EC3M", "EC4M", "WC1A", "WC1B", "WC1E", "WC1H",
    "WC2A", "WC2B", "WC2E", "WC2H", "WC2N",
)
# fmt: on
_GB_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def _gb_postcode(rng: random.Random) -> str:
    style = rng.choice(("A9", "A99", "AA9", "AA99", "letter_district"))
    if style == "letter_district":
        outward = rng.choice(_GB_LETTER_DISTRICTS)
    elif style.startswith("AA"):
        outward = rng.choice(_GB_AREAS_2) + str(rng.randint(1 if style == "AA9" else 10, 9 if style == "AA9" else 99))
    else:
        outward = rng.choice(_GB_AREAS_1) + str(rng.randint(1 if style == "A9" else 10, 9 if style == "A9" else 99))
    inward = str(rng.randint(0, 9)) + rng.choice(_GB_INWARD_LETTERS) + rng.choice(_GB_INWARD_LETTERS)
    return f"{outward} {inward}"


def postal_code(rng: random.Random) -> Value:
    """A Dutch (1234 AB), German (5 digits, context in the template) or British postcode."""
    style = rng.choice(("nl", "nl", "de", "gb"))
    text = {"nl": _nl_postcode, "gb": _gb_postcode, "de": lambda r: f"{r.randint(1067, 99998):05d}"}[style](rng)
    return Value(text, f"postal-{style}", group=f"postal_{style}")


_STREET_ROOTS = (
    "Kerk",
    "Molen",
    "Dorps",
    "Linden",
    "Beuken",
    "School",
    "Station",
    "Haven",
    "Nieuwe",
    "Oude",
    "Berg",
    "Wilhelmina",
    "Oranje",
    "Eiken",
)
_NL_SUFFIXES = ("straat", "laan", "weg", "plein", "gracht", "kade", "singel", "dijk", "steeg", "pad")
_DE_ROOTS = ("Haupt", "Bahnhof", "Garten", "Goethe", "Schiller", "Linden", "Berg", "Kirch", "Schul", "Wald", "Mühlen")
_DE_SUFFIXES = ("straße", "strasse", "str.", "weg", "allee", "platz", "gasse", "ring", "damm")
_EN_ROOTS = ("Oak", "Maple", "Church", "Station", "Mill", "High", "Park", "Baker", "Victoria", "Elm", "Queen")
_EN_SUFFIXES = ("Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Drive", "Close", "Way")


def street_address(rng: random.Random, lang: str = "nl") -> Value:
    """A street and house number in Dutch, German or English style (no postal code or city)."""
    number = str(rng.randint(1, 350))
    if lang == "nl":
        addition = rng.choices(("", "a", "-2", " B", "-hs"), (60, 15, 10, 10, 5))[0]
        text = f"{rng.choice(_STREET_ROOTS)}{rng.choice(_NL_SUFFIXES)} {number}{addition}"
    elif lang == "de":
        addition = rng.choices(("", "a", "b"), (75, 15, 10))[0]
        text = f"{rng.choice(_DE_ROOTS)}{rng.choice(_DE_SUFFIXES)} {number}{addition}"
    else:
        addition = rng.choices(("", "B", "A"), (85, 10, 5))[0]
        text = f"{number}{addition} {rng.choice(_EN_ROOTS)} {rng.choice(_EN_SUFFIXES)}"
    return Value(text, f"address-{lang}", group=f"address_{lang}")


# ---------------------------------------------------------------- long numbers


def phone_valid_in(text: str, regions: Sequence[Optional[str]]) -> bool:
    """True when ``phonenumbers`` reads ``text`` as a valid number with any of ``regions`` as default (None: + only)."""
    for region in regions:
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(text, region)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def long_number(rng: random.Random, min_digits: int, home_regions: tuple[str, ...] = HOME_REGIONS) -> Value:
    """A digit run of at least ``min_digits`` that is no card, ICCID, BSN or home-region phone number."""
    while True:
        length = rng.randint(min_digits, min_digits + 8)
        digits = str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(length - 1))
        if checksums.luhn_valid(digits) or checksums.elfproef_valid(digits):
            continue
        if phone_valid_in(digits, home_regions):
            continue
        return Value(digits, f"digits-{length}", group="long_number")
