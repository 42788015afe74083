"""The audit trail: who did what, when, with the field-level diff for updates."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from .access import Actor
from .db import now_iso


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
