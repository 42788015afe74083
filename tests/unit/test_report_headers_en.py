"""English headers of the reports, charts, segments and the report builder: with
``lang="en"`` every table header, chart title, axis title, Excel header row, sheet
title and totals label is English; Russian stays the default. The expected English
texts are written out here, not read from the code."""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
import pytest
from openpyxl import load_workbook

from clientplus_core.analytics import charts, reports

D = Decimal

EXPECTED_EN: dict[str, list[str]] = {
    "funnel": ["Status", "At the status now", "Amount at the status, ₽", "Reached the status",
               "Amount reached, ₽", "Conversion to next", "Conversion from start"],
    "revenue": ["Group", "Count", "Revenue, ₽"],
    "debtors": ["Client", "Sales", "Debt, ₽", "Not due yet, ₽", "0–30 days, ₽", "31–60 days, ₽",
                "61–90 days, ₽", "Over 90 days, ₽"],
    "forecast": ["Week (from Monday)", "Payments", "Expected, ₽"],
    "growth": ["Month", "Source", "New clients", "Running total"],
    "sources": ["Source", "Clients"],
    "top_clients": ["Client", "Payments", "Paid, ₽"],
    "no_contact": ["Client", "Manager", "Last contact", "Days without contact"],
    "lost_reasons": ["Reason", "Sales", "Amount, ₽"],
    "stage_times": ["Status", "Transitions", "Average, days", "Median, days"],
}
SHEETS_EN = {"funnel": "Sales funnel", "revenue": "Revenue", "debtors": "Receivables",
             "forecast": "Expected payments", "growth": "Client base growth",
             "sources": "Client sources", "top_clients": "Top clients",
             "no_contact": "Clients without contact", "lost_reasons": "Lost by reason",
             "stage_times": "Time in stage"}


def one_row(name: str) -> pl.DataFrame:
    """A one-row frame with the report's columns (text, count or money by format)."""
    data: dict[str, list[object]] = {}
    schema: dict[str, object] = {}
    for col, _h, fmt in reports.COLUMNS[name]:
        if fmt == "money":
            data[col], schema[col] = [D("10.00")], pl.Decimal(18, 2)
        elif fmt == "int":
            data[col], schema[col] = [2], pl.Int64
        elif fmt == "percent":
            data[col], schema[col] = [0.5], pl.Float64
        else:
            data[col], schema[col] = ["x"], pl.Utf8
    return pl.DataFrame(data, schema=schema)


def test_every_report_has_english_headers() -> None:
    assert set(EXPECTED_EN) == set(reports.REPORTS)


@pytest.mark.parametrize("name", sorted(EXPECTED_EN))
def test_a_report_table_in_english(name: str) -> None:
    headers, rows = reports.table_rows(name, one_row(name), "en")
    assert headers == EXPECTED_EN[name]
    assert len(rows) == 1
    # Russian stays the default and differs
    ru, _ = reports.table_rows(name, one_row(name))
    assert ru == [h for _c, h, _f in reports.COLUMNS[name]] and ru != headers


@pytest.mark.parametrize("name", sorted(EXPECTED_EN))
def test_a_report_excel_in_english(name: str) -> None:
    wb = load_workbook(io.BytesIO(reports.to_xlsx(name, one_row(name), "en")))
    ws = wb.active
    assert [c.value for c in ws[1]] == EXPECTED_EN[name]
    assert ws.title == SHEETS_EN[name]
    if reports.totals_row(name, one_row(name)) is not None:
        assert ws.cell(3, 1).value == "Total"


def test_russian_excel_keeps_russian_headers_and_totals() -> None:
    ws = load_workbook(io.BytesIO(reports.to_xlsx("revenue", one_row("revenue")))).active
    assert [c.value for c in ws[1]] == ["Группа", "Количество", "Выручка, ₽"]
    assert ws.cell(3, 1).value == "Итого" and ws.title == "Выручка"


def test_chart_titles_and_axes_in_english() -> None:
    funnel = pl.DataFrame({"status": ["Lead", "Offer"], "reached_count": [5, 4]})
    assert charts.funnel(funnel, lang="en").layout.title.text == "Sales funnel"
    assert charts.funnel(funnel).layout.title.text == "Воронка продаж"
    aging = pl.DataFrame({k: [D("1.00")] for k in reports.AGING})
    fig = charts.aging(aging, reports.aging_labels("en"), lang="en")
    assert fig.layout.title.text == "Receivables by age"
    assert fig.layout.yaxis.title.text == "Debt, ₽"
    assert list(fig.data[0].x) == ["Not due yet", "0–30 days", "31–60 days", "61–90 days",
                                   "Over 90 days"]
    rev = one_row("revenue")
    fig = charts.bars(rev, "key", "amount", x_title="Month", y_title="Revenue, ₽")
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("Month",
                                                                         "Revenue, ₽")
    fig = charts.bars(rev, "key", "amount", horizontal=True, x_title="Client",
                      y_title="Paid, ₽")
    # horizontal bars: the categories run down the y axis
    assert (fig.layout.yaxis.title.text, fig.layout.xaxis.title.text) == ("Client", "Paid, ₽")
    fig = charts.line(rev, "key", "count", x_title="Month", y_title="Clients")
    assert fig.layout.xaxis.title.text == "Month"
    fig = charts.pie(one_row("sources"), "source", "clients", legend_title="Source")
    assert fig.layout.legend.title.text == "Source"


def test_header_falls_back_to_russian_for_an_unknown_language() -> None:
    assert reports.header("revenue", "amount", "de") == "Выручка, ₽"
    assert reports.header("revenue", "amount", "en") == "Revenue, ₽"
    assert reports.title("debtors", "en") == "Receivables"
