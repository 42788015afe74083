"""Shared fixtures: a fresh data folder with migrations applied, the local admin,
and small factories. Fakes beat mocks: every test runs against a real SQLite file."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from clientplus_core.clients import cards as clients
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

# Valid 10-digit INNs (check digits correct) for factories.
VALID_INNS = ["7707083893", "7736207543", "7702070139", "7710140679", "7728168971",
              "7704217370", "5024002119", "7812014560", "6663003127", "5408106348"]


@pytest.fixture(autouse=True)
def _stop_analytics_engines() -> Iterator[None]:
    """After each test, stop the analytics engines it started (their background build
    and change-poll threads) and close their copies: a thread left polling the data
    folder of a finished test would keep that folder's database open for the rest of
    the session. The kept report results and pooled SQLite connections go too."""
    yield
    from clientplus_core.analytics import cache, engine
    from clientplus_core.store import db, versioned

    engine.close_all()
    cache.clear()
    db.close_pool()
    versioned.clear()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh data folder with every migration applied. Afterwards, waits for the
    background text extraction of files the test uploaded (none outlives its test)."""
    from clientplus_core.clients import text_jobs

    s = open_store(tmp_path / "data")
    yield s
    text_jobs.wait(s, 60)


@pytest.fixture
def actor(store: Store) -> Actor:
    """The local administrator."""
    return users.ensure_local_admin(store)


@pytest.fixture
def make_client(store: Store, actor: Actor) -> Callable[..., dict[str, Any]]:
    """Factory: ``make_client(name=..., inn=...)`` creates a valid client."""
    counter = itertools.count(1)

    def make(**overrides: Any) -> dict[str, Any]:
        n = next(counter)
        data: dict[str, Any] = {"kind": "legal", "name": f"ООО «Клиент {n}»"}
        data.update(overrides)
        who = data.pop("actor", actor)
        return clients.create(store, who, data, allow_duplicate=True)

    return make


@pytest.fixture
def make_sale(store: Store, actor: Actor) -> Callable[..., dict[str, Any]]:
    """Factory: ``make_sale(client_id, price="100")`` creates a sale «Поставка» of
    1 March 2026 with one line (quantity 1, VAT 22 %)."""

    def make(client_id: int, price: str = "100") -> dict[str, Any]:
        from clientplus_core import sales

        return sales.create(store, actor, {"client_id": client_id, "title": "Поставка",
                                           "date": "2026-03-01", "lines": [
                                               {"name": "Товар", "qty": 1, "price": price,
                                                "vat_code": "22"}]})

    return make
