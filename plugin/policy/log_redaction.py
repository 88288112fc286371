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
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, List, Optional, Tuple

from plugin.policy.event_masking import REDACTED

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


_NON_ASCII_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def mask_log_text(message: str, mask: Masker) -> str:
    """Mask a log line in one engine call. JSON lines (Rasa's structlog renderer) escape non-ASCII as ``\\uXXXX``,
    which could hide an address or name from the engine: those are decoded and re-encoded without escapes first, and
    escapes left elsewhere (JSON inside a traceback or inside another string) are decoded in place."""
    stripped = message.strip()
    if "\\u" in stripped and stripped.startswith("{") and stripped.endswith("}"):
        try:
            message = json.dumps(json.loads(stripped), ensure_ascii=False)
        except ValueError:
            pass
    if "\\u" in message:
        message = _NON_ASCII_ESCAPE.sub(_decoded, message)
    return mask(message)


def _decoded(escape: "re.Match[str]") -> str:
    """A non-ASCII character for its escape; ASCII (quotes, control characters) and surrogates stay escaped."""
    code = int(escape.group(1), 16)
    return chr(code) if code >= 0x80 and not 0xD800 <= code <= 0xDFFF else escape.group()


# The named-field forms in Rasa's debug lines. The key part is found by a pattern; where the value ends is decided by
# ``_value_end``, which follows brackets and quotes and errs towards redacting too much.
# A quote, escaped a few times over (a repr inside a JSON string inside a repr...); capped, so that a run of
# backslashes costs linear time, not quadratic (a customer can type one).
_QUOTE = r"""\\{0,8}["']"""
_QUOTE_AT = re.compile(_QUOTE)
_OPENERS, _CLOSERS = "{[(", "}])"
_NEXT_SLOT = re.compile(r"\n\t[A-Za-z_][\w\-]*:\s")  # the next line of Rasa's slot log
_NEXT_SLOT_ESCAPED = re.compile(r"\\n\\t[A-Za-z_][\w\-]*:\s")  # the same inside a JSON string or a repr
_LOG_STRING_START = re.compile(r"""["'](?=\\t)""")  # ... which begins with a quote, then the first slot
_BARE_WORD = re.compile(r"[^,}\])\s]*")  # an unquoted value: None, a number, a word


@dataclass(frozen=True)
class NamedFields:
    """The field names to redact and the pattern that finds where their values start."""

    names: Tuple[str, ...]
    pattern: "re.Pattern[str]"


@lru_cache(maxsize=16)
def named_field_pattern(names: Tuple[str, ...]) -> Optional[NamedFields]:
    """Where a named field's value starts, in the forms Rasa's debug lines show it: ``'name': value`` (quoted as in a
    Python repr, JSON, or escaped inside another string: metadata, e.g. in the session-start slot), a slot event as
    JSON (``"name": "slot", "value": value``), ``SlotSet(key: name, value: value)`` and a tab, ``name: value`` (the
    log of all slot values)."""
    unique = tuple(sorted(set(names)))
    if not unique:
        return None
    keys = "(?:" + "|".join(re.escape(name) for name in sorted(unique, key=len, reverse=True)) + ")"
    quoted = "(?P<quote>" + _QUOTE + ")" + keys + r"(?P=quote)\s*:\s*"
    slot_event = "(?P<q>" + _QUOTE + r")name(?P=q)\s*:\s*(?P=q)" + keys + r"(?P=q)\s*,\s*(?P=q)value(?P=q)\s*:\s*"
    slot_set = r"(?P<slot_set>SlotSet\(key:\s*" + keys + r",\s*value:\s*)"
    slot_log = r"(?P<slot_log>(?:\t|\\t)" + keys + r":\s)"
    return NamedFields(unique, re.compile("|".join((slot_event, quoted, slot_set, slot_log))))


def redact_named_fields(text: str, fields: Optional[NamedFields]) -> str:
    """Replace the value of every named field in a log line by ``#redacted#`` (in the name's quotes where it has
    some): fields and slots an owner declared sensitive hold what no pattern finds, such as a customer's name."""
    if fields is None or not any(name in text for name in fields.names):
        return text  # the usual line: a substring test per name, no pattern
    parts: List[str] = []
    position = 0
    openings: Optional[List[Tuple[int, str]]] = None  # where escaped slot logs begin, found once per line
    for match in fields.pattern.finditer(text):
        if match.start() < position:
            continue  # inside a value already redacted
        start = match.end()
        if match.group("slot_set") is not None:
            end, quote = _closing(text, start, depth=1, keep_closer=True), ""
        elif match.group("slot_log") is not None:
            opening = ""
            if match.group("slot_log").startswith("\\"):  # escaped: the log is a string inside the line
                if openings is None:
                    openings = [(found.start(), found.group()) for found in _LOG_STRING_START.finditer(text)]
                before = bisect_right(openings, (match.start(), "~")) - 1
                opening = openings[before][1] if before >= 0 else "\""
            end, quote = _slot_log_end(text, start, opening), ""
        else:
            end = _value_end(text, start)
            quote = match.group("quote") or match.group("q") or ""
        parts += [text[position:start], quote, REDACTED, quote]
        position = end
    parts.append(text[position:])
    return "".join(parts)


def _value_end(text: str, start: int) -> int:
    """The end of the value starting at ``start``: its closing bracket, its closing quote (the same quote, escaped
    the same way), or, for a bare word, the next delimiter. Without one, the end of the text."""
    if start < len(text) and text[start] in _OPENERS:
        return _closing(text, start, depth=0, keep_closer=False)
    quote = _QUOTE_AT.match(text, start)
    if quote is not None:
        mark = quote.group()
        close = re.compile(r"(?<!\\)" + re.escape(mark) + r"(?=\s*(?:[,}\])]|\\n|\n|$))")
        found = close.search(text, start + len(mark))
        return found.end() if found is not None else len(text)
    bare = _BARE_WORD.match(text, start)
    return bare.end() if bare is not None else start


def _closing(text: str, start: int, depth: int, keep_closer: bool) -> int:
    """Where the bracket that brings ``depth`` (brackets open before ``start``) back to zero closes: after it, or
    before it when it must stay (the parenthesis of ``SlotSet(``). Brackets inside the value count too: balanced ones
    are followed, and an unclosed one runs to the end of the text."""
    for index in range(start, len(text)):
        char = text[index]
        if char in _OPENERS:
            depth += 1
        elif char in _CLOSERS:
            depth -= 1
            if depth == 0:
                return index if keep_closer else index + 1
    return len(text)


def _slot_log_end(text: str, start: int, opening: str) -> int:
    """A slot-log value runs to the next slot's line or the end of the text; when the log sits escaped inside a JSON
    string or a repr (``opening``: the quote that began it), also no further than the end of that string."""
    if not opening:
        found = _NEXT_SLOT.search(text, start)
        return found.start() if found is not None else len(text)
    next_slot = _NEXT_SLOT_ESCAPED.search(text, start)
    limit = next_slot.start() if next_slot is not None else len(text)
    string_end = re.compile(r"(?<!\\)" + re.escape(opening) + r"\s*(?:[,})\]]|$)").search(text, start, limit)
    return string_end.start() if string_end is not None else limit


def install(mask: Masker, fallback: Masker) -> None:
    """Install (or re-point) log masking for this process; idempotent."""
    global _installed
    if _installed is not None:
        _installed.primary, _installed.fallback = mask, fallback
        return
    _installed = _RedactingFactory(logging.getLogRecordFactory(), mask, fallback)
    logging.setLogRecordFactory(_installed)
