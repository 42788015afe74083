"""Address books in a real browser: build the book «Выставлен счёт, не оплачено»,
see the recipients preview (and who is skipped), download the recipients and a
phone list for SMS and check the files' cells; the consent register page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e
LONG = 30_000


def _tables_drawn(page, main) -> None:
    """Wait until every table on the page has drawn its canvas (for the screenshot)."""
    frames = main.get_by_test_id("stDataFrame")
    for i in range(frames.count()):
        if not frames.nth(i).is_visible():   # e.g. inside a closed expander
            continue
        expect(frames.nth(i).locator("canvas").first).to_be_visible(timeout=LONG)
    page.wait_for_timeout(500)


def _seed(tmp_path: Path) -> tuple[Path, object, object]:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    rows = (("ООО «Должник»", "debtor@firm.ru", "+79161110001", "invoiced"),
            ("ООО «Отказник»", "refuser@firm.ru", "+79161110002", "partly_paid"),
            ("ООО «Плательщик»", "payer@firm.ru", "+79161110003", "lead"))
    for name, email, phone, status in rows:
        c = clients.create(store, admin, {"name": name, "email": email, "phone": phone,
                                          "legal_address": "г. Казань, ул. Баумана, 1"})
        s = sales.create(store, admin, {"client_id": c["id"], "lines": [
            {"name": "Услуга", "qty": 1, "price": 1000}]})
        if status != "lead":
            sales.set_status(store, admin, s["id"], status)
        consent.record(store, admin, {"channel": "email", "value": email, "source": "договор"})
        consent.record(store, admin, {"channel": "phone", "value": phone, "source": "договор"})
        if name == "ООО «Должник»":
            contacts.create(store, admin, c["id"], {"name": "Бухгалтер Анна",
                                                    "mobile": "+79031234567",
                                                    "phone": "+74957001122",
                                                    "email": "anna@firm.ru",
                                                    "consent_email": 1, "consent_sms": 1})
    consent.record_optout(store, admin, "email", "refuser@firm.ru", "ссылка отписки")
    consent.record_optout(store, admin, "phone", "+79161110002", "звонок")
    return data, store, admin


def test_build_invoiced_not_paid_book_preview_and_export_phones(server_factory, page,
                                                                 tmp_path: Path) -> None:
    data, store, admin = _seed(tmp_path)
    srv = server_factory(data)
    page.goto(f"{srv.url}/addressbooks")
    expect(page.get_by_role("heading", name="Адресные книги")).to_be_visible(timeout=LONG)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    form = main.get_by_test_id("stForm")
    form.get_by_label("Название книги").fill("Выставлен счёт, не оплачено")
    form.get_by_text("Выставлен счёт, не оплачено", exact=True).click()
    form.get_by_role("button", name="Создать книгу").click()
    expect(main.get_by_text("Книга «Выставлен счёт, не оплачено» создана")).to_be_visible(
        timeout=LONG)
    expect(main.get_by_text("Получателей: 2")).to_be_visible(timeout=LONG)
    wait_idle(page)
    [book] = ab.list_books(store, admin)
    assert book["criteria"] == {"invoiced_unpaid": True}
    _tables_drawn(page, main)
    shot(page, "addressbooks-preview")

    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать получателей (Excel)").click()
    path = tmp_path / "recipients.xlsx"
    dl.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    assert [c.value for c in ws[1]][:3] == ["E-mail", "Имя", "Клиент"]
    body = [[c.value for c in r][:3] for r in ws.iter_rows(min_row=2)]
    assert body == [["debtor@firm.ru", "ООО «Должник»", "ООО «Должник»"],
                    ["anna@firm.ru", "Бухгалтер Анна", "ООО «Должник»"]]
    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать пропущенных (Excel)").click()
    path = tmp_path / "skipped.xlsx"
    dl.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    skipped = [[c.value for c in r][:3] for r in ws.iter_rows(min_row=2)]
    assert len(skipped) == 1 and skipped[0][0] == "refuser@firm.ru"
    assert skipped[0][1].startswith("отказ от рассылки (") and "ссылка отписки" in skipped[0][1]

    # phones for SMS
    main.get_by_text("Телефоны: SMS и обзвон", exact=True).click()
    wait_idle(page)
    expect(main.get_by_text("Номеров: 3")).to_be_visible(timeout=LONG)
    _tables_drawn(page, main)
    shot(page, "addressbooks-phones")
    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать для SMS (Excel)").click()
    path = tmp_path / "sms.xlsx"
    dl.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    cells = [[c.value for c in r] for r in ws.iter_rows()]
    assert cells[0] == ["phone", "name", "client", "contact", "city", "manager"]
    assert cells[1] == ["+79161110001", "ООО «Должник»", "ООО «Должник»", None, "Казань",
                        "Администратор"]
    assert cells[2][:4] == ["+79031234567", "Бухгалтер Анна", "ООО «Должник»", "Бухгалтер Анна"]
    assert cells[3][0] == "+74957001122"
    assert len(cells) == 4       # the opted-out phone is not there

    main.get_by_text("Только мобильные").click()
    wait_idle(page)
    expect(main.get_by_text("Номеров: 2")).to_be_visible(timeout=LONG)
    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать для SMS (CSV)").click()
    path = tmp_path / "sms.csv"
    dl.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows] == ["phone", "+79161110001", "+79031234567"]
    shot(page, "addressbooks-phones-mobile")


def test_consent_register_page_lists_and_adds(server_factory, page, tmp_path: Path) -> None:
    data, store, admin = _seed(tmp_path)
    srv = server_factory(data)
    page.goto(f"{srv.url}/consent")
    expect(page.get_by_role("heading", name="Согласия и отписки")).to_be_visible(timeout=LONG)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("из них отказов: 2")).to_be_visible(timeout=LONG)
    main.get_by_text("Добавить запись").click()
    form = main.get_by_test_id("stForm")
    form.get_by_label("Адрес e-mail или телефон").fill("New@Firm.ru")
    form.get_by_role("button", name="Добавить").click()
    expect(main.get_by_text("Запись для «new@firm.ru» сохранена")).to_be_visible(timeout=LONG)
    wait_idle(page)
    _tables_drawn(page, main)
    shot(page, "consent-register")
    assert "new@firm.ru" in {e["value"] for e in consent.list_entries(store, admin)}
