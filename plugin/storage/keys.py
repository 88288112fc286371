"""The vault's master key: from ``$RASA_GUARD_MASTER_KEY`` or a private key file created on first run.

The master key only wraps per-record data keys; it never encrypts data directly. Its id (a fingerprint) is stored with
every wrapped key so that a later key rotation knows which master key wrapped which record. Key material never appears
in logs, reprs or error messages.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Optional

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY_ENV = "RASA_GUARD_MASTER_KEY"
KEY_FILE_ENV = "RASA_GUARD_MASTER_KEY_FILE"
KEY_FILE_NAME = "master.key"
KEY_BYTES = 32


class MasterKeyError(Exception):
    """The master key is missing, malformed or stored unsafely; the message says what to change."""


@dataclass(frozen=True)
class MasterKey:
    """A 256-bit AES key plus a non-secret fingerprint that names it in stored records."""

    material: bytes = field(repr=False)
    key_id: str = field(init=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise MasterKeyError(f"a master key must be exactly {KEY_BYTES} bytes")
        fingerprint = hashlib.sha256(b"rasa-guard master key id\x00" + self.material).hexdigest()[:16]
        object.__setattr__(self, "key_id", f"mk-{fingerprint}")


def generate_key_text() -> str:
    """A new random master key in the text form that the env variable and the key file hold."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode("ascii")


def parse_key_text(encoded: str, source: str) -> MasterKey:
    """Decode standard or url-safe base64 of exactly 32 bytes; ``source`` names where it came from for the error."""
    compact = "".join(encoded.split()).translate(str.maketrans("-_", "+/"))
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise MasterKeyError(
            f"{source} is not base64; generate a key with: python -c "
            "\"import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())\""
        ) from None
    if len(raw) != KEY_BYTES:
        raise MasterKeyError(f"{source} decodes to {len(raw)} bytes; a master key must be exactly {KEY_BYTES} bytes")
    return MasterKey(raw)


def key_file_path(state_dir: Path, env: Optional[Mapping[str, str]] = None) -> Path:
    """``$RASA_GUARD_MASTER_KEY_FILE`` if set, else ``master.key`` in the state directory (``.rasa-guard`` by default)."""
    environ = os.environ if env is None else env
    return Path(environ.get(KEY_FILE_ENV) or state_dir / KEY_FILE_NAME)


def load_master_key(key_file: Path, env: Optional[Mapping[str, str]] = None) -> MasterKey:
    """The configured master key: ``$RASA_GUARD_MASTER_KEY`` wins; else ``key_file``, created (mode 0600) if missing."""
    environ = os.environ if env is None else env
    from_env = environ.get(MASTER_KEY_ENV)
    if from_env:
        return parse_key_text(from_env, f"${MASTER_KEY_ENV}")
    if not key_file.exists():
        _create_key_file(key_file)
    return read_key_file(key_file)


def read_key_file(path: Path) -> MasterKey:
    """Read a key file, refusing one that group or others may access."""
    try:
        mode = path.stat().st_mode
        if mode & 0o077:
            raise MasterKeyError(
                f"master key file {path} is accessible by group or others (mode {mode & 0o777:o}); run: chmod 600 {path}"
            )
        encoded = path.read_text(encoding="ascii", errors="replace")
    except OSError as error:
        raise MasterKeyError(f"cannot read master key file {path}: {error.strerror}") from None
    return parse_key_text(encoded, f"master key file {path}")


def _create_key_file(path: Path) -> None:
    # Write a private temp file, then hard-link it into place: the key file appears complete or not at all,
    # and when two processes start at once exactly one key wins (os.link fails if the name exists).
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(generate_key_text() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temp, path)
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)


def subkey(master: MasterKey, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the master key, so one leaked use does not expose the others."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=f"rasa-guard/{purpose}/v1".encode()).derive(
        master.material
    )
