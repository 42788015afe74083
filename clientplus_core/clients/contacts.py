"""The client's employees (contact persons)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients.fields import CONTACT_FIELDS, spec
from clientplus_core.records.conflicts import conflict
from clientplus_core.records.validation import (
    check_email,
    check_phone,
    format_phone,
    phone_search_tokens,
)
from clientplus_core.records.visibility import check_visible
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

TEXT = ("name", "post", "phone", "mobile", "email", "messenger", "birthday", "notes")
FLAGS = ("consent_email", "consent_sms")


def _flag(v: object) -> int:
    if isinstance(v, str):
        return 1 if v.strip().lower() in ("1", "да", "yes", "true", "y", "д", "+") else 0
    return 1 if v else 0


def normalise(data: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate a contact; ValidationError names each bad field."""
    merged = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in TEXT + FLAGS})
    out: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in TEXT:
        fs = spec(CONTACT_FIELDS, name)
        try:
            out[name] = clean(merged.get(name), fs.max_len if name != "birthday" else 40)
        except ValueError as exc:
            errors[name] = f"{fs.ru}: {exc}"
            out[name] = ""
    if not out["name"] and "name" not in errors:
        errors["name"] = "ФИО: обязательное поле"
    for name, fn in (("phone", check_phone), ("mobile", check_phone), ("email", check_email)):
        if name not in errors:
            try:
                out[name] = fn(out[name])
            except ValueError as exc:
                errors[name] = f"{spec(CONTACT_FIELDS, name).ru}: {exc}"
    if out["birthday"] and "birthday" not in errors:
        try:
            out["birthday"] = _parse_date(out["birthday"])
        except ValueError:
            errors["birthday"] = "День рождения: дата вида 31.12.1980 или 1980-12-31"
    for name in FLAGS:
        out[name] = _flag(merged.get(name))
    if errors:
        raise ValidationError(errors)
    return out


def _parse_date(s: str) -> str:
    from datetime import date, datetime

    s = s.strip()[:10]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            return datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    if isinstance(s, date):
        return s.isoformat()
    raise ValueError(s)


def index_contact(conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
    phones = [p for p in (row["phone"], row["mobile"]) if p]
    body = [format_phone(p) for p in phones] + [row["post"], row["email"], row["messenger"],
                                                row["notes"]]
    search.index_row(conn, "contact", row["id"], row["client_id"], row["name"], body,
                     hidden=[t for p in phones for t in phone_search_tokens(p)])


def list_for_client(store: Store, actor: Actor, client_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        check_visible(conn, actor, client_id)
        return [dict(r) for r in conn.execute(
            "SELECT * FROM contacts WHERE client_id = ? AND deleted_at IS NULL ORDER BY name",
            (client_id,))]


def create(store: Store, actor: Actor, client_id: int, data: Mapping[str, Any],
           conn: sqlite3.Connection | None = None, normalised: bool = False) -> dict[str, Any]:
    """Add a contact to a client (``normalised``: ``data`` came from :func:`normalise`)."""
    require(actor, "client.update")
    values = dict(data) if normalised else normalise(data)
    if conn is None:
        with store.write() as c:
            return _create(c, actor, client_id, values)
    return _create(conn, actor, client_id, values)


def _create(conn: sqlite3.Connection, actor: Actor, client_id: int,
            values: dict[str, Any]) -> dict[str, Any]:
    check_visible(conn, actor, client_id)
    ts = now_iso()
    row = values | {"client_id": client_id, "created_by": actor.id, "created_at": ts,
                    "updated_at": ts}
    cur = conn.execute(f"INSERT INTO contacts ({', '.join(row)}) VALUES"
                       f" ({', '.join('?' * len(row))})", list(row.values()))
    stored = conn.execute("SELECT * FROM contacts WHERE id = ?", (cur.lastrowid,)).fetchone()
    index_contact(conn, stored)
    audit.record(conn, actor, "create", "contact", stored["id"], client_id, values["name"])
    return dict(stored)


def _get(conn: sqlite3.Connection, actor: Actor, contact_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM contacts WHERE id = ? AND deleted_at IS NULL",
                       (contact_id,)).fetchone()
    if row is None:
        raise NotFound(f"Контакт №{contact_id} не найден")
    check_visible(conn, actor, row["client_id"])
    return row


def update(store: Store, actor: Actor, contact_id: int, data: Mapping[str, Any],
           version: int, base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    require(actor, "client.update")
    with store.write() as conn:
        row = _get(conn, actor, contact_id)
        if row["version"] != version:
            raise conflict(conn, row, base, "contact")
        before = dict(row)
        values = normalise(data, before)
        changes = audit.diff(before, values)
        if not changes:
            return before
        sets = values | {"updated_at": now_iso(), "version": version + 1}
        conn.execute(f"UPDATE contacts SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                     [*sets.values(), contact_id])
        stored = conn.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
        index_contact(conn, stored)
        audit.record(conn, actor, "update", "contact", contact_id, row["client_id"],
                     values["name"], changes)
        return dict(stored)


def delete(store: Store, actor: Actor, contact_id: int) -> None:
    require(actor, "client.update")
    with store.write() as conn:
        row = _get(conn, actor, contact_id)
        conn.execute("UPDATE contacts SET deleted_at = ?, version = version + 1 WHERE id = ?",
                     (now_iso(), contact_id))
        search.unindex(conn, "contact", contact_id)
        audit.record(conn, actor, "delete", "contact", contact_id, row["client_id"], row["name"])


def move_all(conn: sqlite3.Connection, from_client: int, to_client: int) -> int:
    """Move every contact of one client to another (merge); returns how many."""
    ids = [r[0] for r in conn.execute("SELECT id FROM contacts WHERE client_id = ?",
                                      (from_client,))]
    conn.execute("UPDATE contacts SET client_id = ?, updated_at = ? WHERE client_id = ?",
                 (to_client, now_iso(), from_client))
    for i in ids:
        search.set_client_id(conn, "contact", i, to_client)
    return len(ids)


