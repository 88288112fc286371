"""Deferred (data-at-rest) redaction of one stored event: from the pre-trigger form to the final, irreversible one.

Until the trigger (CommBox "upon resolve" / "X hours after creation", LivePerson data-at-rest masking) a user event is
stored in the ``agent`` rendering with ``metadata.rasa_guard.original`` = vault token of the original text, and
entities/slots hold vault tokens. The final form is the ``storage`` rendering (from the original while the vault still
has it, else the stored text masked once more), and every vault token is replaced by its type's tag. Pure
dict-to-dict, so the job, the dry run and tests share it; applying it to a final event changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Mapping, Optional, Set, Tuple

from plugin.policy.event_masking import GUARD_METADATA_KEY, REDACTED, EventMaskingRules, mask_event
from plugin.policy.guard import CODE_TAG, mask_codes
from plugin.storage.vault import TOKEN_RE

ORIGINAL_KEY = "original"
ORIGINAL_TYPE = "original_text"
TRIGGERS = ("off", "upon_resolve", "time_based")


@dataclass(frozen=True)
class FinalRendering:
    """What the final form of a conversation's events needs: the storage view, and what the vault knows of its tokens."""

    rules: EventMaskingRules  # storage view of the conversation's channel
    render: Callable[[str], str]  # the storage rendering of an original text
    vault: Mapping[str, Tuple[str, Optional[str]]] = field(default_factory=dict, repr=False)  # token -> (type, original)

    def tag(self, token: str) -> str:
        pii_type = self.vault.get(token, (None, None))[0]
        return f"#{pii_type}#" if pii_type and pii_type != ORIGINAL_TYPE else REDACTED


def tokens_in(value: Any) -> Set[str]:
    """Every vault token anywhere in an event (text, entities, slots, metadata), at any depth."""
    found: Set[str] = set()
    _walk(value, lambda text: found.update(TOKEN_RE.findall(text)) or text)
    return found


def original_token(event: Mapping[str, Any]) -> Optional[str]:
    """The vault token of a user message's original text, if the event is still in its pre-trigger form."""
    metadata = event.get("metadata")
    guard_data = metadata.get(GUARD_METADATA_KEY) if isinstance(metadata, Mapping) else None
    token = guard_data.get(ORIGINAL_KEY) if isinstance(guard_data, Mapping) else None
    return token if isinstance(token, str) and TOKEN_RE.fullmatch(token) else None


def is_final(event: Mapping[str, Any]) -> bool:
    """True when the event holds no vault token: nothing of it can be revealed any more."""
    return not tokens_in(event)


def redact_event(event: Mapping[str, Any], rendering: FinalRendering) -> Dict[str, Any]:
    """The final form of one event dict (``Event.as_dict()``); same event type, same keys, never raw values."""
    final_text = _final_text(event, rendering)
    replaced = _walk(event, lambda text: TOKEN_RE.sub(lambda match: rendering.tag(match.group()), text))
    masked = mask_event(replaced, rendering.rules)
    if final_text is not None:
        masked["text"] = final_text
    return masked


def _final_text(event: Mapping[str, Any], rendering: FinalRendering) -> Optional[str]:
    """The storage rendering of the original text while the vault has it; ``None`` means: re-mask the stored text."""
    token = original_token(event)
    original = rendering.vault.get(token, (None, None))[1] if token else None
    if event.get("event") != "user" or original is None:
        return None
    text = rendering.render(original)
    stored = event.get("text")
    if isinstance(stored, str) and CODE_TAG in stored:
        text = mask_codes(text)  # the message answered an OTP prompt: the code stays masked (see Guard.protect)
    return text


def _walk(value: Any, on_text: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return on_text(value)
    if isinstance(value, Mapping):
        return {key: _walk(item, on_text) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(item, on_text) for item in value]
    return value


def due_row_ids(rows: Iterable[Tuple[int, Optional[float]]], cutoff: Optional[float]) -> Tuple[int, ...]:
    """Row ids due for redaction, in order: all of them (``cutoff`` None: upon resolve), or the leading rows created
    before ``cutoff`` (time based), stopping at the first newer row so a progress mark never skips an event."""
    due = []
    for row_id, timestamp in rows:
        if cutoff is not None and timestamp is not None and timestamp >= cutoff:
            break  # a row without a creation time counts as old (fail closed)
        due.append(row_id)
    return tuple(due)
