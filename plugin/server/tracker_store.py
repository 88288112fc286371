"""``MaskingTrackerStore``: wraps any Rasa tracker store and masks every event before it is persisted or published.

endpoints.yml::

    tracker_store:
      type: plugin.server.tracker_store.MaskingTrackerStore
      store:                 # the real store, exactly as it would stand under tracker_store:
        type: SQL
        dialect: sqlite
        db: .rasa-guard/tracker.db

Rasa's stores append only the events beyond those already stored (and stream those to the event broker), so the
wrapper hands the inner store a tracker with the same number of events, each masked one for one. If the inner store
cannot be built, or its server does not answer (Redis and SQL clients connect lazily), construction fails and
`rasa run` exits: Rasa would otherwise fall back to an in-memory store with only a warning or an error per message.
When the inner store fails later, Rasa's own fallback (``FailSafeTrackerStore``) republishes the raw tracker through
this wrapper's ``event_broker``; that broker masks too, so the outage never sends raw events to the broker.
"""

from __future__ import annotations

import functools
from typing import Any, Dict, Iterable, List, Optional, Text, Tuple, Type

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import (
    InMemoryTrackerStore,
    SerializedTrackerAsText,
    TrackerStore,
    _create_from_endpoint_config,
)
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from plugin.policy.event_masking import (
    MASKED_EVENT_KINDS,
    SESSION_START_METADATA_SLOT,
    EventMaskingRules,
    mask_event,
    strings_in,
    with_known_clean,
    with_known_values,
)
from plugin.policy.guard import Guard, current_guard
from plugin.storage.conversation_ids import LEGACY_IDS_MESSAGE, ConversationIds, is_pseudonym
from plugin.storage.transcripts import TranscriptStore

INNER_KEY = "store"
STORED_MARK = "_rasa_guard_stored"  # set on event objects read from the store: already in their stored rendering
STORED_PREFIX_MARK = "_rasa_guard_stored_prefix"  # set on a tracker read from the store: (events read, the last one)
REACHABILITY_TIMEOUT_S = 5.0
SQLITE_POOL_SIZE, SQLITE_POOL_OVERFLOW = 4, 16


class TrackerStoreConfigError(ValueError):
    """The ``store:`` section under the masking tracker store is missing or cannot be built."""


class TrackerStoreUnavailableError(ConnectionError):
    """The inner store was built but its server does not answer; the message names the server, never a password."""


class MaskingTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Every event is stored and published in its ``storage`` rendering; retrieval returns what was stored."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        guard: Optional[Guard] = None,
        **kwargs: Any,
    ) -> None:
        inner_config = kwargs.pop(INNER_KEY, None)
        self.guard = guard or current_guard()
        # Broker output is never rewritten by deferred redaction: it always gets the final (storage) rendering.
        broker = MaskingEventBroker(event_broker, self.guard) if event_broker else None
        self.inner = build_inner_store(inner_config, domain, broker)
        check_reachable(self.inner)
        check_conversation_ids(self.inner, self.guard.conversation_ids)
        super().__init__(domain, broker, **kwargs)
        self._rules_with_names: Dict[int, Tuple[EventMaskingRules, Domain, EventMaskingRules]] = {}
        self.redaction_scheduler = _redaction_scheduler(self.inner, self.guard)
        if self.redaction_scheduler is not None:
            self.redaction_scheduler.ensure_started()  # `rasa run` builds the store inside its event loop

    @property
    def domain(self) -> Domain:
        return self.inner.domain

    @domain.setter
    def domain(self, domain: Optional[Domain]) -> None:
        # TrackerStore.__init__ assigns the domain before ``inner`` may exist in subclasses; the inner store owns it.
        if hasattr(self, "inner"):
            self.inner.domain = domain or Domain.empty()

    async def save(self, tracker: DialogueStateTracker) -> None:
        if self.redaction_scheduler is not None:
            self.redaction_scheduler.ensure_started()
        await self.inner.save(self.masked_copy(tracker))

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        tracker = await self.inner.retrieve(self.guard.conversation_ids.stored(sender_id))
        return marked_as_stored(with_live_id(tracker, sender_id))

    async def retrieve_full_tracker(self, conversation_id: Text) -> Optional[DialogueStateTracker]:
        tracker = await self.inner.retrieve_full_tracker(self.guard.conversation_ids.stored(conversation_id))
        return marked_as_stored(with_live_id(tracker, conversation_id))

    async def keys(self) -> Iterable[Text]:
        return await self.inner.keys()

    def masked_copy(self, tracker: DialogueStateTracker) -> DialogueStateTracker:
        """A tracker holding the same number of events as ``tracker``, each in its storage rendering. Events read
        from this store are stored renderings already and are kept as they are: a turn masks only its new events."""
        # Only SQL stores are rewritten by deferred redaction; any other store gets the final rendering at once.
        rules = self._with_domain_names(
            self.guard.event_rules(tracker.get_latest_input_channel(), deferred=self.redaction_scheduler is not None)
        )
        masked = DialogueStateTracker(
            self.guard.conversation_ids.stored(tracker.sender_id), self.domain.slots,
            max_event_history=tracker._max_event_history,
        )
        events = list(tracker.events)
        stored = stored_prefix(tracker)
        if rules.sensitive_slots or rules.sensitive_metadata:
            rules = with_known_values(rules, sensitive_values(tracker, events[stored:], rules))
        masked.events = masked._create_events(events[:stored] + [stored_rendering(e, rules) for e in events[stored:]])
        return masked

    def _with_domain_names(self, rules: EventMaskingRules) -> EventMaskingRules:
        """The rules plus the domain's names as known-clean strings, built once per rules and domain."""
        cached = self._rules_with_names.get(id(rules))
        if cached is None or cached[0] is not rules or cached[1] is not self.domain:
            if len(self._rules_with_names) > 64:
                self._rules_with_names.clear()
            cached = (rules, self.domain, with_known_clean(rules, domain_names(self.domain)))
            self._rules_with_names[id(rules)] = cached
        return cached[2]


def sensitive_values(tracker: DialogueStateTracker, new_events: Iterable[Event], rules: EventMaskingRules) -> List[Text]:
    """What the sensitive slots hold now and the sensitive metadata fields of the turn's new events (and of the
    session-start slot) carry: values to redact wherever the turn's events repeat them (already stored events hold
    them redacted)."""
    values: List[Text] = []
    for name in rules.sensitive_slots:
        slot = tracker.slots.get(name)
        if slot is not None:
            values += strings_in(slot.value)
    if rules.sensitive_metadata:
        start = tracker.slots.get(SESSION_START_METADATA_SLOT)
        metadata = [start.value if start is not None else None] + [event.metadata for event in new_events]
        for fields in metadata:
            if isinstance(fields, dict):
                values += [found for key in rules.sensitive_metadata for found in strings_in(fields.get(key))]
    return values


def domain_names(domain: Domain) -> Iterable[Text]:
    """Names the bot's author chose, which every stored turn repeats: intents (the ranking), entities, slots, actions."""
    return [*domain.intents, *domain.entities, *(slot.name for slot in domain.slots), *domain.action_names_or_texts]


def stored_rendering(event: Event, rules: EventMaskingRules) -> Event:
    """The event as it is stored: the event itself when masking changes nothing (most bot and slot events), else
    rebuilt from its masked dict."""
    if _kept_as_is(event):
        return event
    as_dict = event.as_dict()
    masked = mask_event(as_dict, rules)
    if masked == as_dict:
        return event
    return _event_class(masked["event"])._from_parameters(masked)


def _kept_as_is(event: Event) -> bool:
    """Read from the store (already its stored rendering), or of a kind that carries no text or values."""
    return getattr(event, STORED_MARK, False) or event.type_name not in MASKED_EVENT_KINDS


@functools.lru_cache(maxsize=None)
def _event_class(type_name: Text) -> Type[Event]:
    """``Event.from_parameters`` looks the class up among all event subclasses on every call; once per kind is enough."""
    return Event.resolve_by_type(type_name)  # type: ignore[return-value] - only masked kinds, all known to Rasa


