"""Who is signed in and which data folder we serve, for every page.

Every page file starts with ``actor = guard()``. With no user in this session it
shows the sign-in form (or, on a loopback-only server where nobody has a password
yet, signs in the local administrator) and stops the script, so a deep link on a
fresh server never renders data before the gate ran.
"""

from __future__ import annotations

from datetime import UTC, datetime

import streamlit as st

from clientplus_core import auth, settings, users
from clientplus_core.access import Actor, can
from clientplus_core.config import resolve_data_dir
from clientplus_core.db import Store, open_store
from clientplus_core.errors import NotFound

from .login import (
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
    """One Store per data folder (it holds only paths; connections are per call)."""
    return open_store(data_dir)


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


def guard(operation: str | None = None) -> Actor:
    """The page gate: returns the actor, or renders sign-in / "no access" and stops."""
    from .i18n import tr

    store = get_store()
    actor = current_actor()
    if actor is not None:
        idle = int(settings.get(store, "session_idle_minutes") or 0)
        last = st.session_state.get(LAST_SEEN_KEY) or datetime.now(UTC)
        fresh = _refresh(store, actor)
        if fresh is None or auth.session_expired(last, idle):
            sign_out()
            st.session_state["auth.expired"] = fresh is not None
            actor = None
        else:
            actor = fresh
            signed_in(actor)
    if actor is None:
        if auth.single_user_mode(store, server_address()):
            actor = users.ensure_local_admin(store)
            signed_in(actor)
        elif not auth.has_passwords(store):
            first_admin_form(store)
            st.stop()
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
