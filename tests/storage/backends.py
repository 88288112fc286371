"""State-database backends for tests: SQLite always; PostgreSQL when ``RASA_GUARD_TEST_PG_URL`` names a throwaway database.

Import the fixtures into a test module (``from tests.storage.backends import state_url``) to run it on every backend.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, Iterator, List, Mapping, Optional

import pytest
from sqlalchemy import create_engine, text

import plugin.policy.audit  # noqa: F401  (declares its tables on the shared metadata)
import plugin.storage.vault  # noqa: F401
from plugin.storage.db import StateDB, metadata, sqlite_path

PG_URL_ENV = "RASA_GUARD_TEST_PG_URL"


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty state database URL per test (the PostgreSQL database is wiped of every plugin table)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state' / 'state.db'}"
    url = request.getfixturevalue("postgres_url")  # $RASA_GUARD_TEST_PG_URL, or a cluster started for the session
    engine = create_engine(url, future=True)
    metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.fixture
def db(state_url: str) -> Iterator[StateDB]:
    state = StateDB.open(state_url)
    yield state
    state.close()


def raw_sql(url: str, sql: str, params: Optional[Mapping[str, Any]] = None) -> List[tuple]:
    """Run SQL outside the plugin, as a tamperer would: the sqlite3 module on the file, or a separate connection."""
    path = sqlite_path(url)
    if path is not None:
        connection = sqlite3.connect(path)
        try:
            rows = connection.execute(sql, dict(params or {})).fetchall()
            connection.commit()
            return rows
        finally:
            connection.close()
    engine = create_engine(url, future=True)
    try:
        with engine.begin() as connection:
            result = connection.execute(text(sql), dict(params or {}))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        engine.dispose()
