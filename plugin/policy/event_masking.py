"""Mask one Rasa event, in its JSON form, for storage: what the tracker store persists and the event broker publishes.

Pure dict-to-dict (no Rasa import), so the tracker store, the at-rest redaction job and tests share it. Fields are
masked one by one; anything free-form (metadata, slot values, custom bot payloads) is masked value by value, so PII
in an unexpected place is still caught. Vault tokens are left as they are: they reveal nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from collections.abc import Mapping
from typing import Any, Callable, Dict, Iterable, List

from plugin.policy.metadata_seal import GUARD_METADATA_KEY, SEAL_FIELD

REDACTED = "#redacted#"
# The event kinds that carry text or values; any other event (actions, session starts, rewinds...) is stored as is.
MASKED_EVENT_KINDS = frozenset({"user", "bot", "agent", "slot", "entities", "reminder"})
# Keys of the channel's ``rasa_guard`` entry that are never stored: PIIMasker's copy of the message, and the seal,
# which vouches for the live message only (a stored copy is masked value by value).
UNSTORED_GUARD_KEYS = ("nlu_text", "entities", SEAL_FIELD)
PARSE_DATA_OFFSETS = frozenset({"text_tokens"})  # token offsets into the (masked) text: numbers that carry nothing
# Rasa's slot holding the metadata of the message that started the session: a copy of message metadata, so it is
# stored as message metadata is (named fields redacted whole, the channel's NLU copy and seal left out).
SESSION_START_METADATA_SLOT = "session_started_metadata"

TextMasker = Callable[[str], str]


@dataclass(frozen=True)
class EventMaskingRules:
    """What the storage rendering covers, from the ``masking`` settings of the conversation's scope."""

    mask: TextMasker
    is_token: Callable[[str], bool]
    mask_bot_messages: bool = True
    sensitive_slots: frozenset = frozenset()
    sensitive_metadata: frozenset = frozenset()
    known_clean: frozenset = frozenset()  # strings ``mask`` leaves as they are (the domain's names), checked first


def with_known_clean(rules: EventMaskingRules, names: Iterable[str]) -> EventMaskingRules:
    """``rules`` that pass the given names (intents, actions, entities, slots of the bot's domain: never customer
    text) without masking them again, each after checking once that masking leaves it unchanged. Every event repeats
    them (an intent ranking holds ten), so the output is the same and the cost is a set lookup."""
    clean = frozenset(name for name in names if isinstance(name, str) and _mask_text(name, rules) == name)
    return replace(rules, known_clean=rules.known_clean | clean)


KNOWN_VALUE_MIN_LENGTH = 3  # a shorter value ("ja", "ok") would redact ordinary words all over the conversation


def with_known_values(rules: EventMaskingRules, values: Iterable[str]) -> EventMaskingRules:
    """``rules`` that also redact ``values`` (whole words, any case) wherever they mask text: what the conversation's
    sensitive slots and metadata fields hold, which no pattern may find (a name), also where the customer typed it,
    an entity carries it or the bot repeats it ("Thanks, {customer_name}!")."""
    stripped = {value.strip() for value in values}
    wanted = sorted(
        (value for value in stripped if len(value) >= KNOWN_VALUE_MIN_LENGTH and value != REDACTED and not rules.is_token(value)),
        key=len,
        reverse=True,
    )
    if not wanted:
        return rules
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, wanted)) + r")(?!\w)", re.IGNORECASE)
    mask = rules.mask

    def redacting_mask(text: str) -> str:
        return mask(pattern.sub(REDACTED, text))

    clean = frozenset(name for name in rules.known_clean if pattern.search(name) is None)
    return replace(rules, mask=redacting_mask, known_clean=clean)


