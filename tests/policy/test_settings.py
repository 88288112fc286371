"""The settings backbone: privacy.yml validation, refusal messages, and resolution order."""

from pathlib import Path

import pytest

from plugin.policy.schema import Settings
from plugin.policy.settings import PrivacyConfig, load_privacy_config, parse_privacy_config, resolve
from plugin.policy.validation import SettingsError, get_value, set_value, settings_from_mapping, to_mapping

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_privacy_yml_is_valid_and_sets_a_channel_override() -> None:
    config = load_privacy_config(ROOT / "privacy.yml")
    assert config.settings.masking.long_number_digits == 9
    assert resolve(config).masking.card_neutralisation is False
    assert resolve(config, channel="whatsapp").masking.card_neutralisation is True


def test_defaults_round_trip_through_their_plain_form() -> None:
    assert settings_from_mapping(to_mapping(Settings())) == Settings()


@pytest.mark.parametrize(
    "data, key, fragment",
    [
        ({"redaction": {"hours": 80}}, "redaction.hours", "must be between 12 and 72"),
        ({"redaction": {"hours": "24"}}, "redaction.hours", "must be a whole number between 12 and 72, not text"),
        ({"redaction": {"trigger": "sometimes"}}, "redaction.trigger", "must be one of: off, upon_resolve, time_based"),
        ({"redaction": {"triger": "off"}}, "redaction.triger", "unknown setting; allowed here: trigger, hours"),
        ({"maskin": {}}, "maskin", "unknown setting; allowed here: masking, redaction"),
        ({"session": {"disconnect_after_resolve": "yes"}}, "session.disconnect_after_resolve", "must be true or false"),
        ({"masking": {"types": {"credit_kard": False}}}, "masking.types.credit_kard", "unknown key; allowed: credit_card"),
        ({"masking": {"phone_regions": "NL"}}, "masking.phone_regions", "must be a list"),
        ({"masking": {"phone_regions": ["XX"]}}, "masking.phone_regions", "two-letter region codes"),
        ({"access": {"content": {"max_file_mb": 50}}}, "access.content.max_file_mb", "between 1 and 20"),
        ({"session": {"idle_timeout_seconds": 60, "warning_lead_seconds": 90}}, "session.warning_lead_seconds", "shorter"),
        ({"masking": {"strategies": {"nlu": {"email": "scramble"}}}}, "masking.strategies.nlu.email.strategy", "must be one of"),
        ({"masking": {"strategies": {"screen": {}}}}, "masking.strategies.screen", "allowed: nlu, agent, storage, log"),
        ({"roles": {"edit": {"agent": ["storage"]}}}, "roles.edit", "lists only settings groups"),
        ({"masking": {"custom_rules": [{"name": "x"}]}}, "masking.custom_rules", "non-empty patterns"),
    ],
)
def test_invalid_values_are_refused_naming_the_key_and_what_is_allowed(data: dict, key: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as refused:
        settings_from_mapping(data)
    assert refused.value.key == key
    assert fragment in str(refused.value)


def test_free_text_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(SettingsError) as refused:
        settings_from_mapping({"blacklist": {"phone_numbers": "+31612345678"}})
    assert "612345678" not in str(refused.value)


def test_strategy_shorthand_and_full_form() -> None:
    settings = settings_from_mapping(
        {"masking": {"strategies": {"agent": {"credit_card": "card_last4", "iban": {"strategy": "redact", "keep_right": 4}}}}}
    )
    assert settings.masking.strategies["agent"]["credit_card"].strategy == "card_last4"
    assert settings.masking.strategies["agent"]["iban"].keep_right == 4


def test_partial_mappings_merge_instead_of_replacing() -> None:
    settings = settings_from_mapping({"masking": {"types": {"date": False}}})
    assert settings.masking.types["date"] is False
    assert settings.masking.types["credit_card"] is True


def test_resolution_order_defaults_file_runtime_channel() -> None:
    config = parse_privacy_config(
        {"session": {"idle_timeout_seconds": 600}, "channels": {"sms": {"session": {"idle_timeout_seconds": 300}}}}
    )
    assert Settings().session.idle_timeout_seconds == 900
    assert resolve(config).session.idle_timeout_seconds == 600
    runtime = {"session": {"idle_timeout_seconds": 450}}
    assert resolve(config, runtime_changes=runtime).session.idle_timeout_seconds == 450
    assert resolve(config, channel="sms", runtime_changes=runtime).session.idle_timeout_seconds == 300
    runtime_channel = {"sms": {"session": {"idle_timeout_seconds": 200}}}
    assert resolve(config, "sms", runtime, runtime_channel).session.idle_timeout_seconds == 200


def test_channel_overrides_are_validated_when_the_file_loads() -> None:
    with pytest.raises(SettingsError) as refused:
        parse_privacy_config({"channels": {"whatsapp": {"redaction": {"hours": 5}}}})
    assert refused.value.key == "channels.whatsapp.redaction.hours"
    assert "between 12 and 72" in str(refused.value)


def test_set_and_get_by_dotted_key() -> None:
    changed = set_value(Settings(), "session.idle_timeout_seconds", 300)
    assert get_value(changed, "session.idle_timeout_seconds") == 300
    assert Settings().session.idle_timeout_seconds == 900  # the original is untouched
    with pytest.raises(SettingsError):
        set_value(Settings(), "session.idle_timeout", 300)
    with pytest.raises(SettingsError):
        get_value(Settings(), "session.nope")


def test_missing_explicit_file_is_an_error_and_bad_yaml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_privacy_config(tmp_path / "absent.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("masking:\n  enabled: true\n   oops: [\n")
    with pytest.raises(SettingsError, match="not valid YAML at line"):
        load_privacy_config(bad)


def test_no_file_means_builtin_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RASA_GUARD_CONFIG", raising=False)
    assert load_privacy_config() == PrivacyConfig()


@pytest.mark.parametrize(
    "data", [{"redaction": {"trigger": "jan.jansen@example.com"}}, {"redaction": {"hours": 612345678}}]
)
def test_a_refused_value_is_not_echoed(data: dict) -> None:
    # the admin chat shows this message to the admin and stores it as the bot's reply: the value may be personal data
    with pytest.raises(SettingsError) as refused:
        settings_from_mapping(data)
    assert "jan.jansen" not in str(refused.value) and "612345678" not in str(refused.value)
