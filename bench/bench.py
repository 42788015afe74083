"""ClientPlus benchmark: prints a markdown table and writes bench/results/bench-<date>.json.

    .venv/bin/python bench/bench.py            # 100,000 clients (generated once, cached)
    .venv/bin/python bench/bench.py --quick    # 10,000 clients, a smoke run
    .venv/bin/python bench/bench.py --reuse    # keep the generated database if present
    .venv/bin/python bench/bench.py --only sales --reuse   # just the sales rows
    .venv/bin/python bench/bench.py --only analytics --reuse   # engine, funnel, debtors …
    .venv/bin/python bench/bench.py --only freshness --reuse   # after a write, after idle
    .venv/bin/python bench/bench.py --only outreach --reuse    # address books, phone lists
    .venv/bin/python bench/bench.py --only pages --reuse   # pages in Chromium, 1/5/10 users
    .venv/bin/python bench/bench.py --only demo --reuse    # the demo commands, 3 samples each

The data set also holds sales (1,000,000 with ~3,000,000 lines and ~2,000,000
payments; 100,000 with ``--quick``), added by ``clientplus demo --clients 0 --sales M``
in a second child process, so the client rows keep measuring what they did.

The data set is made by ``clientplus demo`` run as a child process, so its time and
peak memory are its own; import and export also run in child processes for the
same reason. Read paths (search, client card, registry page) run in this process
against the generated database, as the administrator and as ``manager1`` (who
owns a share of the clients), through the same core functions the pages call.
Nothing here is asserted: it measures and reports.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_common import Row, pct, timed  # noqa: E402

from clientplus_core import demo  # noqa: E402
from clientplus_core.clients import cards as clients  # noqa: E402
from clientplus_core.clients import contacts, files  # noqa: E402
from clientplus_core.clients.cards import ClientFilter  # noqa: E402
from clientplus_core.search import index as search  # noqa: E402
from clientplus_core.store.db import Store  # noqa: E402
from clientplus_core.store.startup import open_store  # noqa: E402
from clientplus_core.team import users  # noqa: E402
from clientplus_core.team.access import Actor  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "clientplus-bench"
SEED = 42
META = "bench-meta.json"


# --- child processes ---------------------------------------------------------------------

@dataclass
class Child:
    """A finished child process: wall seconds, peak RSS (MB), CPU seconds (user +
    system) and what it printed."""

    seconds: float
    rss_mb: float
    cpu_s: float
    stdout: str


def run_child(args: list[str]) -> Child:
    """Run ``python <args>`` and time it. Raises on failure."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([sys.executable, *args], stdout=out, stderr=err, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - t
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise RuntimeError(f"{args[:3]} failed ({proc.returncode}): {stderr.strip()[-500:]}")
    # ru_maxrss is in KiB on Linux
    return Child(seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, stdout)


def sample_rows(label: str, seconds_target: float, runs: list[Child], note: str = "",
                rss_target_mb: float = 1024) -> list[Row]:
    """Rows of a whole command run several times: wall min / median, CPU beside it,
    and the peak memory of the largest run."""
    wall = [r.seconds for r in runs]
    cpu = statistics.median(r.cpu_s for r in runs)
    med = statistics.median(wall)
    rss = max(r.rss_mb for r in runs)
    cpu_note = f"CPU median {cpu:.1f} s (user + system) against wall median {med:.1f} s"
    return [Row(f"{label} (wall)", len(runs), med * 1000, None, f"< {seconds_target:g} s",
                ok=med < seconds_target, note="; ".join(x for x in (cpu_note, note) if x),
                low=min(wall) * 1000),
            Row(f"{label} peak RSS, MB", len(runs), rss, None, f"< {rss_target_mb:g} MB",
                ok=rss < rss_target_mb)]


def worker(argv: list[str]) -> int:
    """Child-process steps: ``--worker import <data_dir> <xlsx>`` / ``export <data_dir> <out>``."""
    step, data_dir, path = argv
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    t = time.perf_counter()
    if step == "import":
        from clientplus_core.clients import import_mapping, importer, sheets

        p = Path(path)
        table = sheets.read_table(p.read_bytes(), p.name)
        mapping = import_mapping.guess_mapping(table.headers)
        report = importer.run_import(store, admin, table, mapping)
        result: dict[str, Any] = {"created": report.created, "updated": report.updated,
                                  "errors": report.error_rows, "mapping": mapping}
    elif step == "export":
        from clientplus_core.clients import export

        n = export.export_clients(store, admin, ClientFilter(), Path(path), "xlsx")
        result = {"rows": n, "bytes": Path(path).stat().st_size}
    else:
        raise SystemExit(f"unknown worker step {step}")
    result["seconds"] = time.perf_counter() - t
    print(json.dumps(result, ensure_ascii=False))
    return 0


# --- data set ----------------------------------------------------------------------------

