"""Sender blacklists: one entry per number whatever the notation, country codes by calling code, e-mail case and domains."""

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.blacklist import (
    Blacklist,
    BlacklistEntry,
    InvalidBlacklistEntry,
    SenderIdentity,
    find_block,
    identity_from_sender,
    mask_identity,
    mask_phone,
    normalise_phone,
    parse_entry,
)
from plugin.policy.schema import BlacklistSettings

# Test numbers: Ofcom drama range (GB), 555-01xx (US), phonenumbers-valid example ranges (NL, DE); no real subscribers.
NOTATIONS = {
    ("NL", "+31612345678"): [
        "+31612345678",
        "+31 6 1234 5678",
        "06-12345678",
        "06 12 34 56 78",
        "0612345678",
        "0031 6 12345678",
        "(06) 12345678",
        "+31 (0)6 12345678",
        "+31.6.12.34.56.78",
        "tel:+31-6-12345678",
    ],
    ("GB", "+442079460018"): [
        "+442079460018",
        "+44 20 7946 0018",
        "020 7946 0018",
        "020-7946-0018",
        "(020) 7946 0018",
        "0044 20 7946 0018",
        "+44 (0)20 7946 0018",
    ],
    ("US", "+12015550123"): [
        "+12015550123",
        "+1 201-555-0123",
        "(201) 555-0123",
        "201.555.0123",
        "1-201-555-0123",
        "2015550123",
        "+1 (201) 555 0123",
        "tel:+1-201-555-0123",
    ],
    ("DE", "+493012345678"): [
        "+493012345678",
        "+49 30 12345678",
        "030 12345678",
        "030/12345678",
        "(030) 1234 5678",
        "0049 30 12345678",
        "+49 (0)30 12345678",
        "+49-30-1234-5678",
    ],
}
CASES = [(region, e164, text) for (region, e164), texts in NOTATIONS.items() for text in texts]


@pytest.mark.parametrize("region,e164,text", CASES)
def test_every_notation_of_a_number_is_the_same_entry(region: str, e164: str, text: str) -> None:
    assert parse_entry(text, region) == BlacklistEntry("phone", e164)


@pytest.mark.parametrize("region,e164,text", [c for c in CASES if c[2].startswith(("+", "tel:+"))])
def test_international_notation_does_not_depend_on_the_default_region(region: str, e164: str, text: str) -> None:
    for other in ("NL", "GB", "US", "DE"):
        assert parse_entry(text, other).value == e164


@pytest.mark.parametrize("region,e164,text", CASES)
def test_a_number_blocked_in_one_notation_blocks_the_sender_in_every_other(region: str, e164: str, text: str) -> None:
    blacklist = Blacklist((parse_entry(NOTATIONS[(region, e164)][0], region),))
    for channel, sender in (("whatsapp", "whatsapp:" + e164), ("whatsapp", e164[1:]), ("sms", e164), ("rest", e164)):
        assert blacklist.match(identity_from_sender(channel, sender, region)) is not None
    assert Blacklist((parse_entry(text, region),)).match(identity_from_sender("sms", e164, region)) is not None


_SEPARATORS = st.sampled_from(["", " ", "-", ".", "  "])


@given(case=st.sampled_from(sorted(NOTATIONS)), data=st.data())
def test_separators_anywhere_do_not_change_the_number(case, data) -> None:
    region, e164 = case
    number = phonenumbers.parse(e164, None)
    significant = phonenumbers.national_significant_number(number)
    national = significant if region == "US" else "0" + significant
    international = f"+{number.country_code}{significant}"
    digits = data.draw(st.sampled_from([national, international]))
    seps = data.draw(st.lists(_SEPARATORS, min_size=len(digits) - 1, max_size=len(digits) - 1))
    text = digits[0] + "".join(sep + ch for sep, ch in zip(seps, digits[1:]))
    assert normalise_phone(text, region) == e164


