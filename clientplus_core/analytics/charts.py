"""Chart builders: pure functions from a report frame (:mod:`.reports`) to a plotly
Figure. No I/O, no Streamlit; labels are passed in (the UI translates them): titles
and axis titles as text, default titles by ``lang`` (``"ru"`` | ``"en"``)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from clientplus_core.base import formats
from clientplus_core.base.formats import PLOTLY_SEPARATORS, RUB

_LAYOUT = {"margin": {"l": 10, "r": 10, "t": 40, "b": 10}, "height": 360}
DEFAULT_TITLES = {"funnel": ("Воронка продаж", "Sales funnel"),
                  "aging": ("Дебиторка по срокам", "Receivables by age"),
                  "debt": ("Долг, ₽", "Debt, ₽"), "reached": ("Дошли до статуса",
                                                              "Reached the status")}


def _t(key: str, lang: str) -> str:
    ru, en = DEFAULT_TITLES[key]
    return en if lang == "en" else ru


def _axes(fig: go.Figure, x_title: str, y_title: str) -> None:
    if x_title:
        fig.update_xaxes(title_text=x_title)
    if y_title:
        fig.update_yaxes(title_text=y_title)


def localise(fig: go.Figure, lang: str = "ru", money_axis: str | None = None,
             hover_label: str = "") -> go.Figure:
    """Numbers as the language writes them: «9 821 111,14» (RU) / «9,821,111.14» (EN)
    on axes, labels and tooltips (``layout.separators``). ``money_axis`` (``"x"`` or
    ``"y"``) is the axis of roubles: whole roubles on its ticks (never «5M»), kopecks
    and «₽» in the tooltip, ``hover_label`` before the amount."""
    fig.update_layout(separators=PLOTLY_SEPARATORS.get(lang, PLOTLY_SEPARATORS["ru"]))
    fig.update_xaxes(exponentformat="none", separatethousands=True)
    fig.update_yaxes(exponentformat="none", separatethousands=True)
    if money_axis in ("x", "y"):
        other = "y" if money_axis == "x" else "x"
        axis = fig.update_xaxes if money_axis == "x" else fig.update_yaxes
        axis(tickformat=",.0f")
        head = f"{hover_label}: " if hover_label else ""
        fig.update_traces(hovertemplate=f"%{{{other}}}<br>{head}%{{{money_axis}:,.2f}}"
                                        f" {RUB}<extra></extra>")
    return fig


def _labels(df: pl.DataFrame, col: str, lang: str) -> list[str]:
    """Category labels as a person reads them: a month key «2026-01» as «янв 2026»
    (EN «Jan 2026»), nothing as «—», other values as text."""
    return [formats.month(v, lang) if v not in (None, "") else formats.EMPTY
            for v in df[col].to_list()] if col in df.columns else []


def _floats(df: pl.DataFrame, col: str) -> list[float]:
    return [float(v or 0) for v in df[col].to_list()] if col in df.columns else []


def funnel(df: pl.DataFrame, title: str | None = None, lang: str = "ru") -> go.Figure:
    """The sales that reached each stage (``status``, ``reached_count``), each bar
    with its count and its share of the first stage as the language writes them
    («1 234», «33,3 %» / «1,234», «33.3%»; not plotly's own «33.3%» in Russian)."""
    counts = df["reached_count"].to_list() if df.height else []
    first = counts[0] if counts else 0
    text = [f"{formats.number(n or 0, lang)}<br>"
            + formats.percent((n or 0) * 100 / first if first else 0, lang) for n in counts]
    fig = go.Figure(go.Funnel(y=df["status"].to_list() if df.height else [], x=counts,
                              text=text, textinfo="text", name=_t("reached", lang),
                              hovertemplate="%{y}<br>%{text}<extra></extra>"))
    fig.update_layout(title=_t("funnel", lang) if title is None else title, **_LAYOUT)
    return localise(fig, lang)


def bars(df: pl.DataFrame, x: str, y: str, title: str = "", horizontal: bool = False,
         color: str | None = None, x_title: str = "", y_title: str = "",
         legend_title: str = "", lang: str = "ru", money: bool | None = None) -> go.Figure:
    """A bar chart of column ``y`` against ``x`` (stacked by ``color`` if given);
    ``x_title`` / ``y_title`` name the axes of ``x`` and ``y`` (whichever way the bars
    run), ``legend_title`` the ``color`` legend. ``money`` (default: ``y_title`` ends
    in «₽») formats ``y`` as roubles (:func:`localise`)."""
    fig = go.Figure()
    groups = ([(str(k[0]), g) for k, g in df.group_by([color], maintain_order=True)]
              if color and df.height else [("", df)])
    for name, g in groups:
        xs, ys = _labels(g, x, lang), _floats(g, y)
        fig.add_bar(x=ys if horizontal else xs, y=xs if horizontal else ys, name=name,
                    orientation="h" if horizontal else "v")
    fig.update_layout(title=title, barmode="stack", showlegend=bool(color), **_LAYOUT)
    if legend_title:
        fig.update_layout(legend_title_text=legend_title)
    # keys such as "2026-01" are labels, not dates to be re-spaced on a time axis
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
        _axes(fig, y_title, x_title)
    else:
        fig.update_xaxes(type="category")
        _axes(fig, x_title, y_title)
    if money is None:
        money = y_title.rstrip().endswith(RUB)
    value_axis = "x" if horizontal else "y"
    return localise(fig, lang, value_axis if money else None,
                    y_title.replace(f", {RUB}", "") if money else "")


def line(df: pl.DataFrame, x: str, y: str, title: str = "", x_title: str = "",
         y_title: str = "", lang: str = "ru") -> go.Figure:
    """A line of ``y`` over ``x`` (e.g. the running total of clients)."""
    fig = go.Figure(go.Scatter(x=_labels(df, x, lang) if df.height else [],
                               y=_floats(df, y), mode="lines+markers"))
    fig.update_layout(title=title, **_LAYOUT)
    fig.update_xaxes(type="category")
    _axes(fig, x_title, y_title)
    return localise(fig, lang)


def aging(df: pl.DataFrame, labels: dict[str, str], title: str | None = None,
          lang: str = "ru") -> go.Figure:
    """Total debt per aging bucket (the bucket columns of ``reports.debtors``);
    ``labels`` name the buckets (``reports.aging_labels(lang)``)."""
    keys = [k for k in labels if k in df.columns]
    totals = [float(df[k].cast(pl.Float64).sum() or 0) for k in keys]
    fig = go.Figure(go.Bar(x=[labels[k] for k in keys], y=totals))
    fig.update_layout(title=_t("aging", lang) if title is None else title, **_LAYOUT)
    fig.update_yaxes(title_text=_t("debt", lang))
    return localise(fig, lang, "y", _t("debt", lang).replace(f", {RUB}", ""))


def pie(df: pl.DataFrame, names: str, values: str, title: str = "",
        legend_title: str = "", lang: str = "ru") -> go.Figure:
    """Shares of ``values`` by ``names`` (e.g. clients by source)."""
    fig = go.Figure(go.Pie(labels=[str(v) for v in df[names].to_list()] if df.height else [],
                           values=_floats(df, values), hole=0.4))
    fig.update_layout(title=title, **_LAYOUT)
    if legend_title:
        fig.update_layout(legend_title_text=legend_title)
    return fig.update_layout(separators=PLOTLY_SEPARATORS.get(lang, PLOTLY_SEPARATORS["ru"]))
