"""Loading statement files: the uploader, «Проверить без записи» (a dry run), and the
summary of the load — metrics, one row per document, the summary as Excel.

A bad file (not the exchange format, cut short, a malformed line, an account that
is not the company's) loads nothing; its message names the file and the line. The
last load's result is kept in the session (:data:`RESULT_KEY`), so its summary
stays on screen while people download it or look at the other tabs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import streamlit as st

from clientplus_core import bank
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.sales import money
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.bank.common import label, lazy_xlsx
from clientplus_ui.common import md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_day, fmt_money, show_error

UPLOAD_KEY = "bank.upload"
DRY_KEY = "bank.dry"
RESULT_KEY = "bank.result"


def section(store: Store, actor: Actor) -> None:
    """The uploader and, after a load, its summary."""
    st.caption(tr("Выгрузите выписку в интернет-банке: обычно «Выписка → Экспорт → 1С»"
                  " (файл kl_to_1c.txt). Поступления на счета компании разносятся по счетам"
                  " на оплату; повторная загрузка того же периода ничего не добавит.",
                  "Export the statement in your online bank: usually «Выписка → Экспорт →"
                  " 1С» (file kl_to_1c.txt). Incoming payments to the company's accounts are"
                  " recorded on their invoices; loading the same period again adds nothing."))
    files = st.file_uploader(tr("Файлы выписки (.txt в формате 1С)",
                                "Statement files (.txt in the 1C format)"),
                             type=["txt"], accept_multiple_files=True, key=UPLOAD_KEY)
    dry = st.checkbox(tr("Проверить без записи", "Check without saving"), key=DRY_KEY,
                      help=tr("Покажет, что будет разнесено и что уйдёт на разбор, ничего не"
                              " записывая.",
                              "Shows what would be recorded and what would wait for review,"
                              " writing nothing."))
    go = st.button(tr("Проверить", "Check") if dry else tr("Загрузить", "Load"),
                   type="primary", key="bank.load", disabled=not files,
                   icon=":material/fact_check:" if dry else ":material/upload:")
    if go and files:
        _load(store, actor, [(f.name, f.getvalue()) for f in files], dry)
    result = st.session_state.get(RESULT_KEY)
    if isinstance(result, bank.LoadResult):
        summary(result)


def _load(store: Store, actor: Actor, files: Sequence[tuple[str, bytes]], dry: bool) -> None:
    st.session_state.pop(RESULT_KEY, None)
    try:
        with st.spinner(tr("Читаем выписку…", "Reading the statement…")):
            result = bank.load(store, actor, files, dry_run=dry)
    except ValidationError as exc:
        if "accounts" in exc.errors:
            no_accounts()
        else:
            show_error(exc)
        return
    except UserError as exc:  # StatementError names the file and the line
        show_error(exc)
        st.caption(tr("Ничего не загружено: исправьте файл или выгрузите его из банка заново.",
                      "Nothing was loaded: fix the file or export it from the bank again."))
        return
    st.session_state[RESULT_KEY] = result


def no_accounts() -> None:
    """The company has no settlement account yet: say where to add it."""
    st.error(tr("В настройках нет расчётного счёта компании, поэтому непонятно, какие платежи"
                " входящие. Укажите счёт (и другие счета, на которые приходят оплаты) в"
                " «Настройки → Моя компания» и загрузите выписку снова.",
                "The settings have no settlement account of the company, so incoming payments"
                " cannot be told. Add the account (and the other accounts payments arrive"
                " on) in «Settings → My company» and load the statement again."))
    st.page_link("pages/settings.py", label=tr("Настройки → Моя компания",
                                               "Settings → My company"),
                 icon=":material/settings:")


def summary(result: bank.LoadResult) -> None:
    """Metrics of the load, its documents as a table, and the summary as Excel."""
    s = result.summary
    if result.dry_run:
        st.info(tr("Проверка без записи: ничего не сохранено. Снимите «Проверить без записи»"
                   " и загрузите, чтобы разнести платежи.",
                   "A check without saving: nothing was stored. Clear «Check without"
                   " saving» and load to record the payments."))
    else:
        st.success(tr("Выписка загружена.", "Statement loaded."))
    for f in result.files:
        st.caption(tr(f"{md_escape(f['name'])}: {fmt_day(f['date_from'])}–"
                      f"{fmt_day(f['date_to'])}, документов: {f['documents']}",
                      f"{md_escape(f['name'])}: {fmt_day(f['date_from'])}–"
                      f"{fmt_day(f['date_to'])}, documents: {f['documents']}"))
    cols = st.columns(5)
    money_metrics = ((tr("Поступило", "Received"), "received"),
                     (tr("Разнесено автоматически", "Matched automatically"), "matched"),
                     (tr("Ждут разбора", "Waiting for review"), "review"))
    for col, (title, key) in zip(cols, money_metrics, strict=False):
        col.metric(title, fmt_money(s[key]))
        col.caption(tr(f"платежей: {s[key + '_count']}", f"payments: {s[key + '_count']}"))
    cols[3].metric(tr("Не учитываются", "Ignored"), s["ignored_count"],
                   help=tr("Списания, переводы между своими счетами, документы не по счетам"
                           " компании.", "Outgoing payments, transfers between own accounts,"
                           " documents not on the company's accounts."))
    cols[4].metric(tr("Уже загружены", "Already loaded"), s["duplicates_count"])
    if s["review_count"] and not result.dry_run:
        st.caption(tr("Платежи, которые не удалось разнести уверенно, — на вкладке «Разбор».",
                      "Payments not matched with confidence are on the «Review» tab."))
    items_table(result.items)
    language = lang()
    lazy_xlsx(tr("Скачать сводку (Excel)", "Download the summary (Excel)"),
              lambda: bank.summary_xlsx(result, language),
              f"bank-statement-{dt.date.today().isoformat()}.xlsx", "bank.summary_xlsx")


def items_table(items: Sequence[bank.Item]) -> None:
    """One row per document of the load: what happened to it and why."""
    rows: list[dict[str, Any]] = []
    for i in items:
        rows.append({
            tr("Файл", "File"): i.file, tr("Строка", "Line"): i.line,
            tr("Движение", "Direction"): label(bank.DIRECTIONS, i.direction),
            tr("Итог", "Outcome"): label(bank.STATES, i.state),
            tr("№ п/п", "Doc. no."): i.number,
            tr("Дата", "Date"): fmt_day(i.paid_on or i.date),
            tr("Сумма", "Amount"): fmt_money(money.from_kop(i.amount_kop)),
            tr("Плательщик", "Payer"): i.payer_name,
            tr("Клиент", "Client"): i.client_name,
            tr("Продажи", "Sales"): ", ".join(a["sale_number"] for a in i.allocations),
            tr("Причина", "Reason"): i.reason})
    if not rows:
        st.caption(tr("В выписке нет платёжных документов.", "The statement has no documents."))
        return
    amount = tr("Сумма", "Amount")
    st.dataframe(rows, hide_index=True, width="stretch", key="bank.items", column_config={
        amount: st.column_config.TextColumn(alignment="right"),
        tr("Строка", "Line"): st.column_config.NumberColumn(width="small", format="%d")})
