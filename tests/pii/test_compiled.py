"""The mypyc build of the engine: used only when it matches the sources, and it answers exactly as the sources do."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import plugin.pii
from benchmarks.equivalence import texts
from plugin.pii import VIEWS, EngineConfig, build_engine
from plugin.pii.compiled import (
    EXTENSION_SUFFIX,
    GROUP_NAME,
    MANIFEST,
    PURE_PYTHON_ENV,
    build_files,
    build_matches_sources,
    source_digests,
    use_build,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
UNDER_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

_DUMP = """
import json, sys
import plugin.pii
from plugin.pii import VIEWS, EngineConfig, build_engine
engine = build_engine(EngineConfig())
out = [{"compiled": plugin.pii.COMPILED}]
for text in json.load(sys.stdin):
    out.append([[s.start, s.end, s.type, s.validated, dict(s.attributes)] for s in engine.detect(text)]
               + [engine.mask(text, view).text for view in VIEWS])
json.dump(out, sys.stdout)
"""


def _package(tmp_path: Path) -> Path:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "engine.py").write_text("VALUE = 1\n", encoding="utf-8")
    (package / "spans.py").write_text("SPANS = 1\n", encoding="utf-8")
    return package


def _write_build(build: Path, package: Path, cache_tag: str = sys.implementation.cache_tag, library: bytes = b"") -> None:
    """A build of ``package``: its manifest, a placeholder extension per module, and mypyc's shared library."""
    for path in build_files(build, package):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(library)
    manifest = {"cache_tag": cache_tag, "ext_suffix": EXTENSION_SUFFIX, "sources": source_digests(package)}
    (build / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")


def test_a_complete_build_of_exactly_these_sources_is_used(tmp_path, monkeypatch):
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    package, build = _package(tmp_path), tmp_path / "build"
    _write_build(build, package)
    (build / "lib" / f"{GROUP_NAME}__mypyc.py").write_text("", encoding="utf-8")  # a loadable stand-in library
    (build / "lib" / f"{GROUP_NAME}__mypyc{EXTENSION_SUFFIX}").unlink()
    assert not build_matches_sources(build, package)  # the real library file is part of a complete build
    (build / "lib" / f"{GROUP_NAME}__mypyc{EXTENSION_SUFFIX}").write_bytes(b"")
    monkeypatch.setitem(sys.modules, f"{GROUP_NAME}__mypyc", object())  # as if it had loaded
    path = [str(package)]
    assert use_build(path, build, package)
    assert path == [str(build / "pii"), str(package)]
    assert str(build / "lib") in sys.path
    sys.path.remove(str(build / "lib"))


@pytest.mark.parametrize(
    "change", ["edited source", "new source", "other python", "missing module", "no manifest", "broken manifest"]
)
def test_a_build_that_does_not_match_is_ignored(tmp_path, monkeypatch, change):
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    package, build = _package(tmp_path), tmp_path / "build"
    _write_build(build, package, "cpython-39" if change == "other python" else sys.implementation.cache_tag)
    if change == "edited source":
        (package / "spans.py").write_text("SPANS = 2\n", encoding="utf-8")  # not compiled, but compiled modules use it
    elif change == "new source":
        (package / "extra.py").write_text("", encoding="utf-8")
    elif change == "missing module":
        (build / "pii" / f"engine{EXTENSION_SUFFIX}").unlink()
    elif change == "no manifest":
        (build / MANIFEST).unlink()
    elif change == "broken manifest":
        (build / MANIFEST).write_text("[1, 2", encoding="utf-8")
    path = [str(package)]
    assert not use_build(path, build, package)
    assert path == [str(package)]


def test_a_build_whose_library_does_not_load_is_ignored(tmp_path, monkeypatch):
    """A copied checkout whose extensions cannot load here (another platform, a damaged file) runs the sources."""
    monkeypatch.delenv(PURE_PYTHON_ENV, raising=False)
    monkeypatch.delitem(sys.modules, f"{GROUP_NAME}__mypyc", raising=False)
    monkeypatch.setattr(sys, "path", [entry for entry in sys.path if not entry.endswith("_compiled/lib")])
    package, build = _package(tmp_path), tmp_path / "build"
    _write_build(build, package, library=b"not a shared library")
    path = [str(package)]
    assert not use_build(path, build, package)
    assert path == [str(package)] and str(build / "lib") not in sys.path


def test_the_pure_python_switch_wins_over_a_matching_build(tmp_path, monkeypatch):
    package, build = _package(tmp_path), tmp_path / "build"
    _write_build(build, package)
    monkeypatch.setenv(PURE_PYTHON_ENV, "1")
    path = [str(package)]
    assert not use_build(path, build, package)
    assert path == [str(package)]


def test_ci_runs_the_compiled_engine():
    """`make test` compiles the engine first; under CI a missing or stale build is a failure, not a slow pass."""
    if not UNDER_CI and not plugin.pii.COMPILED:
        pytest.skip("no matching mypyc build here (run scripts/compile_engine.py)")
    assert build_matches_sources()
    assert plugin.pii.COMPILED
    assert plugin.pii.engine.__file__.endswith(".so")


def test_compiled_and_pure_python_engines_agree():
    """Same spans and masked text of every view on generated values, hard negatives, odd inputs and mutations
    (about 14,000 texts)."""
    if not plugin.pii.COMPILED:
        if UNDER_CI:
            pytest.fail("the engine is not compiled under CI")
        pytest.skip("no matching mypyc build here (run scripts/compile_engine.py)")
    corpus = [text for _source, text in texts(chat=400, fuzz=3000)]
    env = dict(os.environ, **{PURE_PYTHON_ENV: "1"}, PYTHONPATH=str(REPO_ROOT))
    completed = subprocess.run(
        [sys.executable, "-c", _DUMP], input=json.dumps(corpus), capture_output=True, text=True, env=env, check=True
    )
    header, *pure = json.loads(completed.stdout)
    assert header == {"compiled": False}
    engine = build_engine(EngineConfig())
    compiled = [
        [[s.start, s.end, s.type, s.validated, dict(s.attributes)] for s in engine.detect(text)]
        + [engine.mask(text, view).text for view in VIEWS]
        for text in corpus
    ]
    disagreements = sum(1 for a, b in zip(pure, compiled) if a != b)
    assert len(pure) == len(compiled) == len(corpus) and disagreements == 0
