"""Blind chat-message corpus for the PII engine, written without looking at the engine or its own corpus.

Messages in English, Dutch and German the way customers type them (lower case, typos, glued values, odd spacing),
about 60 % carrying 1-3 labelled PII values and 40 % hard negatives (order numbers, versions, times, hashes, ...).
Every value is synthetic and, where a checksum exists, valid. Usage: `generate(seed) -> list[dict]`, each dict
`{"text": str, "labels": [(start, end, type), ...], "kind": "positive:..." | "negative:..."}`.
"""
from __future__ import annotations

import random
import re
import string
from dataclasses import dataclass
from typing import Callable

Rng = random.Random

# --------------------------------------------------------------------------------------------- checksums


def luhn_check_digit(payload: str) -> str:
    """Digit that makes payload + digit pass Luhn (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:  # these positions get doubled once the check digit is appended
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    """True when the digit string passes Luhn."""
    return luhn_check_digit(number[:-1]) == number[-1]


def iban_check_digits(country: str, bban: str) -> str:
    """ISO 13616 check digits: 98 - (BBAN + country + '00' as numbers) mod 97."""
    rearranged = bban + country + "00"
    numeric = "".join(str(int(c, 36)) for c in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def iban_valid(iban: str) -> bool:
    """Mod-97 validity of a compact IBAN."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def eleven_proof_bsn(digits: str) -> bool:
    """Dutch BSN 11-proof: 9*d1 + 8*d2 + ... + 2*d8 - d9 divisible by 11."""
    weights = [9, 8, 7, 6, 5, 4, 3, 2, -1]
    return sum(w * int(d) for w, d in zip(weights, digits)) % 11 == 0


# --------------------------------------------------------------------------------------------- fake people

FAKE_FIRST = ["jan", "piet", "klaas", "max", "erika", "john", "jane", "testy", "foo", "alice", "bob", "hans",
              "grietje", "otto", "mia", "lotte", "fenna", "dummy", "sample", "tess"]
FAKE_LAST = ["modaal", "puk", "mustermann", "musterfrau", "doe", "roe", "mctestface", "bar", "example", "sample",
             "jansen-test", "dummy", "placeholder", "fakename", "nobody", "testerson"]
EMAIL_DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "shop.example.org"]


def random_fake_domain(rng: Rng) -> str:
    """A random, almost surely non-existent domain on a common TLD."""
    label = "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(6, 9)))
    return f"{label}-{rng.choice(['mail', 'post', 'box', 'web'])}.{rng.choice(['com', 'nl', 'de', 'net', 'eu'])}"


# --------------------------------------------------------------------------------------------- value generators
# Each generator returns the value exactly as it appears in the message (formatting included).


def digits(rng: Rng, n: int, first_nonzero: bool = False) -> str:
    out = [str(rng.randint(0, 9)) for _ in range(n)]
    if first_nonzero:
        out[0] = str(rng.randint(1, 9))
    return "".join(out)


def group(s: str, sizes: list[int], sep: str) -> str:
    parts, i = [], 0
    for size in sizes:
        parts.append(s[i:i + size])
        i += size
    if i < len(s):
        parts.append(s[i:])
    return sep.join(p for p in parts if p)


CARD_BRANDS = [
    # (prefix chooser, length, grouping)
    (lambda r: "4", 16, [4, 4, 4, 4]),
    (lambda r: str(r.randint(51, 55)), 16, [4, 4, 4, 4]),
    (lambda r: str(r.randint(2221, 2720)), 16, [4, 4, 4, 4]),
    (lambda r: r.choice(["34", "37"]), 15, [4, 6, 5]),
    (lambda r: r.choice(["6011", "65"]), 16, [4, 4, 4, 4]),
    (lambda r: str(r.randint(3528, 3589)), 16, [4, 4, 4, 4]),
]


def gen_credit_card(rng: Rng) -> str:
    prefix_fn, length, sizes = rng.choices(CARD_BRANDS, weights=[5, 3, 1, 2, 1, 1])[0]
    payload = prefix_fn(rng)
    payload += digits(rng, length - 1 - len(payload))
    number = payload + luhn_check_digit(payload)
    sep = rng.choices([" ", "", "-", "  ", " - ", "."], weights=[6, 4, 3, 2, 1, 1])[0]
    return group(number, sizes, sep) if sep else number


# country: (length, BBAN spec as list of (kind, count)); kinds n=digit, a=upper letter, c=alnum upper
IBAN_SPECS: dict[str, list[tuple[str, int]]] = {
    "NL": [("a", 4), ("n", 10)],                      # 18
    "DE": [("n", 18)],                                # 22
    "BE": [("n", 12)],                                # 16
    "FR": [("n", 10), ("c", 11), ("n", 2)],           # 27
    "GB": [("a", 4), ("n", 14)],                      # 22
    "ES": [("n", 20)],                                # 24
    "IT": [("a", 1), ("n", 10), ("c", 12)],           # 27
    "AT": [("n", 16)],                                # 20
    "CH": [("n", 5), ("c", 12)],                      # 21
    "LU": [("n", 3), ("c", 13)],                      # 20
    "IE": [("a", 4), ("n", 14)],                      # 22
    "PT": [("n", 21)],                                # 25
    "PL": [("n", 24)],                                # 28
    "SE": [("n", 20)],                                # 24
    "DK": [("n", 14)],                                # 18
    "FI": [("n", 14)],                                # 18
    "NO": [("n", 11)],                                # 15
    "CZ": [("n", 20)],                                # 24
    "GR": [("n", 7), ("c", 16)],                      # 27
}
IBAN_LENGTHS = {"NL": 18, "DE": 22, "BE": 16, "FR": 27, "GB": 22, "ES": 24, "IT": 27, "AT": 20, "CH": 21, "LU": 20,
                "IE": 22, "PT": 25, "PL": 28, "SE": 24, "DK": 18, "FI": 18, "NO": 15, "CZ": 24, "GR": 27}
BANK_CODES = {"NL": ["ABNA", "INGB", "RABO", "TRIO", "KNAB", "BUNQ", "ASNB", "SNSB"],
              "GB": ["NWBK", "BARC", "LOYD", "MIDL", "HBUK"], "IE": ["AIBK", "BOFI", "IPBS"]}


def gen_iban_compact(rng: Rng, country: str) -> str:
    bban = ""
    for kind, count in IBAN_SPECS[country]:
        if kind == "n":
            bban += digits(rng, count)
        elif kind == "a":
            bban += "".join(rng.choice(string.ascii_uppercase) for _ in range(count))
        else:
            bban += "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(count))
    if country in BANK_CODES:
        bban = rng.choice(BANK_CODES[country]) + bban[4:]
    if country == "BE":  # national check: last two = first ten mod 97 (97 when 0)
        rest = int(bban[:10]) % 97
        bban = bban[:10] + f"{rest or 97:02d}"
    iban = country + iban_check_digits(country, bban) + bban
    assert len(iban) == IBAN_LENGTHS[country] and iban_valid(iban), iban
    return iban


