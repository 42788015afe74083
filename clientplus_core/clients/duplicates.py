"""Duplicate clients: who else has this INN, phone or e-mail, and what the person
typing it may learn about them.

A manager sees the matching clients in their own scope by name and number (with a
link to open them); of any other match they learn only that a client with this
value is kept by another employee, and whom to ask (the head) — never its name,
number or owner. The same wording serves the card form and the import.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from clientplus_core.base.errors import DuplicateWarning
from clientplus_core.team.access import Actor, client_scope


def find_duplicates(conn: sqlite3.Connection, inn: str = "", phone: str = "", email: str = "",
                    exclude_id: int | None = None) -> list[dict[str, Any]]:
    """Live clients (and contacts' clients) sharing the INN, phone or e-mail."""
    found: dict[int, dict[str, Any]] = {}

    def add(rows: list[sqlite3.Row], reason: str) -> None:
        for r in rows:
            if r["id"] != exclude_id:
                found.setdefault(r["id"], {"id": r["id"], "name": r["name"], "reasons": []})
                if reason not in found[r["id"]]["reasons"]:
                    found[r["id"]]["reasons"].append(reason)

    live = "deleted_at IS NULL"
    if inn:
        add(conn.execute(f"SELECT id, name FROM clients WHERE inn = ? AND inn <> '' AND {live}",
                         (inn,)).fetchall(), "ИНН")
    if phone:
        add(conn.execute(
            f"SELECT id, name FROM clients WHERE phone = ? AND phone <> '' AND {live}",
            (phone,)).fetchall(), "телефон")
        add(conn.execute(
            "SELECT c.id, c.name FROM contacts t JOIN clients c ON c.id = t.client_id"
            " WHERE t.phone = ? AND t.phone <> '' AND t.deleted_at IS NULL"
            " AND c.deleted_at IS NULL UNION "
            "SELECT c.id, c.name FROM contacts t JOIN clients c ON c.id = t.client_id"
            " WHERE t.mobile = ? AND t.mobile <> '' AND t.deleted_at IS NULL"
            " AND c.deleted_at IS NULL", (phone, phone)).fetchall(), "телефон")
    if email:
        add(conn.execute(
            f"SELECT id, name FROM clients WHERE email = ? COLLATE NOCASE AND email <> ''"
            f" AND {live}", (email,)).fetchall(), "e-mail")
        add(conn.execute(
            "SELECT c.id, c.name FROM contacts t JOIN clients c ON c.id = t.client_id"
            " WHERE t.email = ? COLLATE NOCASE AND t.email <> '' AND t.deleted_at IS NULL"
            " AND c.deleted_at IS NULL", (email,)).fetchall(), "e-mail")
    return list(found.values())


def duplicate_message(dups: list[dict[str, Any]]) -> str:
    """«Похожий клиент уже есть: «name» (№id, совпадает …)» for up to three ``dups``."""
    parts = [f"«{d['name']}» (№{d['id']}, совпадает {', '.join(d['reasons'])})" for d in dups[:3]]
    return "Похожий клиент уже есть: " + "; ".join(parts)


def head_to_ask(conn: sqlite3.Connection) -> str:
    """Whom a manager asks about a client kept by someone else: the first active head,
    else the first active administrator (full name, else login); "" if nobody."""
    row = conn.execute(
        "SELECT coalesce(nullif(full_name, ''), login) FROM users WHERE is_active = 1"
        " AND role IN ('head', 'admin') ORDER BY role = 'admin', id LIMIT 1").fetchone()
    return str(row[0]) if row else ""


_WITH = {"ИНН": "ИНН", "телефон": "телефоном", "e-mail": "e-mail"}


def foreign_duplicate_message(conn: sqlite3.Connection, reasons: list[str]) -> str:
    """The only thing a manager learns about a matching client outside their scope
    (``reasons``: "ИНН", "телефон", "e-mail"): that it exists and is kept by another
    employee, and whom to ask. Never its name, number or owner."""
    head = head_to_ask(conn)
    what = " и ".join(_WITH.get(r, r) for r in reasons)
    ask = f": {head}" if head else ""
    return (f"Клиент с таким {what} уже есть: он закреплён за другим сотрудником."
            f" Чтобы получить к нему доступ, обратитесь к руководителю{ask}.")


def duplicate_warning(conn: sqlite3.Connection, actor: Actor,
                      dups: list[dict[str, Any]]) -> DuplicateWarning:
    """The warning for ``dups`` as ``actor`` may see it: clients in the actor's scope by
    name and number (their ids in ``existing_ids``), the others only as
    :func:`foreign_duplicate_message`."""
    scope_sql, args = client_scope(actor, "c")
    ids = [d["id"] for d in dups]
    visible = {r[0] for r in conn.execute(
        f"SELECT c.id FROM clients c WHERE c.id IN ({','.join('?' * len(ids)) or 'NULL'})"
        f" AND {scope_sql}", [*ids, *args])}
    mine = [d for d in dups if d["id"] in visible]
    reasons: list[str] = []
    for d in dups:
        if d["id"] not in visible:
            reasons += [r for r in d["reasons"] if r not in reasons]
    parts = [duplicate_message(mine)] if mine else []
    if reasons:
        parts.append(foreign_duplicate_message(conn, reasons))
    return DuplicateWarning(". ".join(parts), [d["id"] for d in mine])
