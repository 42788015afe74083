"""Soft delete of sales: delete, restore and the list of deleted sales."""

from __future__ import annotations

from typing import Any

from clientplus_core.sales import money
from clientplus_core.sales.common import visible
from clientplus_core.sales.writing import index_sale
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

# --- delete / restore -------------------------------------------------------------------


def delete(store: Store, actor: Actor, sale_id: int) -> None:
    """Soft-delete a sale (head and admin can restore it); it leaves lists and search."""
    require(actor, "sale.delete")
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        ts = now_iso()
        conn.execute("UPDATE sales SET deleted_at = ?, updated_at = ?, updated_by = ?,"
                     " version = version + 1 WHERE id = ?", (ts, ts, actor.id, sale_id))
        search.unindex(conn, "sale", sale_id)
        audit.record(conn, actor, "delete", "sale", sale_id, row["client_id"],
                     f"{row['number']} {row['title']}".strip())


def restore(store: Store, actor: Actor, sale_id: int) -> None:
    """Undo a soft delete (head and admin)."""
    require(actor, "sale.restore")
    with store.write() as conn:
        row = visible(conn, actor, sale_id, include_deleted=True)
        if row["deleted_at"] is None:
            return
        conn.execute("UPDATE sales SET deleted_at = NULL, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), sale_id))
        index_sale(conn, sale_id)
        audit.record(conn, actor, "restore", "sale", sale_id, row["client_id"],
                     f"{row['number']} {row['title']}".strip())


def list_deleted(store: Store, actor: Actor, limit: int = 500) -> list[dict[str, Any]]:
    """Soft-deleted sales of live clients, newest deletion first (head and admin)."""
    require(actor, "sale.restore")
    with store.read() as conn:
        return [dict(r) | {"total": money.from_kop(r["total_kop"])} for r in conn.execute(
            "SELECT s.id, s.number, s.title, s.date, s.total_kop, s.deleted_at, s.client_id,"
            " c.name AS client_name FROM sales s JOIN clients c ON c.id = s.client_id"
            " WHERE s.deleted_at IS NOT NULL AND c.deleted_at IS NULL"
            " ORDER BY s.deleted_at DESC LIMIT ?", (limit,))]
