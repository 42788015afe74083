"""The consent register page's parts: filters, the table with its Excel export,
the add form, editing and deleting one entry (with a confirmation), import."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.outreach import consent
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import confirm_action, flash, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_dt, kept_upload, show_error, xlsx_download

ANY = ""


def _label(options: dict[str, tuple[str, str]], key: str) -> str:
    if not key:
        return tr("— все —", "— all —")
    ru, en = options.get(key, (key, key))
    return ru if lang() == "ru" else en


def filters() -> dict[str, Any]:
    """The filter row; returns keyword arguments for :func:`consent.list_entries`."""
    c1, c2, c3, c4 = st.columns([1, 1, 2, 2])
    channel = c1.selectbox(tr("Канал", "Channel"), [ANY, *consent.CHANNELS], key="consent.f.ch",
                           format_func=lambda k: _label(consent.CHANNELS, k))
    status = c2.selectbox(tr("Статус", "Status"), [ANY, *consent.STATUSES], key="consent.f.st",
                          format_func=lambda k: _label(consent.STATUSES, k))
    text = c3.text_input(tr("Адрес, телефон, клиент", "Address, phone, client"),
                         key="consent.f.text")
    period = c4.date_input(tr("Дата", "Date"), value=(), format="DD.MM.YYYY",
                           key="consent.f.period")
    start, end = (list(period) + [None, None])[:2] if isinstance(period, (list, tuple)) \
        else (period, None)
    return {"channel": channel or None, "status": status or None, "text": text or None,
            "date_from": start.isoformat() if isinstance(start, date) else None,
            "date_to": (end or start).isoformat() if isinstance(end or start, date) else None}


def table(store: Store, actor: Actor, f: dict[str, Any]) -> list[dict[str, Any]]:
    """The register (filtered) and its Excel download; returns the entries shown."""
    entries = consent.list_entries(store, actor, **f)
    if not entries:
        st.info(tr("Записей нет.", "No entries."))
        return entries
    heads = consent.HEADERS if lang() == "ru" else [
        "Channel", "Address / phone", "Status", "Date", "Source", "Note", "Client", "Contact",
        "Recorded by", "Changed"]
    rows = [[*r[:-1], fmt_dt(r[-1])] for r in consent.export_rows(entries)]
    st.dataframe([{"№": e["id"], **dict(zip(heads, r, strict=True))}
                  for e, r in zip(entries, rows, strict=True)],
                 hide_index=True, width="stretch", key="consent.table")
    c1, c2 = st.columns([3, 1], vertical_alignment="center")
    n_opt = sum(1 for e in entries if e["status"] == "optout")
    c1.caption(tr(f"Записей: {len(entries)}, из них отказов: {n_opt}",
                  f"Entries: {len(entries)}, opt-outs: {n_opt}"))
    with c2:
        xlsx_download(tr("Скачать Excel", "Download Excel"), consent.to_xlsx(store, actor, **f),
                      "consent-register.xlsx", key="consent.xlsx")
    return entries


def _source_input(label_key: str, current: str = "") -> str:
    options = list(consent.SOURCES)
    if current and current not in options:
        options.append(current)
    return str(st.selectbox(tr("Источник", "Source"), options, key=label_key,
                            index=options.index(current) if current else 0,
                            accept_new_options=True) or "")


def add_form(store: Store, actor: Actor) -> None:
    """Add an entry (a consent, or an opt-out) by hand."""
    if not can(actor, "consent.write"):
        return
    with st.expander(tr("Добавить запись", "Add an entry"), icon=":material/add:"):
        with st.form("consent.add", clear_on_submit=True, enter_to_submit=False):
            c1, c2 = st.columns(2)
            channel = c1.selectbox(tr("Канал", "Channel"), list(consent.CHANNELS),
                                   key="consent.add.channel",
                                   format_func=lambda k: _label(consent.CHANNELS, k))
            status = c2.selectbox(tr("Статус", "Status"), list(consent.STATUSES),
                                  key="consent.add.status",
                                  format_func=lambda k: _label(consent.STATUSES, k))
            value = st.text_input(tr("Адрес e-mail или телефон", "E-mail address or phone"),
                                  key="consent.add.value")
            c3, c4 = st.columns(2)
            day = c3.date_input(tr("Дата", "Date"), value=date.today(), format="DD.MM.YYYY",
                                key="consent.add.date")
            with c4:
                source = _source_input("consent.add.source")
            note = st.text_input(tr("Примечание", "Note"), key="consent.add.note")
            ok = st.form_submit_button(tr("Добавить", "Add"), type="primary")
        if ok:
            try:
                e = consent.record(store, actor, {"channel": channel, "value": value,
                                                  "status": status, "date": day,
                                                  "source": source, "note": note})
            except UserError as exc:
                show_error(exc)
                return
            flash(tr(f"Запись для «{md_escape(e['value'])}» сохранена",
                     f"Entry for “{md_escape(e['value'])}” saved"))
            st.rerun()


def edit_one(store: Store, actor: Actor, entries: list[dict[str, Any]]) -> None:
    """Pick an entry of the table: edit it, see its history, or remove it."""
    if not entries or not can(actor, "consent.write"):
        return
    st.subheader(tr("Изменить или удалить", "Edit or delete"))
    by_id = {e["id"]: e for e in entries}
    picked = st.selectbox(
        tr("Запись", "Entry"), list(by_id), index=None, key="consent.pick",
        placeholder=tr("Выберите адрес или телефон", "Choose an address or phone"),
        format_func=lambda i: f"№{i} · {by_id[i]['value']} · "
                              f"{_label(consent.STATUSES, by_id[i]['status'])}")
    if picked is None:
        return
    e = by_id[picked]
    with st.form(f"consent.edit.{picked}.{e['version']}", enter_to_submit=False):
        c1, c2, c3 = st.columns(3)
        status = c1.selectbox(tr("Статус", "Status"), list(consent.STATUSES),
                              index=list(consent.STATUSES).index(e["status"]),
                              key="consent.edit.status",
                              format_func=lambda k: _label(consent.STATUSES, k))
        day = c2.date_input(tr("Дата", "Date"), value=date.fromisoformat(e["date"][:10]),
                            format="DD.MM.YYYY", key="consent.edit.date")
        with c3:
            source = _source_input("consent.edit.source", e["source"])
        value = st.text_input(tr("Адрес e-mail или телефон", "E-mail address or phone"),
                              value=e["value"], key="consent.edit.value")
        note = st.text_input(tr("Примечание", "Note"), value=e["note"], key="consent.edit.note")
        ok = st.form_submit_button(tr("Сохранить", "Save"), type="primary")
    if ok:
        try:
            consent.update(store, actor, picked, {"status": status, "date": day,
                                                  "source": source, "note": note,
                                                  "value": value}, e["version"])
        except UserError as exc:
            show_error(exc)
            return
        flash(tr("Запись сохранена", "Entry saved"))
        st.rerun()

    def remove() -> None:
        consent.delete(store, actor, picked)
        st.session_state.pop("consent.pick", None)
        flash(tr(f"Запись «{md_escape(e['value'])}» удалена", "Entry deleted"))
        st.rerun()

    confirm_action(tr("Удалить запись", "Remove entry"),
                   tr(f"Удалить запись для «{e['value']}»? История останется в журнале.",
                      f"Remove the entry for “{e['value']}”? Its history stays in the log."),
                   tr("Да, удалить", "Yes, delete"), "consent.delete", remove)
    with st.expander(tr("История записи", "Entry history")):
        hist = consent.history(store, actor, picked)
        st.dataframe([{tr("Когда", "When"): h["at"], tr("Кто", "Who"): h["actor_login"],
                       tr("Что", "What"): h["summary"]} for h in hist],
                     hide_index=True, width="stretch", key="consent.history")


def import_form(store: Store, actor: Actor) -> None:
    """Import entries from Excel / CSV (columns like the export's)."""
    if not can(actor, "consent.write"):
        return
    with st.expander(tr("Импорт из Excel / CSV", "Import from Excel / CSV"),
                     icon=":material/upload_file:"):
        st.caption(tr("Колонки: Канал (email / телефон), Адрес / телефон, Статус (согласие / "
                      "отказ), Дата, Источник, Примечание.",
                      "Columns: channel, value, status, date, source, note."))
        got = kept_upload(tr("Файл", "File"), "consent.import.file", ["xlsx", "csv"])
        if got and st.button(tr("Импортировать", "Import"), key="consent.import.go"):
            try:
                saved, errors = consent.import_table(store, actor, got[1], got[0])
            except (UserError, ValueError) as exc:
                show_error(exc if isinstance(exc, UserError) else UserError(str(exc)))
                return
            flash(tr(f"Импортировано записей: {saved}", f"Imported: {saved}"))
            for err in errors[:20]:
                flash(md_escape(err), "warning")
            st.rerun()
