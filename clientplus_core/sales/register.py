"""The sales register: its filter, one page with the sums, every matching row, the
export and the board; the query planner that maps filters to covering indexes."""

from __future__ import annotations

import gc
import io
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.base.textnorm import like_contains
from clientplus_core.records import custom_fields
from clientplus_core.records.custom_fields import extra_conditions
from clientplus_core.records.paging import Page
from clientplus_core.sales import debt, money, statuses
from clientplus_core.sales.common import parse_date, today
from clientplus_core.search import index as search
from clientplus_core.store import versioned
from clientplus_core.store.db import Store
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

PAYMENT_STATES = ("paid", "unpaid", "overdue")


# --- the register -----------------------------------------------------------------------


@dataclass
class SaleFilter:
    """The register's filters; the same object drives the page, the board and the export.

    ``payment``: ``"paid"`` (fully paid), ``"unpaid"`` (something left to pay) or
    ``"overdue"`` (a planned payment is past due and not covered). Amounts are the
    total to pay, in roubles. ``closed``: True closed only, False open only.
    """

    query: str = ""
    statuses: Sequence[int] = ()
    owner_id: int | None = None
    client_id: int | None = None
    date_from: str | date | None = None
    date_to: str | date | None = None
    amount_min: Decimal | int | str | None = None
    amount_max: Decimal | int | str | None = None
    payment: str | None = None
    closed: bool | None = None
    sort: str = "date"
    descending: bool = True
    # sale custom fields (issue 6): ((key, value), …) or ((key, op, value), …), ops as
    # in :func:`clients.extra_conditions` (eq, any, min, max, contains)
    extra: tuple[tuple[Any, ...], ...] = ()


SORTABLE = {"date": "s.date", "number": "s.number", "total": "s.total_kop",
            "updated_at": "s.updated_at", "expected_close": "s.expected_close"}


@dataclass
class SalesPage(Page):
    """A page of the register plus the sums of everything the filter matches."""

    sums: dict[str, Decimal] = field(default_factory=dict)


_LIVE_CLIENT = "s.client_id NOT IN (SELECT id FROM clients WHERE deleted_at IS NOT NULL)"


def scope_arms(actor: Actor, deleted_clients: bool = True) -> list[tuple[str, str, list[object]]]:
    """The sales ``actor`` may see, as one or two named SQL conditions whose results do
    not overlap (a query runs once per condition and adds up): ``"all"`` for head,
    admin and viewer; for a manager ``"own"`` (sales of the clients they own: the
    indexed ``client_owner_id``) and ``"shared"`` (clients shared with them). Sales of
    deleted clients are left out (``deleted_clients=False``: there are none, so the
    per-row check is skipped)."""
    live = _LIVE_CLIENT if deleted_clients else "1"
    if actor.sees_everything:
        return [("all", live, [])]
    return [("own", f"s.client_owner_id = ? AND {live}", [actor.id]),
            ("shared", "s.client_id IN (SELECT client_id FROM client_shares WHERE user_id = ?)"
             f" AND s.client_owner_id IS NOT ? AND {live}", [actor.id, actor.id])]


@dataclass
class _Arm:
    """One scope arm of a register query: the condition, its parameters and the
    indexes that answer the count (``count_from``) and the page (``page_from``)."""

    where: str
    args: list[object]
    count_from: str
    page_from: str
    by_ids: bool = False
    one_pass: bool = False


def _sources(f: SaleFilter, arm: str, by_ids: bool) -> tuple[str, str]:
    """``FROM`` clauses naming the covering index for the count and for the page.

    SQLite has no statistics for a freshly generated table and would guess; the
    register's filters map to its indexes by a fixed rule instead: the leading
    columns are the equality filters (client's owner for a manager, sale owner,
    one status), then the date, so a page in date order reads only its rows."""
    if arm == "shared" or f.client_id:
        return ("sales s INDEXED BY ix_sales_client",) * 2
    if by_ids:
        # a text search: driven by the matching ids, each looked up in the narrow
        # id-leading covering index (its pages are few and read in order)
        return ("sales s INDEXED BY ix_sales_reg_id",) * 2
    if f.payment == "overdue":
        return ("sales s INDEXED BY ix_sales_reg_overdue",) * 2
    one_status = len(f.statuses) == 1 and f.closed is None
    statuses = bool(f.statuses) or f.closed is not None
    if arm == "own":
        plain, by_status = "ix_sales_reg_scope", "ix_sales_reg_scope_status"
    elif f.owner_id:
        plain, by_status = "ix_sales_reg_owner", "ix_sales_reg_owner_status"
    else:
        plain, by_status = "ix_sales_reg_date", "ix_sales_reg_status"
    count_ix = by_status if statuses else plain
    page_ix = by_status if one_status or (statuses and f.sort != "date") else plain
    return f"sales s INDEXED BY {count_ix}", f"sales s INDEXED BY {page_ix}"


