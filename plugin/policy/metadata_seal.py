"""The seal on the plugin's own message metadata (``metadata["rasa_guard"]``): proof that a guarded channel wrote it.

Rasa's stock channels pass a client's metadata through, so beside them a client could write a ``rasa_guard`` entry of
its own: a channel scope with laxer settings, ``management_allowed``, its own NLU rendering. The guarded channels seal
their entry with a key derived from the master key, which the Rasa server and the action server share, and every
reader of a live message trusts the entry only when the seal verifies. Stored events are masked value by value, so a
seal is checked on the live message only, never on a stored copy.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Dict, Mapping, Optional

SEAL_FIELD = "seal"


def _digest(entry: Mapping[str, Any], key: bytes) -> str:
    body = {name: value for name, value in entry.items() if name != SEAL_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr)
    return hmac.new(key, canonical.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def sealed(entry: Mapping[str, Any], key: bytes) -> Dict[str, Any]:
    """A copy of ``entry`` with its seal. Without a key (no plugin state) the copy is unsealed, so readers distrust it."""
    copy = {name: value for name, value in entry.items() if name != SEAL_FIELD}
    if key:
        copy[SEAL_FIELD] = _digest(copy, key)
    return copy


def verified(entry: Any, key: bytes) -> Optional[Dict[str, Any]]:
    """The entry without its seal when the seal is this key's, else None (missing, forged, altered, or no key)."""
    if not key or not isinstance(entry, Mapping) or not isinstance(entry.get(SEAL_FIELD), str):
        return None
    if not hmac.compare_digest(entry[SEAL_FIELD].encode("utf-8", "surrogatepass"), _digest(entry, key).encode("ascii")):
        return None
    return {name: value for name, value in entry.items() if name != SEAL_FIELD}