def prepare(data_dir: Path, n_clients: int, reuse: bool) -> dict[str, Any]:
    """Generate the data set with ``clientplus demo`` (or reuse a matching one)."""
    meta_path = data_dir / META
    if reuse and meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("clients") == n_clients and meta.get("seed") == SEED:
            meta["reused"] = True
            return meta
    if data_dir.exists():
        shutil.rmtree(data_dir)
    print(f"generating {n_clients} clients in {data_dir} …", file=sys.stderr, flush=True)
    run = run_child(["-m", "clientplus_cli", "--data-dir", str(data_dir),
                     "demo", "--clients", str(n_clients), "--seed", str(SEED)])
    seconds, rss = run.seconds, run.rss_mb
    counts = json.loads(run.stdout.strip().splitlines()[-1])
    conn = sqlite3.connect(data_dir / "clientplus.db")
    try:
        text_files = conn.execute("SELECT count(*) FROM files f JOIN blobs b ON b.sha256 ="
                                  " f.sha256 WHERE b.text_status = 'ok'").fetchone()[0]
    finally:
        conn.close()
    meta = {"clients": n_clients, "seed": SEED, "demo_seconds": seconds, "demo_rss_mb": rss,
            "counts": counts, "files_with_text": text_files,
            "db_mb": (data_dir / "clientplus.db").stat().st_size / 2**20,
            "generated_at": datetime.now().isoformat(timespec="seconds"), "reused": False}
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    return meta


def prepare_sales(data_dir: Path, meta: dict[str, Any], n_sales: int) -> dict[str, Any]:
    """Add the sales to the data set with ``clientplus demo --clients 0 --sales M``
    (unless the data set already has them)."""
    if meta.get("sales") == n_sales and meta.get("sales_seed") == SEED:
        return meta
    print(f"generating {n_sales} sales in {data_dir} …", file=sys.stderr, flush=True)
    run = run_child(["-m", "clientplus_cli", "--data-dir", str(data_dir),
                     "demo", "--clients", "0", "--sales", str(n_sales), "--seed", str(SEED)])
    meta.update({"sales": n_sales, "sales_seed": SEED, "sales_seconds": run.seconds,
                 "sales_rss_mb": run.rss_mb,
                 "sales_counts": json.loads(run.stdout.strip().splitlines()[-1]),
                 "db_mb": (data_dir / "clientplus.db").stat().st_size / 2**20,
                 "sales_generated_at": datetime.now().isoformat(timespec="seconds"),
                 "sales_reused": False})
    (data_dir / META).write_text(json.dumps(meta, ensure_ascii=False, indent=1))
    return meta


# --- queries -----------------------------------------------------------------------------

def make_queries(store: Store, rng: random.Random) -> list[tuple[str, str]]:
    """~50 realistic (kind, query) pairs drawn from the data."""
    with store.read() as conn:
        legal = conn.execute("SELECT name, inn, phone FROM clients WHERE kind = 'legal'"
                             " ORDER BY random() LIMIT 400").fetchall()
        people = conn.execute("SELECT name, email, mobile FROM contacts WHERE email <> ''"
                              " ORDER BY random() LIMIT 400").fetchall()
    # ORDER BY random() is not seeded: sort, then sample with the seeded rng
    legal = sorted(legal, key=lambda r: r["inn"])
    people = sorted(people, key=lambda r: r["email"])
    q: list[tuple[str, str]] = []
    for r in rng.sample(legal, 9):
        core = r["name"].split("«", 1)[-1].rstrip("»")
        start = rng.randint(1, max(1, len(core) - 6))
        q.append(("name middle", core[start:start + rng.randint(4, 6)]))
    q += [("phone last 4", r["phone"][-4:]) for r in rng.sample(legal, 8)]
    q += [("inn", r["inn"]) for r in rng.sample(legal, 8)]
    q += [("email part", r["email"].split("@")[0][-7:]) for r in rng.sample(people, 8)]
    words = ["металлопрокат", "гидроизоляция", "поддоны", "климатическое", "пиломатериалы",
             "Договор поставки", "стеллажи складские", "спецодежда", "электроинструмент"]
    q += [("file text", w) for w in words[:9]]
    q += [("contact surname", r["name"].split()[0]) for r in rng.sample(people, 8)]
    return q


BASELINE_SQL = (
    "SELECT id FROM (SELECT id FROM clients WHERE deleted_at IS NULL AND (name LIKE :q"
    " OR inn LIKE :q OR email LIKE :q OR phone LIKE :q OR notes LIKE :q) LIMIT 100)"
    " UNION ALL SELECT * FROM (SELECT client_id FROM contacts WHERE deleted_at IS NULL AND"
    " (name LIKE :q OR phone LIKE :q OR mobile LIKE :q OR email LIKE :q) LIMIT 100)"
    " UNION ALL SELECT * FROM (SELECT f.client_id FROM files f JOIN blobs b ON b.sha256 ="
    " f.sha256 WHERE f.deleted_at IS NULL AND b.text LIKE :q LIMIT 100)"
)


def baseline_search(store: Store, q: str) -> int:
    """What a naive app would do: ``LIKE '%q%'`` scans over the same columns."""
    with store.read() as conn:
        return len(conn.execute(BASELINE_SQL, {"q": f"%{q}%"}).fetchall())


