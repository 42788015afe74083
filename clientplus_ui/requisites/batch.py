"""The batch registry check (head, admin): scope, «Проверить» with a progress bar
and «Стоп», the summary of changes and liquidated clients, «Применить изменения».

«Стоп» works the Streamlit way: pressing any button reruns the script, which
interrupts the running check at its next progress update. Every checked client
is saved at once, so nothing is lost and «Проверить» continues from there; the
summary is read back from the database (:func:`refresh.last_run`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.requisites import lookup, refresh, registry
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.common import client_field_label, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.requisites.widgets import how_to_get_token
from clientplus_ui.widgets import fmt_dt, show_error

KEY = "lr"


def _scope(store: Store, actor: Actor) -> str | None:
    kinds = {"all": tr("Все клиенты с ИНН", "All clients with an INN"),
             "tag": tr("Клиенты с меткой", "Clients with a tag")}
    which = st.radio(tr("Кого проверить", "Whom to check"), list(kinds),
                     format_func=kinds.__getitem__, horizontal=True, key=f"{KEY}.scope")
    st.caption(tr("Сегменты появятся вместе с модулем аналитики; пока можно проверить всех "
                  "клиентов или клиентов с меткой.",
                  "Segments arrive with the analytics module; for now check all clients or "
                  "those with a tag."))
    if which == "all":
        return "all"
    tags = clients.all_tags(store, actor)
    if not tags:
        st.info(tr("Меток пока нет.", "There are no tags yet."))
        return None
    tag = st.selectbox(tr("Метка", "Tag"), tags, key=f"{KEY}.tag")
    return f"tag:{tag}"


def _run(store: Store, actor: Actor, scope: str, restart: bool) -> refresh.RefreshReport | None:
    bar = st.progress(0.0, text=tr("Проверка…", "Checking…"))

    def progress(done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0,
                     text=tr(f"Проверено {done} из {total}", f"Checked {done} of {total}"))

    try:
        return refresh.refresh(store, actor, scope, progress=progress, restart=restart)
    except UserError as exc:
        show_error(exc)
        return None


def _stopped_note(report: refresh.RefreshReport) -> None:
    left = tr(f"Проверено {report.checked} из {report.total}.",
              f"Checked {report.checked} of {report.total}.")
    if report.stopped_reason == "limit":
        st.warning(left + " " + tr(
            "Дневной лимит запросов DaData исчерпан — завтра «Проверить» продолжит с того же "
            "места.", "DaData's daily limit is used up — tomorrow «Check» continues from "
            "there."), icon=":material/hourglass_top:")
    elif report.stopped_reason == "error":
        st.error(md_escape(report.error) + ". " + left + " " + tr(
            "«Проверить» продолжит с того же места.", "«Check» continues from there."))
    elif not report.finished:
        st.info(left + " " + tr("Проверка не завершена — «Проверить» продолжит с того же места.",
                                "The check is not finished — «Check» continues from there."),
                icon=":material/pause_circle:")
    else:
        st.success(tr(f"Проверка от {fmt_dt(report.started_at)[:10]} завершена: проверено "
                      f"{report.checked} из {report.total}.",
                      f"The check of {fmt_dt(report.started_at)[:10]} is finished: checked "
                      f"{report.checked} of {report.total}."))


def _summary(store: Store, actor: Actor, report: refresh.RefreshReport) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("Проверено", "Checked"), f"{report.checked} / {report.total}")
    c2.metric(tr("Клиентов с изменениями", "Clients with changes"), report.changed_clients)
    c3.metric(tr("Ликвидированы и др.", "Liquidated etc."), len(report.liquidated))
    if report.liquidated:
        st.subheader(tr("Ликвидированные и не найденные", "Liquidated and not found"))
        st.dataframe([{"№": f.client_id, tr("Клиент", "Client"): f.name, tr("ИНН", "INN"): f.inn,
                       tr("Статус", "Status"): registry.status_label(f.status, f.kind, lang())}
                      for f in report.liquidated], hide_index=True, width="stretch")
    if not report.changed:
        st.caption(tr("Изменений в названиях, адресах и руководителях нет.",
                      "No changes in names, addresses and directors."))
        return
    st.subheader(tr("Изменения", "Changes"))
    st.dataframe([{"№": c.client_id, tr("Клиент", "Client"): c.name,
                   tr("Поле", "Field"): client_field_label(c.field),
                   tr("Было", "Was"): c.old, tr("Станет", "Will be"): c.new}
                  for c in report.changed], hide_index=True, width="stretch")
    st.session_state[f"{KEY}.shown"] = report
    if st.button(tr(f"Применить изменения ({report.changed_clients})",
                    f"Apply the changes ({report.changed_clients})"),
                 key=f"{KEY}.apply", type="primary", icon=":material/done_all:"):
        _apply(store, actor)


def _apply(store: Store, actor: Actor) -> None:
    shown: Any = st.session_state.pop(f"{KEY}.shown", None)
    if not isinstance(shown, refresh.RefreshReport):
        return
    try:
        refresh.apply_changes(store, actor, shown)
    except UserError as exc:
        show_error(exc)
        return
    st.session_state[f"{KEY}.applied"] = (shown.applied, shown.skipped)
    st.rerun()


def refresh_view(store: Store, actor: Actor) -> None:
    """The whole page body."""
    try:
        info = lookup.service_info(store, actor)
    except UserError as exc:
        show_error(exc)
        return
    st.caption(tr(f"Проверяются наименования, адреса, КПП и руководители всех клиентов с ИНН, "
                  f"и кто из них ликвидирован. Запросов к DaData сегодня: {info.used_today} из "
                  f"{info.daily_limit}.",
                  f"Names, addresses, KPP and directors of every client with an INN are "
                  f"checked, and who has been liquidated. DaData requests today: "
                  f"{info.used_today} of {info.daily_limit}."))
    if not info.has_token:
        st.info(how_to_get_token(), icon=":material/key:")
    applied = st.session_state.pop(f"{KEY}.applied", None)
    if applied:
        st.success(tr(f"Обновлено клиентов: {applied[0]}", f"Clients updated: {applied[0]}"))
        for cid, why in applied[1]:
            st.warning(md_escape(tr(f"Пропущен №{cid}: {why}", f"Skipped #{cid}: {why}")))
    scope = _scope(store, actor)
    if scope is None:
        return
    try:
        previous = refresh.last_run(store, actor, scope)
    except UserError as exc:
        show_error(exc)
        return
    restart = False
    if previous is not None and not previous.finished:
        restart = st.checkbox(tr("Начать заново, а не продолжать", "Start over, do not resume"),
                              key=f"{KEY}.restart")
    row = st.container(horizontal=True)
    check = row.button(tr("Проверить", "Check"), key=f"{KEY}.check", type="primary",
                      icon=":material/fact_check:", disabled=not info.has_token)
    stop = row.button(tr("Стоп", "Stop"), key=f"{KEY}.stop", icon=":material/stop_circle:",
                     help=tr("Остановить проверку; следующая продолжит с того же места.",
                             "Stop the check; the next one continues from there."))
    report = _run(store, actor, scope, restart) if check else previous
    if report is None:
        return
    if stop and not report.finished:
        st.info(tr("Проверка остановлена.", "The check was stopped."))
    _stopped_note(report)
    _summary(store, actor, report)