def test_country_code_matches_by_calling_code_not_by_text() -> None:
    nanp = Blacklist((parse_entry("+1", "NL"),))
    for region in ("US", "CA", "JM", "BS"):
        example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
        e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        assert nanp.match(identity_from_sender("whatsapp", e164, "NL")) == BlacklistEntry("country_code", "+1")
    uk = Blacklist((parse_entry("+44", "NL"),))
    assert uk.match(identity_from_sender("sms", "+442079460018", "NL")) is not None
    assert uk.match(identity_from_sender("sms", "+493012345678", "NL")) is None
    assert uk.match(identity_from_sender("sms", "+31612345678", "NL")) is None
    kazakh = phonenumbers.format_number(
        phonenumbers.example_number_for_type("KZ", phonenumbers.PhoneNumberType.MOBILE), phonenumbers.PhoneNumberFormat.E164
    )
    assert Blacklist((parse_entry("+7", "NL"),)).match(identity_from_sender("sms", kazakh, "NL")) is not None


@pytest.mark.parametrize("text", ["+4", "+999", "+1876", "+42"])
def test_a_prefix_that_is_not_a_calling_code_is_refused(text: str) -> None:
    with pytest.raises(InvalidBlacklistEntry, match="not a country calling code|not a valid blacklist entry"):
        parse_entry(text, "NL")


def test_country_code_list_accepts_codes_without_plus() -> None:
    for text in ("44", "+44", "0044", "+ 44"):
        assert parse_entry(text, "NL", kinds=("country_code",)) == BlacklistEntry("country_code", "+44")


def test_email_entries_ignore_case() -> None:
    blacklist = Blacklist((parse_entry("Spam.Sender@Example.COM", "NL"),))
    assert blacklist.match(identity_from_sender("email", "spam.sender@example.com", "NL")) is not None
    assert blacklist.match(identity_from_sender("email", "SPAM.SENDER@EXAMPLE.COM", "NL")) is not None
    assert blacklist.match(identity_from_sender("email", "other@example.com", "NL")) is None


@pytest.mark.parametrize("text", ["@example.com", "*@example.com", "Example.COM", "@EXAMPLE.com."])
def test_domain_entries_block_the_domain_and_its_subdomains_only(text: str) -> None:
    blacklist = Blacklist((parse_entry(text, "NL"),))
    assert blacklist.entries == (BlacklistEntry("email_domain", "example.com"),)
    for sender in ("a@example.com", "B@Example.Com", "c@mail.example.com"):
        assert blacklist.match(identity_from_sender("email", sender, "NL")) is not None
    for sender in ("a@notexample.com", "a@example.com.evil.org", "a@example.co"):
        assert blacklist.match(identity_from_sender("email", sender, "NL")) is None


def test_omnichannel_identity_verified_phone_and_email_are_matched() -> None:
    blacklist = Blacklist((parse_entry("06-12345678", "NL"), parse_entry("@example.org", "NL")))
    web = identity_from_sender("rest", "session-8f2c", "NL", phone="+31 6 12345678")
    assert blacklist.match(web) == BlacklistEntry("phone", "+31612345678")
    mail = identity_from_sender("socketio", "sid-1", "NL", email="Someone@Example.org")
    assert blacklist.match(mail) == BlacklistEntry("email_domain", "example.org")
    assert blacklist.match(identity_from_sender("rest", "session-8f2c", "NL")) is None


def test_plain_digit_ids_are_phone_numbers_only_on_phone_channels() -> None:
    assert identity_from_sender("whatsapp", "31612345678", "NL").phone_e164 == "+31612345678"
    assert identity_from_sender("telegram", "31612345678", "NL").phone_e164 is None
    assert identity_from_sender("telegram", "123456789", "NL").phone_e164 is None


