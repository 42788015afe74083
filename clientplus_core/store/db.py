"""SQLite access: connections in WAL mode, one per operation.

:meth:`Store.read` lends a connection for reading, and :meth:`Store.write` one inside
``BEGIN IMMEDIATE`` so writers queue on the ``busy_timeout`` instead of failing with
"database is locked" halfway through. A connection that served an operation without
error goes back to a small pool and serves the next one (opening one and setting its
pragmas was a tenth of the server's CPU per page, and a kept connection keeps its
prepared statements); no transaction stays open between operations, so each one sees
every commit made before it. A pooled connection is used only while the database file
is still the one it was opened on (a restore puts a new file in place), and never in
a forked child.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from clientplus_core.base.errors import DiskFullError, is_disk_full
from clientplus_core.store.config import DataDir, resolve_data_dir

BUSY_TIMEOUT_MS = 30_000
POOL_SIZE = 16  # idle connections kept, over all databases (each holds 3 open files)


def now_iso() -> str:
    """The current UTC time as ISO-8601 with seconds, as stored in every table."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def connect(path: Path | str) -> sqlite3.Connection:
    """Open a configured connection (WAL, foreign keys, busy timeout, Row factory)."""
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000,
                           isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back if a transaction is still open. SQLite itself may already have rolled
    it back (it does on ``SQLITE_FULL``), and a second ``ROLLBACK`` would then replace
    the real error by "cannot rollback - no transaction is active"."""
    if conn.in_transaction:
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # the connection is closed next; the original error is what matters


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` on an open connection (``ROLLBACK`` and
    re-raise on any error): all or nothing. A full disk ("database or disk is full",
    or ``OSError`` 28 from a file written inside) becomes :class:`DiskFullError`,
    a message fit to show; the transaction is rolled back all the same."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
        conn.execute("COMMIT")
    except BaseException as exc:
        _rollback(conn)
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError() from exc
        raise


FileId = tuple[int, int]
_pool: list[tuple[str, FileId, sqlite3.Connection]] = []  # oldest first
_pool_lock = threading.Lock()
_abandoned: list[sqlite3.Connection] = []  # a forked child's inherited connections


def _file_id(path: Path) -> FileId | None:
    """(device, inode) of the database file; None when there is none yet."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _borrow(path: Path) -> tuple[sqlite3.Connection, FileId | None]:
    """A pooled connection to ``path``'s current file, else a new one."""
    fid = _file_id(path)
    key, stale = str(path), []
    conn = None
    with _pool_lock:
        for i in range(len(_pool) - 1, -1, -1):
            k, f, c = _pool[i]
            if k == key:
                del _pool[i]
                if f == fid and conn is None:
                    conn = c
                else:
                    stale.append(c)
    for c in stale:  # the file was replaced (a restore): these read the old one
        c.close()
    if conn is None:
        conn = connect(path)
        fid = _file_id(path)  # connecting may have created the file
    return conn, fid


def _give_back(path: Path, fid: FileId | None, conn: sqlite3.Connection) -> None:
    """Keep ``conn`` for the next operation (closing the oldest kept one when full)."""
    if fid is None or conn.in_transaction:
        conn.close()
        return
    with _pool_lock:
        _pool.append((str(path), fid, conn))
        dropped = _pool[:-POOL_SIZE] if len(_pool) > POOL_SIZE else []
        del _pool[:len(dropped)]
    for _, _, c in dropped:
        c.close()


@contextmanager
def _lent(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection for one operation: given back to the pool when the operation ended
    without an error, closed otherwise."""
    conn, fid = _borrow(path)
    try:
        yield conn
    except BaseException:
        conn.close()
        raise
    _give_back(path, fid, conn)


def close_pool() -> None:
    """Close every kept connection (tests, and before a process lets its files go)."""
    with _pool_lock:
        kept = [c for _, _, c in _pool]
        _pool.clear()
    for c in kept:
        c.close()


def _forget_pool_in_child() -> None:
    """A forked child must not use, nor close, its parent's connections (closing one
    could check-point or unlink the parent's WAL): keep them unreachable but alive."""
    _abandoned.extend(c for _, _, c in _pool)
    _pool.clear()


os.register_at_fork(after_in_child=_forget_pool_in_child)


class Store:
    """The data folder plus helpers to open connections to its database."""

    def __init__(self, data_dir: DataDir | str | Path | None = None):
        if not isinstance(data_dir, DataDir):
            data_dir = resolve_data_dir(data_dir)
        self.data_dir = data_dir

    @property
    def db_path(self) -> Path:
        return self.data_dir.db_path

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection for reading; given back to the pool on exit (closed after an
        error, or when the caller left a transaction open)."""
        with _lent(self.db_path) as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one immediate transaction: all or nothing. Given back to
        the pool after a commit, closed after a rollback."""
        with _lent(self.db_path) as conn, transaction(conn):
            yield conn

    def utils(self, conn: sqlite3.Connection) -> sqlite_utils.Database:
        """Wrap a connection in a sqlite-utils ``Database``."""
        return sqlite_utils.Database(conn)
