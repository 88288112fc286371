"""The guarded REST channel's masking step names the conversation as Rasa will (``UserMessage``'s default id when the
request has no sender), so the originals it stores belong to the conversation Rasa files the message under."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from plugin.policy.guard import Guard
from plugin.policy.settings import parse_privacy_config
from plugin.server.channel import GuardedRestInput
from plugin.storage.vault import vault_records

IBAN = "NL91ABNA0417164300"


@pytest.mark.parametrize("body, conversation", [({}, "default"), ({"sender": 42}, "42"), ({"sender": "c-7"}, "c-7")])
def test_originals_are_stored_under_the_conversation_rasa_files_the_message_under(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: dict, conversation: str
) -> None:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    guard = Guard(parse_privacy_config({}))
    channel = GuardedRestInput(guard=guard)
    request = SimpleNamespace(json={"message": f"my iban is {IBAN}", **body}, ctx=SimpleNamespace())
    assert IBAN not in channel._extract_message(request)
    with guard.state.db.read() as connection:
        owners = {row[0] for row in connection.execute(select(vault_records.c.conversation_id))}
    assert owners == {guard.conversation_ids.stored(conversation)}
