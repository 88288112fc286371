"""Build the engine under test and the corpus options that match its configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks.corpus import CorpusOptions

REPO_ROOT = Path(__file__).resolve().parent.parent


def build_default_engine() -> tuple[Any, Any]:
    """``(engine, config)`` for the full built-in catalogue, ``build_engine(EngineConfig())``."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from plugin.pii import EngineConfig, build_engine

    config = EngineConfig()
    return build_engine(config), config


def corpus_options(config: Any) -> CorpusOptions:
    """Generate national phone notations for the engine's default regions and long numbers at its threshold."""
    defaults = CorpusOptions()
    return CorpusOptions(
        home_regions=tuple(getattr(config, "phone_regions", defaults.home_regions)),
        long_number_digits=int(getattr(config, "long_number_digits", defaults.long_number_digits)),
    )
