"""The analytics copy's tables and how rows move into them.

The tables copied from SQLite (:data:`TABLES`), reading what changed since the
last refresh in one SQLite read transaction (:func:`read_changes`), applying it
to the DuckDB copy (:func:`apply`) and the derived columns (:func:`derive`).
The building and refreshing themselves, with their locking and timing, are in
:mod:`clientplus_core.analytics.engine`.
"""

from __future__ import annotations

import contextlib
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
    """What changed in SQLite between two positions of its change log
    (``analytics_changes``, see :mod:`clientplus_core.store.migrations.speed`), read
    in one snapshot, ready to apply to the copy."""

    head: int  # the last change-log entry this reflects
    sale_ids: list[int] = field(default_factory=list)
    client_ids: list[int] = field(default_factory=list)
    interaction_ids: list[int] = field(default_factory=list)
    small: list[str] = field(default_factory=list)  # reference tables to reload whole
    frames: dict[str, pl.DataFrame] = field(default_factory=dict)  # rows to (re)insert
    rebuild: bool = False  # a bulk load ran (or the log was trimmed past us): build anew

    @property
    def empty(self) -> bool:
        """Nothing to apply."""
        return not (self.sale_ids or self.client_ids or self.interaction_ids or self.small
                    or self.rebuild)


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


# rows read from SQLite per step of a full copy: the Python tuples of a whole
# 3,000,000-row table held at once took a 1M-sale build to a 3.2 GB peak
COPY_STEP = 200_000


def copy_table(conn: sqlite3.Connection, cur: duckdb.DuckDBPyConnection, table: str,
               src: str) -> None:
    """Create the copy's ``table`` anew from SQLite's ``src``, read in steps of
    :data:`COPY_STEP` rows (one statement, so one snapshot of the caller's transaction)."""
    rows = conn.execute(f"SELECT {cols(table)} FROM {src}")
    schema = _polars_schema(table)
    first = True
    while True:
        chunk = rows.fetchmany(COPY_STEP)
        if not chunk and not first:
            break
        cur.register("_src", pl.DataFrame(chunk, schema=schema, orient="row"))
        cur.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT * FROM _src" if first
                    else f"INSERT INTO {table} SELECT * FROM _src")
        cur.unregister("_src")
        first = False
        if len(chunk) < COPY_STEP:
            break


def cols(table: str) -> str:
    """The copied columns, quoted (``at`` is a keyword in DuckDB)."""
    return ", ".join(f'"{c}"' for c in TABLES[table][1])


def log_head(conn: sqlite3.Connection) -> int:
    """The number of the last change-log entry ever written (0 for none): one row of
    ``sqlite_sequence``, so checking "did anything change?" costs one tiny read."""
    row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'analytics_changes'"
                       ).fetchone()
    return int(row[0]) if row else 0


# more entries than this since the last refresh: building anew is about as quick
REBUILD_AFTER = 50_000


