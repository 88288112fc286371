"""The masking tracker store around Redis, over a real `rasa run` + `rasa run actions`: generated PII goes in through
the guard channel, then every key and value of every Redis database is searched for the originals (also spaced,
dashed, dotted and JSON-escaped); the conversation survives a restart of `rasa run`; a dead Redis stops `rasa run`.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from benchmarks.corpus import Sample, generate_samples
from plugin.policy.guard import current_guard
from tests import harness
from tests.e2e.test_leak import ScanReport, build_needles, scan

pytestmark = pytest.mark.e2e

PII_TYPES = ("credit_card", "iban", "email", "phone", "bsn", "sim_number", "vat_number", "ssn")
SAMPLES_PER_MESSAGE = 3
DB = 3  # not the unit tests' database: this test reads everything and must see only its own stack's data
SETTINGS_SCOPE = "rest"  # credentials.yml: the guard channel's `channel:`


def store_yaml(host: str, port: int) -> str:
    return (
        "tracker_store:\n  type: plugin.server.tracker_store.MaskingTrackerStore\n  store:\n"
        f"    type: redis\n    url: \"{host}\"\n    port: {port}\n    db: {DB}\n"
    )


def samples() -> List[Sample]:
    return generate_samples(seed=2026, n_per_type=2, types=PII_TYPES)


def messages(generated: List[Sample]) -> List[str]:
    texts = [s.text for s in generated]
    return ["\n".join(texts[i : i + SAMPLES_PER_MESSAGE]) for i in range(0, len(texts), SAMPLES_PER_MESSAGE)]


def redis_contents(host: str, port: int) -> Iterator[Tuple[str, bytes]]:
    """(label, bytes) of every key and value in every database of the server, whatever the value's type."""
    import redis

    keyspace = redis.Redis(host=host, port=port).info("keyspace")
    for db_name in keyspace:
        client = redis.Redis(host=host, port=port, db=int(db_name[2:]))
        for key in client.scan_iter("*"):
            kind = client.type(key).decode()
            if kind == "string":
                parts = [client.get(key)]
            elif kind == "hash":
                parts = [item for pair in client.hgetall(key).items() for item in pair]
            elif kind == "list":
                parts = client.lrange(key, 0, -1)
            elif kind == "set":
                parts = list(client.smembers(key))
            elif kind == "zset":
                parts = [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
            else:
                parts = [client.dump(key)]
            yield f"{db_name}:{kind}", key + b"\n" + b"\n".join(p or b"" for p in parts)


def stored_events(host: str, port: int, sender: str) -> List[Dict[str, Any]]:
    import redis

    return json.loads(redis.Redis(host=host, port=port, db=DB).get(f"tracker:{sender}"))["events"]


def of_kind(events: List[Dict[str, Any]], kind: str) -> List[Dict[str, Any]]:
    return [e for e in events if e["event"] == kind]


def test_redis_holds_only_masked_events_and_the_conversation_survives_a_restart(
    trained_model: Path, tmp_path: Path, redis_server: Tuple[str, int], capsys: pytest.CaptureFixture
) -> None:
    import redis

    host, port = redis_server
    redis.Redis(host=host, port=port, db=DB).flushdb()
    generated = samples()
    needles = build_needles([generated])
    sent = messages(generated)
    probe = ScanReport()
    scan(needles, probe, "sent", "\n".join(sent).encode())
    assert len(probe.hits) >= needles.values, "every original value must be findable in what is sent"
    sender = f"whatsapp:+3161{uuid.uuid4().int % 10**7:07d}"  # generated; a channel whose ids are phone numbers
    stack = harness.RasaStack(model=trained_model, workdir=tmp_path, tracker_store_yaml=store_yaml(host, port))
    with stack:
        replies = [stack.send(sender, text) for text in sent]
        events = stored_events(host, port, stack.stored_id(sender))
        report = ScanReport()
        for label, data in redis_contents(host, port):
            scan(needles, report, label, data)
            assert sender.split("+")[1].encode() not in data, f"the phone number naming the conversation is in {label}"
        with capsys.disabled():
            print(f"\n[redis] {needles.values} original values ({needles.patterns} patterns), "
                  f"{sum(report.sources.values()):,} bytes in {len(report.sources)} key types scanned, "
                  f"{len(report.hits)} occurrences, {len(events)} events stored")
        assert not report.hits, f"raw PII in Redis (key type, PII type): {sorted({h[:2] for h in report.hits})}"
        # Each message is stored once, in its storage rendering; every reply the customer got is stored too.
        guard = current_guard()
        assert [e["text"] for e in of_kind(events, "user")] == [
            guard.mask(text, "storage", SETTINGS_SCOPE) for text in sent
        ]
        assert len(of_kind(events, "bot")) == sum(len(r) for r in replies)

        stack.restart_rasa()
        stack.send(sender, "hello there")
        after = stored_events(host, port, stack.stored_id(sender))

    assert after[: len(events)] == events, "the restarted server must append to the tracker it found in Redis"
    assert len(of_kind(after, "session_started")) == len(of_kind(events, "session_started"))
    assert [e["text"] for e in of_kind(after, "user")][-1] == "hello there"


def test_rasa_run_refuses_to_start_when_redis_does_not_answer(trained_model: Path, tmp_path: Path) -> None:
    dead_port = harness.free_port()  # nothing listens there
    stack = harness.RasaStack(model=trained_model, workdir=tmp_path, tracker_store_yaml=store_yaml("127.0.0.1", dead_port))
    with pytest.raises(harness.HarnessError, match="rasa run exited with"):
        stack.__enter__()
    assert stack.rasa.process.returncode != 0
    assert "TrackerStoreUnavailableError" in (tmp_path / "rasa.log").read_text()
