"""Mask every stdlib log record before any handler sees it, in whatever process imports the plugin.

A log record factory (not a handler filter) is used because it covers every logger and every handler, including
handlers added later, Sanic's access log and Rasa's structlog output (which is rendered into stdlib records).
If masking fails, the line is withheld rather than written raw.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from functools import lru_cache
from typing import Any, Callable, Optional, Tuple

Masker = Callable[[str], str]

WITHHELD = "[rasa-guard: log line withheld because it could not be masked]"

_installed: Optional["_RedactingFactory"] = None


class _RedactingFactory:
    """Wraps the previous record factory; masks the formatted message and any exception text.

    A record created while this thread is already masking (the masker itself logging) is masked by ``fallback``,
    a masker that never logs, so masking cannot recurse.
    """

    def __init__(self, previous: Callable[..., logging.LogRecord], mask: Masker, fallback: Masker) -> None:
        self.previous = previous
        self.primary = mask
        self.fallback = fallback
        self._busy = threading.local()

    def mask(self, text: str) -> str:
        if getattr(self._busy, "active", False):
            return self.fallback(text)
        self._busy.active = True
        try:
            return self.primary(text)
        finally:
            self._busy.active = False

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.previous(*args, **kwargs)
        try:
            record.msg = mask_log_text(record.getMessage(), self.mask)
            record.args = ()
            if record.exc_info:
                record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = self.mask(record.stack_info)
        except Exception:  # noqa: BLE001 - fail closed: never let a raw line through
            record.msg, record.args, record.exc_info, record.exc_text = WITHHELD, (), None, None
        return record


def mask_log_text(message: str, mask: Masker) -> str:
    """Mask a log line in one engine call. JSON lines (Rasa's structlog renderer) escape non-ASCII as ``\\uXXXX``,
    which could hide an address or name from the engine: those are decoded and re-encoded without escapes first."""
    stripped = message.strip()
    if "\\u" in stripped and stripped.startswith("{") and stripped.endswith("}"):
        try:
            message = json.dumps(json.loads(stripped), ensure_ascii=False)
        except ValueError:
            pass
    return mask(message)


# Where a field's value ends in a log line, whatever quoting and escaping it went through (a repr inside a JSON string
# doubles its backslashes): at the next key, at a closing bracket that ends the mapping, or at the end of the line.
# Matching lazily up to there errs towards redacting too much.
_QUOTE = r"""\\*["']"""  # a quote, escaped any number of times (a repr inside a JSON string inside a repr...)
_VALUE_END = (
    r"(?=\s*,\s*" + _QUOTE + r"[^\"'\\\s]{1,64}" + _QUOTE + r"\s*:"
    + r"|\s*[}\]]\s*(?:[,}\]\"']|\\n|\\t|$)|\\n|\n|$)"
)
NAMED_FIELD_REDACTED = "#redacted#"


@lru_cache(maxsize=16)
def named_field_pattern(names: Tuple[str, ...]) -> Optional["re.Pattern[str]"]:
    """A named field's value in the forms Rasa's debug lines show it: ``'name': value`` (quoted as in a Python repr,
    JSON, or escaped inside another string: metadata, e.g. in the session-start slot), ``SlotSet(key: name, value:
    value)`` (an action's events) and a tab, ``name: value`` (the log of all slot values)."""
    if not names:
        return None
    keys = "(?:" + "|".join(re.escape(name) for name in sorted(set(names), key=len, reverse=True)) + ")"
    quoted = "(?P<key>(?P<quote>" + _QUOTE + ")" + keys + r"(?P=quote)\s*:\s*)(?:\{[^{}]*\}|\[[^\[\]]*\]|.*?" + _VALUE_END + ")"
    slot_set = r"(?P<slot_set>SlotSet\(key:\s*" + keys + r",\s*value:\s*).*?(?=\)\s*(?:[,\]}\"']|\\n|$)|\n|$)"
    slot_log = r"(?P<slot_log>(?:\t|\\t)" + keys + r":\s).*?(?=\\n|\n|(?<!\\)[\"'](?:\s*[,}\]]|$)|$)"
    return re.compile("|".join((quoted, slot_set, slot_log)))


def redact_named_fields(text: str, pattern: Optional["re.Pattern[str]"]) -> str:
    """Replace the value of every named field in a log line by ``#redacted#`` (in the name's quotes where it has
    some): fields and slots an owner declared sensitive hold what no pattern finds, such as a customer's name."""
    if pattern is None:
        return text

    def redacted(match: "re.Match[str]") -> str:
        if match.group("key") is not None:
            return match.group("key") + match.group("quote") + NAMED_FIELD_REDACTED + match.group("quote")
        return (match.group("slot_set") or match.group("slot_log")) + NAMED_FIELD_REDACTED

    return pattern.sub(redacted, text)


def install(mask: Masker, fallback: Masker) -> None:
    """Install (or re-point) log masking for this process; idempotent."""
    global _installed
    if _installed is not None:
        _installed.primary, _installed.fallback = mask, fallback
        return
    _installed = _RedactingFactory(logging.getLogRecordFactory(), mask, fallback)
    logging.setLogRecordFactory(_installed)
