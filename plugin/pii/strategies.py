"""Rendering one detected value per strategy: tag, redact, card_last4, email_domain, phone_last4, hash, token."""

from __future__ import annotations

import hashlib
import hmac
from typing import Callable, Optional

from plugin.pii.config import StrategySpec
from plugin.pii.spans import Span

Tokenizer = Callable[[str, Span], str]

_HEX_TO_LETTERS = str.maketrans("0123456789abcdef", "abcdefghijklmnop")


def redact(value: str, mask_char: str = "*", keep_left: int = 0, keep_right: int = 0) -> str:
    """Mask letters and digits, keep separators; keep counts are in significant characters."""
    significant = sum(1 for char in value if char.isalnum())
    keep_left = max(0, keep_left)
    keep_right = max(0, keep_right)
    if keep_left + keep_right >= significant:
        keep_left, keep_right = 0, 0  # keeping everything would reveal the value
    seen = 0
    out = []
    for char in value:
        if char.isalnum():
            seen += 1
            out.append(char if seen <= keep_left or seen > significant - keep_right else mask_char)
        else:
            out.append(char)
    return "".join(out)


def email_domain(value: str) -> str:
    """``****@domain.com``: the local part is replaced by a fixed-width mask so its length does not leak."""
    at = value.rfind("@")
    return "****" + value[at:] if at >= 0 else redact(value)


def phone_last4(value: str) -> str:
    """``XXX-XXX-7890`` style: every digit but the last four becomes X, separators and '+' stay."""
    digits = sum(1 for char in value if char.isdigit())
    keep = 4 if digits > 4 else 0
    seen = 0
    out = []
    for char in value:
        if char.isdigit():
            seen += 1
            out.append(char if seen > digits - keep else "X")
        else:
            out.append(char)
    return "".join(out)


def _normalise(value: str, type_name: str) -> str:
    """Same value written differently (spaces, case) hashes to the same token."""
    if type_name == "email":
        return value.strip().lower()
    return "".join(char for char in value if char.isalnum()).upper()


def hash_token(value: str, type_name: str, tag: str, key: bytes) -> str:
    """Keyed HMAC-SHA256, deterministic per key; rendered digit-free so it is never re-detected."""
    digest = hmac.new(key, f"{type_name}\x00{_normalise(value, type_name)}".encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{tag[:-1]}:{digest[:16].translate(_HEX_TO_LETTERS)}#"


def render(
    value: str, span: Span, spec: StrategySpec, tag: str, hash_key: bytes, tokenizer: Optional[Tokenizer]
) -> str:
    """One value rendered per ``spec``; anything that cannot be rendered safely falls back to the tag (fail closed)."""
    name = spec.name
    tag = spec.tag or tag
    if name == "tag":
        return tag
    if name == "redact":
        return redact(value, spec.mask_char, spec.keep_left, spec.keep_right)
    if name == "card_last4":
        return redact(value, spec.mask_char, 0, 4)
    if name == "email_domain":
        return email_domain(value) if span.type == "email" else tag
    if name == "phone_last4":
        return phone_last4(value)
    if name == "hash":
        return hash_token(value, span.type, tag, hash_key) if hash_key else tag
    if name == "token":
        return tokenizer(value, span) if tokenizer is not None else tag
    return tag