# --- measurements ------------------------------------------------------------------------

def measure_search(store: Store, actor: Actor, queries: list[tuple[str, str]], reps: int,
                   label: str, with_baseline: bool) -> list[Row]:
    for _, q in queries:   # warm the OS page cache for both methods alike
        search.search(store, actor, q)
    core: list[float] = []
    misses = 0
    for _ in range(reps):
        for _, q in queries:
            t = time.perf_counter()
            hits = search.search(store, actor, q)
            core.append((time.perf_counter() - t) * 1000)
            misses += not hits
    row = Row(f"search{label} (core, FTS5)", len(core), statistics.median(core), pct(core, 95),
              "p95 < 50 ms, ≥ 20× LIKE",
              note=f"{len(queries)} queries × {reps}; queries with no hit: {misses // reps}")
    rows = [row]
    if with_baseline:
        for _, q in queries[:3]:
            baseline_search(store, q)
        base = [timed(lambda q=q: baseline_search(store, q)) for _, q in queries]
        bp50, bp95 = statistics.median(base), pct(base, 95)
        row.baseline = bp95
        row.ratio = bp95 / row.p95 if row.p95 else None
        row.ok = row.p95 is not None and row.p95 < 50 and (row.ratio or 0) >= 20
        rows.append(Row("search baseline (LIKE '%q%' scan)", len(base), bp50, bp95, "—",
                        note=f"p50 ratio {bp50 / statistics.median(core):.0f}×"))
    else:
        row.ok = row.p95 < 50
        row.target = "p95 < 50 ms"
    return rows


def measure_card(store: Store, actor: Actor, ids: list[int], label: str) -> Row:
    def open_card(cid: int) -> None:
        # what the card page's default tab calls (requisites form, duplicates warning,
        # tag picker, owner and sharing), plus the contacts and files tabs' lists
        clients.get(store, actor, cid)
        clients.all_tags(store, actor)
        clients.duplicates_of(store, actor, cid)
        clients.shared_with(store, actor, cid)
        users.list_users(store)
        contacts.list_for_client(store, actor, cid)
        files.list_for_client(store, actor, cid)
        files.list_links(store, actor, cid)

    for cid in ids[:5]:
        open_card(cid)
    t = [timed(lambda c=cid: open_card(c)) for cid in ids]
    p95 = pct(t, 95)
    return Row(f"client card{label} (get + tags + duplicates + sharing + users + contacts"
               " + files + links)", len(t),
               statistics.median(t), p95, "p95 < 20 ms", ok=p95 < 20)


def measure_registry(store: Store, actor: Actor, owner_id: int, label: str,
                     reps: int) -> list[Row]:
    variants = {
        "kind=legal, tag=опт, by name": ClientFilter(kind="legal", tag="опт"),
        "owner=manager1, newest first": ClientFilter(owner_id=owner_id, sort="created_at",
                                                        descending=True),
        "kind=ip, by INN desc": ClientFilter(kind="ip", sort="inn", descending=True),
        "text «строй» + kind=legal": ClientFilter(query="строй", kind="legal"),
    }
    rows = []
    for name, f in variants.items():
        t: list[float] = []
        total = 0
        for page in (1, 50):
            clients.list_clients(store, actor, f, page=page)
            for _ in range(reps):
                t.append(timed(lambda p=page, f=f: clients.list_clients(store, actor, f,
                                                                         page=p)))
            total = clients.list_clients(store, actor, f, page=1).total
        p95 = pct(t, 95)
        rows.append(Row(f"registry{label}: {name} (pages 1, 50)", len(t), statistics.median(t),
                        p95, "p95 < 50 ms", ok=p95 < 50, note=f"{total} matching rows"))
    return rows


def measure_sign_in(work: Path, reps: int = 20) -> Row:
    """argon2 verify as the sign-in form does it (a fresh store, one user)."""
    from clientplus_core.team import auth

    store = open_store(work / "signin")
    auth.add_user(store, None, "bench", "bench-password-1", "manager")
    auth.authenticate(store, "bench", "bench-password-1")
    t = [timed(lambda: auth.authenticate(store, "bench", "bench-password-1"))
         for _ in range(reps)]
    p95 = pct(t, 95)
    return Row("sign-in (argon2 verify + lockout bookkeeping)", len(t), statistics.median(t), p95,
               "p95 < 300 ms", ok=p95 < 300)


