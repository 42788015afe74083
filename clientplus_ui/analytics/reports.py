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

from clientplus_core.analytics import cache as results
from clientplus_core.analytics import charts, reports
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics.reports import Period
from clientplus_core.base import formats
from clientplus_core.sales import debt
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from clientplus_ui.common import lkey
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import XLSX_MIME, display_zone, show_error


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
                                      format_func=lambda i: labels[i],
                                      key=lkey(f"{key}.manager")) or None
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
                               format_func=lambda i: items[i], key=lkey(f"{key}.product"))
        names = [""] + [str(g["name"]) for g in segments.list_segments(store, actor)]
        seg = c2.selectbox(tr("Сегмент клиентов", "Client segment"), names,
                           format_func=lambda n: n or tr("Все клиенты", "All clients"),
                           key=lkey(f"{key}.segment"))
    ids = segments.client_ids(store, actor, seg) if seg else None
    return (product or None), ids


def as_of_caption(store: Store) -> None:
    """"Данные на HH:MM:SS" under a page title."""
    when = formats.clock(analytics.as_of(store), display_zone(), seconds=True) or "—"
    st.caption(tr("Данные на ", "Data as of ") + when)


def plot(fig: go.Figure, key: str) -> None:
    """Show a chart with numbers as the UI language writes them («9 821 111,14»); an
    axis titled «…, ₽» gets whole roubles on its ticks and «… ₽» in the tooltip."""
    cartesian = all(getattr(t, "type", "") in ("bar", "scatter") for t in fig.data)
    titles = {a: str(getattr(getattr(fig.layout, f"{a}axis").title, "text", "") or "")
              for a in ("x", "y")}
    money = next((a for a, t in titles.items() if t.rstrip().endswith("₽")), None)
    charts.localise(fig, lang(), money if cartesian and fig.data else None,
                    titles.get(money or "", "").replace(", ₽", ""))
    st.plotly_chart(fig, key=key)


_FORMATS = ("money", "percent", "int")
DASHBOARD_DEBTORS = 20  # the dashboard's debtors table: the largest debts only
SCREEN_ROWS = 1000  # a report table on screen; the Excel file has every row
FIRST_BUILD_WAIT_S = 1.0  # a first build this quick (a small CRM) shows no progress bar


def cell(value: object, fmt: str | None) -> str:
    """A report cell as a person reads it: «9 821 111,14» for money (the header says
    «, ₽»), «1 234» for counts, «80,0 %» for shares, «—» for nothing."""
    if value is None or value == "":
        return "—" if fmt else ""
    if fmt == "money":
        return formats.money(value, lang(), sign=False)
    if fmt == "int":
        return formats.number(value, lang())
    if fmt == "percent":
        d = formats.to_decimal(value)
        return "—" if d is None else formats.number(d * 100, lang(), 1) + " %"
    if isinstance(value, str) and len(value) == 7:
        return formats.month(value, lang())  # «янв 2026» for a month key «2026-01»
    if isinstance(value, date) or (isinstance(value, str) and len(value) == 10):
        return formats.day(value, lang())  # «06.12.2026»; other text stays as it is
    d = formats.to_decimal(value) if isinstance(value, float | Decimal) else None
    return formats.number(d, lang(), 1) if d is not None else str(value)


def readable(df: pl.DataFrame) -> list[dict[str, str]]:
    """A result frame as text cells a person reads: Decimal columns (the core's money)
    and a column headed «…, ₽» as money,
    other numbers with the language's separators, dates as 06.12.2026, «—» for
    nothing (never ``None``, ``9821111.14`` or ``1e+06``)."""
    kinds: dict[str, str | None] = {}
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Decimal) or (str(name).rstrip().endswith("₽")
                                             and dtype.is_numeric()):
            kinds[name] = "money"
        elif dtype.is_integer():
            kinds[name] = "int"
        else:
            kinds[name] = None
    return [{str(k): cell(v, kinds[k]) if v is not None else "—" for k, v in row.items()}
            for row in df.iter_rows(named=True)]


