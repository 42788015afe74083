"""Segmentation in a real browser: build it by two custom fields, save a segment,
download the Excel file and check its cells."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from clientplus_core import sales
from clientplus_core.analytics import segments
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

LONG = 30_000


def _seed(tmp_path: Path) -> tuple[Path, object, object]:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    cf.enable_preset(store, admin, "client", "industry")
    cf.enable_preset(store, admin, "client", "sector")
    for name, ind, sec, amount in (("ООО «А»", "IT", "Бюджетный", 1000),
                                   ("ООО «Б»", "IT", "Коммерческий", 2500),
                                   ("ООО «В»", "Финансы", "Бюджетный", 0)):
        c = clients.create(store, admin, {"name": name, "extra": {"industry": ind,
                                                                  "sector": sec}})
        if amount:
            s = sales.create(store, admin, {"client_id": c["id"], "lines": [
                {"name": "Услуга", "qty": 1, "price": amount}]})
            sales.add_payment(store, admin, s["id"], amount)
    return data, store, admin


def _pick(page, box, option: str) -> None:
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def test_segmentation_by_two_custom_fields_saved_and_exported(server_factory, page,
                                                               tmp_path: Path) -> None:
    data, store, admin = _seed(tmp_path)
    srv = server_factory(data)
    page.goto(f"{srv.url}/segments")
    expect(page.get_by_role("heading", name="Сегментация")).to_be_visible(timeout=LONG)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    boxes = main.get_by_test_id("stSelectbox")
    _pick(page, boxes.nth(0), "Отрасль")
    _pick(page, boxes.nth(1), "Сектор")
    expect(main.get_by_text("Сводная таблица: Клиентов")).to_be_visible(timeout=LONG)
    shot(page, "segments-two-fields")

    # save a segment: budget-sector clients
    form = main.get_by_test_id("stForm")
    sector = form.get_by_test_id("stMultiSelect").nth(1).locator("input")
    sector.click()
    sector.fill("Бюджетный")
    sector.press("Enter")
    expect(form.get_by_text("Бюджетный", exact=True)).to_be_visible()
    form.get_by_label("Название сегмента").fill("Бюджетники")
    form.get_by_role("button", name="Сохранить сегмент").click()
    expect(main.get_by_text("Сегмент «Бюджетники» сохранён: клиентов 2")).to_be_visible(
        timeout=LONG)
    assert segments.list_segments(store, admin)[0]["where"] == {"sector": ["Бюджетный"]}
    wait_idle(page)
    shot(page, "segments-saved")

    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать Excel").click()
    path = tmp_path / "segments.xlsx"
    dl.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]] == ["Отрасль", "Сектор", "Клиентов", "Продаж",
                                        "Выручка, ₽", "Средняя продажа, ₽"]
    body = sorted([c.value for c in r] for r in ws.iter_rows(min_row=2, max_row=4))
    assert body == [["IT", "Бюджетный", 1, 1, 1000, 1000],
                    ["IT", "Коммерческий", 1, 1, 2500, 2500],
                    ["Финансы", "Бюджетный", 1, 0, 0, 0]]
    assert [c.value for c in ws[5]] == ["Итого", None, 3, 2, 3500, None]
    assert ws["E2"].number_format == "#,##0.00"
    assert ws.freeze_panes == "A2"
