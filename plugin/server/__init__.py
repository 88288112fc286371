"""Rasa server side: NLU component, masking tracker store, masking input channel, log redaction.

Importing any of these (Rasa does, from config.yml, endpoints.yml or credentials.yml) installs log redaction first.
"""

from plugin.server import logs

logs.install()
