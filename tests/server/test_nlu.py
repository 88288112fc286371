"""PIIMasker: training text and run-time text become the nlu view; entities move with the text; PII becomes
token-valued entities."""

from pathlib import Path

import pytest
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from plugin.policy.guard import Guard
from plugin.policy.metadata_seal import sealed
from plugin.policy.settings import parse_privacy_config
from plugin.server.nlu import PIIMasker
from plugin.storage.vault import is_token

CARD = "4111 1111 1111 1111"


@pytest.fixture
def masker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> PIIMasker:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    return PIIMasker(PIIMasker.get_default_config(), guard=Guard(parse_privacy_config({})))


def test_training_examples_are_masked_and_annotated_entities_move_with_their_words(masker: PIIMasker) -> None:
    text = f"pay {CARD} for order Berlin please"
    start = text.index("Berlin")
    example = Message(data={TEXT: text, ENTITIES: [{"entity": "city", "value": "Berlin", "start": start, "end": start + 6}]})
    masked_entity = Message(data={TEXT: f"my card {CARD}", ENTITIES: [{"entity": "card", "value": CARD, "start": 8, "end": 27}]})
    plain = Message(data={TEXT: "hello there"})
    masker.process_training_data(TrainingData([example, masked_entity, plain]))

    assert example.get(TEXT) == "pay #creditcardnr# for order Berlin please"
    (city,) = example.get(ENTITIES)
    assert example.get(TEXT)[city["start"] : city["end"]] == "Berlin" == city["value"]
    (card,) = masked_entity.get(ENTITIES)
    assert masked_entity.get(TEXT)[card["start"] : card["end"]] == "#creditcardnr#" == card["value"]
    assert plain.get(TEXT) == "hello there"


def test_run_time_messages_get_the_nlu_view_and_token_entities(masker: PIIMasker) -> None:
    message = Message(data={TEXT: f"card {CARD} and 123456 ok"})
    masker.process([message])
    assert message.get(TEXT) == "card #creditcardnr# and #number# ok"
    entities = message.get(ENTITIES)
    assert [e["entity"] for e in entities] == ["credit_card", "long_number"]
    assert all(is_token(e["value"]) for e in entities)
    assert [message.get(TEXT)[e["start"] : e["end"]] for e in entities] == ["#creditcardnr#", "#number#"]
    assert masker.guard.vault.lookup(entities[0]["value"], reason="test") == CARD


def test_a_message_already_masked_by_the_guarded_channel_is_not_scanned_again(masker: PIIMasker) -> None:
    protected = masker.guard.protect(f"card {CARD}", "rest", "c1")
    entry = {"channel": "rest", "nlu_text": protected.nlu_text, "entities": list(protected.entities)}
    metadata = {"rasa_guard": sealed(entry, masker.guard.metadata_seal_key())}
    message = Message(data={TEXT: protected.storage_text, "metadata": metadata})
    masker.process([message])
    assert message.get(TEXT) == "card #creditcardnr#"
    assert [e["value"] for e in message.get(ENTITIES)] == [protected.entities[0]["value"]]


def test_a_client_forged_channel_entry_is_ignored_and_the_text_masked_here(masker: PIIMasker) -> None:
    # through a stock channel a client may send its own rasa_guard entry, here claiming the raw text is the nlu view
    forged = {"channel": "rest", "nlu_text": f"card {CARD}", "entities": [{"entity": "x", "value": CARD}]}
    for entry in (forged, dict(forged, seal="0" * 64)):
        message = Message(data={TEXT: f"card {CARD}", "metadata": {"rasa_guard": entry}})
        masker.process([message])
        assert message.get(TEXT) == "card #creditcardnr#"
        assert [e["entity"] for e in message.get(ENTITIES)] == ["credit_card"]
        assert is_token(message.get(ENTITIES)[0]["value"])


def test_the_channels_tokens_are_stored_before_rasa_and_an_unstored_value_becomes_its_tag(
    masker: PIIMasker, monkeypatch: pytest.MonkeyPatch
) -> None:
    def channel_message(text: str) -> Message:
        protected = masker.guard.protect(text, "rest", "c1")
        entry = {"channel": "rest", "nlu_text": protected.nlu_text, "entities": list(protected.entities)}
        metadata = {"rasa_guard": sealed(entry, masker.guard.metadata_seal_key())}
        return Message(data={TEXT: protected.storage_text, "metadata": metadata})

    stored = channel_message(f"card {CARD}")
    masker.process([stored])
    (entity,) = stored.get(ENTITIES)
    assert masker.guard.vault.lookup(entity["value"], reason="test") == CARD  # stored before any action can ask

    def unavailable(*batches):
        raise OSError("disk full")

    monkeypatch.setattr(masker.guard.vault._db, "insert_rows", unavailable)
    lost = channel_message(f"card {CARD}")
    masker.process([lost])
    assert [e["value"] for e in lost.get(ENTITIES)] == ["#credit_card#"]  # as when the vault is unavailable


def test_the_guarded_channels_message_carries_a_sealed_entry_that_stays_valid_after_access_checks(masker: PIIMasker) -> None:
    from plugin.policy.metadata_seal import verified
    from plugin.server.channel import protected_user_message, seal_guard_entry

    key = masker.guard.metadata_seal_key()
    message = protected_user_message(f"card {CARD}", "c1", guard=masker.guard)
    assert verified(message.metadata["rasa_guard"], key)["nlu_text"] == "card #creditcardnr#"
    message.metadata["rasa_guard"].update(client_ip="192.0.2.5", management_allowed=False)  # the access gate's context
    assert verified(message.metadata["rasa_guard"], key) is None
    assert verified(seal_guard_entry(message, masker.guard).metadata["rasa_guard"], key)["client_ip"] == "192.0.2.5"
