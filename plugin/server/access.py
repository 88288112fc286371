"""Access control of rasa-guard's channels, decided before Rasa sees a request: API IP allowlist (403), API tokens
(401) and the content filter (uploads, links).

A refused upload or link is answered like a bot turn (HTTP 200, ``[{"recipient_id", "text"}]``) so chat widgets show
the reason, and nothing of the request reaches Rasa, the tracker or the vault. Uploads arrive as JSON::

    {"sender": "...", "message": "optional text",
     "attachment": {"filename": "invoice.pdf", "content_base64": "JVBERi0..."}}

An accepted upload is described to Rasa only by type and size (``metadata.rasa_guard.attachment``); keeping the file
is the deployment's business. The client address and whether it may use the admin chat go to
``metadata.rasa_guard.client_ip`` / ``management_allowed`` (read by actions through ``plugin.actions.context``).
"""

from __future__ import annotations

import base64
import binascii
import logging
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from plugin.policy.audit import REFUSED
from plugin.policy.content_filter import ContentPolicy, InvalidContentPolicy, check_text, check_upload, file_extension
from plugin.policy.guard import Guard
from plugin.policy.ip_allowlist import InvalidAllowlistEntry, IPAllowlist, client_ip
from plugin.storage.conversation_ids import is_pseudonym

logger = logging.getLogger(__name__)

ATTACHMENT_KEY = "attachment"
RESERVED_SENDER = "Sender ids of the form cid- followed by 32 letters a-p are reserved for stored conversations; use another id."


@dataclass(frozen=True)
class AccessDecision:
    """``status`` 200 with ``body`` None: pass the request to Rasa with ``context`` added to its guard metadata."""

    status: int
    body: Any = None
    context: Dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def allowed(self) -> bool:
        return self.body is None


class AccessGate:
    """One per channel: reads the settings in force and the token store on every request (changes apply at once)."""

    def __init__(self, guard: Guard, channel: str) -> None:
        self._guard = guard
        self._channel = channel
        self._tokens: Any = None

    def _token_store(self) -> Any:
        if self._tokens is None:
            from plugin.storage.token_store import TokenStore

            state = self._guard.state
            self._tokens = TokenStore(state.db, state.audit)
        return self._tokens

    def decide(self, peer_ip: str, headers: Mapping[str, str], payload: Any) -> AccessDecision:
        settings = self._guard.settings(self._channel)
        access = settings.access
        ip = client_ip(peer_ip, headers.get("x-forwarded-for"), access.trusted_proxy_hops)
        try:
            api_allowed = IPAllowlist.parse(access.api_ip_allowlist).allows(ip)
            management = IPAllowlist.parse(access.management_ip_allowlist).allows(ip)
        except InvalidAllowlistEntry as error:
            logger.error("rasa-guard: an IP allowlist cannot be read (%s); refusing every request", error)
            api_allowed = management = False
        if not api_allowed:
            self._audit("access.ip_refused", f"client {self._guard.mask_log(ip)}")
            return AccessDecision(403, {"error": "forbidden", "message": "Requests from this address are not allowed."})

        try:
            check = self._token_store().check(headers.get("authorization"))
        except Exception as error:  # noqa: BLE001 - tokens unknown: fail closed
            logger.error("rasa-guard: API tokens unavailable (%s); refusing the request", type(error).__name__)
            return AccessDecision(503, {"error": "unavailable", "message": "The service cannot check API tokens now."})
        if not check.allowed:
            self._audit("access.token_refused", f"{check.reason}; client {self._guard.mask_log(ip)}")
            return AccessDecision(
                401,
                {"error": "unauthorized", "reason": check.reason,
                 "message": "Send a valid API token as 'Authorization: Bearer <token>'."},
            )

        if isinstance(payload, dict) and isinstance(payload.get("sender"), str) and is_pseudonym(payload["sender"]):
            # Pseudonyms appear in exports, the broker and the audit trail: one must not open a stored conversation.
            return AccessDecision(400, {"error": "reserved_sender", "message": RESERVED_SENDER})
        context: Dict[str, Any] = {"client_ip": ip, "management_allowed": management}
        refused = self._content(access.content, payload, context)
        if refused is not None:
            sender = payload.get("sender") if isinstance(payload, dict) else None
            return AccessDecision(200, [{"recipient_id": str(sender), "text": refused}])
        return AccessDecision(200, None, context)

    def _content(self, content: Any, payload: Any, context: Dict[str, Any]) -> Optional[str]:
        """The refusal text for a disallowed upload or link, else None (``context`` gets the accepted upload)."""
        try:
            policy = ContentPolicy.from_settings(content)
        except InvalidContentPolicy as error:
            logger.error("rasa-guard: content policy unreadable (%s); refusing uploads and links", error)
            policy = ContentPolicy(customer_uploads=False, agent_uploads=False, links_allowed=False)
        if not isinstance(payload, dict):
            return None
        text = payload.get("message")
        if isinstance(text, str):
            verdict = check_text(policy, text)
            if not verdict.allowed:
                self._audit("content.refused", verdict.reason)
                return verdict.message
        attachment = payload.get(ATTACHMENT_KEY)
        if attachment is None:
            return None
        message, kind, size = _check_attachment(policy, attachment)
        if message is not None:
            self._audit("content.refused", kind)
            return message
        context[ATTACHMENT_KEY] = {"type": kind, "bytes": size}
        return None

    def _audit(self, action: str, detail: str) -> None:
        try:
            self._guard.state.audit.append(action, outcome=REFUSED, channel=self._channel, detail=detail)
        except Exception as error:  # noqa: BLE001 - the refusal stands without its audit entry
            logger.error("rasa-guard: a refused request could not be audited (%s)", type(error).__name__)


def _check_attachment(policy: ContentPolicy, attachment: Any) -> Tuple[Optional[str], str, int]:
    """(refusal message or None, reason code or file type, size); decodes at most one byte past the size cap."""
    unreadable = "This file could not be read, so it cannot be sent."
    if not isinstance(attachment, dict):
        return unreadable, "unreadable", 0
    filename, encoded = attachment.get("filename"), attachment.get("content_base64")
    if not isinstance(filename, str) or not isinstance(encoded, str):
        return unreadable, "unreadable", 0
    # Decode no more than one byte past the cap: enough to refuse a huge body without holding it twice.
    encoded = encoded.strip()[: (policy.max_bytes + 3) // 3 * 4 + 4]
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return unreadable, "unreadable", 0
    verdict = check_upload(policy, "customer", filename, data)
    if not verdict.allowed:
        return verdict.message, verdict.reason, len(data)
    return None, file_extension(filename) or "", len(data)
