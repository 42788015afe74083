"""The analytics copy kept in step by the change log: after any mix of writes the
incrementally refreshed copy holds exactly what a full build would, each write is
applied once, and a page never waits for a first build."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import polars as pl
import pytest

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from clientplus_core.analytics.sync import TABLES
from clientplus_core.clients import cards as clients
from clientplus_core.sales import statuses
from clientplus_core.store.db import Store
from tests import analytics_data


@pytest.fixture
def data(store: Store) -> Any:
    ids = analytics_data.build(store)
    analytics.refresh(store)
    yield ids
    analytics.close_all()


def copy_tables(store: Store) -> dict[str, list[dict[str, Any]]]:
    """Every table of the copy, derived columns included, sorted for comparison."""
    con = analytics.engine(store).con
    out = {}
    for name in TABLES:
        frame = con.execute(f"SELECT * FROM {name}").pl()
        out[name] = frame.sort(frame.columns).to_dicts()
    return out


def same_as_a_full_build(store: Store) -> None:
    analytics.refresh(store)
    incremental = copy_tables(store)
    analytics.engine(store).build()
    rebuilt = copy_tables(store)
    for name in TABLES:
        assert incremental[name] == rebuilt[name], name


def test_the_incremental_copy_equals_a_full_build_after_a_mix_of_writes(store, data) -> None:
    admin, m2 = data["admin"], data["m2"]
    c1, c2, c3 = data["c1"], data["c2"], data["c3"]
    # a new sale with lines, then its status moves on and it is paid in part
    new = sales.create(store, admin, {"client_id": c3, "date": "2026-03-20", "lines": [
        {"name": "Кабель", "qty": 2, "price": "1500", "vat_code": "none"}]})
    sales.set_status(store, admin, new["id"], "invoiced")
    pay = sales.add_payment(store, admin, new["id"], 1000, "2026-03-21", apply_suggestion=False)
    same_as_a_full_build(store)
    # a payment removed, a sale deleted and another restored, a contact logged
    sales.delete_payment(store, admin, pay["payment"]["id"])
    sales.delete(store, admin, data["s5"])
    sales.restore(store, admin, data["s7"])
    sales.add_contact_event(store, admin, {"client_id": c3, "channel": "call",
                                           "subject": "Звонок"})
    same_as_a_full_build(store)
    # a client handed over (its sales follow), a client deleted (its sales leave the
    # reports), two clients merged
    clients.reassign_owner(store, admin, c1, m2.id)
    clients.delete(store, admin, c2)
    other = clients.create(store, admin, {"name": "ООО «Альфа-2»"}, allow_duplicate=True)
    sales.create(store, admin, {"client_id": other["id"], "date": "2026-03-22", "lines": [
        {"name": "Монтаж", "qty": 1, "price": "700", "vat_code": "none"}]})
    clients.merge(store, admin, c3, other["id"])
    same_as_a_full_build(store)
    # a status's flags change (every sale's furthest stage is derived again), and rows
    # removed from SQLite altogether by a plain sqlite3 session
    status = next(s for s in statuses.list_statuses(store) if s["code"] == "offer_sent")
    statuses.update(store, admin, status["id"], {"sort": status["sort"], "is_invoiced": True},
                    status["version"])
    conn = sqlite3.connect(store.db_path)
    with conn:
        for table in ("sale_status_log", "sale_lines", "sale_payments", "interactions"):
            conn.execute(f"DELETE FROM {table} WHERE sale_id = ?", (data["s2"],))
        conn.execute("DELETE FROM sales WHERE id = ?", (data["s2"],))
    conn.close()
    same_as_a_full_build(store)


def test_one_write_is_applied_once_and_only_that_sale_is_read(store, data) -> None:
    admin = data["admin"]
    eng = analytics.engine(store)
    before = reports.revenue(store, admin, "month", "paid")["amount"].sum()
    sales.add_payment(store, admin, data["s4"], 500, "2026-03-02", apply_suggestion=False)
    stats = analytics.refresh(store)
    assert stats["changed_sales"] == 1
    assert reports.revenue(store, admin, "month", "paid")["amount"].sum() == before + 500
    seq = eng.seq
    stats = analytics.refresh(store)  # nothing new: nothing applied again
    assert eng.seq == seq and stats["refresh_s"] == eng.stats["refresh_s"]


def test_a_bulk_load_makes_the_copy_build_anew(store, data) -> None:
    """A demo bulk load does not log its millions of rows: it marks its start and end
    (``bulk_dropped_indexes``) and the copy is built anew from what is there."""
    admin = data["admin"]
    with store.write() as conn:
        conn.execute("INSERT INTO bulk_dropped_indexes (name, sql) VALUES ('ix_x', 'x')")
        conn.execute("UPDATE sales SET total_kop = total_kop + 100 WHERE id = ?", (data["s5"],))
        conn.execute("DELETE FROM bulk_dropped_indexes")
    analytics.refresh(store)
    live = analytics.query(store, admin, "SELECT total_kop FROM sales WHERE id = ?",
                           [data["s5"]])
    assert live["total_kop"].to_list() == [40100]
    same_as_a_full_build(store)


def test_a_page_is_told_the_build_progress_instead_of_waiting(store, monkeypatch) -> None:
    analytics_data.build(store)
    analytics.close_all()
    release = threading.Event()
    real_build = analytics.Engine.build

    def slow_build(self: analytics.Engine, method: str = "auto") -> dict[str, Any]:
        self.progress = (0.25, "sales")
        release.wait(30)
        return real_build(self, method)

    monkeypatch.setattr(analytics.Engine, "build", slow_build)
    try:
        first = analytics.status(store, wait_s=0.5)  # starts the build, does not wait for it
        assert not first.ready and first.progress == 0.25 and first.step == "sales"
        assert analytics.status(store).progress == 0.25  # still one build, not two
        release.set()
        eng = analytics.engine(store)
        assert eng._builder is not None
        eng._builder.join(30)
        assert analytics.status(store).ready
        assert isinstance(reports.funnel(store, analytics_data_admin(store)), pl.DataFrame)
    finally:
        release.set()
        analytics.close_all()


def analytics_data_admin(store: Store) -> Any:
    from clientplus_core.team import users

    return users.ensure_local_admin(store)
