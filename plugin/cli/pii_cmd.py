"""``python -m plugin detect|mask``: the PII engine over JSON Lines (wired up once the engine lands)."""

from __future__ import annotations

from typing import Any


def register(subparsers: Any) -> None:
    return None
