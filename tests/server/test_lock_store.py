"""PseudonymousLockStore: Rasa's conversation locks keyed by the stored id, so message handling (which knows the
channel's id) and the deferred-redaction job (which knows only the stored pseudonym) exclude each other."""

from __future__ import annotations

import asyncio
import os

import pytest
from rasa.core.lock_store import InMemoryLockStore, LockStore
from rasa.utils.endpoints import EndpointConfig

from plugin.server.lock_store import LockStoreConfigError, PseudonymousLockStore
from plugin.server.redaction import locks_other_ids
from plugin.storage.conversation_ids import KEPT_AS_SENT, for_mode
from plugin.storage.keys import MasterKey

SENDER = "whatsapp:+31612345670"  # generated, shaped like a WhatsApp conversation id
IDS = for_mode("pseudonym", MasterKey(os.urandom(32)))


def test_the_channels_id_and_the_pseudonym_take_the_same_lock() -> None:
    inner = InMemoryLockStore()
    store = PseudonymousLockStore(inner=inner, ids=IDS)
    order = []

    async def job() -> None:  # the redaction job, which reads the pseudonym from the transcripts
        async with store.lock(IDS.stored(SENDER), wait_time_in_seconds=0.02):
            order.append("job")

    async def scenario() -> None:
        async with store.lock(SENDER):  # a turn of the conversation
            assert list(inner.conversation_locks) == [IDS.stored(SENDER)]
            waiting = asyncio.ensure_future(job())
            await asyncio.sleep(0.2)
            assert not waiting.done()  # it waits for the turn
            order.append("turn")
        await asyncio.wait_for(waiting, 5)
        assert not inner.conversation_locks

    asyncio.run(scenario())
    assert order == ["turn", "job"]


def test_a_redis_lock_store_never_holds_the_channels_id(redis_server) -> None:
    import redis

    host, port = redis_server
    store = LockStore.create(
        EndpointConfig(type="plugin.server.lock_store.PseudonymousLockStore", store={"type": "redis", "url": host,
                                                                                     "port": port, "db": 2})
    )
    assert isinstance(store, PseudonymousLockStore)
    store._ids = IDS
    client = redis.Redis(host=host, port=port, db=2)

    async def scenario() -> list:
        async with store.lock(SENDER):
            return client.keys("*")

    keys = asyncio.run(scenario())
    assert keys and all(b"31612345670" not in key for key in keys)
    assert any(IDS.stored(SENDER).encode() in key for key in keys)


@pytest.mark.parametrize("inner", [{"dialect": "x"}, "redis", {"type": "plugin.server.lock_store.PseudonymousLockStore"}])
def test_refuses_a_store_section_that_is_not_a_real_lock_store(inner) -> None:
    with pytest.raises(LockStoreConfigError, match="store:"):
        PseudonymousLockStore(EndpointConfig(type="plugin.server.lock_store.PseudonymousLockStore", store=inner))


def test_without_a_store_section_it_locks_in_memory() -> None:
    store = PseudonymousLockStore(EndpointConfig(type="plugin.server.lock_store.PseudonymousLockStore"))
    assert isinstance(store.inner, InMemoryLockStore)


def test_the_redaction_job_knows_when_the_server_locks_other_keys() -> None:
    assert locks_other_ids(InMemoryLockStore(), IDS)
    assert not locks_other_ids(PseudonymousLockStore(inner=InMemoryLockStore(), ids=IDS), IDS)
    assert not locks_other_ids(InMemoryLockStore(), KEPT_AS_SENT)
