"""SQLite access: short-lived connections in WAL mode, one per operation.

Streamlit runs each rerun on a new thread, so nothing here keeps a connection
between calls. :meth:`Store.read` opens a connection for reading, and
:meth:`Store.write` opens one inside ``BEGIN IMMEDIATE`` so writers queue on the
``busy_timeout`` instead of failing with "database is locked" halfway through.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from clientplus_core.base.errors import DiskFullError, is_disk_full
from clientplus_core.store.config import DataDir, resolve_data_dir

BUSY_TIMEOUT_MS = 30_000


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
        """A connection for reading; closed on exit."""
        conn = connect(self.db_path)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A connection inside one immediate transaction: all or nothing."""
        conn = connect(self.db_path)
        try:
            with transaction(conn):
                yield conn
        finally:
            conn.close()

    def utils(self, conn: sqlite3.Connection) -> sqlite_utils.Database:
        """Wrap a connection in a sqlite-utils ``Database``."""
        return sqlite_utils.Database(conn)
