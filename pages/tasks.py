"""The organizer: tasks due today, overdue, this week, by assignee, and a month
calendar; create, edit, complete, cancel and delete tasks; Excel beside every list."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import show_flash
from clientplus_ui.organizer import tasks as view

actor = guard("task.read")
store = get_store()

st.title(tr("Задачи", "Tasks"))
st.caption(tr("Сроки — по часовому поясу из настроек (по умолчанию Москва).",
              "Due times are in the time zone from the settings (Moscow by default)."))
show_flash()
view.page(store, actor)
