"""The payments from the loaded statements (a manager sees those of their clients),
filtered by outcome and — for the head and the administrator — by statement, with
the table as Excel built on click; and the list of loaded statements."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from clientplus_core import bank
from clientplus_core.base.errors import UserError
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.bank.common import label, lazy_xlsx
from clientplus_ui.common import lkey
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_day, fmt_dt, fmt_money, show_error

LIMIT = 500
# the outcomes a stored payment may have (a duplicate is never stored); a stored
# «matched» payment may have been recorded by hand from the review list, so it is
# named without «automatically» here (its reason says how)
SHOWN_STATES = {"matched": ("Разнесён", "Recorded"), "review": bank.STATES["review"],
                "ignored": bank.STATES["ignored"], "dismissed": bank.STATES["dismissed"]}


def section(store: Store, actor: Actor) -> None:
    """Filters, the payments table with its Excel, the statements (head / admin)."""
    head = can(actor, "bank.import")
    c1, c2 = st.columns(2)
    states = {"": tr("Все", "All")} | {k: label(SHOWN_STATES, k) for k in SHOWN_STATES}
    state = c1.selectbox(tr("Итог", "Outcome"), list(states), format_func=states.__getitem__,
                         key=lkey("bank.res.state"))
    statement_id: int | None = None
    statements: list[dict[str, Any]] = []
    try:
        if head:
            statements = bank.list_statements(store, actor)
            names = {0: tr("Все выписки", "All statements")} | {
                int(s["id"]): _statement_name(s) for s in statements}
            statement_id = c2.selectbox(tr("Выписка", "Statement"), list(names),
                                        format_func=names.__getitem__,
                                        key=lkey("bank.res.statement")) or None
        rows = bank.list_payments(store, actor, state=state or None,
                                  statement_id=statement_id, limit=LIMIT)
    except UserError as exc:
        show_error(exc)
        return
    payments_table(rows)
    if head and statements:
        with st.expander(tr(f"Загруженные выписки ({len(statements)})",
                            f"Loaded statements ({len(statements)})")):
            statements_table(statements)


def _statement_name(s: Mapping[str, Any]) -> str:
    return (f"{s['file_name']} · {fmt_day(s['date_from'])}–{fmt_day(s['date_to'])} · "
            + tr("загружена ", "loaded ") + fmt_dt(s["loaded_at"]))


def _columns() -> list[str]:
    return [tr("Поступило", "Received on"), tr("№ п/п", "Doc. no."), tr("Сумма", "Amount"),
            tr("Плательщик", "Payer"), tr("ИНН плательщика", "Payer INN"),
            tr("Клиент", "Client"), tr("Продажи", "Sales"), tr("Итог", "Outcome"),
            tr("Причина", "Reason"), tr("Выписка", "Statement")]


def _cells(p: Mapping[str, Any]) -> list[Any]:
    """One payment's cells (the amount as a number: text in the table, money in Excel)."""
    sales = ", ".join(f"{a['sale_number']} ({fmt_money(a['amount'])})"
                      for a in p["allocations"])
    return [fmt_day(p["paid_on"] or p["doc_date"]), p["doc_number"], p["amount"],
            p["payer_name"], p["payer_inn"], p["client_name"] or "", sales,
            label(SHOWN_STATES, p["state"]), p["reason"], p["file_name"]]


def payments_table(rows: Sequence[Mapping[str, Any]]) -> None:
    """The payments as a table, and «Скачать Excel» (built when pressed)."""
    if not rows:
        st.info(tr("Платежей нет: загрузите выписку или измените отбор.",
                   "No payments: load a statement or change the filter."))
        return
    headers = _columns()
    cells = [_cells(p) for p in rows]
    amount = headers[2]
    view = [dict(zip(headers, c, strict=True)) | {amount: fmt_money(c[2])} for c in cells]
    st.dataframe(view, hide_index=True, width="stretch", key="bank.payments",
                 column_config={amount: st.column_config.TextColumn(alignment="right")})
    more = tr(f" (последние {LIMIT})", f" (the latest {LIMIT})") if len(rows) >= LIMIT else ""
    st.caption(tr(f"Платежей: {len(rows)}{more}", f"Payments: {len(rows)}{more}"))
    fmts: list[str | None] = [None] * len(headers)
    fmts[2] = "money"
    totals: list[object] = [""] * len(headers)
    totals[0] = tr("Итого", "Total")
    totals[2] = sum(c[2] for c in cells)
    lazy_xlsx(tr("Скачать Excel", "Download Excel"),
              lambda: rows_to_xlsx(headers, cells, sheet=tr("Платежи", "Payments"),
                                   formats=fmts, totals=totals),
              f"bank-payments-{dt.date.today().isoformat()}.xlsx", "bank.payments_xlsx")


def statements_table(statements: Sequence[Mapping[str, Any]]) -> None:
    """The loaded statements, newest first, with their totals."""
    st.dataframe([{
        tr("Файл", "File"): s["file_name"],
        tr("Период", "Period"): f"{fmt_day(s['date_from'])}–{fmt_day(s['date_to'])}",
        tr("Загружена", "Loaded"): fmt_dt(s["loaded_at"]),
        tr("Кем", "By"): s["loaded_by_name"] or "",
        tr("Документов", "Documents"): s["documents"],
        tr("Поступило", "Received"): fmt_money(s["received"]),
        tr("Разнесено", "Matched"): s["matched"],
        tr("На разборе", "For review"): s["review"],
        tr("Не учитываются", "Ignored"): s["ignored"],
        tr("Повторы", "Duplicates"): s["duplicates"]} for s in statements],
        hide_index=True, width="stretch", key="bank.statements")