def import_xlsx(path: Path, n: int) -> None:
    """A realistic client list as the user would bring it (Russian headers, one contact)."""
    from openpyxl import Workbook

    kinds = {"legal": "Юр. лицо", "ip": "ИП", "person": "Физ. лицо"}
    headers = ["Тип", "Наименование", "Полное наименование", "ИНН", "КПП", "ОГРН", "ОКВЭД",
               "Юридический адрес", "Индекс", "БИК", "Банк", "Корр. счёт", "Расчётный счёт",
               "Руководитель", "Телефон", "E-mail", "Сайт", "Источник", "Метки", "Примечания",
               "Контактное лицо", "Должность", "Мобильный", "Почта контакта"]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Клиенты")
    ws.append(headers)
    for r in demo.client_records(n, seed=SEED + 1):
        c = r["contact"] or {}
        ws.append([kinds[r["kind"]], r["name"], r["full_name"], r["inn"], r["kpp"], r["ogrn"],
                   r["okved"], r["legal_address"], r["postal_index"], r["bik"], r["bank_name"],
                   r["corr_account"], r["account"], r["director_name"], r["phone"], r["email"],
                   r["website"], r["source"], ", ".join(r["tags"]), r["notes"],
                   c.get("name", ""), c.get("post", ""), c.get("mobile", ""),
                   c.get("email", "")])
    wb.save(path)


def step_rows(label: str, seconds_target: float, seconds: float, rss: float,
              note: str = "") -> list[Row]:
    return [Row(f"{label} (wall)", 1, seconds * 1000, None, f"< {seconds_target:g} s",
                ok=seconds < seconds_target, note=note),
            Row(f"{label} peak RSS, MB", 1, rss, None, "< 1024 MB", ok=rss < 1024)]


def measure_import(work: Path, n: int, samples: int = 3) -> list[Row]:
    """Import ``n`` rows of .xlsx into an empty store, ``samples`` times (each in a child
    process of its own, on a fresh store)."""
    xlsx = work / f"import-{n}.xlsx"
    import_xlsx(xlsx, n)
    runs: list[Child] = []
    for _ in range(samples):
        empty = work / "import-store"
        shutil.rmtree(empty, ignore_errors=True)
        open_store(empty)
        runs.append(run_child([__file__, "--worker", "import", str(empty), str(xlsx)]))
    res = json.loads(runs[-1].stdout.strip().splitlines()[-1])
    unmapped = [h for h, t in res["mapping"].items() if not t]
    inner = statistics.median(json.loads(r.stdout.strip().splitlines()[-1])["seconds"]
                              for r in runs)
    note = (f"created {res['created']}, errors {res['errors']}, import itself (median)"
            f" {inner:.1f} s" + (f"; unmapped: {unmapped}" if unmapped else ""))
    return sample_rows(f"import {n} rows .xlsx (empty store)", 15, runs, note)


def measure_export(data_dir: Path, work: Path, samples: int = 3) -> list[Row]:
    """Export every client to .xlsx, ``samples`` times (each in a child process)."""
    out_path = work / "export.xlsx"
    runs = [run_child([__file__, "--worker", "export", str(data_dir), str(out_path)])
            for _ in range(samples)]
    res = json.loads(runs[-1].stdout.strip().splitlines()[-1])
    return sample_rows(f"export {res['rows']} clients .xlsx", 20, runs,
                       f"{res['bytes'] / 2**20:.1f} MB file")


def measure_demo(work: Path, n_clients: int, n_sales: int, samples: int = 3) -> list[Row]:
    """``clientplus demo --clients N`` and ``demo --clients N --sales M`` into fresh
    folders, ``samples`` times each (the data set itself is generated once, apart)."""
    rows: list[Row] = []
    for label, extra, target in (
            (f"clientplus demo --clients {n_clients}", [], 120),
            (f"clientplus demo --clients {n_clients} --sales {n_sales}",
             ["--sales", str(n_sales)], 300)):
        runs: list[Child] = []
        for i in range(samples):
            print(f"  {label}: sample {i + 1} of {samples} …", file=sys.stderr, flush=True)
            folder = work / "demo-sample"
            shutil.rmtree(folder, ignore_errors=True)
            runs.append(run_child(["-m", "clientplus_cli", "--data-dir", str(folder), "demo",
                                   "--clients", str(n_clients), "--seed", str(SEED), *extra]))
            shutil.rmtree(folder, ignore_errors=True)
        rows += sample_rows(label, target, runs, rss_target_mb=1024 if not extra else 2048)
    return rows


# --- sales -------------------------------------------------------------------------------

def sales_demo_rows(meta: dict[str, Any]) -> list[Row]:
    """The generation of the sales, and the issue's whole command (clients step + sales
    step: the same code ``demo --clients N --sales M`` runs, one after the other)."""
    n_clients, n_sales = meta["clients"], meta["sales"]
    c = meta["sales_counts"]
    note = (f"{c['sales']} sales, {c['sale_lines']} lines, {c['payments']} payments,"
            f" {c['status_log']} status changes, {c['contact_events']} contact events")
    if meta.get("sales_reused"):
        note += "; reused: measured when generated " + meta["sales_generated_at"]
    wall = meta["demo_seconds"] + meta["sales_seconds"]
    rss = max(meta["demo_rss_mb"], meta["sales_rss_mb"])
    return [
        Row(f"clientplus demo --sales {n_sales} (on {n_clients} clients) (wall)", 1,
            meta["sales_seconds"] * 1000, None, "—", note=note),
        Row(f"clientplus demo --sales {n_sales} peak RSS, MB", 1, meta["sales_rss_mb"], None,
            "—"),
        Row(f"clientplus demo --clients {n_clients} --sales {n_sales} (wall, both steps)", 1,
            wall * 1000, None, "< 300 s", ok=wall < 300),
        Row(f"clientplus demo --clients {n_clients} --sales {n_sales} peak RSS, MB", 1, rss,
            None, "< 2048 MB", ok=rss < 2048),
    ]