def _where(conn: sqlite3.Connection, actor: Actor, f: SaleFilter) -> list[_Arm]:
    """The filter as SQL conditions on ``sales s``, one per scope arm."""
    where: list[str] = ["s.deleted_at IS NULL"]
    args: list[object] = []
    if f.statuses:
        ids = [int(s) for s in f.statuses]
        where.append(f"s.status_id IN ({','.join('?' * len(ids))})")
        args += ids
    if f.owner_id:
        where.append("s.owner_id = ?")
        args.append(int(f.owner_id))
    if f.client_id:
        where.append("s.client_id = ?")
        args.append(int(f.client_id))
    for day, op, label in ((f.date_from, ">=", "Период с"), (f.date_to, "<=", "Период по")):
        if day:
            try:
                where.append(f"s.date {op} ?")
                args.append(parse_date(day, label))
            except ValueError as exc:
                raise ValidationError({"date": str(exc)}) from None
    bounds: dict[str, int] = {}
    for value, key in ((f.amount_min, "amount_min"), (f.amount_max, "amount_max")):
        if value not in (None, ""):
            try:
                bounds[key] = money.to_kop(money.parse_decimal(value, what="Сумма"))
            except ValueError as exc:
                raise ValidationError({key: str(exc)}) from None
    if len(bounds) == 2:  # one BETWEEN is one comparison less per row than two
        where.append("s.total_kop BETWEEN ? AND ?")
        args += [bounds["amount_min"], bounds["amount_max"]]
    elif bounds:
        where.append("s.total_kop >= ?" if "amount_min" in bounds else "s.total_kop <= ?")
        args += list(bounds.values())
    if f.payment:
        if f.payment == "paid":
            where.append("s.total_kop > 0 AND s.paid_kop >= s.total_kop")
        elif f.payment == "unpaid":
            where.append("s.paid_kop < s.total_kop")
        elif f.payment == "overdue":
            where.append("s.overdue_from < ?")
            args.append(today().isoformat())
        else:
            raise ValidationError({"payment": "Оплата: paid, unpaid или overdue"})
    if f.closed is not None:
        # "IN" either way, so a status-leading index can seek each status
        where.append("s.status_id IN (SELECT id FROM sale_statuses WHERE is_closed = ?)")
        args.append(1 if f.closed else 0)
    if f.extra:
        # custom fields: json_extract on the row the index led to (only when asked for:
        # without such a filter the register stays on its covering indexes)
        extra_where, extra_args = extra_conditions(conn, "sale", "s", f.extra)
        where += extra_where
        args += extra_args
    terms = search.normalise_query(f.query)
    if terms:
        match = search.fts_query(terms)
        if match:
            # the sale's own entry (number, title, client, lines) or the text of its files;
            # entries are told apart by their rowid range (reading the entity column
            # would fetch every matching row's content: 5x slower)
            (sale_lo, sale_hi), (file_lo, file_hi) = map(search.rowid_range, ("sale", "file"))
            # kept inside SQL: SQLite collects the ids itself (bringing tens of thousands
            # into Python and back costs more than the full-text lookup)
            where.append(
                "s.id IN (SELECT rowid - ? FROM search_index WHERE search_index MATCH ?"
                " AND rowid > ? AND rowid < ? UNION ALL SELECT f.sale_id FROM files f WHERE"
                " f.id IN (SELECT rowid - ? FROM search_index WHERE search_index MATCH ?"
                " AND rowid > ? AND rowid < ?) AND f.sale_id IS NOT NULL"
                " AND f.deleted_at IS NULL)")
            args += [sale_lo, match, sale_lo, sale_hi, file_lo, match, file_lo, file_hi]
        else:
            like = like_contains(f.query.strip())
            ids = [r[0] for r in _plain(conn).execute(
                "SELECT id FROM sales WHERE (number LIKE ? ESCAPE '\\' OR title LIKE ? ESCAPE '\\')"
                " AND deleted_at IS NULL", (like, like))]
            where.append("s.id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(sorted(ids)))
    common = " AND ".join(where)
    # the partial index ix_clients_deleted answers this at once
    deleted = conn.execute("SELECT 1 FROM clients WHERE deleted_at IS NOT NULL LIMIT 1"
                           ).fetchone() is not None
    arms = scope_arms(actor, deleted)
    if terms:
        # driven by the matching ids through the id index, whatever the scope: the
        # scope arms (which exist to pick an index each) become one condition, so the
        # text is looked up once; one pass (sorted in Python) when another filter
        # leaves few of the matches, else a count and a page
        scope = " OR ".join(f"({cond})" for _name, cond, _a in arms)
        one_pass = len(where) > 2
        return [_Arm(f"{common} AND ({scope})", [*args, *(x for a in arms for x in a[2])],
                     *_sources(f, "all", True), True, one_pass)]
    return [_Arm(f"{common} AND {cond}", [*args, *arm_args], *_sources(f, name, False))
            for name, cond, arm_args in arms]


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor returning plain tuples: building a ``sqlite3.Row`` per row costs more
    than the query itself when tens of thousands of ids come back."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur


def _unindexed(arms: list[_Arm]) -> list[_Arm]:
    return [_Arm(a.where, a.args, "sales s", "sales s", a.by_ids, a.one_pass) for a in arms]


def _fallback(fn: Any) -> Any:
    """Retry a register query without naming indexes if one is missing (a demo load
    in progress drops them for speed): slower, never wrong."""
    def run(conn: sqlite3.Connection, arms: list[_Arm], *args: Any) -> Any:
        try:
            return fn(conn, arms, *args)
        except sqlite3.OperationalError as exc:
            if "no such index" not in str(exc):
                raise
            return fn(conn, _unindexed(arms), *args)
    return run


@_fallback
def _count_sums(conn: sqlite3.Connection, arms: list[_Arm]) -> tuple[int, ...]:
    """(count, Σ total, Σ paid, Σ unpaid, Σ receivable) of the sales matching ``arms``
    (the last two as :mod:`.debt` defines them)."""
    unpaid, receivable = debt.unpaid_sql(conn), debt.receivable_sql(conn)
    sql = " UNION ALL ".join(
        f"SELECT count(*) AS n, coalesce(sum(s.total_kop), 0) AS t,"
        f" coalesce(sum(s.paid_kop), 0) AS p, coalesce(sum({unpaid}), 0) AS u,"
        f" coalesce(sum({receivable}), 0) AS r FROM {a.count_from} WHERE {a.where}"
        for a in arms)
    row = conn.execute(f"SELECT sum(n), sum(t), sum(p), sum(u), sum(r) FROM ({sql})",
                       [x for a in arms for x in a.args]).fetchone()
    return tuple(int(v or 0) for v in row)


def _kept_count_sums(store: Store, conn: sqlite3.Connection, arms: list[_Arm]
                     ) -> tuple[int, ...]:
    """:func:`_count_sums`, kept while the sales are unchanged (the register asks it
    on every run, a scan of up to a million rows). Not for a text search: the files
    it also reads are not in the change log."""
    if any(a.by_ids for a in arms):
        return _count_sums(conn, arms)
    question = ("sales.count_sums", tuple((a.where, tuple(a.args), a.count_from)
                                          for a in arms))
    return versioned.kept(conn, store.db_path, question, lambda: _count_sums(conn, arms))


@_fallback
def _matched_page(conn: sqlite3.Connection, arms: list[_Arm], col: str, descending: bool,
                  limit: int, offset: int) -> tuple[tuple[int, ...], list[int]]:
    """For a text search (a bounded set of matching ids): the count, the sums and one
    page in a single pass over the matches, sorted here, instead of reading them
    twice (once to count, once to order)."""
    unpaid, receivable = debt.unpaid_sql(conn), debt.receivable_sql(conn)
    sql = " UNION ALL ".join(f"SELECT {col}, s.id, s.total_kop, s.paid_kop, {unpaid},"
                             f" {receivable} FROM {a.page_from} WHERE {a.where}" for a in arms)
    # tens of thousands of small tuples, no reference cycles: a collection of the
    # whole heap triggered halfway would cost more than the query (seen as p95 spikes)
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _plain(conn).execute(sql, [x for a in arms for x in a.args]).fetchall()
        # SQLite's order: NULL first ascending, last descending; ties by id the same way
        found.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, r[1]),
                   reverse=descending)
    finally:
        if collecting:
            gc.enable()
    sums = (len(found), *(sum(r[i] for r in found) for i in range(2, 6)))
    return sums, [r[1] for r in found[offset:offset + limit]]


