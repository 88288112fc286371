"""The reference bot's actions: the plugin's rasa-sdk actions, re-exported so that ``rasa run actions`` registers them.

Any bot adopts rasa-guard's actions the same way: import them in its own actions package.
"""

from plugin.actions import *  # noqa: F401,F403
from plugin.actions import __all__  # noqa: F401
