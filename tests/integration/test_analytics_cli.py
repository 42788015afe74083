"""``clientplus report …`` and the Excel export of reports, on the hand-made data set."""

from __future__ import annotations

import json
from decimal import Decimal

import openpyxl

from clientplus_cli import main as cli
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from tests import analytics_data


def test_report_revenue_as_json(store, capsys) -> None:
    analytics_data.build(store)
    try:
        rc = cli.main(["--data-dir", str(store.data_dir.root), "report", "revenue", "--by",
                       "month", "--from", "2026-01-01", "--to", "31.01.2026", "--json"])
        out = capsys.readouterr()
        assert rc == 0, out.err
        assert json.loads(out.out) == [{"key": "2026-01", "count": 1, "amount": "600.00"}]
        assert "данные на" in out.err
    finally:
        analytics.close_all()


def test_report_debtors_as_a_manager_to_excel(store, tmp_path, capsys) -> None:
    analytics_data.build(store)
    out = tmp_path / "debtors.xlsx"
    try:
        rc = cli.main(["--data-dir", str(store.data_dir.root), "--user", "m1", "report",
                       "debtors", "-o", str(out)])
        assert rc == 0, capsys.readouterr().err
    finally:
        analytics.close_all()
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]][:3] == ["Клиент", "Продаж", "Долг, ₽"]
    assert ws["A2"].value == "Гамма" and ws["C2"].value == 2000
    assert ws["C2"].number_format == "#,##0.00"
    assert ws["A3"].value == "Итого" and ws["C3"].value == 2000 and ws["A3"].font.b
    assert ws.freeze_panes == "A2"


def test_funnel_excel_has_percent_cells_and_no_total_of_reached(store) -> None:
    ids = analytics_data.build(store)
    try:
        df = reports.funnel(store, ids["admin"])
    finally:
        analytics.close_all()
    ws = openpyxl.load_workbook(__import__("io").BytesIO(reports.to_xlsx("funnel", df))).active
    assert ws["A2"].value == "Предварительная заявка"
    assert ws["D2"].value == 5 and ws["F2"].value == 0.8
    assert ws["F2"].number_format == "0.00%"
    assert ws["A11"].value == "Итого" and ws["B11"].value == 4 and ws["D11"].value is None
    assert Decimal(str(ws["C11"].value)) == Decimal("6400")


def test_an_unknown_report_option_is_refused(store, capsys) -> None:
    rc = cli.main(["--data-dir", str(store.data_dir.root), "report", "revenue", "--by", "colour"])
    assert rc == 1
    assert "Группировка" in capsys.readouterr().err
    analytics.close_all()
