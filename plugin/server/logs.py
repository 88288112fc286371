"""Log redaction inside ``rasa run`` / ``rasa shell`` / ``rasa train``.

Rasa 3.6 renders its structlog events (JSON, or text on a terminal) into stdlib log records, so the plugin's record
factory (``plugin.policy.log_redaction``) masks every line, structlog's included, value by value for JSON lines.

Two deliberate choices, from reading rasa/utils/log_utils.py and rasa/core/processor.py:
- The pluggy hook ``get_anonymization_pipeline`` is NOT implemented: once any plugin answers it, the processor also
  calls ``run_anonymization_pipeline`` on every message, which re-reads the tracker from the store (a second database
  round trip per message) only to hand events to the pipeline. The record factory already masks those log values.
- structlog's JSON exception renderer includes every frame's local variables, truncated to 80 characters; a cut
  value (half a card number) could slip past detection. Locals are switched off in place.
"""

from __future__ import annotations

import structlog
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer

from plugin.policy.guard import install_log_redaction

_NO_LOCALS = ExceptionRenderer(ExceptionDictTransformer(show_locals=False))


def install() -> None:
    """Idempotent: called when any server-side module of the plugin is imported."""
    install_log_redaction()
    if not structlog.is_configured():
        # In-process use (an Agent in your own program): unconfigured structlog prints every level straight to
        # stdout, past stdlib logging and so past masking. Route it through stdlib the way `rasa run` does.
        from rasa.utils.log_utils import configure_structlog

        configure_structlog()
    drop_traceback_locals()


def drop_traceback_locals() -> None:
    """Replace structlog's ``dict_tracebacks`` (locals on) by the same renderer with locals off, in the live list
    that already-created loggers share."""
    processors = structlog.get_config()["processors"]
    for index, processor in enumerate(processors):
        if processor is structlog.processors.dict_tracebacks:
            processors[index] = _NO_LOCALS