def gen_iban(rng: Rng, lang: str) -> str:
    home = {"nl": "NL", "de": "DE", "en": "GB"}[lang]
    country = home if rng.random() < 0.55 else rng.choice(sorted(IBAN_SPECS))
    iban = gen_iban_compact(rng, country)
    style = rng.choices(["groups", "compact", "lower", "lower_groups", "partial"], weights=[6, 4, 1, 1, 1])[0]
    if style == "groups":
        return group(iban, [4] * 10, " ")
    if style == "lower":
        return iban.lower()
    if style == "lower_groups":
        return group(iban.lower(), [4] * 10, " ")
    if style == "partial":  # "NL91 ABNA 0417164300": grouped until the typist gave up
        return iban[:4] + " " + iban[4:8] + " " + iban[8:]
    return iban


def gen_email(rng: Rng) -> str:
    first, last = rng.choice(FAKE_FIRST), rng.choice(FAKE_LAST)
    local = rng.choice([f"{first}.{last}", f"{first}{last}", f"{first[0]}.{last}", f"{first}_{last}",
                        f"{first}{rng.randint(1, 99)}", f"{first}.{last}+{rng.choice(['shop', 'news', 'rg'])}",
                        f"{last}{rng.randint(1960, 2005)}"])
    domain = rng.choice(EMAIL_DOMAINS) if rng.random() < 0.7 else random_fake_domain(rng)
    email = f"{local}@{domain}"
    if rng.random() < 0.1:
        email = email[0].upper() + email[1:]
    return email


def _nl_phone(rng: Rng) -> str:
    if rng.random() < 0.7:  # mobile 06-[1-5]xxxxxxx
        sub = str(rng.randint(1, 5)) + digits(rng, 7)
        return rng.choice([
            f"06{sub}", f"06-{sub}", f"06 {sub}", f"06 {sub[:4]} {sub[4:]}", f"06-{sub[:2]} {sub[2:4]} {sub[4:6]} {sub[6:]}",
            f"+31 6 {sub}", f"+316{sub}", f"+31 (0)6-{sub[:4]} {sub[4:]}", f"+31(0)6 {sub}", f"0031 6 {sub}",
            f"0031{'6' + sub}", f"+31 6 {sub[:2]} {sub[2:4]} {sub[4:6]} {sub[6:]}"])
    area, n = rng.choice([("20", 7), ("10", 7), ("30", 7), ("70", 7), ("40", 7), ("50", 7), ("13", 7), ("24", 7)])
    sub = str(rng.randint(2, 8)) + digits(rng, n - 1)
    return rng.choice([f"0{area}-{sub}", f"0{area} {sub[:3]} {sub[3:]}", f"+31 {area} {sub}", f"0{area}{sub}"])


def _de_phone(rng: Rng) -> str:
    if rng.random() < 0.65:
        prefix, n = rng.choice([("151", 8), ("160", 7), ("170", 7), ("171", 7), ("176", 8), ("152", 8), ("157", 8)])
        sub = str(rng.randint(1, 9)) + digits(rng, n - 1)
        return rng.choice([f"0{prefix} {sub}", f"0{prefix}/{sub}", f"0{prefix}-{sub}", f"+49 {prefix} {sub}",
                           f"+49{prefix}{sub}", f"+49 (0){prefix} {sub}", f"0049 {prefix} {sub}", f"0{prefix}{sub}"])
    area, n = rng.choice([("30", 8), ("40", 8), ("89", 8), ("221", 7), ("69", 8), ("711", 7)])
    sub = str(rng.randint(2, 9)) + digits(rng, n - 1)
    return rng.choice([f"0{area} {sub}", f"0{area}/{sub}", f"+49 {area} {sub}", f"(0{area}) {sub}"])


def _gb_phone(rng: Rng) -> str:
    if rng.random() < 0.6:  # mobile 074xx-079xx except 076 pagers (the 07700 900xxx drama range is not a valid number)
        pre, sub = "7" + rng.choice("45789") + digits(rng, 2), digits(rng, 6)
        return rng.choice([f"0{pre} {sub}", f"0{pre}{sub}", f"+44 {pre} {sub}", f"+44{pre}{sub}",
                           f"+44 (0){pre} {sub}", f"0{pre}-{sub}", f"0{pre} {sub[:3]} {sub[3:]}"])
    sub = "79460" + digits(rng, 3)  # Ofcom drama London 020 7946 0000-0999
    return rng.choice([f"020 {sub[:4]} {sub[4:]}", f"+44 20 {sub[:4]} {sub[4:]}", f"(020) {sub[:4]} {sub[4:]}"])


def _us_phone(rng: Rng) -> str:
    area = rng.choice(["201", "202", "212", "312", "415", "617", "646", "718", "773", "917"])
    line = "01" + digits(rng, 2)  # 555-0100..0199 fictional range
    return rng.choice([f"({area}) 555-{line}", f"{area}-555-{line}", f"{area}.555.{line}", f"+1 {area} 555 {line}",
                       f"+1-{area}-555-{line}", f"1-{area}-555-{line}", f"{area} 555 {line}"])


def _fr_phone(rng: Rng) -> str:
    sub = rng.choice(["6" + rng.choice("12345"), "7" + rng.choice("345678")]) + digits(rng, 7)  # 069x/0639 = overseas
    pairs = " ".join(sub[i:i + 2] for i in range(1, 9, 2))
    return rng.choice([f"0{sub[0]} {pairs}", f"+33 {sub[0]} {pairs}", f"0{sub}", f"+33{sub}",
                       f"0{sub[0]}.{pairs.replace(' ', '.')}"])


def _be_phone(rng: Rng) -> str:
    sub = rng.choice(["470", "471", "472", "475", "476", "477", "478", "479", "486", "496"]) + digits(rng, 6)
    return rng.choice([f"0{sub[:3]} {sub[3:5]} {sub[5:7]} {sub[7:]}", f"+32 {sub[:3]} {sub[3:5]} {sub[5:7]} {sub[7:]}",
                       f"0{sub}", f"+32{sub}", f"0{sub[:3]}/{sub[3:5]}.{sub[5:7]}.{sub[7:]}"])


def _intl_phone(rng: Rng) -> str:
    kind = rng.choice(["es", "it", "pl", "ch", "at", "se"])
    if kind == "es":
        sub = "6" + digits(rng, 8)
        return f"+34 {sub[:3]} {sub[3:6]} {sub[6:]}"
    if kind == "it":
        sub = "3" + rng.choice(["20", "27", "28", "33", "35", "38", "39", "47", "48", "49"]) + digits(rng, 7)
        return f"+39 {sub[:3]} {sub[3:6]} {sub[6:]}"
    if kind == "pl":
        sub = rng.choice(["50", "51", "53", "60", "66", "69", "72", "78", "79", "88"]) + digits(rng, 7)
        return f"+48 {sub[:3]} {sub[3:6]} {sub[6:]}"
    if kind == "ch":
        sub = rng.choice(["76", "77", "78", "79"]) + digits(rng, 7)
        return f"+41 {sub[:2]} {sub[2:5]} {sub[5:7]} {sub[7:]}"
    if kind == "at":
        sub = rng.choice(["664", "660", "676", "699"]) + digits(rng, 7)
        return f"+43 {sub[:3]} {sub[3:]}"
    sub = "7" + rng.choice(["0", "2", "3", "6"]) + digits(rng, 7)
    return f"+46 {sub[:2]} {sub[2:5]} {sub[5:7]} {sub[7:]}"


