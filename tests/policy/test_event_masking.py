"""Event masking for storage: every text-bearing field of a Rasa event dict, tokens kept, structure unchanged."""

from plugin.pii import build_engine
from plugin.policy.event_masking import REDACTED, EventMaskingRules, mask_event, with_known_clean, with_known_values
from plugin.storage.vault import is_token, new_token

ENGINE = build_engine()
CARD = "4111 1111 1111 1111"
MAIL = "jan.jansen@example.com"


def rules(**kwargs) -> EventMaskingRules:
    return EventMaskingRules(mask=lambda t: ENGINE.mask(t, "storage").text, is_token=is_token, **kwargs)


def test_user_event_text_parse_data_entities_and_metadata_are_masked() -> None:
    token = new_token()
    event = {
        "event": "user",
        "text": f"card {CARD}",
        "parse_data": {
            "text": f"card {CARD}",
            "intent": {"name": "inform", "confidence": 0.9},
            "entities": [{"entity": "credit_card", "value": token}, {"entity": "email", "value": MAIL}],
        },
        "metadata": {"phone": 31612345678, "note": f"mail {MAIL}", "rasa_guard": {"channel": "rest"}},
        "message_id": "abc123456789def",
    }
    masked = mask_event(event, rules())
    assert masked["text"] == "card **** **** **** 1111" == masked["parse_data"]["text"]
    assert masked["parse_data"]["entities"][0]["value"] == token  # vault tokens reveal nothing and stay usable
    assert MAIL not in str(masked) and "612345678" not in str(masked)
    assert masked["parse_data"]["intent"] == event["parse_data"]["intent"]
    assert masked["message_id"] == event["message_id"]
    assert event["text"] == f"card {CARD}"  # the input is not changed


def test_everything_rasa_or_a_client_puts_in_parse_data_is_masked() -> None:
    event = {
        "event": "user",
        "text": "/4111111111111111",  # a forced intent: the client chose the intent name
        "parse_data": {
            "text": "/4111111111111111",
            "intent": {"name": "4111111111111111", "confidence": 1.0},
            "intent_ranking": [{"name": "4111111111111111", "confidence": 1.0}],
            "metadata": {"rasa_guard": {"client_ip": "203.0.113.9"}, "note": f"mail {MAIL}"},
            "message_id": "abc123456789def",
        },
    }
    masked = mask_event(event, rules())
    assert "4111111111111111" not in str(masked) and MAIL not in str(masked) and "203.0.113.9" not in str(masked)
    assert masked["parse_data"]["intent"]["confidence"] == 1.0  # structure and numbers kept


def test_the_channels_nlu_copy_is_not_stored_but_the_rest_of_its_entry_is() -> None:
    guard_entry = {"channel": "rest", "nlu_text": "card #creditcardnr#", "entities": [{"entity": "credit_card"}],
                   "original": new_token(), "client_ip": "192.0.2.5"}
    event = {"event": "user", "text": "card #creditcardnr#", "metadata": {"rasa_guard": guard_entry},
             "parse_data": {"text": "card #creditcardnr#", "metadata": {"rasa_guard": guard_entry}}}
    masked = mask_event(event, rules())
    for stored in (masked["metadata"]["rasa_guard"], masked["parse_data"]["metadata"]["rasa_guard"]):
        assert set(stored) == {"channel", "original", "client_ip"} and stored["original"] == guard_entry["original"]


def test_bot_and_agent_text_follows_the_masked_messages_setting() -> None:
    for kind in ("bot", "agent"):  # "agent": a human agent's message (AgentUttered), e.g. recorded by a hand-off
        event = {"event": kind, "text": f"we sent it to {MAIL}", "data": {"buttons": [{"title": MAIL}]}}
        assert MAIL not in str(mask_event(event, rules(mask_bot_messages=True)))
        assert mask_event(event, rules(mask_bot_messages=False))["text"] == event["text"]


def test_sensitive_slots_hold_tokens_or_nothing_and_other_slots_are_masked() -> None:
    sensitive = rules(sensitive_slots=frozenset({"iban"}))
    token = new_token()
    assert mask_event({"event": "slot", "name": "iban", "value": token}, sensitive)["value"] == token
    assert mask_event({"event": "slot", "name": "iban", "value": "NL91ABNA0417164300"}, sensitive)["value"] == REDACTED
    assert mask_event({"event": "slot", "name": "note", "value": f"card {CARD}"}, sensitive)["value"] == "card **** **** **** 1111"
    assert mask_event({"event": "slot", "name": "count", "value": 3}, sensitive)["value"] == 3


def test_named_metadata_fields_are_redacted_whole() -> None:
    masked = mask_event({"event": "user", "text": "hi", "metadata": {"customer_name": "Jan"}}, rules(sensitive_metadata=frozenset({"customer_name"})))
    assert masked["metadata"]["customer_name"] == REDACTED


