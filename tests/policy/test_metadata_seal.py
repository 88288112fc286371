"""The seal on ``metadata["rasa_guard"]``: only an entry the guarded channel wrote, unaltered, is trusted."""

import json

from hypothesis import given
from hypothesis import strategies as st

from plugin.policy.metadata_seal import SEAL_FIELD, sealed, verified

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
