"""Real database servers for tests: a throwaway PostgreSQL cluster or Redis server from the Debian packages, when
installed.

`.ci/run` installs the `postgresql` and `redis-server` packages; on a developer machine without them the variants
that need them are skipped.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Callable, Optional, Tuple

from tests.harness import free_port


def postgres_binaries() -> Optional[Path]:
    """The bin directory of the newest installed PostgreSQL (Debian keeps them off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(args: list) -> list:
    # initdb refuses to run as root; Debian's package creates the postgres user.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


def start_postgres() -> Optional[Tuple[str, Callable[[], None]]]:
    """Start a cluster in a new /tmp directory (pytest's are private to root, and initdb must run as postgres) on a
    free loopback port; returns (URL of an empty database, a function that stops it and removes its files)."""
    binaries = postgres_binaries()
    if binaries is None:
        return None
    base = Path(tempfile.mkdtemp(prefix="rasa-guard-pg-"))
    data, sockets = base / "data", base / "sockets"
    sockets.mkdir(exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(base, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    run = lambda args: subprocess.run(_as_postgres(args), check=True, capture_output=True, timeout=120)  # noqa: E731
    run([str(binaries / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"])
    run([str(binaries / "pg_ctl"), "-D", str(data), "-l", str(base / "server.log"), "-w", "-o",
         f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off", "start"])
    deadline = time.monotonic() + 30
    while subprocess.run(_as_postgres([str(binaries / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)]),
                         capture_output=True).returncode != 0:
        if time.monotonic() > deadline:
            raise RuntimeError("throwaway PostgreSQL did not become ready")
        time.sleep(0.3)
    run([str(binaries / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "rg_test"])

    def stop() -> None:
        subprocess.run(_as_postgres([str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql://postgres@127.0.0.1:{port}/rg_test", stop


def start_redis() -> Optional[Tuple[str, int, Callable[[], None]]]:
    """Start a throwaway ``redis-server`` (no persistence, its own /tmp directory) on a free loopback port; returns
    (host, port, a function that stops it and removes its files), or None when the binary is not installed."""
    binary = shutil.which("redis-server")
    if binary is None:
        return None
    import redis

    base = Path(tempfile.mkdtemp(prefix="rasa-guard-redis-"))
    host, port = "127.0.0.1", free_port()
    log = (base / "server.log").open("w")
    process = subprocess.Popen(
        [binary, "--bind", host, "--port", str(port), "--dir", str(base), "--save", "", "--appendonly", "no",
         "--daemonize", "no"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )

    def stop() -> None:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        shutil.rmtree(base, ignore_errors=True)

    client = redis.Redis(host=host, port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + 30
    while True:
        try:
            client.ping()
            break
        except redis.RedisError:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = (base / "server.log").read_text(errors="replace")[-2000:]
                stop()
                raise RuntimeError(f"throwaway redis-server did not become ready:\n{tail}")
            time.sleep(0.1)
        finally:
            client.close()
    return host, port, stop