def measure_sale_card(store: Store, actor: Actor, ids: list[int], label: str) -> Row:
    from clientplus_core import sales

    for sid in ids[:5]:
        sales.get_card(store, actor, sid)
    t = [timed(lambda s=sid: sales.get_card(store, actor, s)) for sid in ids]
    p95 = pct(t, 95)
    return Row(f"sale card{label} (get_card: lines, totals, payments, log, history, files)",
               len(t), statistics.median(t), p95, "p95 < 20 ms", ok=p95 < 20)


def measure_sales_register(store: Store, actor: Actor, owner_id: int, label: str,
                           reps: int) -> list[Row]:
    from datetime import date, timedelta

    from clientplus_core import sales
    from clientplus_core.sales import SaleFilter

    with store.read() as conn:
        last = conn.execute("SELECT max(date) FROM sales").fetchone()[0]
        st = {r[0]: r[1] for r in conn.execute("SELECT code, id FROM sale_statuses")}
        # a client's name as a user would type part of it (the 6 letters after «)
        names = sorted(r[0] for r in conn.execute(
            "SELECT c.name FROM sales s JOIN clients c ON c.id = s.client_id"
            " WHERE c.kind = 'legal' AND s.id % 9973 = 1"))
    name = random.Random(SEED).choice(names).split("«")[-1][:6]
    end = date.fromisoformat(last)
    quarter = (end - timedelta(days=91)).isoformat()
    year = (end - timedelta(days=365)).isoformat()
    variants = {
        "status=invoiced + last quarter": SaleFilter(statuses=[st["invoiced"]],
                                                     date_from=quarter),
        "owner=manager1 + status=shipped": SaleFilter(owner_id=owner_id,
                                                      statuses=[st["shipped"]]),
        "overdue + owner=manager1": SaleFilter(payment="overdue", owner_id=owner_id),
        "amount 10–100 thousand + last year": SaleFilter(amount_min=10_000,
                                                         amount_max=100_000, date_from=year),
        "unpaid + open": SaleFilter(payment="unpaid", closed=False),
        f"text «{name}» (client) + last year": SaleFilter(query=name, date_from=year),
        "text «стеллаж» (a common line) + last quarter": SaleFilter(query="стеллаж",
                                                                    date_from=quarter),
    }
    # The baseline: the best plain SQL for the same answer, written by hand per filter —
    # one query for the count and the four sums, one for the page with its joins, the
    # text as LIKE over the client's name, the sale's number and title and its lines'
    # names (no full-text index, no index named: SQLite picks its plans).
    on = date.today().isoformat()
    plain_where: dict[str, tuple[str, list[object]]] = {
        "status=invoiced + last quarter": ("s.status_id = ? AND s.date >= ?",
                                           [st["invoiced"], quarter]),
        "owner=manager1 + status=shipped": ("s.owner_id = ? AND s.status_id = ?",
                                            [owner_id, st["shipped"]]),
        "overdue + owner=manager1": ("s.overdue_from < ? AND s.owner_id = ?", [on, owner_id]),
        "amount 10–100 thousand + last year": ("s.total_kop BETWEEN ? AND ? AND s.date >= ?",
                                               [1_000_000, 10_000_000, year]),
        "unpaid + open": ("s.paid_kop < s.total_kop AND st.is_closed = 0", []),
        f"text «{name}» (client) + last year": (
            "s.date >= ? AND (s.client_id IN (SELECT id FROM clients WHERE name LIKE ?)"
            " OR s.number LIKE ? OR s.title LIKE ? OR s.id IN (SELECT sale_id FROM"
            " sale_lines WHERE name LIKE ?))", [year, *[f"%{name}%"] * 4]),
        "text «стеллаж» (a common line) + last quarter": (
            "s.date >= ? AND (s.client_id IN (SELECT id FROM clients WHERE name LIKE ?)"
            " OR s.number LIKE ? OR s.title LIKE ? OR s.id IN (SELECT sale_id FROM"
            " sale_lines WHERE name LIKE ?))", [quarter, *["%стеллаж%"] * 4]),
    }
    scope_sql, scope_args = ("1 = 1", []) if actor.sees_everything else (
        "(s.client_owner_id = ? OR s.client_id IN (SELECT client_id FROM client_shares"
        " WHERE user_id = ?))", [actor.id, actor.id])

    def plain(key: str, page: int) -> None:
        cond, args = plain_where[key]
        where = f"s.deleted_at IS NULL AND {scope_sql} AND {cond}"
        full = [*scope_args, *args]
        with store.read() as conn:
            conn.execute(
                "SELECT count(*), sum(s.total_kop), sum(s.paid_kop),"
                " sum(CASE WHEN st.is_lost = 0 AND s.total_kop > s.paid_kop"
                " THEN s.total_kop - s.paid_kop ELSE 0 END),"
                " sum(CASE WHEN st.is_invoiced = 1 AND st.is_lost = 0 AND s.total_kop >"
                " s.paid_kop THEN s.total_kop - s.paid_kop ELSE 0 END)"
                f" FROM sales s JOIN sale_statuses st ON st.id = s.status_id WHERE {where}",
                full).fetchone()
            conn.execute(
                "SELECT s.id, s.number, s.date, c.name, s.title, st.label, u.full_name,"
                " s.total_kop, s.paid_kop, s.overdue_from FROM sales s"
                " JOIN clients c ON c.id = s.client_id"
                " JOIN sale_statuses st ON st.id = s.status_id"
                f" LEFT JOIN users u ON u.id = s.owner_id WHERE {where}"
                " ORDER BY s.date DESC, s.id DESC LIMIT 50 OFFSET ?",
                [*full, (page - 1) * 50]).fetchall()

    rows = []
    for name, f in variants.items():
        t: list[float] = []
        base: list[float] = []
        total = 0
        for page in (1, 10):
            sales.list_sales(store, actor, f, page=page)
            for _ in range(reps):
                t.append(timed(lambda p=page, f=f: sales.list_sales(store, actor, f, page=p)))
            total = sales.list_sales(store, actor, f, page=1).total
            base.append(timed(lambda p=page, k=name: plain(k, p)))
        p95 = pct(t, 95)
        bp50 = statistics.median(base)
        rows.append(Row(f"sales register{label}: {name} (pages 1, 10 of 50)", len(t),
                        statistics.median(t), p95, "p95 < 100 ms", baseline=bp50,
                        ratio=bp50 / statistics.median(t), ok=p95 < 100,
                        note=f"{total} matching sales, count and sums included;"
                             " baseline: hand-written plain SQL (count + sums, then the page;"
                             " text as LIKE), SQLite's own plans, p50"))
    return rows


