"""Out-of-band delivery of a freshly rotated API token to a staff member's directory contact.

Bot replies are stored (masked for PII, but a random token is not PII to the engine), so a new token never goes into
the chat: it goes to the contact address of the staff directory through the same transport as sent OTP codes
(``$RASA_GUARD_OTP_OUTBOX`` in development, ``$RASA_GUARD_SMTP_*`` in production).
"""

from __future__ import annotations

from typing import Mapping, Optional

from plugin.policy.otp import sender_from_env


class DeliveryUnavailable(Exception):
    """No out-of-band transport is configured or the staff member has no contact; the message says what to do."""


def token_message(token: str, grace_seconds: int) -> str:
    return (
        f"Your new rasa-guard API token: {token}\n"
        f"Previous tokens keep working for {grace_seconds} seconds. Store it in your secret manager; it is not shown again."
    )


def deliver_token(contact: str, token: str, grace_seconds: int, env: Optional[Mapping[str, str]] = None) -> None:
    """Send the token to ``contact``; raises ``DeliveryUnavailable`` when there is no transport."""
    sender = sender_from_env(env)
    if sender is None:
        raise DeliveryUnavailable("no e-mail transport is configured for the action server (RASA_GUARD_SMTP_HOST)")
    sender.send_text(contact, "Your new rasa-guard API token", token_message(token, grace_seconds))
