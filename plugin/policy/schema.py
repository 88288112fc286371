"""The typed schema of every rasa-guard setting: one frozen dataclass per group, ranges and choices as field metadata.

This is the only description of the plugin's settings. ``privacy.yml``, runtime changes made through the admin chat and
per-channel overrides are all validated against it (see ``plugin.policy.validation``), so a setting is declared once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional, Tuple

from plugin.pii import BUILTIN_TYPES
from plugin.pii import VIEWS as ENGINE_VIEWS
from plugin.pii.config import STRATEGY_NAMES
from plugin.storage.conversation_ids import MODES as CONVERSATION_ID_MODES

# Keyed by the engine's own tables, so a type, view or strategy added to the engine is a valid setting at once.
PII_TYPES: Tuple[str, ...] = BUILTIN_TYPES
VIEWS: Tuple[str, ...] = ENGINE_VIEWS
STRATEGIES: Tuple[str, ...] = STRATEGY_NAMES
ROLES: Tuple[str, ...] = ("admin", "supervisor", "agent")
# Groups an admin can change through the chat; ``storage`` is deliberately absent (deployment, not policy).
EDITABLE_GROUPS: Tuple[str, ...] = ("masking", "redaction", "blacklist", "session", "access", "roles", "admin")


def setting(
    default: Any,
    *,
    minimum: Optional[float] = None,
    maximum: Optional[float] = None,
    choices: Optional[Tuple[str, ...]] = None,
    keys: Optional[Tuple[str, ...]] = None,
    doc: str = "",
) -> Any:
    """Declare a setting: its default, its allowed range or choices (for mappings, the allowed keys) and one line of doc."""
    meta = {"minimum": minimum, "maximum": maximum, "choices": choices, "keys": keys, "doc": doc}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: _copy(default), metadata=meta)
    return field(default=default, metadata=meta)


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_copy(v) for v in value)
    return value


@dataclass(frozen=True)
class StrategySettings:
    """How one PII type is rendered in one view; ``keep_*`` count significant characters (separators are kept)."""

    strategy: str = setting("tag", choices=STRATEGIES, doc="rendering strategy")
    mask_char: str = setting("*", doc="character that replaces hidden characters (one character)")
    keep_left: int = setting(0, minimum=0, maximum=8, doc="significant characters left visible at the start")
    keep_right: int = setting(0, minimum=0, maximum=8, doc="significant characters left visible at the end")
    tag: str = setting("", doc="replacement tag for the tag strategy; empty means the type's default tag")


@dataclass(frozen=True)
class CustomRuleSettings:
    """A masking rule configured by the bot's owner (the seeds' "custom masking rules")."""

    name: str = setting("", doc="unique rule name, used in errors and audit entries")
    pattern: str = setting("", doc="regular expression (Python `regex` syntax)")
    tag: str = setting("#masked#", doc="replacement for the tag strategy")
    strategy: str = setting("tag", choices=STRATEGIES, doc="rendering strategy in every view")
    validator: str = setting("", choices=("", "luhn", "mod97", "elfproef"), doc="checksum a match must pass")
    context_words: Tuple[str, ...] = setting([], doc="a match counts only with one of these words nearby")
    context_window: int = setting(40, minimum=1, maximum=200, doc="characters around a match searched for context words")
    enabled: bool = setting(True, doc="rule is active")


@dataclass(frozen=True)
class MaskingSettings:
    enabled: bool = setting(True, doc="master switch of PII detection and masking")
    types: Dict[str, bool] = setting({t: True for t in PII_TYPES}, keys=PII_TYPES, doc="PII types detected")
    strategies: Dict[str, Dict[str, StrategySettings]] = setting(
        {}, keys=VIEWS, doc="per view, per PII type: rendering overrides of the built-in defaults"
    )
    long_number_digits: int = setting(
        9, minimum=0, maximum=40, doc="stored/agent/log text masks numbers with this many digits or more (0 = off)"
    )
    ai_hidden_digits: int = setting(
        5, minimum=0, maximum=40, doc="the NLU/AI view hides numbers with this many digits or more (0 = off)"
    )
    phone_regions: Tuple[str, ...] = setting(
        ["NL", "DE", "GB", "US", "FR", "BE"], doc="regions whose national phone formats are recognised"
    )
    allow_list: Tuple[str, ...] = setting([], doc="terms never masked")
    deny_list: Tuple[str, ...] = setting([], doc="terms always masked")
    custom_rules: Tuple[CustomRuleSettings, ...] = setting([], doc="owner-defined masking rules")
    masked_messages: str = setting(
        "agent_and_customer", choices=("customer", "agent_and_customer"), doc="whose messages are masked in storage"
    )
    card_neutralisation: bool = setting(False, doc="show only the last four digits of card numbers (per channel)")
    scan_timeout_ms: int = setting(50, minimum=1, maximum=2000, doc="time budget of one scan; on timeout the text is masked whole")
    vault_ttl_hours: int = setting(72, minimum=1, maximum=720, doc="originals stay in the vault at most this long")
    sensitive_slots: Tuple[str, ...] = setting([], doc="slots that may only ever hold vault tokens")
    sensitive_metadata: Tuple[str, ...] = setting([], doc="message metadata fields masked before storage")


@dataclass(frozen=True)
class RedactionSettings:
    trigger: str = setting("off", choices=("off", "upon_resolve", "time_based"), doc="when stored transcripts are finally masked")
    hours: int = setting(24, minimum=12, maximum=72, doc="hours after creation for the time_based trigger")
    scheduler_interval_minutes: int = setting(
        0, minimum=0, maximum=1440, doc="run the redaction job inside rasa run every N minutes (0 = off: cron `python -m plugin redact`)"
    )


@dataclass(frozen=True)
class BlacklistSettings:
    country_codes: Tuple[str, ...] = setting([], doc="blocked phone country codes, e.g. +44")
    phone_numbers: Tuple[str, ...] = setting([], doc="blocked phone numbers, any notation (stored as E.164)")
    emails: Tuple[str, ...] = setting([], doc="blocked e-mail addresses or @domains")
    sender_ids: Tuple[str, ...] = setting([], doc="blocked raw channel sender ids")
    default_region: str = setting("NL", doc="region used to read national phone notations")
    message: str = setting(
        "Sorry, we cannot continue this conversation.", doc="the one reply a blocked sender gets"
    )


@dataclass(frozen=True)
class SessionSettings:
    idle_timeout_seconds: int = setting(900, minimum=5, maximum=86400, doc="silence after which the session ends")
    warning_lead_seconds: int = setting(120, minimum=1, maximum=3600, doc="warning sent this long before the timeout")
    warning_message: str = setting(
        "Are you still there? This chat will close soon if we don't hear from you.", doc="idle warning text"
    )
    timeout_message: str = setting(
        "This chat was closed after a period of inactivity. Send a message to start again.", doc="idle timeout text"
    )
    disconnect_after_resolve: bool = setting(True, doc="end the session when the conversation is resolved")


@dataclass(frozen=True)
class ContentSettings:
    customer_uploads: bool = setting(True, doc="customers may send files")
    agent_uploads: bool = setting(True, doc="agents may send files")
    allowed_file_types: Tuple[str, ...] = setting(["pdf", "png", "jpg", "gif"], doc="file types allowed (by extension and content)")
    max_file_mb: int = setting(10, minimum=1, maximum=20, doc="largest upload in MB (hard cap 20)")
    links_allowed: bool = setting(True, doc="messages may contain web links")


@dataclass(frozen=True)
class AccessSettings:
    api_ip_allowlist: Tuple[str, ...] = setting([], doc="addresses/CIDRs allowed to call the channel; empty = any")
    management_ip_allowlist: Tuple[str, ...] = setting([], doc="addresses/CIDRs allowed to use the admin chat; empty = any")
    trusted_proxy_hops: int = setting(0, minimum=0, maximum=5, doc="X-Forwarded-For hops trusted behind a proxy")
    token_grace_seconds: int = setting(86400, minimum=0, maximum=2592000, doc="previous API token still works this long after rotation")
    content: ContentSettings = field(default_factory=ContentSettings)


@dataclass(frozen=True)
class RolesSettings:
    edit: Dict[str, Tuple[str, ...]] = setting(
        {
            "admin": list(EDITABLE_GROUPS),
            "supervisor": ["session", "blacklist", "redaction"],
            "agent": ["blacklist"],
        },
        keys=ROLES,
        doc="which role may change which settings group",
    )
    views: Dict[str, str] = setting(
        {"admin": "admin", "supervisor": "agent", "agent": "agent"},
        keys=ROLES,
        doc="which view of PII each role sees (admin = originals from the vault)",
    )


@dataclass(frozen=True)
class AdminSettings:
    otp_validity_seconds: int = setting(600, minimum=60, maximum=3600, doc="a sent code is valid this long")
    otp_attempts: int = setting(5, minimum=1, maximum=10, doc="attempts per sent code")
    lockout_failures: int = setting(5, minimum=3, maximum=20, doc="consecutive failures that lock a staff member out")
    lockout_minutes: int = setting(30, minimum=1, maximum=1440, doc="how long a lockout lasts")
    resend_interval_seconds: int = setting(60, minimum=10, maximum=3600, doc="minimum time between two sent codes")
    window_seconds: int = setting(3600, minimum=60, maximum=3600, doc="editing window after a verified OTP")
    window_idle_seconds: int = setting(1800, minimum=60, maximum=3600, doc="the window closes after this much inactivity")


@dataclass(frozen=True)
class StorageSettings:
    state_url: str = setting(
        "sqlite:///.rasa-guard/state.db", doc="SQLAlchemy URL of the plugin-state database (env RASA_GUARD_STATE_URL wins)"
    )
    conversation_ids: str = setting(
        "pseudonym",
        choices=CONVERSATION_ID_MODES,
        doc="conversation ids in storage, the event broker and locks: a keyed pseudonym (cid-...) or as the channel sent them",
    )


@dataclass(frozen=True)
class Settings:
    """The resolved settings of one scope (global, or one channel with its overrides applied)."""

    masking: MaskingSettings = field(default_factory=MaskingSettings)
    redaction: RedactionSettings = field(default_factory=RedactionSettings)
    blacklist: BlacklistSettings = field(default_factory=BlacklistSettings)
    session: SessionSettings = field(default_factory=SessionSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    roles: RolesSettings = field(default_factory=RolesSettings)
    admin: AdminSettings = field(default_factory=AdminSettings)
    storage: StorageSettings = field(default_factory=StorageSettings)