def measure_sales_search(store: Store, actor: Actor, rng: random.Random, label: str) -> Row:
    with store.read() as conn:
        numbers = [r[0] for r in conn.execute("SELECT number FROM sales ORDER BY id")]
    queries = rng.sample(numbers, 20) + ["стеллаж", "пусконаладочные", "монтаж оборудования",
                                         "кофе в зёрнах", "обучение персонала"]
    for q in queries:
        search.search(store, actor, q)
    t = [timed(lambda q=q: search.search(store, actor, q)) for q in queries for _ in range(2)]
    found = sum(1 for q in queries[:20] if any(
        h.entity == "sale" and h.title.startswith(q) for h in search.search(store, actor, q)))
    p95 = pct(t, 95)
    return Row(f"search{label}: sale numbers and specification words", len(t),
               statistics.median(t), p95, "p95 < 50 ms", ok=p95 < 50,
               note=f"{found}/20 numbers found as the first sale hit")


def measure_invoice(work: Path, reps: int = 20) -> list[Row]:
    """Render an invoice with 50 lines: as preview, and numbered + saved to the sale."""
    from clientplus_core import sales
    from clientplus_core.sales import company, documents

    store = open_store(work / "invoice")
    admin = users.ensure_local_admin(store)
    company.save(store, admin, {"name": "ООО «Продавец»", "inn": "7707083893",
                                "kpp": "770701001", "bik": "044525225",
                                "bank_name": "ПАО Сбербанк",
                                "corr_account": "30101810400000000225"})
    c = clients.create(store, admin, {"name": "ООО \"Рога & Копыта\" <тест>",
                                      "inn": "7736207543"}, allow_duplicate=True)
    sale = sales.create(store, admin, {"client_id": c["id"], "lines": [
        {"name": f"Позиция спецификации № {i}", "qty": i, "price": "1234.56"}
        for i in range(1, 51)]})
    out = []
    for attach, what in ((False, "render only"), (True, "numbered, saved to the sale")):
        documents.render(store, admin, sale["id"], "invoice", attach=attach)
        t = [timed(lambda a=attach: documents.render(store, admin, sale["id"], "invoice",
                                                     attach=a)) for _ in range(reps)]
        p95 = pct(t, 95)
        out.append(Row(f"invoice .docx with 50 lines ({what})", len(t), statistics.median(t),
                       p95, "< 300 ms", ok=p95 < 300))
    return out


def sales_rows(store: Store, admin: Actor, manager: Actor, meta: dict[str, Any], work: Path,
               reps: int) -> list[Row]:
    rng = random.Random(SEED + 5)
    rows = sales_demo_rows(meta)
    with store.read() as conn:
        all_ids = [r[0] for r in conn.execute("SELECT id FROM sales")]
        own_ids = [r[0] for r in conn.execute(
            "SELECT s.id FROM sales s JOIN clients c ON c.id = s.client_id"
            " WHERE c.owner_id = ?", (manager.id,))]
    print("measuring sales …", file=sys.stderr, flush=True)
    rows.append(measure_sale_card(store, admin, rng.sample(all_ids, 200), ""))
    rows.append(measure_sale_card(store, manager, rng.sample(own_ids, 200), " as manager"))
    rows += measure_sales_register(store, admin, manager.id, "", reps * 5)
    rows += measure_sales_register(store, manager, manager.id, " as manager", reps * 5)
    rows.append(measure_sales_search(store, admin, rng, ""))
    rows += measure_invoice(work)
    return rows


