"""Access control of the guarded channels (``plugin.server.access.AccessGate``): IP allowlist, API tokens, content."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Dict

import pytest

from plugin.policy.guard import Guard
from plugin.policy.settings import parse_privacy_config
from plugin.server.access import AccessGate
from plugin.storage.token_store import TokenStore

PDF = b"%PDF-1.7\n" + b"0" * 200
EXE = b"MZ\x90\x00" + b"\x00" * 200


@pytest.fixture
def gate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")

    def make(access: Dict[str, Any]) -> AccessGate:
        guard = Guard(parse_privacy_config({"access": access}))
        made = AccessGate(guard, "rest")
        made.guard = guard  # type: ignore[attr-defined]
        return made

    return make


def upload(name: str, data: bytes, text: str = "") -> Dict[str, Any]:
    return {"sender": "c1", "message": text, "attachment": {"filename": name, "content_base64": base64.b64encode(data).decode()}}


def test_an_empty_allowlist_allows_any_address_and_tells_actions_the_client_address(gate) -> None:
    decision = gate({}).decide("203.0.113.9", {}, {"sender": "c1", "message": "hi"})
    assert decision.allowed and decision.context == {"client_ip": "203.0.113.9", "management_allowed": True}


def test_addresses_outside_the_api_allowlist_get_403_and_are_audited(gate) -> None:
    g = gate({"api_ip_allowlist": ["10.0.0.0/8", "2001:db8::/32"]})
    assert g.decide("10.1.2.3", {}, None).allowed
    assert g.decide("2001:db8::7", {}, None).allowed
    refused = g.decide("198.51.100.7", {}, None)
    assert refused.status == 403 and refused.body["error"] == "forbidden"
    entries = g.guard.state.audit.entries(action="access.ip_refused")
    assert len(entries) == 1 and "198.51.100.7" not in str(entries[0])


def test_only_the_trusted_number_of_forwarded_for_hops_is_believed(gate) -> None:
    g = gate({"api_ip_allowlist": ["203.0.113.0/24"], "trusted_proxy_hops": 1})
    # the proxy (peer 127.0.0.1) appended the client it saw; what the client wrote further left is ignored
    assert g.decide("127.0.0.1", {"x-forwarded-for": "198.51.100.7, 203.0.113.9"}, None).allowed
    assert g.decide("127.0.0.1", {"x-forwarded-for": "203.0.113.9, 198.51.100.7"}, None).status == 403
    # without trusted hops the header is ignored entirely
    assert gate({"api_ip_allowlist": ["203.0.113.0/24"]}).decide("127.0.0.1", {"x-forwarded-for": "203.0.113.9"}, None).status == 403


def test_management_allowlist_only_flags_the_request(gate) -> None:
    g = gate({"management_ip_allowlist": ["192.0.2.0/24"]})
    assert g.decide("192.0.2.5", {}, None).context["management_allowed"] is True
    outside = g.decide("198.51.100.7", {}, None)
    assert outside.allowed and outside.context["management_allowed"] is False


def test_tokens_are_required_once_configured_and_revocation_is_immediate(gate) -> None:
    g = gate({})
    assert g.decide("127.0.0.1", {}, None).allowed  # no tokens yet: open
    store = TokenStore(g.guard.state.db, g.guard.state.audit)
    token, record = store.create("ci", actor="test")
    assert g.decide("127.0.0.1", {"authorization": f"Bearer {token}"}, None).allowed
    assert g.decide("127.0.0.1", {}, None).body["reason"] == "missing_token"
    assert g.decide("127.0.0.1", {"authorization": "Bearer rg_wrong"}, None).status == 401
    store.revoke(record.id, actor="test")
    revoked = g.decide("127.0.0.1", {"authorization": f"Bearer {token}"}, None)
    assert revoked.status == 401 and revoked.body["reason"] == "invalid_token"


@pytest.mark.parametrize(
    "payload, expected",
    [
        (upload("report.pdf", EXE), "contains a program"),
        (upload("photo.png", PDF), "not a valid .png"),
        (upload("tool.exe", EXE), "File type .exe is not allowed"),
        (upload("big.pdf", b"%PDF-" + b"0" * (1024 * 1024 + 10)), "too large"),
        ({"sender": "c1", "attachment": {"filename": "a.pdf", "content_base64": "%%%"}}, "could not be read"),
    ],
)
def test_refused_uploads_get_a_bot_style_answer_naming_the_rule(gate, payload, expected: str) -> None:
    decision = gate({"content": {"max_file_mb": 1}}).decide("127.0.0.1", {}, payload)
    assert decision.status == 200 and not decision.allowed
    assert decision.body[0]["recipient_id"] == "c1" and expected in decision.body[0]["text"]


def test_an_accepted_upload_reaches_rasa_only_as_type_and_size(gate) -> None:
    decision = gate({}).decide("127.0.0.1", {}, upload("invoice.pdf", PDF))
    assert decision.allowed and decision.context["attachment"] == {"type": "pdf", "bytes": len(PDF)}


def test_uploads_switched_off_and_blocked_links_are_refused(gate) -> None:
    off = gate({"content": {"customer_uploads": False}}).decide("127.0.0.1", {}, upload("invoice.pdf", PDF))
    assert "not enabled" in off.body[0]["text"]
    links = gate({"content": {"links_allowed": False}})
    assert "Links are not allowed" in links.decide("127.0.0.1", {}, {"sender": "c1", "message": "see www.example.com"}).body[0]["text"]
    assert links.decide("127.0.0.1", {}, {"sender": "c1", "message": "my order is late"}).allowed


def test_a_sender_id_shaped_like_a_stored_pseudonym_is_refused(gate) -> None:
    g = gate({})
    stored = g.guard.conversation_ids.stored("whatsapp:+31612345670")
    refused = g.decide("127.0.0.1", {}, {"sender": stored, "message": "hi"})
    assert refused.status == 400 and refused.body["error"] == "reserved_sender"
    assert g.decide("127.0.0.1", {}, {"sender": "cid-not-a-pseudonym", "message": "hi"}).allowed
