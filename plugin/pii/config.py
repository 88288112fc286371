"""Engine settings as frozen data: which types, which strategies per view, custom rules, allow/deny lists."""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import FrozenSet, Mapping, Optional, Tuple

VIEWS: Tuple[str, ...] = ("nlu", "agent", "storage", "log")
"""Views the engine renders. ``admin`` (originals) is rendered by the vault layer only."""

STRATEGY_NAMES: Tuple[str, ...] = ("tag", "redact", "card_last4", "email_domain", "phone_last4", "hash", "token")


@dataclass(frozen=True)
class StrategySpec:
    """How one type is rendered in one view. ``keep_left``/``keep_right`` count significant characters."""

    name: str = "tag"
    mask_char: str = "*"
    keep_left: int = 0
    keep_right: int = 0
    tag: Optional[str] = None


@dataclass(frozen=True)
class CustomRule:
    """An owner-defined masking rule (the seeds' "custom masking rules"). Validated by ``build_engine``."""

    name: str
    pattern: str
    tag: str = "#custom#"
    strategy: Optional[StrategySpec] = None
    validator: Optional[str] = None
    context_words: Tuple[str, ...] = ()
    context_window: int = 40
    enabled: bool = True


def _all_builtin_types() -> FrozenSet[str]:
    from plugin.pii.catalogue import BUILTIN_TYPES

    return frozenset(BUILTIN_TYPES)


@dataclass(frozen=True)
class EngineConfig:
    """Everything the engine needs; ``EngineConfig()`` is the full built-in catalogue with default strategies."""

    enabled_types: FrozenSet[str] = field(default_factory=_all_builtin_types)
    phone_regions: Tuple[str, ...] = ("NL", "DE", "GB", "US", "FR", "BE")
    long_number_digits: int = 9
    nlu_hidden_digits: int = 5
    allow_list: Tuple[str, ...] = ()
    deny_list: Tuple[str, ...] = field(default=(), repr=False)
    custom_rules: Tuple[CustomRule, ...] = ()
    strategies: Mapping[str, Mapping[str, StrategySpec]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    hash_key: bytes = field(default=b"", repr=False)
    scan_timeout_s: float = 0.05