# --- report ------------------------------------------------------------------------------

def fmt(v: float | None, digits: int = 1) -> str:
    if v is None:
        return "—"
    return f"{v:,.{digits}f}".replace(",", " ")


def table(rows: list[Row]) -> str:
    out = ["| metric | n | min ms | p50 ms | p95 ms | target | baseline ms |"
           " ratio (baseline / ours) | ok |",
           "|---|---:|---:|---:|---:|---|---:|---:|:-:|"]
    for r in rows:
        ok = "—" if r.ok is None else ("✅" if r.ok else "❌")
        ratio = (f"{r.ratio:.0f}×" if r.ratio >= 10 else f"{r.ratio:.2f}×") if r.ratio else "—"
        out.append(f"| {r.metric} | {r.n} | {fmt(r.low, 2)} | {fmt(r.p50, 2)} |"
                   f" {fmt(r.p95, 2)} | {r.target} | {fmt(r.baseline, 1)} | {ratio} | {ok} |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--worker"]:
        return worker(argv[1:])
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="10,000 clients (smoke run)")
    p.add_argument("--data-dir", type=Path, help=f"where the generated data set lives"
                                                   f" (default {DEFAULT_CACHE}/<full|quick>)")
    p.add_argument("--reuse", action="store_true", help="reuse the generated data set")
    p.add_argument("--reps", type=int, default=3, help="repetitions of each read query")
    p.add_argument("--only", choices=["all", "clients", "sales", "analytics", "outreach",
                                      "pages", "demo", "bank", "freshness"],
                   default="all",
                   help="measure only the client, sales, analytics, outreach, page or"
                        " demo-command rows")
    p.add_argument("--sales", type=int, help="sales in the data set (default 1,000,000;"
                                              " 100,000 with --quick)")
    args = p.parse_args(argv)

    n_clients = 10_000 if args.quick else 100_000
    n_sales = args.sales or (100_000 if args.quick else 1_000_000)
    n_import = 2_000 if args.quick else 10_000
    data_dir = (args.data_dir or DEFAULT_CACHE / ("quick" if args.quick else "full")).resolve()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    meta = prepare(data_dir, n_clients, args.reuse)
    if args.only != "clients":
        reused = meta.get("sales") == n_sales and meta.get("sales_seed") == SEED
        meta = prepare_sales(data_dir, meta, n_sales)
        meta["sales_reused"] = reused
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    manager = users.get_actor(store, "manager1")
    rng = random.Random(SEED)

    rows: list[Row] = []
    if args.only == "pages":
        return pages_report(data_dir, args)
    if args.only == "demo":
        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += measure_demo(Path(tmp), n_clients, n_sales)
        return report(rows, meta, data_dir, args, [])
    if args.only == "analytics":
        return analytics_report(store, admin, manager, meta, data_dir, args)
    if args.only == "freshness":  # the freshness rows of the analytics table alone
        import bench_analytics
        import bench_freshness

        fresh = bench_freshness.measure(store, admin)
        print(bench_analytics.table(fresh))
        print("\n".join(f"- {r['metric']}: {r['note']}" for r in fresh))
        return 0
    if args.only == "outreach":
        import bench_outreach

        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += bench_outreach.rows(store, admin, manager, Path(tmp))
        return report(rows, meta, data_dir, args, [])
    if args.only == "sales":
        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += sales_rows(store, admin, manager, meta, Path(tmp), args.reps)
        return report(rows, meta, data_dir, args, [])
    if args.only == "bank":  # a 10,000-payment statement, on a copy of the data set
        import bench_bank

        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += bench_bank.rows(data_dir, Path(tmp), args.reps)
        return report(rows, meta, data_dir, args, [])
    note = ("reused: measured when generated " + meta["generated_at"]) if meta["reused"] else ""
    rows += step_rows(f"clientplus demo --clients {n_clients}", 120, meta["demo_seconds"],
                      meta["demo_rss_mb"], note)
    queries = make_queries(store, rng)
    print(f"measuring search ({len(queries)} queries) …", file=sys.stderr, flush=True)
    rows += measure_search(store, admin, queries, args.reps, "", True)
    rows += measure_search(store, manager, queries, args.reps, " as manager", False)

    with store.read() as conn:
        all_ids = [r[0] for r in conn.execute("SELECT id FROM clients")]
        own_ids = [r[0] for r in conn.execute("SELECT id FROM clients WHERE owner_id = ?",
                                              (manager.id,))]
        with_files = [r[0] for r in conn.execute("SELECT DISTINCT client_id FROM files")]
    card_ids = rng.sample(all_ids, 150) + rng.sample(with_files, 50)
    rows.append(measure_card(store, admin, card_ids, ""))
    rows.append(measure_card(store, manager, rng.sample(own_ids, 200), " as manager"))
    print("measuring registry …", file=sys.stderr, flush=True)
    rows += measure_registry(store, admin, manager.id, "", args.reps * 5)
    rows += measure_registry(store, manager, manager.id, " as manager", args.reps * 5)

    with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
        work = Path(tmp)
        rows.append(measure_sign_in(work))
        print("measuring import …", file=sys.stderr, flush=True)
        rows += measure_import(work, n_import)
        print("measuring export …", file=sys.stderr, flush=True)
        rows += measure_export(data_dir, work)

    if args.only == "all":
        import bench_outreach

        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += sales_rows(store, admin, manager, meta, Path(tmp), args.reps)
            rows += bench_outreach.rows(store, admin, manager, Path(tmp))
        import bench_bank

        with tempfile.TemporaryDirectory(prefix="clientplus-bench-") as tmp:
            rows += bench_bank.rows(data_dir, Path(tmp), args.reps)
    report(rows, meta, data_dir, args, queries)
    if args.only == "all":  # the analytics rows have two references each: their own table
        print(flush=True)
        # in a process of its own: its memory row is the analytics' peak, not the peak
        # of everything measured before it in this process (which lets go of the copy
        # the outreach rows opened)
        from clientplus_core.analytics import engine as analytics

        analytics.close_all()
        cmd = [sys.executable, str(Path(__file__).resolve()), "--only", "analytics",
               "--reuse", "--data-dir", str(data_dir), "--reps", str(args.reps),
               "--sales", str(n_sales)] + (["--quick"] if args.quick else [])
        status = subprocess.run(cmd, check=False).returncode
        print(flush=True)
        status = pages_report(data_dir, args) or status
        print(flush=True)  # last: the demo commands, three samples each (~12 min)
        cmd[cmd.index("analytics")] = "demo"
        return subprocess.run(cmd, check=False).returncode or status
    return 0


