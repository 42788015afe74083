"""Writing a sale: create, update (optimistic locking), the status, numbering and
the search index; the defaults of an empty sale form."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records import settings
from clientplus_core.records.conflicts import conflict
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales import catalogue, money, statuses
from clientplus_core.sales.card import form_dict
from clientplus_core.sales.common import apply_status, today, visible
from clientplus_core.sales.lines import normalise
from clientplus_core.sales.payments import recalc_payments
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

_SALE_COLUMNS = ("number", "date", "client_id", "contact_id", "owner_id", "title", "source",
                 "expected_close", "vat_mode", "discount_bp", "notes", "extra")


# --- writing ----------------------------------------------------------------------------


def index_sale(conn: sqlite3.Connection, sale_id: int) -> None:
    """(Re)index a sale for search: number and title, client, specification lines."""
    row = conn.execute("SELECT s.id, s.number, s.title, s.client_id, s.source, s.notes,"
                       " s.deleted_at, c.name AS client_name FROM sales s"
                       " JOIN clients c ON c.id = s.client_id WHERE s.id = ?",
                       (sale_id,)).fetchone()
    if row is None or row["deleted_at"] is not None:
        search.unindex(conn, "sale", sale_id)
        return
    lines = [f"{r['name']} {r['sku']}".strip() for r in conn.execute(
        "SELECT name, sku FROM sale_lines WHERE sale_id = ? ORDER BY pos", (sale_id,))]
    title, body = search_entry(row["number"], row["title"], row["client_name"], lines,
                               row["source"], row["notes"])
    search.index_row(conn, "sale", sale_id, row["client_id"], title, body,
                     hidden=[number_digits(row["number"])])


def search_entry(number: str, title: str, client_name: str, line_names: Sequence[str],
                 source: str = "", notes: str = "") -> tuple[str, list[str]]:
    """The (title, body) a sale is indexed with (shared with the bulk demo loader)."""
    return (f"{number} {title}".strip(),
            [client_name, "\n".join(line_names), source, (notes or "")[:2000]])


def number_digits(number: str) -> str:
    """The digits of a sale number: search reads a typed ``2026-0001`` as digits (like a
    phone), so they are indexed as a hidden token."""
    return "".join(ch for ch in number if ch.isdigit())


def reindex_all(conn: sqlite3.Connection) -> int:
    """Index every live sale (used by maintenance.reindex.rebuild)."""
    n = 0
    for (sid,) in conn.execute("SELECT id FROM sales WHERE deleted_at IS NULL").fetchall():
        index_sale(conn, sid)
        n += 1
    return n


def _allocate_number(conn: sqlite3.Connection, store: Store, sale_date: str,
                     prefix: str | None) -> str:
    year = int(sale_date[:4])
    if prefix is None or prefix == "":
        prefix = str(settings.get(store, "sale_number_prefix") or "")
    row = conn.execute("SELECT last_no FROM sale_counters WHERE year = ?", (year,)).fetchone()
    seq = (row["last_no"] if row else 0) + 1
    while True:
        number = f"{prefix}{year}-{seq:04d}"
        if conn.execute("SELECT 1 FROM sales WHERE number = ?", (number,)).fetchone() is None:
            break
        seq += 1
    conn.execute("INSERT INTO sale_counters (year, last_no) VALUES (?, ?) ON CONFLICT(year)"
                 " DO UPDATE SET last_no = excluded.last_no", (year, seq))
    return number


def _write_lines(conn: sqlite3.Connection, sale_id: int, lines: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM sale_lines WHERE sale_id = ?", (sale_id,))
    conn.executemany(
        "INSERT INTO sale_lines (sale_id, pos, catalogue_id, name, sku, unit, qty_milli,"
        " price_kop, discount_bp, vat_code, amount_kop, vat_kop) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(sale_id, ln["pos"], ln["catalogue_id"], ln["name"], ln["sku"], ln["unit"],
          ln["qty_milli"], ln["price_kop"], ln["discount_bp"], ln["vat_code"], ln["amount_kop"],
          ln["vat_kop"]) for ln in lines])


def _totals_columns(totals: money.Totals) -> dict[str, int]:
    return {"subtotal_kop": money.to_kop(totals.subtotal),
            "vat_kop": money.to_kop(totals.vat_total), "total_kop": money.to_kop(totals.total)}


def _line_summary(lines: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{ln['name']}: {money.format_qty(Decimal(ln['qty_milli']) / 1000)} × "
            f"{money.format_amount(money.from_kop(ln['price_kop']), ' ')}"
            + (f" −{Decimal(ln['discount_bp']) / 100}%" if ln["discount_bp"] else "")
            + f" НДС {ln['vat_code']}" for ln in lines]


def _first_status(conn: sqlite3.Connection) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM sale_statuses WHERE is_active = 1 AND is_lost = 0"
                       " ORDER BY sort, id LIMIT 1").fetchone()
    if row is None:
        raise UserError("Нет ни одного рабочего статуса продаж — проверьте настройки")
    return dict(row)


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create a sale (with its lines) in the first status; returns :func:`get`'s dict."""
    require(actor, "sale.create")
    with store.write() as conn:
        values, lines, totals = normalise(conn, store, actor, data, None)
        if values["number"]:
            if conn.execute("SELECT 1 FROM sales WHERE number = ?",
                            (values["number"],)).fetchone():
                raise ValidationError({"number": f"Номер «{values['number']}» уже занят"})
            number = values["number"]
        else:
            number = _allocate_number(conn, store, values["date"], values["prefix"] or None)
        status = _first_status(conn)
        if data.get("status_id"):
            status = statuses.resolve(conn, int(data["status_id"]))
        ts = now_iso()
        row = {k: values[k] for k in _SALE_COLUMNS if k != "number"} | {
            "number": number, "extra": json.dumps(values["extra"], ensure_ascii=False),
            "client_owner_id": values["client_owner_id"], "status_id": status["id"],
            "status_at": ts, **_totals_columns(totals),
            "created_by": actor.id, "updated_by": actor.id, "created_at": ts, "updated_at": ts,
            "version": 1}
        cur = conn.execute(f"INSERT INTO sales ({', '.join(row)}) VALUES"
                           f" ({', '.join('?' * len(row))})", list(row.values()))
        sale_id = int(cur.lastrowid or 0)
        _write_lines(conn, sale_id, lines)
        conn.execute("INSERT INTO sale_status_log (sale_id, from_status_id, to_status_id,"
                     " actor_id, at) VALUES (?,?,?,?,?)", (sale_id, None, status["id"],
                                                            actor.id, ts))
        index_sale(conn, sale_id)
        audit.record(conn, actor, "create", "sale", sale_id, values["client_id"],
                     f"{number} {values['title']}".strip(),
                     {"total": str(totals.total), "lines": _line_summary(lines)})
        return form_dict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                            (sale_id,)).fetchone())