def excel_button(name: str, df: pl.DataFrame, key: str) -> None:
    """«Скачать Excel»: the workbook is built only when the button is pressed (the
    browser asks for it; Streamlit runs the builder then, off the page's run), so
    a page shows at once however big the report."""
    language = lang()
    st.download_button(tr("Скачать Excel", "Download Excel"),
                       lambda: reports.to_xlsx(name, df, language), file_name=f"{name}.xlsx",
                       mime=XLSX_MIME, key=f"{key}.xlsx", icon=":material/download:",
                       on_click="ignore")


def status_names(store: Store, df: pl.DataFrame) -> pl.DataFrame:
    """A report's statuses (``code`` + ``status`` columns) named in the UI language:
    the status's English label in English, when it has one."""
    if lang() != "en" or not {"code", "status"} <= set(df.columns) or not df.height:
        return df
    from clientplus_core.sales import statuses
    from clientplus_ui.sales.common import status_label

    names = {str(s["code"]): status_label(s) for s in statuses.list_statuses(store, True)}
    return df.with_columns(pl.Series("status", [names.get(str(c), str(n)) for c, n in
                                                zip(df["code"], df["status"], strict=True)]))


def report_block(store: Store, actor: Actor, name: str, p: Period,
                 chart: Callable[[pl.DataFrame], go.Figure] | None, key: str,
                 top: int | None = None, **options: Any) -> pl.DataFrame | None:
    """Run report ``name`` (with a spinner), then its chart, its table (the first
    ``top`` rows, default :data:`SCREEN_ROWS`, with how many there are) and an Excel
    download of every row, built on click. Returns the frame (None on error)."""
    try:
        with st.spinner(tr("Считаем…", "Computing…")):
            df = status_names(store, results.run(store, actor, name, p, **options))
    except Exception as exc:  # noqa: BLE001 - shown to the user, never a traceback
        show_error(exc)
        return None
    if chart is not None and df.height:
        plot(chart(df), f"{key}.chart")
    headers = reports.table_headers(name, df, lang())
    if not df.height:
        st.info(tr("Нет данных за выбранный период", "No data for the chosen period"))
    else:
        spec = [c for c in reports.COLUMNS[name] if c[0] in df.columns]
        top = SCREEN_ROWS if top is None else top
        rows = df.head(top)
        shown = [{h: cell(r[c], f) for (c, _, f), h in zip(spec, headers, strict=True)}
                 for r in rows.select([c for c, _, _ in spec]).iter_rows(named=True)]
        config = {h: st.column_config.TextColumn(alignment="right")
                  for (_, _, f), h in zip(spec, headers, strict=True) if f in _FORMATS}
        st.dataframe(shown, hide_index=True, column_config=config, key=f"{key}.table")
        if df.height > top:
            st.caption(tr(f"Показаны {formats.number(top, 'ru')} первых строк из "
                          f"{formats.number(df.height, 'ru')}; все строки — в файле Excel",
                          f"The first {formats.number(top, 'en')} rows of "
                          f"{formats.number(df.height, 'en')}; the Excel file has them all"))
    excel_button(name, df, key)
    return df


def _h(name: str, column: str) -> str:
    """A report column's header in the UI language (for chart axes)."""
    return reports.header(name, column, lang())


def _funnel(df: pl.DataFrame) -> go.Figure:
    return charts.funnel(df, lang=lang())


def _aging(df: pl.DataFrame) -> go.Figure:
    return charts.aging(df, reports.aging_labels(lang()), lang=lang())


def _money(v: object) -> str:
    return formats.money(v if formats.to_decimal(v) is not None else 0, lang())


def _money_short(v: object) -> str:
    """A metric-sized amount: exact below a million roubles, else «194,7 млн ₽» (the
    exact amount goes into the metric's tooltip)."""
    return formats.short_money(v if formats.to_decimal(v) is not None else 0, lang())