def pages_report(data_dir: Path, args: argparse.Namespace) -> int:
    """``--only pages``: the pages in Chromium (bench/bench_pages.py), one user then
    1, 5 and 10 at once (two minutes each; 20 s each with ``--quick``)."""
    from clientplus_core.analytics import engine as analytics

    analytics.close_all()  # the server process owns the analytics copy now
    cmd = [sys.executable, str(ROOT / "bench" / "bench_pages.py"), "--data", str(data_dir),
           "--rounds", str(max(args.reps, 5)), "--sessions", "1,5,10",
           "--duration", "20" if args.quick else "120"]
    return subprocess.run(cmd, check=False).returncode


def analytics_report(store: Store, admin: Actor, manager: Actor, meta: dict[str, Any],
                     data_dir: Path, args: argparse.Namespace) -> int:
    """``--only analytics``: the engine and the reports against SQLite and DuckDB-native
    (see bench/bench_analytics.py); prints its own table (two ratios per row)."""
    import bench_analytics

    rows = bench_analytics.measure(store, admin, manager, max(args.reps, 5))
    if not args.quick:  # the custom-field segmentation needs clients with custom fields
        import bench_segments

        rows += bench_segments.measure(reps=max(args.reps, 5))
    print(bench_analytics.table(rows))
    print(f"\ndata: {meta.get('counts')}; sales: {meta.get('sales_counts', '—')};"
          f" db {meta.get('db_mb', 0):.0f} MB; {data_dir}")
    for r in rows:
        if r.get("note"):
            print(f"- {r['metric']}: {r['note']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    quick = "-quick" if args.quick else ""
    out = RESULTS / f"bench-{datetime.now():%Y-%m-%d}{quick}-analytics.json"
    out.write_text(json.dumps({
        "date": datetime.now().isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()},
        "data": meta, "rows": rows}, ensure_ascii=False, indent=1, default=str))
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0


def report(rows: list[Row], meta: dict[str, Any], data_dir: Path, args: argparse.Namespace,
           queries: list[tuple[str, str]]) -> int:
    """Print the table and notes; write bench/results/bench-<date>[-quick][-sales].json."""
    print(table(rows))
    print()
    print(f"data: {meta['counts']}; sales: {meta.get('sales_counts', '—')};"
          f" files with text: {meta['files_with_text']}; db {meta['db_mb']:.0f} MB; {data_dir}")
    for r in rows:
        if r.note:
            print(f"- {r.metric}: {r.note}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    suffix = ("-quick" if args.quick else "") + ("" if args.only == "all" else f"-{args.only}")
    out = RESULTS / f"bench-{datetime.now():%Y-%m-%d}{suffix}.json"
    out.write_text(json.dumps({
        "date": datetime.now().isoformat(timespec="seconds"),
        "mode": ("quick" if args.quick else "full") + ("" if args.only == "all"
                                                       else f", only {args.only}"),
        "machine": {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version,
                    "cpus": os.cpu_count(), "platform": platform.platform(),
                    "loadavg_at_end": os.getloadavg()},
        "data": meta, "queries": queries, "rows": [asdict(r) for r in rows],
    }, ensure_ascii=False, indent=1))
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
