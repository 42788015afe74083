"""Outreach rows of the benchmark (``bench.py --only outreach``): building address
books and exporting a phone list over the 100,000-client / 1,000,000-sale data set.

Every row carries a baseline measured in the same run, on the same data:

- a book build is compared with the plain SQLite query that counts the same clients
  without scope, book storage or the ORDER BY the core needs (the floor any
  implementation pays for reading those rows); ``ratio`` = baseline p50 / core p50
  (as everywhere in the table: above 1 the core is faster, below 1 slower);
- the phone list is compared with a raw openpyxl ``write_only`` workbook of the same
  rows (what the simplest exporter would do).

The data set has no consent entries when it was generated before issue 7; they are
added once with :func:`clientplus_core.demo.add_demo_consents` (the same rule the
demo uses: ~85 % consent, ~3 % opt-out) and the note says so.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench_common import Row, pct, timed  # type: ignore[import-not-found]

from clientplus_core import demo
from clientplus_core.analytics import segments
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import phones
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

REPS = 5
SEGMENT = "bench: юр. лица"


def _series(fn: Callable[[], Any], reps: int = REPS) -> tuple[list[float], Any]:
    result = fn()                      # warm-up (page cache), and the result to report
    return [timed(fn) for _ in range(reps)], result


def _book_row(metric: str, store: Store, actor: Actor, criteria: dict[str, Any],
              baseline_sql: str, args: tuple[Any, ...] = ()) -> Row:
    def base() -> int:
        with store.read() as conn:
            return int(conn.execute(baseline_sql, args).fetchone()[0])

    core, ids = _series(lambda: ab.evaluate(store, actor, criteria))
    bt, bn = _series(base)
    p50, bp50 = statistics.median(core), statistics.median(bt)
    note = f"{len(ids)} clients; baseline (plain count) found {bn}"
    return Row(metric, len(ids), p50, pct(core, 95), "< 1 s", bp50,
               bp50 / p50 if p50 else None, pct(core, 95) < 1000, note)


def _ensure_consents(store: Store) -> str:
    with store.read() as conn:
        n = int(conn.execute("SELECT count(*) FROM consents").fetchone()[0])
    if n:
        return f"consent register: {n} entries"
    t = time.perf_counter()
    with store.write() as conn:
        added = demo.add_demo_consents(conn)
    return (f"consent register filled once with the demo rule: {added} entries in"
            f" {time.perf_counter() - t:.1f} s")


def _raw_openpyxl(rows: list[list[str]], path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("SMS")
    ws.append(phones.HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(path)


def rows(store: Store, admin: Actor, manager: Actor, work: Path) -> list[Row]:
    print("measuring outreach …", file=sys.stderr, flush=True)
    note_consent = _ensure_consents(store)
    out: list[Row] = []
    unpaid = ("SELECT count(DISTINCT s.client_id) FROM sales s WHERE s.deleted_at IS NULL AND"
              " s.status_id IN (SELECT id FROM sale_statuses WHERE is_invoiced = 1 AND"
              " is_paid = 0 AND is_lost = 0) AND s.paid_kop < s.total_kop")
    out.append(_book_row("address book: invoiced, not paid", store, admin,
                         {"invoiced_unpaid": True}, unpaid))
    out.append(_book_row("address book: invoiced, not paid (manager)", store, manager,
                         {"invoiced_unpaid": True},
                         unpaid + " AND s.client_owner_id = ?", (manager.id,)))
    out.append(_book_row("address book: overdue > 30 days", store, admin,
                         {"overdue_days": 30},
                         "SELECT count(DISTINCT client_id) FROM sales WHERE deleted_at IS NULL"
                         " AND overdue_from < date('now', '-30 days')"))
    with store.read() as conn:
        item = int(conn.execute("SELECT catalogue_id FROM sale_lines WHERE catalogue_id IS NOT"
                                " NULL GROUP BY catalogue_id ORDER BY count(*) DESC LIMIT 1"
                                ).fetchone()[0])
    out.append(_book_row("address book: interested in product X", store, admin,
                         {"product_id": item},
                         "SELECT count(DISTINCT s.client_id) FROM sale_lines l JOIN sales s ON"
                         " s.id = l.sale_id WHERE l.catalogue_id = ?", (item,)))
    out[-1].note += f"; X = the most sold item (#{item}), baseline ignores the paid history"
    segments.save(store, admin, SEGMENT, {"kind": ["Юр. лицо"]})
    out.append(_book_row("address book: saved segment", store, admin, {"segment": SEGMENT},
                         "SELECT count(*) FROM clients WHERE kind = 'legal' AND"
                         " deleted_at IS NULL"))
    out[-1].note += "; segment = legal entities (analytics engine)"
    out.append(_book_row("address book: no contact 180 days AND birthday this month", store,
                         admin, {"no_contact_days": 180, "birthday_month": True},
                         "SELECT count(*) FROM clients c WHERE EXISTS (SELECT 1 FROM contacts"
                         " k WHERE k.client_id = c.id AND substr(k.birthday, 6, 2) ="
                         " strftime('%m', 'now'))"))

    # e-mail recipients of the biggest book: all clients
    ids = ab.evaluate(store, admin, {"all_clients": True})
    core, (recips, skipped) = _series(lambda: ab.recipients_for(store, ids, "both"), 3)
    out.append(Row("e-mail recipients of 100,000 clients (dedup, consent)", len(recips),
                   statistics.median(core), pct(core, 95), "—", note=(
                       f"{len(skipped)} skipped; {note_consent}")))

    # phone list: choose enough clients for ~100,000 numbers
    sample = phones.build(store, ids[:10_000])
    per_client = max(len(sample.rows) / 10_000, 0.1)
    chosen = ids[: min(len(ids), int(100_000 / per_client) + 1)]
    target = work / "phones.xlsx"
    result: dict[str, Any] = {}

    def export() -> None:
        lst = phones.build(store, chosen)
        del lst.rows[100_000:]
        result["n"] = phones.write(lst, target)
        result["dropped"] = dict(lst.dropped)
        result["rows"] = lst.rows

    core = [timed(export) for _ in range(3)]
    base = [timed(lambda: _raw_openpyxl(result["rows"], work / "raw.xlsx")) for _ in range(3)]
    p50, bp50 = statistics.median(core), statistics.median(base)
    out.append(Row("phone list export .xlsx (build + write)", result["n"], p50, pct(core, 95),
                   "< 10 s", bp50, bp50 / p50 if p50 else None, pct(core, 95) < 10_000,
                   f"{len(chosen)} clients; dropped {result['dropped']}; baseline = raw"
                   " openpyxl write_only of the same rows (no reading, no checks)"))
    csv_t = [timed(lambda: phones.write(phones.build(store, chosen), work / "p.csv"))
             for _ in range(3)]
    out.append(Row("phone list export .csv (build + write)", result["n"],
                   statistics.median(csv_t), pct(csv_t, 95), "< 10 s",
                   ok=pct(csv_t, 95) < 10_000))

    out[1].note += " (the core also counts clients shared with the manager)"

    try:
        import bench_mailing  # type: ignore[import-not-found]
    except ImportError:
        bench_mailing = None
    if bench_mailing is not None and hasattr(bench_mailing, "rows"):
        out += bench_mailing.rows(store, admin, work)
    return out
