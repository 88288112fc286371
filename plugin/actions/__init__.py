"""Action server side: rasa-sdk actions any bot can adopt by re-exporting them from its own ``actions`` package.

This layer imports ``rasa_sdk`` and the lower plugin layers, never ``rasa`` (the action server is often a lighter image).
"""

from plugin.policy.guard import install_log_redaction

install_log_redaction()  # before any action logs: the action server's log lines are masked too

from plugin.actions.handoff import ActionHandoff  # noqa: E402
from plugin.actions.resolve import ActionResolveConversation  # noqa: E402
from plugin.actions.admin import (  # noqa: E402
    ActionAdminCommand,
    ActionAdminConfirm,
    ActionAdminLogin,
    ActionAdminVerify,
)
from plugin.actions.session import (  # noqa: E402
    ActionGuardTurn,
    ActionIdleTimeout,
    ActionIdleWarning,
    ActionSessionStart,
)

__all__ = [
    "ActionHandoff", "ActionResolveConversation", "ActionAdminLogin", "ActionAdminVerify", "ActionAdminCommand",
    "ActionAdminConfirm", "ActionSessionStart", "ActionGuardTurn", "ActionIdleWarning", "ActionIdleTimeout",
]
