"""A small hand-made data set for the analytics tests, written straight into the
SQLite tables (the engine reads those tables, whatever wrote them). The expected
numbers in the tests are worked out by hand from the rows below.

Users: admin (local), m1 «Менеджер Один», m2 «Менеджер Два» (managers).
Clients: Альфа (m1, сайт, 2026-01-10), Бета (m2, выставка, 2026-02-05),
Гамма (m1, no source, 2026-02-20), Дельта (m2, 2026-02-07, DELETED).
Sales (kopecks):
  s1 2026-01-15 Альфа m1 shipped 100000 paid 100000 (60000 on 01-28, 40000 on 02-01);
     lines Монтаж 60000 (catalogue 1), Кабель 40000 (catalogue 2);
     log lead 01-15, offer_ready 01-16, contract 01-20, invoiced 01-25, paid 02-01, shipped 02-05
  s2 2026-01-20 Альфа m1 lost «дорого» 50000; log lead 01-20, offer_sent 01-22, lost 01-30
  s3 2026-02-10 Бета m2 invoiced 200000 paid 0, plan 200000 on 02-20 (overdue_from 02-20);
     a payment of 50000 on 02-21 that was deleted; line Кабель 200000;
     log lead 02-10, invoiced 02-12
  s4 2026-02-15 Гамма m1 partly_paid 300000 paid 100000 (02-25); plans 100000 on 02-20 and
     200000 on 04-10 (overdue_from 04-10); line Монтаж 300000;
     log lead 02-15, invoiced 02-16, partly_paid 02-25
  s5 2026-03-01 Бета m2 lead 40000; plan 40000 on 2026-04-22; log lead 03-01
  s6 2026-03-05 Дельта (deleted client) m2 paid 999900, payment 999900 on 03-06
  s7 2026-03-06 Альфа m1 offer_ready 70000, the sale DELETED
Contact events: Альфа 2026-04-01, Бета 2026-03-01, Гамма none.
"""

from __future__ import annotations

from typing import Any

from clientplus_core.store.db import Store
from clientplus_core.team import users

TS = "T10:00:00+00:00"


def _ts(day: str) -> str:
    return f"{day}{TS}"