def gen_phone(rng: Rng, lang: str) -> str:
    home = {"nl": _nl_phone, "de": _de_phone, "en": rng.choice([_gb_phone, _us_phone])}[lang]
    other = rng.choice([_nl_phone, _de_phone, _gb_phone, _us_phone, _fr_phone, _be_phone, _intl_phone])
    return home(rng) if rng.random() < 0.7 else other(rng)


def gen_ip(rng: Rng) -> str:
    r = rng.random()
    if r < 0.35:
        return f"{rng.choice(['192.0.2', '198.51.100', '203.0.113'])}.{rng.randint(1, 254)}"
    if r < 0.6:
        return f"192.168.{rng.randint(0, 10)}.{rng.randint(2, 254)}"
    if r < 0.75:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if r < 0.85:
        return f"2001:db8::{rng.randint(1, 0xffff):x}"
    groups = [f"{rng.randint(0, 0xffff):x}" for _ in range(6)]
    return "2001:db8:" + ":".join(groups)


MONTHS = {
    "en": ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"],
    "nl": ["januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober",
           "november", "december"],
    "de": ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November",
           "Dezember"],
}

NL_MONTH_ABBR = ["jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec"]


def gen_date(rng: Rng, lang: str) -> str:
    year = rng.choice([rng.randint(1945, 2006), rng.randint(2023, 2026)])
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    name = MONTHS[lang][month - 1]
    if lang == "en":
        name = name.capitalize() if rng.random() < 0.6 else name
        if rng.random() < 0.3:
            name = name[:3]
    forms = [f"{day:02d}-{month:02d}-{year}", f"{day}-{month}-{year}", f"{day:02d}/{month:02d}/{year}",
             f"{year}-{month:02d}-{day:02d}", f"{day:02d}.{month:02d}.{year}", f"{day} {name} {year}"]
    if lang == "en":
        forms += [f"{name} {day}, {year}", f"{month}/{day}/{year}", f"{name} {day} {year}"]
    if lang == "de":
        forms += [f"{day}. {name} {year}", f"{day}.{month}.{year}"]
    if lang == "nl":
        forms += [f"{day} {NL_MONTH_ABBR[month - 1]} {year}", f"{day}-{month}-{str(year)[2:]}"]
    return rng.choice(forms)


def gen_currency(rng: Rng, lang: str) -> str:
    whole = rng.choice([rng.randint(1, 99), rng.randint(100, 999), rng.randint(1000, 4999)])
    cents = rng.randint(0, 99)
    comma = lang in ("nl", "de")
    thousands = "." if comma else ","
    w = f"{whole:,}".replace(",", thousands) if whole >= 1000 and rng.random() < 0.5 else str(whole)
    amount = rng.choice([w, f"{w}{',' if comma else '.'}{cents:02d}", f"{w},-" if comma else f"{w}.00"])
    sym = rng.choices(["€", "$", "£", "EUR", "USD", "GBP"], weights=[6 if comma else 2, 1 if comma else 3,
                                                                        0.5 if comma else 3, 2, 1, 1])[0]
    if sym in ("€", "$", "£"):
        return rng.choice([f"{sym}{amount}", f"{sym} {amount}", f"{sym}{amount}"] + ([f"{amount} {sym}"] if comma else []))
    return rng.choice([f"{sym} {amount}", f"{amount} {sym}", f"{sym}{amount}"])


def gen_iccid(rng: Rng) -> str:
    length = rng.choice([19, 20])
    payload = "89" + rng.choice(["31", "49", "44", "32", "33", "01"]) + digits(rng, length - 5)
    number = payload + luhn_check_digit(payload)
    style = rng.choices(["plain", "groups4", "groups_tail"], weights=[6, 2, 1])[0]
    if style == "groups4":
        return group(number, [4] * 5, " ")
    if style == "groups_tail":
        return number[:6] + " " + number[6:]
    return number


def gen_pin(rng: Rng) -> str:
    n = rng.choice([4, 4, 4, 5, 6, 6, 8])
    value = digits(rng, n)
    while len(set(value)) == 1:  # no "0000"-like trivial codes
        value = digits(rng, n)
    return value


def gen_bsn(rng: Rng) -> str:
    while True:
        value = digits(rng, 9, first_nonzero=True)
        if eleven_proof_bsn(value):
            break
    style = rng.choices(["plain", "dots", "spaces"], weights=[8, 1, 1])[0]
    if style == "dots":
        return f"{value[:4]}.{value[4:6]}.{value[6:]}"
    if style == "spaces":
        return f"{value[:3]} {value[3:6]} {value[6:]}"
    return value


PASSPORT_NL_LETTERS = [c for c in string.ascii_uppercase if c != "O"]
PASSPORT_DE_CHARS = "CFGHJKLMNPRTVWXYZ0123456789"


def gen_passport(rng: Rng, lang: str) -> str:
    kind = lang if rng.random() < 0.7 else rng.choice(["nl", "de", "en", "us"])
    if kind == "nl":
        head = "".join(rng.choice(PASSPORT_NL_LETTERS) for _ in range(2))
        mid = "".join(rng.choice(PASSPORT_NL_LETTERS + list(string.digits)) for _ in range(6))
        value = head + mid + str(rng.randint(0, 9))
    elif kind == "de":
        value = rng.choice("CFGHJK") + "".join(rng.choice(PASSPORT_DE_CHARS) for _ in range(8))
    elif kind == "en":
        value = digits(rng, 9, first_nonzero=True)
    else:
        value = rng.choice(string.ascii_uppercase.replace("O", "").replace("I", "")) + digits(rng, 8)
    return value.lower() if rng.random() < 0.1 else value


def gen_ssn(rng: Rng) -> str:
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    grp, serial = rng.randint(1, 99), rng.randint(1, 9999)
    a, g, s = f"{area:03d}", f"{grp:02d}", f"{serial:04d}"
    return rng.choices([f"{a}-{g}-{s}", f"{a} {g} {s}", f"{a}{g}{s}"], weights=[6, 2, 2])[0]


def _vat_nl(rng: Rng) -> str:
    while True:
        body = digits(rng, 8, first_nonzero=True)
        check = sum(w * int(d) for w, d in zip(range(9, 1, -1), body)) % 11
        if check < 10:
            return f"NL{body}{check}B{rng.randint(1, 19):02d}"


