"""Who is signed in and which data folder we serve, for every page.

Every page file starts with ``actor = guard()``: with no user in this session it
shows the sign-in (or, in local single-user mode, signs in the local
administrator) and stops the script, so a deep link on a fresh server never
renders data before the gate ran.
"""

from __future__ import annotations

import streamlit as st

from clientplus_core import users
from clientplus_core.access import Actor, can
from clientplus_core.config import resolve_data_dir
from clientplus_core.db import Store, open_store

ACTOR_KEY = "auth.actor"


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


def guard(operation: str | None = None) -> Actor:
    """The page gate: returns the actor, or renders sign-in / "no access" and stops."""
    actor = current_actor()
    if actor is None:
        # Single-user local mode (until the team issue brings sign-in): the
        # local administrator acts.
        actor = users.ensure_local_admin(get_store())
        st.session_state[ACTOR_KEY] = actor
    if operation and not can(actor, operation):
        from .i18n import tr

        st.error(tr("Нет доступа к этой странице.", "You have no access to this page."))
        st.stop()
    return actor
