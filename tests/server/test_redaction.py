"""The deferred-redaction job on a real tracker store: transcripts written by a real ``MaskingTrackerStore`` (SQLite
file, or PostgreSQL when ``RASA_GUARD_TEST_PG_URL`` is set), rewritten by ``RedactionJob`` and the ``redact`` CLI."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterator, List, Optional, Tuple

import pytest
import yaml

from plugin.cli import main as cli_main
from plugin.policy.guard import Guard, set_current_guard
from plugin.policy.settings import load_privacy_config
from plugin.storage.conversation_ids import KEPT_AS_SENT
from plugin.storage.vault import TOKEN_RE
from tests import harness

EMAIL = "jan.jansen@example.com"
IBAN = "NL91ABNA0417164300"
CARD = "4111 1111 1111 1111"
RAW_VALUES = (EMAIL, IBAN, CARD, "4111111111111111")
PREFIX = "rgredact-"  # conversation ids of these tests
MESSAGE = f"my email is {EMAIL} and my IBAN {IBAN}, card {CARD}"

DOMAIN_YAML = """
version: "3.1"
intents: [inform]
slots:
  email:
    type: text
    influence_conversation: false
    mappings: [{type: from_entity, entity: email}]
"""


def write_privacy(path: Path, trigger: str, **extra: Any) -> Path:
    data = yaml.safe_load((harness.ROOT / "privacy.yml").read_text())
    data["redaction"] = {"trigger": trigger, "hours": 24, **extra}
    path.write_text(yaml.safe_dump(data))
    return path


def write_endpoints(path: Path, tracker_url: str) -> Path:
    if tracker_url.startswith("sqlite:///"):
        store = {"type": "SQL", "dialect": "sqlite", "db": tracker_url[len("sqlite:///"):]}
    else:
        store = {"type": "SQL", "dialect": "postgresql", "url": tracker_url}
    path.write_text(yaml.safe_dump({"tracker_store": {"type": "plugin.server.tracker_store.MaskingTrackerStore", "store": store}}))
    return path


class Bed:
    """A privacy.yml, a state database, a tracker store and helpers to fill it with conversations."""

    def __init__(self, tmp: Path, trigger: str, tracker_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
        from rasa.shared.core.domain import Domain

        from plugin.server.tracker_store import MaskingTrackerStore
        from plugin.storage.transcripts import TranscriptStore

        self.tmp = tmp
        self.privacy = write_privacy(tmp / "privacy.yml", trigger)
        self.state_url = f"sqlite:///{tmp / 'state' / 'state.db'}"
        self.endpoints = write_endpoints(tmp / "endpoints.yml", tracker_url)
        self.tracker_url = tracker_url
        monkeypatch.setenv("RASA_GUARD_STATE_URL", self.state_url)
        monkeypatch.setenv("RASA_GUARD_CONFIG", str(self.privacy))
        self.guard = Guard(load_privacy_config(self.privacy))
        set_current_guard(self.guard)
        if not tracker_url.startswith("sqlite"):  # these tests' PostgreSQL database: forget earlier runs' conversations
            from sqlalchemy import create_engine

            from plugin.storage.transcripts import events

            engine = create_engine(tracker_url)
            try:
                with engine.begin() as connection:
                    if engine.dialect.has_table(connection, "events"):
                        connection.execute(events.delete())
            finally:
                engine.dispose()
        store_config = yaml.safe_load(self.endpoints.read_text())["tracker_store"]["store"]
        self.store = MaskingTrackerStore(domain=Domain.from_yaml(DOMAIN_YAML), guard=self.guard, store=store_config)
        self.transcripts = TranscriptStore(self.store.inner.engine, self.guard.conversation_ids)
        self.prefix = f"{PREFIX}{uuid.uuid4().hex[:8]}-"

    def conversation(self, name: str, created: Optional[float] = None) -> str:
        """A conversation with PII in a user message, an entity, a slot and a bot message; saved through the store."""
        from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
        from rasa.shared.core.trackers import DialogueStateTracker

        from plugin.server.channel import guarded_metadata

        sender = self.prefix + name
        protected = self.guard.protect(MESSAGE, "rest", conversation_id=sender)
        stamp = created if created is not None else time.time()
        email_token = next(e["value"] for e in protected.entities if e["entity"] == "email")
        events = [
            ActionExecuted("action_listen", timestamp=stamp),
            UserUttered(
                protected.storage_text,
                intent={"name": "inform", "confidence": 1.0},
                entities=[dict(e) for e in protected.entities],
                timestamp=stamp + 1,
                input_channel="rest",
                metadata=guarded_metadata(self.guard, "rest", protected, None),
            ),
            SlotSet("email", email_token, timestamp=stamp + 2),
            BotUttered(f"I will write to {EMAIL}", timestamp=stamp + 3),
            ActionExecuted("action_listen", timestamp=stamp + 4),
        ]
        tracker = DialogueStateTracker.from_events(sender, events, self.store.domain.slots)
        asyncio.run(self.store.save(tracker))
        return sender

    def rows(self, sender: str) -> List[Tuple[int, str]]:
        return [(row.id, row.data) for row in self.transcripts.rows(sender, None, 10_000)]

    def job(self, **kwargs: Any) -> Any:
        from plugin.server.redaction import RedactionJob

        return RedactionJob(self.guard, self.transcripts, **kwargs)

    def resolve(self, sender: str) -> None:
        from plugin.storage.transcripts import ConversationStatuses

        ConversationStatuses(self.guard.state.db).mark_resolved(sender, channel="rest", by="test")

    def live_keys(self, sender: str) -> int:
        tokens = set()
        for _, data in self.rows(sender):
            tokens |= set(TOKEN_RE.findall(data))
        return self.guard.state.vault.count_unshredded(tokens, sender)


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'tracker.db'}"
    return own_database(request.getfixturevalue("postgres_url"), "rg_redaction_test")


def own_database(url: str, name: str) -> str:
    """A database of these tests' own on the cluster of ``url``: the job scans every conversation of its database."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            if not connection.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).first():
                connection.execute(text(f'create database "{name}"'))
    finally:
        engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def bed(tmp_path: Path, tracker_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bed]:
    yield Bed(tmp_path, "upon_resolve", tracker_url, monkeypatch)
    set_current_guard(None)


