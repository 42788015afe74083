"""What people do with a loaded statement: read the payments (a manager sees those
of their own and shared clients), and resolve the review list — confirm the
suggested sale or pick another, split one payment over several invoices, create
the client from the payer's requisites, or dismiss.

Loading and resolving are the head's and the administrator's (``bank.import``);
reading goes by the sales' own scope (``sale.read`` + the client's visibility).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from clientplus_core.bank.matching import Book
from clientplus_core.bank.posting import post
from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.sales import money
from clientplus_core.sales.common import amount_kop, visible
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require


@dataclass(frozen=True)
class _Pay:
    """A stored payment in the shape matching reads."""

    payer_inn: str
    payer_kpp: str
    payer_account: str
    purpose: str
    amount_kop: int


def _pay(row: sqlite3.Row | dict[str, Any]) -> _Pay:
    return _Pay(row["payer_inn"], row["payer_kpp"], row["payer_account"], row["purpose"],
                int(row["amount_kop"]))


def _prefixes(store: Store) -> list[str]:
    return [str(settings.get(store, "sale_number_prefix") or "")]


_SELECT = ("SELECT b.*, s.file_name, c.name AS client_name FROM bank_payments b"
           " JOIN bank_statements s ON s.id = b.statement_id"
           " LEFT JOIN clients c ON c.id = b.client_id")


def _allocations(conn: sqlite3.Connection, ids: Sequence[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for k in range(0, len(ids), 900):
        chunk = list(ids[k:k + 900])
        for r in conn.execute(
                "SELECT a.bank_payment_id, a.sale_id, a.amount_kop, s.number"
                " FROM bank_allocations a JOIN sales s ON s.id = a.sale_id"
                f" WHERE a.bank_payment_id IN ({','.join('?' * len(chunk))}) ORDER BY a.id", chunk):
            out.setdefault(r[0], []).append({"sale_id": r[1], "sale_number": r[3],
                                             "amount": money.from_kop(r[2])})
    return out


def _dicts(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict[str, Any]]:
    allocs = _allocations(conn, [r["id"] for r in rows])
    return [dict(r) | {"amount": money.from_kop(r["amount_kop"]),
                       "allocations": allocs.get(r["id"], [])} for r in rows]


# --- reading ------------------------------------------------------------------------------


def list_statements(store: Store, actor: Actor, limit: int = 100) -> list[dict[str, Any]]:
    """The loaded statements, newest first, with their totals."""
    require(actor, "bank.import")
    with store.read() as conn:
        return [dict(r) | {"received": money.from_kop(r["received_kop"])} for r in conn.execute(
            "SELECT b.*, u.full_name AS loaded_by_name FROM bank_statements b"
            " LEFT JOIN users u ON u.id = b.loaded_by ORDER BY b.id DESC LIMIT ?", (limit,))]


def list_payments(store: Store, actor: Actor, *, state: str | None = None,
                  statement_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Stored payments, newest first (``state``: matched, review, ignored, dismissed).
    A manager sees only payments of clients they may see."""
    require(actor, "sale.read")
    where: list[str] = ["1 = 1"]
    args: list[object] = []
    if state:
        where.append("b.state = ?")
        args.append(state)
    if statement_id is not None:
        where.append("b.statement_id = ?")
        args.append(statement_id)
    if not actor.sees_everything:
        scope, scope_args = client_scope(actor, "c")
        where.append(f"c.id IS NOT NULL AND c.deleted_at IS NULL AND {scope}")
        args += scope_args
    with store.read() as conn:
        rows = conn.execute(f"{_SELECT} WHERE {' AND '.join(where)} ORDER BY b.id DESC LIMIT ?",
                            [*args, limit]).fetchall()
        return _dicts(conn, rows)


