"""The sales register's pieces: filter bar, totals, table, pager, Excel export and
the board (a column per status with counts, sums and «→ next stage»).

Filters keep their values for the session (``persist_state``), so coming back
from a card shows the same list; the same :class:`SaleFilter` drives the page,
the board and the export, so the file holds exactly what is filtered.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import astuple
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base import formats
from clientplus_core.base.errors import UserError
from clientplus_core.sales import SaleFilter, SalesPage, debt, statuses
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.clients import registry
from clientplus_ui.common import flash, lkey, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.sales.common import day, rub, sale_owners, status_label
from clientplus_ui.sales.status import next_button
from clientplus_ui.widgets import fmt_dt, show_error

PAGE_SIZE = 50
PAGE_KEY = "sreg.page"
SIG_KEY = "sreg.filter_sig"
XLSX_KEY = "sreg.xlsx"
CF_COLUMNS_KEY = "sreg.cf.shown"  # the sale custom fields shown as columns («Доп. поля»)
SORTS = {"date": ("Дата", "Date"), "number": ("Номер", "Number"), "total": ("Сумма", "Total"),
         "updated_at": ("Дата изменения", "Updated"),
         "expected_close": ("Ожидаемая дата", "Expected close")}
PAYMENTS = {"": ("Любая", "Any"), "unpaid": ("Не оплачены", "Unpaid"),
            "paid": ("Оплачены", "Paid"), "overdue": ("Просрочены", "Overdue")}
CLOSED = {"": ("Все", "All"), "open": ("В работе", "Open"), "closed": ("Закрытые", "Closed")}


def _labels(table: dict[Any, tuple[str, str]]) -> dict[Any, str]:
    """Option labels in the current language, fixed now: a select box's format
    function may be called later, outside this run."""
    return {k: tr(*v) for k, v in table.items()}


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else None


def filter_bar(store: Store, actor: Actor) -> SaleFilter:
    """Render the filters; return the filter they describe."""
    keep = {"persist_state": "session"}
    query = st.text_input(
        tr("Поиск", "Search"), key="sreg.query", live=True, type="search", **keep,
        placeholder=tr("Номер, название, клиент, товар в спецификации…",
                       "Number, title, client, a specification line…"))
    all_statuses = {s["id"]: s for s in statuses.list_statuses(store)}
    c1, c2, c3 = st.columns([3, 2, 2])
    # option labels are fixed here (not looked up in the language at call time)
    names = {i: status_label(s) for i, s in all_statuses.items()}
    chosen = c1.multiselect(tr("Статус", "Status"), list(names), key=lkey("sreg.status"),
                            format_func=lambda i: names.get(i, str(i)),
                            placeholder=tr("Все статусы", "All statuses"), **keep)
    owner = None
    if actor.sees_everything:
        owners = {0: tr("Все", "Anyone"), **sale_owners(store)}
        owner = c2.selectbox(tr("Ответственный", "Owner"), list(owners), key=lkey("sreg.owner"),
                             format_func=lambda i: owners.get(i, ""), **keep)
    payments = _labels(PAYMENTS)
    payment = c3.selectbox(tr("Оплата", "Payment"), list(payments), key=lkey("sreg.payment"),
                           format_func=payments.__getitem__, **keep)
    c4, c5, c6, c7, c8 = st.columns(5)
    date_from = c4.date_input(tr("Дата с", "Date from"), value=None, key="sreg.from",
                              format="DD.MM.YYYY", **keep)
    date_to = c5.date_input(tr("Дата по", "Date to"), value=None, key="sreg.to",
                            format="DD.MM.YYYY", **keep)
    closed_labels, sorts = _labels(CLOSED), _labels(SORTS)
    closed = c6.selectbox(tr("Этап", "Stage"), list(closed_labels), key=lkey("sreg.closed"),
                          format_func=closed_labels.__getitem__, **keep)
    sort = c7.selectbox(tr("Сортировка", "Sort by"), list(sorts), key=lkey("sreg.sort"),
                        format_func=sorts.__getitem__, **keep)
    orders = {True: tr("по убыванию ↓", "descending ↓"),
              False: tr("по возрастанию ↑", "ascending ↑")}
    desc = c8.selectbox(tr("Порядок", "Order"), list(orders), key=lkey("sreg.desc"),
                        format_func=orders.__getitem__, **keep)
    with st.expander(tr("Сумма от … до …", "Amount range")):
        a1, a2 = st.columns(2)
        amount_min = a1.text_input(tr("Сумма от", "Amount from"), key="sreg.min", **keep)
        amount_max = a2.text_input(tr("Сумма до", "Amount to"), key="sreg.max", **keep)
    f = SaleFilter(query=query or "", statuses=tuple(chosen), owner_id=owner or None,
                   date_from=_iso(date_from), date_to=_iso(date_to),
                   amount_min=(amount_min or "").strip() or None,
                   amount_max=(amount_max or "").strip() or None, payment=payment or None,
                   closed={"open": False, "closed": True}.get(closed or ""), sort=sort,
                   descending=bool(desc),
                   extra=registry.custom_filters(store, "sale", "sreg", CF_COLUMNS_KEY))
    registry.first_page_on_new_filter(astuple(f), SIG_KEY, PAGE_KEY)
    return f


def load_page(store: Store, actor: Actor, f: SaleFilter) -> SalesPage | None:
    """The requested page (clamped to the last page)."""
    return registry.clamped_page(lambda n: sales.list_sales(store, actor, f, page=n,
                                                            page_size=PAGE_SIZE), PAGE_KEY)


UNPAID_HELP = ("Сколько осталось оплатить по показанным продажам, кроме проигранных и"
               " отменённых, — в том числе по тем, где счёт ещё не выставлен.",
               "What is left to pay on the sales shown, except lost and cancelled ones,"
               " including those not invoiced yet.")
RECEIVABLE_HELP = ("Сколько клиенты должны по выставленным счетам: только продажи на статусе"
                   " «Счёт выставлен» и дальше. Это же число — «Дебиторская задолженность» на"
                   " дашборде и в отчёте «Дебиторка».",
                   "What clients owe on issued invoices: only sales at «Invoiced» or later."
                   " The same figure as the receivables on the dashboard and in the report.")


def sums(page: SalesPage) -> None:
    """The totals row of everything the filter matches: count, total, paid, the unpaid
    rest and the receivables (:mod:`clientplus_core.sales.debt`). Each figure takes
    its natural width and the row wraps, so no amount is ever cut off."""
    with st.container(horizontal=True, gap="large", key="sreg.sums"):
        st.metric(tr("Продаж", "Sales"), formats.number(page.total, lang()), width="content")
        st.metric(tr("Сумма", "Total"), rub(page.sums.get("total")), width="content")
        st.metric(tr("Оплачено", "Paid"), rub(page.sums.get("paid")), width="content")
        st.metric(tr(*debt.UNPAID), rub(page.sums.get("unpaid")), width="content",
                  help=tr(*UNPAID_HELP))
        st.metric(tr(*debt.RECEIVABLE), rub(page.sums.get("receivable")), width="content",
                  help=tr(*RECEIVABLE_HELP))


def table_rows(rows: list[dict[str, Any]], with_client: bool = True,
               custom: bool = False) -> list[dict[str, Any]]:
    """Register rows as the table shows them (plain text; money formatted by the core;
    ⚠ marks an overdue debt); ``custom`` adds the sale custom fields chosen in
    «Доп. поля» as columns."""
    return [{
        tr("Номер", "Number"): r["number"],
        tr("Дата", "Date"): day(r["date"]),
        **({tr("Клиент", "Client"): r["client_name"]} if with_client else {}),
        tr("Название", "Title"): r["title"] or "",
        tr("Статус", "Status"): tr(r["status_label"],
                                   r.get("status_label_en") or r["status_label"]),
        tr("Ответственный", "Owner"): r.get("owner_name") or "",
        tr("Сумма", "Total"): rub(r["total"], sign=False),
        tr("Не оплачено", "Unpaid"): ("⚠ " if r["is_overdue"] else "")
        + (rub(r["debt"], sign=False) if r["debt"] else ""),
        **(registry.custom_cells(r, CF_COLUMNS_KEY) if custom else {}),
    } for r in rows]


def table(rows: list[dict[str, Any]], key: str, with_client: bool = True,
          custom: bool | None = None) -> int | None:
    """Render the table; return the id of the sale the user clicked, if any. The
    register's own table (key ``sreg.*``) shows the columns chosen in «Доп. поля»."""
    view = table_rows(rows, with_client, key.startswith("sreg.") if custom is None else custom)
    widths = {tr("Номер", "Number"): 85, tr("Дата", "Date"): 80, tr("Клиент", "Client"): 170,
              tr("Название", "Title"): 140, tr("Статус", "Status"): 130,
              tr("Ответственный", "Owner"): 100, tr("Сумма", "Total"): 95,
              tr("Не оплачено", "Unpaid"): 105}
    right = (tr("Сумма", "Total"), tr("Не оплачено", "Unpaid"))
    event = st.dataframe(view, key=key, on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch", column_config={
                             name: st.column_config.TextColumn(
                                 width=w, alignment="right" if name in right else None)
                             for name, w in widths.items()})
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < len(rows):
        return int(rows[selected[0]]["id"])
    return None


