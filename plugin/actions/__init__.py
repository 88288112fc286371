"""Action server side: rasa-sdk actions any bot can adopt by re-exporting them from its own ``actions`` package.

This layer imports ``rasa_sdk`` and the lower plugin layers, never ``rasa`` (the action server is often a lighter image).
"""

from plugin.policy.guard import install_log_redaction

install_log_redaction()  # before any action logs: the action server's log lines are masked too

from plugin.actions.handoff import ActionHandoff  # noqa: E402

__all__ = ["ActionHandoff"]
