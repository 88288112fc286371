"""Policy & state layer: the settings schema and the decisions (blacklist, allowlists, tokens, OTP, audit) built on it."""

from plugin.policy.schema import Settings
from plugin.policy.settings import PrivacyConfig, load_privacy_config, resolve
from plugin.policy.validation import SettingsError

__all__ = ["PrivacyConfig", "Settings", "SettingsError", "load_privacy_config", "resolve"]
