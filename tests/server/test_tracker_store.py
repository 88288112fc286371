"""MaskingTrackerStore around real Rasa stores: events persisted and published masked, one for one; fails closed."""

import asyncio
import json
import sqlite3
import time
import uuid
from collections import deque
from pathlib import Path

import pytest
from rasa.core.brokers.sql import SQLEventBroker
from rasa.core.tracker_store import FailSafeTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, AgentUttered, BotUttered, Event, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from plugin.policy.event_masking import mask_event
from plugin.policy.guard import Guard
from plugin.policy.settings import parse_privacy_config
from plugin.server.channel import protected_user_message
from plugin.server.tracker_store import MaskingTrackerStore, TrackerStoreConfigError, TrackerStoreUnavailableError
from tests.engine_spy import record_scans
from tests.harness import free_port

CARD = "4111 1111 1111 1111"
IBAN = "NL91ABNA0417164300"
# Generated ids shaped like those of WhatsApp and e-mail channels (not anyone's number or address).
CONTACT_IDS = ("whatsapp:+31612345670", "klant.0042@example.org")
DOMAIN = Domain.from_dict({"slots": {"note": {"type": "text", "mappings": [{"type": "custom"}]}}})


def make_store(tmp_path: Path, broker=None, **settings) -> MaskingTrackerStore:
    guard = Guard(parse_privacy_config(settings))
    return MaskingTrackerStore(
        domain=DOMAIN, event_broker=broker, guard=guard,
        store={"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "tracker.db")},
    )


def conversation(sender: str) -> DialogueStateTracker:
    tracker = DialogueStateTracker(sender, DOMAIN.slots)
    for event in [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered(f"my card is {CARD}", {"name": "inform", "confidence": 1.0}, [], {"text": f"my card is {CARD}"}),
        SlotSet("note", f"iban {IBAN}"),
        BotUttered(f"Thanks, I noted {IBAN}"),
    ]:
        tracker.update(event)
    return tracker


def run(coroutine):
    return asyncio.run(coroutine)


def test_events_are_stored_masked_one_for_one_and_retrieved_as_stored(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    tracker = conversation("c1")
    run(store.save(tracker))
    raw = (tmp_path / "tracker.db").read_bytes()
    assert CARD.encode() not in raw and IBAN.encode() not in raw and b"4111111111111111" not in raw
    rows = sqlite3.connect(tmp_path / "tracker.db").execute("select type_name, data from events order by id").fetchall()
    assert [r[0] for r in rows] == [e.type_name for e in tracker.events]
    retrieved = run(store.retrieve("c1"))
    assert retrieved.latest_message.text == "my card is **** **** **** 1111"
    assert retrieved.get_slot("note") == "iban **************4300"
    # As in Rasa's turn loop: the retrieved tracker grows by one raw event and only that event is appended.
    retrieved.update(UserUttered(f"and {IBAN}", {"name": "inform", "confidence": 1.0}))
    run(store.save(retrieved))
    rows_after = sqlite3.connect(tmp_path / "tracker.db").execute("select data from events order by id").fetchall()
    assert len(rows_after) == len(rows) + 1
    assert json.loads(rows_after[-1][0])["text"] == "and **************4300"


def test_event_broker_receives_only_masked_events(tmp_path: Path) -> None:
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = make_store(tmp_path, broker=broker)
    run(store.save(conversation("c2")))
    bodies = [json.loads(r[0]) for r in sqlite3.connect(tmp_path / "events.db").execute("select data from events")]
    assert any(b.get("event") == "user" for b in bodies)
    assert CARD not in json.dumps(bodies) and IBAN not in json.dumps(bodies)


def test_customer_only_setting_leaves_bot_messages_as_written(tmp_path: Path) -> None:
    store = make_store(tmp_path, masking={"masked_messages": "customer"})
    run(store.save(conversation("c3")))
    bots = [e for e in run(store.retrieve("c3")).events if isinstance(e, BotUttered)]
    assert bots[0].text == f"Thanks, I noted {IBAN}"


@pytest.mark.parametrize(
    "inner, fragment",
    [
        (None, "needs a 'store:' mapping"),
        ({"dialect": "sqlite"}, "needs a 'store:' mapping"),
        ({"type": "no.such.module.Store"}, "could not be loaded"),
    ],
)
def test_refuses_to_start_without_a_real_inner_store(inner, fragment: str) -> None:
    kwargs = {} if inner is None else {"store": inner}
    with pytest.raises(TrackerStoreConfigError, match=fragment):
        MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config({})), **kwargs)


