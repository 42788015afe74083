"""Users (administrator): add, reset a password, deactivate, force a change."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.team.admin import add_user_form, user_actions, users_table

actor = guard("users.manage")
store = get_store()

st.title(tr("Пользователи", "Users"))
rows = users_table(store)
user_actions(store, actor, rows)
add_user_form(store, actor)
