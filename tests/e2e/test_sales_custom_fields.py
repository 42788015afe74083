"""Sale custom fields in a real browser: define one in Settings, fill it on a sale's
card, show it as a column of the sales register, filter by it, export the register
to Excel and check the cell with openpyxl."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e

LONG = 40_000
LINES = [{"name": "Услуга", "qty": 1, "price": 1000, "vat_code": "none"}]


def _select(page, box, option: str) -> None:
    box.click()
    page.get_by_role("option", name=option, exact=True).click()


def test_a_sale_custom_field_defined_filled_shown_filtered_and_exported(
        server_factory, page, tmp_path: Path) -> None:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    client = clients.create(store, admin, {"name": "ООО «Покупатель»"})
    made = [sales.create(store, admin, {"client_id": client["id"], "title": title,
                                        "date": "2026-03-01", "lines": LINES})
            for title in ("Поставка станков", "Сервис", "Обучение")]
    srv = server_factory(data)

    # 1. Settings → «Доп. поля»: a number field for sales
    page.goto(f"{srv.url}/settings")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Настройки")).to_be_visible(timeout=LONG)
    wait_idle(page, 60)
    main.get_by_role("tab", name="Доп. поля").click()
    form = main.get_by_test_id("stForm").filter(has_text="Ключ (латиницей)")
    _select(page, form.get_by_test_id("stSelectbox").filter(has_text="Где"), "Продажи")
    form.get_by_role("textbox", name="Ключ (латиницей)").fill("points")
    _select(page, form.get_by_test_id("stSelectbox").filter(has_text="Тип"), "Число")
    form.get_by_role("textbox", name="Название", exact=True).fill("Баллы лояльности")
    form.get_by_role("button", name="Сохранить поле").click()
    expect(main.get_by_text("Поле «Баллы лояльности» сохранено")).to_be_visible(timeout=LONG)

    # 2. the sale's card: fill it and save
    page.goto(f"{srv.url}/sale?id={made[0]['id']}")
    expect(page.get_by_role("heading", name=re.compile(r"Продажа № "))).to_be_visible(
        timeout=LONG)
    wait_idle(page, 60)
    box = main.get_by_label("Баллы лояльности")
    box.fill("250")
    box.press("Tab")
    main.get_by_role("button", name="Сохранить", exact=True).click()
    wait_idle(page)
    deadline_ok = False
    for _ in range(50):
        if sales.get(store, admin, made[0]["id"])["extra"].get("points") == 250:
            deadline_ok = True
            break
        page.wait_for_timeout(200)
    assert deadline_ok, sales.get(store, admin, made[0]["id"])["extra"]
    # another sale gets a smaller value (through the core: the filter must tell them apart)
    sale = sales.get(store, admin, made[1]["id"])
    sales.update(store, admin, made[1]["id"], {"extra": {"points": 40}}, sale["version"])

    # 3. the register: the field as a column, then a filter «от 100»
    page.goto(f"{srv.url}/sales")
    expect(page.get_by_text("Найдено продаж: 3")).to_be_visible(timeout=LONG)
    wait_idle(page)
    main.get_by_text("Доп. поля", exact=True).click()
    columns = main.get_by_test_id("stMultiSelect").filter(has_text="Показать столбцы")
    expect(columns).to_be_visible(timeout=LONG)
    option = page.get_by_role("option", name="Баллы лояльности", exact=True)
    columns.get_by_role("combobox").first.click()
    if not option.is_visible():
        page.wait_for_timeout(500)
        if not option.is_visible():  # focused but closed: open the list from the keyboard
            page.keyboard.press("ArrowDown")
    expect(option).to_be_visible(timeout=LONG)
    page.get_by_role("option", name="Баллы лояльности", exact=True).click()
    page.keyboard.press("Escape")
    wait_idle(page)
    table = main.get_by_test_id("stDataFrame")
    expect(table.locator("th", has_text="Баллы лояльности")).to_be_attached(
        timeout=LONG)
    main.get_by_label("от", exact=True).fill("100")
    main.get_by_label("от", exact=True).press("Enter")
    expect(page.get_by_text("Найдено продаж: 1")).to_be_visible(timeout=LONG)
    wait_idle(page)
    table.scroll_into_view_if_needed()
    shot(page, "sales-custom-field-column-and-filter")

    # 4. Excel: exactly the filtered sale, the custom value a number cell
    main.get_by_role("button", name="Подготовить Excel").click()
    download = main.get_by_role("button", name=re.compile(r"Скачать Excel \(1\)"))
    expect(download).to_be_visible(timeout=LONG)
    wait_idle(page)
    with page.expect_download(timeout=LONG) as dl:
        download.click()
    path = tmp_path / "sales.xlsx"
    dl.value.save_as(path)
    ws = load_workbook(path).active
    header = [c.value for c in ws[1]]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[header.index("Название")] for r in rows] == ["Поставка станков"]
    cell = ws.cell(row=2, column=header.index("Баллы лояльности") + 1)
    assert cell.value == 250 and cell.data_type == "n"
