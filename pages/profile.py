"""Profile: who I am, my password, sign out."""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.login import change_password_form

actor = guard()
store = get_store()

st.title(tr("Профиль", "Profile"))
st.text(f"{tr('Логин', 'Login')}: {actor.login}")
st.text(f"{tr('Имя', 'Name')}: {actor.full_name}")
st.text(f"{tr('Роль', 'Role')}: {actor.role}")
st.subheader(tr("Сменить пароль", "Change password"))
change_password_form(store, actor)