def _vat_de(rng: Rng) -> str:
    body = digits(rng, 8, first_nonzero=True)
    product = 10
    for ch in body:
        s = (int(ch) + product) % 10 or 10
        product = (2 * s) % 11
    check = 11 - product
    return f"DE{body}{0 if check == 10 else check}"


def _vat_be(rng: Rng) -> str:
    body = rng.choice(["0", "1"]) + digits(rng, 7, first_nonzero=True)
    return f"BE{body}{97 - int(body) % 97:02d}"


def _vat_fr(rng: Rng) -> str:
    siren_payload = digits(rng, 8, first_nonzero=True)
    siren = siren_payload + luhn_check_digit(siren_payload)
    key = (12 + 3 * (int(siren) % 97)) % 97
    return f"FR{key:02d}{siren}"


def _vat_at(rng: Rng) -> str:
    body = digits(rng, 7)
    total = 0
    for i, ch in enumerate(body):
        d = int(ch)
        if i % 2 == 1:
            d = (2 * d) // 10 + (2 * d) % 10
        total += d
    return f"ATU{body}{(10 - (total + 4) % 10) % 10}"


def _vat_dk(rng: Rng) -> str:
    while True:
        body = digits(rng, 7, first_nonzero=True)
        partial = sum(w * int(d) for w, d in zip([2, 7, 6, 5, 4, 3, 2], body))
        last = (-partial) % 11
        if last < 10:
            return f"DK{body}{last}"


def gen_vat(rng: Rng, lang: str) -> str:
    home = {"nl": _vat_nl, "de": _vat_de, "en": rng.choice([_vat_nl, _vat_be, _vat_fr])}[lang]
    fn = home if rng.random() < 0.5 else rng.choice([_vat_nl, _vat_de, _vat_be, _vat_fr, _vat_at, _vat_dk])
    value = fn(rng)
    style = rng.choices(["plain", "space", "lower"], weights=[7, 2, 1])[0]
    if style == "space":
        cut = 3 if value.startswith("ATU") else 2
        return value[:cut] + " " + value[cut:]
    return value.lower() if style == "lower" else value


NL_CITIES = ["Amsterdam", "Utrecht", "Rotterdam", "Zwolle", "Groningen", "Breda", "Delft", "Leiden", "Arnhem"]
DE_CITIES = ["Berlin", "München", "Köln", "Hamburg", "Leipzig", "Dresden", "Bremen", "Stuttgart", "Münster"]
GB_CITIES = ["London", "Leeds", "Bristol", "Manchester", "Glasgow", "Cardiff", "York"]
GB_AREAS = ["SW", "EC", "M", "B", "LS", "G", "EH", "CF", "BS", "N", "E", "W", "NW", "SE", "YO", "L"]
GB_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def gen_postal_nl(rng: Rng) -> str:
    while True:
        letters = "".join(rng.choice("ABCDEGHJKLMNPRTVWXZ") for _ in range(2))
        if letters not in ("SA", "SD", "SS"):
            break
    num = str(rng.randint(1000, 9999))
    return rng.choices([f"{num} {letters}", f"{num}{letters}", f"{num} {letters.lower()}", f"{num}{letters.lower()}"],
                       weights=[6, 3, 1, 1])[0]


def gen_postal_de(rng: Rng) -> str:
    return f"{rng.randint(1067, 99998):05d}"


def gen_postal_gb(rng: Rng) -> str:
    area = rng.choice(GB_AREAS)
    district = str(rng.randint(1, 20 if len(area) == 1 else 28))
    inward = str(rng.randint(0, 9)) + "".join(rng.choice(GB_INWARD_LETTERS) for _ in range(2))
    value = rng.choices([f"{area}{district} {inward}", f"{area}{district}{inward}"], weights=[8, 2])[0]
    return value.lower() if rng.random() < 0.15 else value


NL_STREETS = ["Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsplein", "Lindelaan", "Beukenlaan", "Schoolstraat",
              "Nieuwe Gracht", "Prinsengracht", "Vijverhof", "Havenkade", "Julianastraat", "Eikenlaan", "Zuiderdijk"]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Bahnhofstr.", "Goethestraße", "Schillerweg", "Lindenallee",
              "Gartenstr.", "Am Marktplatz", "Berliner Straße", "Waldweg", "Rosenstraße", "Kirchgasse", "Hafenstrasse"]
EN_STREET_NAMES = ["Oak", "Willow", "Mill", "Station", "Church", "Victoria", "Park", "Maple", "Elm", "Kings",
                   "Harbour", "Meadow"]
EN_STREET_TYPES = ["Road", "Street", "Lane", "Avenue", "Close", "Drive", "St", "Rd", "Way", "Crescent"]


def gen_street_address(rng: Rng, lang: str) -> str:
    number = str(rng.randint(1, 240))
    if rng.random() < 0.2:
        number += rng.choice(["a", "b", "A", "-2", " bis"]) if lang != "en" else rng.choice(["a", "b", "A"])
    if lang == "nl":
        street = rng.choice(NL_STREETS)
        return (street.lower() if rng.random() < 0.2 else street) + " " + number
    if lang == "de":
        street = rng.choice(DE_STREETS)
        return (street.lower() if rng.random() < 0.15 else street) + " " + number
    return f"{number} {rng.choice(EN_STREET_NAMES)} {rng.choice(EN_STREET_TYPES)}"


# --------------------------------------------------------------------------------------------- hard-negative values


def neg_luhn_order(rng: Rng) -> str:
    """16-digit Luhn-valid number whose prefix is in no card IIN range (0, 1, 7, 80, 83, 85, 9)."""
    first = rng.choice(["0", "1", "7", "9", "80", "83", "85"])  # 81/82 are UnionPay/RuPay ranges
    payload = first + digits(rng, 15 - len(first))
    return payload + luhn_check_digit(payload)


def neg_guid(rng: Rng) -> str:
    h = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{rng.choice('89ab')}{h[17:20]}-{h[20:]}"


def neg_hash(rng: Rng) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(rng.choice([7, 12, 40])))


def neg_tracking(rng: Rng) -> str:
    return rng.choice([
        "3S" + "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + digits(rng, 7),
        "1Z" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        "JJD" + digits(rng, 18), "CP" + digits(rng, 9) + "NL", "LX" + digits(rng, 9) + "DE"])