def _exact(v: object) -> str | None:
    """The tooltip of a shortened amount: the exact figure."""
    d = v if isinstance(v, Decimal) else Decimal(str(v or 0))
    return _money(d) if abs(d) >= 1_000_000 else None


def kpi_row(store: Store, actor: Actor, p: Period) -> None:
    """The dashboard numbers as metrics."""
    with st.spinner(tr("Считаем…", "Computing…")):
        k = results.kpis(store, actor, p)
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
                            (cols[2], tr("Средняя продажа", "Average sale"), "avg_deal")):
        col.metric(label, _money_short(k[key]), help=_exact(k[key]))
    cols[3].metric(tr(*debt.RECEIVABLE_SHORT), _money_short(k["debt"]),
                   help=" · ".join(x for x in (tr(*debt.RECEIVABLE), _exact(k["debt"]),
                                               tr("просрочено: ", "overdue: ")
                                               + _money(k["overdue"])) if x))


@st.fragment(run_every=1.0)
def _build_progress(store: Store) -> None:
    """The first build's progress, polled every second; the page fills in when done."""
    status = analytics.status(store)
    if status.ready:
        st.rerun()
    if status.error:
        show_error(RuntimeError(status.error))
        if st.button(tr("Попробовать снова", "Try again"), key="analytics.retry"):
            analytics.engine(store).retry()
            analytics.status(store)
        return
    share = formats.number(round(status.progress * 100), lang()) + " %"
    st.progress(status.progress, text=tr(
        f"Готовим отчёты: копируем данные для аналитики ({share})…",
        f"Preparing reports: copying the data for analytics ({share})…"))


def copy_ready(store: Store) -> bool:
    """Whether reports can be read now. When the analytics copy is still being built
    (a fresh start on a big database), shows the build's progress instead — the page
    never waits for the whole build — and reruns the page when it is done."""
    if analytics.status(store, wait_s=FIRST_BUILD_WAIT_S).ready:
        return True
    _build_progress(store)
    return False


def _open_debtors() -> None:
    st.session_state["rep.tabs"] = tr("Дебиторка", "Receivables")


def dashboard(store: Store, actor: Actor) -> None:
    """The dashboard: filters, KPIs and four charts (each with an Excel built on
    click; the debtors' table shows the 20 largest and leads to the full report)."""
    p = period_filters(store, actor, "dash")
    if not copy_ready(store):
        return
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
                     lambda df: charts.bars(df, "key", "amount", lang=lang(),
                                            x_title=tr("Месяц", "Month"),
                                            y_title=_h("revenue", "amount")), "dash.revenue")
        st.subheader(tr("Дебиторка по срокам", "Receivables by age"))
        report_block(store, actor, "debtors", p, _aging, "dash.debtors", top=DASHBOARD_DEBTORS)
        if st.button(tr("Все должники", "All debtors"), key="dash.debtors.all",
                     icon=":material/arrow_forward:", on_click=_open_debtors):
            st.switch_page("pages/reports.py")
    with right:
        st.subheader(tr("Воронка продаж", "Sales funnel"))
        report_block(store, actor, "funnel", p, _funnel, "dash.funnel")
        st.subheader(tr("Источники новых клиентов", "Sources of new clients"))
        report_block(store, actor, "sources", p,
                     lambda df: charts.pie(df, "source", "clients",
                                           legend_title=_h("sources", "source")),
                     "dash.sources")


REPORT_TABS: list[tuple[str, str, str]] = [
    ("funnel", "Воронка", "Funnel"), ("stage_times", "Время на этапах", "Time in stage"),
    ("revenue", "Выручка", "Revenue"),
    ("debtors", "Дебиторка", "Receivables"), ("forecast", "Ожидаемые оплаты", "Forecast"),
    ("clients", "Клиентская база", "Client base"), ("top_clients", "Топ клиентов", "Top clients"),
    ("no_contact", "Без контакта", "No contact"),
]


