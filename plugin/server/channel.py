"""``GuardedRestInput``: a REST-compatible input channel that masks the customer's text before Rasa sees it.

credentials.yml::

    plugin.server.channel.GuardedRestInput:
      channel: rest          # the settings scope (per-channel overrides in privacy.yml), e.g. whatsapp

Clients post ``{"sender": ..., "message": ..., "metadata": {...}}`` to ``/webhooks/guard/webhook``, exactly as to
Rasa's ``rest`` channel. The text Rasa stores, logs and sends to the action server is the ``storage`` rendering; the
NLU rendering and the PII entities (values: vault tokens) travel in ``metadata["rasa_guard"]`` to ``PIIMasker``.
The channel name is ours, never the client's, and any client-supplied ``rasa_guard`` metadata is dropped.

Access control runs first on every route (``plugin.server.access``): API IP allowlist (403), API tokens (401), the
content filter for uploads and links; ``GuardedCallbackInput`` is the same channel for clients that get replies (and
the idle reminders' warnings) pushed to a callback URL.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.callback import CallbackOutput
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.processor import MessageProcessor
from rasa.shared.constants import DEFAULT_SENDER_ID
from rasa.utils.endpoints import EndpointConfig
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from plugin.policy.event_masking import GUARD_METADATA_KEY, mask_event
from plugin.policy.guard import Guard, ProtectedText, current_guard
from plugin.policy.metadata_seal import sealed
from plugin.server.access import AccessGate
from plugin.server.idle_timers import note_customer_message

logger = logging.getLogger(__name__)

ALLOWED_CREDENTIALS = ("channel",)


class ChannelConfigError(ValueError):
    """credentials.yml holds an option this channel does not know."""


class HandsToRasa:
    """What every guarded channel does last with a customer message (already masked, access checked): the idle timers
    note it, then Rasa answers it. ``_app`` is the server, seen on the first request: the timers need its agent."""

    channel: Text
    _app: Optional[Sanic] = None

    @property
    def guard(self) -> Guard:
        raise NotImplementedError

    async def _hand_to_rasa(
        self, message: UserMessage, on_new_message: Optional[Callable[[UserMessage], Awaitable[Any]]]
    ) -> None:
        if on_new_message is None:
            raise RuntimeError(f"{type(self).__name__} received a message before its blueprint was registered")
        try:
            await note_customer_message(
                self._processor, message.sender_id, message.output_channel, lambda: self.guard.settings(self.channel)
            )
        except Exception as error:  # noqa: BLE001 - the message is still answered; the lazy expiry check remains
            logger.error("rasa-guard: idle timers not noted (%s)", type(error).__name__)
        seal_guard_entry(message, self.guard)  # last: the access checks may have added to the entry
        await on_new_message(message)

    def _processor(self) -> Optional[MessageProcessor]:
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        return agent.processor if agent is not None else None


class GuardedRestInput(HandsToRasa, RestInput):
    """Rasa's REST channel with real-time masking; the route is ``/webhooks/guard/webhook``."""

    @classmethod
    def name(cls) -> Text:
        return "guard"

    def __init__(self, channel: Text = "rest", guard: Optional[Guard] = None) -> None:
        self.channel = channel
        self._guard = guard
        self._gate: Optional[AccessGate] = None

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedRestInput":
        credentials = credentials or {}
        unknown = sorted(set(credentials) - set(ALLOWED_CREDENTIALS))
        if unknown:
            raise ChannelConfigError(
                f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; allowed: {', '.join(ALLOWED_CREDENTIALS)}"
            )
        return cls(channel=str(credentials.get("channel", "rest")))

    @property
    def guard(self) -> Guard:
        return self._guard or current_guard()

    def _protected(self, request: Request) -> Optional[ProtectedText]:
        """Scan once per request; both the text and the metadata hooks below need the result."""
        if not hasattr(request.ctx, "rasa_guard"):
            text = request.json.get("message") if isinstance(request.json, dict) else None
            sender = request.json.get("sender") if isinstance(request.json, dict) else None
            conversation_id = DEFAULT_SENDER_ID if sender is None else str(sender)  # as Rasa's UserMessage names it
            request.ctx.rasa_guard = (
                self.guard.protect_message(text, self.channel, conversation_id=conversation_id)
                if isinstance(text, str)
                else None
            )
        return request.ctx.rasa_guard

    def _extract_message(self, req: Request) -> Optional[Text]:
        protected = self._protected(req)
        return protected.storage_text if protected is not None else None

    def _extract_input_channel(self, req: Request) -> Text:
        return self.channel

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        client = request.json.get("metadata") if isinstance(request.json, dict) else None
        metadata = guarded_metadata(self.guard, self.channel, self._protected(request), client)
        metadata[GUARD_METADATA_KEY].update(getattr(request.ctx, "rasa_guard_access", {}))  # set by _enforce_access
        return metadata

    # -- access control (plugin.server.access): every route of the channel, before Rasa sees anything ------------

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def handle(message: UserMessage) -> None:
            await self._hand_to_rasa(message, on_new_message)

        blueprint = super().blueprint(handle)
        blueprint.middleware("request")(self._enforce_access)  # decorator form: sanic 21.12 ignores bound methods otherwise
        return blueprint

    async def _enforce_access(self, request: Request) -> Optional[HTTPResponse]:
        """403 for a disallowed address, 401 without a valid token, a bot-style refusal for a disallowed upload or
        link (nothing stored); otherwise the client context is kept for ``get_metadata``."""
        if self._gate is None:
            self._gate = AccessGate(self.guard, self.channel)
        self._app = request.app
        payload = request.json if request.method == "POST" and _is_json(request) else None
        decision = self._gate.decide(request.ip, request.headers, payload)
        if not decision.allowed:
            return response.json(decision.body, status=decision.status)
        request.ctx.rasa_guard_access = decision.context
        return None


