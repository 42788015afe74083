"""The import page on a full disk (issue 11): a plain «Недостаточно места на диске»
message instead of "cannot rollback - no transaction is active", nothing written, and
the same file imports once space is free again. The full disk is simulated with
SQLite's ``max_page_count`` on every new connection ("database or disk is full")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.store import db as store_db
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "import.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "data"
    monkeypatch.setenv("CLIENTPLUS_DATA", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()


def client_names(folder: Path) -> list[str]:
    store = open_store(folder)
    actor = users.ensure_local_admin(store)
    return sorted(c["name"] for c in clients.iter_clients(store, actor))


def test_a_full_disk_during_an_import_is_named_and_nothing_is_lost(
        data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "\n".join(f"ООО «Импорт {i}»;{'примечание ' * 150}" for i in range(200))
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state["import.upload"] = ("clients.csv",
                                         f"Наименование;Примечания\n{rows}\n".encode())
    at.run()
    assert not at.exception

    real = store_db.connect

    def tight(path: Path | str) -> sqlite3.Connection:
        conn = real(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 6}")
        return conn

    monkeypatch.setattr(store_db, "connect", tight)
    store_db.close_pool()  # connections opened before the disk "filled up" go
    at.button(key="import.run").click().run()
    assert not at.exception
    shown = " ".join(e.value for e in at.error)
    assert "Недостаточно места на диске" in shown and "импорт не выполнен" in shown
    assert "rollback" not in shown and "OperationalError" not in shown
    monkeypatch.setattr(store_db, "connect", real)
    store_db.close_pool()
    assert client_names(data_dir) == []

    assert not at.button(key="import.run").disabled     # space freed: try again
    at.button(key="import.run").click().run()
    assert not at.exception and not at.error
    assert len(client_names(data_dir)) == 200
