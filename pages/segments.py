"""Segmentation: clients by one or two dimensions (standard and custom fields)
with counts, revenue and average deal; save a segment; Excel beside the table."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.analytics import segments as view
from clientplus_ui.common import show_flash

actor = guard()
store = get_store()

st.title(tr("Сегментация", "Segmentation"))
st.caption(tr("Выручка — поступившие оплаты, средняя продажа — по продажам, кроме проигранных.",
              "Revenue is payments received; the average deal excludes lost sales."))
show_flash()
choice = view.choose(store, actor)
frame = view.result(store, actor, choice)
if frame is not None:
    view.save_form(store, actor, choice, frame)
st.divider()
view.saved_list(store, actor)
