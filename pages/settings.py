"""Settings: own company requisites, the upload limit, backups, sale statuses,
document templates, and facts about this install.

The sections live in :mod:`clientplus_ui.settings.company`,
:mod:`clientplus_ui.settings.backup` and :mod:`clientplus_ui.settings.sales`; each
checks the actor's rights itself.
"""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.settings.backup import about_section, backups_section
from clientplus_ui.settings.company import company_form, upload_limit_form
from clientplus_ui.settings.custom_fields import section as custom_fields_section
from clientplus_ui.settings.general import section as general_section
from clientplus_ui.settings.mail import mail_section
from clientplus_ui.settings.sales import statuses_section, templates_section

actor = guard()
store = get_store()

st.title(tr("Настройки", "Settings"))
(company_tab, general_tab, files_tab, statuses_tab, templates_tab, fields_tab, mail_tab,
 backup_tab, about_tab) = st.tabs([
    tr("Моя компания", "My company"), tr("Язык и время", "Language and time"),
    tr("Файлы", "Files"),
    tr("Статусы продаж", "Sale statuses"), tr("Шаблоны документов", "Document templates"),
    tr("Доп. поля", "Custom fields"), tr("Почта", "Mail"), tr("Резервные копии", "Backups"),
    tr("О программе", "About")])

with company_tab:
    company_form(store, actor)
with general_tab:
    general_section(store, actor)
with files_tab:
    upload_limit_form(store, actor)
with statuses_tab:
    statuses_section(store, actor)
with templates_tab:
    templates_section(store, actor)
with fields_tab:
    custom_fields_section(store, actor)
with mail_tab:
    mail_section(store, actor)
with backup_tab:
    backups_section(store, actor)
with about_tab:
    about_section(store)
