"""Answers kept until the data they were computed from changes.

Every write to the tables the analytics copy holds (sales and their lines, payments
and status log, clients, shares, users, statuses, catalogue) adds a row to
``analytics_changes`` through triggers (migration m029), whoever writes: the app,
the CLI, a plain ``sqlite3`` session. So the log's last ``seq``, with the database
file's identity, names a state of those tables: an answer computed from them in
that state is still right while it is the same. While a demo bulk load runs (its
rows are not logged one by one) nothing is kept.

Used for what a page asks on every run and what costs a scan: the sales register's
count and sums (a million sales: 60-250 ms each run) and the client registry's count.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
MAX_KEPT = 256  # answers kept, over all databases and questions (small tuples)


class Kept:
    """The newest ``size`` answers by key, shared by every thread of the process."""

    def __init__(self, size: int):
        self.size = size
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The answer kept under ``key``, else ``compute()``'s, kept from now on."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]  # type: ignore[return-value]
        answer = compute()
        with self._lock:
            self._answers[key] = answer
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer

    def clear(self) -> None:
        with self._lock:
            self._answers.clear()


_kept = Kept(MAX_KEPT)


def state(conn: sqlite3.Connection, path: Path) -> tuple[int, int, int] | None:
    """(device, inode, last change) of the database ``conn`` reads at ``path``; None
    when it cannot be named (a bulk load in progress, no change log, no file)."""
    try:
        bulk, seq = conn.execute("SELECT (SELECT 1 FROM bulk_dropped_indexes LIMIT 1),"
                                 " (SELECT max(seq) FROM analytics_changes)").fetchone()
        st = os.stat(path)
    except (sqlite3.Error, OSError):
        return None
    return None if bulk else (st.st_dev, st.st_ino, int(seq or 0))


def kept(conn: sqlite3.Connection, path: Path, question: Hashable,
         compute: Callable[[], T]) -> T:
    """``compute()``'s answer to ``question`` on the data as it is now: computed once
    per state of the data (see :func:`state`), else as a plain call."""
    now = state(conn, path)
    return compute() if now is None else _kept.get((now, question), compute)


def clear() -> None:
    """Forget every kept answer (tests)."""
    _kept.clear()
