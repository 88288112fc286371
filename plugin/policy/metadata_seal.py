"""The seal on the plugin's own message metadata (``metadata["rasa_guard"]``): proof that a guarded channel wrote it.

Rasa's stock channels pass a client's metadata through, so beside them a client could write a ``rasa_guard`` entry of
its own: a channel scope with laxer settings, ``management_allowed``, its own NLU rendering. The guarded channels seal
their entry with a key derived from the master key, which the Rasa server and the action server share, and every
reader of a live message trusts the entry only when the seal verifies. Stored events are masked value by value, so a
seal is checked on the live message only, never on a stored copy.

Rasa hands the very dict a channel sealed to ``PIIMasker`` and, inside the ``UserUttered`` event, to the policies, so
an entry this process sealed is recognised by identity (and an unchanged body) without computing the MAC again. The
MAC is keyed BLAKE2b (RFC 7693), CPython's own small C module: in the served path, between Rasa's steps, an OpenSSL
HMAC costs ~50 us (its provider look-ups run with cold caches) where keyed BLAKE2b costs a few.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from typing import Any, Dict, Mapping, Optional, Tuple

GUARD_METADATA_KEY = "rasa_guard"  # the plugin's entry in a message's metadata
SEAL_FIELD = "seal"
RECENT_SEALS_KEPT = 2048  # entries sealed in this process and still recognised without a MAC (a few per message)

_recent: Dict[str, Tuple[Dict[str, Any], Dict[str, Any], bytes]] = {}  # seal -> (the sealed dict, its body's copy, key)
_recent_lock = threading.Lock()


def _canonical(body: Mapping[str, Any]) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)


def _digest(canonical: str, key: bytes) -> str:
    return hashlib.blake2b(canonical.encode("utf-8", "surrogatepass"), key=key, digest_size=32).hexdigest()


def sealed(entry: Mapping[str, Any], key: bytes) -> Dict[str, Any]:
    """A copy of ``entry`` with its seal. Without a key (no plugin state) the copy is unsealed, so readers distrust it."""
    copy = {name: value for name, value in entry.items() if name != SEAL_FIELD}
    if key:
        canonical = _canonical(copy)
        copy[SEAL_FIELD] = seal = _digest(canonical, key)
        _remember(seal, (copy, json.loads(canonical), key))
    return copy


def verified(entry: Any, key: bytes) -> Optional[Dict[str, Any]]:
    """The entry without its seal when the seal is this key's, else None (missing, forged, altered, or no key)."""
    if not key or not isinstance(entry, Mapping) or not isinstance(entry.get(SEAL_FIELD), str):
        return None
    seal = entry[SEAL_FIELD]
    body = {name: value for name, value in entry.items() if name != SEAL_FIELD}
    known = _recent.get(seal)
    if known is not None and known[0] is entry and known[2] == key and known[1] == body:
        return body  # the very dict this process sealed, unchanged since (no client can hand in this object)
    if not hmac.compare_digest(seal.encode("utf-8", "surrogatepass"), _digest(_canonical(body), key).encode("ascii")):
        return None
    return body


def verified_entry(metadata: Any, key: bytes) -> Optional[Dict[str, Any]]:
    """The ``rasa_guard`` entry of a message's metadata, without its seal, when the seal verifies; else None."""
    return verified(metadata.get(GUARD_METADATA_KEY), key) if isinstance(metadata, Mapping) else None


def _remember(seal: str, known: Tuple[Dict[str, Any], Dict[str, Any], bytes]) -> None:
    with _recent_lock:
        _recent[seal] = known
        while len(_recent) > RECENT_SEALS_KEPT:
            del _recent[next(iter(_recent))]
