"""A plugin guard with chosen settings on a fresh state database, and rasa-sdk trackers built from event dicts."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker

from plugin.policy.guard import Guard, current_guard, set_current_guard
from plugin.policy.metadata_seal import sealed
from plugin.policy.settings import parse_privacy_config


@pytest.fixture
def use_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Call with a privacy.yml-shaped mapping; the process-wide guard then uses it with its own state database."""
    monkeypatch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{tmp_path / 'state.db'}")

    def install(data: Dict[str, Any]) -> Guard:
        guard = Guard(parse_privacy_config(data))
        set_current_guard(guard)
        return guard

    yield install
    set_current_guard(None)


def user(
    text: str, at: float, channel: str = "rest", external: bool = False, forged: bool = False, **guard: Any
) -> Dict[str, Any]:
    """A user event as the guarded channel writes it (its entry sealed), or as a client could forge it (``forged``)."""
    entry = {"channel": channel, **guard}
    if not forged:
        entry = sealed(entry, current_guard().metadata_seal_key())
    metadata: Dict[str, Any] = {"is_external": True} if external else {"rasa_guard": entry}
    return {"event": "user", "timestamp": at, "text": f"EXTERNAL: {text}" if external else text,
            "parse_data": {"intent": {"name": text}}, "input_channel": channel, "metadata": metadata}


def action(name: str, at: float) -> Dict[str, Any]:
    return {"event": "action", "timestamp": at, "name": name}


def tracker(sender: str, events: List[Dict[str, Any]], slots: Optional[Dict[str, Any]] = None) -> Tracker:
    return Tracker.from_dict({"sender_id": sender, "slots": slots or {}, "events": events, "latest_message": {}})


def now() -> float:
    return time.time()


def audit_actions() -> List[str]:
    return [entry.action for entry in current_guard().state.audit.entries(limit=100)]