def add_admin(bed: Bed, name: str = "ada", role: str = "admin") -> None:
    from plugin.policy.staff import StaffDirectory

    state = bed.guard.state
    StaffDirectory(state.db, state.master_key, state.audit).add(name, role, [("rest", f"{name}-id")], actor="test")


def reveal(bed: Bed, sender: str, staff: str, capsys: pytest.CaptureFixture) -> Tuple[int, str, str]:
    code = cli_main(["reveal", sender, "--staff", staff, "--reason", "customer complaint 42",
                     "--endpoints", str(bed.endpoints), "--config", str(bed.privacy), "--state-url", bed.state_url])
    out, err = capsys.readouterr()
    return code, out, err


def test_before_the_trigger_stored_text_is_masked_and_an_admin_reveal_is_audited(bed: Bed, capsys: Any) -> None:
    sender = bed.conversation("a")
    stored = "\n".join(data for _, data in bed.rows(sender))
    assert not any(value in stored for value in RAW_VALUES)
    user = next(json.loads(d) for _, d in bed.rows(sender) if json.loads(d)["event"] == "user")
    assert TOKEN_RE.fullmatch(user["metadata"]["rasa_guard"]["original"])
    assert bed.transcripts.latest_channel(sender) == "rest"  # the channel's id finds the stored conversation

    add_admin(bed, "ada", "admin")
    add_admin(bed, "sam", "agent")
    code, out, _ = reveal(bed, sender, "ada", capsys)
    assert code == 0 and EMAIL in out and IBAN in out
    code, out, err = reveal(bed, sender, "sam", capsys)
    assert code == 2 and EMAIL not in out + err
    entries = bed.guard.state.audit.entries(action="vault.reveal")
    assert [(e.actor, e.outcome) for e in entries] == [("ada", "ok"), ("sam", "refused")]
    assert all(EMAIL not in (e.detail or "") for e in entries)


