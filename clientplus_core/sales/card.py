"""Reading a sale: the edit form's dict, the card with everything it shows, the
balance of payments and the status the payments suggest."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from clientplus_core.base.errors import NotFound
from clientplus_core.sales import catalogue, money, statuses
from clientplus_core.sales.common import RowLike, today, visible
from clientplus_core.sales.history import history_rows
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

VAT_MODE_LABELS = {"included": ("НДС в сумме", "VAT included"),
                   "on_top": ("НДС сверху", "VAT on top")}


# --- reading --------------------------------------------------------------------------


def _line_dicts(conn: sqlite3.Connection, sale_id: int,
                rates: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in conn.execute("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY pos, id",
                          (sale_id,)):
        d = dict(r)
        rate = rates.get(d["vat_code"], {})
        d["qty"] = Decimal(d["qty_milli"]) / 1000
        d["price"] = money.from_kop(d["price_kop"])
        d["discount"] = Decimal(d["discount_bp"]) / 100
        d["amount"] = money.from_kop(d["amount_kop"])
        d["vat"] = money.from_kop(d["vat_kop"])
        d["vat_rate"] = rate.get("rate")
        d["vat_label"] = rate.get("label", d["vat_code"])
        out.append(d)
    return out


def form_dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    """The sale ``row`` as the edit form needs it (``extra``, ``discount``, input ``lines``)."""
    d = dict(row)
    d["extra"] = json.loads(d.get("extra") or "{}")
    d["discount"] = Decimal(d["discount_bp"]) / 100
    d["lines"] = [{k: ln[k] for k in ("catalogue_id", "name", "sku", "unit", "qty", "price",
                                      "discount", "vat_code", "amount", "vat")}
                  for ln in _line_dicts(conn, row["id"], catalogue.rate_map(conn))]
    return d


def get(store: Store, actor: Actor, sale_id: int) -> dict[str, Any]:
    """The sale as the edit form needs it (fields, ``lines`` as input dicts, ``version``)."""
    require(actor, "sale.read")
    with store.read() as conn:
        return form_dict(conn, visible(conn, actor, sale_id))


def find_id(store: Store, actor: Actor, number: str) -> int:
    """The id of the visible sale with this number (or an id given as digits)."""
    require(actor, "sale.read")
    with store.read() as conn:
        row = conn.execute("SELECT id FROM sales WHERE number = ? AND deleted_at IS NULL",
                           (number.strip(),)).fetchone()
        if row is None and number.strip().isdigit():
            row = conn.execute("SELECT id FROM sales WHERE id = ? AND deleted_at IS NULL",
                               (int(number),)).fetchone()
        if row is None:
            raise NotFound(f"Продажа «{number}» не найдена")
        visible(conn, actor, row["id"])
        return int(row["id"])


def balance(sale: RowLike, plans: Sequence[Mapping[str, Any]],
            on: date) -> dict[str, Any]:
    """What is paid, left, planned and overdue on ``on`` for the sale and its plan."""
    total, paid = int(sale["total_kop"]), int(sale["paid_kop"])
    due = sum(int(p["amount_kop"]) for p in plans if p["date"] < on.isoformat())
    overdue = max(0, due - paid)
    return {"total": money.from_kop(total), "paid": money.from_kop(paid),
            "remaining": money.from_kop(max(0, total - paid)),
            "planned": money.from_kop(sum(int(p["amount_kop"]) for p in plans)),
            "overdue": money.from_kop(overdue), "overdue_from": sale["overdue_from"],
            "is_overdue": overdue > 0, "is_paid": total > 0 and paid >= total}


def _totals_dict(sale: RowLike, lines: Sequence[Mapping[str, Any]],
                 rates: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    by_code: dict[str, int] = {}
    for ln in lines:
        if ln["vat_rate"] is not None:
            by_code[ln["vat_code"]] = by_code.get(ln["vat_code"], 0) + int(ln["vat_kop"])
    vat_lines = [{"code": c, "label": rates[c]["label"], "rate": rates[c]["rate"],
                  "amount": money.from_kop(v)}
                 for c, v in sorted(by_code.items(), key=lambda kv: -(rates[kv[0]]["rate"] or 0))]
    total = money.from_kop(sale["total_kop"])
    vat_total = money.from_kop(sale["vat_kop"])
    return {"vat_mode": sale["vat_mode"], "subtotal": money.from_kop(sale["subtotal_kop"]),
            "vat_by_rate": vat_lines, "vat_total": vat_total, "total": total,
            "without_vat": total - vat_total, "no_vat": not vat_lines,
            "discount": Decimal(sale["discount_bp"]) / 100,
            "words": money.amount_in_words(total)}


def payment_rows(conn: sqlite3.Connection, sale_id: int, kind: str) -> list[dict[str, Any]]:
    """The sale's live payments of ``kind`` (``"plan"`` or ``"fact"``), by date."""
    out = []
    for r in conn.execute(
            "SELECT p.*, u.full_name AS created_by_name FROM sale_payments p"
            " LEFT JOIN users u ON u.id = p.created_by"
            " WHERE p.sale_id = ? AND p.kind = ? AND p.deleted_at IS NULL ORDER BY p.date, p.id",
            (sale_id, kind)):
        d = dict(r)
        d["amount"] = money.from_kop(d["amount_kop"])
        out.append(d)
    return out


