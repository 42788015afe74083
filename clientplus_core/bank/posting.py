"""Recording a bank payment on sales: through the sales' own payment code
(:func:`clientplus_core.sales.payments.record_payment`), so the paid amount, the
overdue date, the status (fully paid → the first ``is_paid`` status; partly →
«Частично оплачено»), the status log and the audit trail follow exactly as for a
payment typed on the card; plus the allocation row and a line in the contact
history, both naming the statement."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from typing import Any

from clientplus_core.base import formats
from clientplus_core.sales import money
from clientplus_core.sales.common import visible
from clientplus_core.sales.payments import record_payment
from clientplus_core.store.db import now_iso
from clientplus_core.team.access import Actor


def document_text(bp: Mapping[str, Any] | sqlite3.Row) -> str:
    """«п/п № 123 от 03.02.2026»: the bank document as the sale's payment shows it."""
    return f"п/п № {bp['doc_number']} от {formats.day(bp['doc_date'])}"


def post(conn: sqlite3.Connection, actor: Actor, bp: Mapping[str, Any] | sqlite3.Row,
         allocations: Sequence[tuple[int, int]], statement: str, reason: str,
         mark: bool = True) -> list[int]:
    """Record the stored bank payment ``bp`` (a ``bank_payments`` row) on the sales
    of ``allocations`` ((sale id, kopecks), the caller checked the sum) inside the
    caller's transaction; mark it matched (unless ``mark`` is false: the caller
    stored it so). Returns the sale payments' ids."""
    ids: list[int] = []
    doc = document_text(bp)
    at = datetime.combine(date.fromisoformat(bp["paid_on"]), time(), UTC).isoformat()
    source = {"bank_statement": statement, "bank_payment_id": bp["id"]}
    client_id = None
    for sale_id, kop in allocations:
        row = visible(conn, actor, sale_id)
        client_id = row["client_id"]
        pid, _fresh, _suggested, _changed = record_payment(
            conn, actor, row, kop, bp["paid_on"], doc, bp["purpose"][:500],
            apply_suggestion=True, source=source, status_note=f"по выписке {statement}")
        ids.append(pid)
        ts = now_iso()
        conn.execute("INSERT INTO bank_allocations (bank_payment_id, sale_id, sale_payment_id,"
                     " amount_kop, created_at) VALUES (?,?,?,?,?)",
                     (bp["id"], sale_id, pid, kop, ts))
        conn.execute(
            "INSERT INTO interactions (client_id, sale_id, at, channel, subject, outcome,"
            " user_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (client_id, sale_id, at, "other",
             f"Оплата по выписке: {money.format_amount(money.from_kop(kop), ' ')} ₽"[:300],
             f"{doc}, выписка {statement}. {bp['payer_name']}. Назначение платежа:"
             f" {bp['purpose']}"[:5000], actor.id, ts, ts))
    if mark:
        conn.execute("UPDATE bank_payments SET state = 'matched',"
                     " client_id = coalesce(?, client_id), reason = ?, resolved_by = ?,"
                     " resolved_at = ?, version = version + 1"
                     " WHERE id = ?", (client_id, reason[:500], actor.id, now_iso(), bp["id"]))
    return ids
