"""Freshness rows of ``bench/bench.py --only analytics`` (or ``--only freshness``): what
a user meets after a write or a pause, not the warm report alone (issue 14).

* the change-log check when nothing changed;
* the first report after 2.5 s of idle (this process runs no background poller, so
  the report pays the check itself — the worst case);
* the refresh after one write (one payment through the core), i.e. the work that
  makes it visible, from the engine's own timer;
* freshness under a steady stream of writes from ANOTHER process (1 payment a
  second for :data:`STREAM_S` s): for each payment, the time from its commit to the
  first report in this process that shows it, read every 50 ms as a user reloading.

    .venv/bin/python bench/bench_freshness.py --writer <data_dir> <sale_id> <seconds>
runs the writer child (prints ``<payment id> <commit unix time>`` per write)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_common import pct  # noqa: E402

from clientplus_core.analytics import engine as analytics  # noqa: E402
from clientplus_core.analytics import reports  # noqa: E402
from clientplus_core.store.db import Store  # noqa: E402
from clientplus_core.team.access import Actor  # noqa: E402

STREAM_S = 30
IDLE_S = 2.5


def _sale_with_debt(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(
            "SELECT s.id FROM sales s JOIN sale_statuses t ON t.id = s.status_id"
            " JOIN clients c ON c.id = s.client_id WHERE s.deleted_at IS NULL"
            " AND c.deleted_at IS NULL AND t.is_lost = 0 AND s.total_kop > s.paid_kop + 10000"
            " ORDER BY s.id DESC LIMIT 1").fetchone()[0])


def _row(metric: str, values: list[float], target: str, note: str = "") -> dict[str, Any]:
    return {"metric": metric, "engine": statistics.median(values), "engine_max": max(values),
            "target": target, "note": f"p50 / p95 / max {statistics.median(values):.1f} /"
                                      f" {pct(values, 95):.1f} / {max(values):.1f} ms"
                                      f" over {len(values)}" + (f"; {note}" if note else "")}


def measure(store: Store, admin: Actor) -> list[dict[str, Any]]:
    """The freshness rows (dicts in bench_analytics' table format)."""
    from clientplus_core import sales

    out: list[dict[str, Any]] = []
    analytics.refresh(store)
    eng = analytics.engine(store)
    print("freshness: the check with nothing changed …", file=sys.stderr, flush=True)
    checks = []
    for _ in range(20):
        analytics.refresh(store)
        checks.append(eng.stats["check_s"] * 1000)
    out.append(_row("freshness: check of the change log, nothing changed", checks, "—"))

    year = reports.Period(date(2026, 1, 1), date(2026, 12, 31))
    print("freshness: first report after idle …", file=sys.stderr, flush=True)
    idle = []
    for _ in range(5):
        time.sleep(IDLE_S)
        t = time.perf_counter()
        reports.funnel(store, admin, year)
        idle.append((time.perf_counter() - t) * 1000)
    out.append(_row(f"freshness: the funnel, first report after {IDLE_S} s idle", idle,
                    "< 300 ms"))

    print("freshness: refresh after one write …", file=sys.stderr, flush=True)
    sid = _sale_with_debt(store)
    cost = []
    for _ in range(10):
        sales.add_payment(store, admin, sid, "0.01", date.today().isoformat(),
                          apply_suggestion=False)
        analytics.refresh(store)
        cost.append(eng.stats["refresh_s"] * 1000)
    out.append(_row("freshness: refresh after one write (one payment)", cost, "< 100 ms",
                    "read the log + the sale's rows, apply, derive that sale"))

    print(f"freshness: 1 write/s from another process for {STREAM_S} s …", file=sys.stderr,
          flush=True)
    out.append(_stream(store, admin, sid))
    return out


def _stream(store: Store, admin: Actor, sid: int) -> dict[str, Any]:
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--writer",
                             str(store.data_dir.root), str(sid), str(STREAM_S)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    seen: list[tuple[float, int]] = []  # (unix time, the largest payment id shown)
    sql = "SELECT max(id) AS m FROM payments"
    while proc.poll() is None:
        seen.append((time.time(), int(analytics.query(store, admin, sql)["m"][0] or 0)))
        time.sleep(0.05)
    seen.append((time.time(), int(analytics.query(store, admin, sql)["m"][0] or 0)))
    lags = []
    for line in proc.stdout.read().splitlines():
        pid, committed = line.split()
        shown = next((t for t, m in seen if m >= int(pid)), None)
        if shown is not None:
            lags.append(max(0.0, shown - float(committed)) * 1000)
    return _row("freshness: a write from another process visible in reports after"
                " (1 write/s)", lags or [float("nan")], "< 5 s at p95",
                "reports read every 50 ms in this process")


def writer(argv: list[str]) -> int:
    """Child process: one payment of 0.01 ₽ a second on sale ``argv[1]``."""
    from clientplus_core import sales
    from clientplus_core.store.startup import open_store
    from clientplus_core.team import users

    data_dir, sid, seconds = argv[0], int(argv[1]), float(argv[2])
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    print("ready", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.monotonic()
        res = sales.add_payment(store, admin, sid, "0.01", date.today().isoformat(),
                                apply_suggestion=False)
        print(res["payment"]["id"], time.time(), flush=True)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - t)))
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--writer"]:
        sys.exit(writer(sys.argv[2:]))
