"""The dashboard: KPIs and charts for a period and (for the head) a manager."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.analytics.reports import dashboard

actor = guard("report.read")
st.title(tr("Дашборд", "Dashboard"))
dashboard(get_store(), actor)
