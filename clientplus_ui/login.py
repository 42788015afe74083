"""Sign-in, first-administrator, forced password change and sign-out widgets.

Only :mod:`clientplus_ui.context` calls these; they keep their own session keys.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.store.db import Store
from clientplus_core.team import auth
from clientplus_core.team.access import Actor
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error

ACTOR_KEY = "auth.actor"
LAST_SEEN_KEY = "auth.last_seen"


def signed_in(actor: Actor) -> None:
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LAST_SEEN_KEY] = datetime.now(UTC)


def sign_out() -> None:
    """Forget everything this browser session held."""
    for key in list(st.session_state.keys()):
        if key != "ui.lang":
            del st.session_state[key]


def login_form(store: Store) -> None:
    """The sign-in form; on success the session holds the actor and the app reruns."""
    st.title("ClientPlus")
    if st.session_state.pop("auth.expired", False):
        st.info(tr("Сеанс завершён из-за бездействия — войдите снова.",
                   "Your session expired after inactivity — please sign in again."))
    with st.form("auth.login", enter_to_submit=True):
        st.subheader(tr("Вход", "Sign in"))
        login = st.text_input(tr("Логин", "Login"), key="auth.login_name")
        password = st.text_input(tr("Пароль", "Password"), type="password",
                                 key="auth.login_password")
        submitted = st.form_submit_button(tr("Войти", "Sign in"), type="primary")
    if submitted:
        try:
            actor = auth.authenticate(store, login, password)
        except UserError as exc:
            st.error(str(exc))
            return
        signed_in(actor)
        st.rerun()


def first_admin_form(store: Store) -> None:
    """Shown once, on a shared server where nobody has a password yet."""
    st.title("ClientPlus")
    st.info(tr("Создайте учётную запись администратора — она понадобится для входа.",
               "Create the administrator account — you will sign in with it."))
    with st.form("auth.first_admin"):
        login = st.text_input(tr("Логин", "Login"), value="admin")
        name = st.text_input(tr("Имя", "Name"))
        pw1 = st.text_input(tr("Пароль", "Password"), type="password")
        pw2 = st.text_input(tr("Пароль ещё раз", "Repeat password"), type="password")
        submitted = st.form_submit_button(tr("Создать", "Create"), type="primary")
    if submitted:
        if pw1 != pw2:
            st.error(tr("Пароли не совпадают", "Passwords do not match"))
            return
        try:
            actor = auth.add_user(store, None, login, pw1, "admin", name)
        except UserError as exc:
            show_error(exc)
            return
        signed_in(actor)
        st.rerun()


def change_password_form(store: Store, actor: Actor, forced: bool = False) -> None:
    """Change one's own password (forced after an admin reset)."""
    if forced:
        st.warning(tr("Администратор попросил сменить пароль перед началом работы.",
                      "The administrator asked you to change your password first."))
    with st.form("auth.change_password", clear_on_submit=True):
        old = st.text_input(tr("Текущий пароль", "Current password"), type="password")
        new1 = st.text_input(tr("Новый пароль", "New password"), type="password")
        new2 = st.text_input(tr("Новый пароль ещё раз", "Repeat new password"), type="password")
        submitted = st.form_submit_button(tr("Сменить пароль", "Change password"))
    if submitted:
        if new1 != new2:
            st.error(tr("Новые пароли не совпадают", "New passwords do not match"))
            return
        try:
            auth.change_password(store, actor, old, new1)
        except UserError as exc:
            show_error(exc)
            return
        st.success(tr("Пароль изменён", "Password changed"))
        if forced:
            st.rerun()
