"""Report builder: choose what to count, how to group, which filters and period —
get a table, a chart and an Excel file; save the report under a name."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.analytics import builder as view
from clientplus_ui.common import show_flash

actor = guard()
store = get_store()

st.title(tr("Конструктор отчётов", "Report builder"))
show_flash()
spec = view.form(store, actor) or view.current_spec()
if spec is not None:
    view.result(store, actor, spec)
