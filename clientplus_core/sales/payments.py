"""The payment schedule and actual payments of a sale, and the paid / planned /
overdue columns kept on the sale."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records import settings
from clientplus_core.sales import money, statuses
from clientplus_core.sales.card import balance, payment_rows, suggest_status
from clientplus_core.sales.common import (
    RowLike,
    amount_kop,
    apply_status,
    parse_date,
    today,
    visible,
)
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

# --- payments ---------------------------------------------------------------------------


def overdue_from(plans: Sequence[tuple[str, int]], paid_kop: int) -> str | None:
    """The due date of the first planned payment not covered by ``paid_kop``
    (plans as (date, kopecks), any order); None when payments cover the plan."""
    cumulative = 0
    for day, amount in sorted(plans):
        cumulative += amount
        if cumulative > paid_kop:
            return day
    return None


def recalc_payments(conn: sqlite3.Connection, sale_id: int) -> None:
    """Recompute the sale's ``paid_kop``, ``planned_kop`` and ``overdue_from`` columns."""
    plans = [(r[0], int(r[1])) for r in conn.execute(
        "SELECT date, amount_kop FROM sale_payments WHERE sale_id = ? AND kind = 'plan'"
        " AND deleted_at IS NULL", (sale_id,))]
    paid = int(conn.execute("SELECT coalesce(sum(amount_kop), 0) FROM sale_payments WHERE"
                            " sale_id = ? AND kind = 'fact' AND deleted_at IS NULL",
                            (sale_id,)).fetchone()[0])
    conn.execute("UPDATE sales SET paid_kop = ?, planned_kop = ?, overdue_from = ? WHERE id = ?",
                 (paid, sum(a for _, a in plans), overdue_from(plans, paid), sale_id))


def _payment_input(amount: object, day: object, label: str,
                   default_today: bool) -> tuple[int, str]:
    errors: dict[str, str] = {}
    kop = 0
    iso = ""
    try:
        kop = amount_kop(amount, "Сумма")
    except ValueError as exc:
        errors["amount"] = str(exc)
    try:
        iso = parse_date(day or (today() if default_today else None), label,
                         required=True) or ""
    except ValueError as exc:
        errors["date"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return kop, iso


def add_planned_payment(store: Store, actor: Actor, sale_id: int, amount: object, date: object,
                        note: str = "") -> dict[str, Any]:
    """Add a planned payment (date, amount, note). The plan may not exceed the sale's
    total."""
    require(actor, "sale.update")
    kop, day = _payment_input(amount, date, "Дата платежа", False)
    try:
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"note": f"Примечание: {exc}"}) from None
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        if row["planned_kop"] + kop > row["total_kop"]:
            left = money.format_amount(money.from_kop(row["total_kop"] - row["planned_kop"]), " ")
            raise ValidationError({"amount": f"Сумма: план платежей больше суммы продажи"
                                             f" (можно запланировать ещё {left})"})
        pid = _insert_payment(conn, actor, row, "plan", kop, day, "", note)
        audit.record(conn, actor, "payment_plan", "sale", sale_id, row["client_id"],
                     f"{row['number']}: план {money.format_amount(money.from_kop(kop), ' ')}"
                     f" на {day}", {"payment_id": pid, "amount": str(money.from_kop(kop)),
                                    "date": day})
        return _payment_row(conn, pid)


def _insert_payment(conn: sqlite3.Connection, actor: Actor, row: RowLike, kind: str,
                    kop: int, day: str, document: str, note: str) -> int:
    cur = conn.execute("INSERT INTO sale_payments (sale_id, kind, date, amount_kop, document,"
                       " note, created_by, created_at) VALUES (?,?,?,?,?,?,?,?)",
                       (row["id"], kind, day, kop, document, note, actor.id, now_iso()))
    recalc_payments(conn, row["id"])
    return int(cur.lastrowid or 0)


def _payment_row(conn: sqlite3.Connection, pid: int) -> dict[str, Any]:
    d = dict(conn.execute("SELECT * FROM sale_payments WHERE id = ?", (pid,)).fetchone())
    d["amount"] = money.from_kop(d["amount_kop"])
    return d