def with_live_id(tracker: Optional[DialogueStateTracker], conversation_id: Text) -> Optional[DialogueStateTracker]:
    """The tracker under the id it was asked for: the store holds the pseudonym, replies need the channel's id."""
    if tracker is not None:
        tracker.sender_id = conversation_id
    return tracker


def marked_as_stored(tracker: Optional[DialogueStateTracker]) -> Optional[DialogueStateTracker]:
    """Mark every event of a tracker read from the store (Rasa creates new event objects for anything new), and the
    tracker with how many of its events, up to which one, were read (``stored_prefix``)."""
    if tracker is not None:
        for event in tracker.events:
            setattr(event, STORED_MARK, True)
        setattr(tracker, STORED_PREFIX_MARK, (len(tracker.events), tracker.events[-1] if tracker.events else None))
    return tracker


def stored_prefix(tracker: DialogueStateTracker) -> int:
    """How many leading events of ``tracker`` are as read from this store: a turn only appends events, so a save
    renders just the turn's few new ones instead of checking every event. 0 (check all) unless the tracker is the one
    read, its last read event still in place (an event history limit drops events from the front)."""
    count, last = getattr(tracker, STORED_PREFIX_MARK, (0, None))
    events = tracker.events
    if count and len(events) >= count and events[count - 1] is last:
        return count
    return 0


class MaskingEventBroker(EventBroker):
    """Masks each event before publishing it, in the final rendering: events the inner store publishes are masked
    already (masking is idempotent), those of Rasa's in-memory fallback during an outage are not."""

    def __init__(self, inner: EventBroker, guard: Guard) -> None:
        self.inner = inner
        self.guard = guard

    def publish(self, event: Dict[Text, Any]) -> None:
        masked = mask_event(event, self.guard.event_rules(event.get("input_channel"), deferred=False))
        if isinstance(masked.get("sender_id"), str):
            masked = {**masked, "sender_id": self.guard.conversation_ids.stored(masked["sender_id"])}
        self.inner.publish(masked)

    def is_ready(self) -> bool:
        return self.inner.is_ready()

    async def close(self) -> None:
        await self.inner.close()


def _redaction_scheduler(inner: TrackerStore, guard: Guard) -> Optional[Any]:
    """The in-server deferred-redaction scheduler, for SQL stores (the job rewrites SQL rows only)."""
    from rasa.core.tracker_store import SQLTrackerStore

    if not isinstance(inner, SQLTrackerStore):
        return None
    from plugin.server.redaction import RedactionScheduler

    return RedactionScheduler(guard, TranscriptStore(inner.engine, guard.conversation_ids))


def build_inner_store(config: Any, domain: Optional[Domain], event_broker: Optional[EventBroker]) -> TrackerStore:
    """Build the wrapped store, refusing a missing or unknown type instead of silently keeping data in memory."""
    endpoint = inner_endpoint(config)
    if endpoint is None:
        raise TrackerStoreConfigError(
            f"MaskingTrackerStore needs a '{INNER_KEY}:' mapping with the real store's 'type' (SQL, redis, mongod, "
            "dynamo, in_memory or a module path) and its options"
        )
    store_type = str(endpoint.type)
    if store_type.lower() in ("in_memory", "inmemory", "memory"):
        return InMemoryTrackerStore(domain or Domain.empty(), event_broker)
    store = _create_from_endpoint_config(endpoint, domain, event_broker)
    if isinstance(store, InMemoryTrackerStore):
        # Rasa's loader falls back to memory when it cannot import a custom type: fail closed instead.
        raise TrackerStoreConfigError(
            f"the tracker store type '{store_type}' under '{INNER_KEY}:' could not be loaded; check the module path"
        )
    return with_pooled_sqlite(store)