def test_after_redaction_values_are_unrecoverable_and_events_intact(bed: Bed, capsys: Any) -> None:
    from rasa.core.tracker_store import SQLTrackerStore

    resolved, open_ = bed.conversation("resolved"), bed.conversation("open")
    bed.resolve(resolved)
    before = bed.rows(resolved)
    untouched = bed.rows(open_)
    assert bed.live_keys(resolved) > 0

    report = asyncio.run(bed.job(batch_size=2).run())

    assert (report.conversations, report.failed) == (1, 0)
    after = bed.rows(resolved)
    assert [row_id for row_id, _ in after] == [row_id for row_id, _ in before]  # same rows, same order
    assert [json.loads(d)["event"] for _, d in after] == [json.loads(d)["event"] for _, d in before]
    text = "\n".join(d for _, d in after)
    assert not TOKEN_RE.search(text) and not any(value in text for value in RAW_VALUES)
    user = next(json.loads(d) for _, d in after if json.loads(d)["event"] == "user")
    assert user["text"] == bed.guard.mask(MESSAGE, "storage", "rest")  # the storage rendering of the original
    slot = next(json.loads(d) for _, d in after if json.loads(d)["event"] == "slot")
    assert slot["value"] == "#email#"
    assert bed.live_keys(resolved) == 0 and bed.guard.state.vault.count_unshredded((), resolved) == 0
    assert bed.rows(open_) == untouched  # a conversation not resolved is not touched
    assert report.events == sum(1 for (_, old), (_, new) in zip(before, after) if old != new)

    tracker = asyncio.run(bed.store.inner.retrieve_full_tracker(bed.guard.conversation_ids.stored(resolved)))
    assert isinstance(bed.store.inner, SQLTrackerStore) and len(tracker.events) == len(before)

    entries = bed.guard.state.audit.entries(action="redaction.run")
    assert [(e.conversation_id, e.outcome) for e in entries] == [(bed.guard.conversation_ids.stored(resolved), "ok")]

    add_admin(bed)
    code, out, _ = reveal(bed, resolved, "ada", capsys)
    assert code == 1 and "gone" in out and EMAIL not in out


def test_a_second_run_changes_nothing(bed: Bed) -> None:
    sender = bed.conversation("x")
    bed.resolve(sender)
    asyncio.run(bed.job().run())
    once = bed.rows(sender)
    assert asyncio.run(bed.job().run()).conversations == 0  # nothing due any more
    from plugin.server.redaction import Candidate

    assert bed.job().redact_conversation(Candidate(sender, "rest", "upon_resolve", None)) == (0, 0)
    assert bed.rows(sender) == once


def test_dry_run_counts_and_changes_nothing(bed: Bed) -> None:
    senders = [bed.conversation(f"d{i}") for i in range(3)]
    for sender in senders[:2]:
        bed.resolve(sender)
    before = {s: bed.rows(s) for s in senders}
    keys = {s: bed.live_keys(s) for s in senders}

    report = asyncio.run(bed.job(batch_size=3).run(dry_run=True))

    assert (report.dry_run, report.conversations) == (True, 2)
    assert report.events == 2 * 2  # the user message and the slot; the bot text is the same in both renderings
    assert report.vault_records == keys[senders[0]] + keys[senders[1]]
    assert {s: bed.rows(s) for s in senders} == before
    assert {s: bed.live_keys(s) for s in senders} == keys
    assert bed.guard.state.audit.entries(action="redaction.run") == []
    real = asyncio.run(bed.job(batch_size=3).run())
    assert (real.conversations, real.events, real.vault_records) == (2, report.events, report.vault_records)


def test_a_token_copied_from_another_conversation_is_neither_read_nor_shredded(bed: Bed, capsys: Any) -> None:
    # a client of a stock channel can write any metadata, e.g. another conversation's original-text token
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    victim = bed.conversation("victim")
    victim_token = next(json.loads(d)["metadata"]["rasa_guard"]["original"] for _, d in bed.rows(victim)
                        if json.loads(d)["event"] == "user")
    forger = bed.prefix + "forger"
    tracker = DialogueStateTracker(forger, bed.store.domain.slots)
    tracker.update(UserUttered("hello", input_channel="rest", metadata={"rasa_guard": {"original": victim_token}}))
    asyncio.run(bed.store.save(tracker))
    assert victim_token in "".join(d for _, d in bed.rows(forger))
    victim_keys = bed.live_keys(victim)

    add_admin(bed)
    code, out, _ = reveal(bed, forger, "ada", capsys)
    assert code == 1 and EMAIL not in out  # not shown as the forger's
    refused = bed.guard.state.audit.entries(action="vault.reveal")
    assert [(e.outcome, e.conversation_id) for e in refused] == [("refused", bed.guard.conversation_ids.stored(victim))]

    bed.resolve(forger)
    dry = asyncio.run(bed.job().run(dry_run=True))
    assert dry.vault_records == 0
    report = asyncio.run(bed.job().run())
    assert (report.conversations, report.failed, report.vault_records) == (1, 0, 0)
    forged = "".join(d for _, d in bed.rows(forger))
    assert victim_token not in forged and "hello" in forged and EMAIL not in forged and IBAN not in forged
    assert bed.live_keys(victim) == victim_keys  # the victim's originals are still there for its own reveal
    code, out, _ = reveal(bed, victim, "ada", capsys)
    assert code == 0 and EMAIL in out


