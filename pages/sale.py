"""The sale card: ?id=N opens a sale, ?new=1 (&client=M) a blank one."""

from __future__ import annotations

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_ui import get_store, guard, tr
from clientplus_ui.clients import card_files
from clientplus_ui.common import card_tabs, show_flash
from clientplus_ui.organizer import tasks as tasks_view
from clientplus_ui.sales import (
    card as sales_card,
)
from clientplus_ui.sales import (
    contacts as sales_contacts,
)
from clientplus_ui.sales import (
    docs as sales_docs,
)
from clientplus_ui.sales import (
    payments as sales_payments,
)
from clientplus_ui.sales import (
    status as sales_status,
)
from clientplus_ui.widgets import client_picker, show_error

actor = guard()
store = get_store()

st.page_link("pages/sales.py", label=tr("К списку продаж", "Back to sales"),
             icon=":material/arrow_back:")
show_flash()

raw_id = st.query_params.get("id", "")
if st.query_params.get("new") or not raw_id:
    st.title(tr("Новая продажа", "New sale"))
    preset = st.query_params.get("client", "")
    client_id = client_picker(store, actor, sales_card.NEW_CLIENT_KEY,
                              int(preset) if preset.isdigit() else None)
    if client_id is None:
        st.info(tr("Выберите клиента — затем заполните продажу.",
                   "Choose the client, then fill in the sale."))
        st.stop()
    sales_card.render(store, actor, None, client_id)
    st.stop()

try:
    card = sales.get_card(store, actor, int(raw_id))
except ValueError:
    st.error(tr("Неверный номер продажи в адресе.", "Bad sale number in the address."))
    st.stop()
except UserError as exc:
    show_error(exc)
    st.stop()

sid, cid = card["id"], card["client_id"]
sales_card.header(card)
sales_status.bar(store, actor, card)


def main_tab() -> None:
    sales_card.render(store, actor, card, cid)
    st.divider()
    sales_card.delete_button(store, actor, card)


card_tabs([
    (tr("Продажа", "Sale"), main_tab),
    (tr("Оплаты", "Payments"), lambda: sales_payments.render(store, actor, card)),
    (tr("Документы", "Documents"), lambda: sales_docs.render(store, actor, card)),
    (tr("Контакты", "Contacts"), lambda: sales_contacts.render(store, actor, cid, sid)),
    (tr("Задачи", "Tasks"), lambda: tasks_view.card_tab(store, actor, sale_id=sid)),
    (tr("Файлы и ссылки", "Files and links"),
     lambda: card_files.render_for(store, actor, card_files.sale_target(store, actor, sid))),
    (tr("Статусы", "Statuses"), lambda: sales_status.log(store, card)),
    (tr("История", "History"), lambda: sales_status.history(store, actor, card)),
], key="sale.tab")
