"""ClientPlus — router and frame. Run with ``streamlit run app.py`` (or ``make run``).

The navigation is always registered (so a deep link always resolves through it,
never through Streamlit's automatic ``pages/`` discovery); each page's own guard
shows the sign-in form or "no access". Only the pages the signed-in role may use
are listed; before sign-in the menu is hidden.
"""

from __future__ import annotations

import streamlit as st

from clientplus_core.access import can
from clientplus_ui import tr
from clientplus_ui.context import resolve_actor
from clientplus_ui.i18n import language_switch
from clientplus_ui.login import sign_out
from clientplus_ui.widgets import search_box

st.set_page_config(page_title="ClientPlus", page_icon=":material/contacts:", layout="wide")

actor = resolve_actor()

# (file, ru, en, icon, url path, operation needed to see it in the menu)
PAGES = [
    ("pages/clients.py", "Клиенты", "Clients", "groups", "clients", None),
    ("pages/sales.py", "Продажи", "Sales", "point_of_sale", "sales", None),
    ("pages/catalogue.py", "Каталог", "Catalogue", "inventory_2", "catalogue", None),
    ("pages/search.py", "Поиск", "Search", "search", "search", None),
    ("pages/import.py", "Импорт", "Import", "upload_file", "import", "client.import"),
    ("pages/settings.py", "Настройки", "Settings", "settings", "settings", None),
    ("pages/users.py", "Пользователи", "Users", "manage_accounts", "users", "users.manage"),
    ("pages/audit.py", "Журнал действий", "Audit trail", "history", "audit", "audit.read"),
    ("pages/trash.py", "Корзина", "Bin", "delete", "trash", "client.restore"),
    ("pages/lookup_refresh.py", "Проверка по реестру", "Registry check", "fact_check",
     "lookup_refresh", "lookup.refresh"),
    ("pages/dashboard.py", "Дашборд", "Dashboard", "dashboard", "dashboard", "report.read"),
    ("pages/reports.py", "Отчёты", "Reports", "monitoring", "reports", "report.read"),
    ("pages/segments.py", "Сегментация", "Segmentation", "donut_small", "segments", None),
    ("pages/builder.py", "Конструктор отчётов", "Report builder", "table_chart", "builder",
     None),
    ("pages/profile.py", "Профиль", "Profile", "person", "profile", None),
]

pages = [st.Page("pages/client.py", title=tr("Карточка клиента", "Client card"),
                 icon=":material/badge:", url_path="client", visibility="hidden"),
         st.Page("pages/sale.py", title=tr("Карточка продажи", "Sale card"),
                 icon=":material/receipt_long:", url_path="sale", visibility="hidden")]
for path, ru, en, icon, url, op in PAGES:
    # The registry is the start page (served at "/").
    pages.append(st.Page(path, title=tr(ru, en), icon=f":material/{icon}:", url_path=url,
                         default=url == "clients",
                         visibility="visible" if actor and (op is None or can(actor, op))
                         else "hidden"))

nav = st.navigation(pages)
if actor is not None:
    with st.sidebar:
        language_switch()
        search_box()
        st.caption(f"{actor.full_name or actor.login} · {actor.role}")
        if st.button(tr("Выйти", "Sign out"), key="auth.sign_out", icon=":material/logout:"):
            sign_out()
            st.rerun()
nav.run()
