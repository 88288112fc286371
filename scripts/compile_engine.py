"""Compile the PII engine (``plugin/pii``) with mypyc into ``plugin/pii/_compiled``; a no-op when that build matches the
sources already.

The engine is interpreter-bound (its profile is flat: hundreds of small steps per message), and mypyc turns the same
type-annotated modules into C extensions that run it about 3.5 times as fast. ``plugin/pii/compiled.py`` loads the build
only when the SHA-256 of every source matches the manifest written here, so an edited source never runs stale code.
Without mypy, a C compiler or the Python headers the engine simply stays pure Python (this script says so and exits
0); a failing compilation says so too and exits 1 under CI (``$CI`` set), where the build is required, else 0.

Run from the repository root: ``.venv/bin/python scripts/compile_engine.py [--force]`` (``make test`` runs it).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from plugin.pii.compiled import (  # noqa: E402
    BUILD_DIR,
    EXTENSION_SUFFIX,
    GROUP_NAME,
    MANIFEST,
    PACKAGE_DIR,
    build_files,
    build_matches_sources,
    compiled_sources,
    source_digests,
)

LOCK_FILE = PACKAGE_DIR / "_compiled.lock"


class CompileFailed(Exception):
    """mypyc or the C compiler stopped; the engine stays pure Python."""


def _missing_tools() -> str:
    """What stops a build here, or '' when mypyc, a C compiler and the Python headers are available."""
    try:
        import mypyc  # noqa: F401
    except ImportError:
        return "mypy (mypyc) is not installed; `pip install -e .[build]` adds it"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}) on PATH"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        return "the Python headers (Python.h) are not installed"
    return ""


def _build(work: Path) -> None:
    """mypyc over a copy of the sources in ``work`` (setuptools ``build_ext --inplace`` writes next to them)."""
    (work / "plugin" / "pii").mkdir(parents=True)
    shutil.copy(REPO_ROOT / "plugin" / "__init__.py", work / "plugin" / "__init__.py")
    for source in PACKAGE_DIR.glob("*.py"):
        shutil.copy(source, work / "plugin" / "pii" / source.name)
    modules = [f"plugin/pii/{name}" for name in compiled_sources(work / "plugin" / "pii")]
    setup_script = (
        "from setuptools import setup\n"
        "from mypyc.build import mypycify\n"
        f"setup(name='rasa_guard_pii_compiled', ext_modules=mypycify({modules + ['--ignore-missing-imports']!r},"
        f" opt_level='3', group_name={GROUP_NAME!r}))\n"
    )
    (work / "setup.py").write_text(setup_script, encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, "setup.py", "build_ext", "--inplace"], cwd=work, capture_output=True, text=True
    )
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-4000:] + completed.stderr[-4000:])
        raise CompileFailed("mypyc failed (see above)")


def _install(work: Path) -> None:
    """Move the extensions into a complete new build, then swap it in whole; the manifest records the digests of
    the copies that were compiled, so a source edited meanwhile does not match it."""
    copies = work / "plugin" / "pii"
    staging = Path(tempfile.mkdtemp(prefix="_compiled.new-", dir=PACKAGE_DIR))
    try:
        (staging / "pii").mkdir()
        (staging / "lib").mkdir()
        for target in build_files(staging, copies):
            shutil.move(str(copies / target.name if target.parent.name == "pii" else work / target.name), str(target))
        manifest = {"cache_tag": sys.implementation.cache_tag, "ext_suffix": EXTENSION_SUFFIX, "sources": source_digests(copies)}
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True), encoding="utf-8")
        retired = Path(tempfile.mkdtemp(prefix="_compiled.old-", dir=PACKAGE_DIR))
        if BUILD_DIR.exists():
            os.replace(BUILD_DIR, retired / "build")
        os.replace(staging, BUILD_DIR)
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the build matches the sources")
    args = parser.parse_args(argv)
    if not args.force and build_matches_sources():
        return 0
    missing = _missing_tools()
    if missing:
        print(f"compile_engine: {missing}; the PII engine runs as pure Python (about half the speed)", file=sys.stderr)
        return 0
    with open(LOCK_FILE, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second `make` waits here, then finds the build done
        if not args.force and build_matches_sources():
            return 0
        print("compile_engine: compiling plugin/pii with mypyc (about half a minute)...", file=sys.stderr)
        try:
            with tempfile.TemporaryDirectory(prefix="rasa-guard-mypyc-") as tmp:
                _build(Path(tmp))
                _install(Path(tmp))
        except CompileFailed as failure:
            print(f"compile_engine: {failure}; the PII engine runs as pure Python", file=sys.stderr)
            return 1 if os.environ.get("CI", "").lower() in ("1", "true", "yes") else 0
    print(f"compile_engine: done ({len(compiled_sources())} modules in {BUILD_DIR.relative_to(REPO_ROOT)})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