NEG_VALUES: dict[str, Callable[[Rng], str]] = {
    "order": lambda r: r.choice([digits(r, r.randint(5, 8), True), f"#{digits(r, 6, True)}",
                                 f"ORD-{digits(r, 6)}", f"{r.randint(2021, 2025)}-{digits(r, 5)}"]),
    "ticket": lambda r: r.choice([f"#{r.randint(1000, 99999)}", f"INC{digits(r, 7)}", f"T-{r.randint(100, 9999)}",
                                  f"CS-{digits(r, 6)}"]),
    "invoice": lambda r: r.choice([f"INV-{r.randint(2020, 2025)}-{digits(r, 5)}", f"F{r.randint(2022, 2025)}{digits(r, 4)}",
                                   f"RE-{digits(r, 6)}", f"{r.randint(2022, 2025)}/{digits(r, 4)}"]),
    "luhn_order": neg_luhn_order,
    "tracking": neg_tracking,
    "time": lambda r: r.choice([f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}", f"{r.randint(1, 12)}:{r.randint(0, 59):02d}pm",
                                f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}", f"{r.randint(7, 22)}.{r.choice(['00', '15', '30', '45'])}"]),
    "price": lambda r: r.choice([f"{r.randint(1, 300)},{r.randint(0, 99):02d}", f"{r.randint(1, 300)}.{r.randint(0, 99):02d}",
                                 f"{r.randint(5, 90)},-"]),
    "version": lambda r: r.choice([f"v{r.randint(1, 12)}.{r.randint(0, 30)}.{r.randint(0, 9)}", f"{r.randint(1, 5)}.{r.randint(0, 20)}",
                                   f"build {r.randint(1000, 29999)}", f"{r.randint(10, 17)}.{r.randint(0, 6)}.{r.randint(0, 3)}"]),
    "product": lambda r: r.choice([f"SKU-{digits(r, 5)}-{r.choice('ABCX')}", f"XR-{r.randint(100, 9999)}",
                                   f"art.nr. {digits(r, 6)}", f"{r.choice(['HX', 'KD', 'MB'])}{r.randint(10, 999)}{r.choice(['', 'Z', 'LL'])}"]),
    "dimensions": lambda r: r.choice([f"{r.randint(20, 240)}x{r.randint(20, 240)}", f"{r.randint(20, 240)} x {r.randint(20, 240)} x {r.randint(10, 99)} cm",
                                      f"{r.choice([1280, 1920, 2560, 3840])}x{r.choice([720, 1080, 1440, 2160])}"]),
    "quantity": lambda r: str(r.choice([r.randint(2, 20), r.randint(20, 500), r.randint(1000, 5000)])),
    "year": lambda r: str(r.randint(1990, 2026)),
    "guid": neg_guid,
    "hash": neg_hash,
    "room": lambda r: r.choice([str(r.randint(101, 812)), f"{r.choice('ABC')}{r.randint(1, 4)}.{r.randint(1, 40):02d}"]),
    "flight": lambda r: f"{r.choice(['KL', 'BA', 'LH', 'HV', 'EW', 'U2'])}{r.choice(['', ' '])}{r.randint(100, 1999)}",
    "train": lambda r: f"{r.choice(['ICE', 'IC', 'RE', 'Sprinter'])} {r.randint(100, 9999)}",
    "percent": lambda r: f"{r.randint(1, 99)}%",
    "range": lambda r: f"{r.randint(1, 20)}-{r.randint(21, 40)}",
    "error": lambda r: str(r.choice([r.randint(400, 599), r.randint(1000, 9999)])),
    "unix": lambda r: str(r.randint(1_600_000_000, 1_760_000_000)),
    "customer": lambda r: r.choice([f"K{digits(r, 6)}", f"{digits(r, 7, True)}", f"cust-{digits(r, 5)}"]),
    "parcel_weight": lambda r: f"{r.randint(1, 30)},{r.randint(0, 9)} kg",
    "kmstand": lambda r: f"{r.randint(10, 250)}.{digits(r, 3)} km",
}


# --------------------------------------------------------------------------------------------- templates
# {type} placeholders are labelled PII, {n:name} placeholders are unlabelled hard-negative values.

