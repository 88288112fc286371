"""rasa-guard: privacy and security controls for Rasa 3.6 bots.

Layers (imports point downwards only): ``pii`` (engine) < ``policy``/``storage`` < ``server`` (Rasa side)
and ``actions`` (rasa-sdk side, never imports ``rasa``) < ``cli``.
"""

__version__ = "0.1.0"
