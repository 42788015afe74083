"""Bank statement rows of the benchmark (``bench.py --only bank``, or run alone:
``python bench/bench_bank.py [--data-dir DIR]``): a generated 1C statement of
10,000 payments loaded and matched against the 100,000-client / 1,000,000-sale data
set. Target: under 10 s.

The cached data set is never written: its database is copied to a temporary folder
first (the copy gets the bank migrations). The statement is built from that copy's
unpaid invoiced sales with the purposes people write — sale numbers, partial
payments, a payment for two sales of one client, no reference at all (matched by
the amount), amounts that match nothing (review), unknown payers and outgoing
payments — in Windows-1251 with CRLF, to the demo company's account.

Each sample is a whole load — parse, match, record every payment on its sale with
status, log, history and audit — as a dry run (the same work, rolled back instead of
committed), so the three samples see the same data; then one real load is timed
on its own (its commit included) and a second load of the same file (everything a
duplicate). Times are wall clock; CPU time of the process alongside.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import Row  # type: ignore[import-not-found]  # noqa: E402

from clientplus_core import bank  # noqa: E402
from clientplus_core.bank import generator as g  # noqa: E402
from clientplus_core.sales import company  # noqa: E402
from clientplus_core.store.db import Store  # noqa: E402
from clientplus_core.store.startup import open_store  # noqa: E402
from clientplus_core.team import users  # noqa: E402
from clientplus_core.team.access import Actor  # noqa: E402

N_PAYMENTS = 10_000
SEED = 15
TARGET_S = 10.0


def copy_data_set(src: Path, work: Path) -> Store:
    """The cached database copied into ``work`` (never the cached one), migrated."""
    dest = work / "bank-data"
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("clientplus.db", "clientplus.db-wal"):  # the WAL too, when one is left
        if (src / name).exists():
            shutil.copy2(src / name, dest / name)
    return open_store(dest)


def _own(store: Store, admin: Actor, rng: random.Random) -> g.Party:
    c = company.get(store)
    if not c["account"]:
        own = g.party(rng, "ООО «КлиентПлюс Демо»", "7741104335", "774101001", g.BANKS[0])
        company.save(store, admin, c | {"name": own.name, "inn": own.inn, "kpp": own.kpp,
                                        "bik": own.bik, "account": own.account})
        c = company.get(store)
    return g.Party(c["name"], c["inn"], c["kpp"], c["account"], c["bik"], c["corr_account"],
                   c["bank_name"], "г. Москва")


def build_statement(store: Store, admin: Actor, n: int = N_PAYMENTS) -> tuple[bytes, dict]:
    """A statement of ``n`` payments over the data set's unpaid invoiced sales."""
    rng = random.Random(SEED)
    own = _own(store, admin, rng)
    with store.read() as conn:
        rows = conn.execute(
            "SELECT s.id, s.number, s.client_id, s.total_kop - s.paid_kop AS debt, c.name,"
            " c.inn, c.kpp, c.account, c.bik FROM sales s JOIN clients c ON c.id = s.client_id"
            " JOIN sale_statuses t ON t.id = s.status_id WHERE t.is_invoiced = 1"
            " AND t.is_paid = 0 AND t.is_lost = 0 AND s.deleted_at IS NULL"
            " AND s.total_kop > s.paid_kop AND c.inn <> '' AND c.deleted_at IS NULL"
            " ORDER BY s.id").fetchall()
    by_client: dict[int, list[sqlite3.Row]] = {}
    for r in rows:
        by_client.setdefault(r["client_id"], []).append(r)
    pool = [r for r in rows if len(by_client[r["client_id"]]) == 1]
    pairs = [v[:2] for v in by_client.values() if len(v) >= 2]
    rng.shuffle(pool)
    rng.shuffle(pairs)
    day = date.today() - timedelta(days=2)
    payments: list[g.Payment] = []
    kinds: dict[str, int] = {}

    def payer(r: sqlite3.Row) -> g.Party:
        if r["account"] and r["bik"]:
            return g.Party(r["name"], r["inn"], r["kpp"], r["account"], r["bik"])
        return g.party(rng, r["name"], r["inn"], r["kpp"])

    def add(kind: str, p: g.Payment) -> None:
        kinds[kind] = kinds.get(kind, 0) + 1
        payments.append(p)

    mix = [("sale number", 40), ("partial", 15), ("by amount", 20), ("two sales", 8),
           ("amount matches nothing", 7), ("unknown payer", 5), ("outgoing", 5)]
    for kind, share in mix:
        for _ in range(n * share // 100):
            no = str(len(payments) + 1)
            if kind == "two sales" and pairs:
                a, b = pairs.pop()
                add(kind, g.Payment(no, day, a["debt"] + b["debt"], payer(a), own,
                                    f"Оплата по заявкам {a['number']}, {b['number']}"))
            elif kind in ("unknown payer", "outgoing"):
                other = g.party(rng, f"ООО «Контрагент {no}»")
                amount = rng.randint(1_000, 500_000) * 100
                add(kind, g.Payment(no, day, amount, other if kind == "unknown payer" else own,
                                    own if kind == "unknown payer" else other,
                                    g.purpose_for(rng, amount)))
            elif pool:
                r = pool.pop()
                debt = r["debt"]
                if kind == "sale number":
                    add(kind, g.Payment(no, day, debt, payer(r), own, g.purpose_for(
                        rng, debt, sale_number=r["number"])))
                elif kind == "partial":
                    part = max(100, debt // 2)
                    add(kind, g.Payment(no, day, part, payer(r), own, g.purpose_for(
                        rng, part, sale_number=r["number"], partial=True)))
                elif kind == "by amount":
                    add(kind, g.Payment(no, day, debt, payer(r), own, g.purpose_for(rng, debt)))
                else:
                    add(kind, g.Payment(no, day, debt + 1234, payer(r), own,
                                        g.purpose_for(rng, debt + 1234)))
    while len(payments) < n and pool:
        r = pool.pop()
        add("sale number", g.Payment(str(len(payments) + 1), day, r["debt"], payer(r), own,
                                     g.purpose_for(rng, r["debt"], sale_number=r["number"])))
    return g.render([own], payments, encoding="cp1251"), kinds


def _timed(fn) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def rows(data_dir: Path, work: Path, reps: int = 3) -> list[Row]:
    """Copy the data set, build the statement, time the loads; the report rows."""
    t0 = time.perf_counter()
    store = copy_data_set(data_dir, work)
    copy_s = time.perf_counter() - t0
    admin = users.ensure_local_admin(store)
    data, kinds = build_statement(store, admin)
    files = [("kl_to_1c.txt", data)]
    samples = [_timed(lambda: bank.load(store, admin, files, dry_run=True))
               for _ in range(reps)]
    walls = [s[0] for s in samples]
    cpus = [s[1] for s in samples]
    summary = samples[-1][2].summary  # type: ignore[attr-defined]
    real_wall, real_cpu, real = _timed(lambda: bank.load(store, admin, files))
    again_wall, again_cpu, again = _timed(lambda: bank.load(store, admin, files))
    mix = ", ".join(f"{k} {v}" for k, v in kinds.items())
    note = (f"{len(data) / 1e6:.1f} MB cp1251; mix: {mix}; matched {summary['matched_count']},"
            f" review {summary['review_count']}, ignored {summary['ignored_count']};"
            f" wall min {min(walls):.2f} s / median {statistics.median(walls):.2f} s,"
            f" CPU min {min(cpus):.2f} s / median {statistics.median(cpus):.2f} s;"
            f" data set copied in {copy_s:.0f} s")
    out = [Row(f"bank statement: {N_PAYMENTS} payments loaded and matched (dry run)",
               len(walls), statistics.median(walls) * 1000, max(walls) * 1000,
               f"< {TARGET_S:.0f} s", ok=max(walls) < TARGET_S, note=note),
           Row("bank statement: the same load committed", 1, real_wall * 1000, None,
               f"< {TARGET_S:.0f} s", ok=real_wall < TARGET_S,
               note=f"CPU {real_cpu:.2f} s; matched"
                    f" {real.summary['matched_count']}"),  # type: ignore[attr-defined]
           Row("bank statement: loaded again (all duplicates)", 1, again_wall * 1000, None,
               f"< {TARGET_S:.0f} s", ok=again_wall < TARGET_S,
               note=f"CPU {again_cpu:.2f} s; duplicates"
                    f" {again.summary['duplicates_count']}")]  # type: ignore[attr-defined]
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data-dir", type=Path,
                   default=Path(tempfile.gettempdir()) / "clientplus-bench" / "full")
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="clientplus-bench-bank-") as tmp:
        for r in rows(args.data_dir, Path(tmp), args.reps):
            print(f"{r.metric}: median {r.p50 / 1000:.2f} s"
                  + (f", max {r.p95 / 1000:.2f} s" if r.p95 else "")
                  + f" (n={r.n}, target {r.target}) {'ok' if r.ok else 'SLOW'}\n  {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
