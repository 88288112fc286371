"""Conversation ids as stored: a keyed pseudonym instead of the id the channel sent.

WhatsApp, SMS and e-mail channels use the customer's phone number or address as Rasa's conversation (sender) id, and
Rasa keys everything by it: tracker rows, Redis keys, event-broker messages, locks. Every storage boundary of the
plugin passes the id through ``ConversationIds.stored`` so that only ``cid-`` plus a keyed BLAKE2b digest is kept,
spelt with the letters a-p instead of hex digits: like the engine's tags, a pseudonym has no digits for a numeric rule to mask, so
log lines show it whole and operators can search for it.
The digest is deterministic per master key, so every process of a deployment finds the same conversation, and there
is no reverse map: the live tracker keeps the real id for replies, stored listings show pseudonyms, and a tool given
a real id (``python -m plugin reveal +31...``) derives the pseudonym. ``stored`` is idempotent: a pseudonym read back
from storage (the redaction job, ``keys()``) maps to itself.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from typing import Optional

from plugin.storage.keys import MasterKey, subkey

PREFIX = "cid-"
_DIGEST_BYTES = 16
_HEX_AS_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")  # hex spelt with the letters a-p
_PSEUDONYM = re.compile(PREFIX + "[a-p]{%d}" % (2 * _DIGEST_BYTES))
PSEUDONYM_LENGTH = len(PREFIX) + 2 * _DIGEST_BYTES
_CACHED_IDS = 16384  # a message maps its conversation's id a dozen times (locks, tracker, vault)

PSEUDONYM = "pseudonym"
AS_IS = "as_is"
MODES = (PSEUDONYM, AS_IS)

LEGACY_IDS_MESSAGE = (
    "the tracker store holds conversations under the ids channels sent (stored before storage.conversation_ids: "
    "pseudonym); set storage.conversation_ids: as_is in privacy.yml to keep serving them (there is no migration "
    "yet), or start from an empty store"
)


def is_pseudonym(conversation_id: str) -> bool:
    return _PSEUDONYM.fullmatch(conversation_id) is not None


@dataclass(frozen=True)
class ConversationIds:
    """Maps a conversation id to the form stored; without a key (``storage.conversation_ids: as_is``) the identity."""

    key: bytes = field(default=b"", repr=False)

    @property
    def pseudonymous(self) -> bool:
        return bool(self.key)

    def stored(self, conversation_id: str) -> str:
        return _pseudonym(self.key, conversation_id) if self.key else conversation_id

    def stored_optional(self, conversation_id: Optional[str]) -> Optional[str]:
        return None if conversation_id is None else self.stored(conversation_id)


KEPT_AS_SENT = ConversationIds()


@functools.lru_cache(maxsize=_CACHED_IDS)
def _pseudonym(key: bytes, conversation_id: str) -> str:
    """Cached in process memory only, where Rasa holds the live ids anyway."""
    if is_pseudonym(conversation_id):
        return conversation_id
    digest = hashlib.blake2b(conversation_id.encode("utf-8", "surrogatepass"), key=key, digest_size=_DIGEST_BYTES)
    return PREFIX + digest.hexdigest().translate(_HEX_AS_LETTERS)


def for_mode(mode: str, master_key: MasterKey) -> ConversationIds:
    """The mapping ``storage.conversation_ids`` asks for; the pseudonym key is derived from the master key."""
    return ConversationIds(subkey(master_key, "conversation-ids")) if mode == PSEUDONYM else KEPT_AS_SENT
