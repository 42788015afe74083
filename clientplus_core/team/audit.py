"""The audit trail: who did what, when, with the field-level diff for updates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from clientplus_core.base.textnorm import like_contains
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, require


def diff(before: Mapping[str, Any], after: Mapping[str, Any],
         ignore: tuple[str, ...] = ("updated_at", "version", "updated_by")) -> dict[str, list[Any]]:
    """Fields whose value differs: ``{field: [old, new]}``."""
    out: dict[str, list[Any]] = {}
    for key in after:
        if key in ignore:
            continue
        if before.get(key) != after.get(key):
            out[key] = [before.get(key), after.get(key)]
    return out


def record(conn: sqlite3.Connection, actor: Actor | None, action: str, entity: str = "",
           entity_id: int | None = None, client_id: int | None = None,
           summary: str = "", changes: Mapping[str, Any] | None = None) -> None:
    """Append one row to the audit log inside the caller's transaction."""
    conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor_login, action, entity, entity_id,"
        " client_id, summary, diff) VALUES (?,?,?,?,?,?,?,?,?)",
        (now_iso(), actor.id if actor else None, actor.login if actor else "system",
         action, entity, entity_id, client_id, summary[:500],
         json.dumps(changes or {}, ensure_ascii=False, default=str)),
    )


def query(store: Store, actor: Actor, *, login: str | None = None, action: str | None = None,
          entity: str | None = None, date_from: str | None = None, date_to: str | None = None,
          text: str | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Audit entries, newest first, filtered (head and admin only). Read-only: the
    app has no function that edits or deletes audit rows."""
    require(actor, "audit.read")
    where: list[str] = []
    args: list[object] = []
    for col, val in (("actor_login", login), ("action", action), ("entity", entity)):
        if val:
            where.append(f"{col} = ?")
            args.append(val)
    if date_from:
        where.append("at >= ?")
        args.append(str(date_from))
    if date_to:
        where.append("at < date(?, '+1 day')")
        args.append(str(date_to))
    if text:
        where.append("(summary LIKE ? ESCAPE '\\' OR diff LIKE ? ESCAPE '\\')")
        args += [like_contains(text)] * 2
    sql = ("SELECT id, at, actor_login, action, entity, entity_id, client_id, summary, diff"
           " FROM audit_log" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT ?")
    with store.read() as conn:
        rows = conn.execute(sql, [*args, int(limit)]).fetchall()
    return [dict(r) | {"diff": json.loads(r["diff"] or "{}")} for r in rows]


def actions(store: Store) -> list[str]:
    """Distinct actions present in the log (for a filter)."""
    with store.read() as conn:
        return [r[0] for r in conn.execute("SELECT DISTINCT action FROM audit_log ORDER BY 1")]
