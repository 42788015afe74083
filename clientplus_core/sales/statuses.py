"""Sale statuses: a reference table (seeded with nine stages and a "lost" outcome)
whose labels, order and flags an administrator edits in settings.

Reports, the board and address books read the flags, never the labels:
``is_invoiced`` (an invoice was issued), ``is_paid``, ``is_shipped``, ``is_closed``
(no more work expected) and ``is_lost`` (lost / cancelled: a reason is required).
The ``code`` of a seeded status never changes, so code can refer to
``"partly_paid"`` and ``"paid"`` whatever they are called on screen.

Public API::

    list_statuses(store, include_inactive=False) -> list[dict]
    get(store, status_id) -> dict
    create(store, actor, data) -> dict                       # statuses.manage (admin)
    update(store, actor, status_id, data, version) -> dict   # label, label_en, sort, flags, active
    reorder(store, actor, ids: list[int]) -> list[dict]      # sort = position in ``ids``
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records.conflicts import conflict
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

FLAGS = ("is_invoiced", "is_paid", "is_shipped", "is_closed", "is_lost")
EDITABLE = ("label", "label_en", "sort", *FLAGS, "is_active")


def _rows(conn: sqlite3.Connection, include_inactive: bool = True) -> list[dict[str, Any]]:
    where = "" if include_inactive else " WHERE is_active = 1"
    return [dict(r) for r in conn.execute(f"SELECT * FROM sale_statuses{where} ORDER BY sort, id")]


def list_statuses(store: Store, include_inactive: bool = False) -> list[dict[str, Any]]:
    """Statuses in board order (active ones unless ``include_inactive``)."""
    with store.read() as conn:
        return _rows(conn, include_inactive)


def by_id(conn: sqlite3.Connection) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in _rows(conn)}


def resolve(conn: sqlite3.Connection, status: int | str) -> dict[str, Any]:
    """A status by id, code or label (NotFound otherwise)."""
    rows = _rows(conn)
    for r in rows:
        if (isinstance(status, int) and r["id"] == status) or \
                (isinstance(status, str) and status in (r["code"], r["label"], str(r["id"]))):
            return r
    if isinstance(status, str):
        low = status.strip().lower()
        for r in rows:
            if low in (r["code"].lower(), r["label"].lower(), r["label_en"].lower()):
                return r
    raise NotFound(f"Статус «{status}» не найден")


def get(store: Store, status_id: int) -> dict[str, Any]:
    with store.read() as conn:
        return resolve(conn, status_id)


def _normalise(data: Mapping[str, Any], base: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in EDITABLE})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    try:
        out["label"] = clean(merged.get("label"), 100)
        if not out["label"]:
            errors["label"] = "Название: обязательное поле"
    except ValueError as exc:
        errors["label"] = f"Название: {exc}"
    try:
        out["label_en"] = clean(merged.get("label_en"), 100)
    except ValueError as exc:
        errors["label_en"] = f"Название (англ.): {exc}"
    try:
        out["sort"] = int(merged.get("sort") or 0)
    except (TypeError, ValueError):
        errors["sort"] = "Порядок: целое число"
    for f in (*FLAGS, "is_active"):
        out[f] = 1 if merged.get(f, 1 if f == "is_active" else 0) else 0
    if out["is_lost"] and not out["is_closed"]:
        out["is_closed"] = 1
    if errors:
        raise ValidationError(errors)
    return out


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Add a status (admin); its code is derived from the label's id."""
    require(actor, "statuses.manage")
    values = _normalise(data, None)
    with store.write() as conn:
        if not values["sort"]:
            values["sort"] = int(conn.execute(
                "SELECT coalesce(max(sort), 0) + 10 FROM sale_statuses").fetchone()[0])
        code = re.sub(r"\W+", "_", clean(data.get("code")) or "").strip("_").lower()
        cur = conn.execute(
            "INSERT INTO sale_statuses (code, label, label_en, sort, is_invoiced, is_paid,"
            " is_shipped, is_closed, is_lost, is_active, updated_at) VALUES"
            " (?,?,?,?,?,?,?,?,?,?,?)",
            (code or f"tmp{now_iso()}", values["label"], values["label_en"], values["sort"],
             *(values[f] for f in FLAGS), values["is_active"], now_iso()))
        sid = int(cur.lastrowid or 0)
        if not code:
            conn.execute("UPDATE sale_statuses SET code = ? WHERE id = ?", (f"custom{sid}", sid))
        audit.record(conn, actor, "create", "sale_status", sid, None, values["label"])
        return resolve(conn, sid)


def update(store: Store, actor: Actor, status_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Change a status's label, order, flags or activity (admin). The last active
    non-lost status cannot be switched off."""
    require(actor, "statuses.manage")
    with store.write() as conn:
        row = resolve(conn, status_id)
        if row["version"] != version:
            raise conflict(conn, row, None, "sale_status")
        values = _normalise(data, row)
        if not values["is_active"] and row["is_active"]:
            left = conn.execute("SELECT count(*) FROM sale_statuses WHERE is_active = 1"
                                " AND is_lost = 0 AND id <> ?", (status_id,)).fetchone()[0]
            if not left:
                raise ValidationError({"is_active": "Нельзя отключить последний рабочий статус"})
        changes = audit.diff(row, values)
        if not changes:
            return row
        sets = values | {"updated_at": now_iso(), "version": version + 1}
        conn.execute(f"UPDATE sale_statuses SET {', '.join(f'{k} = ?' for k in sets)}"
                     " WHERE id = ?", [*sets.values(), status_id])
        audit.record(conn, actor, "update", "sale_status", status_id, None, values["label"],
                     changes)
        return resolve(conn, status_id)


def reorder(store: Store, actor: Actor, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Put statuses in the order of ``ids`` (others keep their place after them)."""
    require(actor, "statuses.manage")
    with store.write() as conn:
        known = {r["id"] for r in _rows(conn)}
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ValidationError({"ids": f"Нет статусов: {unknown}"})
        rest = [r["id"] for r in _rows(conn) if r["id"] not in ids]
        for pos, sid in enumerate([*ids, *rest], start=1):
            conn.execute("UPDATE sale_statuses SET sort = ?, updated_at = ?, version = version + 1"
                         " WHERE id = ? AND sort <> ?", (pos * 10, now_iso(), sid, pos * 10))
        audit.record(conn, actor, "reorder", "sale_status", None, None,
                     "Порядок статусов", {"ids": list(ids)})
        return _rows(conn)
