"""The segmentation page's parts: the choice of dimensions and period, the pivot
(table + cross table + chart + Excel), saving a segment, the saved segments."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from clientplus_core.analytics import segments
from clientplus_core.base.errors import UserError
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.analytics.reports import plot, readable
from clientplus_ui.common import flash, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import show_error, xlsx_download

NONE = ""


def _dim_label(dims: dict[str, segments.Dimension], name: str) -> str:
    if not name:
        return tr("— нет —", "— none —")
    d = dims[name]
    return d.label_ru if lang() == "ru" else d.label_en


def choose(store: Store, actor: Actor) -> dict[str, Any]:
    """Dimensions, period and a saved segment to narrow to; returns the choice."""
    dims = {d.name: d for d in segments.dimensions(store)}
    names = list(dims)
    # option labels fixed now: a format function may be called outside this run
    labels = {n: _dim_label(dims, n) for n in [NONE, *names]}
    c1, c2, c3, c4 = st.columns(4)
    first = c1.selectbox(tr("Разрез", "Dimension"), names, key=f"seg.by1.{lang()}",
                         format_func=labels.__getitem__)
    second = c2.selectbox(tr("Второй разрез", "Second dimension"),
                          [NONE, *[n for n in names if n != first]], key=f"seg.by2.{lang()}",
                          format_func=labels.__getitem__)
    period = c3.date_input(tr("Период продаж", "Sales period"), value=(), format="DD.MM.YYYY",
                           key="seg.period")
    saved = {s["name"]: s for s in segments.list_segments(store, actor)}
    everyone = tr("— все клиенты —", "— all clients —")
    within = c4.selectbox(tr("Только сегмент", "Only the segment"), [NONE, *saved],
                          key="seg.within", format_func=lambda n: n or everyone)
    by = [first] + ([second] if second else [])
    start, end = (list(period) + [None, None])[:2] if isinstance(period, (list, tuple)) \
        else (period, None)
    return {"by": by, "dims": dims, "where": saved[within]["where"] if within else None,
            "date_from": start.isoformat() if isinstance(start, date) else None,
            "date_to": (end or start).isoformat() if isinstance(end or start, date) else None}


def result(store: Store, actor: Actor, choice: dict[str, Any]) -> pl.DataFrame | None:
    """Compute and show the pivot, the chart and the Excel download."""
    by = choice["by"]
    try:
        frame = segments.pivot(store, actor, by, choice["where"], choice["date_from"],
                               choice["date_to"])
    except UserError as exc:
        show_error(exc)
        return None
    heads = segments.headers(store, by, lang())
    labels = dict(zip(frame.columns, heads, strict=True))
    if frame.height == 0:
        st.info(tr("Нет клиентов для этого отбора.", "No clients match."))
        return frame
    measure = st.radio(tr("Показатель", "Measure"), list(segments.MEASURES), horizontal=True,
                       key=f"seg.measure.{lang()}", format_func=lambda m: labels[m])
    plot(segments.chart(frame, by, measure, labels), "seg.chart")
    if len(by) == 2:
        st.markdown("**" + tr("Сводная таблица", "Cross table") + f": {labels[measure]}**")
        st.dataframe(readable(segments.wide(frame, by, measure).rename({by[0]: labels[by[0]]})),
                     hide_index=True, width="stretch", key="seg.cross")
    st.dataframe(readable(frame.rename(labels)), hide_index=True, width="stretch",
                 key="seg.table")
    xlsx_download(tr("Скачать Excel", "Download Excel"),
                  segments.to_xlsx(store, frame, by, lang()),
                  f"segments-{'-'.join(by)}.xlsx", key="seg.xlsx")
    return frame


def save_form(store: Store, actor: Actor, choice: dict[str, Any], frame: pl.DataFrame) -> None:
    """Save a segment: the chosen values of the shown dimensions, under a name."""
    if not can(actor, "segments.manage") or frame.height == 0:
        return
    st.subheader(tr("Сохранить сегмент", "Save a segment"))
    by, dims = choice["by"], choice["dims"]
    with st.form("seg.save", enter_to_submit=False):
        where: dict[str, list[str]] = dict(choice["where"] or {})
        for name in by:
            picked = st.multiselect(_dim_label(dims, name),
                                    sorted(set(frame[name].to_list())), key=f"seg.pick.{name}",
                                    placeholder=tr("Все значения", "All values"))
            if picked:
                where[name] = picked
        seg_name = st.text_input(tr("Название сегмента", "Segment name"), key="seg.name")
        ok = st.form_submit_button(tr("Сохранить сегмент", "Save segment"), type="primary",
                                   icon=":material/bookmark_add:")
    if ok:
        try:
            seg = segments.save(store, actor, seg_name, where)
            n = len(segments.client_ids(store, actor, seg["name"]))
        except UserError as exc:
            show_error(exc)
            return
        name = md_escape(seg["name"])
        flash(tr(f"Сегмент «{name}» сохранён: клиентов {n}",
                 f"Segment “{name}” saved: {n} clients"))
        st.rerun()


def saved_list(store: Store, actor: Actor) -> None:
    """The saved segments with their conditions; delete own ones."""
    items = segments.list_segments(store, actor)
    st.subheader(tr("Сохранённые сегменты", "Saved segments"))
    if not items:
        st.caption(tr("Пока нет сохранённых сегментов.", "No saved segments yet."))
        return
    st.dataframe([{tr("Название", "Name"): s["name"],
                   tr("Условия", "Conditions"): "; ".join(
                       f"{k} = {', '.join(v)}" for k, v in s["where"].items()),
                   tr("Автор", "Owner"): s["owner_name"]} for s in items],
                 hide_index=True, width="stretch", key="seg.saved")
    mine = [s["name"] for s in items if s["owner_id"] == actor.id or actor.role == "admin"]
    if mine and can(actor, "segments.manage"):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        victim = c1.selectbox(tr("Удалить сегмент", "Remove a segment"), mine, index=None,
                              key="seg.delete.pick",
                              placeholder=tr("Выберите…", "Choose…"))
        if c2.button(tr("Удалить", "Delete"), key="seg.delete", disabled=not victim):
            segments.delete(store, actor, str(victim))
            flash(tr(f"Сегмент «{md_escape(victim)}» удалён", "Segment deleted"))
            st.rerun()