@_fallback
def _ids(conn: sqlite3.Connection, arms: list[_Arm], col: str,
         descending: bool, limit: int | None = None, offset: int = 0) -> list[int]:
    """Sale ids in register order; with two arms SQLite merges the two ordered index
    scans (a compound SELECT with ORDER BY), so a page still reads only its rows."""
    d = " DESC" if descending else ""
    args = [x for a in arms for x in a.args]
    page = ""
    if limit is not None:
        page = " LIMIT ? OFFSET ?"
        args += [limit, offset]
    if len(arms) == 1:
        a = arms[0]
        sql = f"SELECT s.id FROM {a.page_from} WHERE {a.where} ORDER BY {col}{d}, s.id{d}{page}"
    else:
        sql = " UNION ALL ".join(f"SELECT s.id AS id, {col} AS k FROM {a.page_from}"
                                 f" WHERE {a.where}" for a in arms) + f" ORDER BY k{d}, id{d}{page}"
    return [r[0] for r in conn.execute(sql, args)]


_LIST_COLUMNS = (
    "s.id, s.number, s.date, s.client_id, c.name AS client_name, s.contact_id, s.title,"
    " s.status_id, st.label AS status_label, st.label_en AS status_label_en,"
    " st.code AS status_code, st.is_closed, st.is_lost,"
    " s.owner_id, u.full_name AS owner_name, s.expected_close, s.source, s.vat_mode,"
    " s.subtotal_kop, s.vat_kop, s.total_kop, s.paid_kop, s.overdue_from, s.updated_at,"
    " s.version, s.extra")


