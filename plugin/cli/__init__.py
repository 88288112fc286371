"""The ``python -m plugin`` command line: one module per command group, each exposing ``register``."""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Callable, List, Optional, Sequence

# Each module defines ``register(subparsers) -> None`` and sets ``func`` on its parsers.
# Imported lazily so that ``--help`` and light commands never pay for Rasa or SQLAlchemy imports.
COMMAND_MODULES: List[str] = [
    "plugin.cli.settings_cmd",
    "plugin.cli.pii_cmd",
    "plugin.cli.audit_cmd",
    "plugin.cli.staff_cmd",
    "plugin.cli.token_cmd",
    "plugin.cli.redact_cmd",
    "plugin.cli.reveal_cmd",
]


class CommandError(Exception):
    """A user error on the command line: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m plugin",
        description="rasa-guard: PII masking, access control and a conversational admin for Rasa 3.6 bots.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Optional[Callable[[argparse.Namespace], int]] = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return 2
    try:
        return func(args)
    except CommandError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
