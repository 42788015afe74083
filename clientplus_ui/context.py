"""Who is signed in and which data folder we serve, for every page.

Every page file starts with ``actor = guard()``. With no user in this session it
shows the sign-in form (or, on a loopback-only server where nobody has a password
yet, signs in the local administrator) and stops the script, so a deep link on a
fresh server never renders data before the gate ran.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from clientplus_core.base.errors import NotFound
from clientplus_core.records import settings
from clientplus_core.store.config import resolve_data_dir
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import auth, sessions, users
from clientplus_core.team.access import Actor, can
from clientplus_ui import cookie
from clientplus_ui.login import (
    ACTOR_KEY,
    LAST_SEEN_KEY,
    change_password_form,
    first_admin_form,
    login_form,
    sign_out,
    signed_in,
)


@st.cache_resource(show_spinner=False)
def _store(data_dir: str) -> Store:
    """One Store per data folder (it holds only paths; connections are per call).
    Opening it also starts building the analytics copy in the background, and the
    text extraction of attachments a stopped server left pending."""
    from clientplus_core.analytics import engine as analytics
    from clientplus_core.clients import text_jobs

    store = open_store(data_dir)
    analytics.warm_up(store)
    text_jobs.start(store)
    return store


def get_store() -> Store:
    """The store for the configured data folder (``CLIENTPLUS_DATA`` or ./data)."""
    return _store(str(resolve_data_dir().root))


def current_actor() -> Actor | None:
    """The signed-in actor of this browser session, if any."""
    actor = st.session_state.get(ACTOR_KEY)
    return actor if isinstance(actor, Actor) else None


def server_address() -> str:
    return str(st.get_option("server.address") or "")


def _refresh(store: Store, actor: Actor) -> Actor | None:
    """The actor as stored now (role changes and deactivation apply at once)."""
    try:
        return users.get_actor_by_id(store, actor.id)
    except NotFound:
        return None


def _leave_pages_folder_mode() -> None:
    """Until some session has run app.py's ``st.navigation``, Streamlit treats the
    ``pages/`` folder the old way: a deep link on a fresh server (``/client?id=1``)
    runs the page file alone — no app.py frame (search box, language switch, sign
    out) and every page, hidden ones too, in the menu. Switch that off and rerun,
    so the same address is served through app.py. (Relies on a Streamlit
    internal. Under AppTest — a mock runtime that re-enables the old mode on every
    run — there is no server to fix, and a rerun there would eat the click.)"""
    try:
        from streamlit.runtime import Runtime
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # pragma: no cover - a future Streamlit without the classes
        return
    real_server = Runtime.exists() and type(Runtime.instance()) is Runtime
    if real_server and getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()


def idle_minutes(store: Store) -> int:
    """The ``session_idle_minutes`` setting (0: sessions never expire)."""
    try:
        return max(0, int(settings.get(store, "session_idle_minutes") or 0))
    except (TypeError, ValueError):
        return 0


def _check_session(store: Store, actor: Actor, idle: int) -> tuple[Actor | None, bool]:
    """This tab's actor as stored now, or None; and whether it was idle expiry.
    A tab with a server-side session asks it (shared by the browser's tabs, ended by
    sign-out, a password change or deactivation elsewhere); one without (the local
    administrator, tests) keeps its own idle clock."""
    sid = st.session_state.get(cookie.SESSION_KEY)
    if isinstance(sid, int):
        live = sessions.check(store, sid, idle)
        if live is not None:
            return live.actor, False
        return None, sessions.end_reason(store, session_id=sid) == "idle"
    last = st.session_state.get(LAST_SEEN_KEY) or datetime.now(UTC)
    fresh = _refresh(store, actor)
    if fresh is not None and auth.session_expired(last, idle):
        return None, True
    return fresh, False


def _from_cookie(store: Store, idle: int) -> Actor | None:
    """Sign this tab in with the cookie the browser connected with (a reload, a
    bookmark, a new tab); a cookie that signs nobody in is dropped."""
    token = cookie.token()
    if not token or st.session_state.get(cookie.DEAD_KEY):
        return None
    live = sessions.lookup(store, token, idle)
    if live is None:
        if sessions.end_reason(store, token=token) == "idle":
            st.session_state["auth.expired"] = True
        cookie.forget()
        return None
    signed_in(live.actor, live.id)
    cookie.restore_lang(live)
    cookie.renew_soon()
    return live.actor


def default_language(store: Store) -> None:
    """A browser session that has not chosen a language (sign-in page included) starts
    in the ``language`` setting's; a choice made later (the switch, or the one its
    session cookie remembers) wins."""
    from clientplus_ui.i18n import LANG_KEY

    if LANG_KEY not in st.session_state:
        chosen = settings.language(store)
        st.session_state[LANG_KEY] = chosen
        st.session_state[cookie.LANG_SAVED_KEY] = chosen


def resolve_actor() -> Actor | None:
    """The signed-in actor, without rendering anything: applies idle expiry and
    deactivation, signs in by the browser's session cookie, and signs in the local
    administrator in single-user mode."""
    store = get_store()
    default_language(store)
    idle = idle_minutes(store)
    actor = current_actor()
    if actor is not None:
        fresh, expired = _check_session(store, actor, idle)
        if fresh is None:
            sign_out(store)
            st.session_state["auth.expired"] = expired
            actor = None
        else:
            actor = fresh
            signed_in(actor)
    if actor is None:
        actor = _from_cookie(store, idle)
    if actor is None and auth.single_user_mode(store, server_address()):
        actor = users.ensure_local_admin(store)
        signed_in(actor)
    return actor


def guard(operation: str | None = None) -> Actor:
    """The page gate: returns the actor, or renders sign-in / "no access" and stops."""
    from clientplus_ui.i18n import tr

    _leave_pages_folder_mode()
    store = get_store()
    actor = resolve_actor()
    if actor is None:
        if not auth.has_passwords(store):
            first_admin_form(store)
        else:
            login_form(store)
        st.stop()
    assert actor is not None
    if auth.must_change_password(store, actor.id):
        st.title(tr("Смена пароля", "Change password"))
        change_password_form(store, actor, forced=True)
        st.stop()
    if operation and not can(actor, operation):
        st.error(tr("Нет доступа к этой странице.", "You have no access to this page."))
        st.stop()
    return actor
