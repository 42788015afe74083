"""Import clients and their contacts from Excel (.xlsx) or CSV.

The steps live in :mod:`clientplus_ui.clients.import_wizard`; the chosen file is kept in
``st.session_state["import.upload"]`` as ``(filename, bytes)``.
"""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.clients import import_wizard as wizard

actor = guard("client.import")
store = get_store()

st.title(tr("Импорт клиентов", "Import clients"))
st.caption(tr("Клиенты и их контактные лица из Excel (.xlsx) или CSV. Сначала проверьте файл — "
              "проверка ничего не записывает.",
              "Clients and their contact persons from Excel (.xlsx) or CSV. Check the file "
              "first — the check writes nothing."))

upload = wizard.upload_step()
state = wizard.load(upload) if upload else None
if state is None:
    st.stop()

mapping = wizard.mapping_step(state)
wizard.preview(state, mapping)
on_duplicate = wizard.duplicates_step(state)
wizard.run_step(store, actor, state, mapping, on_duplicate)
wizard.report_view(state, mapping, on_duplicate)
