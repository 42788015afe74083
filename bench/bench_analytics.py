"""Analytics rows of ``bench/bench.py --only analytics``: the engine (full build,
incremental refresh, write → visible) and the reports, each measured against two
references run in the same process on the same data:

* **SQLite** — the equivalent query run by SQLite itself on ``clientplus.db``
  (what a user would do without this project);
* **DuckDB-native** — the equivalent query run by DuckDB directly on the copy's
  native tables (no scope views, no polars, no freshness check: the speed limit).

``ratio SQLite`` = SQLite / engine (how many times faster we are);
``ratio native`` = engine / DuckDB-native (how far from the limit)."""

from __future__ import annotations

import resource
import shutil
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

YEAR_FROM, YEAR_TO = "2026-01-01", "2027-01-01"

# --- reference SQL ({s}=sales, {l}=status log, {t}=statuses, {c}=clients, {p}=payments) ---

FUNNEL = """WITH sel AS (SELECT id, status_id, total_kop FROM {s}
                 WHERE deleted_at IS NULL AND date >= ? AND date < ?),
h AS (SELECT sale_id AS id, to_status_id AS status_id FROM {l}
      WHERE sale_id IN (SELECT id FROM sel) UNION ALL SELECT id, status_id FROM sel),
best AS (SELECT h.id, max(t.sort) AS top FROM h JOIN {t} t ON t.id = h.status_id
         AND t.is_lost = 0 GROUP BY h.id)
SELECT t.sort, count(*) AS reached, sum(sel.total_kop) AS amount
FROM best JOIN sel ON sel.id = best.id JOIN {t} t ON best.top >= t.sort AND t.is_lost = 0
GROUP BY t.sort ORDER BY t.sort"""
FUNNEL_AT = """SELECT status_id, count(*), sum(total_kop) FROM {s}
WHERE deleted_at IS NULL AND date >= ? AND date < ? GROUP BY status_id"""
# the fair DuckDB reference for the funnel: the best plain query for the same answer
# on the copy's tables with the same precomputed column the engine reads (each sale's
# furthest stage, ``top_sort``); FUNNEL above recomputes it from the 3.5 M-row log,
# which only SQLite (that has no such column) has to do
FUNNEL_TOP = """WITH sel AS (SELECT status_id, total_kop, top_sort FROM a_sales
                 WHERE live AND date >= ? AND date < ?),
tops AS (SELECT top_sort, count(*) AS n, sum(total_kop) AS kop FROM sel GROUP BY 1)
SELECT t.sort, sum(tops.n), sum(tops.kop) FROM a_statuses t JOIN tops ON tops.top_sort >= t.sort
WHERE t.is_lost = 0 GROUP BY t.sort ORDER BY t.sort"""

SEGMENTS = """SELECT c.kind, c.source, count(DISTINCT c.id) AS clients, count(s.id) AS sales,
       sum(s.paid_kop) AS revenue, avg(s.total_kop) AS avg_deal
FROM {c} c LEFT JOIN {s} s ON s.client_id = c.id AND s.deleted_at IS NULL
WHERE c.deleted_at IS NULL GROUP BY c.kind, c.source"""

DEBTORS_SQLITE = """WITH i AS (
  SELECT s.id, s.client_id, s.total_kop - s.paid_kop AS debt,
         coalesce(s.overdue_from, (SELECT min(substr(l.at, 1, 10)) FROM sale_status_log l
             JOIN sale_statuses t2 ON t2.id = l.to_status_id AND t2.is_invoiced = 1
             WHERE l.sale_id = s.id), s.date) AS due
  FROM sales s JOIN sale_statuses t ON t.id = s.status_id AND t.is_invoiced = 1 AND t.is_lost = 0
  WHERE s.deleted_at IS NULL AND s.total_kop > s.paid_kop),
d AS (SELECT client_id, debt, julianday(?) - julianday(due) AS days FROM i)
SELECT client_id, count(*), sum(debt),
  sum(CASE WHEN days < 0 THEN debt END), sum(CASE WHEN days BETWEEN 0 AND 30 THEN debt END),
  sum(CASE WHEN days > 30 AND days <= 60 THEN debt END),
  sum(CASE WHEN days > 60 AND days <= 90 THEN debt END), sum(CASE WHEN days > 90 THEN debt END)
FROM d GROUP BY client_id ORDER BY 3 DESC"""
DEBTORS_DUCK = (DEBTORS_SQLITE.replace("sale_status_log", "a_status_log")
                .replace("sale_statuses", "a_statuses").replace("FROM sales s", "FROM a_sales s")
                .replace('substr(l.at, 1, 10)', 'left(l."at", 10)')
                .replace("julianday(?) - julianday(due)",
                         "date_diff('day', CAST(due AS DATE), CAST(? AS DATE))"))

