"""The catalogue of goods and services: search, add and edit, import and export Excel."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import show_flash
from clientplus_ui.sales import catalogue as cv

actor = guard()
store = get_store()

st.title(tr("Каталог товаров и услуг", "Goods and services"))
show_flash()
items = cv.search_bar(store, actor)
selected = cv.table(items)
if selected is not None:
    cv.edit_form(store, actor, selected)
cv.add_form(store, actor)
st.divider()
cv.import_export(store, actor)
