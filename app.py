"""ClientPlus — router and frame. Run with ``streamlit run serve.py`` (or ``make run``):
serve.py starts this script with the routes of the session cookie.

The navigation is always registered (so a deep link always resolves through it,
never through Streamlit's automatic ``pages/`` discovery); each page's own guard
shows the sign-in form or "no access". Only the pages the signed-in role may use
are listed; before sign-in the menu is hidden.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from clientplus_core.team.access import can, role_label
from clientplus_ui import tr
from clientplus_ui.chrome import localise_streamlit
from clientplus_ui.context import get_store, idle_minutes, resolve_actor
from clientplus_ui.cookie import maintain as maintain_cookie
from clientplus_ui.i18n import lang, language_switch
from clientplus_ui.login import sign_out
from clientplus_ui.widgets import search_box

# The tab's icon is a file of the app (a Material or emoji icon is fetched from the internet)
ICON = Path(__file__).resolve().parent / "clientplus_ui" / "icon.png"
st.set_page_config(page_title="ClientPlus", page_icon=str(ICON), layout="wide")

actor = resolve_actor()
# Invisible helpers go into slots that exist on every run: an element that comes and goes
# would shift the page's own elements, and a tab strip would jump back to its first tab.
chrome_slot, cookie_slot = st.empty(), st.empty()
localise_streamlit(chrome_slot)  # Streamlit's own English («Browse files», «dd.mm.yyyy»)
maintain_cookie(get_store(), idle_minutes(get_store()), cookie_slot)  # hand over / renew / drop

# menu sections, in order: (ru, en)
SECTIONS = [("Работа", "Work"), ("Аналитика", "Analytics"), ("Маркетинг", "Marketing"),
            ("Справочники и настройки", "Reference and settings")]
# (section, file, ru, en, icon, url path, operation needed to see it in the menu)
PAGES = [
    (0, "pages/clients.py", "Клиенты", "Clients", "groups", "clients", None),
    (0, "pages/sales.py", "Продажи", "Sales", "point_of_sale", "sales", None),
    (0, "pages/tasks.py", "Задачи", "Tasks", "task_alt", "tasks", "task.read"),
    (0, "pages/bank.py", "Банковская выписка", "Bank statement", "account_balance", "bank",
     "sale.read"),
    (0, "pages/search.py", "Поиск", "Search", "search", "search", None),
    (1, "pages/dashboard.py", "Дашборд", "Dashboard", "dashboard", "dashboard", "report.read"),
    (1, "pages/reports.py", "Отчёты", "Reports", "monitoring", "reports", "report.read"),
    (1, "pages/segments.py", "Сегментация", "Segmentation", "donut_small", "segments", None),
    (1, "pages/builder.py", "Конструктор отчётов", "Report builder", "table_chart", "builder",
     None),
    (2, "pages/addressbooks.py", "Адресные книги", "Address books", "contact_mail",
     "addressbooks", None),
    (2, "pages/mailings.py", "Рассылки", "Mailings", "forward_to_inbox", "mailings",
     "mailing.manage"),
    (2, "pages/consent.py", "Согласия и отписки", "Consent register", "how_to_reg", "consent",
     "consent.read"),
    (3, "pages/catalogue.py", "Каталог", "Catalogue", "inventory_2", "catalogue", None),
    (3, "pages/import.py", "Импорт", "Import", "upload_file", "import", "client.import"),
    (3, "pages/lookup_refresh.py", "Проверка по реестру", "Registry check", "fact_check",
     "lookup_refresh", "lookup.refresh"),
    (3, "pages/settings.py", "Настройки", "Settings", "settings", "settings", None),
    (3, "pages/users.py", "Пользователи", "Users", "manage_accounts", "users", "users.manage"),
    (3, "pages/audit.py", "Журнал действий", "Audit trail", "history", "audit", "audit.read"),
    (3, "pages/trash.py", "Корзина", "Bin", "delete", "trash", "client.restore"),
    (3, "pages/profile.py", "Профиль", "Profile", "person", "profile", None),
]

# The cards are reached from lists and links only; hidden pages go to the first
# section, which every signed-in role sees, so no section shows without entries.
sections: list[list[st.Page]] = [[] for _ in SECTIONS]
sections[0] += [st.Page("pages/client.py", title=tr("Карточка клиента", "Client card"),
                        icon=":material/badge:", url_path="client", visibility="hidden"),
                st.Page("pages/sale.py", title=tr("Карточка продажи", "Sale card"),
                        icon=":material/receipt_long:", url_path="sale", visibility="hidden")]
for section, path, ru, en, icon, url, op in PAGES:
    visible = actor is not None and (op is None or can(actor, op))
    # The registry is the start page, served at "/". Streamlit serves a default page
    # only there (its own url_path answers "Page not found"), so it is registered under
    # another name here and its own address /clients is the hidden entry below.
    start = url == "clients"
    sections[section if visible else 0].append(
        st.Page(path, title=tr(ru, en), icon=f":material/{icon}:",
                url_path="start" if start else url, default=start,
                visibility="visible" if visible else "hidden"))
sections[0].append(st.Page("pages/clients.py", title=tr("Клиенты", "Clients"),
                           icon=":material/groups:", url_path="clients", visibility="hidden"))

nav = st.navigation({tr(*SECTIONS[i]): pages for i, pages in enumerate(sections) if pages},
                    expanded=True, position="sidebar" if actor is not None else "hidden")
if actor is not None:
    with st.sidebar:
        language_switch()
        search_box()
        from clientplus_ui.organizer.tasks import reminder_badge
        reminder_badge(actor)  # due / overdue tasks: one indexed query
        st.caption(f"{actor.full_name or actor.login} · {role_label(actor.role, lang())}")
        if st.button(tr("Выйти", "Sign out"), key="auth.sign_out", icon=":material/logout:"):
            sign_out(get_store())
            st.rerun()
nav.run()