DASHBOARD = [  # (sql, uses the period twice?)
    "SELECT count(*) FROM {c} WHERE deleted_at IS NULL AND created_at >= ? AND created_at < ?",
    "SELECT count(*) FROM {s} WHERE deleted_at IS NULL AND date >= ? AND date < ?",
    "SELECT sum(CASE WHEN t.is_paid = 1 AND t.is_lost = 0 THEN 1 ELSE 0 END),"
    " sum(t.is_lost), avg(CASE WHEN t.is_paid = 1 AND t.is_lost = 0 THEN s.total_kop END)"
    " FROM {s} s JOIN {t} t ON t.id = s.status_id"
    " WHERE s.deleted_at IS NULL AND s.status_at >= ? AND s.status_at < ?",
    "SELECT sum(p.amount_kop) FROM {p} p JOIN {s} s ON s.id = p.sale_id WHERE p.kind = 'fact'"
    " AND p.deleted_at IS NULL AND s.deleted_at IS NULL AND p.date >= ? AND p.date < ?",
    "SELECT sum(s.total_kop) FROM {s} s JOIN {t} t ON t.id = s.status_id AND t.is_invoiced = 1"
    " AND t.is_lost = 0 WHERE s.deleted_at IS NULL AND s.date >= ? AND s.date < ?",
    "SELECT sum(s.total_kop - s.paid_kop) FROM {s} s JOIN {t} t ON t.id = s.status_id"
    " AND t.is_invoiced = 1 AND t.is_lost = 0 WHERE s.deleted_at IS NULL"
    " AND s.total_kop > s.paid_kop AND ? <> ?",
]
SQLITE_NAMES = {"s": "sales", "l": "sale_status_log", "t": "sale_statuses", "c": "clients",
                "p": "sale_payments"}
DUCK_NAMES = {"s": "a_sales", "l": "a_status_log", "t": "a_statuses", "c": "a_clients",
              "p": "a_payments"}


def _p50(fn: Callable[[], Any], reps: int) -> tuple[float, float]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), max(times)


