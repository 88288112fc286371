"""Change signals: a file beside a SQLite state database, replaced after every change of one kind of record, so that
a process can tell "nothing changed since I last read it" with one ``stat`` instead of a query on every message.

The Rasa server asks some questions of the state database for every customer message (settings as of this instant,
whether the admin chat awaits an OTP from this conversation) while the answers change a few times a day, written by
the action server. Each writer replaces the file after its commit (a new inode, so readers see it even within one
mtime tick); a reader takes the file's mark before reading and keeps the answer while the mark stands, re-reading at
least every ``REVALIDATE_SECONDS`` should a writer die between its commit and its signal. Without a SQLite file
(PostgreSQL, several machines) there is no signal and every read goes to the database.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Generic, Optional, Tuple, TypeVar

from plugin.storage.db import StateDB, sqlite_path

logger = logging.getLogger(__name__)

REVALIDATE_SECONDS = 2.0

Mark = Optional[Tuple[int, int]]  # (inode, mtime in ns) of the signal file; None while it does not exist
T = TypeVar("T")


class ChangeSignal:
    """The signal file for one kind of record (``suffix``) of a state database; ``path`` is None without one."""

    def __init__(self, db: StateDB, suffix: str) -> None:
        database = sqlite_path(db.engine.url.render_as_string(hide_password=False))
        self.path: Optional[Path] = database.with_name(database.name + suffix) if database is not None else None

    def mark(self) -> Mark:
        if self.path is None:
            return None
        try:
            status = os.stat(self.path)
        except OSError:
            return None
        return status.st_ino, status.st_mtime_ns

    def signal(self) -> None:
        """Call after committing a change. A failure is logged: readers catch up within ``REVALIDATE_SECONDS``."""
        if self.path is None:
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            temporary.write_text(str(time.time_ns()))
            os.replace(temporary, self.path)
        except OSError as error:
            logger.error("rasa-guard: change signal %s not written (%s)", self.path.name, type(error).__name__)


class SignalledRead(Generic[T]):
    """``read()``'s last answer while the signal's mark is unchanged and at most ``REVALIDATE_SECONDS`` old; with no
    signal file to watch, ``read()`` every time."""

    def __init__(self, signal: ChangeSignal, read: Callable[[], T]) -> None:
        self._signal = signal
        self._read = read
        self._seen: Optional[Tuple[Mark, T, float]] = None  # (mark, answer, read at)

    def get(self) -> T:
        if self._signal.path is None:
            return self._read()
        mark = self._signal.mark()  # before the read: a change committed after it moves the mark
        seen = self._seen
        if seen is not None and seen[0] == mark and time.monotonic() - seen[2] < REVALIDATE_SECONDS:
            return seen[1]
        answer = self._read()
        self._seen = (mark, answer, time.monotonic())
        return answer