def with_pooled_sqlite(store: TrackerStore) -> TrackerStore:
    """Rasa's SQL store on a SQLite file opens a new connection for every read and every save (SQLAlchemy 1.4 gives
    SQLite files no pool), ~0.15 ms each and two per message; keep a few open instead, as SQLAlchemy 2.0 does."""
    from rasa.core.tracker_store import SQLTrackerStore
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker
    from sqlalchemy.pool import NullPool, QueuePool

    if type(store) is not SQLTrackerStore or store.engine.dialect.name != "sqlite":
        return store  # a subclass may have set up its engine its own way: keep it
    if not isinstance(store.engine.pool, NullPool):
        return store  # an in-memory database: one connection is the database
    pooled = create_engine(
        store.engine.url, poolclass=QueuePool, pool_size=SQLITE_POOL_SIZE, max_overflow=SQLITE_POOL_OVERFLOW,
        connect_args={"check_same_thread": False},  # the pool hands a connection to one thread at a time
    )
    store.engine.dispose()
    store.engine = pooled
    store.sessionmaker = sessionmaker(bind=pooled)
    return store


def inner_endpoint(config: Any) -> Optional[EndpointConfig]:
    """A wrapper's ``store:`` mapping as the ``EndpointConfig`` Rasa builds the real store from; None without a type."""
    if not isinstance(config, dict) or not config.get("type"):
        return None
    options: Dict[str, Any] = dict(config)
    store_type = str(options.pop("type"))
    return EndpointConfig(url=options.pop("url", None), type=store_type, **options)


def check_conversation_ids(store: TrackerStore, ids: ConversationIds) -> None:
    """With pseudonyms on, refuse a SQL or Redis store that holds conversations under the ids channels sent: every
    returning customer would start afresh and deferred redaction would never find those transcripts."""
    from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore

    if not ids.pseudonymous:
        return
    if isinstance(store, SQLTrackerStore):
        unmapped = TranscriptStore(store.engine, ids).holds_unmapped_ids()
    elif isinstance(store, RedisTrackerStore):
        prefix = store.key_prefix
        keys = store.red.scan_iter(match=f"{prefix}*", count=1000)
        names = (key if isinstance(key, str) else key.decode("utf-8", "replace") for key in keys)
        unmapped = any(not is_pseudonym(name[len(prefix):]) for name in names)
    else:
        return
    if unmapped:
        raise TrackerStoreConfigError(LEGACY_IDS_MESSAGE)


def check_reachable(store: TrackerStore) -> None:
    """Talk to the inner store's server once, so that a dead Redis or database stops `rasa run` at startup instead of
    every conversation silently landing in Rasa's in-memory fallback."""
    from rasa.core.tracker_store import RedisTrackerStore, SQLTrackerStore

    if isinstance(store, RedisTrackerStore):
        _ping_redis(store)
    elif isinstance(store, SQLTrackerStore):
        _connect_sql(store)


def _ping_redis(store: Any) -> None:
    import redis

    # A pool of its own with timeouts: the store's client has none and would hang on an unroutable host.
    pool = store.red.connection_pool
    options = {**pool.connection_kwargs, "socket_connect_timeout": REACHABILITY_TIMEOUT_S,
               "socket_timeout": REACHABILITY_TIMEOUT_S}
    probe = redis.ConnectionPool(connection_class=pool.connection_class, **options)
    where = f"{options.get('host')}:{options.get('port')} db {options.get('db', 0)}"
    try:
        redis.Redis(connection_pool=probe).ping()
    except redis.RedisError as error:
        raise TrackerStoreUnavailableError(
            f"the redis tracker store under '{INNER_KEY}:' does not answer at {where} ({type(error).__name__}: "
            f"{error}); start Redis or correct url/port/db/password there"
        ) from None
    finally:
        probe.disconnect()


def _connect_sql(store: Any) -> None:
    import sqlalchemy.exc

    try:
        with store.engine.connect():
            pass
    except sqlalchemy.exc.SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise TrackerStoreUnavailableError(
            f"the SQL tracker store under '{INNER_KEY}:' cannot be reached at "
            f"{store.engine.url.render_as_string(hide_password=True)} ({reason}); start the database or correct "
            "dialect/url/port/db/username/password there"
        ) from None
