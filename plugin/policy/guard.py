"""The per-process entry point of the plugin: settings in force, engines built from them, and the plugin state.

The Rasa server (NLU component, channel, tracker store, logs), the action server and the CLI all ask
``current_guard()``, so one process never masks the same text two ways, and a change made in the admin chat reaches
every process within the settings poll interval (``LiveSettings``).
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple

from plugin.pii import Engine, Span, build_engine
from plugin.policy.audit import AuditLog
from plugin.policy.event_masking import EventMaskingRules
from plugin.policy.log_redaction import NamedFields, named_field_pattern, redact_named_fields
from plugin.policy.masking import engine_config
from plugin.policy.schema import Settings
from plugin.policy.settings import PrivacyConfig, load_privacy_config, resolve, state_url
from plugin.storage import conversation_ids
from plugin.storage.conversation_ids import ConversationIds
from plugin.storage.db import StateDB, state_dir_of
from plugin.storage.deployment_key import check_deployment_key
from plugin.storage.keys import MasterKey, key_file_path, load_master_key, subkey
from plugin.storage.settings_store import LiveSettings, SettingsStore
from plugin.storage.vault import Vault, is_token

logger = logging.getLogger(__name__)

GLOBAL_SCOPE = ""
ENTITY_EXTRACTOR = "PIIMasker"
STATE_RETRY_SECONDS = 30.0
LOG_CACHE_MIN_CHARS = 200
LOG_CACHE_ENTRIES = 4096
REPEAT_CACHE_ENTRIES = 8192
REPEAT_CACHE_SCOPES = 64  # (engine, view) pairs kept; more means settings churn: start over
CLEAN_PREFIX = "clean/"  # digest cache of customer texts in which an engine found nothing, per stored view


@dataclass(frozen=True)
class ProtectedText:
    """One customer message after real-time masking: what is stored, what the NLU model sees, and the PII entities."""

    storage_text: str = field(repr=False)
    nlu_text: str = field(repr=False)
    entities: Tuple[Dict[str, Any], ...] = ()
    timed_out: bool = False
    original_token: Optional[str] = None  # vault token of the whole original text, kept until deferred redaction


@dataclass(frozen=True)
class PluginState:
    """The plugin-state database and what lives in it, opened once per process."""

    url: str
    db: StateDB
    master_key: MasterKey
    audit: AuditLog
    vault: Vault
    settings_store: SettingsStore
    live: LiveSettings


class StateUnavailable(RuntimeError):
    """The plugin-state database could not be opened; the message says which URL and why (no secrets)."""


class Guard:
    """Settings per channel, the engines built from them (rebuilt when the settings change) and the plugin state."""

    def __init__(
        self, config: PrivacyConfig, poll_seconds: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self._poll_seconds = poll_seconds
        self._clock = clock
        self._lock = threading.RLock()
        self._file_settings: Dict[str, Settings] = {}
        self._engines: Dict[str, Tuple[Settings, Engine]] = {}
        self._settings_now: Dict[Tuple[int, str], Settings] = {}
        self._repeat_caches: Dict[Tuple[int, str], Tuple[Engine, Dict[bytes, str]]] = {}
        self._event_rules: Dict[Tuple[str, bool], Tuple[Settings, Engine, EventMaskingRules]] = {}
        self._named_fields: Tuple[Any, Optional[NamedFields]] = (None, None)  # (settings version and scopes, names)
        self._state: Optional[PluginState] = None
        self._seal_key: Optional[bytes] = None
        self._state_failed_at: Optional[float] = None
        self._admin_conversations: Any = None  # AdminConversations, opened on first use

    # -- state ------------------------------------------------------------------------------------------------------

    @property
    def state(self) -> PluginState:
        """Open the state database (and create the master key file) on first use; raises ``StateUnavailable``."""
        if self._state is None:
            with self._lock:
                if self._state is None:
                    self._state = self._open_state()
        return self._state

    def _open_state(self) -> PluginState:
        url = state_url(self.config.settings)
        try:
            db = StateDB.open(url)
            master_key = load_master_key(key_file_path(state_dir_of(url)))
            check_deployment_key(db, master_key)
            db.conversation_ids = conversation_ids.for_mode(self.config.settings.storage.conversation_ids, master_key)
            audit = AuditLog(db, redact=self.mask_log)
            store = SettingsStore(db, audit)
            live = LiveSettings(store, self.config, poll_seconds=self._poll_seconds, clock=self._clock)
            return PluginState(url, db, master_key, audit, Vault(db, master_key, audit), store, live)
        except Exception as error:  # noqa: BLE001 - reported as one specific error
            raise StateUnavailable(f"plugin state at {_safe_url(url)} unavailable: {type(error).__name__}: {error}") from None

    @property
    def vault(self) -> Vault:
        return self.state.vault

    @property
    def conversation_ids(self) -> ConversationIds:
        """How conversation ids are stored (``storage.conversation_ids``), in every store of this deployment."""
        return self.state.db.conversation_ids

    # -- settings and engines ---------------------------------------------------------------------------------------

    def settings(self, channel: Optional[str] = None) -> Settings:
        """Settings in force for ``channel``: the file's, plus runtime changes once the state database is reachable.

        If it is not, the file's settings apply (they mask no less) and the database is tried again later.
        """
        live = self._live()
        if live is not None:
            return live.settings(channel or None)
        scope = channel or GLOBAL_SCOPE
        if scope not in self._file_settings:
            self._file_settings[scope] = resolve(self.config, channel=channel or None)
        return self._file_settings[scope]

    def settings_now(self, channel: Optional[str] = None) -> Settings:
        """Settings in force for ``channel`` as of this instant (one version read), not up to a poll interval behind:
        a blacklist entry added in the admin chat applies to the very next message."""
        try:
            store = self.state.settings_store
            key = (store.version(), channel or GLOBAL_SCOPE)
            found = self._settings_now.get(key)
            if found is None:
                found = store.snapshot().resolve(self.config, channel or None)
                with self._lock:
                    if any(cached[0] != key[0] for cached in self._settings_now):
                        self._settings_now.clear()
                    self._settings_now[key] = found
            return found
        except Exception as error:  # noqa: BLE001 - state unreachable: the polled (or file) settings apply
            logger.error("rasa-guard: current settings unavailable (%s); using the polled settings", type(error).__name__)
            return self.settings(channel)

    def _live(self) -> Optional[LiveSettings]:
        if self._state is not None:
            return self._state.live
        if self._state_failed_at is not None and self._clock() - self._state_failed_at < STATE_RETRY_SECONDS:
            return None
        try:
            return self.state.live
        except StateUnavailable as error:
            self._state_failed_at = self._clock()
            logger.error("%s; using the settings file only until it is back", error)
            return None

    def engine(self, channel: Optional[str] = None) -> Engine:
        scope = channel or GLOBAL_SCOPE
        settings = self.settings(channel)
        cached = self._engines.get(scope)
        if cached is None or cached[0] is not settings:
            with self._lock:
                cached = self._engines.get(scope)
                if cached is None or cached[0] is not settings:
                    cached = (settings, build_engine(engine_config(settings.masking, self._hash_key())))
                    self._engines[scope] = cached
        return cached[1]

    def metadata_seal_key(self) -> bytes:
        """Key of the seal on ``metadata["rasa_guard"]`` (``metadata_seal``), derived from the master key that the Rasa
        server and the action server share; empty without plugin state, so nothing is sealed or trusted then."""
        if self._seal_key is None:
            try:
                self._seal_key = subkey(self.state.master_key, "metadata-seal")
            except StateUnavailable as error:
                logger.error("rasa-guard: no key to seal or verify message metadata: %s", error)
                return b""
        return self._seal_key

    def _hash_key(self) -> bytes:
        """Key of the ``hash`` strategy, derived from the master key; without state the strategy renders tags."""
        return subkey(self._state.master_key, "hash-strategy") if self._state is not None else b""

    # -- masking ----------------------------------------------------------------------------------------------------

    def mask(self, text: str, view: str, channel: Optional[str] = None) -> str:
        return self.engine(channel).mask(text, view).text

    def repeated_masker(
        self, view: str, channel: Optional[str] = None, entries: int = REPEAT_CACHE_ENTRIES
    ) -> Callable[[str], str]:
        """``mask`` for texts that come again and again (a stored event repeats its text in the parse data and the
        metadata; intent names and bot templates recur every turn), with the scope's engine looked up once.
        Renderings are cached by a digest of the text, so the cache never holds raw text; a new engine (the
        settings changed) starts a new cache."""
        engine = self.engine(channel)
        renderings = self._renderings(engine, view)

        def mask(text: str) -> str:
            key = _digest(text)
            masked = renderings.get(key)
            if masked is None:
                masked = engine.mask(text, view).text
                _remember(renderings, key, masked, entries)
            return masked

        return mask

    def _renderings(self, engine: Engine, view: str) -> Dict[bytes, str]:
        """The digest cache of ``repeated_masker`` for one engine and view."""
        cache = self._repeat_caches.get((id(engine), view))
        if cache is None or cache[0] is not engine:
            with self._lock:
                if len(self._repeat_caches) > REPEAT_CACHE_SCOPES:
                    self._repeat_caches.clear()
                cache = self._repeat_caches[(id(engine), view)] = (engine, {})
        return cache[1]

    def _note_masked(self, engine: Engine, view: str, masked_text: str) -> None:
        """Record that ``masked_text``, an output of ``engine`` for ``view``, masks to itself (the engine is
        idempotent): the tracker store then stores the channel's rendering of a message without scanning it again."""
        _remember(self._renderings(engine, view), _digest(masked_text), masked_text, REPEAT_CACHE_ENTRIES)

    def mask_log(self, text: str) -> str:
        """The ``log`` view of the global scope, with the values of metadata fields and slots named sensitive in any
        scope redacted whole: what any log line may contain.

        Rasa at DEBUG repeats long, identical lines (dialogue states, predictions) many times per message: long lines
        go through the digest cache of ``repeated_masker``, so the cache never holds raw text.
        """
        text = redact_named_fields(text, self._sensitive_fields())
        if len(text) < LOG_CACHE_MIN_CHARS:
            return self.engine().mask(text, "log").text
        return self.repeated_masker("log", entries=LOG_CACHE_ENTRIES)(text)

    def _sensitive_fields(self) -> Optional[NamedFields]:
        """The metadata fields and slots named sensitive in any scope (a log line does not say whose conversation it
        is from): Rasa's debug lines show them (every slot value, an action's events), and no pattern finds a name.
        Recomputed only when the settings version or the set of scopes changes (every log line asks)."""
        live = self._live()
        scopes = (GLOBAL_SCOPE, *self.config.channel_overrides, *self._engines, *(live.changed_scopes() if live else ()))
        key = (live.version if live else None, scopes)
        known_key, known = self._named_fields
        if known_key == key:
            return known
        known = _sensitive_names(self.settings(scope or None) for scope in set(scopes))
        self._named_fields = (key, known)
        return known

    def known_sensitive_fields(self) -> Optional[NamedFields]:
        """For the fallback masker, when reading the settings failed: the names last computed for log lines, else
        those of the settings file alone (no database read), so that such a line still has them redacted."""
        key, known = self._named_fields
        if key is not None:
            return known
        return _sensitive_names(resolve(self.config, channel=scope) for scope in (None, *self.config.channel_overrides))

    def protect(
        self,
        text: str,
        channel: Optional[str] = None,
        conversation_id: Optional[str] = None,
        *,
        awaiting_code: bool = False,
    ) -> ProtectedText:
        """Real-time masking of a customer message: one scan, the stored and nlu renderings, and one entity per PII
        span in the nlu text whose value is a vault token for the original (so slots never hold raw values).

        Under deferred redaction the stored text is the ``agent`` rendering and the whole original goes to the vault
        until the redaction job rewrites the transcript; otherwise it is the final ``storage`` rendering.
        ``awaiting_code`` (an OTP is expected from this conversation) masks every 4-8 digit number as a PIN.
        The originals are stored when this returns; if the vault cannot store them, the entities carry their types'
        tags instead and no original-text token is given.
        """
        settings = self.settings(channel)
        engine = self.engine(channel)
        deferred = settings.redaction.trigger != "off"
        stored_view = "agent" if deferred else "storage"
        clean_texts = self._renderings(engine, f"{CLEAN_PREFIX}{stored_view}")
        key = None if awaiting_code else _digest(text)
        if key is not None and key in clean_texts:
            self._note_masked(engine, stored_view, text)
            return ProtectedText(text, text)  # "ok, thanks" again: both views found nothing in it last time
        stored, nlu = engine.mask_views(text, (stored_view, "nlu"))
        spans, placed, nlu_text = list(nlu.spans), list(nlu.output_spans), nlu.text
        stored_text = stored.text
        if awaiting_code:
            stored_text = mask_codes(stored_text)
            nlu_text, spans, placed = _codes_as_pins(nlu_text, text, spans, placed)
        else:
            self._note_masked(engine, stored_view, stored_text)
            if key is not None and not spans and not stored.spans and not stored.timed_out and not nlu.timed_out:
                _remember(clean_texts, key, "", REPEAT_CACHE_ENTRIES)
        originals = [(text[span.start : span.end], span.type) for span in spans]
        if deferred and stored_text != text:
            originals.append((text, "original_text"))
        tokens = self._vault_tokens(originals, conversation_id, settings.masking.vault_ttl_hours * 3600)
        entities = tuple(
            {
                "entity": span.type,
                "value": token,
                "start": start,
                "end": end,
                "confidence_entity": 1.0,
                "extractor": ENTITY_EXTRACTOR,
            }
            for span, (start, end), token in zip(spans, placed, tokens)
        )
        original = tokens[len(spans)] if len(tokens) > len(spans) and is_token(tokens[len(spans)]) else None
        return ProtectedText(stored_text, nlu_text, entities, stored.timed_out or nlu.timed_out, original)

    def protect_message(self, text: str, channel: Optional[str] = None, conversation_id: Optional[str] = None) -> ProtectedText:
        """``protect`` for a customer message as it arrives: numbers are taken for an OTP while the admin chat awaits
        one from this conversation. Only a text holding a 4-8 digit number can carry a code, so only such a text costs
        the state read (the masking of any other text is the same either way)."""
        expects_code = _CODE.search(text) is not None and self.awaiting_code(conversation_id)
        return self.protect(text, channel, conversation_id, awaiting_code=expects_code)

    def _vault_tokens(self, originals: List[Tuple[str, str]], conversation_id: Optional[str], ttl_seconds: int) -> List[str]:
        """Vault tokens for one message's ``(original, pii_type)`` pairs, in one transaction; if the vault is
        unavailable each entity carries only its type's tag (and no original is kept)."""
        if not originals:
            return []
        try:
            return self.vault.store_many(originals, conversation_id=conversation_id, ttl_seconds=ttl_seconds)
        except Exception as error:  # noqa: BLE001 - fail closed: the raw value is never the fallback
            logger.error("vault unavailable (%s); %d value(s) keep no original", type(error).__name__, len(originals))
            return [f"#{pii_type}#" for _, pii_type in originals]

    def awaiting_code(self, conversation_id: Optional[str]) -> bool:
        """True while the admin chat awaits an OTP from this conversation, and a grace period after the request
        expired (then ``protect(..., awaiting_code=True)``).

        If the state cannot be read the answer is True: masking one number too many is the safe mistake.
        """
        if not conversation_id:
            return False
        try:
            if self._admin_conversations is None:
                from plugin.storage.admin_conversations import AdminConversations

                if self._live() is None:  # state unavailable; retried every STATE_RETRY_SECONDS
                    return True

                self._admin_conversations = AdminConversations(self.state.db)
            return self._admin_conversations.masks_codes(conversation_id)
        except Exception as error:  # noqa: BLE001 - fail closed
            logger.error("cannot read OTP requests (%s); treating codes as expected", type(error).__name__)
            return True

    def event_rules(self, channel: Optional[str] = None, deferred: bool = True) -> EventMaskingRules:
        """How events of a conversation on ``channel`` are masked for storage and the event broker. ``deferred``:
        the destination is rewritten by the redaction job later (SQL transcripts), so it may hold the agent rendering
        until then; anything else (brokers, other stores) gets the final rendering at once."""
        settings = self.settings(channel)
        engine = self.engine(channel)
        key = (channel or GLOBAL_SCOPE, deferred)
        cached = self._event_rules.get(key)
        if cached is not None and cached[0] is settings and cached[1] is engine:
            return cached[2]  # one per tracker save: built again only when the settings change
        masking = settings.masking
        view = "agent" if deferred and settings.redaction.trigger != "off" else "storage"
        rules = EventMaskingRules(
            mask=self.repeated_masker(view, channel),
            is_token=is_token,
            mask_bot_messages=masking.masked_messages == "agent_and_customer",
            sensitive_slots=frozenset(masking.sensitive_slots),
            sensitive_metadata=frozenset(masking.sensitive_metadata),
        )
        self._event_rules[key] = (settings, engine, rules)
        return rules


