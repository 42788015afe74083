"""The client registry's pieces: filter bar, table, pager, Excel download.

Filter widgets keep their values for the whole session (``persist_state``), so
coming back from a card shows the same list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import astuple
from typing import Any, TypeVar

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.clients.fields import CLIENT_KINDS
from clientplus_core.records import custom_fields as cf
from clientplus_core.records.paging import Page
from clientplus_core.records.validation import format_phone
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from clientplus_ui.common import kind_label, lkey, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_dt, show_error, xlsx_download

PAGE_SIZE = 50
PageT = TypeVar("PageT", bound=Page)
PAGE_KEY = "reg.page"
SIG_KEY = "reg.filter_sig"
XLSX_KEY = "reg.xlsx"
CF_COLUMNS_KEY = "reg.cf.shown"  # the custom fields shown as columns (set by the filter bar)
# "relevance": with a search text the best matches first (name and INN, then contacts,
# then the rest: the same tiers as the search page and the pickers); without one, by name
SORTS = {"relevance": ("Сначала лучшие совпадения", "Best matches first"),
         "name": ("Наименование", "Name"), "created_at": ("Дата создания", "Created"),
         "updated_at": ("Дата изменения", "Updated"), "inn": ("ИНН", "INN")}


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.date) else None


def filter_bar(store: Store, actor: Actor) -> ClientFilter:
    """Render the search box and filters; return the filter they describe."""
    keep = {"persist_state": "session"}
    query = st.text_input(
        tr("Поиск", "Search"), key="reg.query", live=True, type="search", **keep,
        placeholder=tr("Наименование, ИНН, телефон, e-mail, контакт, текст файла…",
                       "Name, INN, phone, e-mail, contact, file text…"))
    c1, c2, c3 = st.columns(3)
    # "" / 0 mean "any" (not None: a restored None would show as an empty select)
    kind = c1.selectbox(tr("Тип", "Kind"), ["", *CLIENT_KINDS], key=lkey("reg.kind"),
                        format_func=lambda k: kind_label(k) if k else tr("Все типы", "All kinds"),
                        **keep)
    owners = {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)}
    owner = c2.selectbox(tr("Ответственный", "Owner"), [0, *owners], key=lkey("reg.owner"),
                         format_func=lambda i: owners.get(i, "") if i else tr("Все", "Anyone"),
                         **keep)
    tags = clients.all_tags(store, actor)
    tag = c3.selectbox(tr("Метка", "Tag"), ["", *tags], key=lkey("reg.tag"),
                       format_func=lambda t: t if t else tr("Любая", "Any"), **keep)
    c4, c5, c6, c7 = st.columns(4)
    date_from = c4.date_input(tr("Создан с", "Created from"), value=None, key="reg.from",
                              format="DD.MM.YYYY", **keep)
    date_to = c5.date_input(tr("Создан по", "Created to"), value=None, key="reg.to",
                            format="DD.MM.YYYY", **keep)
    sort = c6.selectbox(tr("Сортировка", "Sort by"), list(SORTS), key=lkey("reg.sort"),
                        format_func=lambda s: tr(*SORTS[s]), **keep)
    desc = c7.selectbox(tr("Порядок", "Order"), [False, True], key=lkey("reg.desc"),
                        format_func=lambda d: tr("по убыванию ↓", "descending ↓") if d
                        else tr("по возрастанию ↑", "ascending ↑"), **keep)
    f = ClientFilter(query=query or "", kind=kind or None, owner_id=owner or None,
                     tag=tag or None,
                     created_from=_iso(date_from), created_to=_iso(date_to), sort=sort,
                     descending=bool(desc), extra=custom_filters(store))
    first_page_on_new_filter(astuple(f), SIG_KEY, PAGE_KEY)
    return f


def custom_filters(store: Store, entity: str = "client", prefix: str = "reg",
                   columns_key: str = CF_COLUMNS_KEY) -> tuple[tuple[Any, ...], ...]:
    """«Доп. поля»: the custom fields of ``entity`` to show as extra columns
    (remembered under ``columns_key``) and a filter for each, by type: a list
    (a multiselect field: «любое из»), yes/no, a number or date range («от» / «до»),
    text «содержит». Returns the conditions for ``ClientFilter.extra`` /
    ``SaleFilter.extra`` (the core checks the values and names a bad one)."""
    defs = cf.list_fields(store, entity)
    if not defs:
        st.session_state[columns_key] = []
        return ()
    keep = {"persist_state": "session"}
    out: list[tuple[Any, ...]] = []
    any_label, yes, no = tr("Все", "Any"), tr("да", "yes"), tr("нет", "no")
    with st.expander(tr("Доп. поля", "Custom fields")):
        names = {d.key: d for d in defs}
        labels = {d.key: d.label(lang()) for d in defs}  # fixed now: format_func runs later
        shown = st.multiselect(tr("Показать столбцы", "Show columns"), list(names),
                               key=f"{prefix}.cf.columns", format_func=labels.__getitem__,
                               **keep, placeholder=tr("Выберите…", "Choose…"))
        st.session_state[columns_key] = [names[k] for k in shown if k in names]
        cols = st.columns(3)
        for i, d in enumerate(defs):
            col, label, base = cols[i % 3], md_escape(labels[d.key]), f"{prefix}.cf.{d.key}"
            if d.type in ("select", "bool"):
                options: list[object] = [None, *(d.options if d.type != "bool"
                                                 else (True, False))]
                value = col.selectbox(
                    label, options, key=lkey(base),
                    format_func=lambda v: any_label if v is None else
                    (yes if v is True else no) if isinstance(v, bool) else str(v), **keep)
                if value is not None:
                    out.append((d.key, value))
            elif d.type == "multiselect":
                picked = col.multiselect(label, list(d.options), key=base, **keep,
                                         placeholder=tr("любое из…", "any of…"))
                if picked:
                    out.append((d.key, "any", tuple(picked)))
            elif d.type == "text":
                text = col.text_input(label, key=base, **keep,
                                      placeholder=tr("содержит…", "contains…"))
                if (text or "").strip():
                    out.append((d.key, "contains", text.strip()))
            else:  # number or date: a range
                with col.container():
                    st.caption(label)
                    lo_col, hi_col = st.columns(2)
                    if d.type == "date":
                        lo: Any = lo_col.date_input(tr("с", "from"), value=None,
                                                    key=f"{base}.min", format="DD.MM.YYYY",
                                                    **keep)
                        hi: Any = hi_col.date_input(tr("по", "to"), value=None,
                                                    key=f"{base}.max", format="DD.MM.YYYY",
                                                    **keep)
                        lo, hi = _iso(lo), _iso(hi)
                    else:
                        lo = lo_col.text_input(tr("от", "from"), key=f"{base}.min", **keep)
                        hi = hi_col.text_input(tr("до", "to"), key=f"{base}.max", **keep)
                        lo, hi = (lo or "").strip(), (hi or "").strip()
                    if lo:
                        out.append((d.key, "min", lo))
                    if hi:
                        out.append((d.key, "max", hi))
    return tuple(out)


def first_page_on_new_filter(sig: tuple[Any, ...], sig_key: str, page_key: str) -> None:
    """A filter different from the last run's sends the list back to page 1."""
    if st.session_state.get(sig_key) != sig:
        st.session_state[sig_key] = sig
        st.session_state[page_key] = 1


