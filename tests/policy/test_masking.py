"""From settings to the engine: card neutralisation per channel, masking switched off, strategy overrides."""

from plugin.pii import build_engine
from plugin.policy.masking import engine_config
from plugin.policy.settings import parse_privacy_config, resolve

CARD = "5555 5555 5555 4444"
TEXT = f"card {CARD}, order 123456789012, mail jan@example.com"


def engine_for(data: dict, channel: str = None):
    return build_engine(engine_config(resolve(parse_privacy_config(data), channel=channel).masking))


def test_card_neutralisation_shows_the_last_four_and_leaves_other_numbers_alone() -> None:
    data = {"masking": {"enabled": False}, "channels": {"whatsapp": {"masking": {"card_neutralisation": True}}}}
    neutralised = engine_for(data, "whatsapp")
    for view in ("agent", "storage", "log"):
        assert neutralised.mask(TEXT, view).text == "card **** **** **** 4444, order 123456789012, mail jan@example.com"
    assert engine_for(data).mask(TEXT, "storage").text == TEXT  # other channels: masking off as configured


def test_card_neutralisation_on_top_of_full_masking_overrides_the_card_strategy_only() -> None:
    data = {"masking": {"card_neutralisation": True, "strategies": {"storage": {"credit_card": "tag", "email": "tag"}}}}
    masked = engine_for(data).mask(TEXT, "storage").text
    assert masked == "card **** **** **** 4444, order #number#, mail #email#"


def test_types_switched_off_and_digit_thresholds_follow_the_settings() -> None:
    engine = engine_for({"masking": {"types": {"email": False}, "long_number_digits": 0, "ai_hidden_digits": 4}})
    assert engine.mask(TEXT, "storage").text == "card **** **** **** 4444, order 123456789012, mail jan@example.com"
    assert engine.mask("room 1234 please", "nlu").text == "room #number# please"
