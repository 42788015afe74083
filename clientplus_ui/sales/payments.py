"""The «Оплаты» tab: the payment schedule (planned payments) and the payments
received, with the status the core suggests once the sale is partly or fully paid."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import Snapshot, confirm_action, flash, md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import day, rub, status_label
from clientplus_ui.sales.status import move
from clientplus_ui.widgets import show_error


def render(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    writable = can(actor, "sale.update")
    suggestion(store, actor, card)
    bal = card["balance"]
    st.markdown("**" + tr("График платежей", "Payment schedule") + "**")
    st.caption(tr(f"Запланировано {rub(bal['planned'])} из {rub(card['totals']['total'])}",
                  f"Planned {rub(bal['planned'])} of {rub(card['totals']['total'])}")
               + (tr(f" · просрочено {rub(bal['overdue'])} (с {day(bal['overdue_from'])})",
                     f" · overdue {rub(bal['overdue'])} (since {day(bal['overdue_from'])})")
                  if bal["is_overdue"] else ""))
    _rows(store, actor, card["schedule"], writable, plan=True)
    if writable:
        _plan_form(store, actor, card)
    st.markdown("**" + tr("Поступившие оплаты", "Payments received") + "**")
    _rows(store, actor, card["payments"], writable, plan=False)
    if writable:
        _payment_form(store, actor, card)


def suggestion(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    """«Оплачено полностью — перевести в «Оплачено»?» with a button that applies it."""
    target = card.get("suggested_status")
    if not target:
        return
    label = status_label(target)
    st.info(tr(f"По оплатам продажу можно перевести в статус «{label}».",
               f"The payments suggest the status “{label}”."), icon=":material/lightbulb:")
    if can(actor, "sale.update") and st.button(
            tr(f"Перевести в «{label}»", f"Move to “{label}”"), key=f"sp.{card['id']}.apply",
            icon=":material/done_all:") and move(store, actor, card["id"], target["id"],
                                                 note=tr("по оплате", "by payment")):
        st.rerun()


def _rows(store: Store, actor: Actor, rows: list[dict[str, Any]], writable: bool,
          plan: bool) -> None:
    if not rows:
        st.caption(tr("Платежей пока нет.", "No payments yet.") if not plan
                   else tr("План платежей не задан.", "No planned payments."))
        return
    widths = [1.2, 1.4, 3, 2, 0.6]
    head = st.columns(widths)
    for col, title in zip(head, [tr("Дата", "Date"), tr("Сумма", "Amount"),
                                 tr("Примечание", "Note") if plan
                                 else tr("Документ · примечание", "Document · note"),
                                 tr("Кто внёс", "Entered by")], strict=False):
        col.caption(title)
    for p in rows:
        c = st.columns(widths, vertical_alignment="center")
        c[0].text(day(p["date"]))
        c[1].text(rub(p["amount"]))
        c[2].text(" · ".join(x for x in (p.get("document") or "", p.get("note") or "") if x))
        c[3].text(p.get("created_by_name") or "")
        if writable:
            with c[4]:
                confirm_action("", tr(f"Удалить платёж {rub(p['amount'])} от {day(p['date'])}?",
                                      f"Remove the payment of {rub(p['amount'])}?"),
                               tr("Да, удалить", "Yes, remove"), f"sp.del.{p['id']}",
                               lambda pid=p["id"]: _delete(store, actor, pid))


def _delete(store: Store, actor: Actor, payment_id: int) -> None:
    try:
        sales.delete_payment(store, actor, payment_id)
    except UserError as exc:
        show_error(exc)
        return
    flash(tr("Платёж удалён", "Payment removed"))
    st.rerun()


def _plan_form(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    snap = Snapshot(f"sp.{card['id']}.plan")
    with st.expander(tr("Запланировать платёж", "Plan a payment"), icon=":material/event:"):
        with st.form(snap.key("form"), border=False):
            c1, c2, c3 = st.columns([1, 1, 3])
            when = c1.date_input(tr("Дата платежа", "Due date"), value=None,
                                 format="DD.MM.YYYY", key=snap.key("date"))
            amount = c2.text_input(tr("Сумма", "Amount"), key=snap.key("amount"))
            note = c3.text_input(tr("Примечание", "Note"), key=snap.key("note"),
                                 placeholder=tr("аванс 50 %", "50 % advance"))
            go = st.form_submit_button(tr("Добавить в график", "Add to the schedule"))
    if go:
        try:
            sales.add_planned_payment(store, actor, card["id"], amount,
                                      when.isoformat() if isinstance(when, dt.date) else None,
                                      note)
        except UserError as exc:
            show_error(exc)
            return
        snap.reload()
        flash(tr("Платёж добавлен в график", "Payment planned"))
        st.rerun()


def _payment_form(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    snap = Snapshot(f"sp.{card['id']}.fact")
    remaining = card["balance"]["remaining"]
    with st.expander(tr("Внести оплату", "Record a payment"), icon=":material/payments:",
                     expanded=bool(remaining) and not card["payments"]):
        with st.form(snap.key("form"), border=False):
            c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
            when = c1.date_input(tr("Дата оплаты", "Paid on"), value=sales.today(),
                                 format="DD.MM.YYYY", key=snap.key("date"))
            amount = c2.text_input(tr("Сумма оплаты", "Amount paid"),
                                   value=rub(remaining, sign=False) if remaining else "",
                                   key=snap.key("amount"))
            document = c3.text_input(tr("Документ", "Document"), key=snap.key("document"),
                                     placeholder=tr("п/п № 123 от 01.03.2026",
                                                    "payment order No. 123"))
            note = c4.text_input(tr("Примечание", "Note"), key=snap.key("note"))
            go = st.form_submit_button(tr("Добавить оплату", "Add payment"), type="primary")
    if go:
        try:
            result = sales.add_payment(store, actor, card["id"], amount,
                                       when.isoformat() if isinstance(when, dt.date) else None,
                                       document, note)
        except UserError as exc:
            show_error(exc)
            return
        snap.reload()
        text = tr(f"Оплата {rub(result['payment']['amount'])} внесена",
                  f"Payment of {rub(result['payment']['amount'])} recorded")
        if result["status_changed"]:
            text += tr(f"; статус: «{status_label(result['suggested_status'])}»",
                       f"; status: “{status_label(result['suggested_status'])}”")
        flash(md_escape(text))
        st.rerun()
