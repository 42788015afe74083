"""Reports: funnel, revenue, receivables, forecast, client base, top clients,
clients without contact — each a table, a chart and an Excel file."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.analytics.reports import reports_page

actor = guard("report.read")
st.title(tr("Отчёты", "Reports"))
reports_page(get_store(), actor)
