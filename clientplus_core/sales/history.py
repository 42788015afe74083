"""Contact history: calls, meetings and messages logged for a sale or a client."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales.common import opt_int, parse_at, visible
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

CHANNELS = {"call": ("Звонок", "Call"), "meeting": ("Встреча", "Meeting"),
            "email": ("E-mail", "E-mail"), "messenger": ("Мессенджер", "Messenger"),
            "other": ("Другое", "Other")}


# --- contact history --------------------------------------------------------------------


def history_rows(conn: sqlite3.Connection, where: str, args: list[object],
                  limit: int) -> list[dict[str, Any]]:
    """Contact history rows matching ``where``, newest first, with the channel's label."""
    return [dict(r) | {"channel_label": CHANNELS.get(r["channel"], (r["channel"],))[0]}
            for r in conn.execute(
                "SELECT i.id, i.client_id, i.sale_id, s.number AS sale_number, i.contact_id,"
                " t.name AS contact_name, i.at, i.channel, i.subject, i.outcome, i.user_id,"
                " u.full_name AS user_name, i.created_at, i.version FROM interactions i"
                " LEFT JOIN sales s ON s.id = i.sale_id"
                " LEFT JOIN contacts t ON t.id = i.contact_id"
                " LEFT JOIN users u ON u.id = i.user_id"
                f" WHERE {where} AND i.deleted_at IS NULL ORDER BY i.at DESC, i.id DESC LIMIT ?",
                [*args, limit])]


def add_contact_event(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Log a contact: ``sale_id`` or ``client_id``, ``at`` (default now), ``contact_id``
    (the client's employee), ``channel`` (call, meeting, email, messenger, other),
    ``subject``, ``outcome``, ``user_id`` (who of us; default the actor)."""
    require(actor, "sale.update")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit, label in (("subject", 300, "Тема"), ("outcome", 5000, "Результат")):
        try:
            values[name] = clean(data.get(name), limit)
        except ValueError as exc:
            errors[name] = f"{label}: {exc}"
    if not errors and not values["subject"] and not values["outcome"]:
        errors["subject"] = "Тема: заполните тему или результат"
    channel = str(data.get("channel") or "call")
    if channel not in CHANNELS:
        channel = next((k for k, v in CHANNELS.items() if channel.lower() in
                        (v[0].lower(), v[1].lower())), channel)
    if channel not in CHANNELS:
        errors["channel"] = "Канал: звонок, встреча, e-mail, мессенджер или другое"
    try:
        values["at"] = parse_at(data.get("at"))
    except ValueError as exc:
        errors["at"] = str(exc)
    if errors:
        raise ValidationError(errors)
    with store.write() as conn:
        sale = None
        if data.get("sale_id"):
            sale = visible(conn, actor, int(data["sale_id"]))
            client_id = sale["client_id"]
        elif data.get("client_id"):
            client_id = int(data["client_id"])
            check_visible(conn, actor, client_id)
        else:
            raise ValidationError({"client_id": "Клиент: укажите клиента или продажу"})
        contact_id = opt_int(data.get("contact_id"))
        if contact_id is not None and conn.execute(
                "SELECT 1 FROM contacts WHERE id = ? AND client_id = ? AND deleted_at IS NULL",
                (contact_id, client_id)).fetchone() is None:
            raise ValidationError({"contact_id": "Контактное лицо: это не сотрудник клиента"})
        user_id = opt_int(data.get("user_id")) or actor.id
        ts = now_iso()
        cur = conn.execute(
            "INSERT INTO interactions (client_id, sale_id, contact_id, at, channel, subject,"
            " outcome, user_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (client_id, sale["id"] if sale else None, contact_id, values["at"], channel,
             values["subject"], values["outcome"], user_id, ts, ts))
        eid = int(cur.lastrowid or 0)
        audit.record(conn, actor, "contact_event", "sale" if sale else "client",
                     sale["id"] if sale else client_id, client_id,
                     f"{CHANNELS[channel][0]}: {values['subject'] or values['outcome']}"[:200])
        return history_rows(conn, "i.id = ?", [eid], 1)[0]


def contact_history(store: Store, actor: Actor, client_id: int | None = None,
                    sale_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Contacts logged for a sale, or for a client (all its sales included), newest first."""
    require(actor, "sale.read")
    with store.read() as conn:
        if sale_id is not None:
            visible(conn, actor, sale_id)
            return history_rows(conn, "i.sale_id = ?", [sale_id], limit)
        if client_id is None:
            raise ValidationError({"client_id": "Клиент: укажите клиента или продажу"})
        check_visible(conn, actor, client_id)
        return history_rows(conn, "i.client_id = ?", [client_id], limit)


def change_history(store: Store, actor: Actor, sale_id: int,
                   limit: int = 500) -> list[dict[str, Any]]:
    """Every change of the sale (creation, fields, lines, statuses, payments, documents,
    files), newest first: audit entries ``at``, ``actor_login``, ``action``,
    ``entity``, ``entity_id``, ``summary``, ``diff`` (a dict)."""
    require(actor, "sale.read")
    with store.read() as conn:
        visible(conn, actor, sale_id)
        rows = conn.execute(
            "SELECT at, actor_login, action, entity, entity_id, summary, diff FROM audit_log"
            " WHERE entity = 'sale' AND entity_id = ? ORDER BY id DESC LIMIT ?",
            (sale_id, int(limit))).fetchall()
    return [dict(r) | {"diff": json.loads(r["diff"] or "{}")} for r in rows]


def delete_contact_event(store: Store, actor: Actor, event_id: int) -> None:
    require(actor, "sale.update")
    with store.write() as conn:
        row = conn.execute("SELECT * FROM interactions WHERE id = ? AND deleted_at IS NULL",
                           (event_id,)).fetchone()
        if row is None:
            raise NotFound(f"Запись №{event_id} не найдена")
        check_visible(conn, actor, row["client_id"])
        conn.execute("UPDATE interactions SET deleted_at = ?, version = version + 1 WHERE id = ?",
                     (now_iso(), event_id))
        audit.record(conn, actor, "contact_event_delete", "client", row["client_id"],
                     row["client_id"], row["subject"] or row["outcome"][:100])