def read_changes(conn: sqlite3.Connection, since: int) -> Changes:
    """What the change log holds after entry ``since``, with the rows it names, read
    inside the caller's read transaction (one snapshot)."""
    head = log_head(conn)
    ch = Changes(head)
    if head <= since:
        ch.rebuild = head < since  # the log went back: another database file
        return ch
    first = conn.execute("SELECT min(seq) FROM analytics_changes").fetchone()[0]
    if first is None or int(first) > since + 1 or head - since > REBUILD_AFTER:
        ch.rebuild = True  # trimmed past what we applied, or too much to apply
        return ch
    found: dict[str, set[int]] = {}
    for kind, row_id in conn.execute("SELECT DISTINCT kind, row_id FROM analytics_changes"
                                     " WHERE seq > ? AND seq <= ?", (since, head)):
        found.setdefault(str(kind), set()).add(int(row_id))
    if "rebuild" in found:
        ch.rebuild = True
        return ch
    ch.sale_ids = sorted(found.get("sale", ()))
    ch.client_ids = sorted(found.get("client", ()))
    ch.interaction_ids = sorted(found.get("interaction", ()))
    ch.small = [name for name in SMALL if name in found]
    in_ids = "IN (SELECT value FROM json_each(?))"
    if ch.sale_ids:
        sid = json.dumps(ch.sale_ids)
        ch.frames["a_sales"] = read_frame(
            conn, "a_sales", f"SELECT {cols('a_sales')} FROM sales WHERE id {in_ids}", [sid])
        for name in SALE_CHILDREN:
            src = TABLES[name][0]
            ch.frames[name] = read_frame(
                conn, name, f"SELECT {cols(name)} FROM {src} WHERE sale_id {in_ids}", [sid])
    if ch.client_ids:
        ch.frames["a_clients"] = read_frame(
            conn, "a_clients", f"SELECT {cols('a_clients')} FROM clients WHERE id {in_ids}",
            [json.dumps(ch.client_ids)])
    if ch.interaction_ids:
        ch.frames["a_interactions"] = read_frame(
            conn, "a_interactions", f"SELECT {cols('a_interactions')} FROM interactions"
            f" WHERE id {in_ids}", [json.dumps(ch.interaction_ids)])
    for name in ch.small:
        ch.frames[name] = read_frame(conn, name, f"SELECT {cols(name)} FROM {TABLES[name][0]}",
                                     [])
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
    """(Re)compute the derived columns for ``sale_ids`` (None: every sale). For a few
    sales every scan below is filtered to their ids first (the log's rows of those
    sales, not the whole log), so the cost follows the size of the change."""
    if sale_ids is not None:
        if not sale_ids:
            return
        cur.register("_derive_ids", pl.DataFrame({"id": list(sale_ids)}, schema={"id": pl.Int64}))
    only = "" if sale_ids is None else " WHERE id IN (SELECT id FROM _derive_ids)"
    only_log = "" if sale_ids is None else " WHERE sale_id IN (SELECT id FROM _derive_ids)"
    try:
        derived = f"""SELECT s.id,
        (s.deleted_at IS NULL AND s.client_id NOT IN
            (SELECT id FROM a_clients WHERE deleted_at IS NOT NULL)) AS live,
        coalesce(max(t.sort) FILTER (WHERE t.is_lost = 0),
                 (SELECT min(sort) FROM a_statuses WHERE is_lost = 0)) AS top_sort,
        min(left(h."at", 10)) FILTER (WHERE t.is_invoiced = 1) AS invoiced_on
      FROM (SELECT id, deleted_at, client_id FROM a_sales{only}) s
      LEFT JOIN (SELECT sale_id, to_status_id AS status_id, "at" FROM a_status_log{only_log}
                 UNION ALL SELECT id, status_id, NULL FROM a_sales{only}) h ON h.sale_id = s.id
      LEFT JOIN a_statuses t ON t.id = h.status_id
      GROUP BY s.id, s.deleted_at, s.client_id"""
        if sale_ids is not None:  # a few rows: compute them first, then update by id
            cur.register("_derived", cur.execute(derived).pl())  # (4x faster than one
            derived = "SELECT * FROM _derived"                     # UPDATE … FROM (query))
        cur.execute(f"""UPDATE a_sales SET live = d.live, top_sort = d.top_sort,
    invoiced_on = d.invoiced_on FROM ({derived}) d WHERE a_sales.id = d.id""")
        for name in SALE_CHILDREN:
            cur.execute(f"""UPDATE {name} SET live = s.live, client_id = s.client_id,
    client_owner_id = s.client_owner_id, owner_id = s.owner_id
FROM (SELECT id, live, client_id, client_owner_id, owner_id FROM a_sales{only}) s
WHERE {name}.sale_id = s.id""")
    finally:
        if sale_ids is not None:
            cur.unregister("_derive_ids")
            with contextlib.suppress(duckdb.Error):
                cur.unregister("_derived")


def statuses_sig(cur: duckdb.DuckDBPyConnection) -> str:
    """The statuses' ids, order and flags as text: when it changes, derive all again."""
    rows = cur.execute("SELECT id, sort, is_invoiced, is_paid, is_lost FROM a_statuses"
                       " ORDER BY id").fetchall()
    return json.dumps(rows)


def apply(cur: duckdb.DuckDBPyConnection, ch: Changes) -> list[int]:
    """Apply ``ch`` inside the caller's DuckDB transaction: every changed sale,
    client and interaction is replaced whole (or removed, when SQLite no longer
    has it: hard deletes are logged too); changed reference tables are reloaded.
    Returns the sales whose derived columns must be computed again (the changed
    ones and those of changed clients, whose deletion hides their sales)."""
    ids = {"_sale_ids": ch.sale_ids, "_client_ids": ch.client_ids,
           "_int_ids": ch.interaction_ids}
    for view, values in ids.items():
        cur.register(view, pl.DataFrame({"id": values}, schema={"id": pl.Int64}))
    try:
        if ch.sale_ids:
            cur.execute("DELETE FROM a_sales WHERE id IN (SELECT id FROM _sale_ids)")
            for name in SALE_CHILDREN:
                cur.execute(f"DELETE FROM {name} WHERE sale_id IN (SELECT id FROM _sale_ids)")
        if ch.client_ids:
            cur.execute("DELETE FROM a_clients WHERE id IN (SELECT id FROM _client_ids)")
        if ch.interaction_ids:
            cur.execute("DELETE FROM a_interactions WHERE id IN (SELECT id FROM _int_ids)")
        for name in ch.small:
            cur.execute(f"DELETE FROM {name}")
        for name, frame in ch.frames.items():
            if frame.height:
                cur.register("_rows", frame)
                cur.execute(f"INSERT INTO {name} ({cols(name)}) SELECT {cols(name)} FROM _rows")
                cur.unregister("_rows")
        derive_ids = set(ch.sale_ids)
        if ch.client_ids:
            derive_ids |= {int(r[0]) for r in cur.execute(
                "SELECT id FROM a_sales WHERE client_id IN (SELECT id FROM _client_ids)"
            ).fetchall()}
    finally:
        for view in ids:
            cur.unregister(view)
    return sorted(derive_ids)


def set_meta(cur: duckdb.DuckDBPyConnection, values: dict[str, str]) -> None:
    """Store ``values`` in the copy's ``a_meta`` table."""
    for k, v in values.items():
        cur.execute("INSERT OR REPLACE INTO a_meta VALUES (?, ?)", [k, v])