def review_items(store: Store, actor: Actor, statement_id: int | None = None,
                 limit: int = 200) -> list[dict[str, Any]]:
    """The payments waiting for review, oldest first, each with its candidates ranked
    afresh (``candidates``: sale_id, sale_number, client_name, remaining_kop, reason)
    and the reason it is waiting."""
    require(actor, "bank.import")
    cond, args = ("AND b.statement_id = ?", [statement_id]) if statement_id else ("", [])
    prefixes = _prefixes(store)
    with store.read() as conn:
        rows = conn.execute(f"{_SELECT} WHERE b.state = 'review' {cond} ORDER BY b.id LIMIT ?",
                            [*args, limit]).fetchall()
        pays = [_pay(r) for r in rows]
        book = Book(conn, pays, prefixes, [r["client_id"] for r in rows if r["client_id"]])
        out = _dicts(conn, rows)
        for d, p in zip(out, pays, strict=True):
            m = book.match(p, d["paid_on"], d["client_id"], rank=True)
            d["candidates"] = [c.as_dict() for c in m.candidates]
            d["suggested"] = [{"sale_id": s, "amount_kop": k} for s, k in m.allocations]
        return out


# --- resolving ----------------------------------------------------------------------------


def _waiting(conn: sqlite3.Connection, payment_id: int) -> sqlite3.Row:
    row = conn.execute(f"{_SELECT} WHERE b.id = ?", (payment_id,)).fetchone()
    if row is None:
        raise NotFound(f"Платёж выписки №{payment_id} не найден")
    if row["state"] != "review":
        raise ValidationError({"state": f"Платёж № {row['doc_number']} уже разобран"
                                        f" ({row['state']})"})
    return row


