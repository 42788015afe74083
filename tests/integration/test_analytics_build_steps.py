"""The analytics copy is built a table per commit (a 1M-sale build held 2.2 GB in one
transaction), and still nobody reads a half-built copy."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import sync
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor


def _count(store: Store, actor: Actor) -> int:
    with analytics.snapshot(store, actor) as snap:
        return int(snap.query("SELECT count(*) AS n FROM sales")["n"][0])


def test_each_table_is_committed_and_a_reader_waits_for_the_whole_new_copy(
        store: Store, actor: Actor, make_client: Any, make_sale: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client()
    make_sale(client["id"])
    make_sale(client["id"])
    assert _count(store, actor) == 2
    eng = analytics.engine(store)

    first_table, go_on = threading.Event(), threading.Event()
    commits: list[str] = []
    real = sync.copy_table

    def paused(conn: sqlite3.Connection, cur: Any, table: str, src: str) -> None:
        if commits == ["a_sales"]:  # the first table is committed: hold the second
            first_table.set()
            go_on.wait(30)
        real(conn, cur, table, src)
        commits.append(table)

    monkeypatch.setattr(sync, "copy_table", paused)
    make_sale(client["id"])
    conn = sqlite3.connect(store.db_path)  # what a demo bulk load logs: build anew
    conn.execute("INSERT INTO analytics_changes (kind, row_id) VALUES ('rebuild', 0)")
    conn.commit()
    conn.close()
    builder = threading.Thread(target=lambda: eng.refresh(force=True, wait=True))
    builder.start()
    assert first_table.wait(30)

    # the new a_sales is committed while the other tables are not copied yet
    other = eng.con.cursor()
    assert other.execute("SELECT count(*) FROM a_sales").fetchone()[0] == 3
    assert other.execute("SELECT count(*) FROM a_meta").fetchone()[0] == 0
    other.close()

    # a reader that found the copy ready just before the build began
    monkeypatch.setattr(analytics, "_ensure", lambda s: eng)
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.append(_count(store, actor)))
    reader.start()
    reader.join(0.5)
    assert reader.is_alive() and not seen  # waits for the build, reads nothing half-made
    go_on.set()
    builder.join(60)
    reader.join(60)
    assert seen == [3]
    assert commits[0] == "a_sales" and len(commits) == len(sync.TABLES)
