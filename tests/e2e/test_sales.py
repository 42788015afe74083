"""Sales in a real browser: create a sale with three lines, move it through the
statuses, add a payment, generate the invoice and download it.

The specification editor is a canvas grid: cells are clicked by position (the
column widths the page sets, :data:`clientplus_ui.sales.spec.WIDTHS`) and typed
into through the grid's own cell editor. Results are checked through metrics,
texts, the downloaded file and the database, never through canvas pixels.
"""

from __future__ import annotations

import re
import time
from decimal import Decimal as D
from pathlib import Path

from docx import Document
from playwright.sync_api import expect

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_ui.sales.spec import COLUMNS, WIDTHS

from .conftest import shot, wait_idle

LONG = 30_000  # ms: Streamlit reruns on a shared 2-core machine can be slow
ROW = 35  # px: the grid's header and row height
MARKER = 33  # px: the row-marker column of an editor with dynamic rows


def _seed(tmp_path: Path):
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    company.save(store, admin, {"kind": "legal", "name": "ООО «Продавец»", "inn": "7707083893",
                                "kpp": "770701001", "legal_address": "г. Москва"})
    client = clients.create(store, admin, {"kind": "legal", "name": "ООО «Покупатель»",
                                           "inn": "7736207543", "kpp": "773601001"},
                            allow_duplicate=True)
    return data, store, admin, client


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


class Grid:
    """Type into the cells of an ``st.data_editor`` by row and column name."""

    def __init__(self, page, locator):
        self.page = page
        self.grid = locator

    def _x(self, left: float, column: str) -> float:
        x = left + MARKER
        for name in COLUMNS:
            if name == column:
                return x + WIDTHS[name] / 2
            x += WIDTHS[name]
        raise KeyError(column)

    def add_row(self) -> None:
        self.grid.hover()
        self.grid.get_by_role("button", name="Add row").click()
        time.sleep(0.4)

    def put(self, row: int, column: str, text: str) -> None:
        box = self.grid.bounding_box()  # the page may have scrolled
        self.page.mouse.click(self._x(box["x"], column), box["y"] + ROW * (row + 1) + ROW / 2)
        time.sleep(0.3)
        editor = self.page.locator("textarea.gdg-input")
        if not editor.count():  # a click on the selected cell already opens the editor
            self.page.keyboard.press("Enter")
            expect(editor).to_have_count(1)
        time.sleep(0.2)
        editor.fill(text)
        expect(editor).to_have_value(text)
        editor.press("Tab")
        expect(editor).to_have_count(0)
        time.sleep(0.2)