def test_the_session_start_metadata_slot_is_stored_as_message_metadata_is() -> None:
    # Rasa copies the metadata of the message that starts a session into this slot: named fields are redacted whole
    # there too (a name is no pattern the engine finds), and the channel's NLU copy and seal are left out
    guard_entry = {"channel": "rest", "nlu_text": "card #creditcardnr#", "entities": [{"entity": "credit_card"}],
                   "seal": "5" * 64, "client_ip": "192.0.2.5"}
    metadata = {"rasa_guard": guard_entry, "customer_name": "Jan Jansen", "note": f"card {CARD}"}
    named = rules(sensitive_metadata=frozenset({"customer_name"}))
    slot = mask_event({"event": "slot", "name": "session_started_metadata", "value": metadata}, named)["value"]
    user = mask_event({"event": "user", "text": "hi", "metadata": metadata}, named)["metadata"]
    assert slot == user
    assert slot["customer_name"] == REDACTED and slot["note"] == "card **** **** **** 1111"
    assert set(slot["rasa_guard"]) == {"channel", "client_ip"}
    assert mask_event({"event": "slot", "name": "session_started_metadata", "value": None}, named)["value"] is None


def test_other_events_pass_unchanged() -> None:
    event = {"event": "action", "name": "action_listen", "policy": "RulePolicy", "confidence": 1.0}
    assert mask_event(event, rules()) == event


def test_the_parse_datas_copy_of_the_message_id_is_stored_as_the_event_stores_it_and_anything_else_masked() -> None:
    scanned = []

    def spy(text: str) -> str:
        scanned.append(text)
        return ENGINE.mask(text, "storage").text

    message_id = "0c6e5a21f1d84c3e9b4f4111111111aa"
    event = {"event": "user", "text": "hello", "message_id": message_id,
             "parse_data": {"text": "hello", "message_id": message_id}}
    masked = mask_event(event, EventMaskingRules(mask=spy, is_token=is_token))
    assert masked["parse_data"]["message_id"] == masked["message_id"] == message_id
    assert message_id not in scanned
    forged = dict(event, parse_data={"text": "hello", "message_id": "4111111111111111"})
    assert "4111111111111111" not in str(mask_event(forged, rules()))


def test_known_clean_names_are_passed_without_masking_and_the_output_is_the_same() -> None:
    scanned = []

    def spy(text: str) -> str:
        scanned.append(text)
        return ENGINE.mask(text, "storage").text

    # a name the engine would mask (a card number as an intent: a client can send "/4111...") is never taken as clean
    names = ["greet", "inform", "utter_greet", CARD.replace(" ", ""), 31612345678]
    fast = with_known_clean(EventMaskingRules(mask=spy, is_token=is_token), names)
    assert fast.known_clean == {"greet", "inform", "utter_greet"}
    # a dict of clean names, scores and flags is passed whole; a number beside a clean name is still scanned (a phone
    # number sent as a JSON number)
    event = {"event": "user", "text": "hi", "parse_data": {"text": "hi", "intent": {"name": "greet", "confidence": 0.9},
        "intent_ranking": [{"name": "greet", "confidence": 0.9}, {"name": "inform", "confidence": 0.1, "new": True},
                           {"name": CARD.replace(" ", "")}, {"name": "inform", "callback": 31612345678}]}}
    scanned.clear()
    assert mask_event(event, fast) == mask_event(event, rules())
    assert "greet" not in scanned and "inform" not in scanned and CARD.replace(" ", "") in scanned
    assert "31612345678" in scanned


def test_known_sensitive_values_are_redacted_wherever_text_is_masked() -> None:
    # what a sensitive slot or metadata field holds (a name: no pattern finds it), as the customer typed it, as an
    # entity, and repeated by the bot; whole words in any case, tokens and very short values left alone
    token = new_token()
    known = with_known_values(rules(), ["Jan de Vries", "ok", token, REDACTED, "Vries"])
    user = {"event": "user", "text": "my name is JAN DE VRIES", "parse_data": {"text": "my name is JAN DE VRIES",
            "entities": [{"entity": "name", "value": "Jan de Vries"}]}}
    masked = mask_event(user, known)
    assert "jan" not in str(masked).lower() and masked["text"] == f"my name is {REDACTED}"
    bot = mask_event({"event": "bot", "text": f"Thanks, Jan de Vries! ok? Vriesland {token} {MAIL}"}, known)
    assert bot["text"].startswith(f"Thanks, {REDACTED}! ok? Vriesland {token} ") and MAIL not in bot["text"]
    assert with_known_values(rules(), ["ok", token]).mask("ok") == "ok"