def reports_page(store: Store, actor: Actor) -> None:
    """All reports in tabs; each: table + chart + Excel."""
    p = period_filters(store, actor, "rep")
    if not copy_ready(store):
        return
    caption = st.empty()
    # stateful tabs: only the open one runs (its label is kept in «rep.tabs»)
    tabs = st.tabs([tr(ru, en) for _, ru, en in REPORT_TABS], key="rep.tabs",
                   on_change="rerun")
    if tabs[0].open:
        with tabs[0]:
            report_block(store, actor, "funnel", p, _funnel, "rep.funnel")
            st.subheader(tr("Проигранные по причинам", "Lost by reason"))
            report_block(store, actor, "lost_reasons", p,
                         lambda df: charts.bars(df, "reason", "count", horizontal=True, lang=lang(),
                                                x_title=_h("lost_reasons", "reason"),
                                                y_title=_h("lost_reasons", "count")), "rep.lost")
    if tabs[1].open:  # a window over the whole status log: its own tab, never computed
        with tabs[1]:  # unless opened
            st.subheader(tr("Время на этапах, дней", "Time in stage, days"))
            report_block(store, actor, "stage_times", p,
                         lambda df: charts.bars(df, "status", "avg_days", lang=lang(),
                                                x_title=_h("stage_times", "status"),
                                                y_title=_h("stage_times", "avg_days")),
                         "rep.stages")
    if tabs[2].open:
        with tabs[2]:
            c1, c2 = st.columns(2)
            by_labels = reports.REVENUE_BY_EN if lang() == "en" else reports.REVENUE_BY
            bases = reports.BASES_EN if lang() == "en" else reports.BASES
            by = c1.selectbox(tr("Группировка", "Group by"), list(reports.REVENUE_BY),
                              format_func=by_labels.__getitem__, key=lkey("rep.rev.by"))
            basis = c2.radio(tr("База", "Basis"), list(reports.BASES), horizontal=True,
                             format_func=bases.__getitem__, key=lkey("rep.rev.basis"))
            report_block(store, actor, "revenue", p,
                         lambda df: charts.bars(df, "key", "amount", horizontal=by != "month",
                                                lang=lang(),
                                                x_title=by_labels[by],
                                                y_title=_h("revenue", "amount")),
                         "rep.revenue", by=by, basis=basis)
    if tabs[3].open:
        with tabs[3]:
            report_block(store, actor, "debtors", p, _aging, "rep.debtors")
    if tabs[4].open:
        with tabs[4]:
            weeks = st.number_input(tr("Недель вперёд", "Weeks ahead"), 1, 52, 8, key="rep.weeks")
            report_block(store, actor, "forecast", p,
                         lambda df: charts.bars(df, "week", "amount", lang=lang(),
                                                x_title=_h("forecast", "week"),
                                                y_title=_h("forecast", "amount")), "rep.forecast",
                         weeks=int(weeks))
    if tabs[5].open:
        with tabs[5]:
            report_block(store, actor, "growth", p,
                         lambda df: charts.bars(df, "month", "new", lang=lang(), color="source",
                                                x_title=_h("growth", "month"),
                                                y_title=_h("growth", "new"),
                                                legend_title=_h("growth", "source")), "rep.growth")
            report_block(store, actor, "sources", p,
                         lambda df: charts.pie(df, "source", "clients",
                                               legend_title=_h("sources", "source")),
                         "rep.sources")
    if tabs[6].open:
        with tabs[6]:
            report_block(store, actor, "top_clients", p,
                         lambda df: charts.bars(df, "client", "amount", horizontal=True,
                                                lang=lang(), x_title=_h("top_clients", "client"),
                                                y_title=_h("top_clients", "amount")),
                         "rep.top")
    if tabs[7].open:
        with tabs[7]:
            days = st.number_input(tr("Дней без контакта", "Days without contact"), 1, 3650, 30,
                                   key="rep.days")
            report_block(store, actor, "no_contact", p, None, "rep.nocontact", days=int(days))
    with caption.container():
        as_of_caption(store)