def _list_row(r: sqlite3.Row, on: str) -> dict[str, Any]:
    d = dict(r)
    d["total"] = money.from_kop(d["total_kop"])
    d["paid"] = money.from_kop(d["paid_kop"])
    d["debt"] = money.from_kop(debt.owed_kop(d["total_kop"], d["paid_kop"], d["is_lost"]))
    d["is_overdue"] = bool(d["overdue_from"] and d["overdue_from"] < on)
    try:
        extra = json.loads(d.get("extra") or "{}")
    except ValueError:
        extra = {}
    d["extra"] = extra if isinstance(extra, dict) else {}
    return d


def _rows_by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[dict[str, Any]]:
    on = today().isoformat()
    by_id = {r["id"]: r for r in conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM sales s JOIN clients c ON c.id = s.client_id"
        " JOIN sale_statuses st ON st.id = s.status_id LEFT JOIN users u ON u.id = s.owner_id"
        f" WHERE s.id IN ({','.join('?' * len(ids)) or 'NULL'})", ids)}
    return [_list_row(by_id[i], on) for i in ids if i in by_id]


def list_sales(store: Store, actor: Actor, f: SaleFilter | None = None, page: int = 1,
               page_size: int = 50) -> SalesPage:
    """One page of the register, filtered and sorted, with the count and the sums
    (total, paid, unpaid — also under its old key ``debt`` — and receivable, as
    :mod:`.debt` defines them) of everything the filter matches (the totals row)."""
    require(actor, "sale.read")
    f = f or SaleFilter()
    col = SORTABLE.get(f.sort, SORTABLE["date"])
    page = max(1, int(page))
    with store.read() as conn:
        arms = _where(conn, actor, f)
        offset = (page - 1) * page_size
        if arms[0].one_pass:
            (n, total, paid, unpaid, receivable), ids = _matched_page(
                conn, arms, col, f.descending, page_size, offset)
        else:
            n, total, paid, unpaid, receivable = _kept_count_sums(store, conn, arms)
            ids = _ids(conn, arms, col, f.descending, page_size, offset)
        rows = _rows_by_ids(conn, ids)
    sums = {"total": money.from_kop(total), "paid": money.from_kop(paid),
            "debt": money.from_kop(unpaid), "unpaid": money.from_kop(unpaid),
            "receivable": money.from_kop(receivable)}
    return SalesPage(rows, int(n), page, page_size, sums)


