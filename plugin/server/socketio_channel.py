"""``GuardedSocketIOInput``: Rasa's socket.io channel with real-time masking and rasa-guard's access control.

credentials.yml::

    plugin.server.socketio_channel.GuardedSocketIOInput:
      channel: rest               # the settings scope (privacy.yml ``channels:``), never taken from the client
      session_persistence: true   # room = session id: pushes (idle warning, timeout) reach a reconnected client
      # user_message_evt, bot_message_evt, namespace, socketio_path, metadata_key: as in Rasa's ``socketio`` channel

The same protocol as Rasa's ``socketio`` channel (``session_request`` -> ``session_confirm``, ``user_uttered`` ->
``bot_uttered``), so existing widgets keep working. Differences, all for privacy:

- the text Rasa stores, logs and sends to the action server is the ``storage`` rendering (``protected_user_message``);
  client metadata is masked and its ``rasa_guard`` entry dropped;
- the connection is refused (socket.io ``connect_error``) for an address outside ``access.api_ip_allowlist`` and,
  once API tokens exist, without a valid one: ``auth: {"token": "<token>"}`` or an ``Authorization: Bearer`` header.
  Every message is checked again (a revoked token ends the connection: ``access_refused`` event, then disconnect);
- a disallowed upload (``{"message", "attachment": {"filename", "content_base64"}}``) or link is answered with the
  bot-style refusal and nothing reaches Rasa;
- under ``session_persistence`` a socket may only send as the session it confirmed (Rasa trusts any ``session_id``);
- Rasa's ``jwt_key`` is refused in favour of the API tokens above.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError as SocketRefused

from plugin.policy.event_masking import GUARD_METADATA_KEY
from plugin.policy.guard import Guard, current_guard
from plugin.server.access import ATTACHMENT_KEY, AccessDecision, AccessGate
from plugin.server.channel import ChannelConfigError, HandsToRasa, protected_user_message
from plugin.storage.conversation_ids import is_pseudonym

logger = logging.getLogger(__name__)

ALLOWED_CREDENTIALS = (
    "channel", "user_message_evt", "bot_message_evt", "namespace", "session_persistence", "socketio_path", "metadata_key",
)
ACCESS_REFUSED_EVT = "access_refused"
# Events the channel handles itself: a configured message event with one of these names would shadow it.
RESERVED_EVENTS = ("connect", "connect_error", "disconnect", "message", "session_request", "session_confirm", ACCESS_REFUSED_EVT)
MAX_SESSION_ID = 255  # Rasa's SQL tracker store keeps sender ids in a String(255) column

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class SocketClient:
    """What the access checks need from a socket's connect request, kept for its later messages."""

    peer_ip: str = field(repr=False)
    forwarded_for: Optional[str] = field(default=None, repr=False)
    authorization: Optional[str] = field(default=None, repr=False)
    session_id: Optional[str] = None

    @classmethod
    def from_connect(cls, environ: Mapping[str, Any], auth: Any) -> "SocketClient":
        """Peer address from Sanic (engine.io's Sanic driver fakes ``REMOTE_ADDR`` as 127.0.0.1); the token from the
        socket.io ``auth`` payload (browsers cannot set headers on a websocket), else the ``Authorization`` header."""
        request = environ.get("sanic.request")
        token = auth.get("token") if isinstance(auth, dict) else None
        if isinstance(token, str) and token.strip():
            authorization: Optional[str] = token if token.lower().startswith("bearer ") else f"Bearer {token}"
        else:
            authorization = environ.get("HTTP_AUTHORIZATION")
        return cls(
            peer_ip=str(getattr(request, "ip", "") or ""),  # unknown address: allowed only while no allowlist is set
            forwarded_for=environ.get("HTTP_X_FORWARDED_FOR"),
            authorization=authorization,
        )

    @property
    def headers(self) -> Dict[str, str]:
        found = {"authorization": self.authorization, "x-forwarded-for": self.forwarded_for}
        return {name: value for name, value in found.items() if value is not None}


