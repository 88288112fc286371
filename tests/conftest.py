"""Session fixtures: one trained model per fingerprint, an in-process Agent, and real server stacks on loopback."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

import pytest

from tests import harness


@pytest.fixture(scope="session", autouse=True)
def isolated_plugin_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Plugin state (vault, audit, master key) of in-process code goes to a temporary directory, never the checkout."""
    from plugin.policy.guard import set_current_guard

    state_dir = tmp_path_factory.mktemp("state")
    patch = pytest.MonkeyPatch()
    patch.setenv("RASA_GUARD_STATE_URL", f"sqlite:///{state_dir / 'state.db'}")
    patch.setenv("RASA_GUARD_CONFIG", str(harness.ROOT / "privacy.yml"))
    set_current_guard(None)
    yield state_dir
    patch.undo()
    set_current_guard(None)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway PostgreSQL database: `$RASA_GUARD_TEST_PG_URL` if set, else a cluster started for this session
    from the installed Debian packages; skips the test when neither is available."""
    import os

    from tests.services import start_postgres

    if os.environ.get("RASA_GUARD_TEST_PG_URL"):
        yield os.environ["RASA_GUARD_TEST_PG_URL"]
        return
    started = start_postgres()
    if started is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql) and RASA_GUARD_TEST_PG_URL is not set")
    url, stop = started
    try:
        yield url
    finally:
        stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[tuple]:
    """(host, port) of a throwaway `redis-server` for this session. Without the binary the test is skipped on a
    developer machine but fails in CI (`CI` set), where `.ci/run` installs it: a silent skip there would hide a gap."""
    import os

    from tests.services import start_redis

    started = start_redis()
    if started is None:
        reason = "redis-server is not installed (apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run the Redis tracker store tests")
        pytest.skip(reason)
    host, port, stop = started
    try:
        yield host, port
    finally:
        stop()


@pytest.fixture(autouse=True)
def fresh_reminder_scheduler() -> Iterator[None]:
    """Rasa's reminder scheduler is process-wide and bound to the loop it was first used on; the idle timers live in
    it too, so a test that runs an agent or the timers on its own loop needs a scheduler of its own."""
    import sys

    jobs = sys.modules.get("rasa.core.jobs")
    if jobs is not None:
        try:
            jobs.kill_scheduler()
        except RuntimeError:  # its loop is already closed: nothing runs there any more, just forget it
            setattr(jobs, "__scheduler", None)
    yield


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference bot's model, trained once per session unless a model with the same fingerprint exists."""
    return harness.trained_model(tmp_path_factory.mktemp("train"))


@pytest.fixture(scope="session")
def event_loop_session() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def agent(trained_model: Path, event_loop_session: asyncio.AbstractEventLoop, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """An in-process ``rasa.core.agent.Agent`` with the real model, a SQLite tracker store and the real action server."""
    from rasa.core.agent import load_agent
    from rasa.core.utils import AvailableEndpoints

    workdir = tmp_path_factory.mktemp("agent")
    stack = harness.RasaStack(model=trained_model, workdir=workdir)
    actions = harness.ServerProcess(
        "rasa run actions",
        [harness.RASA, "run", "actions", "--actions", "actions", "--port", str(stack.actions_port)],
        workdir / "actions.log",
        harness.subprocess_env(),
    )
    actions.start()
    try:
        actions.wait_until(f"{stack.actions_url}/health", timeout_s=60)
        endpoints = AvailableEndpoints.read_endpoints(str(stack.endpoints_file()))
        loaded = event_loop_session.run_until_complete(load_agent(model_path=str(trained_model), endpoints=endpoints))
        yield loaded
    finally:
        actions.stop()


@pytest.fixture
def chat(agent: Any, event_loop_session: asyncio.AbstractEventLoop) -> Callable[..., List[Dict[str, Any]]]:
    """Send one message to the in-process agent as a fresh (or given) sender; returns the bot's messages."""
    default_sender = f"test-{uuid.uuid4().hex[:8]}"

    def send(text: str, sender: str = default_sender) -> List[Dict[str, Any]]:
        return event_loop_session.run_until_complete(agent.handle_text(text, sender_id=sender)) or []

    return send


@pytest.fixture(scope="session")
def rasa_stack(trained_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[harness.RasaStack]:
    """Real `rasa run` (REST channel, API off) and `rasa run actions` on free loopback ports, shared by a session."""
    with harness.RasaStack(model=trained_model, workdir=tmp_path_factory.mktemp("stack")) as stack:
        yield stack
