"""Guard.protect on repeated customer texts: a text found clean is answered from a digest cache, never a PII one."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from plugin.policy import log_redaction
from plugin.policy.guard import Guard, install_log_redaction, set_current_guard
from plugin.policy.settings import parse_privacy_config

from tests.engine_spy import record_scans

CARD = "4111 1111 1111 1111"


@pytest.fixture
def guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    yield Guard(parse_privacy_config({}))


def scans_of(guard: Guard, monkeypatch: pytest.MonkeyPatch) -> List[str]:
    return record_scans(guard, "mask_views", monkeypatch)


def test_a_clean_text_is_scanned_once_and_a_text_with_pii_every_time(guard: Guard, monkeypatch: pytest.MonkeyPatch) -> None:
    scanned = scans_of(guard, monkeypatch)
    first, again = (guard.protect("ok, thanks for the help", "rest", "c1") for _ in range(2))
    assert first == again and again.storage_text == again.nlu_text == "ok, thanks for the help" and not again.entities
    assert scanned.count("ok, thanks for the help") == 1  # one pass for the stored and the nlu view, the first time only
    cards = [guard.protect(f"card {CARD}", "rest", "c1") for _ in range(2)]
    assert [c.storage_text for c in cards] == ["card **** **** **** 1111"] * 2
    assert cards[0].entities[0]["value"] != cards[1].entities[0]["value"]  # each message its own vault record
    assert scanned.count(f"card {CARD}") == 2


def test_a_conversation_awaiting_a_code_always_gets_its_numbers_masked(guard: Guard) -> None:
    assert guard.protect("it is 482913", "rest", "c1").storage_text == "it is 482913"
    assert guard.protect("it is 482913", "rest", "c1", awaiting_code=True).storage_text == "it is #pinpuknr#"


def test_log_lines_redact_fields_a_runtime_change_named_sensitive_for_a_channel_not_used_yet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an admin names a metadata field sensitive for the whatsapp scope in the admin chat; no whatsapp message yet
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    guard = Guard(parse_privacy_config({}), poll_seconds=0.0)
    store = guard.state.settings_store
    store.apply(store.propose(guard.config, "masking.sensitive_metadata", ["crm_name"], "whatsapp"), actor="ann", role="admin")
    assert guard.mask_log("metadata {'crm_name': 'Jan de Vries', 'channel': 'whatsapp'}") == (
        "metadata {'crm_name': '#redacted#', 'channel': 'whatsapp'}"
    )


def test_log_field_names_follow_a_runtime_change_after_lines_were_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    guard = Guard(parse_privacy_config({}), poll_seconds=0.0)
    line = "metadata {'crm_name': 'Jan de Vries'}"
    assert [guard.mask_log(line) for _ in range(2)] == [line] * 2  # nothing named sensitive yet; names now cached
    store = guard.state.settings_store
    store.apply(store.propose(guard.config, "masking.sensitive_metadata", ["crm_name"]), actor="ann", role="admin")
    assert guard.mask_log(line) == "metadata {'crm_name': '#redacted#'}"


def test_the_fallback_log_masker_still_redacts_fields_named_sensitive(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # when reading the settings fails mid-line, the built-in masker takes over: it must not forget the names
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    config = parse_privacy_config({"masking": {"sensitive_slots": ["nickname"]}, "channels": {"whatsapp": {"masking": {"sensitive_metadata": ["crm_name"]}}}})
    captured: List[Tuple[str, str]] = []
    monkeypatch.setattr(log_redaction, "install", lambda mask, fallback: captured.append((mask, fallback)))
    fresh = Guard(config)
    set_current_guard(fresh)
    try:
        install_log_redaction()
        mask, fallback = captured[-1]
        line = "slots {'nickname': 'Jan', 'crm_name': 'de Vries', 'card': '4111 1111 1111 1111'}"
        expected = "slots {'nickname': '#redacted#', 'crm_name': '#redacted#', 'card': '#creditcardnr#'}"
        assert fallback(line) == expected  # before any line: the settings file's names
        assert mask(line) == expected
        monkeypatch.setattr(fresh, "settings", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("state gone")))
        monkeypatch.setattr(fresh, "_named_fields", (("stale",), fresh._named_fields[1]))  # force a recomputation
        assert mask(line) == expected  # mask_log fails, the fallback uses the names last computed
    finally:
        set_current_guard(None)


@pytest.mark.parametrize("text", ["paid € 12,50 4821", "+31 6 1234 5678 4821"])
def test_an_awaited_code_after_another_value_becomes_a_pin_in_the_nlu_text_too(guard: Guard, text: str) -> None:
    # a grouped code match starting inside the first value must not hide the code after it (review finding)
    protected = guard.protect(text, "rest", "c1", awaiting_code=True)
    assert "4821" not in protected.nlu_text and "4821" not in protected.storage_text
    assert [entity["entity"] for entity in protected.entities][-1] == "pin_puk"
