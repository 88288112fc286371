"""Record the texts a guard's engines scan, for tests that assert a text is (or is not) scanned again.

The engine may run as a mypyc build, whose objects take no new attributes, so the spy wraps the engine and replaces
``Guard.engine`` on the guard instead of patching the engine's methods.
"""

from __future__ import annotations

from typing import Any, Dict, List

import pytest


class _ScanSpy:
    def __init__(self, engine: Any, method: str, scanned: List[str]) -> None:
        self._engine, self._method, self._scanned = engine, method, scanned

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._engine, name)
        if name != self._method:
            return attribute

        def recorded(text: str, *args: Any, **kwargs: Any) -> Any:
            self._scanned.append(text)
            return attribute(text, *args, **kwargs)

        return recorded


def record_scans(guard: Any, method: str, monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """The texts passed to ``method`` (``mask`` or ``mask_views``) of every engine ``guard`` hands out from now on."""
    scanned: List[str] = []
    spies: Dict[int, _ScanSpy] = {}  # one spy per engine: the guard keys its caches by the engine object
    real_engine = guard.engine

    def spied_engine(*args: Any, **kwargs: Any) -> _ScanSpy:
        engine = real_engine(*args, **kwargs)
        return spies.setdefault(id(engine), _ScanSpy(engine, method, scanned))

    monkeypatch.setattr(guard, "engine", spied_engine)
    return scanned
