"""The analytics copy's tables and how rows move into them.

The tables copied from SQLite (:data:`TABLES`), reading what changed since the
last refresh in one SQLite read transaction (:func:`read_changes`), applying it
to the DuckDB copy (:func:`apply`) and the derived columns (:func:`derive`).
The building and refreshing themselves, with their locking and timing, are in
:mod:`clientplus_core.analytics.engine`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

log = logging.getLogger(__name__)

# table in the copy -> (SQLite table, columns copied)
TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "a_sales": ("sales", (
        "id", "number", "date", "client_id", "owner_id", "client_owner_id", "status_id",
        "status_at", "lost_reason", "source", "total_kop", "paid_kop", "planned_kop",
        "vat_kop", "overdue_from", "extra", "created_at", "updated_at", "deleted_at")),
    "a_sale_lines": ("sale_lines", (
        "id", "sale_id", "catalogue_id", "name", "sku", "unit", "qty_milli", "amount_kop",
        "vat_kop")),
    "a_payments": ("sale_payments", (
        "id", "sale_id", "kind", "date", "amount_kop", "created_at", "deleted_at")),
    "a_status_log": ("sale_status_log", (
        "id", "sale_id", "from_status_id", "to_status_id", "at")),
    "a_clients": ("clients", (
        "id", "kind", "name", "inn", "legal_address", "source", "tags", "extra", "owner_id",
        "created_at", "updated_at", "deleted_at")),
    "a_interactions": ("interactions", (
        "id", "client_id", "sale_id", "at", "channel", "user_id", "updated_at", "deleted_at")),
    "a_statuses": ("sale_statuses", (
        "id", "code", "label", "sort", "is_invoiced", "is_paid", "is_shipped", "is_closed",
        "is_lost", "is_active")),
    "a_users": ("users", ("id", "login", "full_name", "role", "is_active")),
    "a_shares": ("client_shares", ("client_id", "user_id")),
    "a_catalogue": ("catalogue", ("id", "name")),
}
# reloaded whole on every refresh (small reference tables)
SMALL = ("a_statuses", "a_users", "a_shares", "a_catalogue")
# the rows of a sale, replaced whole when the sale changed
SALE_CHILDREN = ("a_sale_lines", "a_payments", "a_status_log")

_INT_COLS = {"id", "client_id", "owner_id", "client_owner_id", "status_id", "total_kop",
             "paid_kop", "planned_kop", "vat_kop", "sale_id", "catalogue_id", "qty_milli",
             "amount_kop",
             "from_status_id", "to_status_id", "user_id", "sort", "is_invoiced", "is_paid",
             "is_shipped", "is_closed", "is_lost", "is_active"}


def duck_type(col: str) -> str:
    """The DuckDB type of a copied column (integers or text)."""
    return "BIGINT" if col in _INT_COLS else "VARCHAR"


def _polars_schema(table: str) -> dict[str, Any]:
    return {c: (pl.Int64 if c in _INT_COLS else pl.Utf8) for c in TABLES[table][1]}


@dataclass
class Changes:
    """What changed in SQLite since the last refresh, ready to apply to the copy."""

    sale_ids: list[int]
    frames: dict[str, pl.DataFrame]  # rows to (re)insert per table
    client_ids: list[int]
    interaction_ids: list[int]
    counts: dict[str, int]  # live row counts in SQLite, to detect hard deletes
    ids: dict[str, list[int]] = field(default_factory=dict)  # all ids, when counts differ


def sqlite_reader(path: Path) -> sqlite3.Connection:
    """A plain read connection (no Row factory: tuples are faster to frame)."""
    conn = sqlite3.connect(str(path), timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA query_only = 1")
    return conn


def read_frame(conn: sqlite3.Connection, table: str, sql: str,
               args: Sequence[object]) -> pl.DataFrame:
    """The rows ``sql`` reads from SQLite as a frame typed like ``table`` in the copy."""
    rows = conn.execute(sql, list(args)).fetchall()
    return pl.DataFrame(rows, schema=_polars_schema(table), orient="row")


def cols(table: str) -> str:
    """The copied columns, quoted (``at`` is a keyword in DuckDB)."""
    return ", ".join(f'"{c}"' for c in TABLES[table][1])


def read_changes(conn: sqlite3.Connection, since: str) -> Changes:
    """What changed since ``since``, read inside the caller's read transaction."""
    def ids(sql: str, *args: object) -> set[int]:
        return {int(r[0]) for r in conn.execute(sql, args)}

    client_ids = ids("SELECT id FROM clients WHERE updated_at >= ?", since)
    sale_ids = ids("SELECT id FROM sales WHERE updated_at >= ?", since)
    sale_ids |= ids("SELECT sale_id FROM sale_payments WHERE created_at >= ? OR deleted_at >= ?",
                    since, since)
    sale_ids |= ids("SELECT sale_id FROM sale_status_log WHERE at >= ?", since)
    if client_ids:
        sale_ids |= ids("SELECT id FROM sales WHERE client_id IN (SELECT value FROM json_each(?))",
                        json.dumps(sorted(client_ids)))
    interaction_ids = ids("SELECT id FROM interactions WHERE updated_at >= ?", since)
    frames: dict[str, pl.DataFrame] = {}
    sid = json.dumps(sorted(sale_ids))
    in_ids = "IN (SELECT value FROM json_each(?))"
    frames["a_sales"] = read_frame(conn, "a_sales",
                                   f"SELECT {cols('a_sales')} FROM sales WHERE id {in_ids}", [sid])
    for name in SALE_CHILDREN:
        src = TABLES[name][0]
        frames[name] = read_frame(conn, name,
                                  f"SELECT {cols(name)} FROM {src} WHERE sale_id {in_ids}", [sid])
    frames["a_clients"] = read_frame(conn, "a_clients", f"SELECT {cols('a_clients')} FROM clients"
                                     f" WHERE id {in_ids}", [json.dumps(sorted(client_ids))])
    frames["a_interactions"] = read_frame(
        conn, "a_interactions", f"SELECT {cols('a_interactions')} FROM interactions"
        f" WHERE id {in_ids}", [json.dumps(sorted(interaction_ids))])
    for name in SMALL:
        frames[name] = read_frame(conn, name, f"SELECT {cols(name)} FROM {TABLES[name][0]}", [])
    counts = {name: int(conn.execute(f"SELECT count(*) FROM {TABLES[name][0]}").fetchone()[0])
              for name in ("a_sales", "a_clients", "a_interactions", "a_payments")}
    ch = Changes(sorted(sale_ids), frames, sorted(client_ids), sorted(interaction_ids), counts)
    return ch


