"""Pure pieces of the reports: chart builders (frame → figure), the totals row,
the table columns, dates typed by a user."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from openpyxl import load_workbook

from clientplus_core.analytics import charts, reports
from clientplus_core.base.errors import ValidationError

D = Decimal


def revenue_frame() -> pl.DataFrame:
    return pl.DataFrame({"key": ["2026-01", "2026-02"], "count": [1, 2],
                         "amount": [D("600.00"), D("1400.50")]},
                        schema={"key": pl.Utf8, "count": pl.Int64, "amount": pl.Decimal(18, 2)})


def test_a_bar_chart_carries_the_frame_values() -> None:
    fig = charts.bars(revenue_frame(), "key", "amount", title="Выручка")
    assert list(fig.data[0].x) == ["янв 2026", "фев 2026"]  # month keys read as months
    assert list(fig.data[0].y) == [600.0, 1400.5]
    en = charts.bars(revenue_frame(), "key", "amount", lang="en")
    assert list(en.data[0].x) == ["Jan 2026", "Feb 2026"]
    assert fig.layout.title.text == "Выручка"


def test_the_funnel_chart_shows_reached_counts_in_order() -> None:
    df = pl.DataFrame({"status": ["Заявка", "КП"], "reached_count": [5, 4]})
    fig = charts.funnel(df)
    assert list(fig.data[0].y) == ["Заявка", "КП"] and list(fig.data[0].x) == [5, 4]


def test_the_aging_chart_sums_each_bucket() -> None:
    df = pl.DataFrame({k: [D("1.00"), D("2.00")] for k in reports.AGING})
    fig = charts.aging(df, reports.AGING_LABELS)
    assert list(fig.data[0].x) == list(reports.AGING_LABELS.values())
    assert list(fig.data[0].y) == [3.0] * 5


def test_charts_of_an_empty_frame_are_empty_not_errors() -> None:
    empty = revenue_frame().head(0)
    assert len(charts.bars(empty, "key", "amount").data[0].x) == 0
    assert len(charts.pie(empty, "key", "amount").data[0].values) == 0


def test_the_totals_row_sums_counts_and_money_only() -> None:
    assert reports.totals_row("revenue", revenue_frame()) == ["Итого", 3, D("2000.50")]
    assert reports.totals_row("revenue", revenue_frame().head(0)) is None
    assert reports.totals_row("stage_times", revenue_frame()) is None


def test_the_excel_of_a_report_has_formats_and_totals() -> None:
    ws = load_workbook(io.BytesIO(reports.to_xlsx("revenue", revenue_frame()))).active
    assert [c.value for c in ws[1]] == ["Группа", "Количество", "Выручка, ₽"]
    assert ws["C3"].value == 1400.5 and ws["C3"].number_format == "#,##0.00"
    assert ws["B2"].number_format == "#,##0"
    assert [c.value for c in ws[4]] == ["Итого", 3, 2000.5]
    assert ws["A4"].font.b and ws["C4"].number_format == "#,##0.00"
    assert ws.freeze_panes == "A2"
    assert ws.title == "Выручка"


def test_a_typed_date_is_read_in_both_spellings() -> None:
    assert reports.parse_day("2026-02-01", "с") == date(2026, 2, 1)
    assert reports.parse_day("01.02.2026", "с") == date(2026, 2, 1)
    assert reports.parse_day("", "с") is None
    with pytest.raises(ValidationError):
        reports.parse_day("31.02.2026", "с")
