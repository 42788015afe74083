"""The tag list of the registry's filter and the card's tag picker: only tags of
live clients the user may see (the query walks the tags instead of joining every
tag row to its client, so its answer is checked against the plain join here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from clientplus_core.clients import cards as clients
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor, client_scope


def _plain(store: Store, actor: Actor) -> list[str]:
    scope_sql, args = client_scope(actor, "c")
    with store.read() as conn:
        return [r[0] for r in conn.execute(
            "SELECT DISTINCT t.tag FROM client_tags t JOIN clients c ON c.id = t.client_id"
            f" WHERE c.deleted_at IS NULL AND {scope_sql} ORDER BY t.tag", args)]


def test_tags_of_live_visible_clients_only(
        store: Store, actor: Actor, make_client: Callable[..., dict[str, Any]]) -> None:
    m1 = users.create(store, "m1", "Менеджер Один", "manager")
    m2 = users.create(store, "m2", "Менеджер Два", "manager")
    make_client(tags=["опт", "vip"], owner_id=m1.id)
    make_client(tags=["розница"], owner_id=m2.id)
    gone = make_client(tags=["архив", "опт"], owner_id=m1.id)
    make_client(tags=["Б", "а"], owner_id=m2.id)
    clients.delete(store, actor, gone["id"])

    assert clients.all_tags(store, actor) == _plain(store, actor)
    assert set(clients.all_tags(store, actor)) == {"опт", "vip", "розница", "Б", "а"}
    assert clients.all_tags(store, m1) == ["vip", "опт"]
    assert clients.all_tags(store, m2) == _plain(store, m2)
    assert "архив" not in clients.all_tags(store, m2)


def test_no_tags_at_all(store: Store, actor: Actor) -> None:
    assert clients.all_tags(store, actor) == []