def clamped_page(fetch: Callable[[int], PageT], page_key: str) -> PageT | None:
    """``fetch(page_no)`` for the page in ``page_key``, clamped to the last page
    (a user error is shown, and None returned)."""
    page_no = int(st.session_state.get(page_key) or 1)
    try:
        page = fetch(page_no)
        if page_no > page.pages:
            st.session_state[page_key] = page.pages
            page = fetch(page.pages)
    except UserError as exc:
        show_error(exc)
        return None
    return page


def load_page(store: Store, actor: Actor, f: ClientFilter) -> Page | None:
    """The requested page of the registry (clamped to the last page)."""
    return clamped_page(lambda n: clients.list_clients(store, actor, f, page=n,
                                                       page_size=PAGE_SIZE), PAGE_KEY)


def table_rows(page: Page) -> list[dict[str, Any]]:
    """Registry rows as the table shows them (plain text: nothing is HTML)."""
    return [{
        "№": r["id"],
        tr("Тип", "Kind"): kind_label(r["kind"]),
        tr("Наименование", "Name"): r["name"],
        tr("ИНН", "INN"): r["inn"] or "",
        tr("Телефон", "Phone"): format_phone(r["phone"] or ""),
        "E-mail": r["email"] or "",
        tr("Метки", "Tags"): ", ".join(r["tags"]),
        tr("Ответственный", "Owner"): r.get("owner_name") or "",
        tr("Создан", "Created"): fmt_dt(r["created_at"])[:10],
        **custom_cells(r, CF_COLUMNS_KEY),
    } for r in page.rows]


