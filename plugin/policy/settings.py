"""Read ``privacy.yml`` and resolve the settings a process must enforce, the same way in every process.

Resolution order (later wins): built-in defaults < ``privacy.yml`` < runtime changes < per-channel overrides.
The Rasa server, the action server and the CLI all call ``load_privacy_config`` / ``resolve``; nothing else reads the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import yaml

from plugin.policy.schema import Settings
from plugin.policy.validation import SettingsError, apply_overrides

CONFIG_ENV = "RASA_GUARD_CONFIG"
STATE_URL_ENV = "RASA_GUARD_STATE_URL"
DEFAULT_CONFIG = "privacy.yml"
CHANNELS_KEY = "channels"
DEPLOYMENT_GROUP = "storage"


@dataclass(frozen=True)
class PrivacyConfig:
    """The validated contents of ``privacy.yml``: global settings plus raw per-channel override mappings."""

    settings: Settings = field(default_factory=Settings)
    channel_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "(built-in defaults)"


def config_path(explicit: Union[str, Path, None] = None) -> Optional[Path]:
    """The settings file to read: an explicit path, else ``$RASA_GUARD_CONFIG``, else ``./privacy.yml`` if it exists."""
    if explicit is not None:
        return Path(explicit)
    from_env = os.environ.get(CONFIG_ENV)
    if from_env:
        return Path(from_env)
    default = Path(DEFAULT_CONFIG)
    return default if default.exists() else None


def load_privacy_config(path: Union[str, Path, None] = None) -> PrivacyConfig:
    """Load and validate the settings file; an explicitly named file that is missing is an error, not a silent default."""
    resolved = config_path(path)
    if resolved is None:
        return PrivacyConfig()
    try:
        text = resolved.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError("(file)", f"settings file {resolved} does not exist; create it or unset {CONFIG_ENV}") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise SettingsError("(file)", f"{resolved} is not valid YAML{where}") from None
    return parse_privacy_config(data, source=str(resolved))


def parse_privacy_config(data: Any, source: str = "(mapping)") -> PrivacyConfig:
    """Validate a ``privacy.yml``-shaped mapping, including every channel's overrides."""
    if not isinstance(data, Mapping):
        raise SettingsError("(top level)", f"{source} must hold a mapping of settings groups")
    data = dict(data)
    channels = data.pop(CHANNELS_KEY, None) or {}
    if not isinstance(channels, Mapping):
        raise SettingsError(CHANNELS_KEY, "must map channel names to settings overrides")
    settings = apply_overrides(Settings(), data)
    overrides: Dict[str, Mapping[str, Any]] = {}
    for channel, override in channels.items():
        if isinstance(override, Mapping) and DEPLOYMENT_GROUP in override:
            raise SettingsError(
                f"{CHANNELS_KEY}.{channel}.{DEPLOYMENT_GROUP}",
                "deployment settings apply to every channel (one database, one way of storing conversation ids); "
                "set them at the top level",
            )
        try:
            apply_overrides(settings, override or {})
        except SettingsError as error:
            raise SettingsError(f"{CHANNELS_KEY}.{channel}.{error.key}", str(error).split(": ", 1)[1]) from None
        overrides[str(channel)] = override or {}
    return PrivacyConfig(settings=settings, channel_overrides=overrides, source=source)


def resolve(
    config: PrivacyConfig,
    channel: Optional[str] = None,
    runtime_changes: Optional[Mapping[str, Any]] = None,
    runtime_channel_changes: Optional[Mapping[str, Mapping[str, Any]]] = None,
) -> Settings:
    """Settings in force for ``channel``: file < runtime changes < the channel's overrides (file, then runtime)."""
    settings = config.settings
    if runtime_changes:
        settings = apply_overrides(settings, runtime_changes)
    if channel is not None:
        for layer in (config.channel_overrides, runtime_channel_changes or {}):
            if channel in layer:
                settings = apply_overrides(settings, layer[channel])
    return settings


def state_url(settings: Settings) -> str:
    """The plugin-state database URL: ``$RASA_GUARD_STATE_URL`` wins over ``storage.state_url``."""
    return os.environ.get(STATE_URL_ENV) or settings.storage.state_url
