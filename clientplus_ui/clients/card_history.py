"""The «История» tab: who changed what on this card, newest first."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from clientplus_ui import audit_text
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_dt, show_error


def action_label(action: str, entity: str = "") -> str:
    """A short name of what was done (kept for callers; the table shows sentences)."""
    return audit_text.action_label(action)


def describe(entry: dict[str, Any], owners: dict[int, str],
             statuses: dict[int, dict[str, Any]] | None = None) -> str:
    """The entry as a sentence: «Изменён клиент: Телефон: — → +7 …»."""
    return audit_text.sentence(entry, owners, statuses)


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
    logins = {u["login"]: u["full_name"] or u["login"] for u in users.list_users(store)}
    names = audit_text.status_rows(store)
    audit_text.show([{
        tr("Когда", "When"): fmt_dt(e["at"]),
        tr("Кто", "Who"): logins.get(e["actor_login"], tr("система", "system")),
        tr("Что произошло", "What happened"): describe(e, owners, names),
    } for e in entries])
