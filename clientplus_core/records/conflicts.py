"""Optimistic locking: the error a lost update raises, naming who saved first.

Every mutable row carries a ``version``; an update that finds another version
raises :func:`conflict`'s error instead of overwriting, with the person and time of
the last change (from the audit trail) and the fields that differ from what the
user loaded.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from clientplus_core.base.errors import ConflictError


def conflict(conn: sqlite3.Connection, current: sqlite3.Row | Mapping[str, Any],
             base: Mapping[str, Any] | None, entity: str = "client") -> ConflictError:
    """The error for a lost race on ``current`` (the row as stored now, as a mapping of
    the same shape as ``base``, what the user loaded)."""
    last = conn.execute(
        "SELECT actor_login, at FROM audit_log WHERE entity = ? AND entity_id = ?"
        " ORDER BY id DESC LIMIT 1", (entity, current["id"])).fetchone()
    who = last["actor_login"] if last else "другой пользователь"
    at = (last["at"] if last else current["updated_at"]) or ""
    hhmm = at[11:16]
    changes: dict[str, tuple[object, object]] = {}
    if base:
        for k, v in dict(current).items():
            if k in base and k not in ("updated_at", "version", "updated_by") and base[k] != v:
                changes[k] = (base[k], v)
    return ConflictError(f"Запись изменил(а) {who} в {hhmm} (UTC) — обновите карточку",
                         who, at, changes)
