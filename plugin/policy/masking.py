"""Translate the ``masking`` settings of one scope into the engine's ``EngineConfig``.

The one place where settings meet the engine, so the Rasa server, the action server and the CLI mask identically.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Dict

from plugin.pii import BUILTIN_TYPES, CustomRule, EngineConfig, StrategySpec
from plugin.policy.schema import CustomRuleSettings, MaskingSettings, StrategySettings

# Card neutralisation (CommBox): cards show their last four digits wherever people read text.
_NEUTRALISED_VIEWS = ("agent", "storage", "log")


def engine_config(masking: MaskingSettings, hash_key: bytes = b"") -> EngineConfig:
    """The engine configuration for these settings; ``hash_key`` feeds the ``hash`` strategy (empty: tags instead)."""
    strategies: Dict[str, Dict[str, StrategySpec]] = {
        view: {pii_type: _strategy(spec) for pii_type, spec in per_type.items()}
        for view, per_type in masking.strategies.items()
    }
    if masking.enabled:
        enabled = frozenset(t for t in BUILTIN_TYPES if masking.types.get(t, True))
        long_digits, ai_digits = masking.long_number_digits, masking.ai_hidden_digits
        rules = tuple(_rule(rule) for rule in masking.custom_rules if rule.enabled)
        allow, deny = masking.allow_list, masking.deny_list
    else:
        # Masking off: nothing is detected, except cards when the channel neutralises them.
        enabled = frozenset({"credit_card"}) if masking.card_neutralisation else frozenset()
        long_digits = ai_digits = 0
        rules, allow, deny = (), (), ()
    if masking.card_neutralisation:
        enabled = enabled | {"credit_card"}
        for view in _NEUTRALISED_VIEWS:
            strategies.setdefault(view, {})["credit_card"] = StrategySpec("card_last4")
    return EngineConfig(
        enabled_types=enabled,
        phone_regions=masking.phone_regions,
        long_number_digits=long_digits,
        nlu_hidden_digits=ai_digits,
        allow_list=allow,
        deny_list=deny,
        custom_rules=rules,
        strategies=MappingProxyType({view: MappingProxyType(specs) for view, specs in strategies.items()}),
        hash_key=hash_key,
        scan_timeout_s=masking.scan_timeout_ms / 1000,
    )


def _strategy(spec: StrategySettings) -> StrategySpec:
    return StrategySpec(
        name=spec.strategy, mask_char=spec.mask_char, keep_left=spec.keep_left, keep_right=spec.keep_right,
        tag=spec.tag or None,
    )


def _rule(rule: CustomRuleSettings) -> CustomRule:
    return CustomRule(
        name=rule.name,
        pattern=rule.pattern,
        tag=rule.tag,
        strategy=StrategySpec(rule.strategy, tag=rule.tag) if rule.strategy != "tag" else None,
        validator=rule.validator or None,
        context_words=rule.context_words,
        context_window=rule.context_window,
    )

