"""Sign-in, first-administrator, forced password change and sign-out widgets.

Only :mod:`clientplus_ui.context` and app.py call these; they keep their own
session keys. A password sign-in starts a server-side session
(:mod:`clientplus_core.team.sessions`) whose cookie :mod:`clientplus_ui.cookie`
hands to the browser, so a reload or a new tab stays signed in.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.store.db import Store
from clientplus_core.team import auth, sessions
from clientplus_core.team.access import Actor
from clientplus_ui import cookie
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import display_zone, show_error

ACTOR_KEY = "auth.actor"
LAST_SEEN_KEY = "auth.last_seen"


def signed_in(actor: Actor, session_id: int | None = None) -> None:
    """This browser tab acts as ``actor`` (in the server-side session ``session_id``,
    when it has one)."""
    st.session_state[ACTOR_KEY] = actor
    st.session_state[LAST_SEEN_KEY] = datetime.now(UTC)
    if session_id is not None:
        st.session_state[cookie.SESSION_KEY] = session_id


def start_session(store: Store, actor: Actor) -> None:
    """After a password sign-in (or change): a new server-side session, whose cookie
    the browser collects on the next run (:func:`clientplus_ui.cookie.maintain`)."""
    new = sessions.create(store, actor.id)
    signed_in(actor, new.id)
    cookie.hand_over(new)


def sign_out(store: Store | None = None) -> None:
    """End this browser's server-side session (every tab of it), forget everything
    this browser tab held, and have the browser drop the cookie."""
    sid = st.session_state.get(cookie.SESSION_KEY)
    if store is not None and isinstance(sid, int):
        sessions.revoke(store, sid)
    for key in list(st.session_state.keys()):
        if key != "ui.lang":
            del st.session_state[key]
    cookie.forget()


def client_source() -> str:
    """Where this sign-in comes from, for the per-source lockout: the address of the
    browser's connection (Streamlit's ``st.context.ip_address``; not a forwarded
    header, which anyone can forge), or ``local`` when there is none (a browser on
    the server itself, or tests)."""
    try:
        ip = st.context.ip_address
    except Exception:  # noqa: BLE001 — no request context (AppTest, bare mode)
        ip = None
    return str(ip) if ip else auth.LOCAL_SOURCE


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
            actor = auth.authenticate(store, login, password, client_source(),
                                      tz=display_zone())
        except auth.LockedOut as exc:  # until when, in local time and the UI language
            st.error(auth.locked_message(exc.until, display_zone(), lang()))
            return
        except UserError as exc:
            st.error(tr(str(exc), auth.IN_ENGLISH.get(str(exc), str(exc))))
            return
        start_session(store, actor)
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
        start_session(store, actor)
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
        # the change signed every browser out; this tab goes on in a new session
        start_session(store, actor)
        st.success(tr("Пароль изменён", "Password changed"))
        if forced:
            st.rerun()