def test_inner_store_type_and_domain_propagation(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    assert isinstance(store.inner, SQLTrackerStore)
    other = Domain.from_dict({"intents": ["greet"]})
    store.domain = other
    assert store.inner.domain is other


def redis_store(host: str, port: int, **options) -> MaskingTrackerStore:
    return MaskingTrackerStore(
        domain=DOMAIN, guard=Guard(parse_privacy_config({})),
        store={"type": "redis", "url": host, "port": port, "db": 1, **options},
    )


def test_redis_inner_store_holds_masked_events_one_for_one(redis_server) -> None:
    import redis

    host, port = redis_server
    store = redis_store(host, port)
    sender = f"whatsapp:+3161{uuid.uuid4().int % 10**7:07d}"  # a channel whose conversation ids are phone numbers
    tracker = conversation(sender)
    run(store.save(tracker))
    client = redis.Redis(host=host, port=port, db=1)
    key = f"tracker:{store.guard.conversation_ids.stored(sender)}"
    raw = client.get(key)
    assert CARD.encode() not in raw and IBAN.encode() not in raw and b"4111111111111111" not in raw
    assert sender.encode() not in raw and not any(sender.encode() in k for k in client.keys("*"))
    assert [e["event"] for e in json.loads(raw)["events"]] == [e.type_name for e in tracker.events]
    retrieved = run(store.retrieve(sender))
    assert retrieved.sender_id == sender  # replies go to the channel's id
    assert retrieved.latest_message.text == "my card is **** **** **** 1111"
    # The next turn appends to the stored tracker instead of merging a second copy of it.
    retrieved.update(UserUttered(f"and {IBAN}", {"name": "inform", "confidence": 1.0}))
    run(store.save(retrieved))
    events = json.loads(client.get(key))["events"]
    assert len(events) == len(tracker.events) + 1 and events[-1]["text"] == "and **************4300"


def test_refuses_to_start_when_redis_does_not_answer() -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(TrackerStoreUnavailableError, match=f"does not answer at 127.0.0.1:{port} db 1") as raised:
        redis_store("127.0.0.1", port, password="pw-never-shown")
    assert "pw-never-shown" not in str(raised.value)


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_refuses_to_start_when_the_sql_database_cannot_be_reached(dialect: str, tmp_path: Path) -> None:
    inner = (
        {"url": "127.0.0.1", "port": free_port(), "db": "rasa", "username": "rasa", "password": "pw-never-shown"}
        if dialect == "postgresql"
        else {"db": str(tmp_path / "no-such-dir" / "tracker.db")}
    )
    with pytest.raises(TrackerStoreUnavailableError, match="SQL tracker store under 'store:' cannot be reached") as raised:
        MaskingTrackerStore(
            domain=DOMAIN, guard=Guard(parse_privacy_config({})), store={"type": "SQL", "dialect": dialect, **inner}
        )
    assert "pw-never-shown" not in str(raised.value)


def test_an_inner_store_outage_publishes_only_masked_events(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Rasa wraps the store in FailSafeTrackerStore: when a save fails it republishes the unmasked tracker through
    # the wrapper's event broker from an in-memory fallback.
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = make_store(tmp_path, broker=broker)

    async def store_down(tracker: DialogueStateTracker) -> None:
        raise ConnectionError("inner store down")

    monkeypatch.setattr(store.inner, "save", store_down)
    run(FailSafeTrackerStore(store).save(conversation(CONTACT_IDS[0])))
    rows = sqlite3.connect(tmp_path / "events.db").execute("select sender_id, data from events").fetchall()
    bodies = [json.loads(data) for _, data in rows]
    assert [b["text"] for b in bodies if b.get("event") == "user"] == ["my card is **** **** **** 1111"]
    assert CARD not in json.dumps(bodies) and IBAN not in json.dumps(bodies)
    assert {sender for sender, _ in rows} == {store.guard.conversation_ids.stored(CONTACT_IDS[0])}


def test_a_turn_masks_only_its_new_events_and_never_trusts_unread_ones(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    run(store.save(conversation("c5")))
    retrieved = run(store.retrieve("c5"))
    retrieved.update(BotUttered(f"Your IBAN {IBAN}"))
    copy = store.masked_copy(retrieved)
    stored_events, new_event = list(copy.events)[:-1], list(copy.events)[-1]
    assert all(a is b for a, b in zip(stored_events, list(retrieved.events)[:-1]))  # read back: kept, not re-masked
    assert new_event.text == "Your IBAN **************4300"
    # a tracker that was not read from this store is masked in full, whatever its events look like; events that
    # carry no text or values (actions, session starts) are the same objects
    original = conversation("c6")
    fresh = store.masked_copy(original)
    assert CARD not in json.dumps([e.as_dict() for e in fresh.events])
    kept = [a is b for a, b in zip(original.events, fresh.events)]
    assert kept == [not isinstance(e, (UserUttered, SlotSet, BotUttered)) for e in original.events]


def test_new_events_are_masked_on_a_copy_of_a_read_tracker_and_past_an_event_history_limit(tmp_path: Path) -> None:
    # A save renders only the events after those it read; anything else about the tracker means checking them all.
    store = make_store(tmp_path)
    run(store.save(conversation("c8")))
    copied = run(store.retrieve("c8")).copy()
    copied.update(BotUttered(f"Your IBAN {IBAN}"))
    assert list(store.masked_copy(copied).events)[-1].text == "Your IBAN **************4300"
    limited = run(store.retrieve("c8"))
    limited.events = deque(limited.events, maxlen=len(limited.events))  # full: each new event drops the oldest
    limited.update(BotUttered(f"Your IBAN {IBAN}"))
    limited.update(BotUttered(f"card {CARD}"))
    assert [e.text for e in list(store.masked_copy(limited).events)[-2:]] == [
        "Your IBAN **************4300", "card **** **** **** 1111"
    ]


def test_the_metadata_a_session_started_with_is_stored_like_message_metadata(tmp_path: Path) -> None:
    # Rasa copies a session's first message metadata into a slot; before, that copy kept named fields and the seal
    store = make_store(tmp_path, masking={"sensitive_metadata": ["customer_name"]})
    tracker = DialogueStateTracker("c9", DOMAIN.slots)
    metadata = {"customer_name": "Jan Jansen", "rasa_guard": {"channel": "rest", "nlu_text": "hi", "seal": "5" * 64}}
    for event in [SlotSet("session_started_metadata", metadata), ActionExecuted("action_session_start"), SessionStarted(),
                  UserUttered("hi", {"name": "greet", "confidence": 1.0}, [], {"text": "hi"}, metadata=metadata)]:
        tracker.update(event)
    run(store.save(tracker))
    rows = [json.loads(r[0]) for r in sqlite3.connect(tmp_path / "tracker.db").execute("select data from events order by id")]
    slot, user = rows[0]["value"], rows[-1]["metadata"]
    assert slot == user == {"customer_name": "#redacted#", "rasa_guard": {"channel": "rest"}}
    assert b"Jan Jansen" not in (tmp_path / "tracker.db").read_bytes()


def test_a_human_agents_messages_are_stored_masked_too(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    tracker = conversation("c10")
    tracker.update(AgentUttered(f"I see your card {CARD} and IBAN {IBAN}"))
    run(store.save(tracker))
    raw = (tmp_path / "tracker.db").read_bytes()
    assert CARD.encode() not in raw and IBAN.encode() not in raw


def test_what_sensitive_slots_and_metadata_hold_is_redacted_wherever_the_turn_repeats_it(tmp_path: Path) -> None:
    # a name in a sensitive slot (from a form's free text) and in a sensitive metadata field, which no pattern finds:
    # typed by the customer, extracted as an entity, repeated by the bot ("Thanks, {customer_name}!")
    store = make_store(tmp_path, masking={"sensitive_slots": ["customer_name"], "sensitive_metadata": ["crm_name"]})
    domain = Domain.from_dict({"slots": {"customer_name": {"type": "text", "mappings": [{"type": "custom"}]}}})
    tracker = DialogueStateTracker("c11", domain.slots)
    name, other = "Jan de Vries", "Piet Jansen"
    for event in [
        UserUttered(f"I am {name}", {"name": "inform", "confidence": 1.0}, [{"entity": "customer_name", "value": name}],
                    {"text": f"I am {name}"}, metadata={"crm_name": other}),
        SlotSet("customer_name", name),
        BotUttered(f"Thanks, {name}! Or is it {other}?"),
    ]:
        tracker.update(event)
    run(store.save(tracker))
    raw = (tmp_path / "tracker.db").read_bytes()
    assert name.encode() not in raw and other.encode() not in raw
    rows = [json.loads(r[0]) for r in sqlite3.connect(tmp_path / "tracker.db").execute("select data from events order by id")]
    assert [r["text"] for r in rows if r["event"] in ("user", "bot")] == ["I am #redacted#", "Thanks, #redacted#! Or is it #redacted#?"]


def test_a_store_the_redaction_job_cannot_rewrite_gets_the_final_rendering_at_once(tmp_path: Path) -> None:
    # agents see the last four digits until redaction; the final rendering is the tag
    views = {"strategies": {"agent": {"credit_card": {"strategy": "card_last4"}}, "storage": {"credit_card": {"strategy": "tag"}}}}
    deferred = {"masking": views, "redaction": {"trigger": "upon_resolve"}}
    sql = make_store(tmp_path, **deferred)
    memory = MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config(deferred)), store={"type": "in_memory"})
    (tmp_path / "off").mkdir()
    off = make_store(tmp_path / "off", masking=views)
    def user_text(store: MaskingTrackerStore) -> str:
        return next(e for e in store.masked_copy(conversation("c7")).events if isinstance(e, UserUttered)).text

    assert user_text(memory) == user_text(off) == "my card is #creditcardnr#"
    assert user_text(sql) != user_text(memory) and "1111" in user_text(sql)


def test_events_masking_leaves_unchanged_are_stored_as_they_are_and_the_rest_as_rasa_rebuilds_them(tmp_path: Path) -> None:
    store = make_store(tmp_path)
    tracker = conversation("c8")
    tracker.update(BotUttered("How else can I help?", metadata={"utter_action": "utter_anything_else"}))
    tracker.update(SlotSet("note", "nothing personal"))
    copy = store.masked_copy(tracker)
    rules = store.guard.event_rules(tracker.get_latest_input_channel())
    for original, stored in zip(tracker.events, copy.events):
        expected = Event.from_parameters(mask_event(original.as_dict(), rules))  # what every event was rebuilt as before
        assert stored.as_dict() == expected.as_dict() and type(stored) is type(expected)
    assert list(copy.events)[-2] is list(tracker.events)[-2] and list(copy.events)[-1] is list(tracker.events)[-1]
    assert list(copy.events)[5] is not list(tracker.events)[5]  # the bot message with an IBAN


def test_a_message_masked_by_the_guarded_channel_is_stored_as_rendered_without_a_second_scan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = make_store(tmp_path)
    scanned = record_scans(store.guard, "mask", monkeypatch)
    message = protected_user_message(f"my card is {CARD} and my iban {IBAN}", "c9", channel="rest", guard=store.guard)
    tracker = DialogueStateTracker("c9", DOMAIN.slots)
    tracker.update(UserUttered(message.text, {"name": "inform", "confidence": 1.0}, [], None, None, "rest",
                               message.message_id, message.metadata))
    scanned.clear()
    stored = next(e for e in store.masked_copy(tracker).events if isinstance(e, UserUttered))
    assert stored.text == message.text == "my card is **** **** **** 1111 and my iban **************4300"
    assert message.text not in scanned
    # a text that did not come through the channel is still scanned, whatever it looks like
    tracker.update(UserUttered(f"again {CARD}", {"name": "inform", "confidence": 1.0}, [], None, None, "rest"))
    assert list(store.masked_copy(tracker).events)[-1].text == "again **** **** **** 1111"
    assert f"again {CARD}" in scanned


def test_a_turn_is_saved_only_once_the_originals_behind_its_tokens_are_stored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")
    store = make_store(tmp_path)
    vault = store.guard.vault
    real_insert = vault._db.insert_rows

    def slow_insert(*batches):
        time.sleep(0.3)  # a slow disk sync
        real_insert(*batches)

    monkeypatch.setattr(vault._db, "insert_rows", slow_insert)
    message = protected_user_message(f"my card is {CARD}", "c10", channel="rest", guard=store.guard)
    token = message.metadata["rasa_guard"]["entities"][0]["value"]
    tracker = DialogueStateTracker("c10", DOMAIN.slots)
    tracker.update(UserUttered(message.text, {"name": "inform", "confidence": 1.0}, [], None, None, "rest",
                               message.message_id, message.metadata))
    run(store.save(tracker))
    assert vault.lookup(token, reason="test") == CARD


@pytest.mark.parametrize("sender", CONTACT_IDS)
def test_a_conversation_id_that_is_a_contact_detail_is_stored_and_published_as_a_pseudonym(
    tmp_path: Path, sender: str
) -> None:
    broker = SQLEventBroker(db=str(tmp_path / "events.db"))
    store = make_store(tmp_path, broker=broker)
    stored = store.guard.conversation_ids.stored(sender)
    run(store.save(conversation(sender)))
    retrieved = run(store.retrieve(sender))
    assert retrieved.sender_id == sender and retrieved.latest_message.text == "my card is **** **** **** 1111"
    retrieved.update(UserUttered("thanks", {"name": "inform", "confidence": 1.0}))
    run(store.save(retrieved))  # the next turn appends to the same stored conversation
    assert run(store.keys()) == [stored] and len(run(store.retrieve(stored)).events) == len(retrieved.events)
    assert run(store.retrieve_full_tracker(sender)).sender_id == sender
    rows = sqlite3.connect(tmp_path / "tracker.db").execute("select distinct sender_id from events").fetchall()
    published = sqlite3.connect(tmp_path / "events.db").execute("select distinct sender_id, data from events").fetchall()
    assert rows == [(stored,)] and {row[0] for row in published} == {stored}
    assert all(json.loads(row[1])["sender_id"] == stored for row in published)
    local_part = sender.split(":")[-1].split("@")[0].lstrip("+").encode()
    for name in ("tracker.db", "events.db"):
        assert local_part not in (tmp_path / name).read_bytes()


def test_as_is_keeps_conversation_ids_as_the_channel_sent_them(tmp_path: Path) -> None:
    store = make_store(tmp_path, storage={"conversation_ids": "as_is"})
    run(store.save(conversation("c-as-is")))
    assert run(store.keys()) == ["c-as-is"] and run(store.retrieve("c-as-is")).sender_id == "c-as-is"


def test_refuses_a_store_that_holds_conversations_under_ids_as_sent(tmp_path: Path) -> None:
    # Stored before pseudonyms were switched on: the bot would never find them again, the redaction job neither.
    run(make_store(tmp_path, storage={"conversation_ids": "as_is"}).save(conversation(CONTACT_IDS[0])))
    with pytest.raises(TrackerStoreConfigError, match="storage.conversation_ids: as_is") as refused:
        make_store(tmp_path)
    assert "31612345670" not in str(refused.value)
    assert run(make_store(tmp_path, storage={"conversation_ids": "as_is"}).retrieve(CONTACT_IDS[0])) is not None


def test_refuses_a_redis_store_that_holds_conversations_under_ids_as_sent(redis_server) -> None:
    import redis

    host, port = redis_server
    redis.Redis(host=host, port=port, db=3).flushdb()
    options = {"type": "redis", "url": host, "port": port, "db": 3}
    as_is = MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config({"storage": {"conversation_ids": "as_is"}})),
                                store=options)
    pseudonymous = MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config({})), store=options)
    run(pseudonymous.save(conversation(CONTACT_IDS[1])))  # pseudonyms alone: accepted
    MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config({})), store=options)
    run(as_is.save(conversation(CONTACT_IDS[0])))
    with pytest.raises(TrackerStoreConfigError, match="conversation_ids"):
        MaskingTrackerStore(domain=DOMAIN, guard=Guard(parse_privacy_config({})), store=options)


