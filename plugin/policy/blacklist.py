"""Sender blacklists: parse what an admin types into normalised entries and match a sender's identity against them.

Phone numbers are compared as E.164 and country codes by the parsed country calling code, so notation never decides
whether a sender is blocked. Entries and identities hold raw PII, so their reprs and every message here are masked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any, Dict, FrozenSet, Iterable, Mapping, Optional, Tuple

import phonenumbers

logger = logging.getLogger(__name__)

KINDS: Tuple[str, ...] = ("country_code", "phone", "email", "email_domain", "sender_id")

# Which ``BlacklistSettings`` list stores an entry of each kind (domains live with e-mail addresses as ``@domain``).
SETTINGS_FIELD: Dict[str, str] = {
    "country_code": "country_codes",
    "phone": "phone_numbers",
    "email": "emails",
    "email_domain": "emails",
    "sender_id": "sender_ids",
}
# The kinds an entry of each settings list may have.
FIELD_KINDS: Dict[str, Tuple[str, ...]] = {
    "country_codes": ("country_code",),
    "phone_numbers": ("phone",),
    "emails": ("email", "email_domain"),
    "sender_ids": ("sender_id",),
}


# Prefixes channels put before a phone number in a sender id (Twilio/WhatsApp style, tel: URIs).
_PHONE_PREFIXES = ("whatsapp:", "tel:", "sms:", "wa:")
# Channels whose sender ids are international numbers even without a leading + (Meta's wa_id, SMS gateways).
_PHONE_CHANNELS: FrozenSet[str] = frozenset({"whatsapp", "sms", "twilio", "voice"})
_SENDER_ID_PREFIXES = ("sender:", "id:")

_COUNTRY_CODE = re.compile(r"^\+\s*(\d{1,4})$")
_COUNTRY_CODE_LOOSE = re.compile(r"^(?:\+|00)?\s*(\d{1,3})$")
_PHONE_CHARS = re.compile(r"^[+(]?[\d\s().\-/]{5,}$")
_LABEL = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9]$")
_LOCAL_PART = re.compile(r"^[a-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}$")


class InvalidBlacklistEntry(ValueError):
    """A blacklist entry that is none of the accepted forms; the message masks the value and lists the forms."""


@dataclass(frozen=True)
class BlacklistEntry:
    """One normalised entry: ``+44`` (country_code), ``+31612345678`` (phone), ``a@b.nl`` (email),
    ``b.nl`` (email_domain) or a raw channel sender id."""

    kind: str
    value: str = field(repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown blacklist entry kind {self.kind!r}; expected one of {', '.join(KINDS)}")

    @property
    def masked(self) -> str:
        """The entry as it may appear in chat replies and audit entries."""
        if self.kind == "country_code":
            return self.value
        if self.kind == "phone":
            return mask_phone(self.value)
        if self.kind == "email":
            return mask_email(self.value)
        if self.kind == "email_domain":
            return "@" + self.value
        return mask_text(self.value)

    @property
    def settings_value(self) -> str:
        """The text stored in the ``BlacklistSettings`` list named by ``SETTINGS_FIELD[kind]``."""
        return "@" + self.value if self.kind == "email_domain" else self.value

    def __repr__(self) -> str:
        return f"BlacklistEntry(kind={self.kind!r}, value={self.masked!r})"


@dataclass(frozen=True)
class SenderIdentity:
    """Who sent a message: the channel's raw sender id plus the phone and e-mail it proves, if any.

    ``phone_e164`` and ``email`` make one identity across channels: the same number on WhatsApp and on SMS matches
    the same entry.
    """

    channel: str
    sender_id: str = field(repr=False)
    phone_e164: Optional[str] = field(default=None, repr=False)
    email: Optional[str] = field(default=None, repr=False)
    stored_id: Optional[str] = None  # the conversation's pseudonym, as exports and the audit trail show it

    def __repr__(self) -> str:
        return f"SenderIdentity(channel={self.channel!r}, sender={mask_identity(self)!r})"


def mask_text(value: str) -> str:
    """Mask an arbitrary value, keeping at most its first and last two characters (fewer when it is short)."""
    if len(value) <= 4:
        return "*" * len(value)
    keep = 1 if len(value) < 10 else 2
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_phone(e164: str) -> str:
    """``+31612345678`` -> ``+31 6 **** **78``: the country code, the first national digit and the last two digits."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return mask_text(e164)
    national = phonenumbers.national_significant_number(number)
    if len(national) < 4:
        return f"+{number.country_code} " + "*" * len(national)
    hidden = "*" * (len(national) - 3) + national[-2:]
    groups = [hidden[max(0, end - 4) : end] for end in range(len(hidden), 0, -4)]
    return f"+{number.country_code} {national[0]} " + " ".join(reversed(groups))


