"""The audit trail (head and administrator): read, filter, export; never edit."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.team.admin import audit_view

actor = guard("audit.read")
st.title(tr("Журнал действий", "Audit trail"))
audit_view(get_store(), actor)
