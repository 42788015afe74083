"""Settings: own company requisites, the upload limit, backups, and facts about this install.

The sections live in :mod:`clientplus_ui.settings_company` and
:mod:`clientplus_ui.settings_backup`; each checks the actor's rights itself.
"""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.settings_backup import about_section, backups_section
from clientplus_ui.settings_company import company_form, upload_limit_form

actor = guard()
store = get_store()

st.title(tr("Настройки", "Settings"))
company_tab, files_tab, backup_tab, about_tab = st.tabs([
    tr("Моя компания", "My company"), tr("Файлы", "Files"),
    tr("Резервные копии", "Backups"), tr("О программе", "About")])

with company_tab:
    company_form(store, actor)
with files_tab:
    upload_limit_form(store, actor)
with backup_tab:
    backups_section(store, actor)
with about_tab:
    about_section(store)
