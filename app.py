"""ClientPlus — router and frame. Run with ``streamlit run app.py`` (or ``make run``)."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import guard, tr
from clientplus_ui.i18n import language_switch
from clientplus_ui.widgets import search_box

st.set_page_config(page_title="ClientPlus", page_icon=":material/contacts:", layout="wide")

actor = guard()

pages = [
    st.Page("pages/clients.py", title=tr("Клиенты", "Clients"), icon=":material/groups:",
            url_path="clients", default=True),
    st.Page("pages/client.py", title=tr("Карточка клиента", "Client card"),
            icon=":material/badge:", url_path="client", visibility="hidden"),
    st.Page("pages/search.py", title=tr("Поиск", "Search"), icon=":material/search:",
            url_path="search"),
    st.Page("pages/import.py", title=tr("Импорт", "Import"), icon=":material/upload_file:",
            url_path="import"),
    st.Page("pages/settings.py", title=tr("Настройки", "Settings"), icon=":material/settings:",
            url_path="settings"),
]

nav = st.navigation(pages)
with st.sidebar:
    language_switch()
    search_box()
    st.caption(f"{actor.full_name or actor.login} · {actor.role}")
nav.run()
