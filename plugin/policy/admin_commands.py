"""The admin chat's command grammar: what a staff member typed -> one ``Command`` (kind, setting key, value, scope).

Pure and table-driven. The text arrives masked: PII spans (phone numbers, e-mail and IP addresses) are given as
``(start, end, type)`` and become markers ``\\x00<n>\\x00`` inside values; the caller replaces a marker with the
original from the vault only after it has checked that the sender is staff with an open editing window. Natural
phrasings ("set the idle timeout to 15 minutes") and explicit commands ("set session.idle_timeout_seconds to 900")
are both understood; anything else raises ``ParseError`` listing the forms that are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, List, Mapping, Optional, Sequence, Tuple

from plugin.policy import blacklist

SET, ADD, REMOVE, RESET, SHOW, HISTORY, ROTATE, LOGIN, LOGOUT = (
    "set", "add", "remove", "reset", "show", "history", "rotate", "login", "logout",
)
KINDS: Tuple[str, ...] = (SET, ADD, REMOVE, RESET, SHOW, HISTORY, ROTATE, LOGIN, LOGOUT)
DEFAULT_HISTORY = 10
MAX_HISTORY = 50
# Channel names understood as a scope after "for/on/in"; names that are also ordinary words need "... channel".
KNOWN_CHANNELS: Tuple[str, ...] = (
    "whatsapp", "rest", "sms", "telegram", "facebook", "messenger", "instagram", "webchat", "slack", "twilio",
    "socketio", "mattermost", "rocketchat", "botframework",
)
MARKER = "\x00"

UNDERSTOOD = (
    "I understand: 'log in' / 'log out'; 'set the idle timeout to 15 minutes'; 'mask numbers with 6 or more digits'; "
    "'hide numbers of 4+ digits from the AI'; 'turn on card neutralisation for whatsapp'; "
    "'redact transcripts 24 hours after creation'; 'block +44' / 'block <phone, e-mail or @domain>' / 'unblock ...'; "
    "'allow <IP or range> for the API' (or 'for the admin chat'); 'rotate the API token'; "
    "'show the masking settings'; 'show the last 10 changes'; explicit: 'set <group.setting> to <value>', "
    "'reset <group.setting>'"
)


class ParseError(ValueError):
    """The text is not an admin command this grammar knows; the message says which forms are understood."""


@dataclass(frozen=True)
class Command:
    """One parsed admin request. ``value`` may hold PII markers (see module doc); ``raw`` = text to coerce by type."""

    kind: str
    key: str = ""
    value: Any = field(default=None, repr=False)
    scope: str = ""
    count: int = 0
    raw: bool = False


def marker(index: int) -> str:
    return f"{MARKER}{index}{MARKER}"


_MARKER_RE = re.compile(f"{MARKER}(\\d+){MARKER}")


def marker_indexes(value: Any) -> List[int]:
    """The PII indexes a command value refers to (the entities whose originals the caller must look up)."""
    if isinstance(value, str):
        return [int(m) for m in _MARKER_RE.findall(value)]
    if isinstance(value, Mapping):
        return [i for item in value.values() for i in marker_indexes(item)]
    if isinstance(value, (list, tuple)):
        return [i for item in value for i in marker_indexes(item)]
    return []


def resolve_markers(value: Any, original: Callable[[int], str]) -> Any:
    """``value`` with every marker replaced by ``original(index)``."""
    if isinstance(value, str):
        return _MARKER_RE.sub(lambda m: original(int(m.group(1))), value)
    if isinstance(value, Mapping):
        return {k: resolve_markers(v, original) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve_markers(v, original) for v in value]
    return value


# -- durations and values ------------------------------------------------------------------------------------------

_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = r"(?P<n>\d{1,7})\s*(?P<unit>seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d)?\b"


def _unit_seconds(unit: Optional[str], default: int) -> int:
    return _UNIT_SECONDS[unit[0]] if unit else default


def _seconds(match: "re.Match[str]", default_unit: int = 1) -> int:
    return int(match.group("n")) * _unit_seconds(match.group("unit"), default_unit)


_TRUE = {"true", "on", "yes", "enabled", "enable", "1"}
_FALSE = {"false", "off", "no", "disabled", "disable", "0"}


def coerce(key: str, raw: str, current: Any) -> Any:
    """Read an explicitly typed value by the type of the setting's current value; durations fit the key's unit."""
    text = raw.strip().strip("'\"").strip()
    if isinstance(current, bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ParseError(f"{key} is on or off: say 'set {key} to on' or 'to off'")
    if isinstance(current, int):
        match = re.fullmatch(_DURATION, text.lower())
        if match is None:
            raise ParseError(f"{key} is a whole number{_unit_hint(key)}, e.g. 'set {key} to 15'")
        if match.group("unit") is None:
            return int(match.group("n"))
        return _in_key_unit(key, _seconds(match))
    if isinstance(current, (list, tuple)):
        inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
        items = [item.strip().strip("'\"") for item in re.split(r"[,;]|\s+and\s+", inner)]
        return [item for item in items if item] if inner.strip().lower() not in ("none", "nothing", "empty") else []
    if isinstance(current, Mapping) or current is None:
        raise ParseError(f"{key} is a group of settings; change one of them, e.g. 'set {key}.<name> to <value>'")
    if not text:
        raise ParseError(f"{key} needs a value: 'set {key} to <text>'")
    return text


def _unit_hint(key: str) -> str:
    for suffix, unit in (("_seconds", "of seconds (or '15 minutes')"), ("_minutes", "of minutes"), ("_hours", "of hours")):
        if key.endswith(suffix):
            return " " + unit
    return ""


def _in_key_unit(key: str, seconds: int) -> int:
    """A duration in the unit the key is named for; a duration that does not divide evenly is refused."""
    for suffix, size in (("_minutes", 60), ("_hours", 3600), ("_ms", 0)):
        if key.endswith(suffix):
            if size == 0:
                return seconds * 1000
            if seconds % size:
                raise ParseError(f"{key} counts whole {suffix[1:]}")
            return seconds // size
    return seconds


# -- the grammar ---------------------------------------------------------------------------------------------------

_POLITE_PREFIX = re.compile(
    r"^(?:(?:ok(?:ay)?|hey|hi|bot|please|kindly|now|then|and|so|can you|could you|would you|will you|"
    r"i want to|i'd like to|i would like to|i wanna|i need to|let's|let me|go ahead and)[\s,]+)+"
)
_POLITE_SUFFIX = re.compile(r"(?:[\s,]+(?:please|thanks|thank you|now|for me))+$")

_SHOW_GROUPS: Tuple[Tuple[str, str], ...] = (
    (r"mask|pii|card", "masking"),
    (r"redact|transcript", "redaction"),
    (r"blacklist|block\s*list|blocked", "blacklist"),
    (r"session|idle|time\s*out", "session"),
    (r"access|allow\s*list|whitelist|ip\b|token|api", "access"),
    (r"role|permission", "roles"),
    (r"admin|otp|lockout|login", "admin"),
)

_LOGOUT = re.compile(
    r"\b(?:log\s*(?:me\s+)?(?:out|off)|sign\s*(?:me\s+)?(?:out|off)|logout|logoff|"
    r"(?:end|close|exit|leave|quit|stop)\s+(?:the\s+|my\s+)?(?:admin|editing|management)(?:\s+(?:session|mode|window|access))?)\b"
)
_LOGIN = re.compile(
    r"\b(?:log\s*(?:me\s+)?in|login|sign\s*(?:me\s+)?in|authenticate|admin\s+(?:mode|access|login|session)|"
    r"(?:start|open|enter)\s+(?:an?\s+|the\s+)?(?:admin|editing|management)|verify\s+me|i\s+am\s+(?:an?\s+)?(?:admin|staff))\b"
)
_ROTATE = re.compile(
    r"\b(?:rotate|renew|regenerate|refresh|replace|reissue|roll|cycle|issue\s+a\s+new|new)\b.*\b(?:api\s+)?tokens?\b"
    r"|\btoken\s+rotation\b|\btokens?\b.*\b(?:rotate|renew|replace|regenerate)\b"
)
_HISTORY = re.compile(
    r"\b(?:last|latest|recent|previous)\s+(?P<n>\d{1,3}\s+)?(?:settings?\s+)?(?:changes|edits|modifications|updates)\b"
    r"|\b(?:change|settings?|edit)\s+(?:history|log)\b|\baudit\s+(?:log|trail)\b|\bwhat\s+(?:has\s+)?changed\b"
    r"|\bwho\s+changed\b|\bhistory\b"
)
_HISTORY_COUNT = re.compile(r"\b(?P<n>\d{1,3})\b")
_SHOW = re.compile(
    r"^(?:show|display|list|view|print|get|see|which|what\s+are|what's|what\s+is|whats|give\s+me|tell\s+me|current)\b"
)
_DOTTED = r"(?P<key>[a-z_]+(?:\.[a-z0-9_]+)+)"
_RESET = re.compile(rf"^(?:reset|restore|revert|undo)\s+(?:the\s+)?{_DOTTED}(?:\s+to\s+(?:the\s+)?(?:default|file value))?$")
_EXPLICIT_SET = re.compile(rf"^(?:set|change|update|make|put)\s+{_DOTTED}\s*(?:to|=|:|as)?\s*(?P<value>.*)$")

_UNBLOCK = re.compile(
    r"^(?:unblock|unban|unblacklist|whitelist|allow\s+back|let\s+back\s+in|lift\s+the\s+block\s+(?:on|of)|"
    r"remove|delete|take|drop|let)\s+(?P<value>.+?)(?:\s+back\s+in)?"
    r"(?:\s+(?:from|off)\s+(?:the\s+)?(?:blacklist|block\s*list|blocked\s+list|list\s+of\s+blocked\s+\w+))?"
    r"(?:\s+again)?$"
)
_BLOCK = re.compile(
    r"^(?:block|ban|blacklist|blocklist|bar|stop\s+(?:accepting|allowing)|refuse|put|add)\s+(?P<value>.+?)"
    r"(?:\s+(?:to|on)\s+(?:the\s+)?(?:blacklist|block\s*list))?$"
)
_ALLOW_TARGET = (
    (r"(?:the\s+)?(?:admin|management|staff)(?:\s+(?:chat|console|interface|access))?", "access.management_ip_allowlist"),
    (r"(?:the\s+)?(?:(?:channel|rest|webhook)\s+)?api(?:\s+(?:access|calls|allowlist))?|(?:the\s+)?(?:channel|webhook)",
     "access.api_ip_allowlist"),
)
_ALLOW = re.compile(
    r"^(?:allow|whitelist|allowlist|permit|add|trust|accept)\s+(?P<value>.+?)\s+(?:for|to|on|in|into)\s+(?P<target>.+?)"
    r"(?:\s+allow\s*list)?$"
)
_DISALLOW = re.compile(
    r"^(?:disallow|unallow|remove|revoke|delete|drop|stop\s+allowing|take)\s+(?P<value>.+?)\s+(?:from|for|on|off|out\s+of)\s+"
    r"(?P<target>.+?)(?:\s+allow\s*list)?$"
)
_IP_LITERAL = re.compile(r"^(?:\x00\d+\x00|[0-9a-f:.]+)(?:/\d{1,3})?$")


@dataclass(frozen=True)
class _Phrase:
    """One natural phrasing of a setting change: a pattern and how its match becomes (key, value)."""

    pattern: "re.Pattern[str]"
    build: Callable[["re.Match[str]"], Tuple[str, Any]]


def _p(pattern: str, build: Callable[["re.Match[str]"], Tuple[str, Any]]) -> _Phrase:
    return _Phrase(re.compile(pattern), build)


def _minutes(match: "re.Match[str]") -> int:
    seconds = _seconds(match, 60)
    if seconds % 60:
        raise ParseError("the lockout is set in whole minutes, e.g. 'set the lockout to 30 minutes'")
    return seconds // 60


_ON = r"(?:turn\s+on|switch\s+on|enable|activate|start|use)"
_OFF = r"(?:turn\s+off|switch\s+off|disable|deactivate|stop|don't\s+use|do\s+not\s+use)"
_NEUTRAL = r"card\s+neutrali[sz](?:ation|ing|e)|neutrali[sz](?:e|ing)\s+(?:of\s+)?cards?"
_NUMBERS = r"(?:all\s+)?(?:numbers?|digits?|number\s+sequences|digit\s+strings)"
_AT_LEAST = rf"(?:with|of|having|from|containing|longer\s+than|that\s+have)?\s*(?:at\s+least\s+)?(?P<n>\d{{1,2}})\s*(?:\+|or\s+more|and\s+(?:up|more|longer))?\s*(?:digits?)?(?:\s+or\s+more|\s+and\s+(?:up|more|longer))?"

PHRASES: Tuple[_Phrase, ...] = (
    _p(rf"\b(?:hide|conceal|mask|keep)\b.*?\b{_NUMBERS}\s*{_AT_LEAST}.*\b(?:from|for|to)\s+(?:the\s+)?(?:ai|bot|nlu|model|assistant|llm)\b",
       lambda m: ("masking.ai_hidden_digits", int(m.group("n")))),
    _p(rf"\b(?:ai|nlu|model|bot)\b.*\b(?:sees?|hidden|hides?)\b.*?\b{_NUMBERS}\s*{_AT_LEAST}",
       lambda m: ("masking.ai_hidden_digits", int(m.group("n")))),
    _p(rf"\b(?:mask|hide|redact)\b.*?\b{_NUMBERS}\s*{_AT_LEAST}(?!.*\b(?:ai|nlu|model|llm)\b)",
       lambda m: ("masking.long_number_digits", int(m.group("n")))),
    _p(rf"\blong\s+numbers?\b.*?\b(?P<n>\d{{1,2}})\s*(?:\+|or\s+more)?\s*digits?",
       lambda m: ("masking.long_number_digits", int(m.group("n")))),
    _p(rf"\b{_ON}\s+(?:the\s+)?(?:{_NEUTRAL})|\b(?:{_NEUTRAL})\s+(?:on|enabled)\b|^neutrali[sz]e\s+cards?\b",
       lambda m: ("masking.card_neutralisation", True)),
    _p(rf"\b{_OFF}\s+(?:the\s+)?(?:{_NEUTRAL})|\b(?:{_NEUTRAL})\s+(?:off|disabled)\b",
       lambda m: ("masking.card_neutralisation", False)),
    _p(rf"\b(?:idle|inactivity|session|chat|conversation)\s*(?:time\s*-?\s*out|timeout|limit|expiry)\b.*?\b{_DURATION}",
       lambda m: ("session.idle_timeout_seconds", _seconds(m))),
    _p(rf"\b(?:close|end|time\s*out|expire)\s+(?:idle\s+|inactive\s+)?(?:chats|sessions|conversations)\b.*?\bafter\s+{_DURATION}",
       lambda m: ("session.idle_timeout_seconds", _seconds(m))),
    _p(rf"\bwarn(?:ing)?\b.*?\b{_DURATION}\s+before",
       lambda m: ("session.warning_lead_seconds", _seconds(m))),
    _p(rf"\b{_OFF}\s+(?:the\s+)?(?:transcript\s+)?redaction\b|\bredaction\s+off\b|\bstop\s+redacting\b|\bno\s+redaction\b",
       lambda m: ("redaction.trigger", "off")),
    _p(r"\bredact\w*\b.*?\b(?P<n>\d{1,3})\s*(?:hours?|hrs?|h)\b",
       lambda m: ("redaction", {"trigger": "time_based", "hours": int(m.group("n"))})),
    _p(r"\bredact\w*\b.*\b(?:upon|on|when|once|after)\s+(?:the\s+)?(?:conversation\s+|chat\s+)?(?:is\s+)?(?:resolve|resolved|resolution|closed|closing)\b",
       lambda m: ("redaction.trigger", "upon_resolve")),
    _p(rf"\b{_ON}\s+(?:pii\s+|the\s+)?masking\b|\bmasking\s+on\b",
       lambda m: ("masking.enabled", True)),
    _p(rf"\b{_OFF}\s+(?:pii\s+|the\s+)?masking\b|\bmasking\s+off\b",
       lambda m: ("masking.enabled", False)),
    _p(rf"\b(?:token\s+grace(?:\s+period)?|old\s+tokens?\b.*\b(?:work|valid))\b.*?\b{_DURATION}",
       lambda m: ("access.token_grace_seconds", _seconds(m))),
    _p(rf"\block\s*-?\s*out\b.*?\b{_DURATION}",
       lambda m: ("admin.lockout_minutes", _minutes(m))),
)


def parse(
    text: str, pii: Sequence[Tuple[int, int, str]] = (), channels: Iterable[str] = KNOWN_CHANNELS
) -> Command:
    """Parse one admin message. ``pii`` = (start, end, type) spans of masked PII in ``text`` (entity offsets)."""
    if not isinstance(text, str) or not text.strip():
        raise ParseError("say what to do. " + UNDERSTOOD)
    body = _with_markers(text, pii)
    lowered = body.lower() if len(body.lower()) == len(body) else body
    body, lowered = _strip_politeness(body, lowered)

    if _LOGOUT.search(lowered):
        return Command(LOGOUT)
    if _LOGIN.search(lowered):
        return Command(LOGIN)

    body, lowered, scope = _scope(body, lowered, channels)
    if _ROTATE.search(lowered):
        return Command(ROTATE, key="access.token_grace_seconds", scope=scope)
    explicit = _EXPLICIT_SET.match(lowered)
    if explicit:
        value = body[explicit.start("value") : explicit.end("value")].strip()
        if not value:
            raise ParseError(f"say the new value: 'set {explicit.group('key')} to <value>'")
        return Command(SET, key=explicit.group("key"), value=value, scope=scope, raw=True)
    reset = _RESET.match(lowered)
    if reset:
        return Command(RESET, key=reset.group("key"), scope=scope)
    if _SHOW.match(lowered) and not _HISTORY.search(lowered):
        return Command(SHOW, key=_show_key(lowered), scope=scope)
    history = _HISTORY.search(lowered)
    if history:
        count = _HISTORY_COUNT.search(lowered)
        number = int(count.group("n")) if count else DEFAULT_HISTORY
        if not 1 <= number <= MAX_HISTORY:
            raise ParseError(f"I can show between 1 and {MAX_HISTORY} changes, e.g. 'show the last 10 changes'")
        return Command(HISTORY, count=number)
    listed = _list_command(body, lowered, scope)
    if listed is not None:
        return listed
    for phrase in PHRASES:
        match = phrase.pattern.search(lowered)
        if match:
            key, value = phrase.build(match)
            return Command(SET, key=key, value=value, scope=scope)
    raise ParseError("I did not understand that command. " + UNDERSTOOD)


def _with_markers(text: str, pii: Sequence[Tuple[int, int, str]]) -> str:
    """The text with each PII span replaced by its marker (spans that overlap or fall outside are ignored)."""
    out, position = [], 0
    for index, (start, end, _type) in sorted(enumerate(pii), key=lambda item: item[1][0]):
        if start < position or end > len(text) or start >= end:
            continue
        out.append(text[position:start].replace(MARKER, ""))
        out.append(marker(index))
        position = end
    out.append(text[position:].replace(MARKER, ""))
    return " ".join("".join(out).split())


def _strip_politeness(body: str, lowered: str) -> Tuple[str, str]:
    lowered = lowered.rstrip(" .!?")
    body = body[: len(lowered)]
    prefix = _POLITE_PREFIX.match(lowered)
    if prefix:
        body, lowered = body[prefix.end() :], lowered[prefix.end() :]
    suffix = _POLITE_SUFFIX.search(lowered)
    if suffix:
        body, lowered = body[: suffix.start()], lowered[: suffix.start()]
    return body.strip(), lowered.strip()


def _scope(body: str, lowered: str, channels: Iterable[str]) -> Tuple[str, str, str]:
    """Take a channel scope ("for whatsapp", "on the sms channel", "globally") out of the text."""
    names = "|".join(re.escape(c.lower()) for c in sorted(set(channels), key=len, reverse=True) if c)
    patterns = [r"\s*\b(?:for|on|in)\s+(?:the\s+)?(?P<channel>[a-z0-9_-]+)\s+channel\b"]
    if names:
        patterns.append(rf"\s*\b(?:for|on|in)\s+(?:the\s+)?(?P<channel>{names})\b(?:\s+channel\b)?")
    for pattern in patterns:
        match = re.search(pattern, lowered)
        if match:
            cut = lambda s: (s[: match.start()] + s[match.end() :]).strip()  # noqa: E731
            return cut(body), cut(lowered), match.group("channel")
    match = re.search(r"\s*\b(?:globally|for\s+all\s+channels|on\s+all\s+channels|everywhere)\b", lowered)
    if match:
        cut = lambda s: (s[: match.start()] + s[match.end() :]).strip()  # noqa: E731
        return cut(body), cut(lowered), ""
    return body, lowered, ""


def _show_key(lowered: str) -> str:
    dotted = re.search(_DOTTED, lowered)
    if dotted:
        return dotted.group("key")
    for pattern, group in _SHOW_GROUPS:
        if re.search(rf"\b(?:{pattern})", lowered):
            return group
    return ""  # every group


def _list_command(body: str, lowered: str, scope: str) -> Optional[Command]:
    """Allowlist and blacklist edits; None if the text is neither."""
    for pattern, kind in ((_DISALLOW, REMOVE), (_ALLOW, ADD)):
        match = pattern.match(lowered)
        if match:
            key = _allow_key(match.group("target"))
            if key is not None:
                value = _slice(body, match, "value")
                if not _IP_LITERAL.match(value.lower()):
                    raise ParseError(
                        "an allowlist entry is an IP address or range, e.g. 'allow 203.0.113.0/24 for the API'"
                    )
                return Command(kind, key=key, value=value, scope=scope)
    unblock = _UNBLOCK.match(lowered)
    if unblock and (lowered.startswith(("unblock", "unban", "unblacklist", "allow back", "let back", "lift"))
                    or re.search(r"^let\s.+\sback\s+in$", lowered)
                    or re.search(r"\b(?:blacklist|block\s*list|blocked)\b|\bagain$", lowered)):
        return _blacklist_command(REMOVE, _slice(body, unblock, "value"), scope)
    block = _BLOCK.match(lowered)
    if block and (not lowered.startswith(("put", "add")) or re.search(r"\b(?:blacklist|block\s*list)\b", lowered)):
        return _blacklist_command(ADD, _slice(body, block, "value"), scope)
    if re.match(r"^(?:block|ban|unblock|unban|blacklist)$", lowered):
        raise ParseError(
            "say what to block or unblock: a phone number, an e-mail address or @domain, a country code such as +44, "
            "or 'sender <id>'"
        )
    return None


def _slice(body: str, match: "re.Match[str]", group: str) -> str:
    return body[match.start(group) : match.end(group)].strip()


def _allow_key(target: str) -> Optional[str]:
    target = target.strip()
    for pattern, key in _ALLOW_TARGET:
        if re.fullmatch(pattern, target):
            return key
    return None


_BLACKLIST_PREFIXES: Tuple[Tuple[str, str], ...] = (
    (r"(?:the\s+)?(?:country\s+(?:code|calling\s+code|prefix)|prefix|dialling\s+code|dialing\s+code)\s+", "blacklist.country_codes"),
    (r"(?:the\s+)?(?:sender(?:\s+id)?|user\s+id|id)\s*:?\s+", "blacklist.sender_ids"),
    (r"(?:the\s+)?(?:(?:phone\s+)?number|phone|mobile(?:\s+number)?)\s+", "blacklist.phone_numbers"),
    (r"(?:the\s+)?(?:e-?mail(?:\s+address)?|address|domain)\s+", "blacklist.emails"),
)


def _blacklist_command(kind: str, value: str, scope: str) -> Command:
    """``key`` is the list when the admin named it, else ``blacklist`` (the caller picks the list from the value)."""
    value = re.sub(r"^(?:the\s+|all\s+)", "", value, flags=re.I).strip()
    for prefix, key in _BLACKLIST_PREFIXES:
        match = re.match(prefix, value, flags=re.I)
        if match:
            entry = value[match.end() :].strip()
            if key == "blacklist.country_codes" and re.fullmatch(r"\d{1,3}", entry):
                entry = "+" + entry
            return Command(kind, key=key, value=entry, scope=scope)
    if not value:
        raise ParseError("say what to block: a phone number, an e-mail address or @domain, a country code such as +44")
    return Command(kind, key="blacklist", value=value, scope=scope)


def blacklist_key(value: str, default_region: str) -> str:
    """The blacklist list an entry belongs to, from its form; raises ``ParseError`` saying what forms are accepted."""
    try:
        entry = blacklist.parse_entry(value, default_region, ("country_code", "phone", "email", "email_domain"))
    except blacklist.InvalidBlacklistEntry as error:
        raise ParseError(f"{error}; or say 'sender <id>' to block a channel sender id") from None
    return "blacklist." + blacklist.SETTINGS_FIELD[entry.kind]
