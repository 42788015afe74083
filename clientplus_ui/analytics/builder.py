"""The report builder page's parts: the report form (entity, dimensions, measures,
filters, period, chart type), the result (table + chart + Excel) and saved reports.
Every choice is picked from the core's whitelists; typed filter values go to the
core as values only."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from clientplus_core.analytics import report_builder as rb
from clientplus_core.base.errors import UserError
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.analytics.reports import plot, readable
from clientplus_ui.common import flash, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import show_error, xlsx_download

N_FILTERS = 3
SPEC_KEY = "rb.spec"


def _label(f: rb.Field) -> str:
    return f.label_ru if lang() == "ru" else f.label_en


def _measures(fields: list[rb.Field]) -> dict[str, str]:
    """The measures the core allows (:func:`rb.measure_names`: no sums of ids), labelled."""
    by_name = {f.name: f for f in fields}
    out = {}
    for m in rb.measure_names(fields):
        agg, _, fname = m.partition(":")
        out[m] = (tr("Количество записей", "Number of records") if m == "count"
                  else f"{tr(*rb.AGGREGATES[agg])}: {_label(by_name[fname])}")
    return out


def _load_saved(store: Store, actor: Actor) -> None:
    saved = rb.list_reports(store, actor)
    if not saved:
        return
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    name = c1.selectbox(tr("Сохранённый отчёт", "Saved report"), [r["name"] for r in saved],
                        index=None, key="rb.saved",
                        placeholder=tr("Выберите…", "Choose…"))
    if c2.button(tr("Открыть", "Open"), key="rb.open", disabled=not name):
        spec = rb.load(store, actor, str(name))
        for k in [k for k in st.session_state if str(k).startswith("rb.f.")]:
            del st.session_state[k]
        st.session_state["rb.f.entity"] = spec.entity
        st.session_state["rb.f.dims"] = spec.dimensions
        st.session_state["rb.f.measures"] = spec.measures
        for i, flt in enumerate(spec.filters[:N_FILTERS]):
            st.session_state[f"rb.f.field{i}"] = flt.field
            st.session_state[f"rb.f.op{i}"] = flt.op
            st.session_state[f"rb.f.value{i}"] = str(flt.value or "")
        st.session_state[SPEC_KEY] = spec
        st.rerun()


def form(store: Store, actor: Actor) -> rb.ReportSpec | None:
    """The report form; returns the spec when «Построить» is pressed."""
    _load_saved(store, actor)
    entities = list(rb.ENTITIES)
    # option labels fixed now: a format function may be called outside this run
    entity_labels = {e: tr(rb.ENTITIES[e].label_ru, rb.ENTITIES[e].label_en) for e in entities}
    entity = st.selectbox(tr("Что считаем", "Entity"), entities, key="rb.f.entity",
                          format_func=entity_labels.__getitem__)
    fields = rb.fields(store, entity)
    by_name = {f.name: f for f in fields}
    field_labels = {n: _label(f) for n, f in by_name.items()}
    chart_labels = {k: tr(*v) for k, v in rb.CHART_TYPES.items()}
    op_labels = {o: tr(v[0], rb.OPERATOR_LABELS_EN[o]) for o, v in rb.OPERATORS.items()}
    measures = _measures(fields)
    for key, allowed in (("rb.f.dims", by_name), ("rb.f.measures", measures)):
        if key in st.session_state:  # drop choices of another entity
            st.session_state[key] = [v for v in st.session_state[key] if v in allowed]
    with st.form("rb.form", enter_to_submit=False):
        c1, c2 = st.columns(2)
        dims = c1.multiselect(tr("Разрезы (группировка)", "Dimensions (group by)"),
                              list(by_name), key="rb.f.dims", max_selections=3,
                              format_func=field_labels.__getitem__,
                              placeholder=tr("Выберите…", "Choose…"))
        chosen = c2.multiselect(tr("Показатели", "Measures"), list(measures),
                                default=None if "rb.f.measures" in st.session_state
                                else ["count"], key="rb.f.measures",
                                format_func=lambda m: measures[m],
                                placeholder=tr("Выберите…", "Choose…"))
        st.markdown("**" + tr("Условия", "Filters") + "**")
        filters: list[rb.Filter] = []
        for i in range(N_FILTERS):
            c1, c2, c3 = st.columns([2, 1, 2])
            fname = c1.selectbox(tr("Поле", "Field"), list(by_name), index=None,
                                 key=f"rb.f.field{i}", label_visibility="collapsed",
                                 placeholder=tr("— поле —", "— field —"),
                                 format_func=field_labels.__getitem__)
            op = c2.selectbox(tr("Условие", "Operator"), list(rb.OPERATORS),
                              key=f"rb.f.op{i}", label_visibility="collapsed",
                              format_func=op_labels.__getitem__)
            value = c3.text_input(tr("Значение", "Value"), key=f"rb.f.value{i}",
                                  label_visibility="collapsed",
                                  placeholder=tr("значение (для «одно из» — через запятую)",
                                                 "value (comma-separated for «one of»)"))
            if fname:
                filters.append(rb.Filter(fname, op, value))
        c1, c2, c3 = st.columns(3)
        period = c1.date_input(tr("Период", "Period"), value=(), format="DD.MM.YYYY",
                               key="rb.f.period")
        c2.selectbox(tr("Диаграмма", "Chart"), list(rb.CHART_TYPES), key=f"rb.chart.{lang()}",
                     format_func=chart_labels.__getitem__)
        run = st.form_submit_button(tr("Построить", "Build"), type="primary",
                                    icon=":material/play_arrow:")
    if not run:
        return None
    days = [d for d in (period if isinstance(period, (list, tuple)) else [period])
            if isinstance(d, date)]
    spec = rb.ReportSpec(entity, list(dims), list(chosen), filters,
                         days[0].isoformat() if days else None,
                         days[-1].isoformat() if days else None)
    st.session_state[SPEC_KEY] = spec
    return spec


def result(store: Store, actor: Actor, spec: rb.ReportSpec) -> None:
    """Table, chart and Excel of ``spec``; a form to save it under a name."""
    try:
        frame = rb.run(store, actor, spec)
        heads = rb.headers(store, spec, lang())
    except UserError as exc:
        show_error(exc)
        return
    if frame.height == 0:
        st.info(tr("Нет данных для этих условий.", "No data for these filters."))
    else:
        kind = st.session_state.get(f"rb.chart.{lang()}", "bar")
        if spec.dimensions:
            plot(rb.chart(frame, kind, heads), "rb.plot")
        st.dataframe(readable(frame.rename(dict(zip(frame.columns, _unique(heads),
                                                    strict=True)))),
                     hide_index=True, width="stretch", key="rb.table")
        if frame.height >= rb.MAX_ROWS:
            st.warning(tr(f"Показаны первые {rb.MAX_ROWS} строк.",
                          f"The first {rb.MAX_ROWS} rows are shown."))
    totals = [c for c, (_, agg) in zip(frame.columns, _aggs(spec), strict=True)
              if agg in ("count", "sum")] if spec.dimensions else []
    xlsx_download(tr("Скачать Excel", "Download Excel"),
                  rb.frame_to_xlsx(frame, heads, tr("Отчёт", "Report"), totals,
                                   tr("Итого", "Total")),
                  "report.xlsx", key="rb.xlsx")
    if can(actor, "segments.manage"):
        c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
        name = c1.text_input(tr("Сохранить как", "Save as"), key="rb.save.name")
        if c2.button(tr("Сохранить отчёт", "Save report"), key="rb.save"):
            try:
                saved = rb.save(store, actor, name, spec)
            except UserError as exc:
                show_error(exc)
                return
            label = md_escape(saved["name"])
            flash(tr(f"Отчёт «{label}» сохранён", f"Report “{label}” saved"))
            st.rerun()


def _aggs(spec: rb.ReportSpec) -> list[tuple[str, str]]:
    return [(d, "") for d in spec.dimensions] + [
        (m, m.partition(":")[0]) for m in spec.measures]


def _unique(heads: list[str]) -> list[str]:
    out: list[str] = []
    for h in heads:
        name = h
        while name in out:
            name += " "
        out.append(name)
    return out


def current_spec() -> Any:
    """The last built (or opened) report of this session, if any."""
    return st.session_state.get(SPEC_KEY)