# Derived columns, computed once per changed sale so that reports are plain scans:
# on a_sales ``live`` (not deleted, client not deleted), ``top_sort`` (the furthest
# non-lost stage reached, from the log and the current status) and ``invoiced_on``
# (first day at an invoiced status); on the sale's lines, payments and log rows the
# sale's ``live``, ``client_id``, ``client_owner_id`` and ``owner_id`` (scope and
# filters without a join).
DERIVED_SALE = {"live": "BOOLEAN", "top_sort": "BIGINT", "invoiced_on": "VARCHAR"}
DERIVED_CHILD = {"live": "BOOLEAN", "client_id": "BIGINT", "client_owner_id": "BIGINT",
                 "owner_id": "BIGINT"}


def add_derived(cur: duckdb.DuckDBPyConnection) -> None:
    """Add the derived columns to a freshly built copy (filled by :func:`derive`)."""
    for col, typ in DERIVED_SALE.items():
        cur.execute(f"ALTER TABLE a_sales ADD COLUMN {col} {typ}")
    for name in SALE_CHILDREN:
        for col, typ in DERIVED_CHILD.items():
            if col not in TABLES[name][1]:
                cur.execute(f"ALTER TABLE {name} ADD COLUMN {col} {typ}")


def derive(cur: duckdb.DuckDBPyConnection, sale_ids: Sequence[int] | None) -> None:
    """(Re)compute the derived columns for ``sale_ids`` (None: every sale)."""
    if sale_ids is not None:
        cur.register("_derive_ids", pl.DataFrame({"id": list(sale_ids)}, schema={"id": pl.Int64}))
    only = "" if sale_ids is None else " AND s.id IN (SELECT id FROM _derive_ids)"
    try:
        cur.execute(f"""UPDATE a_sales SET live = d.live, top_sort = d.top_sort,
    invoiced_on = d.invoiced_on
FROM (SELECT s.id,
        (s.deleted_at IS NULL AND s.client_id NOT IN
            (SELECT id FROM a_clients WHERE deleted_at IS NOT NULL)) AS live,
        coalesce(max(t.sort) FILTER (WHERE t.is_lost = 0),
                 (SELECT min(sort) FROM a_statuses WHERE is_lost = 0)) AS top_sort,
        min(left(h."at", 10)) FILTER (WHERE t.is_invoiced = 1) AS invoiced_on
      FROM a_sales s
      LEFT JOIN (SELECT sale_id, to_status_id AS status_id, "at" FROM a_status_log
                 UNION ALL SELECT id, status_id, NULL FROM a_sales) h ON h.sale_id = s.id
      LEFT JOIN a_statuses t ON t.id = h.status_id
      WHERE 1 = 1{only}
      GROUP BY s.id, s.deleted_at, s.client_id) d
WHERE a_sales.id = d.id""")
        for name in SALE_CHILDREN:
            cur.execute(f"""UPDATE {name} SET live = s.live, client_id = s.client_id,
    client_owner_id = s.client_owner_id, owner_id = s.owner_id
FROM a_sales s WHERE {name}.sale_id = s.id{only}""")
    finally:
        if sale_ids is not None:
            cur.unregister("_derive_ids")


