"""Turn plain mappings (YAML, admin changes, channel overrides) into validated ``Settings``, or refuse them.

Every refusal is a ``SettingsError`` naming the dotted key and what is allowed there, so the same message serves the
YAML author, the CLI user and the admin in the chat. The refused value is never echoed: the admin chat reads it from
the vault when it looked like personal data (a phone number typed as a timeout), and blacklist entries and custom
terms can be personal data.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Dict, List, Mapping, Tuple, Type, TypeVar, Union, get_args, get_origin, get_type_hints

import phonenumbers

from plugin.policy import schema
from plugin.policy.schema import Settings

T = TypeVar("T")


class SettingsError(ValueError):
    """A setting was refused; ``key`` is its dotted path, the message says what is allowed."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def settings_from_mapping(data: Mapping[str, Any]) -> Settings:
    """Validate a full or partial settings mapping over the built-in defaults."""
    return apply_overrides(Settings(), data)


def apply_overrides(base: Settings, overrides: Mapping[str, Any]) -> Settings:
    """Return ``base`` with a partial mapping of settings laid over it; mappings merge key by key, other values replace."""
    merged = _deep_merge(to_mapping(base), overrides, "")
    settings = _build(Settings, merged, "")
    _check_cross_field(settings)
    return settings


def set_value(base: Settings, dotted_key: str, value: Any) -> Settings:
    """Change one setting by its dotted key (``session.idle_timeout_seconds``), validating it like any other change."""
    parts = dotted_key.split(".")
    if not all(parts):
        raise SettingsError(dotted_key, "is not a setting key; use group.name, e.g. session.idle_timeout_seconds")
    change: Any = value
    for part in reversed(parts):
        change = {part: change}
    return apply_overrides(base, change)


def get_value(settings: Settings, dotted_key: str) -> Any:
    """Read one setting by its dotted key; unknown keys raise ``SettingsError``."""
    current: Any = settings
    for part in dotted_key.split("."):
        if dataclasses.is_dataclass(current) and part in {f.name for f in dataclasses.fields(current)}:
            current = getattr(current, part)
        elif isinstance(current, Mapping) and part in current:
            current = current[part]
        else:
            raise SettingsError(dotted_key, "unknown setting")
    return current


