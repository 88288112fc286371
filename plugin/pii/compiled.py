"""Run the engine's mypyc build (``scripts/compile_engine.py``) when one exists that matches the sources exactly.

The build sits in ``plugin/pii/_compiled`` (not in git): the extension modules under ``pii/``, mypyc's shared runtime
under ``lib/``, and a manifest with the SHA-256 of each source it was compiled from. ``use_build`` puts ``pii/``
first on the package's search path, so ``import plugin.pii.engine`` finds the extension; any mismatch (an edited
source, another Python) leaves the path alone and the sources run. ``RASA_GUARD_PURE_PYTHON=1`` forces the sources.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Dict, List, MutableSequence

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR / "_compiled"
MANIFEST = "manifest.json"
GROUP_NAME = "rasa_guard_pii"
PURE_PYTHON_ENV = "RASA_GUARD_PURE_PYTHON"

# Not compiled: the package init and this loader run before the build is chosen; spans.py builds its frozen
# dataclasses through ``__dict__`` (make_span), which mypyc's native classes do not have.
_INTERPRETED = frozenset({"__init__.py", "compiled.py", "spans.py"})


def compiled_sources(package_dir: Path = PACKAGE_DIR) -> List[str]:
    """File names of the modules the build holds."""
    return sorted(path.name for path in package_dir.glob("*.py") if path.name not in _INTERPRETED)


def source_digests(package_dir: Path = PACKAGE_DIR) -> Dict[str, str]:
    """SHA-256 of every source file of the package, compiled or not (spans.py's layout is compiled into the others)."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(package_dir.glob("*.py"))}


def build_matches_sources(build_dir: Path = BUILD_DIR, package_dir: Path = PACKAGE_DIR) -> bool:
    """True when the build exists, was made for this interpreter, and from exactly the current sources."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("cache_tag") == sys.implementation.cache_tag
        and manifest.get("sources") == source_digests(package_dir)
    )


def use_build(package_path: MutableSequence[str], build_dir: Path = BUILD_DIR, package_dir: Path = PACKAGE_DIR) -> bool:
    """Make the package's submodules load from the build when it matches; return whether they will."""
    if os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0") or not build_matches_sources(build_dir, package_dir):
        return False
    package_path.insert(0, str(build_dir / "pii"))
    runtime = str(build_dir / "lib")
    if runtime not in sys.path:
        sys.path.append(runtime)
    return True
