"""The final form of one stored event (deferred redaction): pure dict-to-dict, idempotent, never raw values or tokens."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plugin.policy.guard import CODE_TAG, Guard
from plugin.policy.redaction import FinalRendering, due_row_ids, is_final, original_token, redact_event, tokens_in
from plugin.policy.settings import parse_privacy_config
from plugin.storage.vault import TOKEN_RE

EMAIL = "jan.jansen@example.com"
IBAN = "NL91ABNA0417164300"
MESSAGE = f"mail {EMAIL}, IBAN {IBAN}"


@pytest.fixture
def guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    yield Guard(parse_privacy_config({"redaction": {"trigger": "upon_resolve"}}))


def rendering(guard: Guard, with_originals: bool = True, tokens: set = frozenset()) -> FinalRendering:
    rules = guard.event_rules("rest")
    storage = lambda text: guard.mask(text, "storage", "rest")  # noqa: E731
    known = guard.vault.read_for_rewrite(tokens)
    if not with_originals:
        known = {token: (pii_type, None) for token, (pii_type, _) in known.items()}
    return FinalRendering(replace(rules, mask=storage), storage, known)


def stored_user_event(guard: Guard, text: str = MESSAGE) -> dict:
    protected = guard.protect(text, "rest", conversation_id="c1")
    return {
        "event": "user",
        "timestamp": 1.0,
        "text": protected.storage_text,
        "parse_data": {"text": protected.nlu_text, "entities": [dict(e) for e in protected.entities],
                       "intent": {"name": "inform", "confidence": 1.0}},
        "input_channel": "rest",
        "metadata": {"rasa_guard": {"channel": "rest", "nlu_text": protected.nlu_text,
                                    "entities": [dict(e) for e in protected.entities],
                                    "original": protected.original_token}},
    }


def test_final_text_is_the_storage_rendering_of_the_original_and_tokens_become_tags(guard: Guard) -> None:
    event = stored_user_event(guard)
    assert original_token(event) is not None and not is_final(event)
    final = redact_event(event, rendering(guard, tokens=tokens_in(event)))
    assert final["text"] == guard.mask(MESSAGE, "storage", "rest")
    assert is_final(final) and EMAIL not in str(final) and IBAN not in str(final)
    assert [e["value"] for e in final["parse_data"]["entities"]] == ["#email#", "#iban#"]
    assert final["metadata"]["rasa_guard"]["original"] == "#redacted#"
    assert set(final) == set(event) and final["event"] == "user"


def test_without_the_original_the_stored_text_is_masked_again(guard: Guard) -> None:
    event = stored_user_event(guard)
    final = redact_event(event, rendering(guard, with_originals=False, tokens=tokens_in(event)))
    assert final["text"] == guard.mask(event["text"], "storage", "rest")
    assert is_final(final)


def test_an_unknown_token_becomes_the_redacted_tag(guard: Guard) -> None:
    event = {"event": "slot", "name": "email", "value": "vlt_" + "A" * 22, "timestamp": 2.0}
    assert redact_event(event, rendering(guard))["value"] == "#redacted#"


def test_a_code_answer_stays_masked_when_rendered_from_the_original(guard: Guard) -> None:
    protected = guard.protect("my code is 482913", "rest", conversation_id="c1", awaiting_code=True)
    event = {"event": "user", "text": protected.storage_text, "metadata": {"rasa_guard": {"original": protected.original_token}}}
    final = redact_event(event, rendering(guard, tokens=tokens_in(event)))
    assert "482913" not in final["text"] and CODE_TAG in final["text"]


@settings(max_examples=40, deadline=None)
@given(prefix=st.sampled_from(["", "hi ", "call +31 6 12345678 or "]),
       value=st.sampled_from([EMAIL, IBAN, "4111 1111 1111 1111", "no pii at all"]))
def test_redacting_a_final_event_changes_nothing(tmp_path_factory: pytest.TempPathFactory, prefix: str, value: str) -> None:
    patch = pytest.MonkeyPatch()  # hypothesis reruns the body: a function-scoped monkeypatch would be shared
    patch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path_factory.mktemp('s') / 'state.db'}")
    try:
        guard = Guard(parse_privacy_config({"redaction": {"trigger": "upon_resolve"}}))
        event = stored_user_event(guard, prefix + value)
    finally:
        patch.undo()
    once = redact_event(event, rendering(guard, tokens=tokens_in(event)))
    assert redact_event(once, rendering(guard)) == once
    assert not TOKEN_RE.search(str(once))


def test_due_rows_stop_at_the_first_newer_row() -> None:
    rows = [(1, 10.0), (2, 20.0), (3, None), (4, 99.0), (5, 15.0)]
    assert due_row_ids(rows, None) == (1, 2, 3, 4, 5)
    assert due_row_ids(rows, 50.0) == (1, 2, 3)  # row 5 waits for row 4, so a progress mark never skips a row
    assert due_row_ids(rows, 5.0) == ()


def test_tokens_are_found_at_any_depth() -> None:
    token = "vlt_" + "b" * 22
    assert tokens_in({"a": [{"b": f"x {token} y"}], "n": 5}) == {token}


def test_when_the_vault_cannot_store_a_message_no_token_points_at_a_missing_original(
    guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unavailable(*batches: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(guard.vault._db, "insert_rows", unavailable)
    protected = guard.protect(MESSAGE, "rest", conversation_id="c1")
    assert protected.original_token is None  # the stored text stays the agent rendering until the redaction job
    assert [e["value"] for e in protected.entities] == ["#email#", "#iban#"]
    assert EMAIL not in protected.storage_text and IBAN not in protected.storage_text
