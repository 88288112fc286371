"""``python -m plugin detect|mask``: the PII engine over JSON Lines on stdin/stdout, one object per line.

In: ``{"id": ..., "text": "..."}``. Out: ``{"id": ..., "spans": [...]}`` (detect) or ``{"id": ..., "text": "..."}``
(mask). ``id`` is passed through unchanged; a bad line gets ``{"id": ..., "error": "..."}`` on its own line and the
run goes on. Offsets are Python string indices into the input text.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Callable, Dict, Optional, TextIO

from plugin.cli import CommandError
from plugin.pii import VIEWS, Engine, PIIConfigError, build_engine
from plugin.policy.masking import engine_config
from plugin.policy.settings import load_privacy_config, resolve
from plugin.policy.validation import SettingsError

def register(subparsers: Any) -> None:
    detect = subparsers.add_parser("detect", help="JSON Lines in, detected PII spans out")
    _common(detect)
    detect.set_defaults(func=_detect)

    mask = subparsers.add_parser("mask", help="JSON Lines in, masked text out")
    _common(mask)
    mask.add_argument("--view", choices=VIEWS, default="storage", help="rendering to produce (default: storage)")
    mask.set_defaults(func=_mask)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="settings file (default: $RASA_GUARD_CONFIG or ./privacy.yml, else built-ins)")
    parser.add_argument("--channel", help="apply this channel's overrides from the settings file")


def _engine(args: argparse.Namespace) -> Engine:
    try:
        settings = resolve(load_privacy_config(args.config), channel=args.channel)
        return build_engine(engine_config(settings.masking))
    except (SettingsError, PIIConfigError) as error:
        raise CommandError(str(error)) from None


def _detect(args: argparse.Namespace) -> int:
    engine = _engine(args)
    return run_lines(sys.stdin, sys.stdout, lambda text: {"spans": [span.to_json() for span in engine.detect(text)]})


def _mask(args: argparse.Namespace) -> int:
    engine = _engine(args)
    return run_lines(sys.stdin, sys.stdout, lambda text: {"text": engine.mask(text, args.view).text})


def run_lines(source: TextIO, sink: TextIO, handle: Callable[[str], Dict[str, Any]]) -> int:
    """Process each input line independently; errors are reported on that line and never echo the text."""
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        ident: Optional[Any] = None
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise _LineError("each line must be a JSON object like {\"id\": 1, \"text\": \"...\"}")
            ident = item.get("id")
            text = item.get("text")
            if not isinstance(text, str):
                raise _LineError("the object needs a \"text\" string")
            out = {"id": ident, **handle(text)}
        except json.JSONDecodeError as error:
            out = {"id": None, "error": f"line {number}: not valid JSON ({error.msg} at column {error.colno})"}
        except _LineError as error:
            out = {"id": ident, "error": f"line {number}: {error}"}
        _write_line(sink, out)
    return 0


def _write_line(sink: TextIO, out: Dict[str, Any]) -> None:
    """Non-ASCII characters as they are; a text with a lone surrogate (valid in JSON input, not encodable as UTF-8)
    is written with ``\\u`` escapes instead of ending the run."""
    rendered = json.dumps(out, ensure_ascii=False)
    try:
        rendered.encode("utf-8")
    except UnicodeEncodeError:
        rendered = json.dumps(out)
    sink.write(rendered + "\n")
    sink.flush()


class _LineError(ValueError):
    """One input line is not a valid request."""
