"""The «История» tab: who changed what on this card, newest first."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.records.validation import format_phone
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from clientplus_ui.common import client_field_label, contact_field_label, kind_label, short
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_dt, show_error

ACTIONS = {
    "create": ("Создание", "Created"), "update": ("Изменение", "Changed"),
    "delete": ("Удаление", "Removed"), "restore": ("Восстановление", "Restored"),
    "merge": ("Объединение", "Merged"), "upload": ("Загрузка файла", "File uploaded"),
    "import": ("Импорт", "Imported"), "export": ("Экспорт", "Exported"),
}
ENTITIES = {"client": ("клиент", "client"), "contact": ("контакт", "contact"),
            "file": ("файл", "file"), "link": ("ссылка", "link"), "sale": ("сделка", "sale")}
MERGE_KEYS = {"merged_id": ("объединён №", "merged #"), "contacts": ("контактов", "contacts"),
              "files": ("файлов и ссылок", "files and links")}


def action_label(action: str, entity: str) -> str:
    text = tr(*ACTIONS[action]) if action in ACTIONS else action
    if entity and entity in ENTITIES and entity != "client":
        text += " · " + tr(*ENTITIES[entity])
    return text


def _value(name: str, value: Any, owners: dict[int, str]) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name == "kind":
        return kind_label(str(value))
    if name == "owner_id":
        return owners.get(int(value), f"№{value}")
    if name in ("phone", "mobile"):
        return format_phone(str(value))
    if name in ("consent_email", "consent_sms"):
        return tr("да", "yes") if value else tr("нет", "no")
    return short(value, 50)


def describe(entry: dict[str, Any], owners: dict[int, str]) -> str:
    """Summary plus «поле: было → стало» for each changed field."""
    parts = [entry.get("summary") or ""]
    diff = entry.get("diff") or {}
    if entry["action"] == "update":
        label = contact_field_label if entry["entity"] == "contact" else client_field_label
        for name, pair in diff.items():
            if isinstance(pair, (list, tuple)) and len(pair) == 2:
                old, new = (_value(name, v, owners) for v in pair)
                parts.append(f"{label(name)}: {old} → {new}")
    elif entry["action"] == "merge":
        parts += [f"{tr(*MERGE_KEYS[k])} {v}" for k, v in diff.items() if k in MERGE_KEYS]
    elif entry["action"] == "upload" and "size" in diff:
        parts.append(tr(f"{diff['size']} байт", f"{diff['size']} bytes"))
    return "; ".join(p for p in parts if p)


def render(store: Store, actor: Actor, client_id: int) -> None:
    try:
        entries = clients.history(store, actor, client_id)
    except UserError as exc:
        show_error(exc)
        return
    if not entries:
        st.info(tr("Истории пока нет.", "No history yet."))
        return
    owners = {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)}
    st.dataframe([{
        tr("Когда", "When"): fmt_dt(e["at"]),
        tr("Кто", "Who"): e["actor_login"],
        tr("Действие", "Action"): action_label(e["action"], e["entity"]),
        tr("Что", "What"): describe(e, owners),
    } for e in entries], hide_index=True, width="stretch",
        column_config={tr("Что", "What"): st.column_config.TextColumn(width="large")})
