"""Record-level scope on one client: the row if the actor may see it, NotFound if not.

Every record that hangs off a client (contacts, files, sales, tasks) is visible to
whoever may see that client (:func:`~clientplus_core.team.access.client_scope`),
so all of them check through here.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from clientplus_core.base.errors import NotFound
from clientplus_core.team.access import Actor, client_scope


def visible_client(conn: sqlite3.Connection, actor: Actor, client_id: int,
                   include_deleted: bool = False) -> sqlite3.Row:
    """The client row if ``actor`` may see it (live only unless ``include_deleted``)."""
    scope_sql, scope_args = client_scope(actor, "c")
    deleted = "" if include_deleted else "AND c.deleted_at IS NULL"
    row = conn.execute(f"SELECT c.* FROM clients c WHERE c.id = ? {deleted} AND {scope_sql}",
                       [client_id, *scope_args]).fetchone()
    if row is None:
        raise NotFound(f"Клиент №{client_id} не найден")
    return row


def check_visible(conn: sqlite3.Connection, actor: Actor, client_id: int) -> sqlite3.Row:
    """The live client row if visible to ``actor``; NotFound otherwise."""
    return visible_client(conn, actor, client_id)


def visible_clients(conn: sqlite3.Connection, actor: Actor, ids: Iterable[int]) -> list[int]:
    """The ids among ``ids`` of live clients ``actor`` may see, sorted."""
    scope, args = client_scope(actor)
    wanted = sorted({int(i) for i in ids})
    out: list[int] = []
    for k in range(0, len(wanted), 900):
        chunk = wanted[k:k + 900]
        out += [r[0] for r in conn.execute(
            f"SELECT c.id FROM clients c WHERE c.id IN ({','.join('?' * len(chunk))}) AND"
            f" c.deleted_at IS NULL AND {scope}", [*chunk, *args])]
    return out
