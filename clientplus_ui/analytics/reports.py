"""Widgets of the dashboard and the reports page: period/manager filters, a report
block (table + chart + Excel), the "data as of" caption. Pages stay thin."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from clientplus_core.analytics import charts, reports
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics.reports import Period
from clientplus_core.sales import money
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import show_error, xlsx_download


def _param_date(name: str) -> date | None:
    try:
        return date.fromisoformat(str(st.query_params.get(name, "")))
    except ValueError:
        return None


def period_filters(store: Store, actor: Actor, key: str) -> Period:
    """Period (default: from 1 January to today, or ``?from=YYYY-MM-DD&to=YYYY-MM-DD``
    from the address, so a report can be bookmarked) and, for those who see
    everyone, a manager (or all)."""
    today = date.today()
    start = _param_date("from") or date(today.year, 1, 1)
    end = _param_date("to") or today
    c1, c2 = st.columns([2, 2])
    with c1:
        rng = st.date_input(tr("Период", "Period"), value=(start, end),
                            format="DD.MM.YYYY", key=f"{key}.period")
    manager_id: int | None = None
    with c2:
        if actor.sees_everything:
            people = [u for u in users.list_users(store) if u.get("role") in ("manager", "head",
                                                                               "admin")]
            labels = {0: tr("Все менеджеры", "All managers")} | {
                int(u["id"]): str(u.get("full_name") or u["login"]) for u in people}
            manager_id = st.selectbox(tr("Менеджер", "Manager"), list(labels),
                                      format_func=lambda i: labels[i], key=f"{key}.manager") or None
        else:
            st.caption(tr("Только ваши продажи и клиенты", "Only your sales and clients"))
    start, end = (rng if isinstance(rng, tuple) and len(rng) == 2 else (rng, rng)) \
        if rng else (None, None)
    product_id, client_ids = more_filters(store, actor, key)
    return Period(start if isinstance(start, date) else None,
                  end if isinstance(end, date) else None, manager_id, product_id, client_ids)


def more_filters(store: Store, actor: Actor, key: str) -> tuple[int | None, list[int] | None]:
    """Product and saved client segment (collapsed by default)."""
    from clientplus_core.analytics import segments
    from clientplus_core.sales import catalogue

    with st.expander(tr("Товар и сегмент", "Product and segment")):
        c1, c2 = st.columns(2)
        items = {0: tr("Все товары и услуги", "All products")} | {
            int(i["id"]): str(i["name"]) for i in catalogue.list_items(store, actor,
                                                                      active_only=False)}
        product = c1.selectbox(tr("Товар / услуга", "Product"), list(items),
                               format_func=lambda i: items[i], key=f"{key}.product")
        names = [""] + [str(g["name"]) for g in segments.list_segments(store, actor)]
        seg = c2.selectbox(tr("Сегмент клиентов", "Client segment"), names,
                           format_func=lambda n: n or tr("Все клиенты", "All clients"),
                           key=f"{key}.segment")
    ids = segments.client_ids(store, actor, seg) if seg else None
    return (product or None), ids


def as_of_caption(store: Store) -> None:
    """"Данные на HH:MM:SS" under a page title."""
    st.caption(tr("Данные на ", "Data as of ") + analytics.as_of_label(analytics.as_of(store)))


def display_frame(df: pl.DataFrame) -> pl.DataFrame:
    """Money (Decimal) as float for the on-screen table only; the export keeps Decimal."""
    return df.with_columns([pl.col(c).cast(pl.Float64) for c, t in df.schema.items()
                            if isinstance(t, pl.Decimal)])


_FORMATS = {"money": "%.2f", "percent": "percent"}


def report_block(store: Store, actor: Actor, name: str, p: Period,
                 chart: Callable[[pl.DataFrame], go.Figure] | None, key: str,
                 **options: Any) -> pl.DataFrame | None:
    """Run report ``name`` (with a spinner), then its chart, its table and an Excel
    download beside it. Returns the frame (None on error)."""
    try:
        with st.spinner(tr("Считаем…", "Computing…")):
            df = reports.run(store, actor, name, p, **options)
    except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
        show_error(exc)
        return None
    if chart is not None and df.height:
        st.plotly_chart(chart(df), key=f"{key}.chart")
    headers, body = reports.table_rows(name, df, lang())
    if not body:
        st.info(tr("Нет данных за выбранный период", "No data for the chosen period"))
    else:
        spec = [c for c in reports.COLUMNS[name] if c[0] in df.columns]
        cols = [c for c, _, _ in spec]
        shown = display_frame(df.select(cols))
        config = {reports.header(name, c, lang()): st.column_config.NumberColumn(
            format=_FORMATS[f]) for c, _, f in spec if f in _FORMATS}
        st.dataframe(shown.rename(dict(zip(cols, headers, strict=True))), hide_index=True,
                     column_config=config, key=f"{key}.table")
    xlsx_download(tr("Скачать Excel", "Download Excel"), reports.to_xlsx(name, df, lang()),
                  f"{name}.xlsx", key=f"{key}.xlsx")
    return df


def _h(name: str, column: str) -> str:
    """A report column's header in the UI language (for chart axes)."""
    return reports.header(name, column, lang())