def statuses_sig(cur: duckdb.DuckDBPyConnection) -> str:
    """The statuses' ids, order and flags as text: when it changes, derive all again."""
    rows = cur.execute("SELECT id, sort, is_invoiced, is_paid, is_lost FROM a_statuses"
                       " ORDER BY id").fetchall()
    return json.dumps(rows)


def apply(cur: duckdb.DuckDBPyConnection, ch: Changes) -> None:
    """Apply ``ch`` inside the caller's DuckDB transaction."""
    cur.register("_sale_ids", pl.DataFrame({"id": ch.sale_ids}, schema={"id": pl.Int64}))
    cur.register("_client_ids", pl.DataFrame({"id": ch.client_ids}, schema={"id": pl.Int64}))
    cur.register("_int_ids", pl.DataFrame({"id": ch.interaction_ids}, schema={"id": pl.Int64}))
    try:
        if ch.sale_ids:
            cur.execute("DELETE FROM a_sales WHERE id IN (SELECT id FROM _sale_ids)")
            for name in SALE_CHILDREN:
                cur.execute(f"DELETE FROM {name} WHERE sale_id IN (SELECT id FROM _sale_ids)")
        if ch.client_ids:
            cur.execute("DELETE FROM a_clients WHERE id IN (SELECT id FROM _client_ids)")
        if ch.interaction_ids:
            cur.execute("DELETE FROM a_interactions WHERE id IN (SELECT id FROM _int_ids)")
        for name in SMALL:
            cur.execute(f"DELETE FROM {name}")
        for name, frame in ch.frames.items():
            if frame.height:
                cur.register("_rows", frame)
                cur.execute(f"INSERT INTO {name} ({cols(name)}) SELECT {cols(name)} FROM _rows")
                cur.unregister("_rows")
    finally:
        for view in ("_sale_ids", "_client_ids", "_int_ids"):
            cur.unregister(view)
    # rows removed from SQLite altogether (not soft-deleted): reconcile by id
    for name, n in ch.counts.items():
        row = cur.execute(f"SELECT count(*) FROM {name}").fetchone()
        if row is not None and int(row[0]) != n:
            ch.ids[name] = []
    if ch.ids:
        log.info("analytics: row counts differ (%s), reconciling ids", sorted(ch.ids))


def set_meta(cur: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    """Store ``values`` in the copy's ``a_meta`` table."""
    for k, v in values.items():
        cur.execute("INSERT OR REPLACE INTO a_meta VALUES (?, ?)", [k, v])
