"""The master key: env variable or a private key file made on first run; unsafe or malformed keys stop the start."""

from __future__ import annotations

import base64
import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from plugin.storage.keys import (
    KEY_FILE_ENV,
    MASTER_KEY_ENV,
    MasterKey,
    MasterKeyError,
    generate_key_text,
    key_file_path,
    load_master_key,
)


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_first_run_creates_a_private_key_file_and_later_runs_reuse_it(tmp_path: Path) -> None:
    key_file = tmp_path / "state" / "master.key"
    previous_umask = os.umask(0)  # even a permissive umask must not widen the file
    try:
        first = load_master_key(key_file, env={})
    finally:
        os.umask(previous_umask)
    assert mode_of(key_file) == 0o600
    assert mode_of(key_file.parent) == 0o700
    assert len(base64.urlsafe_b64decode(key_file.read_text().strip())) == 32
    assert load_master_key(key_file, env={}).key_id == first.key_id
    assert [p.name for p in key_file.parent.iterdir()] == ["master.key"]  # no temp file left behind


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_readable_by_group_or_others_is_refused(tmp_path: Path, mode: int) -> None:
    key_file = tmp_path / "master.key"
    key_text = generate_key_text()
    key_file.write_text(key_text)
    key_file.chmod(mode)
    with pytest.raises(MasterKeyError, match="chmod 600") as error:
        load_master_key(key_file, env={})
    assert key_text not in str(error.value)


@pytest.mark.parametrize("content", [base64.b64encode(b"x" * 16).decode(), base64.b64encode(b"x" * 33).decode(), ""])
def test_a_key_file_of_the_wrong_length_is_refused(tmp_path: Path, content: str) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text(content)
    key_file.chmod(0o600)
    with pytest.raises(MasterKeyError, match="exactly 32 bytes"):
        load_master_key(key_file, env={})


def test_a_key_file_that_is_not_base64_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    key_file.write_text("not*base64*at*all!")
    key_file.chmod(0o600)
    with pytest.raises(MasterKeyError, match="not base64"):
        load_master_key(key_file, env={})


def test_the_env_variable_wins_and_no_key_file_is_created(tmp_path: Path) -> None:
    raw = os.urandom(32)
    for encoded in (base64.urlsafe_b64encode(raw).decode(), base64.b64encode(raw).decode().rstrip("=")):
        key = load_master_key(tmp_path / "master.key", env={MASTER_KEY_ENV: encoded})
        assert key.material == raw
    assert not (tmp_path / "master.key").exists()


def test_a_malformed_env_key_is_refused_without_echoing_it(tmp_path: Path) -> None:
    short = base64.b64encode(os.urandom(24)).decode()
    with pytest.raises(MasterKeyError, match=MASTER_KEY_ENV) as error:
        load_master_key(tmp_path / "master.key", env={MASTER_KEY_ENV: short})
    assert short not in str(error.value) and "24 bytes" in str(error.value)


def test_key_material_never_shows_in_repr() -> None:
    raw = os.urandom(32)
    text = repr(MasterKey(raw))
    assert raw.hex() not in text and str(raw) not in text and base64.b64encode(raw).decode() not in text
    assert MasterKey(raw).key_id.startswith("mk-") and MasterKey(raw).key_id == MasterKey(raw).key_id
    assert MasterKey(os.urandom(32)).key_id != MasterKey(raw).key_id


def test_the_key_file_path_is_configurable(tmp_path: Path) -> None:
    assert key_file_path(tmp_path, env={}) == tmp_path / "master.key"
    assert key_file_path(tmp_path, env={KEY_FILE_ENV: "/secrets/rg.key"}) == Path("/secrets/rg.key")


def _load_key_id(path: str, queue: "multiprocessing.Queue[str]") -> None:
    queue.put(load_master_key(Path(path), env={}).key_id)


def test_processes_starting_together_agree_on_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    key_file = tmp_path / "fresh" / "master.key"
    workers = [context.Process(target=_load_key_id, args=(str(key_file), queue)) for _ in range(3)]
    for worker in workers:
        worker.start()
    key_ids = {queue.get(timeout=60) for _ in workers}
    for worker in workers:
        worker.join(60)
    assert len(key_ids) == 1
    assert load_master_key(key_file, env={}).key_id in key_ids