def test_a_sqlite_file_store_keeps_its_connections_open_and_sees_other_writers(tmp_path: Path) -> None:
    """Rasa's SQL store (SQLAlchemy 1.4) opens a new SQLite connection for every read and save; the wrapper pools
    them. Pooled connections hold no lock between uses: a write by another process (the redaction job, an export)
    is seen by the next read, and the other writer is not blocked."""
    from sqlalchemy import event

    store = make_store(tmp_path)
    opened = []
    event.listen(store.inner.engine, "connect", lambda *_: opened.append(1))
    for turn in range(5):
        run(store.save(conversation(f"c{turn}")))
        assert run(store.retrieve(f"c{turn}")) is not None
    assert len(opened) <= 1
    other = sqlite3.connect(tmp_path / "tracker.db", timeout=0.5)  # fails with "database is locked" if a lock is held
    stored_id = store.guard.conversation_ids.stored("c0")
    other.execute("update events set data = replace(data, '**** **** **** 1111', '#rewritten#') where sender_id = ?",
                  (stored_id,))
    other.commit()
    assert run(store.retrieve("c0")).latest_message.text == "my card is #rewritten#"


def test_a_subclass_of_rasas_sql_store_keeps_the_engine_it_built(tmp_path: Path) -> None:
    from plugin.server.tracker_store import with_pooled_sqlite

    class OwnEngineStore(SQLTrackerStore):
        pass

    store = OwnEngineStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "own.db"))
    engine = store.engine
    assert with_pooled_sqlite(store).engine is engine
    plain = SQLTrackerStore(DOMAIN, dialect="sqlite", db=str(tmp_path / "plain.db"))
    assert with_pooled_sqlite(plain).engine.pool.size() == 4
