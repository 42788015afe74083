"""Pooled SQLite connections (clientplus_core.store.db): a connection serves the next
operation only when it is safe to, and never hides a change or a replaced file."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from clientplus_core.store import db
from clientplus_core.store.db import Store


def _store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "d")
    s.data_dir.ensure()
    with s.write() as conn:
        conn.execute("CREATE TABLE t (v INTEGER)")
        conn.execute("INSERT INTO t VALUES (1)")
    return s


def test_a_read_reuses_the_connection_and_sees_writes_made_elsewhere(tmp_path: Path) -> None:
    s = _store(tmp_path)
    with s.read() as first:
        assert first.execute("SELECT v FROM t").fetchone()[0] == 1
    other = sqlite3.connect(s.db_path)  # another process's writer, say the CLI
    other.execute("UPDATE t SET v = 2")
    other.commit()
    other.close()
    with s.read() as again:
        assert again is first
        assert again.execute("SELECT v FROM t").fetchone()[0] == 2
        assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert again.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_replaced_database_file_is_never_read_through_an_old_connection(
        tmp_path: Path) -> None:
    s = _store(tmp_path)
    with s.read() as old:
        assert old.execute("SELECT v FROM t").fetchone()[0] == 1
    # a restore puts another folder in place of the data folder
    fresh = tmp_path / "restored"
    fresh.mkdir()
    conn = sqlite3.connect(fresh / s.db_path.name)
    conn.execute("CREATE TABLE t (v INTEGER)")
    conn.execute("INSERT INTO t VALUES (7)")
    conn.commit()
    conn.close()
    aside = tmp_path / "aside"
    os.replace(s.data_dir.root, aside)
    os.replace(fresh, s.data_dir.root)
    with s.read() as new:
        assert new is not old
        assert new.execute("SELECT v FROM t").fetchone()[0] == 7
    shutil.rmtree(aside)


def test_a_failed_operation_or_an_open_transaction_closes_the_connection(
        tmp_path: Path) -> None:
    s = _store(tmp_path)
    with pytest.raises(sqlite3.OperationalError), s.write() as failing:
        failing.execute("INSERT INTO nowhere VALUES (1)")
    with pytest.raises(sqlite3.ProgrammingError):
        failing.execute("SELECT 1")  # closed, not pooled
    with s.read() as left_open:
        left_open.execute("BEGIN")
        left_open.execute("SELECT v FROM t").fetchone()
    with pytest.raises(sqlite3.ProgrammingError):
        left_open.execute("SELECT 1")
    with s.write() as conn:  # and the data is as it was
        assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 1


def test_the_pool_keeps_a_bounded_number_of_connections(tmp_path: Path) -> None:
    stores = [Store(tmp_path / f"d{i}") for i in range(db.POOL_SIZE + 3)]
    held = []
    for s in stores:
        s.data_dir.ensure()
        with s.read() as conn:
            conn.execute("SELECT 1")
            held.append(conn)
    closed = 0
    for conn in held:
        try:
            conn.execute("SELECT 1")
        except sqlite3.ProgrammingError:
            closed += 1
    assert closed == 3  # the oldest ones went
    db.close_pool()
    with pytest.raises(sqlite3.ProgrammingError):
        held[-1].execute("SELECT 1")
