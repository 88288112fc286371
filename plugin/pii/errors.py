"""Exceptions of the PII engine. Messages name the setting to change and never contain user text."""


class PIIConfigError(ValueError):
    """The engine settings are invalid (unknown type, view, strategy or validator)."""


class InvalidRuleError(PIIConfigError):
    """A custom masking rule was refused when loaded; the message names the rule."""

    def __init__(self, rule_name: str, reason: str) -> None:
        super().__init__(f"custom rule {rule_name!r} refused: {reason}")
        self.rule_name = rule_name
        self.reason = reason


class UnknownViewError(PIIConfigError):
    """``mask`` was asked for a view the engine does not render."""


class AdminViewError(UnknownViewError):
    """The ``admin`` view shows originals: only the vault layer renders it, never the engine."""
