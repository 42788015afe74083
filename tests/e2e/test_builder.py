"""The report builder in a real browser: open «Конструктор отчётов» from the menu,
choose «Продажи», a dimension, a measure and a filter, see the table, save the
report, reopen it in a new session, download the Excel file and check its cells
against totals computed here from the test's own data."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from clientplus_core import sales
from clientplus_core.analytics import report_builder as rb
from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

LONG = 40_000
STATUS_LABELS = {"lead": "Предварительная заявка", "offer_ready": "КП подготовлено",
                 "invoiced": "Счёт выставлен"}
# (client, status code, total in roubles: one line without VAT, so total = price)
SALES = [("ООО «Альфа»", "lead", 1000), ("ООО «Альфа»", "invoiced", 2500),
         ("ООО «Бета»", "invoiced", 4000), ("ООО «Бета»", "lead", 300),
         ("ООО «Гамма»", "offer_ready", 700), ("ООО «Гамма»", "invoiced", 499)]
MIN_TOTAL = 500  # the filter «Сумма продажи не меньше 500»


def _seed(tmp_path: Path) -> Path:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    ids: dict[str, int] = {}
    for name, code, amount in SALES:
        if name not in ids:
            ids[name] = clients.create(store, admin, {"name": name})["id"]
        s = sales.create(store, admin, {"client_id": ids[name], "date": "2026-03-01", "lines": [
            {"name": "Услуга", "qty": 1, "price": amount, "vat_code": "none"}]})
        if code != "lead":
            sales.set_status(store, admin, s["id"], code)
    return data


def _expected() -> list[list[object]]:
    """Count and sum per status label of the sales the filter keeps, by label."""
    count: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    for _client, code, amount in SALES:
        if amount >= MIN_TOTAL:
            count[STATUS_LABELS[code]] += 1
            total[STATUS_LABELS[code]] += amount
    return [[label, count[label], total[label]] for label in sorted(count)]


def _select(page, box, option: str) -> None:
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def _multi(page, box, option: str) -> None:
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")


def _excel(page, main, tmp_path: Path, name: str) -> list[list[object]]:
    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать Excel").click()
    path = tmp_path / name
    dl.value.save_as(path)
    ws = load_workbook(path).active
    assert ws.freeze_panes == "A2"
    return [[c.value for c in row] for row in ws.iter_rows()], ws


def test_a_sales_report_built_saved_reopened_and_exported(server_factory, page,
                                                          tmp_path: Path) -> None:
    data = _seed(tmp_path)
    srv = server_factory(data)
    page.goto(srv.url)
    wait_idle(page, 60)
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav).to_be_visible(timeout=LONG)
    link = nav.get_by_role("link", name="Конструктор отчётов")
    more = nav.get_by_text(re.compile(r"View \d+ more"))  # the menu shows ten pages first
    if not link.is_visible() and more.count():
        more.click()
    link.click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Конструктор отчётов")).to_be_visible(timeout=LONG)
    wait_idle(page)

    boxes = main.get_by_test_id("stSelectbox")
    _select(page, boxes.filter(has_text="Что считаем"), "Продажи")
    wait_idle(page)
    form = main.get_by_test_id("stForm")
    multis = form.get_by_test_id("stMultiSelect")
    _multi(page, multis.nth(0), "Статус")
    _multi(page, multis.nth(1), "Сумма: Сумма продажи")
    selects = form.get_by_test_id("stSelectbox")  # field, operator × 3, then the chart
    _select(page, selects.nth(0), "Сумма продажи")
    _select(page, selects.nth(1), "не меньше")
    form.get_by_test_id("stTextInput").nth(0).locator("input").fill(str(MIN_TOTAL))
    form.get_by_role("button", name="Построить").click()
    wait_idle(page)

    table = main.get_by_test_id("stDataFrame")
    expect(table).to_be_visible(timeout=LONG)
    expect(main.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    table.scroll_into_view_if_needed()
    shot(page, "builder-sales-by-status")

    rows, ws = _excel(page, main, tmp_path, "built.xlsx")
    expected = _expected()
    assert rows[0] == ["Статус", "Количество", "Сумма: Сумма продажи"]
    assert rows[1:1 + len(expected)] == expected
    assert rows[1 + len(expected)] == ["Итого", sum(r[1] for r in expected),
                                       sum(r[2] for r in expected)]
    assert ws.cell(2, 3).number_format == "#,##0.00"

    main.get_by_label("Сохранить как").fill("Продажи по статусам от 500")
    main.get_by_role("button", name="Сохранить отчёт").click()
    expect(main.get_by_text("Отчёт «Продажи по статусам от 500» сохранён")).to_be_visible(
        timeout=LONG)
    store = open_store(data)
    saved = rb.load(store, users.ensure_local_admin(store), "Продажи по статусам от 500")
    assert (saved.entity, saved.dimensions) == ("sales", ["status"])

    # a new session: open the saved report from the list
    page.goto(f"{srv.url}/builder")
    wait_idle(page, 60)
    expect(main.get_by_role("heading", name="Конструктор отчётов")).to_be_visible(timeout=LONG)
    _select(page, main.get_by_test_id("stSelectbox").filter(has_text="Сохранённый отчёт"),
            "Продажи по статусам от 500")
    wait_idle(page)
    main.get_by_role("button", name="Открыть").click()
    wait_idle(page)
    expect(main.get_by_test_id("stDataFrame")).to_be_visible(timeout=LONG)
    expect(form.get_by_test_id("stTextInput").nth(0).locator("input")).to_have_value(
        str(MIN_TOTAL))
    main.get_by_test_id("stDataFrame").scroll_into_view_if_needed()
    shot(page, "builder-reopened")
    rows, _ws = _excel(page, main, tmp_path, "reopened.xlsx")
    assert rows[1:1 + len(expected)] == expected