def suggest_status(conn: sqlite3.Connection, sale: RowLike) -> dict[str, Any] | None:
    """The status the payments suggest: "paid" (the first active status flagged
    ``is_paid``) when fully paid, "partly paid" when paid in part; None when the
    current status already says as much (or the sale is lost)."""
    all_statuses = statuses.by_id(conn)
    current = all_statuses.get(sale["status_id"])
    if current is None or current["is_lost"]:
        return None
    total, paid = int(sale["total_kop"]), int(sale["paid_kop"])
    if total > 0 and paid >= total:
        if current["is_paid"]:
            return None
        return next((s for s in sorted(all_statuses.values(), key=lambda s: (s["sort"], s["id"]))
                     if s["is_paid"] and s["is_active"] and not s["is_lost"]), None)
    if paid > 0:
        partly = next((s for s in all_statuses.values()
                       if s["code"] == "partly_paid" and s["is_active"]), None)
        if partly is None or current["is_paid"] or current["sort"] >= partly["sort"]:
            return None
        return partly
    return None


def get_card(store: Store, actor: Actor, sale_id: int) -> dict[str, Any]:
    """Everything the sale card shows, in one read:

    the sale's fields (``number``, ``date``, ``title``, ``version`` …), ``client``
    (id, name, INN, KPP), ``contact``, ``owner``, ``status`` (with flags),
    ``lines`` (Decimal ``qty``/``price``/``discount``/``amount``/``vat``, ``vat_label``),
    ``totals`` (``subtotal``, ``vat_by_rate`` [{label, amount}], ``vat_total``, ``total``,
    ``without_vat``, ``no_vat``, ``words``), ``schedule`` (planned payments),
    ``payments`` (actual ones), ``balance`` (``paid``, ``remaining``, ``planned``,
    ``overdue``, ``is_overdue``), ``suggested_status``, ``status_log`` (from, to, who,
    when), ``contacts_history``, ``files``, ``links``, ``documents``.
    """
    require(actor, "sale.read")
    with store.read() as conn:
        row = visible(conn, actor, sale_id)
        rates = catalogue.rate_map(conn)
        st = statuses.by_id(conn)
        card = dict(row)
        card["extra"] = json.loads(card.get("extra") or "{}")
        card["discount"] = Decimal(card["discount_bp"]) / 100
        client = conn.execute("SELECT id, kind, name, full_name, inn, kpp, owner_id FROM clients"
                              " WHERE id = ?", (row["client_id"],)).fetchone()
        card["client"] = dict(client)
        contact = (conn.execute("SELECT id, name, post, phone, mobile, email FROM contacts"
                                " WHERE id = ?", (row["contact_id"],)).fetchone()
                   if row["contact_id"] else None)
        card["contact"] = dict(contact) if contact else None
        owner = (conn.execute("SELECT id, login, full_name, email FROM users WHERE id = ?",
                              (row["owner_id"],)).fetchone() if row["owner_id"] else None)
        card["owner"] = dict(owner) if owner else None
        card["status"] = st.get(row["status_id"])
        card["vat_mode_label"] = VAT_MODE_LABELS[row["vat_mode"]][0]
        card["lines"] = _line_dicts(conn, sale_id, rates)
        card["totals"] = _totals_dict(row, card["lines"], rates)
        card["schedule"] = payment_rows(conn, sale_id, "plan")
        card["payments"] = payment_rows(conn, sale_id, "fact")
        card["balance"] = balance(row, card["schedule"], today())
        card["suggested_status"] = suggest_status(conn, row)
        card["status_log"] = [dict(r) for r in conn.execute(
            "SELECT l.id, l.at, l.from_status_id, f.label AS from_label, l.to_status_id,"
            " t.label AS to_label, l.actor_id, u.full_name AS actor_name, u.login AS actor_login,"
            " l.note FROM sale_status_log l"
            " LEFT JOIN sale_statuses f ON f.id = l.from_status_id"
            " JOIN sale_statuses t ON t.id = l.to_status_id"
            " LEFT JOIN users u ON u.id = l.actor_id WHERE l.sale_id = ? ORDER BY l.id",
            (sale_id,))]
        card["contacts_history"] = history_rows(conn, "i.sale_id = ?", [sale_id], 200)
        card["files"] = [dict(r) for r in conn.execute(
            "SELECT f.id, f.name, f.size, f.mime, f.created_at, u.full_name AS uploaded_by_name"
            " FROM files f LEFT JOIN users u ON u.id = f.uploaded_by"
            " WHERE f.sale_id = ? AND f.deleted_at IS NULL ORDER BY f.id DESC", (sale_id,))]
        card["links"] = [dict(r) for r in conn.execute(
            "SELECT id, title, url, created_at FROM links WHERE sale_id = ?"
            " AND deleted_at IS NULL ORDER BY id", (sale_id,))]
        card["documents"] = [dict(r) for r in conn.execute(
            "SELECT d.id, d.kind, d.number, d.date, d.file_id, d.created_at, f.name AS file_name"
            " FROM documents d LEFT JOIN files f ON f.id = d.file_id WHERE d.sale_id = ?"
            " ORDER BY d.id DESC", (sale_id,))]
    return card
