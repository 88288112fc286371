"""Conversation ids as stored: a keyed pseudonym instead of the id the channel sent.

WhatsApp, SMS and e-mail channels use the customer's phone number or address as Rasa's conversation (sender) id, and
Rasa keys everything by it: tracker rows, Redis keys, event-broker messages, locks. Every storage boundary of the
plugin passes the id through ``ConversationIds.stored`` so that only ``cid-`` plus a keyed BLAKE2b digest is kept,
written in lower-case letters only: like the engine's tags, a pseudonym has no digits for a numeric rule to mask, so
log lines show it whole and operators can search for it.
The digest is deterministic per master key, so every process of a deployment finds the same conversation, and there
is no reverse map: the live tracker keeps the real id for replies, stored listings show pseudonyms, and a tool given
a real id (``python -m plugin reveal +31...``) derives the pseudonym. ``stored`` is idempotent: a pseudonym read back
from storage (the redaction job, ``keys()``) maps to itself.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Optional

from plugin.storage.keys import MasterKey, subkey

PREFIX = "cid-"
_DIGEST_BYTES = 16
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_LETTER_COUNT = 28  # 26 ** 28 > 2 ** 128: every digest has its own spelling
_PSEUDONYM = re.compile(PREFIX + "[a-z]{%d}" % _LETTER_COUNT)
PSEUDONYM_LENGTH = len(PREFIX) + _LETTER_COUNT

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
        if not self.key or is_pseudonym(conversation_id):
            return conversation_id
        digest = hashlib.blake2b(conversation_id.encode("utf-8", "surrogatepass"), key=self.key, digest_size=_DIGEST_BYTES)
        return PREFIX + _in_letters(int.from_bytes(digest.digest(), "big"))

    def stored_optional(self, conversation_id: Optional[str]) -> Optional[str]:
        return None if conversation_id is None else self.stored(conversation_id)


KEPT_AS_SENT = ConversationIds()


def _in_letters(number: int) -> str:
    letters = []
    for _ in range(_LETTER_COUNT):
        number, index = divmod(number, len(_LETTERS))
        letters.append(_LETTERS[index])
    return "".join(letters)


def for_mode(mode: str, master_key: MasterKey) -> ConversationIds:
    """The mapping ``storage.conversation_ids`` asks for; the pseudonym key is derived from the master key."""
    return ConversationIds(subkey(master_key, "conversation-ids")) if mode == PSEUDONYM else KEPT_AS_SENT
