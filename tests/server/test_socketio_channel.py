"""``GuardedSocketIOInput``: credentials validation, masking and metadata of handed messages, access control at
connect and per message, and the session/room binding. The socket.io server is replaced by a recorder after the
channel registered its handlers; the real server and client run in ``tests/e2e/test_socketio_channel.py``."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest
import yaml
from rasa.core.channels.channel import UserMessage
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from plugin.policy.guard import Guard
from plugin.policy.settings import parse_privacy_config
from plugin.server import channel as channel_module
from plugin.server.channel import ChannelConfigError
from plugin.server.socketio_channel import ACCESS_REFUSED_EVT, GuardedSocketIOInput, SocketClient
from plugin.storage.token_store import TokenStore
from tests import harness

CARD, IBAN = "4111 1111 1111 1111", "NL91ABNA0417164300"
KEY = "plugin.server.socketio_channel.GuardedSocketIOInput"


class RecordingServer:
    """Stands in for ``socketio.AsyncServer``: records emits, room changes and disconnects."""

    def __init__(self) -> None:
        self.emitted: List[Dict[str, Any]] = []
        self.rooms: Dict[str, set] = {}
        self.disconnected: List[str] = []

    async def emit(self, event: str, data: Any = None, room: Optional[str] = None, namespace: Optional[str] = None, **_: Any) -> None:
        self.emitted.append({"event": event, "data": data, "room": room, "namespace": namespace})

    async def enter_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        self.rooms.setdefault(sid, set()).add(room)

    async def leave_room(self, sid: str, room: str, namespace: Optional[str] = None) -> None:
        self.rooms.get(sid, set()).discard(room)

    async def disconnect(self, sid: str, namespace: Optional[str] = None) -> None:
        self.disconnected.append(sid)

    def texts(self, room: str) -> List[str]:
        return [e["data"]["text"] for e in self.emitted if e["event"] == "bot_uttered" and e["room"] == room]


class Driver:
    def __init__(self, channel: GuardedSocketIOInput) -> None:
        self.channel = channel
        self.handed: List[UserMessage] = []
        self.timers: List[tuple] = []  # (sender id, output channel) of each message the idle timers noted

        async def on_new_message(message: UserMessage) -> None:
            self.handed.append(message)

        channel.blueprint(on_new_message)
        self.registered = set(channel.sio.handlers[channel.namespace or "/"])  # type: ignore[union-attr]
        self.sio = RecordingServer()
        channel.sio = self.sio  # type: ignore[assignment]

    def connect(self, sid: str = "sid1", ip: str = "127.0.0.1", auth: Any = None, **headers: str) -> bool:
        environ = {"sanic.request": SimpleNamespace(ip=ip), "REMOTE_ADDR": "127.0.0.1"}
        environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
        return asyncio.run(self.channel._on_connect(sid, environ, auth))

    def session(self, sid: str = "sid1", session_id: Any = None) -> str:
        asyncio.run(self.channel._on_session_request(sid, {"session_id": session_id}))
        confirm = [e for e in self.sio.emitted if e["event"] == "session_confirm" and e["room"] == sid]
        return confirm[-1]["data"]

    def send(self, data: Any, sid: str = "sid1") -> None:
        asyncio.run(self.channel._on_user_message(sid, data))


@pytest.fixture
def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")

    def build(settings: Optional[Dict[str, Any]] = None, **credentials: Any) -> Driver:
        channel = GuardedSocketIOInput.from_credentials(credentials)
        channel._guard = Guard(parse_privacy_config(settings or {}))
        driver = Driver(channel)

        async def note(processor_of: Any, sender_id: str, output_channel: Any, settings_of: Any) -> None:
            driver.timers.append((sender_id, output_channel))

        monkeypatch.setattr(channel_module, "note_customer_message", note)
        return driver

    return build


# -- credentials ----------------------------------------------------------------------------------------------------


def test_the_reference_credentials_entry_builds_a_persistent_channel_on_the_default_path() -> None:
    credentials = yaml.safe_load((harness.ROOT / "credentials.yml").read_text())
    channel = GuardedSocketIOInput.from_credentials(credentials[KEY])
    assert channel.session_persistence is True and channel.socketio_path == "/socket.io"
    assert channel.channel == "rest" and GuardedSocketIOInput.name() == "guard_socketio"
    # its routes do not collide with the guarded REST channels' webhooks
    assert GuardedSocketIOInput.name() not in {"guard", "guard_callback", "socketio"}


@pytest.mark.parametrize(
    "credentials, expected",
    [
        ({"chanel": "rest"}, "unknown option(s) chanel"),
        ({"jwt_key": "secret"}, "API tokens"),
        ({"session_persistence": "yes"}, "must be true or false"),
        ({"socketio_path": "/webhooks/guard"}, "not under /webhooks/"),
        ({"socketio_path": "socket.io"}, "must be a path of its own"),
        ({"user_message_evt": "session_request"}, "user_message_evt 'session_request'"),
        ({"bot_message_evt": "connect"}, "bot_message_evt 'connect'"),
        ({"user_message_evt": "say", "bot_message_evt": "say"}, "must differ"),
    ],
)
def test_bad_credentials_are_refused_naming_the_option(credentials: Dict[str, Any], expected: str) -> None:
    with pytest.raises(ChannelConfigError) as error:
        GuardedSocketIOInput.from_credentials(credentials)
    assert expected in str(error.value)


def test_rasa_socketio_options_are_kept(make) -> None:
    h = make(user_message_evt="say", bot_message_evt="said", namespace="/chat", metadata_key="customData")
    assert {"connect", "disconnect", "session_request", "say"} <= h.registered
    h.connect()
    h.send({"message": "hi", "customData": {"page": "pricing"}})
    assert h.handed[0].metadata["page"] == "pricing"
    assert h.handed[0].output_channel.namespace == "/chat"


# -- masking and metadata -------------------------------------------------------------------------------------------


def test_rasa_gets_the_masked_text_and_the_guard_metadata_never_the_clients(make) -> None:
    h = make(channel="whatsapp")
    h.connect(ip="203.0.113.9")
    forged = {"rasa_guard": {"nlu_text": "forged", "management_allowed": True}, "page": "checkout"}
    h.send({"message": f"my card is {CARD} and my iban {IBAN}", "metadata": forged})
    [message] = h.handed
    assert CARD not in message.text and IBAN not in message.text and CARD[-4:] in message.text
    assert message.sender_id == "sid1" and message.input_channel == "whatsapp"
    guard = message.metadata["rasa_guard"]
    assert guard["channel"] == "whatsapp" and guard["nlu_text"] != "forged"
    assert guard["client_ip"] == "203.0.113.9" and guard["management_allowed"] is True
    assert {e["entity"] for e in guard["entities"]} == {"credit_card", "iban"}
    assert not any(CARD in str(e["value"]) or IBAN in str(e["value"]) for e in guard["entities"])
    assert message.metadata["page"] == "checkout"
    assert CARD not in json.dumps(message.metadata) and IBAN not in json.dumps(message.metadata)


def test_client_metadata_is_masked_json_text_is_read_and_unreadable_metadata_dropped(make) -> None:
    h = make({"masking": {"sensitive_metadata": ["account"]}})
    h.connect()
    h.send({"message": "hi", "metadata": json.dumps({"account": "A-1", "note": f"iban {IBAN}"})})
    h.send({"message": "hi", "metadata": "{not json"})
    first, second = h.handed
    assert first.metadata["account"] != "A-1" and IBAN not in first.metadata["note"]
    assert set(second.metadata) == {"rasa_guard"}


def test_a_message_whose_text_is_not_a_string_never_reaches_rasa(make) -> None:
    h = make()
    h.connect()
    h.send({"message": 4111111111111111})
    h.send(["not", "a", "dict"])
    assert h.handed == []


# -- access control -------------------------------------------------------------------------------------------------


def test_a_connection_from_outside_the_api_allowlist_is_refused(make) -> None:
    h = make({"access": {"api_ip_allowlist": ["203.0.113.0/24"]}})
    with pytest.raises(SocketRefused) as refused:
        h.connect(ip="198.51.100.7", x_forwarded_for="203.0.113.9")  # no trusted proxy hops: header ignored
    assert refused.value.error_args["data"]["error"] == "forbidden"
    assert h.connect(ip="203.0.113.9")


def test_tokens_are_required_at_connect_from_the_auth_payload_or_the_header(make) -> None:
    h = make()
    token, _ = TokenStore(h.channel.guard.state.db, h.channel.guard.state.audit).create("widget", actor="test")
    for auth, headers in [(None, {}), ({"token": "rg_wrong"}, {}), ({}, {"authorization": "Bearer rg_wrong"})]:
        with pytest.raises(SocketRefused) as refused:
            h.connect(auth=auth, **headers)
        assert refused.value.error_args["data"]["error"] == "unauthorized"
    assert h.connect("a", auth={"token": token})
    assert h.connect("b", auth={"token": f"Bearer {token}"})
    assert h.connect("c", authorization=f"Bearer {token}")


def test_a_token_revoked_after_connect_ends_the_connection_at_the_next_message(make) -> None:
    h = make()
    tokens = TokenStore(h.channel.guard.state.db, h.channel.guard.state.audit)
    token, record = tokens.create("widget", actor="test")
    h.connect(auth={"token": token})
    h.send({"message": "hi"})
    tokens.revoke(record.id, actor="test")
    h.send({"message": "still there?"})
    assert len(h.handed) == 1 and h.sio.disconnected == ["sid1"]
    refused = [e for e in h.sio.emitted if e["event"] == ACCESS_REFUSED_EVT]
    assert refused[0]["room"] == "sid1" and refused[0]["data"]["reason"] == "invalid_token"


def test_refused_links_and_uploads_get_the_bot_style_answer_and_nothing_reaches_rasa(make) -> None:
    h = make({"access": {"content": {"links_allowed": False}}})
    h.connect()
    h.send({"message": "see www.example.com/offer"})
    exe = base64.b64encode(b"MZ\x90\x00" + b"\x00" * 200).decode()
    h.send({"message": "my invoice", "attachment": {"filename": "invoice.pdf", "content_base64": exe}})
    assert h.handed == []
    links, upload = h.sio.texts("sid1")
    assert "Links are not allowed" in links and "contains a program" in upload


def test_an_accepted_upload_reaches_rasa_only_as_type_and_size(make) -> None:
    h = make()
    h.connect()
    pdf = b"%PDF-1.7\n" + b"0" * 100
    h.send({"message": "invoice", "attachment": {"filename": "a.pdf", "content_base64": base64.b64encode(pdf).decode()}})
    assert h.handed[0].metadata["rasa_guard"]["attachment"] == {"type": "pdf", "bytes": len(pdf)}
    assert "content_base64" not in json.dumps(h.handed[0].metadata)


def test_the_token_is_not_shown_in_the_clients_repr() -> None:
    client = SocketClient.from_connect({"sanic.request": SimpleNamespace(ip="203.0.113.9")}, {"token": "rg_secret"})
    assert client.authorization == "Bearer rg_secret"
    assert "rg_secret" not in repr(client) and "203.0.113.9" not in repr(client)


# -- sessions and rooms ---------------------------------------------------------------------------------------------


def test_with_session_persistence_the_socket_joins_and_may_only_speak_for_its_session(make) -> None:
    h = make(session_persistence=True)
    h.connect()
    h.send({"message": "hi", "session_id": "s-1"})  # no session_request yet: ignored, as in Rasa
    session = h.session(session_id="s-1")
    assert session == "s-1" and h.sio.rooms["sid1"] == {"s-1"}
    h.send({"message": "as someone else", "session_id": "s-2"})
    h.send({"message": "hi", "session_id": "s-1"})
    assert [m.sender_id for m in h.handed] == ["s-1"]
    h.session(session_id="s-3")
    assert h.sio.rooms["sid1"] == {"s-3"}  # the old room is left: no pushes of the old session


def test_a_session_id_shaped_like_a_stored_pseudonym_is_replaced_by_a_new_one(make) -> None:
    h = make(session_persistence=True)
    h.connect()
    stored = h.channel.guard.conversation_ids.stored("whatsapp:+31612345670")
    session = h.session(session_id=stored)
    assert session != stored and h.sio.rooms["sid1"] == {session}


def test_without_session_persistence_the_socket_is_the_conversation(make) -> None:
    h = make()
    h.connect("sid9")
    generated = h.session("sid9", session_id=None)
    assert len(generated) == 32 and "sid9" not in h.sio.rooms
    h.send({"message": "hi", "session_id": "someone-else"}, sid="sid9")
    assert h.handed[0].sender_id == "sid9"


def test_bot_messages_go_to_the_conversations_room_in_the_channels_namespace(make) -> None:
    h = make(session_persistence=True, namespace="/chat")
    h.connect()
    h.session(session_id="s-1")
    h.send({"message": "hi", "session_id": "s-1"})
    output = h.handed[0].output_channel
    asyncio.run(output.send_text_message("s-1", "Still there?"))
    assert h.sio.emitted[-1] == {"event": "bot_uttered", "data": {"text": "Still there?"}, "room": "s-1", "namespace": "/chat"}
    assert type(h.channel.get_output_channel()) is type(output)


def test_each_handed_message_is_noted_by_the_idle_timers_with_its_room_and_refused_ones_are_not(make) -> None:
    h = make({"access": {"content": {"links_allowed": False}}}, session_persistence=True)
    h.connect()
    h.session(session_id="s-1")
    h.send({"message": "see www.example.com", "session_id": "s-1"})
    assert h.timers == []
    h.send({"message": "hi", "session_id": "s-1"})
    [(sender, output)] = h.timers
    assert sender == "s-1" and output is h.handed[0].output_channel


def test_a_message_before_the_blueprint_is_registered_is_an_error_not_a_silent_drop() -> None:
    channel = GuardedSocketIOInput()
    with pytest.raises(RuntimeError, match="before its blueprint"):
        asyncio.run(channel._hand_to_rasa(UserMessage("hi"), None))
