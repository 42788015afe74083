"""Analytics in a real browser: the dashboard and the funnel on the hand-made data
set (tests/analytics_data.py), and a report exported to Excel and read back."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import expect

from clientplus_core.store.startup import open_store
from tests import analytics_data

from .conftest import shot, wait_idle

LONG = 40_000

# The data set is dated 2026: every page is opened on that year's period.
PERIOD = "?from=2026-01-01&to=2026-12-31"


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def test_dashboard_funnel_and_excel(server_factory, page, tmp_path: Path) -> None:
    data = tmp_path / "seeded"
    analytics_data.build(open_store(data))
    srv = server_factory(data)

    page.goto(f"{srv.url}/dashboard{PERIOD}")
    wait_idle(page, 60)
    expect(_metric(page, "Продаж открыто")).to_have_text("5", timeout=LONG)
    expect(_metric(page, "Выручка (оплаты)")).to_have_text("2 000,00 ₽", timeout=LONG)
    expect(page.get_by_text("Данные на", exact=False).first).to_be_visible()
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    shot(page, "analytics-dashboard")

    page.goto(f"{srv.url}/reports{PERIOD}")
    wait_idle(page, 60)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("tab", name="Воронка")).to_be_visible(timeout=LONG)
    expect(main.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    shot(page, "analytics-funnel")
    button = main.get_by_role("button", name="Скачать Excel").first
    with page.expect_download(timeout=LONG) as dl:
        button.click()
    path = tmp_path / "funnel.xlsx"
    dl.value.save_as(path)
    ws = load_workbook(path).active
    assert ws["A1"].value == "Статус" and ws["D1"].value == "Дошли до статуса"
    assert [ws.cell(r, 4).value for r in range(2, 11)] == [5, 4, 4, 3, 3, 3, 2, 1, 1]
    assert ws["A11"].value == "Итого" and ws["B11"].value == 4
    assert ws["F2"].value == 0.8 and ws["F2"].number_format == "0.00%"
