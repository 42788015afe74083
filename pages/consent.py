"""The consent / opt-out register (152-ФЗ): who agreed to letters and SMS, who
refused, when and where from; filter, add, edit, delete, import, Excel."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import show_flash
from clientplus_ui.outreach import consent as view

actor = guard("consent.read")
store = get_store()

st.title(tr("Согласия и отписки", "Consent register"))
st.caption(tr("Адрес или телефон попадает в рассылку, только если есть согласие (запись здесь "
              "или отметка у контакта); отказ важнее любого согласия.",
              "An address or phone is used only with a consent (an entry here or the "
              "contact's flag); an opt-out always wins."))
show_flash()
view.add_form(store, actor)
view.import_form(store, actor)
entries = view.table(store, actor, view.filters())
view.edit_one(store, actor, entries)