def _sensitive_names(scopes: Iterable[Settings]) -> Optional[NamedFields]:
    """The metadata fields and slots named sensitive in any of these scopes' settings, as one log-line pattern."""
    masking = [settings.masking for settings in scopes]
    names = {name for each in masking for name in (*each.sensitive_metadata, *each.sensitive_slots)}
    return named_field_pattern(tuple(sorted(names)))


def _digest(text: str) -> bytes:
    """The repeated-text caches' key: a digest, so that the caches never hold raw text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def _remember(renderings: Dict[bytes, str], key: bytes, masked: str, entries: int) -> None:
    if len(renderings) >= entries:
        renderings.pop(next(iter(renderings)), None)
    renderings[key] = masked


# 4-8 digits, also grouped by single spaces or dashes ("225 964", "008-701"): OTP checks ignore those separators.
_CODE = re.compile(r"(?<![0-9])[0-9](?:[ \-]?[0-9]){3,7}(?![0-9])")
CODE_TAG = "#pinpuknr#"


def mask_codes(text: str) -> str:
    """Every stand-alone 4-8 digit number (grouped or not) as a PIN tag: what a conversation awaiting an OTP stores."""
    return _CODE.sub(CODE_TAG, text)


def _codes_as_pins(nlu_text: str, original: str, spans: list, placed: list) -> Tuple[str, list, list]:
    """Also in the nlu rendering, the code becomes a ``pin_puk`` entity (its vault token is what the action reads).
    Codes are looked for between the spans only: a grouped match running into a span ("12,50 4821" after a currency
    span) must not hide the code that follows it."""
    gaps, position = [], 0
    for span in sorted(spans, key=lambda span: span.start):
        gaps.append((position, span.start))
        position = max(position, span.end)
    gaps.append((position, len(original)))
    for match in [match for begin, end in gaps for match in _CODE.finditer(original, begin, end)]:
        shift = sum((end - start) - (s.end - s.start) for s, (start, end) in zip(spans, placed) if s.end <= match.start())
        start = match.start() + shift
        nlu_text = nlu_text[:start] + CODE_TAG + nlu_text[start + len(match.group()) :]
        span = Span(match.start(), match.end(), "pin_puk")
        index = sum(1 for s in spans if s.end <= match.start())
        spans.insert(index, span)
        placed.insert(index, (start, start + len(CODE_TAG)))
        placed[index + 1 :] = [(a + len(CODE_TAG) - len(match.group()), b + len(CODE_TAG) - len(match.group())) for a, b in placed[index + 1 :]]
    return nlu_text, spans, placed


def _safe_url(url: str) -> str:
    """The URL without its password, for error messages."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "(unparsable URL)"


_current: Optional[Guard] = None
_current_lock = threading.Lock()


def current_guard() -> Guard:
    """The process-wide guard, loaded from ``privacy.yml`` (or ``$RASA_GUARD_CONFIG``) on first use."""
    global _current
    if _current is None:
        with _current_lock:
            if _current is None:
                _current = Guard(load_privacy_config())
    return _current


def set_current_guard(guard: Optional[Guard]) -> None:
    """Replace the process-wide guard (tests, or a settings reload)."""
    global _current
    _current = guard


def install_log_redaction() -> None:
    """Mask every log line of this process with the ``log`` view; before settings load, the built-in defaults do it."""
    from plugin.policy import log_redaction

    defaults = build_engine()

    def fallback(text: str) -> str:
        guard = _current
        names = guard.known_sensitive_fields() if guard is not None else None
        return defaults.mask(redact_named_fields(text, names), "log").text

    def mask(text: str) -> str:
        try:
            return current_guard().mask_log(text)
        except Exception:  # noqa: BLE001 - unreadable settings must not stop masking: use the defaults
            return fallback(text)

    log_redaction.install(mask, fallback)