def update(store: Store, actor: Actor, sale_id: int, data: Mapping[str, Any], version: int,
           base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Save the card as edited from ``version``; ConflictError (who, when, what
    changed) if someone saved first. ``lines`` in ``data`` replaces the specification;
    without it the stored lines are kept (and re-totalled if the discount, VAT mode
    or date changed)."""
    require(actor, "sale.update")
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        if row["version"] != version:
            raise conflict(conn, row, base, "sale")
        before = form_dict(conn, row)
        merged_in = dict(data)
        if "lines" not in merged_in:
            merged_in["lines"] = [
                {"catalogue_id": ln["catalogue_id"], "name": ln["name"], "sku": ln["sku"],
                 "unit": ln["unit"], "qty": ln["qty"], "price": ln["price"],
                 "discount": ln["discount"], "vat_code": ln["vat_code"]}
                for ln in before["lines"]]
        values, lines, totals = normalise(conn, store, actor, merged_in, before)
        if values["client_id"] != row["client_id"]:
            raise ValidationError({"client_id": "Клиент: продажу нельзя перенести к другому"
                                                " клиенту — создайте новую"})
        number = values["number"] or row["number"]
        if number != row["number"] and conn.execute(
                "SELECT 1 FROM sales WHERE number = ? AND id <> ?", (number, sale_id)).fetchone():
            raise ValidationError({"number": f"Номер «{number}» уже занят"})
        cols = _totals_columns(totals)
        if cols["total_kop"] < row["paid_kop"]:
            raise ValidationError({"lines": "Спецификация: сумма продажи "
                                   f"{money.format_amount(totals.total, ' ')} меньше уже"
                                   " оплаченной "
                                   f"{money.format_amount(money.from_kop(row['paid_kop']), ' ')}"})
        if cols["total_kop"] < row["planned_kop"]:
            raise ValidationError({"lines": "Спецификация: сумма продажи меньше запланированных"
                                   " платежей — сначала измените график"})
        new = {k: values[k] for k in _SALE_COLUMNS if k != "number"} | {"number": number}
        after_lines = _line_summary(lines)
        before_lines = _line_summary([
            {"name": ln["name"], "qty_milli": int(ln["qty"] * 1000),
             "price_kop": money.to_kop(ln["price"]), "discount_bp": int(ln["discount"] * 100),
             "vat_code": ln["vat_code"]} for ln in before["lines"]])
        changes = audit.diff({k: before[k] for k in new}, new)
        if before_lines != after_lines:
            changes["lines"] = [before_lines, after_lines]
        if cols["total_kop"] != row["total_kop"]:
            changes["total"] = [str(money.from_kop(row["total_kop"])), str(totals.total)]
        if not changes:
            return before
        sets = new | cols | {"extra": json.dumps(values["extra"], ensure_ascii=False),
                             "updated_at": now_iso(), "updated_by": actor.id,
                             "version": version + 1}
        cur = conn.execute(f"UPDATE sales SET {', '.join(f'{k} = ?' for k in sets)}"
                           " WHERE id = ? AND version = ?", [*sets.values(), sale_id, version])
        if cur.rowcount != 1:
            raise conflict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                               (sale_id,)).fetchone(), base, "sale")
        _write_lines(conn, sale_id, lines)
        recalc_payments(conn, sale_id)
        index_sale(conn, sale_id)
        audit.record(conn, actor, "update", "sale", sale_id, row["client_id"],
                     f"{number} {values['title']}".strip(), changes)
        return form_dict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                            (sale_id,)).fetchone())


def set_status(store: Store, actor: Actor, sale_id: int, status: int | str, *,
               reason: str = "", note: str = "") -> dict[str, Any]:
    """Move a sale to ``status`` (id, code or label); logged with who and when.
    A "lost" status needs a ``reason``. Returns the new status."""
    require(actor, "sale.update")
    errors: dict[str, str] = {}
    try:
        reason = clean(reason, 500)
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"reason": f"Причина: {exc}"}) from None
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        target = statuses.resolve(conn, status)
        if not target["is_active"]:
            errors["status"] = f"Статус «{target['label']}» отключён"
        if target["is_lost"] and not reason:
            errors["reason"] = "Причина: укажите, почему продажа проиграна или отменена"
        if errors:
            raise ValidationError(errors)
        if target["id"] != row["status_id"]:
            apply_status(conn, actor, row, target, reason, note)
        return target


def next_status(store: Store, actor: Actor, sale_id: int) -> dict[str, Any] | None:
    """The next active, non-lost status after the sale's current one (board "→")."""
    require(actor, "sale.read")
    with store.read() as conn:
        row = visible(conn, actor, sale_id)
        ordered = [s for s in statuses.by_id(conn).values() if s["is_active"] and not s["is_lost"]]
        ordered.sort(key=lambda s: (s["sort"], s["id"]))
        ids = [s["id"] for s in ordered]
        if row["status_id"] not in ids:
            return None
        i = ids.index(row["status_id"])
        return ordered[i + 1] if i + 1 < len(ordered) else None


def new_sale_defaults(store: Store, actor: Actor, client_id: int | None = None) -> dict[str, Any]:
    """Defaults for an empty sale form: today's date, the standard VAT code for it,
    the VAT rates allowed, the owner and the first status."""
    from clientplus_core.sales import company

    tax = company.get(store)["tax_system"]
    day = today()
    owner = actor.id
    if client_id and actor.sees_everything:
        with store.read() as conn:
            row = check_visible(conn, actor, client_id)
            owner = row["owner_id"] or actor.id
    with store.read() as conn:
        first = _first_status(conn)
    return {"date": day.isoformat(), "vat_mode": "included", "discount": Decimal(0),
            "vat_code": catalogue.default_vat_code(day, tax), "owner_id": owner,
            "client_id": client_id, "status": first, "tax_system": tax,
            "vat_rates": catalogue.vat_rates(store, day, tax)}
