"""One master key per deployment: a process that brings another key to a shared state database is refused, before
it can store conversations under other pseudonyms or vault records nobody else can read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from plugin.policy.guard import Guard, StateUnavailable
from plugin.policy.settings import parse_privacy_config
from plugin.storage.db import StateDB
from plugin.storage.deployment_key import check_deployment_key
from plugin.storage.keys import MASTER_KEY_ENV, MasterKey, MasterKeyError, generate_key_text
from tests.storage.backends import db, state_url  # noqa: F401  (fixtures)


def test_the_first_key_is_recorded_and_another_is_refused(db: StateDB) -> None:
    first, other = MasterKey(os.urandom(32)), MasterKey(os.urandom(32))
    check_deployment_key(db, first)
    check_deployment_key(db, first)  # every later process with the same key
    with pytest.raises(MasterKeyError, match=MASTER_KEY_ENV) as refused:
        check_deployment_key(db, other)
    assert first.material.hex() not in str(refused.value) and other.material.hex() not in str(refused.value)


def test_a_server_started_with_its_own_key_file_does_not_open_the_shared_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'shared' / 'state.db'}")
    monkeypatch.setenv(MASTER_KEY_ENV, generate_key_text())
    assert Guard(parse_privacy_config({})).conversation_ids.pseudonymous  # the first machine
    monkeypatch.setenv(MASTER_KEY_ENV, generate_key_text())  # a second machine that did not get the shared key
    with pytest.raises(StateUnavailable, match="same key"):
        Guard(parse_privacy_config({})).state