def iter_sales(store: Store, actor: Actor, f: SaleFilter | None = None,
               batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every sale matching the filter, in register order (for the export)."""
    require(actor, "sale.export")
    f = f or SaleFilter()
    col = SORTABLE.get(f.sort, SORTABLE["date"])
    with store.read() as conn:
        ids = _ids(conn, _where(conn, actor, f), col, f.descending)
        for i in range(0, len(ids), batch):
            yield from _rows_by_ids(conn, ids[i:i + batch])


EXPORT_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("Номер", "number", 14), ("Дата", "date", 11), ("Клиент", "client_name", 36),
    ("Название", "title", 36), ("Статус", "status_label", 22),
    ("Ответственный", "owner_name", 24), ("Сумма", "total", 14), ("В т.ч. НДС", "vat", 12),
    ("Оплачено", "paid", 14), ("Долг", "debt", 14), ("Просрочено", "is_overdue", 11),
    ("Ожидаемая дата", "expected_close", 14), ("Источник", "source", 18))


def extra_cell(fd: custom_fields.FieldDef, value: Any) -> object:
    """A custom field's value as an export cell: a number stays a number, a date
    becomes a date cell, the rest the text the card shows."""
    if value is None or value == "" or value == []:
        return None
    if fd.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if fd.type == "date":
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            pass
    return custom_fields.display(fd, value)


def _export_rows(store: Store, actor: Actor, f: SaleFilter,
                 custom: Sequence[custom_fields.FieldDef] = ()) -> Iterator[list[object]]:
    for r in iter_sales(store, actor, f):
        r["vat"] = money.from_kop(r["vat_kop"])
        r["date"] = date.fromisoformat(r["date"])
        r["expected_close"] = date.fromisoformat(r["expected_close"]) if r["expected_close"] \
            else None
        yield [*(r[key] for _h, key, _w in EXPORT_COLUMNS),
               *(extra_cell(fd, r["extra"].get(fd.key)) for fd in custom)]


def export_sales(store: Store, actor: Actor, f: SaleFilter | None, out: Any,
                 fmt: str = "xlsx") -> int:
    """Write the sales the filter shows to ``out`` (a path or a binary stream) as .xlsx
    or .csv (texts never become formulas); returns the number of sales. A path is
    written through a temporary file, so a failed export leaves nothing behind."""

    from clientplus_core.clients import export

    require(actor, "sale.export")
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in export.FORMATS:
        raise UserError(f"Формат выгрузки «{fmt}» не поддерживается: .xlsx или .csv")
    f = f or SaleFilter()
    # every active sale custom field, one column each after the standard ones
    custom = custom_fields.list_fields(store, "sale")
    headers = [*(h for h, _k, _w in EXPORT_COLUMNS), *(fd.label_ru for fd in custom)]
    widths = [*(w for _h, _k, w in EXPORT_COLUMNS),
              *(float(min(max(len(fd.label_ru) + 3, 12), 40)) for fd in custom)]
    rows = _export_rows(store, actor, f, custom)

    def write(stream: Any) -> int:
        if fmt == "xlsx":
            return export.write_xlsx(stream, headers, rows, widths, "Продажи")
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            return export.rows_to_csv(text, headers, rows)
        finally:
            text.flush()
            text.detach()

    count = export.write_output(out, write)
    with store.write() as conn:
        audit.record(conn, actor, "export", "sale", summary=f"Выгрузка продаж ({fmt}): {count}",
                     changes={"rows": count, "format": fmt, "statuses": list(f.statuses),
                              "date_from": str(f.date_from or ""),
                              "date_to": str(f.date_to or "")})
    return count


def export_sales_bytes(store: Store, actor: Actor, f: SaleFilter | None,
                       fmt: str = "xlsx") -> bytes:
    """:func:`export_sales` into memory, for a download button."""
    buf = io.BytesIO()
    export_sales(store, actor, f, buf, fmt)
    return buf.getvalue()


def board(store: Store, actor: Actor, f: SaleFilter | None = None,
          per_status: int = 20) -> list[dict[str, Any]]:
    """The board: one column per active status (in order) with its count, sum and
    the newest ``per_status`` sales; ``f.statuses`` is ignored."""
    require(actor, "sale.read")
    f = f or SaleFilter()
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        for st in statuses.by_id(conn).values():
            if not st["is_active"]:
                continue
            sf = SaleFilter(**{**f.__dict__, "statuses": [st["id"]]})
            arms = _where(conn, actor, sf)
            n, total, *_ = _count_sums(conn, arms)
            ids = _ids(conn, arms, "s.date", True, per_status)
            out.append({"status": st, "count": int(n), "total": money.from_kop(total),
                        "rows": _rows_by_ids(conn, ids)})
    out.sort(key=lambda c: (c["status"]["sort"], c["status"]["id"]))
    return out
