"""Global search: clients, contacts, files' text and links, with the match highlighted."""

from __future__ import annotations

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.search import index as search
from clientplus_ui import get_store, guard, tr
from clientplus_ui.clients import search_results as sr
from clientplus_ui.widgets import show_error

actor = guard("search")
store = get_store()

st.title(tr("Поиск", "Search"))
q = sr.query_box()
if not q:
    st.caption(tr("Введите наименование, ИНН, телефон, e-mail или слово из файла.",
                  "Type a name, INN, phone, e-mail or a word from a file."))
    st.stop()

try:
    hits = search.search(store, actor, q, limit=50)
except UserError as exc:
    show_error(exc)
    st.stop()

if not hits:
    st.info(tr("Ничего не найдено", "Nothing found"))
    st.stop()
st.caption(tr(f"Найдено: {len(hits)}", f"Found: {len(hits)}")
           + (tr(" (показаны первые 50)", " (first 50 shown)") if len(hits) >= 50 else ""))
sr.render(store, actor, hits)
