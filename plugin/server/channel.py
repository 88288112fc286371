"""``GuardedRestInput``: a REST-compatible input channel that masks the customer's text before Rasa sees it.

credentials.yml::

    plugin.server.channel.GuardedRestInput:
      channel: rest          # the settings scope (per-channel overrides in privacy.yml), e.g. whatsapp

Clients post ``{"sender": ..., "message": ..., "metadata": {...}}`` to ``/webhooks/guard/webhook``, exactly as to
Rasa's ``rest`` channel. The text Rasa stores, logs and sends to the action server is the ``storage`` rendering; the
NLU rendering and the PII entities (values: vault tokens) travel in ``metadata["rasa_guard"]`` to ``PIIMasker``.
The channel name is ours, never the client's, and any client-supplied ``rasa_guard`` metadata is dropped.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic.request import Request

from plugin.policy.event_masking import GUARD_METADATA_KEY, mask_event
from plugin.policy.guard import Guard, ProtectedText, current_guard

ALLOWED_CREDENTIALS = ("channel",)


class ChannelConfigError(ValueError):
    """credentials.yml holds an option this channel does not know."""


class GuardedRestInput(RestInput):
    """Rasa's REST channel with real-time masking; the route is ``/webhooks/guard/webhook``."""

    @classmethod
    def name(cls) -> Text:
        return "guard"

    def __init__(self, channel: Text = "rest", guard: Optional[Guard] = None) -> None:
        self.channel = channel
        self._guard = guard

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
            request.ctx.rasa_guard = (
                self.guard.protect(text, self.channel, conversation_id=str(sender)) if isinstance(text, str) else None
            )
        return request.ctx.rasa_guard

    def _extract_message(self, req: Request) -> Optional[Text]:
        protected = self._protected(req)
        return protected.storage_text if protected is not None else None

    def _extract_input_channel(self, req: Request) -> Text:
        return self.channel

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        client = request.json.get("metadata") if isinstance(request.json, dict) else None
        return guarded_metadata(self.guard, self.channel, self._protected(request), client)


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
    the action server and the tracker never receive the raw text there either."""
    guard = guard or current_guard()
    protected = guard.protect(text, channel, conversation_id=sender_id)
    return UserMessage(
        protected.storage_text,
        output_channel,
        sender_id,
        input_channel=channel,
        metadata=guarded_metadata(guard, channel, protected, metadata),
    )