PII_CLAUSES: dict[str, dict[str, list[str]]] = {
    "phone": {
        "en": ["my nr is {phone}", "call me on {phone}", "phone: {phone}", "tel:{phone}", "{phone} is my mobile",
               "you can reach me at {phone} after 5", "my number changed to {phone} pls update",
               "ring me {phone}", "new mobile number {phone}", "contact no. {phone}", "whatsapp me at {phone}",
               "mob {phone}", "pls text {phone} not my email", "phone number is {phone}"],
        "nl": ["mijn nummer is {phone}", "bel me op {phone}", "tel:{phone}", "tel. {phone}", "mobiel {phone}",
               "{phone} is mijn nieuwe nummer", "je kan me bereiken op {phone}", "mn nr {phone}",
               "bereikbaar op {phone} na 17u", "telefoonnummer: {phone}", "app me even op {phone}",
               "nieuw nummer {phone} graag aanpassen"],
        "de": ["meine nummer ist {phone}", "ruf mich an unter {phone}", "Tel.: {phone}", "tel:{phone}",
               "Handy {phone}", "erreichbar unter {phone}", "{phone} ist meine neue Nummer", "Mobil: {phone}",
               "bitte rückruf auf {phone}", "Telefonnummer {phone}", "whatsapp {phone}"],
    },
    "email": {
        "en": ["my email is {email}", "email: {email}", "send it to {email}", "{email} is my new address",
               "mail me at {email}", "e-mail {email}", "use {email} pls", "changed my email to {email}"],
        "nl": ["mijn mail is {email}", "e-mail: {email}", "stuur het naar {email}", "mailadres {email}",
               "{email} is mn nieuwe mail", "mail naar {email} aub"],
        "de": ["meine E-Mail ist {email}", "E-Mail: {email}", "schick es an {email}", "Mail {email}",
               "{email} ist meine neue Adresse", "bitte an {email} senden"],
    },
    "credit_card": {
        "en": ["card number {credit_card}", "my card is {credit_card}", "card#{credit_card}", "cc: {credit_card}",
               "pay with {credit_card}", "{credit_card} is the card i used", "visa {credit_card}",
               "charged on card {credit_card} twice", "creditcard {credit_card}"],
        "nl": ["mijn creditcard is {credit_card}", "kaartnummer {credit_card}", "creditcard: {credit_card}",
               "betaald met {credit_card}", "kaart {credit_card} is dubbel afgeschreven", "{credit_card} is mn kaart"],
        "de": ["Kreditkarte {credit_card}", "meine Karte ist {credit_card}", "Kartennummer: {credit_card}",
               "bezahlt mit {credit_card}", "karte#{credit_card}", "{credit_card} wurde doppelt belastet"],
    },
    "iban": {
        "en": ["IBAN: {iban}", "my iban is {iban}", "refund to {iban}", "account {iban}", "{iban} is my account",
               "bank account iban {iban} pls", "iban:{iban}"],
        "nl": ["IBAN: {iban}", "mijn rekeningnummer is {iban}", "terugstorten op {iban}", "rekening {iban}",
               "iban {iban} tnv J. Modaal", "{iban} is mijn rekening", "iban:{iban}"],
        "de": ["IBAN: {iban}", "meine IBAN lautet {iban}", "bitte auf {iban} überweisen", "Konto {iban}",
               "{iban} ist mein Konto", "iban:{iban}"],
    },
    "ip_address": {
        "en": ["my ip is {ip_address}", "router at {ip_address} not responding", "ip: {ip_address}",
               "blocked from {ip_address}?", "server {ip_address} keeps timing out"],
        "nl": ["mijn ip is {ip_address}", "modem op {ip_address} reageert niet", "ip-adres {ip_address}",
               "geblokkeerd vanaf {ip_address}"],
        "de": ["meine IP ist {ip_address}", "Router unter {ip_address} geht nicht", "IP-Adresse: {ip_address}",
               "von {ip_address} gesperrt"],
    },
    "date": {
        "en": ["born {date}", "date of birth {date}", "dob: {date}", "moving on {date}", "since {date}",
               "my birthday is {date}", "contract started {date}", "delivery was supposed to be {date}"],
        "nl": ["geboren op {date}", "geb. datum {date}", "geboortedatum: {date}", "verhuis op {date}",
               "sinds {date}", "contract loopt af op {date}", "bezorging was gepland op {date}"],
        "de": ["geboren am {date}", "geb. {date}", "Geburtsdatum: {date}", "Umzug am {date}", "seit {date}",
               "Vertrag endet am {date}", "Lieferung war für {date} geplant"],
    },
    "currency": {
        "en": ["i was charged {currency}", "refund of {currency} pls", "it says {currency}", "paid {currency}",
               "{currency} too much", "the bill was {currency}"],
        "nl": ["er is {currency} afgeschreven", "ik heb {currency} betaald", "kost {currency}",
               "{currency} teveel betaald", "rekening van {currency}"],
        "de": ["mir wurden {currency} abgebucht", "ich habe {currency} bezahlt", "kostet {currency}",
               "{currency} zu viel", "Rechnung über {currency}"],
    },
    "sim_number": {
        "en": ["sim card number {sim_number}", "ICCID: {sim_number}", "the sim is {sim_number}",
               "new sim {sim_number} not activated", "iccid {sim_number}"],
        "nl": ["simkaartnummer {sim_number}", "ICCID: {sim_number}", "nieuwe simkaart {sim_number} werkt niet",
               "sim nummer {sim_number}", "simkaart nr {sim_number}"],
        "de": ["SIM-Kartennummer {sim_number}", "ICCID: {sim_number}", "neue SIM {sim_number} geht nicht",
               "Sim Nr. {sim_number}"],
    },
    "pin_puk": {
        "en": ["my puk is {pin_puk}", "pin {pin_puk}", "the code is {pin_puk}", "otp: {pin_puk}",
               "verification code {pin_puk}", "puk code {pin_puk} doesnt work", "got sms code {pin_puk}",
               "pin code {pin_puk}"],
        "nl": ["mijn pukcode is {pin_puk}", "pincode {pin_puk}", "de code is {pin_puk}", "puk: {pin_puk}",
               "verificatiecode {pin_puk}", "sms code {pin_puk} werkt niet", "pin is {pin_puk}"],
        "de": ["meine PUK ist {pin_puk}", "PIN {pin_puk}", "der Code ist {pin_puk}", "PUK: {pin_puk}",
               "Bestätigungscode {pin_puk}", "SMS-Code {pin_puk} geht nicht", "pin lautet {pin_puk}"],
    },
    "bsn": {
        "en": ["my bsn is {bsn}", "bsn: {bsn}", "citizen service number {bsn}", "dutch bsn {bsn}"],
        "nl": ["mijn bsn is {bsn}", "bsn: {bsn}", "burgerservicenummer {bsn}", "bsn nr {bsn}",
               "sofinummer {bsn}", "{bsn} is mijn bsn"],
        "de": ["meine BSN ist {bsn}", "BSN: {bsn}", "niederländische BSN {bsn}"],
    },
    "passport": {
        "en": ["passport number {passport}", "passport: {passport}", "my passport no is {passport}",
               "passport {passport} expires soon"],
        "nl": ["paspoortnummer {passport}", "paspoort: {passport}", "mijn paspoort nr is {passport}",
               "paspoort {passport} verloopt"],
        "de": ["Reisepassnummer {passport}", "Reisepass: {passport}", "Passnummer {passport}",
               "mein Pass {passport} läuft ab"],
    },
    "ssn": {
        "en": ["ssn {ssn}", "my ssn is {ssn}", "social security number: {ssn}", "SSN: {ssn}", "ss# {ssn}"],
        "nl": ["mijn amerikaanse ssn is {ssn}", "SSN: {ssn}"],
        "de": ["meine amerikanische SSN ist {ssn}", "SSN: {ssn}"],
    },
    "vat_number": {
        "en": ["vat number {vat_number}", "VAT: {vat_number}", "our vat id is {vat_number}",
               "please add vat nr {vat_number} to the invoice"],
        "nl": ["btw-nummer {vat_number}", "BTW: {vat_number}", "ons btw nr is {vat_number}",
               "graag btw id {vat_number} op de factuur"],
        "de": ["USt-IdNr. {vat_number}", "UID: {vat_number}", "unsere Umsatzsteuer-ID ist {vat_number}",
               "bitte USt-ID {vat_number} auf die Rechnung"],
    },
    "postal_code": {
        "en": ["postcode {postal_code}", "my postcode is {postal_code}", "deliver to {postal_code} pls"],
        "nl": ["postcode {postal_code}", "mijn postcode is {postal_code}", "pc {postal_code}"],
        "de": ["PLZ {postal_code}", "meine Postleitzahl ist {postal_code}", "plz: {postal_code}"],
    },
    "street_address": {
        "en": ["i live at {street_address}", "address: {street_address}", "deliver to {street_address}",
               "moved to {street_address}"],
        "nl": ["ik woon op de {street_address}", "adres: {street_address}", "bezorgen op {street_address}",
               "verhuisd naar {street_address}"],
        "de": ["ich wohne in der {street_address}", "Adresse: {street_address}", "liefern an {street_address}",
               "umgezogen in die {street_address}"],
    },
}

# whole-message templates with several values; {city} is plain text
MULTI_TEMPLATES: dict[str, list[str]] = {
    "en": ["{street_address}, {postal_code} {city}", "name: jane roe\naddress: {street_address}\n{postal_code} {city}\nphone: {phone}",
           "hi, can you update my details? email {email}, tel {phone}", "{email} / {phone}",
           "refund {currency} to {iban} please", "dob {date} ssn {ssn}",
           "card {credit_card} exp 09/29 was charged {currency}", "my puk is {pin_puk} and the sim is {sim_number}",
           "IBAN:{iban}\nemail:{email}", "(tel: {phone}) (mail: {email})", "\"{email}\" is wrong, use \"{email}\"",
           "new address {street_address} {city} {postal_code}"],
    "nl": ["{street_address}, {postal_code} {city}", "naam: piet puk\nadres: {street_address}\n{postal_code} {city}\ntel: {phone}",
           "hoi kunnen jullie mijn gegevens aanpassen? mail {email} tel {phone}", "{email} / {phone}",
           "graag {currency} terugstorten op {iban}", "bsn {bsn} geb {date}",
           "kaart {credit_card} is {currency} afgeschreven", "puk {pin_puk} simkaart {sim_number}",
           "IBAN:{iban}\nmail:{email}", "(tel: {phone}) (mail: {email})", "btw {vat_number} iban {iban}",
           "nieuw adres {street_address} te {city} ({postal_code})"],
    "de": ["{street_address}, {de_postal} {de_city}", "Name: Max Mustermann\nAdresse: {street_address}\n{de_postal} {de_city}\nTel: {phone}",
           "hallo bitte meine Daten ändern: Mail {email} Tel {phone}", "{email} / {phone}",
           "bitte {currency} auf {iban} zurücküberweisen", "geb. {date}, Reisepass {passport}",
           "Karte {credit_card} mit {currency} belastet", "PUK {pin_puk} SIM {sim_number}",
           "IBAN:{iban}\nE-Mail:{email}", "(Tel.: {phone}) (Mail: {email})", "USt-IdNr {vat_number}, IBAN {iban}",
           "neue Adresse: {street_address} in {de_postal} {de_city}"],
}

