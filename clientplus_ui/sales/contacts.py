"""Contact history (calls, meetings, e-mails…) with the client's employees: on a
sale card (that sale's contacts) and on the client card (all of them, every sale
included), with a form to log a new one."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base import formats
from clientplus_core.base.errors import UserError
from clientplus_core.clients import contacts
from clientplus_core.sales.history import CHANNELS
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import Snapshot, confirm_action, flash, lkey, short
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import sale_owners
from clientplus_ui.widgets import display_zone, fmt_dt, show_error


def render(store: Store, actor: Actor, client_id: int, sale_id: int | None = None) -> None:
    """The history (newest first) and the «Записать контакт» form."""
    where = f"s{sale_id}" if sale_id else f"c{client_id}"
    try:
        rows = sales.contact_history(store, actor, client_id=None if sale_id else client_id,
                                     sale_id=sale_id)
    except UserError as exc:
        show_error(exc)
        return
    if rows:
        view = [{
            tr("Когда", "When"): fmt_dt(r["at"]),
            tr("Сотрудник клиента", "Client's employee"): r["contact_name"] or "",
            tr("Канал", "Channel"): tr(*CHANNELS.get(r["channel"], (r["channel"],) * 2)),
            tr("Тема", "Subject"): r["subject"],
            tr("Результат", "Outcome"): short(r["outcome"], 120),
            tr("Кто", "Who"): r["user_name"] or "",
            **({} if sale_id else {tr("Продажа", "Sale"): r["sale_number"] or ""}),
        } for r in rows]
        widths = {tr("Когда", "When"): 125, tr("Сотрудник клиента", "Client's employee"): 150,
                  tr("Канал", "Channel"): 90, tr("Тема", "Subject"): 170,
                  tr("Результат", "Outcome"): 210 if sale_id is None else 260,
                  tr("Кто", "Who"): 120, tr("Продажа", "Sale"): 85}
        event = st.dataframe(view, key=f"sh.{where}.table", on_select="rerun",
                             selection_mode="single-row", hide_index=True, width="stretch",
                             column_config={name: st.column_config.TextColumn(width=w)
                                            for name, w in widths.items()})
        picked = event.selection.rows if event is not None else []
        if picked and picked[0] < len(rows) and can(actor, "sale.update"):
            row = rows[picked[0]]
            if row["outcome"]:
                st.caption(tr("Результат: ", "Outcome: ") + short(row["outcome"], 2000))
            confirm_action(tr("Удалить запись", "Remove the entry"),
                           tr("Удалить эту запись истории контактов?",
                              "Remove this contact history entry?"),
                           tr("Да, удалить", "Yes, remove"), f"sh.{where}.del.{row['id']}",
                           lambda: _delete(store, actor, row["id"]))
    else:
        st.info(tr("Контактов пока не было.", "No contacts logged yet."))
    if can(actor, "sale.update"):
        _form(store, actor, client_id, sale_id, where)


def _delete(store: Store, actor: Actor, event_id: int) -> None:
    try:
        sales.delete_contact_event(store, actor, event_id)
    except UserError as exc:
        show_error(exc)
        return
    flash(tr("Запись удалена", "Entry removed"))
    st.rerun()


def _form(store: Store, actor: Actor, client_id: int, sale_id: int | None, where: str) -> None:
    snap = Snapshot(f"sh.{where}.new")
    people = {p["id"]: p["name"] for p in contacts.list_for_client(store, actor, client_id)}
    ours = sale_owners(store)
    zone = display_zone()
    now = formats.local_now(zone)  # the office's clock (setting «timezone»), not the server's
    with st.expander(tr("Записать контакт", "Log a contact"), icon=":material/add_call:"):
        with st.form(snap.key("form"), border=False):
            c1, c2, c3, c4 = st.columns(4)
            on = c1.date_input(tr("Дата", "Date"), value=now.date(), format="DD.MM.YYYY",
                               key=snap.key("date"))
            at = c2.time_input(tr("Время", "Time"), value=now.time().replace(tzinfo=None),
                               key=snap.key("time"), step=300)
            channels = {c: tr(*v) for c, v in CHANNELS.items()}
            channel = c3.selectbox(tr("Канал", "Channel"), list(channels),
                                   format_func=channels.__getitem__,
                                   key=lkey(snap.key("channel")))
            contact = c4.selectbox(tr("Сотрудник клиента", "Client's employee"), [0, *people],
                                   format_func=lambda i: people.get(i, "—"),
                                   key=snap.key("contact"))
            c5, c6 = st.columns([3, 1])
            subject = c5.text_input(tr("Тема", "Subject"), key=snap.key("subject"))
            user = c6.selectbox(tr("Кто из нас", "Who of us"), list(ours),
                                index=list(ours).index(actor.id) if actor.id in ours else None,
                                format_func=lambda i: ours.get(i, ""), key=snap.key("user"))
            outcome = st.text_area(tr("Результат", "Outcome"), key=snap.key("outcome"), height=80)
            go = st.form_submit_button(tr("Записать", "Log it"), type="primary")
    if go:
        when: Any = None
        if isinstance(on, dt.date):
            when = dt.datetime.combine(on, at or dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
        try:
            sales.add_contact_event(store, actor, {
                "sale_id": sale_id, "client_id": client_id, "at": when, "channel": channel,
                "contact_id": contact or None, "subject": subject, "outcome": outcome,
                "user_id": user})
        except UserError as exc:
            show_error(exc)
            return
        snap.reload()
        flash(tr("Контакт записан", "Contact logged"))
        st.rerun()
