"""Segmentation speed: ``segments.pivot`` by two custom fields with revenue, on a
synthetic data folder (N clients with custom fields, M sales, M/2 payments), through
the analytics copy (default) and through SQLite directly (``engine="sqlite"``).

    .venv/bin/python bench/bench_segments.py [--clients 100000] [--sales 1000000] [DIR]

Prints a table and writes ``bench/results/segments.json``."""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

from clientplus_core.analytics import segments
from clientplus_core.records import custom_fields as cf
from clientplus_core.store.startup import open_store
from clientplus_core.team import users


def generate(folder: Path, n_clients: int, n_sales: int, seed: int = 7) -> None:
    store = open_store(folder)
    admin = users.ensure_local_admin(store)
    for key in ("headcount", "industry", "sector"):
        cf.enable_preset(store, admin, "client", key)
    rnd = random.Random(seed)
    industries = cf.PRESETS[("client", "industry")].options
    ts = "2026-01-01T00:00:00+00:00"
    with store.write() as conn:
        conn.executemany(
            "INSERT INTO clients (id, kind, name, legal_address, extra, owner_id, created_at,"
            " updated_at) VALUES (?, 'legal', ?, ?, ?, ?, ?, ?)",
            ((i, f"Клиент {i}", rnd.choice(("г. Москва, ул. 1", "Свердловская обл., г Е",
                                            "Респ. Татарстан, г Казань")),
              json.dumps({"headcount": rnd.randint(1, 3000), "industry": rnd.choice(industries),
                          "sector": rnd.choice(("Коммерческий", "Бюджетный"))},
                         ensure_ascii=False), admin.id, ts, ts)
             for i in range(1, n_clients + 1)))
        conn.executemany(
            "INSERT INTO sales (id, number, date, client_id, owner_id, status_id, status_at,"
            " total_kop, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            ((i, f"S-{i}", f"2026-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}",
              rnd.randint(1, n_clients), admin.id, rnd.randint(1, 10), ts,
              rnd.randint(1, 10_000) * 100, ts, ts) for i in range(1, n_sales + 1)))
        conn.executemany(
            "INSERT INTO sale_payments (sale_id, kind, date, amount_kop, created_at)"
            " VALUES (?, 'fact', ?, ?, ?)",
            ((rnd.randint(1, n_sales), f"2026-{rnd.randint(1, 12):02d}-15",
              rnd.randint(1, 5000) * 100, ts) for _ in range(n_sales // 2)))


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


# the reference query, run by SQLite itself and by DuckDB on the copy's native tables
CUSTOM_PIVOT = """WITH d AS (SELECT s.client_id, count(*) AS n, sum(s.total_kop) AS t
    FROM {s} s JOIN {t} st ON st.id = s.status_id
    WHERE st.is_lost = 0 AND s.deleted_at IS NULL GROUP BY s.client_id),
r AS (SELECT s.client_id, sum(p.amount_kop) AS rev FROM {p} p
    JOIN {s} s ON s.id = p.sale_id JOIN {t} st ON st.id = s.status_id
    WHERE st.is_lost = 0 AND p.kind = 'fact' AND s.deleted_at IS NULL GROUP BY s.client_id)
SELECT {j}(c.extra, '$.industry') AS k0, {j}(c.extra, '$.sector') AS k1, count(*),
    sum(coalesce(d.n, 0)), sum(coalesce(d.t, 0)), sum(coalesce(r.rev, 0))
FROM {c} c LEFT JOIN d ON d.client_id = c.id LEFT JOIN r ON r.client_id = c.id
WHERE c.deleted_at IS NULL GROUP BY 1, 2"""


def measure(folder: Path = Path("/tmp/clientplus-bench-segments"), n_clients: int = 100_000,
            n_sales: int = 1_000_000, reps: int = 5) -> list[dict[str, object]]:
    """The issue's "segmentation by two custom fields with revenue" row in the format of
    bench_analytics (engine ms, SQLite ms, DuckDB-native ms, both ratios), on a data
    set whose clients carry custom fields (generated once into ``folder``)."""
    import sqlite3

    from clientplus_core.analytics import engine as analytics

    if not (folder / "clientplus.db").exists():
        print("segments: generating the custom-field data set …", file=sys.stderr, flush=True)
        generate(folder, n_clients, n_sales)
    store = open_store(folder)
    admin = users.ensure_local_admin(store)
    analytics.refresh(store)
    by = ["industry", "sector"]
    segments.pivot(store, admin, by)  # warm
    eng = timed(lambda: segments.pivot(store, admin, by), runs=reps)
    sq = sqlite3.connect(store.db_path)
    names = {"s": "sales", "t": "sale_statuses", "p": "sale_payments", "c": "clients"}
    sql_ms = timed(lambda: sq.execute(CUSTOM_PIVOT.format(j="json_extract", **names))
                   .fetchall(), runs=max(1, reps // 2))
    sq.close()
    cur = analytics.engine(store).con.cursor()
    duck = {"s": "a_sales", "t": "a_statuses", "p": "a_payments", "c": "a_clients"}
    native = timed(lambda: cur.execute(CUSTOM_PIVOT.format(j="json_extract_string", **duck))
                   .fetchall(), runs=reps)
    cur.close()
    return [{"metric": "segmentation by 2 custom fields (industry × sector) with revenue",
             "engine": eng, "sqlite": sql_ms, "native": native,
             "ratio_sqlite": sql_ms / eng, "ratio_native": eng / native,
             "target": "< 500 ms; ≥5× SQLite; ≤3× native",
             "note": f"{n_clients:,} clients with custom fields, {n_sales:,} sales ({folder})"}]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("folder", nargs="?", default="/tmp/clientplus-bench-segments")
    p.add_argument("--clients", type=int, default=100_000)
    p.add_argument("--sales", type=int, default=1_000_000)
    args = p.parse_args(argv)
    folder = Path(args.folder)
    if not (folder / "clientplus.db").exists():
        t = time.perf_counter()
        generate(folder, args.clients, args.sales)
        print(f"generated in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    store = open_store(folder)
    admin = users.ensure_local_admin(store)
    t = time.perf_counter()
    segments.pivot(store, admin, ["industry", "sector"])  # builds the analytics copy
    first = (time.perf_counter() - t) * 1000
    by = ["industry", "sector"]
    rows = {
        "first call (builds the copy if missing)": first,
        "pivot industry × sector, analytics copy": timed(
            lambda: segments.pivot(store, admin, by)),
        "pivot headcount buckets × sector, analytics copy": timed(
            lambda: segments.pivot(store, admin, ["headcount", "sector"])),
        "pivot industry × sector, SQLite directly": timed(
            lambda: segments.pivot(store, admin, by, engine="sqlite"), runs=2),
    }
    for name, ms in rows.items():
        print(f"{name:55} {ms:9.0f} ms")
    out = Path(__file__).parent / "results" / "segments.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"clients": args.clients, "sales": args.sales, "ms": rows},
                              ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
