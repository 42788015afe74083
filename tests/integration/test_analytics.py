"""Reports on the hand-made data set of ``tests/analytics_data.py``: every expected
table below is written by hand from the rows described there."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from clientplus_core.analytics.reports import Period
from clientplus_core.base.errors import AccessDenied
from clientplus_core.store.db import Store
from tests import analytics_data

D = Decimal
TODAY = date(2026, 4, 15)


@pytest.fixture
def data(store: Store) -> dict[str, Any]:
    ids = analytics_data.build(store)
    yield ids
    analytics.close_all()


def rows(df: Any, *cols: str) -> list[tuple[Any, ...]]:
    return [tuple(r[c] for c in cols) for r in df.iter_rows(named=True)]


def test_the_funnel_counts_each_stage_and_converts_stage_to_stage(store, data) -> None:
    df = reports.funnel(store, data["admin"])
    assert rows(df, "code", "at_count", "at_amount", "reached_count", "reached_amount") == [
        ("lead", 1, D("400.00"), 5, D("6900.00")),
        ("offer_ready", 0, D("0.00"), 4, D("6500.00")),
        ("offer_sent", 0, D("0.00"), 4, D("6500.00")),
        ("negotiation", 0, D("0.00"), 3, D("6000.00")),
        ("contract", 0, D("0.00"), 3, D("6000.00")),
        ("invoiced", 1, D("2000.00"), 3, D("6000.00")),
        ("partly_paid", 1, D("3000.00"), 2, D("4000.00")),
        ("paid", 0, D("0.00"), 1, D("1000.00")),
        ("shipped", 1, D("1000.00"), 1, D("1000.00")),
    ]
    assert [None if c is None else round(c, 4) for c in df["conversion"]] == \
        [0.8, 1.0, 0.75, 1.0, 1.0, 0.6667, 0.5, 1.0, None]
    assert [round(c, 4) for c in df["overall"]] == [1.0, 0.8, 0.8, 0.6, 0.6, 0.6, 0.4, 0.2, 0.2]


def test_the_funnel_of_a_period_and_of_a_product(store, data) -> None:
    feb = Period(date(2026, 2, 1), date(2026, 2, 28))
    df = reports.funnel(store, data["admin"], feb)  # s3 and s4
    assert rows(df, "code", "reached_count") == [
        ("lead", 2), ("offer_ready", 2), ("offer_sent", 2), ("negotiation", 2), ("contract", 2),
        ("invoiced", 2), ("partly_paid", 1), ("paid", 0), ("shipped", 0)]
    cable = reports.funnel(store, data["admin"], Period(product_id=2))  # s1, s3, s5
    assert cable["reached_count"].to_list()[0] == 3


def test_stage_times_come_from_the_status_log(store, data) -> None:
    df = reports.stage_times(store, data["admin"])
    assert rows(df, "code", "count", "avg_days", "median_days") == [
        ("lead", 4, 1.5, 1.5), ("offer_ready", 1, 4.0, 4.0), ("offer_sent", 1, 8.0, 8.0),
        ("contract", 1, 5.0, 5.0), ("invoiced", 2, 8.0, 8.0), ("paid", 1, 4.0, 4.0)]


def test_lost_sales_by_reason(store, data) -> None:
    assert rows(reports.lost_reasons(store, data["admin"]), "reason", "count", "amount") == [
        ("дорого", 1, D("500.00"))]


def test_revenue_by_payments_and_by_invoices(store, data) -> None:
    admin = data["admin"]
    assert rows(reports.revenue(store, admin, "month", "paid"), "key", "count", "amount") == [
        ("2026-01", 1, D("600.00")), ("2026-02", 2, D("1400.00"))]
    assert rows(reports.revenue(store, admin, "month", "invoiced"), "key", "count", "amount") == [
        ("2026-01", 1, D("1000.00")), ("2026-02", 2, D("5000.00"))]
    assert rows(reports.revenue(store, admin, "manager", "invoiced"), "key", "amount") == [
        ("Менеджер Один", D("4000.00")), ("Менеджер Два", D("2000.00"))]
    assert rows(reports.revenue(store, admin, "product", "paid"), "key", "count", "amount") == [
        ("Монтаж", 2, D("1600.00")), ("Кабель", 1, D("400.00"))]
    assert rows(reports.revenue(store, admin, "client", "paid",
                                Period(date(2026, 2, 1), date(2026, 2, 28))),
                "key", "amount") == [("Гамма", D("1000.00")), ("Альфа", D("400.00"))]


def test_debtors_are_aged_by_days_overdue(store, data) -> None:
    df = reports.debtors(store, data["admin"], today=TODAY)
    assert rows(df, "client", "sales", "debt", "not_due", "d0_30", "d31_60", "d61_90",
                "d90p") == [
        ("Бета", 1, D("2000.00"), 0, 0, D("2000.00"), 0, 0),
        ("Гамма", 1, D("2000.00"), 0, D("2000.00"), 0, 0, 0)]


def test_forecast_puts_unpaid_plans_into_weeks(store, data) -> None:
    df = reports.forecast(store, data["admin"], weeks=8, today=TODAY)
    assert rows(df, "week", "plans", "amount") == [
        ("overdue", 2, D("4000.00")), ("2026-04-20", 1, D("400.00"))]


def test_client_growth_sources_top_and_no_contact(store, data) -> None:
    admin = data["admin"]
    assert rows(reports.client_growth(store, admin), "month", "source", "new", "total") == [
        ("2026-01", "сайт", 1, 1), ("2026-02", "выставка", 1, 3), ("2026-02", "не указан", 1, 3)]
    assert rows(reports.client_sources(store, admin), "source", "clients") == [
        ("выставка", 1), ("не указан", 1), ("сайт", 1)]
    assert rows(reports.top_clients(store, admin), "client", "amount") == [
        ("Альфа", D("1000.00")), ("Гамма", D("1000.00"))]
    assert rows(reports.no_contact(store, admin, 30, today=TODAY), "client", "last_contact",
                "days") == [("Гамма", None, None), ("Бета", "2026-03-01", 45)]


def test_dashboard_kpis_for_a_period(store, data) -> None:
    k = reports.kpis(store, data["admin"], Period(date(2026, 2, 1), date(2026, 2, 28)),
                     today=TODAY)
    assert {key: k[key] for key in ("new_clients", "opened", "won", "lost", "avg_deal",
                                    "revenue_paid", "revenue_invoiced", "debt", "overdue")} == {
        "new_clients": 2, "opened": 2, "won": 1, "lost": 0, "avg_deal": D("1000.00"),
        "revenue_paid": D("1400.00"), "revenue_invoiced": D("5000.00"),
        "debt": D("4000.00"), "overdue": D("4000.00")}
    assert k["as_of"]


def test_a_manager_sees_only_the_sales_of_their_clients(store, data) -> None:
    m1, m2 = data["m1"], data["m2"]
    assert sorted(analytics.query(store, m1, "SELECT id FROM sales")["id"]) == \
        [data["s1"], data["s2"], data["s4"]]
    assert sorted(analytics.query(store, m2, "SELECT id FROM sales")["id"]) == \
        [data["s3"], data["s5"]]
    assert rows(reports.debtors(store, m1, today=TODAY), "client", "debt") == \
        [("Гамма", D("2000.00"))]
    assert rows(reports.revenue(store, m2, "month", "paid"), "key", "amount") == []
    assert reports.funnel(store, m2)["reached_count"].to_list()[0] == 2
    assert analytics.query(store, m1, "SELECT count(*) AS n FROM clients")["n"][0] == 2


def test_query_refuses_anything_but_one_select_over_the_views(store, data) -> None:
    admin = data["admin"]
    for bad in ("DELETE FROM sales", "SELECT 1; DROP TABLE a_sales",
                "SELECT * FROM a_sales"):
        with pytest.raises(ValueError):
            analytics.query(store, admin, bad)
    hostile = "'; DROP TABLE clients; --"
    assert analytics.query(store, admin, "SELECT id FROM clients WHERE name = ?",
                           [hostile]).height == 0


def test_a_write_is_visible_after_refresh_and_deletes_are_applied(store, data) -> None:
    admin = data["admin"]
    assert reports.kpis(store, admin, today=TODAY)["opened"] == 5
    sales.delete(store, admin, data["s5"])
    analytics.refresh(store)
    assert reports.kpis(store, admin, today=TODAY)["opened"] == 4
    sales.restore(store, admin, data["s5"])
    with store.write() as conn:  # a row removed from SQLite altogether
        conn.execute("DELETE FROM sale_status_log WHERE sale_id = ?", (data["s7"],))
        conn.execute("DELETE FROM sale_lines WHERE sale_id = ?", (data["s7"],))
        conn.execute("DELETE FROM sales WHERE id = ?", (data["s7"],))
    analytics.refresh(store)
    assert analytics.query(store, admin, "SELECT count(*) AS n FROM sales")["n"][0] == 5
    eng = analytics.engine(store)
    assert eng.con.execute("SELECT count(*) FROM a_sales WHERE id = ?",
                           [data["s7"]]).fetchone() == (0,)


def test_a_new_payment_changes_revenue_without_touching_the_sale_row(store, data) -> None:
    admin = data["admin"]
    before = reports.revenue(store, admin, "month", "paid")
    sales.add_payment(store, admin, data["s3"], 500, "2026-03-02", apply_suggestion=False)
    analytics.refresh(store)
    after = reports.revenue(store, admin, "month", "paid")
    assert rows(after, "key", "amount") == [*rows(before, "key", "amount"),
                                            ("2026-03", D("500.00"))]


def test_reports_stay_consistent_while_the_app_writes(store, data) -> None:
    """Totals read in one snapshot always agree: paid revenue equals the sum of
    payments, however the refresh interleaves with the reader."""
    admin = data["admin"]
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set() and n < 40:
            sales.add_payment(store, admin, data["s4"], 1, "2026-03-03", apply_suggestion=False)
            n += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(30):
            analytics.refresh(store)
            with analytics.snapshot(store, admin) as snap:
                a = snap.query("SELECT sum(amount_kop) AS t FROM payments WHERE kind = 'fact'")
                b = snap.query("SELECT sum(paid_kop) AS t FROM sales")
            assert a["t"][0] == b["t"][0]
    finally:
        stop.set()
        t.join()


def test_a_viewer_reads_but_an_unknown_role_does_not(store, data) -> None:
    from clientplus_core.team.access import Actor

    with pytest.raises(AccessDenied):
        reports.funnel(store, Actor(99, "ghost", role="nobody"))


def test_the_sqlite3_fallback_build_gives_the_same_reports_as_the_scanner(store, data) -> None:
    admin = data["admin"]
    by_scanner = (reports.funnel(store, admin), reports.revenue(store, admin, "month", "paid"))
    analytics.engine(store).build(method="polars")
    by_polars = (reports.funnel(store, admin), reports.revenue(store, admin, "month", "paid"))
    for a, b in zip(by_scanner, by_polars, strict=True):
        assert a.to_dicts() == b.to_dicts()


def test_the_copy_is_built_in_the_background_when_the_app_opens_the_store(
        store, data, monkeypatch) -> None:
    analytics.close_all()
    monkeypatch.setenv("CLIENTPLUS_ANALYTICS_WARMUP", "0")
    assert analytics.warm_up(store) is None
    monkeypatch.setenv("CLIENTPLUS_ANALYTICS_WARMUP", "1")
    thread = analytics.warm_up(store)
    assert thread is not None
    thread.join(timeout=60)
    eng = analytics.engine(store)
    assert eng.checked_at > 0 and (store.data_dir.root / analytics.COPY_NAME).exists()
    # the first report reads the copy the warm-up built, without building again
    built = eng.stats["build_s"]
    reports.funnel(store, data["admin"])
    assert eng.stats["build_s"] == built
