"""The guarded socket.io channel end to end: the real trained bot under `rasa run` + `rasa run actions`, and a real
python-socketio client on loopback. What Rasa stores and what the action server receives is masked; an idle warning
pushed later reaches the session's room after a reconnect; links, disguised uploads, foreign addresses and missing
tokens are refused before Rasa sees anything.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import sqlite3
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import socketio
import yaml

from tests import harness
from tests.pii.generators import card_number, grouped, iban

pytestmark = pytest.mark.e2e

IDLE_TIMEOUT, WARNING_LEAD = 8, 4
WARNING = "Still there? (socket test)"
GREETING = "How can I help you?"
RNG = random.Random(20240604)
CARD, IBAN = card_number(RNG), iban(RNG, "NL")


class ChatClient:
    """A customer's chat widget: a python-socketio client speaking Rasa's socket.io protocol."""

    def __init__(self) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        self.received: "asyncio.Queue[Dict[str, Any]]" = asyncio.Queue()
        self.confirmed: "asyncio.Queue[str]" = asyncio.Queue()
        self.sio.on("bot_uttered", handler=self.received.put)
        self.sio.on("session_confirm", handler=self.confirmed.put)
        self.refusals: List[Any] = []
        self.sio.on("connect_error", handler=self.refusals.append)

    async def connect(self, url: str, auth: Optional[Dict[str, str]] = None, headers: Optional[Dict[str, str]] = None,
                      session_id: Optional[str] = None) -> str:
        # Long-polling: python-engineio's websocket client needs aiohttp >= 3.10, Rasa 3.6 pins 3.9.
        await self.sio.connect(url, socketio_path="/socket.io", auth=auth, headers=headers or {}, wait_timeout=10,
                               transports=["polling"])
        await self.sio.emit("session_request", {"session_id": session_id})
        self.session_id = await asyncio.wait_for(self.confirmed.get(), 10)
        return self.session_id

    async def close(self) -> None:
        """Leave at once (engine.io close packet): a plain disconnect then waits up to 25 s for the pending long poll."""
        await self.sio.eio.disconnect(abort=True)

    async def say(self, text: str, **extra: Any) -> None:
        await self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id, **extra})

    async def wait_for(self, wanted: str, timeout_s: float) -> List[str]:
        """Texts received until one contains ``wanted``."""
        texts: List[str] = []
        async def collect() -> None:
            while not any(wanted in t for t in texts):
                texts.append((await self.received.get()).get("text", ""))
        try:
            await asyncio.wait_for(collect(), timeout_s)
        except asyncio.TimeoutError:
            raise AssertionError(f"no {wanted!r} within {timeout_s} s; got {texts}") from None
        return texts


@pytest.fixture(scope="module")
def stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.RasaStack]:
    workdir = tmp_path_factory.mktemp("socketio")
    privacy = yaml.safe_load((harness.ROOT / "privacy.yml").read_text())
    privacy.setdefault("session", {}).update(
        idle_timeout_seconds=IDLE_TIMEOUT, warning_lead_seconds=WARNING_LEAD, warning_message=WARNING
    )
    access = privacy.setdefault("access", {})
    access.update(api_ip_allowlist=["127.0.0.0/8", "203.0.113.0/24"], trusted_proxy_hops=1)
    access.setdefault("content", {}).update(links_allowed=False)
    config = workdir / "privacy.yml"
    config.write_text(yaml.safe_dump(privacy))
    running = harness.RasaStack(model=trained_model, workdir=workdir, extra_env={"RASA_GUARD_CONFIG": str(config)})
    with harness.RecordingProxy(running.actions_url, workdir / "action-requests.jsonl") as proxy:
        running.action_endpoint_url = proxy.url
        with running:
            yield running


def stored_events(stack: harness.RasaStack, sender: str) -> List[Dict[str, Any]]:
    with sqlite3.connect(stack.tracker_db) as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? ORDER BY id", (stack.stored_id(sender),)
        ).fetchall()
    return [json.loads(row[0]) for row in rows]


def variants(value: str) -> List[str]:
    return [value, grouped(value), grouped(value, separator="-")]


def test_a_message_with_pii_is_masked_before_rasa_the_tracker_and_the_action_server(stack) -> None:
    async def chat() -> tuple:
        client = ChatClient()
        try:
            session_id = await client.connect(stack.url)
            await client.say(f"hello, my card is {grouped(CARD)} and my iban is {IBAN}")
            answers = await client.wait_for("", 30)  # the bot's first answer, pushed on the socket
            await client.say("I want to talk to a human agent")  # action_handoff: the action server gets the tracker
            return session_id, answers + await client.wait_for("", 30)
        finally:
            await client.close()

    session_id, answers = asyncio.run(chat())
    assert answers and all(CARD not in a and IBAN not in a for a in answers)

    events = stored_events(stack, session_id)
    user = [e for e in events if e["event"] == "user"][0]
    assert f"**** **** **** {CARD[-4:]}" in user["text"] and IBAN[-4:] in user["text"]
    assert user["input_channel"] == "rest"  # the settings scope from credentials.yml, not the client's choice
    assert any(e["event"] == "bot" for e in events)
    tracker_bytes = stack.tracker_db.read_bytes()
    bodies = (stack.workdir / "action-requests.jsonl").read_text()
    assert f"**** **** **** {CARD[-4:]}" in bodies  # the action server's copy of the tracker holds the masked text
    for value in variants(CARD) + variants(IBAN):
        assert value.encode() not in tracker_bytes, "an original value reached the tracker store"
        assert value not in bodies, "an original value reached the action server"


def test_an_idle_warning_pushed_later_reaches_the_session_after_a_reconnect(stack) -> None:
    async def chat() -> List[str]:
        first = ChatClient()
        session_id = await first.connect(stack.url)
        await first.say("hi")
        await first.wait_for(GREETING, 30)
        await first.close()
        again = ChatClient()  # a new socket (new sid) resuming the same session
        try:
            assert await again.connect(stack.url, session_id=session_id) == session_id
            return await again.wait_for(WARNING, IDLE_TIMEOUT + 20)
        finally:
            await again.close()

    assert WARNING in asyncio.run(chat())[-1]


def test_a_link_and_a_disguised_upload_get_the_refusal_and_nothing_is_stored(stack) -> None:
    exe = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 512).decode()

    async def chat() -> tuple:
        client = ChatClient()
        try:
            session_id = await client.connect(stack.url)
            await client.say("please look at www.example.com/my-order")
            link = await client.wait_for("Links are not allowed", 15)
            await client.say("my invoice", attachment={"filename": "invoice.pdf", "content_base64": exe})
            upload = await client.wait_for("contains a program", 15)
            return session_id, link + upload
        finally:
            await client.close()

    session_id, answers = asyncio.run(chat())
    assert len(answers) == 2  # the refusals and nothing else
    assert stored_events(stack, session_id) == []


async def refusal(url: str, **connect: Any) -> Dict[str, Any]:
    """The JSON error a refused connection carries (socket.io ``connect_error``). The client library then waits for
    its pending long poll (about 25 s), so tests run their refused connections side by side."""
    client = ChatClient()
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(url, **connect)
    assert client.refusals, "the connection failed without the server's refusal"
    return client.refusals[0]["data"]


async def greeted(url: str, **connect: Any) -> List[str]:
    client = ChatClient()
    try:
        await client.connect(url, **connect)
        await client.say("hi")
        return await client.wait_for(GREETING, 30)
    finally:
        await client.close()


def test_a_connection_from_outside_the_allowlist_is_refused(stack) -> None:
    async def both() -> tuple:
        return await asyncio.gather(
            refusal(stack.url, headers={"X-Forwarded-For": "198.51.100.7"}),
            greeted(stack.url, headers={"X-Forwarded-For": "203.0.113.9"}),  # the trusted proxy's entry is believed
        )

    refused, answers = asyncio.run(both())
    assert refused["error"] == "forbidden" and answers


def test_once_tokens_exist_a_connection_without_a_valid_token_is_refused(stack) -> None:
    """Last in the module: a created token makes every later connection need one."""
    from plugin.policy.audit import AuditLog
    from plugin.storage.db import StateDB
    from plugin.storage.token_store import TokenStore

    db = StateDB.open(f"sqlite:///{stack.workdir / 'state.db'}")
    token, _ = TokenStore(db, AuditLog(db)).create("widget", actor="e2e-admin")

    async def all_three() -> tuple:
        return await asyncio.gather(
            refusal(stack.url), refusal(stack.url, auth={"token": "rg_not-a-token"}),
            greeted(stack.url, auth={"token": token}),
        )

    missing, invalid, answers = asyncio.run(all_three())
    assert missing["reason"] == "missing_token" and invalid["reason"] == "invalid_token"
    assert answers