def pager(page: SalesPage) -> None:
    registry.pager(page, PAGE_KEY)


def excel_download(store: Store, actor: Actor, f: SaleFilter, total: int) -> None:
    """«Подготовить Excel» builds the file for exactly this filter; then download."""
    registry.prepared_excel(astuple(f), total,
                            lambda: sales.export_sales_bytes(store, actor, f, fmt="xlsx"),
                            XLSX_KEY, "sales", "sreg")


def _nb(text: str) -> str:
    """Money that does not break across lines in a narrow column."""
    return text.replace(" ", "\u00a0")


def board(store: Store, actor: Actor, f: SaleFilter, per_row: int = 5) -> None:
    """A column per status: count and sum, the newest sales, «→» to the next stage."""
    try:
        columns = sales.board(store, actor, f, per_status=10)
    except UserError as exc:
        show_error(exc)
        return
    for start in range(0, len(columns), per_row):
        for col, c in zip(st.columns(per_row), columns[start:start + per_row], strict=False):
            with col.container(border=True):
                st.markdown(f"**{md_escape(status_label(c['status']))}**")
                st.caption(tr(f"{c['count']} шт. · {_nb(rub(c['total']))}",
                              f"{c['count']} · {_nb(rub(c['total']))}"))
                for r in c["rows"]:
                    with st.container(border=True, gap="small"):
                        st.page_link("pages/sale.py", label=md_escape(f"№ {r['number']}"),
                                     query_params={"id": str(r["id"])})
                        st.caption(md_escape(r["client_name"]) + " · " + _nb(rub(r["total"])))
                        next_button(store, actor, r["id"], f"sboard.next.{r['id']}",
                                    label=tr("Дальше", "Next"), kind="tertiary")
                if c["count"] > len(c["rows"]):
                    st.caption(tr(f"…и ещё {c['count'] - len(c['rows'])}",
                                  f"…and {c['count'] - len(c['rows'])} more"))


def deleted_section(store: Store, actor: Actor) -> None:
    """Removed sales with «Восстановить» (head and administrator)."""
    if not can(actor, "sale.restore"):
        return
    try:
        rows = sales.list_deleted(store, actor)
    except UserError as exc:
        show_error(exc)
        return
    if not rows:
        return
    with st.expander(tr(f"Удалённые продажи ({len(rows)})", f"Removed sales ({len(rows)})"),
                     icon=":material/delete:"):
        for r in rows:
            c1, c2 = st.columns([5, 1], vertical_alignment="center")
            c1.text(f"№ {r['number']} · {r['client_name']} · {r['title'] or ''} · "
                    f"{rub(r['total'])} · " + tr("удалена ", "removed ") + fmt_dt(r["deleted_at"]))
            if c2.button(tr("Восстановить", "Restore"), key=f"sreg.restore.{r['id']}",
                         icon=":material/restore_from_trash:"):
                try:
                    sales.restore(store, actor, r["id"])
                except UserError as exc:
                    show_error(exc)
                    return
                flash(tr(f"Продажа № {r['number']} восстановлена",
                         f"Sale No. {r['number']} restored"))
                st.rerun()
