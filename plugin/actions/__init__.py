"""Action server side: rasa-sdk actions any bot can adopt by re-exporting them from its own ``actions`` package.

This layer imports ``rasa_sdk`` and the lower plugin layers, never ``rasa`` (the action server is often a lighter image).
"""

from plugin.actions.handoff import ActionHandoff

__all__ = ["ActionHandoff"]