OPENERS = {
    "en": ["", "", "hi ", "hello, ", "hey ", "ok ", "sorry ", "good morning\n", "quick question - "],
    "nl": ["", "", "hoi ", "hallo, ", "goedemiddag ", "hee ", "sorry ", "dag,\n", "ff snel: "],
    "de": ["", "", "hallo ", "hi, ", "guten Tag ", "moin ", "sorry ", "Hallo,\n", "kurze Frage: "],
}
CLOSERS = {
    "en": ["", "", "", " thanks", " thx", " pls", "!!", "?", ".", " cheers", "\nthank you"],
    "nl": ["", "", "", " dank je", " thx", " aub", "!!", "?", ".", " groetjes", "\nalvast bedankt"],
    "de": ["", "", "", " danke", " thx", " bitte", "!!", "?", ".", " LG", "\nvielen Dank"],
}
CONNECTORS = [", ", " and ", "\n", ". ", " ", " + ", " / ", ";"]
CONNECTORS_LANG = {"en": " and also ", "nl": " en ", "de": " und "}

NEG_CLAUSES: dict[str, list[str]] = {
    "en": ["order {n:order} hasnt arrived", "where is my order {n:order}", "ticket {n:ticket} still open",
           "invoice {n:invoice} is wrong", "order nr {n:luhn_order} was cancelled", "tracking {n:tracking} says delivered",
           "it arrived at {n:time}", "it costs {n:price} in the shop", "app version {n:version} crashes",
           "product {n:product} is out of stock", "size {n:dimensions} doesnt fit", "i want {n:quantity} of them",
           "bought it in {n:year}", "request id {n:guid}", "commit {n:hash} broke it", "room {n:room} at the hotel",
           "flight {n:flight} was delayed", "train {n:train} was cancelled", "only {n:percent} battery",
           "between {n:range} days", "error {n:error} when logging in", "timestamp {n:unix} in the log",
           "customer number {n:customer}", "parcel weighs {n:parcel_weight}", "reference {n:order}",
           "my order number is {n:luhn_order}", "the discount code SPRING{n:quantity} does not work",
           "booking ref {n:order} for {n:quantity} people", "kept loading till {n:time} then error {n:error}"],
    "nl": ["bestelling {n:order} is niet aangekomen", "waar blijft order {n:order}", "ticket {n:ticket} staat nog open",
           "factuur {n:invoice} klopt niet", "ordernummer {n:luhn_order} is geannuleerd",
           "track & trace {n:tracking} zegt bezorgd", "kwam om {n:time} binnen", "kost {n:price} in de winkel",
           "app versie {n:version} crasht", "artikel {n:product} is uitverkocht", "maat {n:dimensions} past niet",
           "ik wil er {n:quantity}", "gekocht in {n:year}", "referentie {n:guid}", "kamer {n:room}",
           "vlucht {n:flight} had vertraging", "{n:train} naar Utrecht reed niet", "nog maar {n:percent} accu",
           "duurt {n:range} werkdagen", "foutcode {n:error} bij inloggen", "klantnummer {n:customer}",
           "pakket weegt {n:parcel_weight}", "kilometerstand {n:kmstand}", "mijn ordernummer is {n:luhn_order}",
           "kortingscode ZOMER{n:quantity} werkt niet", "tot {n:time} geladen en toen foutcode {n:error}"],
    "de": ["Bestellung {n:order} ist nicht angekommen", "wo bleibt Auftrag {n:order}", "Ticket {n:ticket} ist noch offen",
           "Rechnung {n:invoice} stimmt nicht", "Bestellnummer {n:luhn_order} wurde storniert",
           "Sendungsnummer {n:tracking} sagt zugestellt", "kam um {n:time} an", "kostet {n:price} im Laden",
           "App Version {n:version} stürzt ab", "Artikel {n:product} ist ausverkauft", "Größe {n:dimensions} passt nicht",
           "ich möchte {n:quantity} Stück", "gekauft {n:year}", "Vorgangs-ID {n:guid}", "Zimmer {n:room}",
           "Flug {n:flight} hatte Verspätung", "der {n:train} ist ausgefallen", "nur noch {n:percent} Akku",
           "dauert {n:range} Werktage", "Fehlercode {n:error} beim Login", "Kundennummer {n:customer}",
           "Paket wiegt {n:parcel_weight}", "Kilometerstand {n:kmstand}", "meine Bestellnummer ist {n:luhn_order}",
           "Gutscheincode SOMMER{n:quantity} geht nicht", "bis {n:time} geladen, dann Fehlercode {n:error}"],
}

# weights of PII types in positive messages (roughly how often customers send them)
TYPE_WEIGHTS = {"phone": 14, "email": 12, "credit_card": 8, "iban": 10, "ip_address": 4, "date": 8, "currency": 6,
                "sim_number": 4, "pin_puk": 6, "bsn": 4, "passport": 4, "ssn": 3, "vat_number": 4, "postal_code": 5,
                "street_address": 5}
LANG_TYPE_BLOCK = {"nl": {"ssn"}, "de": {"ssn", "bsn"}}  # rarely sent in those languages: lower weight
PROTECTED_WORDS = {"pin", "puk", "code", "otp", "passport", "paspoort", "reisepass", "pass", "bsn", "ssn", "iban",
                   "sim", "iccid", "plz", "postcode", "tel", "phone", "vat", "btw", "mail", "email", "card", "karte",
                   "creditcard", "kaart", "pincode", "pukcode", "kartennummer", "passnummer", "reisepassnummer",
                   "paspoortnummer", "burgerservicenummer", "sofinummer", "postleitzahl", "simkaart", "simkaartnummer",
                   "verificatiecode", "bestätigungscode", "born", "geboren", "geb", "dob", "ust-idnr", "uid", "ip",
                   "security", "social", "order", "ordernummer", "bestellnummer", "invoice", "factuur", "rechnung"}


# --------------------------------------------------------------------------------------------- rendering


@dataclass
class Piece:
    text: str
    label: str | None = None     # PII type when the piece is a labelled value
    literal: bool = False        # values (labelled or not) are never restyled


