"""Registry check: re-check every client with an INN against the register (head, admin)."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.requisites.batch import refresh_view

actor = guard("lookup.refresh")
st.title(tr("Проверка клиентов по реестру", "Registry check"))
refresh_view(get_store(), actor)
