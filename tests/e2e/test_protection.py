"""Customer protection end to end, with the real trained bot, `rasa run` and `rasa run actions` on loopback:
blacklist (file and runtime change), idle warning and timeout pushed through the callback channel, the lazy timeout
after a restart, the API IP allowlist, API tokens with rotation grace, and refused uploads.
"""

from __future__ import annotations

import base64
import http.server
import json
import sqlite3
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from tests import harness

pytestmark = pytest.mark.e2e

IDLE_TIMEOUT, WARNING_LEAD = 6, 3
BLOCK_MESSAGE = "Sorry, this conversation cannot continue."
WARNING, TIMEOUT = "Still there? (test)", "Closed for inactivity (test)."
BLOCKED_UK = "+442079460018"  # Ofcom drama-range number, blocked through the +44 country code


class CallbackRecorder:
    """The customer's chat front-end: an HTTP server on loopback that keeps every message the bot pushes."""

    def __init__(self) -> None:
        self.messages: List[Dict[str, Any]] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.messages.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return None

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", harness.free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/bot"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, recipient: str) -> List[str]:
        return [m.get("text", "") for m in self.messages if m.get("recipient_id") == recipient]

    def wait_for(self, recipient: str, text: str, timeout_s: float) -> float:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if text in self.texts(recipient):
                return time.monotonic()
            time.sleep(0.2)
        raise AssertionError(f"no {text!r} pushed to {recipient} within {timeout_s} s; got {self.texts(recipient)}")


@pytest.fixture(scope="module")
def recorder() -> Iterator[CallbackRecorder]:
    made = CallbackRecorder()
    yield made
    made.server.shutdown()


@pytest.fixture(scope="module")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory, recorder: CallbackRecorder) -> Iterator[harness.RasaStack]:
    workdir = tmp_path_factory.mktemp("protection")
    privacy = yaml.safe_load((harness.ROOT / "privacy.yml").read_text())
    privacy.setdefault("blacklist", {}).update(country_codes=["+44"], message=BLOCK_MESSAGE)
    privacy.setdefault("session", {}).update(
        idle_timeout_seconds=IDLE_TIMEOUT, warning_lead_seconds=WARNING_LEAD, warning_message=WARNING, timeout_message=TIMEOUT
    )
    access = privacy.setdefault("access", {})
    access.update(api_ip_allowlist=["127.0.0.0/8", "203.0.113.0/24"], trusted_proxy_hops=1)
    access.setdefault("content", {}).update(max_file_mb=1)
    config = workdir / "privacy.yml"
    config.write_text(yaml.safe_dump(privacy))
    with harness.RasaStack(model=trained_model, workdir=workdir, callback_url=recorder.url,
                           extra_env={"RASA_GUARD_CONFIG": str(config)}) as running:
        running.privacy_file = config  # type: ignore[attr-defined]
        yield running


def state(stack: harness.RasaStack) -> Any:
    """The stack's plugin state, opened from the test process as the admin chat or the CLI would open it."""
    from plugin.policy.audit import AuditLog
    from plugin.policy.settings import load_privacy_config
    from plugin.storage.db import StateDB
    from plugin.storage.settings_store import SettingsStore
    from plugin.storage.token_store import TokenStore

    db = StateDB.open(f"sqlite:///{stack.workdir / 'state.db'}")
    audit = AuditLog(db)
    return type("State", (), {"db": db, "audit": audit, "settings": SettingsStore(db, audit), "tokens": TokenStore(db, audit),
                              "config": load_privacy_config(stack.privacy_file)})  # type: ignore[attr-defined]


