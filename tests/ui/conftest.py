"""AppTest runs in-process: tell the app it listens on loopback so that, with no
passwords in the data folder, the local administrator is signed in (the local
single-user mode). Tests about sign-in set the address themselves.

``open_app`` is the one way the suites open the app: on ``store``'s data folder,
optionally as a given actor, with query parameters, switched to a page."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import streamlit as st
from streamlit import config
from streamlit.testing.v1 import AppTest

from clientplus_core.team import users
from clientplus_core.team.access import Actor

from .helpers import APP


@pytest.fixture(autouse=True)
def loopback_server() -> Iterator[None]:
    old = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", old)


@pytest.fixture
def open_app(store, monkeypatch) -> Iterator[Callable[..., AppTest]]:
    """``open_app(page=None, actor=None, **query)``: app.py run once, then (if given)
    switched to ``page``; ``actor`` is put into the session as if signed in."""
    monkeypatch.setenv("CLIENTPLUS_DATA", str(store.data_dir.root))
    # no background analytics build per test data folder (tests/integration covers it)
    monkeypatch.setenv("CLIENTPLUS_ANALYTICS_WARMUP", "0")
    st.cache_resource.clear()

    def run(page: str | None = None, actor: Actor | None = None,
            state: dict[str, object] | None = None, **query: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        if actor is not None:
            at.session_state["auth.actor"] = actor
        for k, v in query.items():
            at.query_params[k] = str(v)
        at.run()
        for k, v in (state or {}).items():
            at.session_state[k] = v
        if page:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    st.cache_resource.clear()


@pytest.fixture
def team(store, actor) -> dict[str, Actor]:
    """The local admin, a head and two managers (no passwords: they act through
    the session)."""
    return {"admin": actor,
            "head": users.create(store, "head1", "Главная Анна", "head"),
            "m1": users.create(store, "manager1", "Первый Пётр", "manager"),
            "m2": users.create(store, "manager2", "Вторая Вера", "manager")}
