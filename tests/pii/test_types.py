"""Per type: positives (the type is found with the exact value) and hard negatives (nothing of that type is found)."""

import random

import pytest

from plugin.pii.iban import BBAN_CLASSES

from .generators import bsn, card_number, found, grouped, iban, iccid

POSITIVES = [
    ("credit_card", "pay with 4111 1111 1111 1111 please", "4111 1111 1111 1111"),
    ("credit_card", "card 4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("credit_card", "mc 5555555555554444.", "5555555555554444"),
    ("credit_card", "mc2 2223003122003222 ok", "2223003122003222"),
    ("credit_card", "amex 3782 822463 10005", "3782 822463 10005"),
    ("credit_card", "disc 6011111111111117", "6011111111111117"),
    ("credit_card", "jcb 3530111333300000", "3530111333300000"),
    ("credit_card", "diners 30569309025904", "30569309025904"),
    # separators people type (found by a blind corpus: each stayed fully visible before)
    ("credit_card", "4111  1111  1111  1111 is the card i used", "4111  1111  1111  1111"),
    ("credit_card", "hi 4111.1111.1111.1111 is the card.", "4111.1111.1111.1111"),
    ("credit_card", "kaart 5555 - 5555 - 5555 - 4444 is dubbel afgeschreven", "5555 - 5555 - 5555 - 4444"),
    ("credit_card", "kaartnummer 3782  822463  10005 groetjes", "3782  822463  10005"),
    ("credit_card", "1 - 4111 1111 1111 1111", "4111 1111 1111 1111"),  # a number with a wide separator before it
    ("credit_card", "bedrag 50  5555 5555 5555 4444", "5555 5555 5555 4444"),
    ("credit_card", "nr 12  4111  1111  1111  1111", "4111  1111  1111  1111"),
    ("phone", "klantnummer 412345678905 - 0612-345678", "0612-345678"),  # no card made of a number and a phone's start
    ("credit_card", "kaart 4111  1111  1111  1111 4821 pincode", "4111  1111  1111  1111"),  # a number after the card
    ("iban", "IBAN NL91ABNA0417164300 graag", "NL91ABNA0417164300"),
    ("iban", "iban nl91 abna 0417 1643 00.", "nl91 abna 0417 1643 00"),
    ("iban", "DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("email", "mail jan.de.vries+tag@mail.example.co.uk.", "jan.de.vries+tag@mail.example.co.uk"),
    ("email", "schreib an müller@beispiel.de", "müller@beispiel.de"),
    ("phone", "bel me op 06-12345678", "06-12345678"),
    ("phone", "call +31 6 12345678 now", "+31 6 12345678"),
    ("phone", "call (415) 555-2671", "(415) 555-2671"),
    ("phone", "ring 020 7946 0958", "020 7946 0958"),
    ("phone", "ruf +49 30 1234567 an", "+49 30 1234567"),
    ("phone", "appelle 01 42 68 53 00", "01 42 68 53 00"),
    ("phone", "hoi tel:0612345678 thx", "0612345678"),  # glued to a label (blind-corpus misses)
    ("phone", "Tel.:+31 6 1234 5678 ok", "+31 6 1234 5678"),
    ("phone", "hallo tel:01.42.68.53.00.", "01.42.68.53.00"),
    ("phone", "mobil: (030) 12345678 und reisepass: C01X00T47", "(030) 12345678"),  # not a passport's digits
    ("phone", "kamer:101 (020) 794 6095", "(020) 794 6095"),  # only a phone label glues a number to a phone
    ("phone", "bel 0470 12 34 56", "0470 12 34 56"),
    ("ip_address", "my ip is 192.168.1.10", "192.168.1.10"),
    ("ip_address", "v6 2001:db8::8a2e:370:7334 here", "2001:db8::8a2e:370:7334"),
    ("date", "born on 12-05-1985", "12-05-1985"),
    ("date", "on 2023-02-28", "2023-02-28"),
    ("date", "on 12/31/2023", "12/31/2023"),
    ("date", "op 5 mei 2020", "5 mei 2020"),
    ("date", "am 1. Januar 2020", "1. Januar 2020"),
    ("date", "since May 5th, 2021", "May 5th, 2021"),
    ("currency", "pay €12,50 now", "€12,50"),
    ("currency", "it is 12.50 EUR", "12.50 EUR"),
    ("currency", "total EUR 1.234,56", "EUR 1.234,56"),
    ("currency", "only $5", "$5"),
    ("pin_puk", "my pin is 1234", "1234"),
    ("pin_puk", "puk code: 12345678", "12345678"),
    ("pin_puk", "your OTP 482913 expires", "482913"),
    ("pin_puk", "ff snel: de code is 4821. track & trace zegt bezorgd", "4821"),  # "the code is" right before it
    ("pin_puk", "der Code ist 482913 danke", "482913"),
    ("pin_puk", "plz 4821 is my pin", "4821"),  # "plz" in chat is "please", not a postcode label
    ("bsn", "mijn bsn is 111222333", "111222333"),
    ("passport", "passport number XN01BC3D4", "XN01BC3D4"),
    ("passport", "paspoort NXC12AB34", "NXC12AB34"),
    ("passport", "mein Pass C01X00T47 läuft ab", "C01X00T47"),  # German "Pass" after a possessive
    ("passport", "my passport (2019) XN01BC3D4 expired", "XN01BC3D4"),  # a bracketed year is no phone prefix
    ("passport", "passport 1/C01X00T47", "C01X00T47"),
    ("ssn", "my ssn is 078-05-1120", "078-05-1120"),
    ("ssn", "SSN 219099999", "219099999"),
    ("vat_number", "btw NL004495445B01", "NL004495445B01"),
    ("vat_number", "btw-id NL002455799B11", "NL002455799B11"),
    ("vat_number", "USt-IdNr DE136695976", "DE136695976"),
    ("vat_number", "bitte USt-ID ATU 13585627 auf die Rechnung", "ATU 13585627"),  # Austrian, spaced after the U
    ("vat_number", "TVA FR40303265045", "FR40303265045"),
    ("postal_code", "postcode 1015 CJ Amsterdam", "1015 CJ"),
    ("postal_code", "London SW1A 1AA", "SW1A 1AA"),
    ("postal_code", "PLZ 10115 Berlin", "10115"),
    # typed in lower case: a postal word before or a place name after (blind-corpus misses)
    ("postal_code", "sorry postcode 1015cj thx", "1015cj"),
    ("postal_code", "hee Keizersgracht 1, 1015 cj Amsterdam", "1015 cj"),
    ("postal_code", "hi deliver to sw1a 1aa pls", "sw1a 1aa"),
    ("postal_code", "new address: 12 Baker Street, nw1 6xe", "nw1 6xe"),
    ("postal_code", "postcode 1234 AB en puk: 12345678", "1234 AB"),  # a PUK word near it: still a postcode
    ("street_address", "ik woon op Keizersgracht 123", "Keizersgracht 123"),
    ("street_address", "Hauptstraße 5a, Berlin", "Hauptstraße 5a"),
    ("street_address", "I live at 12 Baker Street", "12 Baker Street"),
    ("street_address", "van Baerlestraat 12-2", "van Baerlestraat 12-2"),
    ("street_address", "ich wohne in der Berliner Straße 12!!", "Berliner Straße 12"),  # two-word street names
    ("street_address", "nieuw adres Nieuwe Gracht 7 te Utrecht", "Nieuwe Gracht 7"),
    ("street_address", "ff snel: nieuw adres schillerweg 123 te Delft", "schillerweg 123"),  # lower case, address word
    ("long_number", "tracking 123456789012 please", "123456789012"),
    ("sim_number", "sim 8931 0800 0000 0000 0009", "8931 0800 0000 0000 0009"),
]


@pytest.mark.parametrize("type_name,text,value", POSITIVES)
def test_positive(engine, type_name, text, value):
    assert (type_name, value) in found(engine, text)


HARD_NEGATIVES = [
    ("credit_card", "order 4111111111111112 is late"),  # Luhn fails
    ("credit_card", "ref 44111111111111111111 ok"),  # a card inside a longer digit run
    ("credit_card", "call +4111111111111111"),  # '+' means phone
    ("credit_card", "id 1234567890123456"),  # no issuer range
    ("credit_card", "ip 192.168.178.100 and 10.0.0.1"),  # dotted digit groups without an issuer range
    ("iban", "NL91ABNA0417164301"),  # mod 97 fails
    ("iban", "XX91ABNA0417164300"),  # no such country
    ("email", "****@domain.com"),  # already masked
    ("email", "a@b.c"),
    ("email", "see @home or user@localhost"),
    ("phone", "timestamp 1700000000"),
    ("phone", "order 0612345678 is late"),
    ("phone", "bestelling 0612345678"),
    ("phone", "invoice 0201234567"),
    ("phone", "in 2023 we moved"),
    ("phone", "price €1234567"),
    ("phone", "version 10.2.3.4"),
    ("phone", "4111 1111 1111 1111"),
    ("phone", "born 12.05.2023"),
    ("ip_address", "version v1.2.3.4"),
    ("ip_address", "999.1.1.1"),
    ("ip_address", "at 12:30:45"),
    ("date", "31/02/2023"),
    ("date", "version 1.2.3"),
    ("date", "build 12.5.23"),
    ("date", "you may 5 times"),
    ("date", "at 10:30"),
    ("date", "in 2023"),
    ("pin_puk", "product code 4000"),
    ("pin_puk", "I have 1234 apples"),
    ("pin_puk", "discount code 2024"),
    ("pin_puk", "the promo code is 2024"),
    ("pin_puk", "the code on the letter is 4821"),
    ("pin_puk", "code A4000"),
    ("bsn", "order 111222333"),
    ("bsn", "number 123456789"),
    ("ssn", "666-12-3456"),
    ("ssn", "000-12-3456"),
    ("ssn", "123-00-4567"),
    ("ssn", "123456789"),
    ("passport", "XN01BC3D4"),  # no context word
    ("passport", "passport please, I travel on monday"),
    ("passport", "my bus pass C01X00T47 expired"),  # English "pass" is not a passport
    ("vat_number", "NL004495446B01"),
    ("vat_number", "DE136695977"),
    ("postal_code", "the product A4000"),
    ("postal_code", "I walked 1000 km"),
    ("postal_code", "in 2000 in total"),
    ("postal_code", "I paid 12345 yesterday"),
    ("postal_code", "we drove 1000 km Amsterdam to Berlin"),  # lower case: units and short words are no code letters
    ("postal_code", "sold 2000 in Rotterdam last year"),
    ("postal_code", "order 1234 ab arrived broken"),  # lower case without a postal word or a place after
    ("street_address", "5 miles down the road"),
    ("street_address", "I am onderweg 5 minuten"),
    ("street_address", "during 5 minutes"),
    ("street_address", "my iPad 2"),
    ("street_address", "ik ben onderweg 12 min later"),  # a weak street word in lower case, no address word
    ("currency", "europe 12 times"),
    ("long_number", "order 12345678 is late"),
]


@pytest.mark.parametrize("type_name,text", HARD_NEGATIVES)
def test_hard_negative(engine, type_name, text):
    assert type_name not in [kind for kind, _value in found(engine, text)]


HARD_NEGATIVES_NOTHING = [
    "my order number is 12345678",
    "ts=1700000000",
    "guid 3f2504e0-4f89-11d3-9a0c-0305e82c3301",
    "tracking code 1Z999AA10123456784",
    "product A4000 costs too much",
    "version 2.3.1 released",
    "back in 1999 and 2023",
    "room 101, floor 3",
]


@pytest.mark.parametrize("text", HARD_NEGATIVES_NOTHING)
def test_chat_noise_is_not_pii(engine, text):
    assert [kind for kind, _value in found(engine, text) if kind != "long_number"] == []


@pytest.mark.parametrize("other_numbers", ["", " en bestelling 12345678"])
def test_short_vat_ids_are_found_whatever_else_the_message_holds(engine, other_numbers):
    # an Irish id has seven digits: whether it is found must not depend on how many digits the rest of the text has
    text = "VAT IE1234567T" + other_numbers
    assert ("vat_number", "IE1234567T") in found(engine, text)


@pytest.mark.parametrize("other_numbers", ["", " en bestelling 12345678"])
def test_vat_ids_below_six_digits_are_never_taken(engine, other_numbers):
    assert not any(kind == "vat_number" for kind, _value in found(engine, "RO1234" + other_numbers))


def test_card_brand_is_reported(engine):
    spans = engine.detect("amex 378282246310005")
    assert [(span.type, span.attributes["brand"]) for span in spans] == [("credit_card", "amex")]


@pytest.mark.parametrize("prefix,length,brand", [
    ("4", 16, "visa"), ("51", 16, "mastercard"), ("2221", 16, "mastercard"), ("2720", 16, "mastercard"),
    ("34", 15, "amex"), ("6011", 16, "discover"), ("3528", 16, "jcb"), ("36", 14, "diners"), ("6304", 18, "maestro"),
    ("621", 16, "unionpay"), ("60", 16, "rupay"), ("509000", 16, "elo"), ("2200", 16, "mir"),
])
def test_generated_cards_by_brand(engine, prefix, length, brand):
    rng = random.Random(prefix)
    for _ in range(20):
        number = card_number(rng, prefix, length)
        text = f"my card: {grouped(number)} thanks"
        spans = [span for span in engine.detect(text) if span.type == "credit_card"]
        assert [(text[s.start : s.end], s.attributes["brand"]) for s in spans] == [(grouped(number), brand)]


@pytest.mark.parametrize("country", sorted(BBAN_CLASSES))
def test_every_registry_country_iban(engine, country):
    rng = random.Random(country)
    value = iban(rng, country)
    for text_value in (value, grouped(value), value.lower()):
        text = f"rekening {text_value} graag"
        assert ("iban", text_value) in found(engine, text)


def test_generated_bsn_and_iccid(engine):
    rng = random.Random(7)
    for _ in range(50):
        number = bsn(rng)
        assert ("bsn", number) in found(engine, f"bsn {number}")
        sim = iccid(rng)
        assert ("sim_number", sim) in found(engine, f"sim {sim}")
        broken = sim[:-1] + str((int(sim[-1]) + 1) % 10)
        assert "sim_number" not in [kind for kind, _value in found(engine, f"sim {broken}")]


def test_phone_region_setting(engine):
    from plugin.pii import EngineConfig, build_engine

    us_only = build_engine(EngineConfig(phone_regions=("US",)))
    assert ("phone", "06-12345678") not in found(us_only, "bel 06-12345678")
    assert ("phone", "+31 6 12345678") in found(us_only, "bel +31 6 12345678")


@pytest.mark.parametrize(
    "plain, odd",
    [
        ("PIN 4821", "P\u0130N 4821"),  # dotted capital I: the IGNORECASE pattern takes it for i
        ("5 september 2020", "5 \u017feptember 2020"),  # long s
        ("it was 5 usd", "it was 5 u\u017fd"),
        ("my passport number is X1234567", "my pa\u017fport number is X1234567"),
    ],
)
def test_context_words_spelt_with_odd_letters_still_count(engine, plain, odd):
    """The cheap word pre-filters fold the letters the finders' case-insensitive patterns accept."""
    assert [span.type for span in engine.detect(odd)] == [span.type for span in engine.detect(plain)] != []


@pytest.mark.parametrize("text", ["ES-X 1234567L", "ES X 1234567L", "ESX1234567L"])
def test_vat_id_with_a_separator_a_letter_and_a_space_before_its_digits(engine, text):
    assert [span.type for span in engine.detect(f"btw {text} graag")] == ["vat_number"]


@pytest.mark.parametrize("code", ["1234 AB", "SW1A 1AA"])
@pytest.mark.parametrize("after", ["\u00b2", "\u00bd"])
def test_a_postal_code_before_a_non_word_digit_sign_is_found(engine, code, after):
    """"²" is alphanumeric for Python but no regex word character: the code ends there."""
    assert [span.type for span in engine.detect(f"postcode {code}{after} please")] == ["postal_code"]


@pytest.mark.parametrize(
    "value",
    ["192.0.2.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..3.4", "1.2.3.0004",
     "\u0661.2.3.4", "1.2.3.4\u00b2", "00.1.2.3", "10.0.0.00"],
)
def test_ipv4_validation_agrees_with_the_standard_module(value):
    import ipaddress

    from plugin.pii.ip_addresses import valid_ipv4

    try:
        ipaddress.IPv4Address(value)
        expected = True
    except ValueError:
        expected = False
    assert valid_ipv4(value) is expected


def test_ipv4_validation_agrees_with_the_standard_module_on_random_values():
    import ipaddress

    from plugin.pii.ip_addresses import valid_ipv4

    rng = random.Random(4)
    for _ in range(20000):
        value = "".join(rng.choice("0123456789..\u0663") for _ in range(rng.randint(1, 16)))
        try:
            ipaddress.IPv4Address(value)
            expected = True
        except ValueError:
            expected = False
        assert valid_ipv4(value) is expected, f"{len(value)}-character value"
