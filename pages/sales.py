"""Sales register: filters, totals, sorting, pages, Excel export, the board, and
the removed sales (head and administrator restore them)."""

from __future__ import annotations

import streamlit as st

from clientplus_core.team.access import can
from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import lkey, show_flash
from clientplus_ui.sales import register as reg
from clientplus_ui.widgets import fmt_count

actor = guard()
store = get_store()

head, new_col, xlsx_col = st.columns([6, 2, 2], vertical_alignment="bottom")
head.title(tr("Продажи", "Sales"))
if can(actor, "sale.create"):
    new_col.page_link("pages/sale.py", label=tr("Новая продажа", "New sale"),
                      icon=":material/add_shopping_cart:", query_params={"new": "1"})
show_flash()

f = reg.filter_bar(store, actor)
views = {"list": tr("Список", "List"), "board": tr("Доска", "Board")}
view = st.segmented_control(tr("Вид", "View"), list(views), default="list",
                            key=lkey("sreg.view"), required=True, label_visibility="collapsed",
                            format_func=views.__getitem__)
page = None if view == "board" else reg.load_page(store, actor, f)
if view == "board":
    reg.board(store, actor, f)
elif page is not None:
    with xlsx_col:
        reg.excel_download(store, actor, f, page.total)
    reg.sums(page)
    st.caption(tr("Найдено продаж: ", "Sales found: ") + fmt_count(page.total))
    if page.total == 0:
        st.info(tr("Ничего не найдено. Измените условия или создайте продажу.",
                   "Nothing matches. Change the filters or create a sale."))
    else:
        opened = reg.table(page.rows, key="sreg.table")
        if opened is not None:
            st.switch_page("pages/sale.py", query_params={"id": str(opened)})
        reg.pager(page)
reg.deleted_section(store, actor)
