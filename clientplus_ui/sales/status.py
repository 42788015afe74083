"""A sale's status: «Следующий этап», any status (lost / cancelled needs a reason),
and the log of every change (from, to, who, when)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_core.sales import statuses
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import flash, lkey, md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import status_label
from clientplus_ui.widgets import fmt_dt, show_error


def move(store: Store, actor: Actor, sale_id: int, status: int | str, reason: str = "",
         note: str = "") -> bool:
    """Set the status; a flash message on success, the core's error otherwise."""
    try:
        target = sales.set_status(store, actor, sale_id, status, reason=reason, note=note)
    except UserError as exc:
        show_error(exc)
        return False
    flash(tr("Статус: ", "Status: ") + f"«{status_label(target)}»")
    return True


def next_button(store: Store, actor: Actor, sale_id: int, key: str, label: str = "",
                kind: str = "primary") -> None:
    """«→ <next status>» for a sale (nothing when it is the last stage or lost)."""
    try:
        nxt = sales.next_status(store, actor, sale_id)
    except UserError:
        return
    if nxt is None or not can(actor, "sale.update"):
        return
    if st.button(label or tr(f"Следующий этап: {nxt['label']}",
                             f"Next stage: {nxt.get('label_en') or nxt['label']}"),
                 key=key, icon=":material/arrow_forward:",
                 type=kind,  # type: ignore[arg-type]
                 help=status_label(nxt)) and move(store, actor, sale_id, nxt["id"]):
        st.rerun()


def bar(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    """The current status, «Следующий этап» and a form to set any status."""
    current = card["status"] or {}
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    with c1:
        reason = card.get("lost_reason") if current.get("is_lost") else ""
        st.markdown(tr("Статус: ", "Status: ") + f"**{md_escape(status_label(current))}**"
                    + (f" — {md_escape(reason)}" if reason else ""))
        next_button(store, actor, card["id"], f"ss.{card['id']}.next")
    if not can(actor, "sale.update"):
        return
    with c2, st.popover(tr("Сменить статус", "Change status"), icon=":material/swap_horiz:"):
        options = {s["id"]: status_label(s) for s in statuses.list_statuses(store)}
        with st.form(f"ss.{card['id']}.form", border=False):
            target = st.selectbox(tr("Новый статус", "New status"), list(options),
                                  index=list(options).index(current["id"])
                                  if current.get("id") in options else 0,
                                  format_func=options.__getitem__,
                                  key=lkey(f"ss.{card['id']}.target"))
            reason = st.text_input(tr("Причина (для «проиграна / отменена»)",
                                      "Reason (for lost / cancelled)"),
                                   key=f"ss.{card['id']}.reason")
            note = st.text_input(tr("Комментарий", "Comment"), key=f"ss.{card['id']}.note")
            go = st.form_submit_button(tr("Применить", "Apply"), type="primary")
        if go and move(store, actor, card["id"], target, reason, note):
            st.rerun()


def log(store: Store, card: dict[str, Any]) -> None:
    """Every status change of the sale: from, to, who, when."""
    rows = card["status_log"]
    if not rows:
        st.info(tr("Статус ещё не менялся.", "The status has not changed yet."))
        return
    names = {s["id"]: status_label(s) for s in statuses.list_statuses(store, True)}
    st.dataframe([{
        tr("Когда", "When"): fmt_dt(r["at"]),
        tr("Было", "From"): names.get(r["from_status_id"], r["from_label"]) or "—",
        tr("Стало", "To"): names.get(r["to_status_id"], r["to_label"]),
        tr("Кто", "Who"): r["actor_name"] or r["actor_login"] or "",
        tr("Комментарий", "Comment"): r["note"] or "",
    } for r in reversed(rows)], hide_index=True, width="stretch")


def history(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    """Every change of the sale as sentences («Изменена продажа 2026-0001: Скидка:
    — → 10 %»), newest first, in the ``timezone`` setting's time."""
    from clientplus_core.team import users
    from clientplus_ui import audit_text

    try:
        entries = sales.change_history(store, actor, int(card["id"]))
    except UserError as exc:
        show_error(exc)
        return
    if not entries:
        st.info(tr("Истории пока нет.", "No history yet."))
        return
    people = users.list_users(store)
    owners = {int(u["id"]): str(u["full_name"] or u["login"]) for u in people}
    logins = {str(u["login"]): str(u["full_name"] or u["login"]) for u in people}
    names = audit_text.status_rows(store)
    audit_text.show([{
        tr("Когда", "When"): fmt_dt(e["at"]),
        tr("Кто", "Who"): logins.get(str(e["actor_login"]), tr("система", "system")),
        tr("Что произошло", "What happened"): audit_text.sentence(e, owners, names),
    } for e in entries])