def _funnel(df: pl.DataFrame) -> go.Figure:
    return charts.funnel(df, lang=lang())


def _aging(df: pl.DataFrame) -> go.Figure:
    return charts.aging(df, reports.aging_labels(lang()), lang=lang())


def _money(v: object) -> str:
    d = v if isinstance(v, Decimal) else Decimal(str(v or 0))
    return money.format_amount(d, " ") + " ₽"


def _money_short(v: object) -> str:
    """A metric-sized amount: exact below a million roubles, else «194,7 млн ₽» (the
    exact amount goes into the metric's tooltip)."""
    d = v if isinstance(v, Decimal) else Decimal(str(v or 0))
    if abs(d) < 1_000_000:
        return _money(d)
    if abs(d) < 1_000_000_000:
        short, unit = d / 1_000_000, tr("млн", "M")
    else:
        short, unit = d / 1_000_000_000, tr("млрд", "B")
    text = f"{short:.1f}"
    return f"{text.replace('.', ',') if lang() == 'ru' else text} {unit} ₽"


def _exact(v: object) -> str | None:
    """The tooltip of a shortened amount: the exact figure."""
    d = v if isinstance(v, Decimal) else Decimal(str(v or 0))
    return _money(d) if abs(d) >= 1_000_000 else None


def kpi_row(store: Store, actor: Actor, p: Period) -> None:
    """The dashboard numbers as metrics."""
    with st.spinner(tr("Считаем…", "Computing…")):
        k = reports.kpis(store, actor, p)
    cols = st.columns(4)
    cols[0].metric(tr("Новые клиенты", "New clients"), k["new_clients"])
    cols[1].metric(tr("Продаж открыто", "Sales opened"), k["opened"])
    cols[2].metric(tr("Выиграно", "Won"), k["won"])
    cols[3].metric(tr("Проиграно", "Lost"), k["lost"])
    cols = st.columns(4)
    for col, label, key in ((cols[0], tr("Выручка (оплаты)", "Revenue (payments)"),
                             "revenue_paid"),
                            (cols[1], tr("Выручка (счета)", "Revenue (invoices)"),
                             "revenue_invoiced"),
                            (cols[2], tr("Средняя сделка", "Average deal"), "avg_deal")):
        col.metric(label, _money_short(k[key]), help=_exact(k[key]))
    cols[3].metric(tr("Дебиторка", "Receivables"), _money_short(k["debt"]),
                   help=" · ".join(x for x in (_exact(k["debt"]), tr("просрочено: ", "overdue: ")
                                               + _money(k["overdue"])) if x))


def dashboard(store: Store, actor: Actor) -> None:
    """The dashboard: filters, KPIs and four charts (each with its Excel)."""
    p = period_filters(store, actor, "dash")
    try:
        kpi_row(store, actor, p)
    except Exception as exc:  # noqa: BLE001
        show_error(exc)
        return
    as_of_caption(store)
    left, right = st.columns(2)
    with left:
        st.subheader(tr("Выручка по месяцам", "Revenue by month"))
        report_block(store, actor, "revenue", p,
                     lambda df: charts.bars(df, "key", "amount",
                                            x_title=tr("Месяц", "Month"),
                                            y_title=_h("revenue", "amount")), "dash.revenue")
        st.subheader(tr("Дебиторка по срокам", "Receivables by age"))
        report_block(store, actor, "debtors", p, _aging, "dash.debtors")
    with right:
        st.subheader(tr("Воронка продаж", "Sales funnel"))
        report_block(store, actor, "funnel", p, _funnel, "dash.funnel")
        st.subheader(tr("Источники новых клиентов", "Sources of new clients"))
        report_block(store, actor, "sources", p,
                     lambda df: charts.pie(df, "source", "clients",
                                           legend_title=_h("sources", "source")),
                     "dash.sources")