def _is_json(request: Request) -> bool:
    try:
        return isinstance(request.json, dict)
    except Exception:  # noqa: BLE001 - a malformed body is Rasa's 400, after the IP and token checks
        return False


class GuardedCallbackInput(GuardedRestInput):
    """The guarded channel for clients that receive replies by callback (``/webhooks/guard_callback/webhook``):
    the bot's answers, and the idle warning and timeout that reminders push later, are POSTed to ``url``.

    credentials.yml::

        plugin.server.channel.GuardedCallbackInput:
          channel: rest
          url: "https://chat-frontend.example/bot"
    """

    @classmethod
    def name(cls) -> Text:
        return "guard_callback"

    def __init__(self, channel: Text = "rest", url: Optional[Text] = None, guard: Optional[Guard] = None) -> None:
        super().__init__(channel, guard)
        if not url:
            raise ChannelConfigError(f"{type(self).__name__} needs the callback 'url' in credentials.yml")
        self.callback_endpoint = EndpointConfig(url=url)

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "GuardedCallbackInput":
        credentials = credentials or {}
        unknown = sorted(set(credentials) - {"channel", "url"})
        if unknown:
            raise ChannelConfigError(f"unknown option(s) {', '.join(unknown)} for {cls.__name__}; allowed: channel, url")
        return cls(channel=str(credentials.get("channel", "rest")), url=credentials.get("url"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        callback_webhook = Blueprint(f"guarded_callback_webhook_{type(self).__name__}", __name__)

        @callback_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @callback_webhook.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            message = UserMessage(
                self._extract_message(request),
                CallbackOutput(self.callback_endpoint),
                await self._extract_sender(request),
                input_channel=self._extract_input_channel(request),
                metadata=self.get_metadata(request),
            )
            await self._hand_to_rasa(message, on_new_message)
            return response.text("success")

        callback_webhook.middleware("request")(self._enforce_access)
        return callback_webhook


def guarded_metadata(
    guard: Guard, channel: str, protected: Optional[ProtectedText], client_metadata: Any
) -> Dict[Text, Any]:
    """Client metadata masked like stored metadata (never trusted for ``rasa_guard``), plus the plugin's own entry."""
    metadata: Dict[Text, Any] = {}
    if isinstance(client_metadata, dict):
        client = {k: v for k, v in client_metadata.items() if k != GUARD_METADATA_KEY}
        metadata = mask_event({"event": "user", "metadata": client}, guard.event_rules(channel))["metadata"]
    guard_data: Dict[Text, Any] = {"channel": channel}
    if protected is not None:
        guard_data.update(nlu_text=protected.nlu_text, entities=[dict(e) for e in protected.entities])
        if protected.original_token is not None:
            guard_data["original"] = protected.original_token  # deferred redaction: the vault keeps it until the trigger
    metadata[GUARD_METADATA_KEY] = guard_data
    return metadata


def protected_user_message(
    text: Text,
    sender_id: Text,
    output_channel: Optional[OutputChannel] = None,
    channel: Text = "rest",
    metadata: Any = None,
    guard: Optional[Guard] = None,
) -> UserMessage:
    """The ``UserMessage`` this channel would hand Rasa: use it with ``agent.handle_message`` in-process, so that
    the action server and the tracker never receive the raw text there either. The message's originals are in the
    vault when this returns."""
    guard = guard or current_guard()
    protected = guard.protect_message(text, channel, conversation_id=sender_id)
    message = UserMessage(
        protected.storage_text,
        output_channel,
        sender_id,
        input_channel=channel,
        metadata=guarded_metadata(guard, channel, protected, metadata),
    )
    return seal_guard_entry(message, guard)


def seal_guard_entry(message: UserMessage, guard: Guard) -> UserMessage:
    """Seal the plugin's metadata entry (``plugin.policy.metadata_seal``) so that readers can tell it from a client's."""
    entry = (message.metadata or {}).get(GUARD_METADATA_KEY)
    if isinstance(entry, dict):
        message.metadata[GUARD_METADATA_KEY] = sealed(entry, guard.metadata_seal_key())
    return message