def strings_in(value: Any) -> List[str]:
    """Every string (and number) in a slot or metadata value, at any depth: the parts a text may repeat."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [found for item in value.values() for found in strings_in(item)]
    if isinstance(value, (list, tuple)):
        return [found for item in value for found in strings_in(item)]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return [str(value)]
    return []


def mask_event(event: Mapping[str, Any], rules: EventMaskingRules) -> Dict[str, Any]:
    """Return a masked copy of one event dict (``Event.as_dict()``); the input is not changed."""
    masked = dict(event)
    kind = masked.get("event")
    if kind == "user":
        _mask_key(masked, "text", rules)
        if isinstance(masked.get("parse_data"), Mapping):
            masked["parse_data"] = _mask_parse_data(masked["parse_data"], rules, masked.get("message_id"))
        masked["metadata"] = _mask_metadata(_without_nlu_copy(masked.get("metadata")), rules)
    elif kind in ("bot", "agent"):  # the bot's messages and a human agent's (``AgentUttered``, e.g. from a hand-off)
        if rules.mask_bot_messages:
            _mask_key(masked, "text", rules)
            if masked.get("data") is not None:
                masked["data"] = _mask_any(masked["data"], rules)
        masked["metadata"] = _mask_metadata(masked.get("metadata"), rules)
    elif kind == "slot":
        if masked.get("name") in rules.sensitive_slots:
            value = masked.get("value")
            if value is not None and not (isinstance(value, str) and rules.is_token(value)):
                masked["value"] = REDACTED
        elif masked.get("name") == SESSION_START_METADATA_SLOT:
            masked["value"] = _mask_metadata(_without_nlu_copy(masked.get("value")), rules)
        else:
            masked["value"] = _mask_any(masked.get("value"), rules)
    elif kind == "entities":
        if isinstance(masked.get("entities"), list):
            masked["entities"] = _mask_entities(masked["entities"], rules)
    elif kind == "reminder" and isinstance(masked.get("entities"), list):
        masked["entities"] = _mask_entities(masked["entities"], rules)
    return masked


def _mask_parse_data(parse_data: Mapping[str, Any], rules: EventMaskingRules, message_id: Any = None) -> Dict[str, Any]:
    """Every value, not only text and entities: Rasa copies the message metadata in, components add their own keys,
    and a client can even choose the intent name (``/anything``). The copy of the event's own ``message_id`` is kept
    as the event keeps it (an identifier; scanning its 32 hex digits costs more than the rest of the event)."""
    masked: Dict[str, Any] = {}
    for key, value in parse_data.items():
        if key in PARSE_DATA_OFFSETS or (key == "message_id" and value == message_id):
            masked[key] = value
        elif key == "entities" and isinstance(value, list):
            masked[key] = _mask_entities(value, rules)
        elif key == "metadata":
            masked[key] = _mask_metadata(_without_nlu_copy(value), rules)
        else:
            masked[key] = _mask_any(value, rules)
    return masked


def _without_nlu_copy(metadata: Any) -> Any:
    """The channel's NLU rendering and entities were for ``PIIMasker``; the stored event has its own text and
    entities, so storage keeps only the rest of the entry (channel, client context, the original's vault token)."""
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get(GUARD_METADATA_KEY), Mapping):
        return metadata
    guard_entry = {k: v for k, v in metadata[GUARD_METADATA_KEY].items() if k not in UNSTORED_GUARD_KEYS}
    return {**metadata, GUARD_METADATA_KEY: guard_entry}


def _mask_key(data: Dict[str, Any], key: str, rules: EventMaskingRules) -> None:
    if isinstance(data.get(key), str):
        data[key] = _mask_text(data[key], rules)


def _mask_text(text: str, rules: EventMaskingRules) -> str:
    if text in rules.known_clean or rules.is_token(text):
        return text
    return rules.mask(text)


def _mask_entities(entities: Iterable[Any], rules: EventMaskingRules) -> list:
    result = []
    for entity in entities:
        if isinstance(entity, Mapping):
            entity = dict(entity)
            entity["value"] = _mask_any(entity.get("value"), rules)
            _mask_key(entity, "text", rules)
        result.append(entity)
    return result


def _mask_metadata(metadata: Any, rules: EventMaskingRules) -> Any:
    if not isinstance(metadata, Mapping):
        return _mask_any(metadata, rules)
    return {
        key: (REDACTED if key in rules.sensitive_metadata and value is not None else _mask_any(value, rules))
        for key, value in metadata.items()
    }


def _mask_any(value: Any, rules: EventMaskingRules) -> Any:
    kind = type(value)
    if kind is str:
        return _mask_text(value, rules)
    if kind is float or kind is bool or value is None:
        return value
    if kind is dict and _holds_only_clean_leaves(value, rules.known_clean):
        return value  # an intent, each entry of an intent ranking: masking would return an equal copy
    if kind is dict or isinstance(value, Mapping):
        return {key: _mask_any(item, rules) for key, item in value.items()}
    if kind is list or isinstance(value, tuple):
        return [_mask_any(item, rules) for item in value]
    if isinstance(value, int) and not isinstance(value, bool):
        digits = str(value)  # a phone or card number sent as a JSON number
        masked = rules.mask(digits)
        return value if masked == digits else masked
    if isinstance(value, str):
        return _mask_text(value, rules)
    return value


def _holds_only_clean_leaves(value: Dict[Any, Any], known_clean: frozenset) -> bool:
    """True when every value is one that masking returns unchanged without a scan: a known-clean string, a float, a
    bool or None. Every stored user event holds a dozen such dicts; the copy and the recursion are what they cost."""
    for item in value.values():
        kind = type(item)
        if not (item is None or kind is float or kind is bool or (kind is str and item in known_clean)):
            return False
    return True
