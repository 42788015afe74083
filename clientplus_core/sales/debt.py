"""The two numbers of money still owed, defined once for every page.

* **Не оплачено по продажам** (unpaid on sales, :data:`UNPAID`): for each sale not
  at a lost / cancelled status, what is left to pay — ``total − paid``, never below
  zero (an overpaid sale does not lower another one's debt) — summed. It counts
  sales that were never invoiced too: the money the pipeline still expects. The
  sales register's totals row shows it for the sales its filter matches.
* **Дебиторская задолженность по выставленным счетам** (receivables on issued
  invoices, :data:`RECEIVABLE`): the same, only for sales at an invoiced status
  (``is_invoiced``) that is not lost — money the client owes under an invoice. The
  dashboard, the «Дебиторка» report and the register (second figure) show it.

:func:`owed_kop` is the per-sale rule; :func:`owed_sql`, :func:`unpaid_sql` and
:func:`receivable_sql` are the same rules as SQL (SQLite and DuckDB alike), so the
register and the analytics compute the same figure.
"""

from __future__ import annotations

import sqlite3

UNPAID = ("Не оплачено по продажам", "Unpaid on sales")
RECEIVABLE = ("Дебиторская задолженность по выставленным счетам",
              "Receivables on issued invoices")
# the same, where a short label must do (a dashboard tile); its tooltip says the rest
RECEIVABLE_SHORT = ("Дебиторская задолженность", "Receivables")
# the statuses a receivable is at, as a condition on the status table's row ``t``
RECEIVABLE_STATUS = "{t}.is_invoiced = 1 AND {t}.is_lost = 0"


def owed_kop(total_kop: int, paid_kop: int, is_lost: bool = False) -> int:
    """What is left to pay on one sale, in kopecks: ``total − paid``, never below zero;
    nothing for a lost / cancelled sale."""
    if is_lost:
        return 0
    return max(0, int(total_kop or 0) - int(paid_kop or 0))


def owed_sql(alias: str = "s") -> str:
    """SQL: what is left to pay on the sale ``alias`` (kopecks, never below zero)."""
    return (f"(CASE WHEN {alias}.total_kop > {alias}.paid_kop"
            f" THEN {alias}.total_kop - {alias}.paid_kop ELSE 0 END)")


def _in(alias: str, ids: list[int]) -> str:
    return f"{alias}.status_id IN ({','.join(str(int(i)) for i in ids) or 'NULL'})"


def status_ids(conn: sqlite3.Connection) -> tuple[list[int], list[int]]:
    """(lost status ids, receivable status ids) of the sale status table."""
    rows = conn.execute("SELECT id, is_invoiced, is_lost FROM sale_statuses").fetchall()
    lost = [int(r[0]) for r in rows if r[2]]
    receivable = [int(r[0]) for r in rows if r[1] and not r[2]]
    return lost, receivable


def unpaid_sql(conn: sqlite3.Connection, alias: str = "s") -> str:
    """SQL: :data:`UNPAID` of one sale row ``alias`` (sum it over the rows)."""
    lost, _ = status_ids(conn)
    return f"(CASE WHEN {_in(alias, lost)} THEN 0 ELSE {owed_sql(alias)} END)"


def receivable_sql(conn: sqlite3.Connection, alias: str = "s") -> str:
    """SQL: :data:`RECEIVABLE` of one sale row ``alias`` (sum it over the rows)."""
    _, receivable = status_ids(conn)
    return f"(CASE WHEN {_in(alias, receivable)} THEN {owed_sql(alias)} ELSE 0 END)"
