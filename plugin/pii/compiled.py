"""Run the engine's mypyc build (``scripts/compile_engine.py``) when one exists that matches the sources exactly.

The build sits in ``plugin/pii/_compiled`` (not in git): the extension modules under ``pii/``, mypyc's shared runtime
under ``lib/``, and a manifest with the SHA-256 of each source it was compiled from. ``use_build`` puts ``pii/``
first on the package's search path, so ``import plugin.pii.engine`` finds the extension; any mismatch (an edited
source, another Python or platform, a missing file, a library that does not load) leaves the path alone and the
sources run. ``RASA_GUARD_PURE_PYTHON=1`` forces the sources.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Dict, List, MutableSequence

PACKAGE_DIR = Path(__file__).resolve().parent
BUILD_DIR = PACKAGE_DIR / "_compiled"
MANIFEST = "manifest.json"
GROUP_NAME = "rasa_guard_pii"
PURE_PYTHON_ENV = "RASA_GUARD_PURE_PYTHON"
EXTENSION_SUFFIX = EXTENSION_SUFFIXES[0]  # e.g. ".cpython-310-x86_64-linux-gnu.so"

# Not compiled: the package init and this loader run before the build is chosen; spans.py defines the frozen
# dataclasses that builders.py fills through ``__dict__``, which mypyc's native classes do not have; config.py holds
# the public settings dataclasses, which stay ordinary ones (pickled, copied, built with lists) whichever build runs.
_INTERPRETED = frozenset({"__init__.py", "compiled.py", "config.py", "spans.py"})


def compiled_sources(package_dir: Path = PACKAGE_DIR) -> List[str]:
    """File names of the modules the build holds."""
    return sorted(path.name for path in package_dir.glob("*.py") if path.name not in _INTERPRETED)


def source_digests(package_dir: Path = PACKAGE_DIR) -> Dict[str, str]:
    """SHA-256 of every source file of the package, compiled or not (the others' layouts are compiled into the build)."""
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(package_dir.glob("*.py"))}


def build_files(build_dir: Path, package_dir: Path = PACKAGE_DIR) -> List[Path]:
    """The extension files a complete build holds for this interpreter."""
    files = [build_dir / "pii" / (name[: -len(".py")] + EXTENSION_SUFFIX) for name in compiled_sources(package_dir)]
    return files + [build_dir / "lib" / (GROUP_NAME + "__mypyc" + EXTENSION_SUFFIX)]


def build_matches_sources(build_dir: Path = BUILD_DIR, package_dir: Path = PACKAGE_DIR) -> bool:
    """True when the build is complete, was made for this interpreter, and from exactly the current sources."""
    try:
        manifest = json.loads((build_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(manifest, dict)
        and manifest.get("cache_tag") == sys.implementation.cache_tag
        and manifest.get("ext_suffix") == EXTENSION_SUFFIX
        and manifest.get("sources") == source_digests(package_dir)
        and all(path.is_file() for path in build_files(build_dir, package_dir))
    )


def use_build(package_path: MutableSequence[str], build_dir: Path = BUILD_DIR, package_dir: Path = PACKAGE_DIR) -> bool:
    """Make the package's submodules load from the build when it matches and loads; return whether they will."""
    if os.environ.get(PURE_PYTHON_ENV, "") not in ("", "0") or not build_matches_sources(build_dir, package_dir):
        return False
    runtime = str(build_dir / "lib")
    added = runtime not in sys.path
    if added:
        sys.path.append(runtime)
    try:
        importlib.import_module(GROUP_NAME + "__mypyc")  # mypyc's shared library: it fails here if it cannot load
    except ImportError:
        if added:
            sys.path.remove(runtime)
        return False
    package_path.insert(0, str(build_dir / "pii"))
    return True