def test_a_sale_is_created_moved_through_statuses_paid_and_invoiced(server_factory, page,
                                                                     tmp_path):
    data, store, admin, client = _seed(tmp_path)
    srv = server_factory(data)
    page.goto(f"{srv.url}/sale?new=1&client={client['id']}")
    wait_idle(page, 40)
    expect(page.get_by_role("heading", name="Новая продажа")).to_be_visible(timeout=LONG)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stDataFrame")).to_be_visible(timeout=LONG)  # client preset
    wait_idle(page)
    main.get_by_label("Название", exact=True).fill("Поставка бумаги и консультация")

    grid = Grid(page, main.get_by_test_id("stDataFrame").first)
    grid.add_row()
    grid.add_row()
    for row, (name, qty, price, discount) in enumerate([
            ("Консультация", "3", "1 500,00", ""), ("Бумага А4", "7", "349,90", "5"),
            ("Доставка", "1", "500", "")]):
        grid.put(row, "name", name)
        grid.put(row, "qty", qty)
        grid.put(row, "price", price)
        if discount:
            grid.put(row, "discount", discount)
    main.get_by_role("button", name="Пересчитать").click()
    # reference case 1 (6 826,84, VAT 1 231,07) plus 500,00 with VAT 22 % (90,16)
    expect(_metric(page, "Всего к оплате")).to_have_text("7 326,84 ₽", timeout=LONG)
    expect(_metric(page, "НДС")).to_have_text("1 321,23 ₽")
    expect(main.get_by_text("предварительный расчёт, не сохранено")).to_be_visible()
    wait_idle(page)
    shot(page, "sale-new-recalculated")
    assert sales.list_sales(store, admin).total == 0, "«Пересчитать» saves nothing"

    main.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("heading", name=re.compile(r"Продажа № \d{4}-0001"))).to_be_visible(
        timeout=LONG)
    [row] = sales.list_sales(store, admin).rows
    card = sales.get_card(store, admin, row["id"])
    assert [ln["amount"] for ln in card["lines"]] == [D("4500.00"), D("2326.84"), D("500.00")]
    assert card["totals"]["total"] == D("7326.84")
    assert card["totals"]["vat_total"] == D("1321.23")
    expect(_metric(page, "Сумма")).to_have_text("7 326,84 ₽")
    wait_idle(page)
    shot(page, "sale-saved")

    # statuses: two «next stage» clicks, then any status from the popover
    for label in ("КП подготовлено", "КП отправлено"):
        main.get_by_role("button", name=f"Следующий этап: {label}").click()
        expect(main.get_by_text(f"Статус: «{label}»")).to_be_visible(timeout=LONG)
        wait_idle(page)
    main.get_by_role("button", name="Сменить статус").click()
    popover = page.get_by_test_id("stPopoverBody")
    popover.get_by_test_id("stSelectbox").click()
    page.get_by_role("option", name="Счёт выставлен", exact=True).click()
    popover.get_by_role("button", name="Применить").click()
    expect(main.get_by_text("Статус: «Счёт выставлен»")).to_be_visible(timeout=LONG)
    wait_idle(page)
    log = sales.get_card(store, admin, row["id"])["status_log"]
    assert [e["to_label"] for e in log] == ["Предварительная заявка", "КП подготовлено",
                                            "КП отправлено", "Счёт выставлен"]

    # a payment: paid and remaining change, the status suggestion is applied
    main.get_by_role("tab", name="Оплаты").click()
    wait_idle(page)
    amount = main.get_by_label("Сумма оплаты", exact=True)
    expect(amount).to_have_value("7 326,84", timeout=LONG)
    amount.fill("2 000")
    main.get_by_label("Документ", exact=True).fill("п/п № 15")
    main.get_by_role("button", name="Добавить оплату").click()
    expect(_metric(page, "Оплачено")).to_have_text("2 000,00 ₽", timeout=LONG)
    wait_idle(page)
    expect(_metric(page, "Осталось оплатить")).to_have_text("5 326,84 ₽")
    main.get_by_role("button", name="Перевести в «Частично оплачено»").click()
    expect(main.get_by_text("Статус: «Частично оплачено»")).to_be_visible(timeout=LONG)
    wait_idle(page)
    shot(page, "sale-payment")
    card = sales.get_card(store, admin, row["id"])
    assert card["balance"]["paid"] == D("2000.00") and card["status"]["code"] == "partly_paid"

    # the invoice: generated, numbered, downloaded at once
    main.get_by_role("tab", name="Документы").click()
    wait_idle(page)
    main.get_by_role("button", name="Счёт", exact=True).click()
    download = main.get_by_role("button", name="Скачать .docx")
    expect(download).to_be_visible(timeout=LONG)
    wait_idle(page)
    shot(page, "sale-invoice")
    with page.expect_download(timeout=LONG) as dl:
        download.click()
    assert dl.value.suggested_filename.endswith(".docx")
    path = tmp_path / "invoice.docx"
    dl.value.save_as(path)
    doc = Document(str(path))
    text = "\n".join([p.text for p in doc.paragraphs] + [
        c.text for t in doc.tables for r in t.rows for c in r.cells]).replace("\u00a0", " ")
    for expected in ("ООО «Покупатель»", "ООО «Продавец»", "Консультация", "Бумага А4",
                     "Доставка", "7 326,84", "1 321,23",
                     "Семь тысяч триста двадцать шесть рублей 84 копейки"):
        assert expected in text, expected
    assert [d["kind"] for d in sales.get_card(store, admin, row["id"])["documents"]] == [
        "invoice"]

    # the register shows it with its money
    page.goto(f"{srv.url}/sales")
    wait_idle(page, 40)
    expect(page.get_by_text("Найдено продаж: 1")).to_be_visible(timeout=LONG)
    expect(_metric(page, "Не оплачено по продажам")).to_have_text("5 326,84 ₽")
    wait_idle(page)
    shot(page, "sales-register")