def stored_events(stack: harness.RasaStack, sender: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(stack.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (stack.stored_id(sender),)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def texts(messages: List[Dict[str, Any]]) -> List[str]:
    return [m.get("text", "") for m in messages]


def sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def test_a_blacklisted_number_gets_the_message_once_and_nothing_else(stack) -> None:
    assert texts(stack.send(BLOCKED_UK, "hi, I want to talk to a human agent")) == [BLOCK_MESSAGE]
    assert stack.send(BLOCKED_UK, "hello??") == []  # closed: no second refusal, no answer

    events = stored_events(stack, BLOCKED_UK)
    actions = {e["name"] for e in events if e["event"] == "action"}
    assert actions <= {"action_session_start", "action_listen", "action_guard_turn"}
    assert [e["text"] for e in events if e["event"] == "bot"] == [BLOCK_MESSAGE]
    # Rasa itself records the session-start metadata; no slot of the bot is ever set
    assert [e["name"] for e in events if e["event"] == "slot" and e["name"] != "session_started_metadata"] == []
    assert sum(e["event"] == "rewind" for e in events) == 2  # each message reverted: no NLU result acted on
    assert not any(e["event"] == "reminder" for e in events)


def test_a_blacklist_change_at_runtime_applies_to_the_next_message(stack) -> None:
    customer = "+31612345678"
    assert any("How can I help you?" in t for t in texts(stack.send(customer, "hi")))
    plugin = state(stack)
    change = plugin.settings.add_to_list(plugin.config, "blacklist.phone_numbers", "06-1234 5678")
    plugin.settings.apply(change, actor="e2e-admin")
    assert texts(stack.send(customer, "hello again")) == [BLOCK_MESSAGE]


def test_an_idle_customer_gets_the_warning_then_the_timeout_pushed(stack, recorder: CallbackRecorder) -> None:
    customer = sender("idle")
    sent_at = time.monotonic()
    reply = stack.post({"sender": customer, "message": "hi"}, path="guard_callback")
    assert reply.status_code == 200 and reply.text == "success"
    recorder.wait_for(customer, "Hello! I'm the assistant of this service. How can I help you?", 30)
    warned_at = recorder.wait_for(customer, WARNING, IDLE_TIMEOUT + 20)
    closed_at = recorder.wait_for(customer, TIMEOUT, IDLE_TIMEOUT + 20)
    assert IDLE_TIMEOUT - WARNING_LEAD - 1 <= warned_at - sent_at < closed_at - sent_at
    assert closed_at - sent_at >= IDLE_TIMEOUT - 1
    time.sleep(1)  # the reminder's turn is saved after its messages are pushed
    events = stored_events(stack, customer)
    assert [e["event"] for e in events].count("session_started") == 2, [e["event"] for e in events]  # session reset
    assert recorder.texts(customer).count(WARNING) == 1


def test_a_customer_who_answers_the_warning_is_not_timed_out(stack, recorder: CallbackRecorder) -> None:
    customer = sender("active")
    stack.post({"sender": customer, "message": "hi"}, path="guard_callback")
    recorder.wait_for(customer, WARNING, IDLE_TIMEOUT + 20)
    stack.post({"sender": customer, "message": "what can you do?"}, path="guard_callback")
    time.sleep(WARNING_LEAD + 1.5)  # the first timeout would have fired by now
    assert TIMEOUT not in recorder.texts(customer)


def test_after_a_restart_the_next_message_finds_the_session_expired(stack) -> None:
    customer = sender("lazy")
    sent_at = time.monotonic()
    assert any("How can I help you?" in t for t in texts(stack.send(customer, "hi")))
    stack.restart_rasa()  # the reminders die with the process
    time.sleep(max(0.0, sent_at + IDLE_TIMEOUT + 1 - time.monotonic()))
    reply = texts(stack.send(customer, "hello"))
    assert reply[0] == TIMEOUT and any("How can I help you?" in t for t in reply[1:])
    events = stored_events(stack, customer)
    assert not any(e["event"] == "user" and "EXTERNAL_idle" in (e.get("text") or "") for e in events)
    assert [e["event"] for e in events].count("session_started") == 2


def test_requests_from_outside_the_api_allowlist_get_403(stack) -> None:
    refused = stack.post({"sender": sender("ip"), "message": "hi"}, headers={"X-Forwarded-For": "198.51.100.7"})
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"
    allowed = stack.post({"sender": sender("ip"), "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.9"})
    assert allowed.status_code == 200
    # a client cannot spoof its way in: only the right-most (trusted proxy's) entry counts
    spoofed = stack.post({"sender": sender("ip"), "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.9, 198.51.100.7"})
    assert spoofed.status_code == 403


def test_oversized_and_disguised_uploads_are_refused_and_nothing_is_stored(stack) -> None:
    for filename, data, reason in [
        ("scan.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 1), "too large"),
        ("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 512, "contains a program"),
    ]:
        customer = sender("upload")
        payload = {"sender": customer, "message": "here is my file",
                   "attachment": {"filename": filename, "content_base64": base64.b64encode(data).decode()}}
        reply = stack.post(payload)
        assert reply.status_code == 200 and reason in reply.json()[0]["text"]
        assert stored_events(stack, customer) == []


def test_api_tokens_missing_revoked_and_rotated_with_grace(stack) -> None:
    plugin = state(stack)
    old_token, old_record = plugin.tokens.create("e2e", actor="e2e-admin")
    auth = lambda token: {"Authorization": f"Bearer {token}"}  # noqa: E731
    message = lambda: {"sender": sender("token"), "message": "hi"}  # noqa: E731
    assert stack.post(message()).status_code == 401
    assert stack.post(message(), headers=auth("rg_not-a-token")).status_code == 401
    assert stack.post(message(), headers=auth(old_token)).status_code == 200

    new_token, new_record = plugin.tokens.rotate(3, actor="e2e-admin")
    assert stack.post(message(), headers=auth(old_token)).status_code == 200  # grace period
    assert stack.post(message(), headers=auth(new_token)).status_code == 200
    time.sleep(3.5)
    assert stack.post(message(), headers=auth(old_token)).status_code == 401
    assert stack.post(message(), headers=auth(new_token)).status_code == 200

    plugin.tokens.revoke(new_record.id, actor="e2e-admin")
    refused = stack.post(message(), headers=auth(new_token))
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