def gen_value(rng: Rng, kind: str, lang: str) -> tuple[str, str | None]:
    """(text, label type or None) for a placeholder name."""
    simple = {"email": gen_email, "credit_card": gen_credit_card, "ip_address": gen_ip, "sim_number": gen_iccid,
              "pin_puk": gen_pin, "bsn": gen_bsn, "ssn": gen_ssn}
    by_lang = {"phone": gen_phone, "iban": gen_iban, "date": gen_date, "currency": gen_currency,
               "passport": gen_passport, "vat_number": gen_vat, "street_address": gen_street_address}
    if kind in simple:
        return simple[kind](rng), kind
    if kind in by_lang:
        return by_lang[kind](rng, lang), kind
    if kind == "postal_code":
        gen = {"nl": gen_postal_nl, "en": gen_postal_gb, "de": gen_postal_de}[lang]
        return gen(rng), kind
    if kind == "de_postal":
        return gen_postal_de(rng), "postal_code"
    if kind == "city":
        return rng.choice({"nl": NL_CITIES, "en": GB_CITIES, "de": DE_CITIES}[lang]), None
    if kind == "de_city":
        return rng.choice(DE_CITIES), None
    if kind.startswith("n:"):
        return NEG_VALUES[kind[2:]](rng), None
    raise KeyError(f"unknown placeholder {kind!r}")


PLACEHOLDER = re.compile(r"\{([a-z_:]+)\}")


def parse(template: str, rng: Rng, lang: str) -> list[Piece]:
    pieces: list[Piece] = []
    pos = 0
    for m in PLACEHOLDER.finditer(template):
        if m.start() > pos:
            pieces.append(Piece(template[pos:m.start()]))
        value, label = gen_value(rng, m.group(1), lang)
        pieces.append(Piece(value, label, literal=True))
        pos = m.end()
    if pos < len(template):
        pieces.append(Piece(template[pos:]))
    return pieces


def typo(word: str, rng: Rng) -> str:
    """One realistic keyboard slip: swap, drop or double a letter."""
    if len(word) < 4 or not word.isalpha() or word.lower() in PROTECTED_WORDS:
        return word
    i = rng.randint(1, len(word) - 2)
    op = rng.choice(["swap", "drop", "double"])
    if op == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == "drop":
        return word[:i] + word[i + 1:]
    return word[:i] + word[i] + word[i:]


def restyle(pieces: list[Piece], rng: Rng) -> list[Piece]:
    """Apply one customer 'voice' to the free text: lower case, typos, no punctuation."""
    lower = rng.random() < 0.45
    typos = rng.random() < 0.3
    no_punct = rng.random() < 0.2
    out = []
    for p in pieces:
        if p.literal:
            out.append(p)
            continue
        text = p.text
        if lower:
            text = text.lower()
        if typos:
            text = re.sub(r"[A-Za-zäöüßÄÖÜ]+", lambda m: typo(m.group(0), rng) if rng.random() < 0.25 else m.group(0), text)
        if no_punct:
            text = re.sub(r"  +", " ", re.sub(r"[,.;!?]+", " ", text))
        out.append(Piece(text))
    return out


def wrap_values(pieces: list[Piece], rng: Rng) -> list[Piece]:
    """Sometimes put a value in parentheses or quotes, as people do when pasting."""
    out = []
    for p in pieces:
        if p.label and rng.random() < 0.08:
            left, right = rng.choice([("(", ")"), ('"', '"'), ("'", "'"), ("[", "]"), ("<", ">")])
            out += [Piece(left), p, Piece(right)]
        else:
            out.append(p)
    return out


def assemble(pieces: list[Piece]) -> tuple[str, list[tuple[int, int, str]]]:
    text, labels = "", []
    for p in pieces:
        if p.label:
            labels.append((len(text), len(text) + len(p.text), p.label))
        text += p.text
    return text, labels


def choose_type(rng: Rng, lang: str) -> str:
    types = sorted(TYPE_WEIGHTS)
    weights = [TYPE_WEIGHTS[t] * (0.15 if t in LANG_TYPE_BLOCK.get(lang, set()) else 1) for t in types]
    return rng.choices(types, weights=weights)[0]


def positive_message(rng: Rng, lang: str) -> tuple[list[Piece], str]:
    if rng.random() < 0.2:
        template = rng.choice(MULTI_TEMPLATES[lang])
        return parse(template, rng, lang), "positive:multi_template"
    n_values = rng.choices([1, 2, 3], weights=[6, 3, 1])[0]
    pieces: list[Piece] = []
    for i in range(n_values):
        if i:
            pieces.append(Piece(rng.choice(CONNECTORS + [CONNECTORS_LANG[lang]])))
        pieces += parse(rng.choice(PII_CLAUSES[choose_type(rng, lang)][lang]), rng, lang)
    if rng.random() < 0.25:  # a harmless number in the same message
        neg = parse(rng.choice(NEG_CLAUSES[lang]), rng, lang)
        pieces = neg + [Piece(rng.choice([", ", ". ", "\n", " - "]))] + pieces if rng.random() < 0.5 else \
            pieces + [Piece(rng.choice([", ", ". ", "\n", " also "]))] + neg
        return pieces, f"positive:{n_values}+distractor"
    return pieces, f"positive:{n_values}"


def negative_message(rng: Rng, lang: str) -> tuple[list[Piece], str]:
    n = rng.choices([1, 2], weights=[7, 3])[0]
    pieces: list[Piece] = []
    names = []
    for i in range(n):
        if i:
            pieces.append(Piece(rng.choice(CONNECTORS)))
        template = rng.choice(NEG_CLAUSES[lang])
        names += re.findall(r"\{n:(\w+)\}", template)
        pieces += parse(template, rng, lang)
    return pieces, "negative:" + "+".join(names)


def make_message(rng: Rng, lang: str, positive: bool) -> dict:
    pieces, kind = positive_message(rng, lang) if positive else negative_message(rng, lang)
    pieces = [Piece(rng.choice(OPENERS[lang]))] + pieces + [Piece(rng.choice(CLOSERS[lang]))]
    pieces = restyle(wrap_values(pieces, rng), rng)
    text, labels = assemble(pieces)
    text = text.rstrip()  # labels never end in trailing blanks, so offsets hold
    return {"text": text, "labels": labels, "kind": kind, "lang": lang}


def generate(seed: int = 1, n: int = 600, positive_share: float = 0.6) -> list[dict]:
    """The corpus for a seed: n messages, a third per language, positive_share of them with PII."""
    rng = random.Random(seed)
    samples = []
    for i in range(n):
        lang = ("en", "nl", "de")[i % 3]
        samples.append(make_message(rng, lang, rng.random() < positive_share))
    return samples


if __name__ == "__main__":
    import sys

    for s in generate(int(sys.argv[1]) if len(sys.argv) > 1 else 1)[:40]:
        print(repr(s["text"]), s["labels"], s["kind"])
