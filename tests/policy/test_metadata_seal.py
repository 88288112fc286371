"""The seal on ``metadata["rasa_guard"]``: only an entry the guarded channel wrote, unaltered, is trusted."""

import json

from hypothesis import given
from hypothesis import strategies as st

from plugin.policy import metadata_seal
from plugin.policy.metadata_seal import RECENT_SEALS_KEPT, SEAL_FIELD, sealed, verified

KEY = b"k" * 32
ENTRY = {"channel": "rest", "management_allowed": False, "nlu_text": "my card #creditcardnr#", "entities": []}


def test_a_sealed_entry_verifies_and_comes_back_without_its_seal():
    assert verified(sealed(ENTRY, KEY), KEY) == ENTRY


def test_a_client_written_entry_is_not_trusted():
    assert verified(dict(ENTRY, management_allowed=True), KEY) is None
    assert verified(dict(ENTRY, seal="0" * 64), KEY) is None


def test_changing_any_field_breaks_the_seal():
    entry = sealed(ENTRY, KEY)
    for name, value in (("management_allowed", True), ("channel", "whatsapp"), ("nlu_text", "my card 4111"), ("x", 1)):
        assert verified(dict(entry, **{name: value}), KEY) is None, name


def test_another_key_does_not_verify_and_no_key_seals_nothing():
    assert verified(sealed(ENTRY, KEY), b"o" * 32) is None
    unsealed = sealed(ENTRY, b"")
    assert SEAL_FIELD not in unsealed and verified(unsealed, b"") is None


def test_the_seal_survives_a_json_round_trip():
    # the action server receives the event as JSON
    entry = sealed(dict(ENTRY, entities=[{"entity": "credit_card", "start": 8, "end": 23, "value": "vlt_x"}]), KEY)
    assert verified(json.loads(json.dumps(entry)), KEY) is not None


@given(st.dictionaries(st.text(max_size=8), st.one_of(st.text(max_size=20), st.booleans(), st.integers()), max_size=5))
def test_any_entry_round_trips_and_never_raises(entry):
    assert verified(sealed(entry, KEY), KEY) == {k: v for k, v in entry.items() if k != SEAL_FIELD}
    assert verified(entry, KEY) is None or SEAL_FIELD in entry


def test_the_sealed_dict_itself_is_refused_once_changed_in_place():
    # Rasa hands the very dict on, which this process recognises without a MAC: only while it is unchanged
    entry = sealed(ENTRY, KEY)
    assert verified(entry, KEY) == ENTRY
    entry["management_allowed"] = True
    assert verified(entry, KEY) is None
    entry["management_allowed"] = False
    entry["channel"] = "whatsapp"
    assert verified(entry, KEY) is None


def test_the_sealed_dict_itself_does_not_verify_under_another_key():
    entry = sealed(ENTRY, KEY)
    assert verified(entry, b"o" * 32) is None and verified(entry, b"") is None


def test_a_verified_body_is_a_copy_the_caller_may_change():
    entry = sealed(ENTRY, KEY)
    verified(entry, KEY)["channel"] = "whatsapp"
    assert verified(entry, KEY) == ENTRY


def test_recognised_seals_are_bounded_and_older_ones_still_verify_by_their_mac():
    first = sealed(ENTRY, KEY)
    for index in range(RECENT_SEALS_KEPT + 5):
        sealed(dict(ENTRY, nlu_text=str(index)), KEY)
    assert len(metadata_seal._recent) <= RECENT_SEALS_KEPT
    assert first[SEAL_FIELD] not in metadata_seal._recent
    assert verified(first, KEY) == ENTRY
