import pytest

from plugin.pii import Engine, EngineConfig, build_engine


@pytest.fixture(scope="session")
def engine() -> Engine:
    return build_engine(EngineConfig())