def test_sender_ids_match_exactly() -> None:
    blacklist = Blacklist((parse_entry("sender:Tg-12345", "NL"),))
    assert blacklist.match(identity_from_sender("telegram", "Tg-12345", "NL")) == BlacklistEntry("sender_id", "Tg-12345")
    assert blacklist.match(identity_from_sender("telegram", "tg-12345", "NL")) is None
    assert blacklist.match(identity_from_sender("telegram", "Tg-123456", "NL")) is None


def test_a_sender_id_entry_may_name_the_stored_pseudonym_an_export_or_the_audit_trail_shows() -> None:
    pseudonym = "cid-" + "abcdefghijklmnop" * 2
    settings = BlacklistSettings(sender_ids=(pseudonym,), default_region="NL")
    assert find_block(settings, "whatsapp", "whatsapp:+31612345670", {}, stored_id=pseudonym) is not None
    assert find_block(settings, "whatsapp", "whatsapp:+31612345670", {}, stored_id="cid-" + "a" * 32) is None
    assert find_block(settings, "whatsapp", "whatsapp:+31612345670", {}) is None


def test_the_most_specific_entry_is_reported() -> None:
    blacklist = Blacklist((parse_entry("+31", "NL"), parse_entry("06-12345678", "NL")))
    assert blacklist.match(identity_from_sender("sms", "+31612345678", "NL")).kind == "phone"
    assert blacklist.match(identity_from_sender("sms", "+31201234567", "NL")).kind == "country_code"


def test_from_settings_reads_each_list_with_its_own_kinds() -> None:
    settings = BlacklistSettings(
        country_codes=("44",),
        phone_numbers=("06-12345678",),
        emails=("spam@example.com", "@example.org"),
        sender_ids=("+31699999999",),
        default_region="NL",
    )
    blacklist = Blacklist.from_settings(settings)
    assert {(e.kind, e.value) for e in blacklist.entries} == {
        ("country_code", "+44"),
        ("phone", "+31612345678"),
        ("email", "spam@example.com"),
        ("email_domain", "example.org"),
        ("sender_id", "+31699999999"),
    }
    for entry in blacklist.entries:
        assert parse_entry(entry.settings_value, "NL", kinds=(entry.kind,)) == entry


def test_from_settings_names_the_list_of_a_bad_entry_without_its_value() -> None:
    settings = BlacklistSettings(phone_numbers=("06-12345678", "spam@example.com"), default_region="NL")
    with pytest.raises(InvalidBlacklistEntry, match=r"blacklist\.phone_numbers entry 2") as error:
        Blacklist.from_settings(settings)
    assert "spam@example.com" not in str(error.value)


@pytest.mark.parametrize("text", ["hello", "jan@", "06-1234", "not an entry at all 0612345678", "a@b"])
def test_invalid_entries_list_the_allowed_forms_and_mask_the_value(text: str) -> None:
    with pytest.raises(InvalidBlacklistEntry) as error:
        parse_entry(text, "NL")
    message = str(error.value)
    assert "country code (+44)" in message and "e-mail address" in message and "region NL" in message
    assert text not in message


def test_empty_entry_is_refused() -> None:
    with pytest.raises(InvalidBlacklistEntry, match="cannot be empty"):
        parse_entry("   ", "NL")


def test_masks_never_show_the_full_value() -> None:
    identity = identity_from_sender("whatsapp", "whatsapp:+31612345678", "NL")
    assert mask_identity(identity) == "+31 6 **** **78"
    assert mask_phone("+12015550123") == "+1 2 * **** **23"
    assert mask_identity(identity_from_sender("email", "Jan.Jansen@Example.com", "NL")) == "j***@example.com"
    assert "12345678" not in repr(identity) and "612345678" not in str(identity)
    entry = parse_entry("+31 6 1234 5678", "NL")
    assert "12345678" not in repr(entry) and entry.masked == "+31 6 **** **78"
    assert "Jansen" not in repr(SenderIdentity("email", "Jan.Jansen@example.com", email="jan.jansen@example.com"))