def measure(store: Store, admin: Actor, manager: Actor, reps: int) -> list[dict[str, Any]]:
    """The analytics measurements, as dicts (metric, engine/sqlite/native ms, ratios)."""
    out: list[dict[str, Any]] = []
    copy = store.data_dir.root / analytics.COPY_NAME
    analytics.close_all()
    for f in copy.parent.glob(analytics.COPY_NAME + "*"):  # the copy, its WAL and
        if f.is_dir():                                      # DuckDB's spill folder (.tmp)
            shutil.rmtree(f)
        else:
            f.unlink()
    print("analytics: full build …", file=sys.stderr, flush=True)
    eng = analytics.engine(store)
    t = time.perf_counter()
    stats = eng.build()  # what the app does: read through Python's sqlite3
    out.append({"metric": "engine: full build of the copy (as the app builds it)",
                "engine": (time.perf_counter() - t) * 1000, "target": "once",
                "note": f"copy {copy.stat().st_size / 2**20:.0f} MB" if copy.exists() else ""})
    ms, _ = _p50(lambda: analytics.refresh(store), reps * 3)
    out.append({"metric": "engine: incremental refresh, nothing changed", "engine": ms,
                "target": "—"})
    # a write, then the time until a report shows it
    with store.read() as conn:
        sid = conn.execute("SELECT s.id FROM sales s JOIN sale_statuses t ON t.id = s.status_id"
                           " WHERE s.deleted_at IS NULL AND t.is_lost = 0 AND s.total_kop >"
                           " s.paid_kop + 100 ORDER BY s.id DESC LIMIT 1").fetchone()[0]
    from clientplus_core import sales

    before = analytics.query(store, admin, "SELECT sum(amount_kop) AS t FROM payments"
                                           " WHERE kind = 'fact'")["t"][0]
    sales.add_payment(store, admin, sid, 1, date.today().isoformat(), apply_suggestion=False)
    t = time.perf_counter()
    while True:
        now = analytics.query(store, admin, "SELECT sum(amount_kop) AS t FROM payments"
                                            " WHERE kind = 'fact'")["t"][0]
        if now != before:
            break
        time.sleep(0.05)
    out.append({"metric": "engine: a write visible in reports after", "engine":
                (time.perf_counter() - t) * 1000, "target": "< 5 s",
                "note": "the next read checks the change log and applies the write"})

    sq = sqlite3.connect(store.db_path)
    duck = eng.con.cursor()
    year = reports.Period(date(2026, 1, 1), date(2026, 12, 31))
    yargs = [YEAR_FROM, YEAR_TO]

    def ref(sql: str, args: list[Any]) -> tuple[Callable[[], Any], Callable[[], Any]]:
        return (lambda: sq.execute(sql.format(**SQLITE_NAMES), args).fetchall(),
                lambda: duck.execute(sql.format(**DUCK_NAMES), args).fetchall())

    cases: list[tuple[str, str, Callable[[], Any], list[Callable[[], Any]],
                      list[Callable[[], Any]]]] = []
    f1, _n1 = ref(FUNNEL, yargs)
    f2, n2 = ref(FUNNEL_AT, yargs)
    cases.append(("funnel for a year, all managers (SQLite: from the status log;"
                  " native: plain query on the same precomputed top_sort)",
                  "< 300 ms; ≥5× SQLite; ≤3× native",
                  lambda: reports.funnel(store, admin, year), [f1, f2],
                  [lambda: duck.execute(FUNNEL_TOP, yargs).fetchall(), n2]))
    f1, n1 = ref(SEGMENTS, [])
    cases.append(("segmentation by 2 standard fields (kind × source) with revenue",
                  "< 500 ms; ≥5× SQLite; ≤3× native",
                  lambda: analytics.query(store, admin, SEGMENTS.format(s="sales", c="clients")),
                  [f1], [n1]))
    on = date.today().isoformat()
    cases.append(("debtors aging", "< 300 ms",
                  lambda: reports.debtors(store, admin),
                  [lambda: sq.execute(DEBTORS_SQLITE, [on]).fetchall()],
                  [lambda: duck.execute(DEBTORS_DUCK, [on]).fetchall()]))
    dash_s, dash_n = [], []
    for q in DASHBOARD:
        a, b = ref(q, yargs)
        dash_s.append(a)
        dash_n.append(b)
    cases.append(("dashboard KPIs (the page's first row)", "< 1 s",
                  lambda: reports.kpis(store, admin, year), dash_s, dash_n))

    def dashboard_page() -> None:
        """What the dashboard page runs on a first view: KPIs and four reports (no
        Excel: built on click); a repeat view is answered from the kept results."""
        reports.kpis(store, admin, year)
        for name in ("revenue", "debtors", "funnel", "sources"):
            reports.run(store, admin, name, year)

    cases.append(("dashboard page, first view: KPIs + revenue + debtors + funnel + sources",
                  "< 1 s", dashboard_page, [], []))
    from clientplus_core.analytics import report_builder as rb

    for label, spec in (
            ("report builder: sales by manager × month, count/sum/avg, a year",
             rb.ReportSpec("sales", ["sale_owner", "sale_month"],
                           ["count", "sum:total", "avg:total"], [], "2026-01-01", "2026-12-31")),
            ("report builder: spec lines by product, sum/count, a year",
             rb.ReportSpec("sale_lines", ["product"], ["sum:amount", "count"], [],
                           "2026-01-01", "2026-12-31"))):
        dsql, dparams, _cols = rb.build_sql(store, admin, spec, dialect="duckdb")
        ctes, cparams = analytics.scoped_ctes(admin)
        cases.append((label, "—",
                      lambda spec=spec: rb.run(store, admin, spec),
                      [lambda spec=spec: rb.run(store, admin, spec, engine="sqlite")],
                      [lambda q=ctes + dsql, a=[*cparams, *dparams]: duck.execute(q, a)
                       .fetchall()]))
    cases.append(("funnel for a year, as manager1", "—",
                  lambda: reports.funnel(store, manager, year), [], []))
    cases.append(("revenue by month (payments), a year", "—",
                  lambda: reports.revenue(store, admin, "month", "paid", year), [], []))
    for name, target, fn, s_fns, n_fns in cases:
        print(f"analytics: {name} …", file=sys.stderr, flush=True)
        fn()  # warm
        eng_ms, eng_max = _p50(fn, reps)
        row: dict[str, Any] = {"metric": name, "engine": eng_ms, "engine_max": eng_max,
                               "target": target}
        if s_fns:
            row["sqlite"] = _p50(lambda fs=s_fns: [f() for f in fs], max(1, reps // 2))[0]
            row["native"] = _p50(lambda fs=n_fns: [f() for f in fs], reps)[0]
            row["ratio_sqlite"] = row["sqlite"] / eng_ms
            row["ratio_native"] = eng_ms / row["native"]
        out.append(row)
    sq.close()
    duck.close()
    import bench_freshness

    out += bench_freshness.measure(store, admin)
    out.append({"metric": "memory of the process (peak RSS, MB)",
                "engine": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "target": "< 1.5 GB", "note": "MB, not ms"})
    out.append({"metric": "build stats", "engine": None, "target": "", "note": str(stats)})
    return out


def _ratio(v: float | None) -> str:
    return "—" if not v else f"{v:.2f}×"


def table(rows: list[dict[str, Any]]) -> str:
    def f(v: Any) -> str:
        return "—" if v is None else f"{v:,.1f}".replace(",", " ")

    lines = ["| metric | engine ms | SQLite ms | DuckDB-native ms | ×faster than SQLite |"
             " engine / native | target |", "|---|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["metric"] == "build stats":
            continue
        lines.append(f"| {r['metric']} | {f(r.get('engine'))} | {f(r.get('sqlite'))} |"
                     f" {f(r.get('native'))} |"
                     f" {_ratio(r.get('ratio_sqlite'))} | {_ratio(r.get('ratio_native'))} |"
                     f" {r['target']} |")
    return "\n".join(lines)


def days_ago(n: int) -> str:
    return (date.today() - timedelta(days=n)).isoformat()


__all__ = ["measure", "table", "Path"]