def test_a_reopened_conversation_is_redacted_again_on_its_next_resolve(bed: Bed) -> None:
    sender = bed.conversation("r")
    bed.resolve(sender)
    asyncio.run(bed.job().run())
    first = len(bed.rows(sender))
    # the customer writes again after the resolve: new rows in agent rendering, with new vault tokens
    from rasa.shared.core.events import UserUttered

    from plugin.server.channel import guarded_metadata

    protected = bed.guard.protect(f"one more thing: {EMAIL}", "rest", conversation_id=sender)
    tracker = asyncio.run(bed.store.retrieve(sender))
    tracker.update(UserUttered(protected.storage_text, input_channel="rest",
                               metadata=guarded_metadata(bed.guard, "rest", protected, None)))
    asyncio.run(bed.store.save(tracker))
    assert asyncio.run(bed.job().run()).conversations == 0  # not resolved again yet
    time.sleep(1.1)  # resolve times are whole seconds
    bed.resolve(sender)
    report = asyncio.run(bed.job().run())
    assert (report.conversations, report.events) == (1, 1)
    rows = bed.rows(sender)
    assert len(rows) == first + 1 and not TOKEN_RE.search("".join(d for _, d in rows))


def test_time_based_redacts_only_events_older_than_the_hours(tmp_path: Path, tracker_url: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    bed = Bed(tmp_path, "time_based", tracker_url, monkeypatch)
    old = bed.conversation("old", created=time.time() - 30 * 3600)
    new = bed.conversation("new")
    new_rows = bed.rows(new)
    report = asyncio.run(bed.job().run())
    assert report.conversations == 1
    assert not TOKEN_RE.search("".join(d for _, d in bed.rows(old)))
    assert bed.rows(new) == new_rows  # 24 hours have not passed
    assert asyncio.run(bed.job().run()).conversations == 0  # the progress mark: nothing left to do
    later = bed.job(clock=lambda: time.time() + 25 * 3600)
    assert asyncio.run(later.run()).conversations == 1
    assert not TOKEN_RE.search("".join(d for _, d in bed.rows(new)))
    set_current_guard(None)


def test_trigger_off_redacts_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bed = Bed(tmp_path, "off", f"sqlite:///{tmp_path / 'tracker.db'}", monkeypatch)
    sender = bed.conversation("o", created=time.time() - 80 * 3600)
    bed.resolve(sender)
    before = bed.rows(sender)
    assert asyncio.run(bed.job().run()).conversations == 0
    assert bed.rows(sender) == before
    set_current_guard(None)


def test_dry_run_cli_prints_counts(bed: Bed, capsys: Any) -> None:
    bed.resolve(bed.conversation("c"))
    code = cli_main(["redact", "--dry-run", "--no-progress", "--endpoints", str(bed.endpoints),
                     "--config", str(bed.privacy), "--state-url", bed.state_url])
    out = capsys.readouterr().out
    assert code == 0 and "dry run: 1 conversation(s) due; would rewrite 2 event(s)" in out


def _redacted_count(state_db: Path) -> int:
    try:
        connection = sqlite3.connect(f"file:{state_db}?mode=ro", uri=True, timeout=1)
        try:
            return connection.execute("select count(*) from rg_conversation_status where redacted_upto_id is not null").fetchone()[0]
        finally:
            connection.close()
    except sqlite3.Error:
        return 0


def test_kill_9_mid_run_then_rerun_leaves_everything_redacted_and_loadable(tmp_path: Path, tracker_url: str,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import Event

    bed = Bed(tmp_path, "upon_resolve", tracker_url, monkeypatch)
    senders = [bed.conversation(f"k{i:03d}") for i in range(120)]
    for sender in senders:
        bed.resolve(sender)
    counts = {s: [row_id for row_id, _ in bed.rows(s)] for s in senders}
    command = [sys.executable, "-m", "plugin", "redact", "--batch-size", "1", "--endpoints", str(bed.endpoints),
               "--config", str(bed.privacy), "--state-url", bed.state_url]
    env = harness.subprocess_env({"RASA_GUARD_STATE_URL": bed.state_url, "RASA_GUARD_CONFIG": str(bed.privacy)})
    run = subprocess.Popen(command, cwd=harness.ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    state_db = tmp_path / "state" / "state.db"
    deadline = time.monotonic() + 120
    while _redacted_count(state_db) < 10 and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.poll() is None, "the run finished before it could be killed: use more conversations"
    run.send_signal(signal.SIGKILL)
    run.wait()
    partly = sum(1 for s in senders if not TOKEN_RE.search("".join(d for _, d in bed.rows(s))))
    assert 0 < partly < len(senders)

    rerun = subprocess.run(command + ["--no-progress"], cwd=harness.ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]

    inner = bed.store.inner
    assert isinstance(inner, SQLTrackerStore)
    for sender in senders:
        rows = bed.rows(sender)
        assert [row_id for row_id, _ in rows] == counts[sender]
        text = "".join(d for _, d in rows)
        assert not TOKEN_RE.search(text) and not any(value in text for value in RAW_VALUES)
        for _, data in rows:
            assert Event.from_parameters(json.loads(data)) is not None
        assert bed.live_keys(sender) == 0
    tracker = asyncio.run(inner.retrieve_full_tracker(bed.guard.conversation_ids.stored(senders[0])))
    assert len(tracker.events) == len(counts[senders[0]])
    set_current_guard(None)


def test_the_resolve_action_marks_the_conversation_and_the_job_redacts_it(bed: Bed) -> None:
    from rasa_sdk import Tracker
    from rasa_sdk.executor import CollectingDispatcher

    from plugin.actions.resolve import ActionResolveConversation

    sender = bed.conversation("act")
    tracker = Tracker.from_dict({"sender_id": sender, "slots": {}, "latest_message": {}, "events": [
        {"event": "user", "text": "my issue is solved", "input_channel": "rest"}]})
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionResolveConversation().run(dispatcher, tracker, {}))
    # session.disconnect_after_resolve (default on): idle reminders cancelled, then a new session (slots cleared)
    assert [e["event"] for e in events] == ["cancel_reminder", "cancel_reminder", "session_started"]
    assert dispatcher.messages[0]["response"] == "utter_resolved"
    assert asyncio.run(bed.job().run()).conversations == 1
    assert not TOKEN_RE.search("".join(d for _, d in bed.rows(sender)))


def test_the_job_refuses_transcripts_stored_under_ids_as_sent(tmp_path: Path, capsys: Any,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    # An upgraded deployment: rows written with storage.conversation_ids: as_is, the job run with pseudonyms on would
    # look for them under pseudonyms, report them due and rewrite nothing, forever.
    legacy = Bed(tmp_path, "time_based", f"sqlite:///{tmp_path / 'tracker.db'}", monkeypatch)
    legacy.guard.state.db.conversation_ids = KEPT_AS_SENT
    legacy.conversation("old", created=time.time() - 30 * 3600)
    code = cli_main(["redact", "--endpoints", str(legacy.endpoints), "--config", str(legacy.privacy),
                     "--state-url", legacy.state_url, "--no-progress"])
    _, err = capsys.readouterr()
    assert code == 2 and "storage.conversation_ids: as_is" in err
    assert legacy.prefix not in err  # the message never shows a conversation id
    set_current_guard(None)


@pytest.mark.parametrize("wrapped", [False, True])
def test_the_cli_job_refuses_a_shared_lock_store_keyed_by_other_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Any, redis_server: Tuple[str, int], wrapped: bool
) -> None:
    # Servers lock a conversation by the channel's id through a plain Redis lock store; the job knows only the
    # pseudonym, so its lock would not keep it apart from them: refused, unless the lock store is the pseudonymous one.
    host, port = redis_server
    bed = Bed(tmp_path, "upon_resolve", f"sqlite:///{tmp_path / 'tracker.db'}", monkeypatch)
    bed.resolve(bed.conversation("c"))
    redis_locks = {"type": "redis", "url": host, "port": port, "db": 4}
    endpoints = yaml.safe_load(bed.endpoints.read_text())
    endpoints["lock_store"] = (
        {"type": "plugin.server.lock_store.PseudonymousLockStore", "store": redis_locks} if wrapped else redis_locks
    )
    bed.endpoints.write_text(yaml.safe_dump(endpoints))
    code = cli_main(["redact", "--no-progress", "--endpoints", str(bed.endpoints), "--config", str(bed.privacy),
                     "--state-url", bed.state_url])
    out, err = capsys.readouterr()
    if wrapped:
        assert code == 0 and "1 conversation(s) due" in out
    else:
        assert code == 2 and "PseudonymousLockStore" in err
    set_current_guard(None)