REPORT_TABS: list[tuple[str, str, str]] = [
    ("funnel", "Воронка", "Funnel"), ("revenue", "Выручка", "Revenue"),
    ("debtors", "Дебиторка", "Receivables"), ("forecast", "Ожидаемые оплаты", "Forecast"),
    ("clients", "Клиентская база", "Client base"), ("top_clients", "Топ клиентов", "Top clients"),
    ("no_contact", "Без контакта", "No contact"),
]


def reports_page(store: Store, actor: Actor) -> None:
    """All reports in tabs; each: table + chart + Excel."""
    p = period_filters(store, actor, "rep")
    caption = st.empty()
    tabs = st.tabs([tr(ru, en) for _, ru, en in REPORT_TABS])
    with tabs[0]:
        report_block(store, actor, "funnel", p, _funnel, "rep.funnel")
        st.subheader(tr("Проигранные по причинам", "Lost by reason"))
        report_block(store, actor, "lost_reasons", p,
                     lambda df: charts.bars(df, "reason", "count", horizontal=True,
                                            x_title=_h("lost_reasons", "reason"),
                                            y_title=_h("lost_reasons", "count")), "rep.lost")
        st.subheader(tr("Время на этапах, дней", "Time in stage, days"))
        report_block(store, actor, "stage_times", p,
                     lambda df: charts.bars(df, "status", "avg_days",
                                            x_title=_h("stage_times", "status"),
                                            y_title=_h("stage_times", "avg_days")),
                     "rep.stages")
    with tabs[1]:
        c1, c2 = st.columns(2)
        by_labels = reports.REVENUE_BY_EN if lang() == "en" else reports.REVENUE_BY
        bases = reports.BASES_EN if lang() == "en" else reports.BASES
        by = c1.selectbox(tr("Группировка", "Group by"), list(reports.REVENUE_BY),
                          format_func=by_labels.__getitem__, key="rep.rev.by")
        basis = c2.radio(tr("База", "Basis"), list(reports.BASES), horizontal=True,
                         format_func=bases.__getitem__, key="rep.rev.basis")
        report_block(store, actor, "revenue", p,
                     lambda df: charts.bars(df, "key", "amount", horizontal=by != "month",
                                            x_title=by_labels[by],
                                            y_title=_h("revenue", "amount")),
                     "rep.revenue", by=by, basis=basis)
    with tabs[2]:
        report_block(store, actor, "debtors", p, _aging, "rep.debtors")
    with tabs[3]:
        weeks = st.number_input(tr("Недель вперёд", "Weeks ahead"), 1, 52, 8, key="rep.weeks")
        report_block(store, actor, "forecast", p,
                     lambda df: charts.bars(df, "week", "amount", x_title=_h("forecast", "week"),
                                            y_title=_h("forecast", "amount")), "rep.forecast",
                     weeks=int(weeks))
    with tabs[4]:
        report_block(store, actor, "growth", p,
                     lambda df: charts.bars(df, "month", "new", color="source",
                                            x_title=_h("growth", "month"),
                                            y_title=_h("growth", "new"),
                                            legend_title=_h("growth", "source")), "rep.growth")
        report_block(store, actor, "sources", p,
                     lambda df: charts.pie(df, "source", "clients",
                                           legend_title=_h("sources", "source")),
                     "rep.sources")
    with tabs[5]:
        report_block(store, actor, "top_clients", p,
                     lambda df: charts.bars(df, "client", "amount", horizontal=True,
                                            x_title=_h("top_clients", "client"),
                                            y_title=_h("top_clients", "amount")),
                     "rep.top")
    with tabs[6]:
        days = st.number_input(tr("Дней без контакта", "Days without contact"), 1, 3650, 30,
                               key="rep.days")
        report_block(store, actor, "no_contact", p, None, "rep.nocontact", days=int(days))
    with caption.container():
        as_of_caption(store)
