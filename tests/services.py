"""Real database servers for tests: a throwaway PostgreSQL cluster from the Debian packages, when installed.

`.ci/run` installs the `postgresql` package; on a developer machine without it the PostgreSQL variants are skipped.
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
