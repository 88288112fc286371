"""Mask every stdlib log record before any handler sees it, in whatever process imports the plugin.

A log record factory (not a handler filter) is used because it covers every logger and every handler, including
handlers added later, Sanic's access log and Rasa's structlog output (which is rendered into stdlib records).
If masking fails, the line is withheld rather than written raw.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable, Optional

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
    """Mask a log line; JSON lines (Rasa's structlog renderer) are masked value by value so escapes can't hide PII."""
    stripped = message.strip()
    if stripped.startswith("{") and stripped.endswith("}"):
        try:
            data = json.loads(stripped)
        except ValueError:
            return mask(message)
        return json.dumps(mask_values(data, mask), ensure_ascii=False)
    return mask(message)


def mask_values(value: Any, mask: Masker) -> Any:
    """Mask every string inside nested dicts/lists (keys included: Rasa logs slot names and texts as keys too)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {mask(str(k)): mask_values(v, mask) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_values(v, mask) for v in value]
    return value


def install(mask: Masker, fallback: Masker) -> None:
    """Install (or re-point) log masking for this process; idempotent."""
    global _installed
    if _installed is not None:
        _installed.primary, _installed.fallback = mask, fallback
        return
    _installed = _RedactingFactory(logging.getLogRecordFactory(), mask, fallback)
    logging.setLogRecordFactory(_installed)
