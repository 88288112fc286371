"""``PseudonymousLockStore``: Rasa's per-conversation lock store, keyed by the stored conversation id.

endpoints.yml::

    lock_store:
      type: plugin.server.lock_store.PseudonymousLockStore
      store:                 # the real lock store, as it would stand under lock_store: (default in_memory)
        type: redis
        url: redis.internal

Rasa locks a conversation by the id the channel sent (a phone number on WhatsApp), so a Redis lock store would hold
``lock:+31...`` keys. This wrapper keys every lock by ``storage.conversation_ids``' stored form instead, which is also
the only id the deferred-redaction job knows (it reads ids from the stored transcripts): with it, the job and message
handling lock the same key, in one process (in_memory) or across machines (redis).
"""

from __future__ import annotations

from typing import Any, Optional, Text

from rasa.core.lock_store import LockStore, TicketLock
from rasa.utils.endpoints import EndpointConfig

from plugin.policy.guard import current_guard
from plugin.server.tracker_store import INNER_KEY, inner_endpoint
from plugin.storage.conversation_ids import ConversationIds


class LockStoreConfigError(ValueError):
    """The ``store:`` section under the pseudonymous lock store is not a mapping with a known ``type``."""


class PseudonymousLockStore(LockStore):
    """Delegates to the real lock store; every conversation id passes through ``ConversationIds.stored``."""

    def __init__(
        self,
        endpoint_config: Optional[EndpointConfig] = None,
        *,
        inner: Optional[LockStore] = None,
        ids: Optional[ConversationIds] = None,
    ) -> None:
        self.inner = inner if inner is not None else build_inner_lock_store(endpoint_config)
        self._ids = ids

    @property
    def ids(self) -> ConversationIds:
        if self._ids is None:
            self._ids = current_guard().conversation_ids
        return self._ids

    def lock(self, conversation_id: Text, *args: Any, **kwargs: Any) -> Any:
        # Map once here, so Rasa's own debug lines about the lock name the stored id too.
        return super().lock(self.ids.stored(conversation_id), *args, **kwargs)

    def create_lock(self, conversation_id: Text) -> TicketLock:  # type: ignore[override] - a static method in Rasa
        return TicketLock(self.ids.stored(conversation_id))

    def get_lock(self, conversation_id: Text) -> Optional[TicketLock]:
        return self.inner.get_lock(self.ids.stored(conversation_id))

    def delete_lock(self, conversation_id: Text) -> None:
        self.inner.delete_lock(self.ids.stored(conversation_id))

    def save_lock(self, lock: TicketLock) -> None:
        stored = self.ids.stored(lock.conversation_id)
        if stored != lock.conversation_id:
            lock = TicketLock(stored, lock.tickets)
        self.inner.save_lock(lock)


def build_inner_lock_store(endpoint_config: Optional[EndpointConfig]) -> LockStore:
    """The wrapped lock store from ``store:`` (in memory when absent), refusing anything Rasa would not build."""
    config = (endpoint_config.kwargs if endpoint_config is not None else {}).get(INNER_KEY)
    endpoint = inner_endpoint({"type": "in_memory"} if config is None else config)
    if endpoint is None:
        raise LockStoreConfigError(
            f"PseudonymousLockStore's '{INNER_KEY}:' must be a mapping with the real lock store's 'type' (in_memory, "
            "redis or a module path) and its options"
        )
    if str(endpoint.type).endswith("PseudonymousLockStore"):
        raise LockStoreConfigError(f"PseudonymousLockStore's '{INNER_KEY}:' must name the real lock store, not itself")
    return LockStore.create(endpoint)