def add_payment(store: Store, actor: Actor, sale_id: int, amount: object, date: object = None,
                document: str = "", note: str = "",
                apply_suggestion: bool | None = None) -> dict[str, Any]:
    """Record a payment received (date, amount, payment document). A payment larger
    than the debt is refused. Returns ``{"payment", "balance", "suggested_status",
    "status_changed"}``: when the sale becomes partly or fully paid the matching
    status is suggested, and applied when ``apply_suggestion`` (default: the
    ``sale_auto_status`` setting)."""
    require(actor, "sale.update")
    kop, day = _payment_input(amount, date, "Дата оплаты", True)
    try:
        document = clean(document, 200)
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"document": f"Документ: {exc}"}) from None
    if day > (today() + timedelta(days=1)).isoformat():
        raise ValidationError({"date": "Дата оплаты: оплата не может быть в будущем"})
    if apply_suggestion is None:
        apply_suggestion = bool(settings.get(store, "sale_auto_status"))
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        pid, fresh, suggestion, changed = record_payment(conn, actor, row, kop, day, document,
                                                         note, apply_suggestion)
        plans = payment_rows(conn, sale_id, "plan")
        return {"payment": _payment_row(conn, pid), "balance": balance(fresh, plans, today()),
                "suggested_status": suggestion, "status_changed": changed}


def record_payment(conn: sqlite3.Connection, actor: Actor, row: RowLike, kop: int, day: str,
                   document: str = "", note: str = "", apply_suggestion: bool = False,
                   source: Mapping[str, Any] | None = None, status_note: str = "по оплате"
                   ) -> tuple[int, sqlite3.Row, dict[str, Any] | None, bool]:
    """Record a payment received on the (visible) sale ``row`` inside the caller's
    transaction: refused on a lost sale or above the debt; the audit row (with
    ``source``, e.g. the bank statement it came from); the status the payments
    suggest, applied when ``apply_suggestion`` (logged with ``status_note``).
    Returns ``(payment id, the sale's fresh row, the suggested status, whether it was
    applied)``."""
    st = statuses.by_id(conn).get(row["status_id"])
    if st and st["is_lost"]:
        raise ValidationError({"amount": "Продажа проиграна или отменена — оплату не принять"})
    debt = row["total_kop"] - row["paid_kop"]
    if kop > debt:
        raise ValidationError({"amount": "Сумма: платёж "
                               f"{money.format_amount(money.from_kop(kop), ' ')} больше долга "
                               f"{money.format_amount(money.from_kop(max(debt, 0)), ' ')}"})
    pid = _insert_payment(conn, actor, row, "fact", kop, day, document, note)
    audit.record(conn, actor, "payment", "sale", row["id"], row["client_id"],
                 f"{row['number']}: оплата {money.format_amount(money.from_kop(kop), ' ')}"
                 f" от {day}", {"payment_id": pid, "amount": str(money.from_kop(kop)),
                                "date": day, "document": document, **(source or {})})
    fresh = conn.execute("SELECT * FROM sales WHERE id = ?", (row["id"],)).fetchone()
    suggestion = suggest_status(conn, fresh)
    changed = False
    if suggestion and apply_suggestion:
        apply_status(conn, actor, fresh, suggestion, "", status_note)
        changed = True
    return pid, fresh, suggestion, changed


def delete_payment(store: Store, actor: Actor, payment_id: int) -> None:
    """Remove a planned or actual payment (kept in the table, marked deleted)."""
    require(actor, "sale.update")
    with store.write() as conn:
        p = conn.execute("SELECT * FROM sale_payments WHERE id = ? AND deleted_at IS NULL",
                         (payment_id,)).fetchone()
        if p is None:
            raise NotFound(f"Платёж №{payment_id} не найден")
        row = visible(conn, actor, p["sale_id"])
        conn.execute("UPDATE sale_payments SET deleted_at = ? WHERE id = ?", (now_iso(),
                                                                              payment_id))
        recalc_payments(conn, row["id"])
        audit.record(conn, actor, "payment_delete", "sale", row["id"], row["client_id"],
                     f"{row['number']}: удалён платёж"
                     f" {money.format_amount(money.from_kop(p['amount_kop']), ' ')} от {p['date']}",
                     {"payment_id": payment_id, "kind": p["kind"],
                      "amount": str(money.from_kop(p["amount_kop"])), "date": p["date"]})