def _parts(conn: sqlite3.Connection, actor: Actor, row: sqlite3.Row,
           parts: Sequence[tuple[int, object]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    errors: dict[str, str] = {}
    for i, (sale_id, amount) in enumerate(parts, start=1):
        try:
            kop = amount_kop(amount, f"Сумма {i}")
        except ValueError as exc:
            errors[f"amount.{i}"] = str(exc)
            continue
        sale = visible(conn, actor, int(sale_id))
        left = sale["total_kop"] - sale["paid_kop"]
        if kop > left:
            errors[f"amount.{i}"] = (f"Сумма {i}: {money.format_amount(money.from_kop(kop), ' ')}"
                                     f" больше остатка по продаже {sale['number']}"
                                     f" ({money.format_amount(money.from_kop(max(left, 0)), ' ')})")
        out.append((int(sale_id), kop))
    if len({s for s, _ in out}) < len(out):
        errors["sale_id"] = "Продажа: каждая продажа — один раз"
    total = sum(k for _, k in out)
    if not errors and total != row["amount_kop"]:
        errors["amount"] = (f"Сумма частей {money.format_amount(money.from_kop(total), ' ')} не"
                            " равна сумме платежа"
                            f" {money.format_amount(money.from_kop(row['amount_kop']), ' ')}")
    if errors:
        raise ValidationError(errors)
    return out


def split(store: Store, actor: Actor, payment_id: int,
          parts: Sequence[tuple[int, object]]) -> dict[str, Any]:
    """Record the payment over several sales: ``parts`` = (sale id, amount); the
    amounts must add up to the payment and each fit the sale's debt."""
    require(actor, "bank.import")
    with store.write() as conn:
        row = _waiting(conn, payment_id)
        allocations = _parts(conn, actor, row, parts)
        post(conn, actor, row, allocations, row["file_name"],
             "разнесён вручную" if len(allocations) == 1 else "разделён вручную")
        return _dicts(conn, [conn.execute(f"{_SELECT} WHERE b.id = ?",
                                          (payment_id,)).fetchone()])[0]


def confirm(store: Store, actor: Actor, payment_id: int,
            sale_id: int | None = None) -> dict[str, Any]:
    """Record the whole payment on ``sale_id`` (default: the best candidate)."""
    require(actor, "bank.import")
    if sale_id is None:
        items = {d["id"]: d for d in review_items(store, actor)}
        item = items.get(payment_id)
        if item is None:
            with store.read() as conn:
                _waiting(conn, payment_id)
            raise NotFound(f"Платёж выписки №{payment_id} не найден")
        if item["suggested"]:
            return split(store, actor, payment_id, [(s["sale_id"], money.from_kop(s["amount_kop"]))
                                                    for s in item["suggested"]])
        if not item["candidates"]:
            raise ValidationError({"sale_id": "Продажа: подходящих продаж нет — выберите"
                                              " продажу или создайте клиента"})
        sale_id = int(item["candidates"][0]["sale_id"])
    with store.read() as conn:
        amount = money.from_kop(_waiting(conn, payment_id)["amount_kop"])
    return split(store, actor, payment_id, [(sale_id, amount)])


def dismiss(store: Store, actor: Actor, payment_id: int, reason: str = "") -> dict[str, Any]:
    """Leave the payment out (not a client's payment, a refund …), with a reason."""
    require(actor, "bank.import")
    with store.write() as conn:
        row = _waiting(conn, payment_id)
        text = " ".join(str(reason or "").split())[:500] or "отклонён вручную"
        conn.execute("UPDATE bank_payments SET state = 'dismissed', reason = ?, resolved_by = ?,"
                     " resolved_at = ?, version = version + 1 WHERE id = ?",
                     (text, actor.id, now_iso(), payment_id))
        audit.record(conn, actor, "bank_dismiss", "bank_payment", payment_id, row["client_id"],
                     f"Платёж № {row['doc_number']} от {row['doc_date']} из выписки"
                     f" {row['file_name']} отклонён: {text}")
        return _dicts(conn, [conn.execute(f"{_SELECT} WHERE b.id = ?",
                                          (payment_id,)).fetchone()])[0]


def payer_card(row: sqlite3.Row | dict[str, Any]) -> dict[str, Any]:
    """A client card from the payer's requisites in the statement."""
    name = row["payer_name"] or f"Плательщик ИНН {row['payer_inn']}"
    return {"name": name, "kind": clients.infer_kind(name, row["payer_inn"]),
            "inn": row["payer_inn"], "kpp": row["payer_kpp"], "account": row["payer_account"],
            "bik": row["payer_bik"], "bank_name": row["payer_bank"],
            "source": "Банковская выписка"}


def create_client(store: Store, actor: Actor, payment_id: int, *,
                  lookup_client: Any = None) -> dict[str, Any]:
    """Create the client from the payer's requisites (name, INN, KPP, account, BIK,
    bank), the rest filled from the INN lookup when a token is set (or
    ``lookup_client`` given); the payment stays in review, now with its client.
    Returns the client (``lookup_note`` says what the lookup did)."""
    require(actor, "bank.import")
    with store.read() as conn:
        row = _waiting(conn, payment_id)
    data = payer_card(row)
    note = ""
    if row["payer_inn"]:
        from clientplus_core.requisites import lookup

        try:
            found = lookup.find_party(store, actor, row["payer_inn"], client=lookup_client)
            fields = (found.fields_for_branch(row["payer_kpp"]) if row["payer_kpp"]
                      else found.fields)
            data |= {k: v for k, v in fields.items() if v and not data.get(k)}
            note = "реквизиты дополнены по ИНН из ЕГРЮЛ/ЕГРИП"
        except UserError as exc:
            note = f"реквизиты по ИНН не дополнены: {exc}"
    with store.write() as conn:
        row = _waiting(conn, payment_id)
        client = clients.create(store, actor, data, conn=conn)
        conn.execute("UPDATE bank_payments SET client_id = ?, reason = ?, version = version + 1"
                     " WHERE id = ?", (client["id"], "клиент создан по реквизитам плательщика",
                                       payment_id))
        audit.record(conn, actor, "bank_client", "bank_payment", payment_id, client["id"],
                     f"Клиент «{client['name']}» создан по платежу № {row['doc_number']}"
                     f" из выписки {row['file_name']}")
    return client | {"lookup_note": note}
