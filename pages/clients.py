"""Client registry: search as you type, filters, sorting, pages, Excel export."""

from __future__ import annotations

import streamlit as st

from clientplus_core.team.access import can
from clientplus_ui import get_store, guard, tr
from clientplus_ui.clients import registry as reg
from clientplus_ui.common import show_flash
from clientplus_ui.widgets import fmt_count

actor = guard()
store = get_store()

head, new_col, xlsx_col = st.columns([6, 2, 2], vertical_alignment="bottom")
head.title(tr("Клиенты", "Clients"))
if can(actor, "client.create"):
    new_col.page_link("pages/client.py", label=tr("Новый клиент", "New client"),
                      icon=":material/person_add:", query_params={"new": "1"})
show_flash()

f = reg.filter_bar(store, actor)
page = reg.load_page(store, actor, f)
if page is None:
    st.stop()

with xlsx_col:
    reg.excel_download(store, actor, f, page.total)

st.caption(tr("Найдено клиентов: ", "Clients found: ") + fmt_count(page.total))
if page.total == 0:
    st.info(tr("Ничего не найдено. Измените условия поиска или добавьте клиента.",
               "Nothing matches. Change the search or add a client."))
    st.stop()

opened = reg.table(page)
if opened is not None:
    st.switch_page("pages/client.py", query_params={"id": str(opened)})
reg.pager(page)
