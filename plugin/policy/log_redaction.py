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
    """Mask a log line in one engine call. JSON lines (Rasa's structlog renderer) escape non-ASCII as ``\\uXXXX``,
    which could hide an address or name from the engine: those are decoded and re-encoded without escapes first."""
    stripped = message.strip()
    if "\\u" in stripped and stripped.startswith("{") and stripped.endswith("}"):
        try:
            message = json.dumps(json.loads(stripped), ensure_ascii=False)
        except ValueError:
            pass
    return mask(message)


def install(mask: Masker, fallback: Masker) -> None:
    """Install (or re-point) log masking for this process; idempotent."""
    global _installed
    if _installed is not None:
        _installed.primary, _installed.fallback = mask, fallback
        return
    _installed = _RedactingFactory(logging.getLogRecordFactory(), mask, fallback)
    logging.setLogRecordFactory(_installed)