class GuardedSocketIOOutput(SocketIOOutput):
    """Rasa's socket.io output, emitting in the channel's namespace (Rasa's always emits in ``/``)."""

    def __init__(self, sio: AsyncServer, bot_message_evt: Text, namespace: Optional[Text] = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.namespace = namespace

    async def _send_message(self, socket_id: Text, response: Any) -> None:
        await self.sio.emit(self.bot_message_evt, response, room=socket_id, namespace=self.namespace)

    async def send_custom_json(self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any) -> None:
        json_message.setdefault("namespace", self.namespace)
        await super().send_custom_json(recipient_id, json_message, **kwargs)


class GuardedSocketIOInput(HandsToRasa, SocketIOInput):
    """The guarded socket.io channel; health route ``/webhooks/guard_socketio/``, socket.io at ``socketio_path``."""

    @classmethod
    def name(cls) -> Text:
        return "guard_socketio"

    def __init__(
        self,
        channel: Text = "rest",
        user_message_evt: Text = "user_uttered",
        bot_message_evt: Text = "bot_uttered",
        namespace: Optional[Text] = None,
        session_persistence: bool = False,
        socketio_path: Text = "/socket.io",
        metadata_key: Text = "metadata",
        guard: Optional[Guard] = None,
    ) -> None:
        super().__init__(user_message_evt, bot_message_evt, namespace, session_persistence, socketio_path,
                         jwt_key=None, metadata_key=metadata_key)
        self.channel = channel
        self._guard = guard
        self._gate: Optional[AccessGate] = None
        self._clients: Dict[Text, SocketClient] = {}
        self._on_new_message: Optional[OnNewMessage] = None
        self._app: Optional[Sanic] = None  # the server, seen at the first connect: idle timers need its agent

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedSocketIOInput":
        credentials = dict(credentials or {})
        if "jwt_key" in credentials or "jwt_method" in credentials:
            raise ChannelConfigError(
                f"{cls.__name__} does not take jwt_key/jwt_method: clients authenticate with rasa-guard API tokens "
                "(`python -m plugin token create`; the client sends auth={'token': ...})"
            )
        unknown = sorted(set(credentials) - set(ALLOWED_CREDENTIALS))
        if unknown:
            raise ChannelConfigError(
                f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; allowed: {', '.join(ALLOWED_CREDENTIALS)}"
            )
        persistence = credentials.get("session_persistence", False)
        if not isinstance(persistence, bool):
            raise ChannelConfigError(f"session_persistence of {cls.__name__} must be true or false, not {persistence!r}")
        user_evt = _event_name(credentials, "user_message_evt", "user_uttered")
        bot_evt = _event_name(credentials, "bot_message_evt", "bot_uttered")
        if user_evt == bot_evt:
            raise ChannelConfigError(f"user_message_evt and bot_message_evt of {cls.__name__} must differ")
        path = str(credentials.get("socketio_path") or "/socket.io")
        if not path.startswith("/") or path.rstrip("/") in ("", "/webhooks") or path.startswith("/webhooks/"):
            raise ChannelConfigError(
                f"socketio_path {path!r} of {cls.__name__} must be a path of its own such as /socket.io "
                "(not / and not under /webhooks/, where the channels' webhooks live)"
            )
        return cls(
            channel=str(credentials.get("channel", "rest")),
            user_message_evt=user_evt,
            bot_message_evt=bot_evt,
            namespace=credentials.get("namespace"),
            session_persistence=persistence,
            socketio_path=path,
            metadata_key=str(credentials.get("metadata_key") or "metadata"),
        )

    @property
    def guard(self) -> Guard:
        return self._guard or current_guard()

    def _access(self, client: SocketClient, payload: Any) -> AccessDecision:
        if self._gate is None:
            self._gate = AccessGate(self.guard, self.channel)
        return self._gate.decide(client.peer_ip, client.headers, payload)

    def get_output_channel(self) -> Optional[GuardedSocketIOOutput]:
        if self.sio is None:
            return super().get_output_channel()  # Rasa's warning: no server in this process
        return GuardedSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        # Rasa's workaround for cross-origin clients: CORS is left to Sanic (`rasa run --cors`).
        self.sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        self._on_new_message = on_new_message
        webhook = SocketBlueprint(self.sio, self.socketio_path, f"guarded_socketio_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        self.sio.on("connect", handler=self._on_connect, namespace=self.namespace)
        self.sio.on("disconnect", handler=self._on_disconnect, namespace=self.namespace)
        self.sio.on("session_request", handler=self._on_session_request, namespace=self.namespace)
        self.sio.on(self.user_message_evt, handler=self._on_user_message, namespace=self.namespace)
        return webhook

    # -- socket.io events ------------------------------------------------------------------------------------------

    async def _on_connect(self, sid: Text, environ: Dict[str, Any], auth: Any = None) -> bool:
        """IP allowlist and API token; a refusal reaches the client as ``connect_error`` with the JSON error."""
        client = SocketClient.from_connect(environ, auth)
        self._app = getattr(environ.get("sanic.request"), "app", None) or self._app
        decision = self._access(client, None)
        if not decision.allowed:
            raise SocketRefused(decision.body["message"], decision.body)
        self._clients[sid] = client
        logger.debug("rasa-guard: a client connected to the guarded socket.io channel")
        return True

    async def _on_disconnect(self, sid: Text, reason: Any = None) -> None:
        self._clients.pop(sid, None)

    async def _on_session_request(self, sid: Text, data: Any) -> None:
        """Rasa's handshake; under session persistence the socket joins the session's room and is bound to it."""
        client = self._clients.get(sid)
        if client is None:
            return
        requested = data.get("session_id") if isinstance(data, dict) else None
        acceptable = isinstance(requested, str) and 0 < len(requested) <= MAX_SESSION_ID and not is_pseudonym(requested)
        session_id = requested if acceptable else uuid.uuid4().hex  # a stored pseudonym is not a client's to claim
        if self.session_persistence:
            assert self.sio is not None
            if client.session_id is not None and client.session_id != session_id:
                await self.sio.leave_room(sid, client.session_id, namespace=self.namespace)
            await self.sio.enter_room(sid, session_id, namespace=self.namespace)  # Rasa 3.6 forgets the await
        self._clients[sid] = replace(client, session_id=session_id)
        await self.sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

    async def _on_user_message(self, sid: Text, data: Any) -> None:
        """Access checks, content filter, masking; only then is the message handed to Rasa."""
        client = self._clients.get(sid)
        if client is None or not isinstance(data, dict) or self.sio is None:
            return
        sender_id = self._sender_id(sid, client, data)
        if sender_id is None:
            return
        output = GuardedSocketIOOutput(self.sio, self.bot_message_evt, self.namespace)
        text = data.get("message", "")
        payload: Dict[str, Any] = {"sender": sender_id, "message": text}
        if data.get(ATTACHMENT_KEY) is not None:
            payload[ATTACHMENT_KEY] = data[ATTACHMENT_KEY]
        decision = self._access(client, payload)
        if decision.status != 200:  # address or token no longer allowed: end the connection
            await self.sio.emit(ACCESS_REFUSED_EVT, decision.body, room=sid, namespace=self.namespace)
            await self.sio.disconnect(sid, namespace=self.namespace)
            return
        if not decision.allowed:  # a refused upload or link: the bot-style answer, nothing handed to Rasa
            for refusal in decision.body:
                await output.send_text_message(sender_id, refusal["text"])
            return
        if not isinstance(text, str):
            logger.warning("rasa-guard: a socket.io message whose text is not a string was ignored")
            return
        message = protected_user_message(
            text, sender_id, output, channel=self.channel, metadata=self._client_metadata(data), guard=self.guard
        )
        message.metadata[GUARD_METADATA_KEY].update(decision.context)
        await self._hand_to_rasa(message, self._on_new_message)

    def _sender_id(self, sid: Text, client: SocketClient, data: Dict[str, Any]) -> Optional[Text]:
        """The socket id, or under session persistence the session this socket confirmed (and no other)."""
        if not self.session_persistence:
            return sid
        requested = data.get("session_id")
        if client.session_id is None or requested != client.session_id:
            logger.warning(
                "rasa-guard: a socket.io message for a session this socket did not confirm with `session_request` "
                "was ignored"
            )
            return None
        return client.session_id

    def _client_metadata(self, data: Dict[str, Any]) -> Any:
        """The client's metadata (a dict or its JSON text, as Rasa's channel accepts); unreadable metadata is dropped."""
        metadata = data.get(self.metadata_key)
        if isinstance(metadata, str):
            try:
                metadata = json.loads(metadata)
            except ValueError:
                logger.warning("rasa-guard: socket.io message metadata is not valid JSON and was dropped")
                return None
        return metadata


def _event_name(credentials: Mapping[str, Any], key: str, default: str) -> str:
    name = credentials.get(key) or default
    if not isinstance(name, str) or name in RESERVED_EVENTS:
        raise ChannelConfigError(
            f"{key} {name!r} of GuardedSocketIOInput must be an event name other than {', '.join(RESERVED_EVENTS)}"
        )
    return name
