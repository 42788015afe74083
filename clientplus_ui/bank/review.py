"""The review list: incoming payments that were not matched with confidence, each
with its candidate sales ranked, and what a person does with one — record it on
the suggested or a picked sale, split it over several invoices, create the client
from the payer's requisites, or dismiss it with a reason.

Every action goes through :mod:`clientplus_core.bank`; a refused one shows its
message under the payment, naming the field (the part of a split names its sale).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import streamlit as st

from clientplus_core import bank, sales
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.sales import money
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.common import flash, lkey, md_escape, show_flash
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_day, fmt_money, show_error

PER_PAGE = 20
SUGGESTED = -1   # the option «as suggested» (possibly several sales)
OTHER = 0        # the option «another sale, by its number»


def section(store: Store, actor: Actor) -> None:
    """The payments waiting for review, oldest first (the first :data:`PER_PAGE`)."""
    show_flash()
    try:
        items = bank.review_items(store, actor)
    except UserError as exc:
        show_error(exc)
        return
    if not items:
        st.success(tr("Разбирать нечего: все поступления разнесены.",
                      "Nothing to review: every incoming payment is recorded."))
        return
    st.caption(tr(f"Ждут разбора: {len(items)}. Выберите продажу и разнесите платёж,"
                  " разделите его между счетами, создайте клиента по реквизитам плательщика"
                  " или отклоните.",
                  f"Waiting for review: {len(items)}. Pick a sale and record the payment,"
                  " split it over invoices, create the client from the payer's requisites"
                  " or dismiss it."))
    for d in items[:PER_PAGE]:
        item(store, actor, d)
    if len(items) > PER_PAGE:
        st.caption(tr(f"…и ещё {len(items) - PER_PAGE}: они появятся, когда эти будут разобраны.",
                      f"…and {len(items) - PER_PAGE} more: they show once these are resolved."))


def candidate_text(c: Mapping[str, Any]) -> str:
    """«2026-0015 · Похоже на счёт № 15 клиента ООО «Ромашка», остаток 12 000,00 ₽ (…)»."""
    rest = fmt_money(money.from_kop(c["remaining_kop"]))
    return f"{c['sale_number']} · " + tr(str(c["reason"]),
                                         f"{c['client_name']}, remaining {rest}")


def item(store: Store, actor: Actor, d: Mapping[str, Any]) -> None:
    """One payment: who paid, how much, when, what for, the candidates and the actions."""
    pid = int(d["id"])
    key = f"bank.rv.{pid}"
    with st.container(border=True, key=key):
        st.markdown(f"**{md_escape(d['payer_name'] or tr('Плательщик без имени', 'No name'))}**"
                    f" · {fmt_money(d['amount'])} · {fmt_day(d['paid_on'] or d['doc_date'])}")
        st.caption(tr(f"п/п № {md_escape(d['doc_number'])} от {fmt_day(d['doc_date'])}, ИНН "
                      f"{md_escape(d['payer_inn'] or '—')}, выписка {md_escape(d['file_name'])}",
                      f"payment order {md_escape(d['doc_number'])} of {fmt_day(d['doc_date'])},"
                      f" INN {md_escape(d['payer_inn'] or '—')}, statement"
                      f" {md_escape(d['file_name'])}"))
        st.markdown(tr("Назначение: ", "Purpose: ") + md_escape(d["purpose"]))
        if d["client_name"]:
            st.caption(tr("Клиент: ", "Client: ") + md_escape(d["client_name"]))
        st.caption(tr("Почему на разборе: ", "Why it waits: ") + md_escape(d["reason"]))
        choice, number = _pick(d, key)
        bar = st.container(horizontal=True)
        if bar.button(tr("Разнести", "Record"), key=f"{key}.confirm", type="primary",
                     icon=":material/done:"):
            _confirm(store, actor, d, choice, number)
        with bar.popover(tr("Разделить", "Split"), icon=":material/call_split:",
                        disabled=not d["candidates"]):
            _split_form(store, actor, d, key)
        if d["client_id"] is None and bar.button(
                tr("Создать клиента", "Create the client"), key=f"{key}.client",
                icon=":material/person_add:",
                help=tr("По реквизитам плательщика: ИНН, КПП, наименование, счёт и БИК; остальное"
                        " — из реестра по ИНН, если настроен доступ.",
                        "From the payer's requisites: INN, KPP, name, account and BIK; the rest"
                        " from the registry by INN when access is set up.")):
            _create_client(store, actor, d)
        with bar.popover(tr("Отклонить", "Dismiss"), icon=":material/block:"):
            _dismiss_form(store, actor, d, key)


def _pick(d: Mapping[str, Any], key: str) -> tuple[int, str]:
    """The sale to record on: the suggestion, a candidate, or another by its number."""
    options: list[int] = []
    names: dict[int, str] = {}
    if d["suggested"]:
        numbers = {c["sale_id"]: c["sale_number"] for c in d["candidates"]}
        parts = ", ".join(f"{numbers.get(s['sale_id'], '?')} — "
                          f"{fmt_money(money.from_kop(s['amount_kop']))}" for s in d["suggested"])
        options.append(SUGGESTED)
        names[SUGGESTED] = tr(f"Как предложено: {parts}", f"As suggested: {parts}")
    for c in d["candidates"]:
        if not (len(d["suggested"]) == 1 and d["suggested"][0]["sale_id"] == c["sale_id"]):
            options.append(int(c["sale_id"]))
            names[int(c["sale_id"])] = candidate_text(c)
    options.append(OTHER)
    names[OTHER] = tr("Другая продажа — укажите номер", "Another sale — type its number")
    choice = st.radio(tr("Продажа", "Sale"), options, format_func=names.__getitem__,
                      key=lkey(f"{key}.pick"))
    number = ""
    if choice == OTHER:
        number = st.text_input(tr("Номер продажи", "Sale number"), key=f"{key}.number",
                               placeholder="2026-0015")
    return int(choice if choice is not None else OTHER), number


def _done(d: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    parts = ", ".join(f"{a['sale_number']} — {fmt_money(a['amount'])}"
                      for a in result["allocations"])
    flash(tr(f"Платёж № {d['doc_number']} на {fmt_money(d['amount'])} разнесён: {parts}.",
             f"Payment {d['doc_number']} of {fmt_money(d['amount'])} recorded: {parts}."))
    st.rerun()


def _confirm(store: Store, actor: Actor, d: Mapping[str, Any], choice: int,
             number: str) -> None:
    try:
        sale_id: int | None
        if choice == OTHER:
            if not number.strip():
                raise ValidationError({"sale_id": tr("Продажа: укажите номер продажи",
                                                     "Sale: type the sale's number")})
            sale_id = sales.find_id(store, actor, number)
        else:
            sale_id = None if choice == SUGGESTED else choice
        result = bank.confirm(store, actor, int(d["id"]), sale_id)
    except UserError as exc:
        show_error(exc)
        return
    _done(d, result)


def _split_form(store: Store, actor: Actor, d: Mapping[str, Any], key: str) -> None:
    """An amount per candidate sale; they must add up to the payment."""
    st.caption(tr(f"Суммы по продажам, вместе {fmt_money(d['amount'])}. Пустые не считаются.",
                  f"Amounts per sale, {fmt_money(d['amount'])} in all. Empty ones do not"
                  " count."))
    with st.form(f"{key}.split", border=False, enter_to_submit=False):
        typed: list[tuple[Mapping[str, Any], str]] = []
        for c in d["candidates"]:
            rest = fmt_money(money.from_kop(c["remaining_kop"]))
            typed.append((c, st.text_input(
                tr(f"{c['sale_number']} · {c['client_name']} · остаток {rest}",
                   f"{c['sale_number']} · {c['client_name']} · remaining {rest}"),
                key=f"{key}.part.{c['sale_id']}", placeholder="0,00")))
        go = st.form_submit_button(tr("Разделить платёж", "Split the payment"), type="primary")
    if not go:
        return
    chosen = [(c, text) for c, text in typed if text.strip()]
    try:
        if not chosen:
            raise ValidationError({"amount": tr("Сумма: укажите сумму хотя бы по одной продаже",
                                                "Amount: type an amount for at least one sale")})
        result = bank.split(store, actor, int(d["id"]),
                            [(int(c["sale_id"]), text) for c, text in chosen])
    except ValidationError as exc:
        show_error(ValidationError(_name_parts(exc.errors, [c for c, _ in chosen])))
        return
    except UserError as exc:
        show_error(exc)
        return
    _done(d, result)


def _name_parts(errors: Mapping[str, str], parts: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """``amount.N`` errors of a split, each prefixed with the sale of its part."""
    out: dict[str, str] = {}
    for field, message in errors.items():
        head, _, n = field.partition(".")
        if head == "amount" and n.isdigit() and 0 < int(n) <= len(parts):
            message = f"{parts[int(n) - 1]['sale_number']}: {message}"
        out[field] = message
    return out


def _create_client(store: Store, actor: Actor, d: Mapping[str, Any]) -> None:
    try:
        with st.spinner(tr("Создаём клиента…", "Creating the client…")):
            client = bank.create_client(store, actor, int(d["id"]))
    except UserError as exc:
        show_error(exc)
        return
    note = f" {client['lookup_note'][:1].upper()}{client['lookup_note'][1:]}." \
        if client.get("lookup_note") else ""
    flash(tr(f"Клиент «{client['name']}» создан по реквизитам плательщика.{note}"
             " Теперь выберите его продажу.",
             f"Client «{client['name']}» created from the payer's requisites.{note}"
             " Now pick its sale."))
    st.rerun()


def _dismiss_form(store: Store, actor: Actor, d: Mapping[str, Any], key: str) -> None:
    """A reason, then an explicit second button."""
    reason = st.text_input(tr("Причина", "Reason"), key=f"{key}.reason",
                           placeholder=tr("возврат займа, не оплата", "a loan refund, not a"
                                                                     " payment"))
    st.caption(tr("Платёж останется в списке как отклонённый и не попадёт ни на одну продажу.",
                  "The payment stays listed as dismissed and is recorded on no sale."))
    if not st.button(tr("Да, отклонить", "Yes, dismiss"), key=f"{key}.dismiss",
                     type="primary"):
        return
    try:
        bank.dismiss(store, actor, int(d["id"]), reason)
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"Платёж № {d['doc_number']} отклонён.", f"Payment {d['doc_number']} dismissed."),
          "info")
    st.rerun()