def mask_email(email: str) -> str:
    """``jan.jansen@example.com`` -> ``j***@example.com`` (the domain is not personal on its own)."""
    local, _, domain = email.rpartition("@")
    if not local:
        return mask_text(email)
    return f"{local[0]}***@{domain}"


def mask_identity(identity: SenderIdentity) -> str:
    """The identity as an audit entry may show it: a masked phone, else a masked e-mail, else a masked sender id."""
    if identity.phone_e164:
        return mask_phone(identity.phone_e164)
    if identity.email:
        return mask_email(identity.email)
    return mask_text(identity.sender_id)


def parse_entry(text: str, default_region: str, kinds: Optional[Iterable[str]] = None) -> BlacklistEntry:
    """Read one entry as typed by an admin; ``kinds`` restricts the accepted forms (e.g. for one settings list).

    National phone notations are read in ``default_region`` (ISO 3166 code such as ``NL``).
    """
    wanted = tuple(kinds) if kinds is not None else KINDS
    unknown = [k for k in wanted if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown blacklist entry kinds {unknown}; expected some of {', '.join(KINDS)}")
    raw = text.strip() if isinstance(text, str) else ""
    if not raw:
        raise InvalidBlacklistEntry(f"a blacklist entry cannot be empty; use {_forms(wanted, default_region)}")
    lowered = raw.lower()

    if wanted == ("sender_id",):
        return BlacklistEntry("sender_id", raw)
    if lowered.startswith(_SENDER_ID_PREFIXES):
        sender = raw.split(":", 1)[1].strip()
        if sender and "sender_id" in wanted:
            return BlacklistEntry("sender_id", sender)
        raise _invalid(raw, wanted, default_region)

    if "@" in raw:
        entry = _parse_email_like(lowered)
        if entry is not None and entry.kind in wanted:
            return entry
        raise _invalid(raw, wanted, default_region)

    country = (_COUNTRY_CODE_LOOSE if wanted == ("country_code",) else _COUNTRY_CODE).match(raw)
    if country and "country_code" in wanted:
        code = int(country.group(1))
        if phonenumbers.region_code_for_country_code(code) == "ZZ":
            raise InvalidBlacklistEntry(
                f"+{code} is not a country calling code; use one such as +44 or +31 "
                "(countries of the North American plan all share +1)"
            )
        return BlacklistEntry("country_code", f"+{code}")

    if "phone" in wanted:
        e164 = normalise_phone(raw, default_region)
        if e164 is not None:
            return BlacklistEntry("phone", e164)

    if "email_domain" in wanted:
        domain = _normalise_domain(lowered)
        if domain is not None:
            return BlacklistEntry("email_domain", domain)
    raise _invalid(raw, wanted, default_region)


def normalise_phone(text: str, default_region: str) -> Optional[str]:
    """E.164 form of a valid phone number in any notation (``+31 6 1234 5678``, ``06-12345678``, ``tel:+31...``).

    None when the text is not a valid number in ``default_region`` or internationally."""
    candidate = text.strip()
    lowered = candidate.lower()
    for prefix in _PHONE_PREFIXES:
        if lowered.startswith(prefix):
            candidate = candidate[len(prefix) :].strip()
            break
    if not _PHONE_CHARS.match(candidate):
        return None
    try:
        number = phonenumbers.parse(candidate, default_region.upper() if default_region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def identity_from_sender(
    channel: str,
    sender_id: str,
    default_region: str,
    *,
    phone: Optional[str] = None,
    email: Optional[str] = None,
) -> SenderIdentity:
    """Build the identity of a sender from the channel's sender id, reading a phone number or e-mail address out of it.

    ``phone``/``email`` are values the channel has verified itself (e.g. an authenticated web chat); they win over the id.
    Plain digits count as a phone number only on phone channels (WhatsApp, SMS), so a Telegram chat id is never one.
    What an untrusted channel (REST) claims is good enough to block a sender, never to grant anything.
    """
    channel_name = (channel or "").strip().lower()
    raw = (sender_id or "").strip()
    lowered = raw.lower()

    phone_e164 = normalise_phone(phone, default_region) if phone else None
    if phone_e164 is None:
        phone_e164 = _phone_from_sender(channel_name, raw, lowered, default_region)

    email_value = _normalise_email(email.strip().lower()) if email else None
    if email_value is None and "@" in raw:
        email_value = _normalise_email(lowered[len("mailto:") :] if lowered.startswith("mailto:") else lowered)
    return SenderIdentity(channel=channel_name, sender_id=raw, phone_e164=phone_e164, email=email_value)


@dataclass(frozen=True)
class Blacklist:
    """An immutable set of entries with lookups by kind; build it once per settings version and share it."""

    entries: Tuple[BlacklistEntry, ...] = ()
    _index: Dict[Tuple[str, str], BlacklistEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "entries", tuple(dict.fromkeys(self.entries)))
        # First entry wins for duplicates, so the reported match is stable.
        index: Dict[Tuple[str, str], BlacklistEntry] = {}
        for entry in self.entries:
            index.setdefault((entry.kind, entry.value), entry)
        object.__setattr__(self, "_index", index)

    @classmethod
    def from_settings(cls, settings: object) -> "Blacklist":
        """Build from a ``BlacklistSettings``; an invalid stored entry raises, naming the list it is in."""
        region = str(getattr(settings, "default_region", "") or "")
        entries = []
        for list_name, kinds in FIELD_KINDS.items():
            for position, text in enumerate(getattr(settings, list_name, ()) or (), start=1):
                try:
                    entries.append(parse_entry(text, region, kinds))
                except InvalidBlacklistEntry as error:
                    raise InvalidBlacklistEntry(f"blacklist.{list_name} entry {position}: {error}") from None
        return cls(tuple(entries))

    def __len__(self) -> int:
        return len(self.entries)

    def match(self, identity: SenderIdentity) -> Optional[BlacklistEntry]:
        """The most specific entry that blocks this sender (sender id, phone, e-mail, domain, country code), or None."""
        found = self._index.get(("sender_id", identity.sender_id))
        if found is None and identity.stored_id:
            found = self._index.get(("sender_id", identity.stored_id))
        if found is None and identity.phone_e164:
            found = self._index.get(("phone", identity.phone_e164))
        if found is None and identity.email:
            found = self._index.get(("email", identity.email)) or self._match_domain(identity.email)
        if found is None and identity.phone_e164:
            found = self._match_country(identity.phone_e164)
        return found

    def _match_domain(self, email: str) -> Optional[BlacklistEntry]:
        labels = email.rpartition("@")[2].split(".")
        # An entry for a domain also blocks its subdomains: @example.com blocks a@mail.example.com.
        for start in range(len(labels) - 1):
            found = self._index.get(("email_domain", ".".join(labels[start:])))
            if found is not None:
                return found
        return None

    def _match_country(self, e164: str) -> Optional[BlacklistEntry]:
        try:
            code = phonenumbers.parse(e164, None).country_code
        except phonenumbers.NumberParseException:
            return None
        return self._index.get(("country_code", f"+{code}"))


def _phone_from_sender(channel: str, raw: str, lowered: str, default_region: str) -> Optional[str]:
    body = raw
    prefixed = False
    for prefix in _PHONE_PREFIXES:
        if lowered.startswith(prefix):
            body, prefixed = raw[len(prefix) :].strip(), True
            break
    if body.startswith("+") or body.startswith("00"):
        return normalise_phone(body, default_region)
    if body.isdigit() and (prefixed or channel in _PHONE_CHANNELS):
        return normalise_phone("+" + body, default_region)
    return None


def _parse_email_like(lowered: str) -> Optional[BlacklistEntry]:
    if lowered.startswith("mailto:"):
        lowered = lowered[len("mailto:") :]
    if lowered.startswith("*@") or lowered.startswith("@"):
        domain = _normalise_domain(lowered.split("@", 1)[1])
        return BlacklistEntry("email_domain", domain) if domain else None
    email = _normalise_email(lowered)
    return BlacklistEntry("email", email) if email else None


def _normalise_email(lowered: str) -> Optional[str]:
    local, sep, domain_part = lowered.rpartition("@")
    if not sep or not _LOCAL_PART.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
        return None
    domain = _normalise_domain(domain_part)
    return f"{local}@{domain}" if domain else None


def _normalise_domain(text: str) -> Optional[str]:
    domain = text.strip().rstrip(".")
    if not domain or len(domain) > 253:
        return None
    try:
        domain = domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return None
    return domain if _DOMAIN.match(domain) else None


def _forms(kinds: Tuple[str, ...], region: str) -> str:
    examples = {
        "country_code": "a country code (+44)",
        "phone": f"a valid phone number (+31 6 1234 5678, or national notation for region {region or '?'})",
        "email": "an e-mail address (name@example.com)",
        "email_domain": "an e-mail domain (@example.com)",
        "sender_id": "a sender id (sender:<id>)",
    }
    named = [examples[k] for k in kinds]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def _invalid(raw: str, kinds: Tuple[str, ...], region: str) -> InvalidBlacklistEntry:
    return InvalidBlacklistEntry(f"{mask_text(raw)!r} is not a valid blacklist entry; use {_forms(kinds, region)}")


@dataclass(frozen=True)
class Block:
    """A sender blocked by one entry; ``identity`` holds raw values and is never shown unmasked."""

    entry: BlacklistEntry
    identity: SenderIdentity = field(repr=False)


_parsed: Dict[object, Blacklist] = {}


def blacklist_of(settings: object) -> Blacklist:
    """The parsed list of a ``BlacklistSettings``, kept while those settings stay equal (a new version replaces it)."""
    found = _parsed.get(settings)
    if found is None:
        found = Blacklist.from_settings(settings)
        _parsed.clear()
        _parsed[settings] = found
    return found


def find_block(
    settings: object,
    channel: Optional[str],
    sender_id: str,
    verified: Mapping[str, Any],
    stored_id: Optional[str] = None,
) -> Optional[Block]:
    """The entry of ``settings`` (a ``BlacklistSettings``) that blocks this sender, or None. ``verified`` is the
    guarded channel's metadata (a phone or e-mail it proved); a ``sender_ids`` entry may name the conversation's
    stored pseudonym ``stored_id`` too. An unreadable stored list blocks nobody but is logged."""
    try:
        blacklist = blacklist_of(settings)
    except InvalidBlacklistEntry as error:
        logger.error("rasa-guard: the blacklist cannot be read (%s); no sender is blocked", error)
        return None
    if not len(blacklist):
        return None
    identity = identity_from_sender(
        channel or "",
        sender_id,
        str(getattr(settings, "default_region", "") or ""),
        phone=verified.get("verified_phone") or None,
        email=verified.get("verified_email") or None,
    )
    entry = blacklist.match(replace(identity, stored_id=stored_id) if stored_id else identity)
    return Block(entry, identity) if entry is not None else None