def custom_cells(row: dict[str, Any], columns_key: str) -> dict[str, str]:
    """The custom-field columns chosen in «Доп. поля» for one table row."""
    return {d.label(lang()): cf.display(d, (row.get("extra") or {}).get(d.key))
            for d in st.session_state.get(columns_key) or []}


def table(page: Page) -> int | None:
    """Render the table; return the id of the client the user clicked, if any."""
    rows = table_rows(page)
    event = st.dataframe(rows, key="reg.table", on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch",
                         column_config={
                             "№": st.column_config.NumberColumn(width="small", format="%d"),
                             tr("Наименование", "Name"): st.column_config.TextColumn(width="large"),
                         })
    selected = event.selection.rows if event is not None else []
    if selected and selected[0] < len(rows):
        return int(rows[selected[0]]["№"])
    return None


def pager(page: Page, key: str = PAGE_KEY) -> None:
    """Page number input and «стр. N из M» under the table."""
    if page.pages <= 1:
        return
    c1, c2, _ = st.columns([1, 2, 5], vertical_alignment="bottom")
    c1.number_input(tr("Страница", "Page"), min_value=1, max_value=page.pages, step=1,
                    key=key)
    c2.write(tr(f"стр. {page.page} из {page.pages}", f"page {page.page} of {page.pages}"))


def excel_download(store: Store, actor: Actor, f: ClientFilter, total: int) -> None:
    """«Подготовить Excel» builds the file for exactly this filter; then download."""
    from clientplus_core.clients import export

    prepared_excel(astuple(f), total, lambda: export.export_clients_bytes(store, actor, f,
                                                                           fmt="xlsx"),
                   XLSX_KEY, "clients", "reg")


def prepared_excel(sig: tuple[Any, ...], total: int, make: Callable[[], bytes], state_key: str,
                   file_prefix: str, key_prefix: str) -> None:
    """«Подготовить Excel» runs ``make`` (the export of the filter ``sig`` describes) and
    keeps the bytes under ``state_key``; then «Скачать Excel (N)» serves them, until
    the filter changes."""
    ready = st.session_state.get(state_key)
    if ready and ready[0] != sig:  # the filter changed: that file is stale
        st.session_state.pop(state_key, None)
    elif ready:
        xlsx_download(tr(f"Скачать Excel ({total})", f"Download Excel ({total})"), ready[1],
                      file_name=f"{file_prefix}-{dt.date.today().isoformat()}.xlsx",
                      key=f"{key_prefix}.xlsx_dl")
        return
    if st.button(tr("Подготовить Excel", "Prepare Excel"), key=f"{key_prefix}.xlsx_make",
                 icon=":material/table_view:", disabled=total == 0):
        try:
            with st.spinner(tr("Готовим файл…", "Preparing the file…")):
                data = make()
        except UserError as exc:
            show_error(exc)
            return
        st.session_state[state_key] = (sig, data)
        st.rerun()