def build(store: Store) -> dict[str, Any]:
    admin = users.ensure_local_admin(store)
    m1 = users.create(store, "m1", "Менеджер Один", "manager")
    m2 = users.create(store, "m2", "Менеджер Два", "manager")
    ids: dict[str, Any] = {"admin": admin, "m1": m1, "m2": m2}
    with store.write() as conn:
        def client(name: str, owner: int, source: str, created: str,
                   deleted: str | None = None) -> int:
            cur = conn.execute(
                "INSERT INTO clients (name, owner_id, source, created_at, updated_at, deleted_at)"
                " VALUES (?,?,?,?,?,?)", (name, owner, source, _ts(created), _ts(created),
                                          _ts(deleted) if deleted else None))
            return int(cur.lastrowid or 0)

        c1 = client("Альфа", m1.id, "сайт", "2026-01-10")
        c2 = client("Бета", m2.id, "выставка", "2026-02-05")
        c3 = client("Гамма", m1.id, "", "2026-02-20")
        c4 = client("Дельта", m2.id, "", "2026-02-07", deleted="2026-03-10")
        ids.update(c1=c1, c2=c2, c3=c3, c4=c4)
        conn.execute("INSERT INTO catalogue (id, name, created_at, updated_at) VALUES"
                     " (1, 'Монтаж', ?, ?), (2, 'Кабель', ?, ?)", [_ts("2026-01-01")] * 4)

        def sale(n: int, day: str, cid: int, owner: int, status: int, total: int, paid: int,
                 log: list[tuple[int, str]], lines: list[tuple[str, int, int]],
                 overdue: str | None = None, reason: str = "", deleted: str | None = None,
                 planned: int = 0) -> int:
            last_at = _ts(log[-1][1])
            cur = conn.execute(
                "INSERT INTO sales (number, date, client_id, owner_id, status_id, status_at,"
                " lost_reason, total_kop, paid_kop, planned_kop, overdue_from, created_at,"
                " updated_at, deleted_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (f"2026-{n:04d}", day, cid, owner, status, last_at, reason, total, paid,
                 planned, overdue, _ts(day), last_at, _ts(deleted) if deleted else None))
            sid = int(cur.lastrowid or 0)
            prev = None
            for st, at in log:
                conn.execute("INSERT INTO sale_status_log (sale_id, from_status_id, to_status_id,"
                             " actor_id, at) VALUES (?,?,?,?,?)", (sid, prev, st, owner, _ts(at)))
                prev = st
            for pos, (name, cat, kop) in enumerate(lines, 1):
                conn.execute("INSERT INTO sale_lines (sale_id, pos, catalogue_id, name, qty_milli,"
                             " price_kop, vat_code, amount_kop, vat_kop) VALUES"
                             " (?,?,?,?,1000,?,'22',?,0)", (sid, pos, cat, name, kop, kop))
            return sid

        s1 = sale(1, "2026-01-15", c1, m1.id, 9, 100000, 100000,
                  [(1, "2026-01-15"), (2, "2026-01-16"), (5, "2026-01-20"), (6, "2026-01-25"),
                   (8, "2026-02-01"), (9, "2026-02-05")],
                  [("Монтаж", 1, 60000), ("Кабель", 2, 40000)])
        s2 = sale(2, "2026-01-20", c1, m1.id, 10, 50000, 0,
                  [(1, "2026-01-20"), (3, "2026-01-22"), (10, "2026-01-30")],
                  [("Монтаж", 1, 50000)], reason="дорого")
        s3 = sale(3, "2026-02-10", c2, m2.id, 6, 200000, 0, [(1, "2026-02-10"), (6, "2026-02-12")],
                  [("Кабель", 2, 200000)], overdue="2026-02-20", planned=200000)
        s4 = sale(4, "2026-02-15", c3, m1.id, 7, 300000, 100000,
                  [(1, "2026-02-15"), (6, "2026-02-16"), (7, "2026-02-25")],
                  [("Монтаж", 1, 300000)], overdue="2026-04-10", planned=300000)
        s5 = sale(5, "2026-03-01", c2, m2.id, 1, 40000, 0, [(1, "2026-03-01")],
                  [("Кабель", 2, 40000)], overdue="2026-04-22", planned=40000)
        s6 = sale(6, "2026-03-05", c4, m2.id, 8, 999900, 999900,
                  [(1, "2026-03-05"), (8, "2026-03-06")], [("Монтаж", 1, 999900)])
        s7 = sale(7, "2026-03-06", c1, m1.id, 2, 70000, 0, [(1, "2026-03-06"), (2, "2026-03-06")],
                  [("Монтаж", 1, 70000)], deleted="2026-03-07")
        ids.update(s1=s1, s2=s2, s3=s3, s4=s4, s5=s5, s6=s6, s7=s7)

        def pay(sid: int, kind: str, day: str, kop: int, deleted: str | None = None) -> None:
            conn.execute("INSERT INTO sale_payments (sale_id, kind, date, amount_kop, created_at,"
                         " deleted_at) VALUES (?,?,?,?,?,?)",
                         (sid, kind, day, kop, _ts(day), _ts(deleted) if deleted else None))

        pay(s1, "fact", "2026-01-28", 60000)
        pay(s1, "fact", "2026-02-01", 40000)
        pay(s3, "plan", "2026-02-20", 200000)
        pay(s3, "fact", "2026-02-21", 50000, deleted="2026-02-22")
        pay(s4, "plan", "2026-02-20", 100000)
        pay(s4, "plan", "2026-04-10", 200000)
        pay(s4, "fact", "2026-02-25", 100000)
        pay(s5, "plan", "2026-04-22", 40000)
        pay(s6, "fact", "2026-03-06", 999900)
        for cid, day in ((c1, "2026-04-01"), (c2, "2026-03-01")):
            conn.execute("INSERT INTO interactions (client_id, at, channel, user_id, created_at,"
                         " updated_at) VALUES (?,?,'call',?,?,?)",
                         (cid, _ts(day), admin.id, _ts(day), _ts(day)))
    return ids
