"""The client card's «Продажи» tab: the client's sales (a new one pre-linked to the
client) and the contact history with the client's employees across all sales."""

from __future__ import annotations

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_core.sales import SaleFilter
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.i18n import tr
from clientplus_ui.sales import contacts as sales_contacts
from clientplus_ui.sales.common import rub
from clientplus_ui.sales.register import table
from clientplus_ui.widgets import show_error


def render(store: Store, actor: Actor, client_id: int) -> None:
    if can(actor, "sale.create"):
        st.page_link("pages/sale.py", label=tr("Новая продажа", "New sale"),
                     icon=":material/add_shopping_cart:",
                     query_params={"new": "1", "client": str(client_id)})
    try:
        page = sales.list_sales(store, actor, SaleFilter(client_id=client_id), page=1,
                                page_size=200)
    except UserError as exc:
        show_error(exc)
        return
    if page.total:
        st.caption(tr(f"Продаж: {page.total} · на сумму {rub(page.sums['total'])} · "
                      f"оплачено {rub(page.sums['paid'])} · долг {rub(page.sums['debt'])}",
                      f"Sales: {page.total} · total {rub(page.sums['total'])} · "
                      f"paid {rub(page.sums['paid'])} · debt {rub(page.sums['debt'])}"))
        opened = table(page.rows, key=f"csales.{client_id}", with_client=False)
        if opened is not None:
            st.switch_page("pages/sale.py", query_params={"id": str(opened)})
        if page.total > len(page.rows):
            st.caption(tr("Показаны последние 200 — все в разделе «Продажи».",
                          "The latest 200 shown: see Sales for all."))
    else:
        st.info(tr("Продаж у клиента пока нет.", "No sales for this client yet."))
    st.markdown("**" + tr("История контактов", "Contact history") + "**")
    sales_contacts.render(store, actor, client_id)