def to_mapping(value: Any) -> Any:
    """Plain, YAML-ready form of settings (dataclasses to dicts, tuples to lists)."""
    if dataclasses.is_dataclass(value):
        return {f.name: to_mapping(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {k: to_mapping(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_mapping(v) for v in value]
    return value


def _deep_merge(base: Any, overrides: Any, key: str) -> Any:
    if not isinstance(overrides, Mapping):
        raise SettingsError(key or "(top level)", f"must be a mapping of settings, not {_kind(overrides)}")
    if not isinstance(base, Mapping):
        return overrides
    merged = dict(base)
    for name, value in overrides.items():
        if not isinstance(name, str):
            raise SettingsError(key or "(top level)", "setting names must be text")
        sub_key = f"{key}.{name}" if key else name
        if isinstance(value, Mapping) and isinstance(base.get(name), Mapping):
            merged[name] = _deep_merge(base[name], value, sub_key)
        else:
            merged[name] = value
    return merged


def _build(cls: Type[T], data: Any, prefix: str) -> T:
    where = prefix.rstrip(".") or "(top level)"
    if isinstance(data, str) and "strategy" in {f.name for f in dataclasses.fields(cls)}:
        data = {"strategy": data}  # shorthand: `credit_card: tag`
    if not isinstance(data, Mapping):
        raise SettingsError(where, f"must be a mapping of settings, not {_kind(data)}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    for name in data:
        if name not in known:
            raise SettingsError(f"{prefix}{name}", f"unknown setting; allowed here: {', '.join(known)}")
    hints = get_type_hints(cls)
    values = {name: _convert(hints[name], data[name], f"{prefix}{name}", known[name].metadata) for name in data}
    return cls(**values)


def _convert(tp: Any, value: Any, key: str, meta: Mapping[str, Any]) -> Any:
    origin = get_origin(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, f"{key}.")
    if origin is tuple:
        if isinstance(value, str) or not isinstance(value, (list, tuple)):
            raise SettingsError(key, f"must be a list, not {_kind(value)}")
        item_type = get_args(tp)[0]
        return tuple(_convert(item_type, item, f"{key}[{i}]", meta) for i, item in enumerate(value))
    if origin in (dict, Dict):
        if not isinstance(value, Mapping):
            raise SettingsError(key, f"must be a mapping, not {_kind(value)}")
        _, value_type = get_args(tp)
        allowed_keys = meta.get("keys")
        result = {}
        for name, item in value.items():
            if not isinstance(name, str) or (allowed_keys and name not in allowed_keys):
                allowed = ", ".join(allowed_keys) if allowed_keys else "text"
                raise SettingsError(f"{key}.{name}", f"unknown key; allowed: {allowed}")
            inner_meta = {**meta, "keys": _inner_keys(key)}
            result[name] = _convert(value_type, item, f"{key}.{name}", inner_meta)
        return result
    if tp is bool:
        if not isinstance(value, bool):
            raise SettingsError(key, f"must be true or false, not {_kind(value)}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(key, f"must be a whole number{_range_text(meta)}, not {_kind(value)}")
        _check_range(value, key, meta)
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(key, f"must be a number{_range_text(meta)}, not {_kind(value)}")
        _check_range(value, key, meta)
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise SettingsError(key, f"must be text, not {_kind(value)}")
        choices = meta.get("choices")
        if choices is not None and value not in choices:
            shown = ", ".join(repr(c) if c == "" else c for c in choices)
            raise SettingsError(key, f"must be one of: {shown}")
        return value
    raise TypeError(f"schema type {tp!r} of {key} is not supported")  # a bug in the schema, not user input


def _inner_keys(key: str) -> Union[Tuple[str, ...], None]:
    # The second level of masking.strategies is keyed by PII type.
    return schema.PII_TYPES if key == "masking.strategies" else None


def _range_text(meta: Mapping[str, Any]) -> str:
    low, high = meta.get("minimum"), meta.get("maximum")
    if low is not None and high is not None:
        return f" between {_num(low)} and {_num(high)}"
    if low is not None:
        return f" of at least {_num(low)}"
    if high is not None:
        return f" of at most {_num(high)}"
    return ""


def _check_range(value: float, key: str, meta: Mapping[str, Any]) -> None:
    low, high = meta.get("minimum"), meta.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise SettingsError(key, f"must be{_range_text(meta)}")


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _kind(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text", type(None): "empty"}.get(
        type(value), "a list" if isinstance(value, (list, tuple)) else "a mapping" if isinstance(value, Mapping) else "another type"
    )


# Rules that involve more than one setting: (description for errors, key blamed, predicate that must hold).
CrossCheck = Tuple[str, str, Callable[[Settings], bool]]
CROSS_CHECKS: List[CrossCheck] = [
    (
        "must be shorter than session.idle_timeout_seconds",
        "session.warning_lead_seconds",
        lambda s: s.session.warning_lead_seconds < s.session.idle_timeout_seconds,
    ),
    (
        "mask_char must be exactly one character",
        "masking.strategies",
        lambda s: all(len(spec.mask_char) == 1 for per_type in s.masking.strategies.values() for spec in per_type.values()),
    ),
    (
        "must be two-letter region codes known to phonenumbers, e.g. NL, GB, US",
        "masking.phone_regions",
        lambda s: all(r in phonenumbers.SUPPORTED_REGIONS for r in s.masking.phone_regions),
    ),
    (
        "must be a two-letter region code known to phonenumbers, e.g. NL",
        "blacklist.default_region",
        lambda s: s.blacklist.default_region in phonenumbers.SUPPORTED_REGIONS,
    ),
    (
        f"lists only settings groups: {', '.join(schema.EDITABLE_GROUPS)}",
        "roles.edit",
        lambda s: all(g in schema.EDITABLE_GROUPS for groups in s.roles.edit.values() for g in groups),
    ),
    (
        f"maps roles to views: {', '.join(schema.VIEWS + ('admin',))}",
        "roles.views",
        lambda s: all(v in schema.VIEWS + ("admin",) for v in s.roles.views.values()),
    ),
    (
        "needs unique, non-empty rule names and non-empty patterns",
        "masking.custom_rules",
        lambda s: len({r.name for r in s.masking.custom_rules}) == len(s.masking.custom_rules)
        and all(r.name and r.pattern for r in s.masking.custom_rules),
    ),
]


def _check_cross_field(settings: Settings) -> None:
    for message, key, holds in CROSS_CHECKS:
        if not holds(settings):
            raise SettingsError(key, message)
