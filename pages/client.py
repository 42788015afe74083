"""The client card: ?id=N opens a client, ?new=1 a blank form."""

from __future__ import annotations

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_ui import get_store, guard, tr
from clientplus_ui.clients import (
    card_access,
    card_contacts,
    card_files,
    card_history,
)
from clientplus_ui.clients import (
    form as client_form,
)
from clientplus_ui.common import card_tabs, kind_label, md_escape, show_flash
from clientplus_ui.organizer import tasks as tasks_view
from clientplus_ui.sales import client as sales_client
from clientplus_ui.widgets import show_error

actor = guard()
store = get_store()

st.page_link("pages/clients.py", label=tr("К списку клиентов", "Back to clients"),
             icon=":material/arrow_back:")
show_flash()

raw_id = st.query_params.get("id", "")
if not raw_id:  # ?new=1 (an id, when both are given, opens that card)
    st.title(tr("Новый клиент", "New client"))
    client_form.render(store, actor, None)
    st.stop()

try:
    client = clients.get(store, actor, int(raw_id))
except ValueError:
    st.error(tr("Неверный номер клиента в адресе.", "Bad client number in the address."))
    st.stop()
except UserError as exc:
    show_error(exc)
    st.stop()

st.title(md_escape(client["name"]))
st.caption(md_escape(f"{kind_label(client['kind'])} · №{client['id']}"
                     + (f" · {tr('ИНН', 'INN')} {client['inn']}" if client["inn"] else "")))

cid = client["id"]


def requisites() -> None:
    client_form.render(store, actor, client)
    st.divider()
    card_access.render(store, actor, client)


parts = [(tr("Реквизиты", "Requisites"), requisites),
         (tr("Контакты", "Contacts"), lambda: card_contacts.render(store, actor, cid)),
         (tr("Продажи", "Sales"), lambda: sales_client.render(store, actor, cid)),
         (tr("Задачи", "Tasks"), lambda: tasks_view.card_tab(store, actor, client_id=cid)),
         (tr("Файлы и ссылки", "Files and links"), lambda: card_files.render(store, actor, cid)),
         (tr("История", "History"), lambda: card_history.render(store, actor, cid))]
card_tabs(parts, key="card.tab")
