"""The bank statement in a real browser (issue 15): the administrator types the
company's settlement account in Settings → Моя компания, uploads a generated
statement through the file chooser, sees the summary, records one payment that
waited for review on the sale it picks, and reads the page in English.

Tables draw into a canvas, so results are checked through metrics, texts and the
database, never through table cells."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

from playwright.sync_api import expect

from clientplus_core import bank, sales
from clientplus_core.bank import generator as g
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company, documents
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

LONG = 30_000  # ms: Streamlit reruns on a shared 2-core machine can be slow


def _seed(tmp_path: Path):
    """A company without a bank account yet, ООО «Ромашка» with two invoiced sales
    (12 000 and 5 000 roubles), and a statement paying the first in full and 3 000
    in advance without an invoice number."""
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    rng = random.Random(15)
    own = g.party(rng, "ООО «Продавец»", "7707083893", "770701001", g.BANKS[0])
    company.save(store, admin, {"kind": "legal", "name": "ООО «Продавец»", "inn": own.inn,
                                "kpp": own.kpp, "legal_address": "г. Москва"})
    payer = g.party(rng, 'ООО "Ромашка"', "7736207543", "773601001")
    client = clients.create(store, admin, {"kind": "legal", "name": "ООО «Ромашка»",
                                           "inn": payer.inn, "kpp": payer.kpp},
                            allow_duplicate=True)
    made = []
    for rub in (12000, 5000):
        s = sales.create(store, admin, {"client_id": client["id"], "date": "2026-11-02",
                                        "lines": [{"name": "Консультация", "qty": 1,
                                                   "price": rub}]})
        sales.set_status(store, admin, s["id"], "invoiced")
        documents.render(store, admin, s["id"], "invoice", doc_date="2026-11-02")
        made.append(s)
    paid, open_sale = made
    with store.read() as conn:
        invoice = conn.execute("SELECT number FROM documents WHERE sale_id = ? AND"
                               " kind = 'invoice'", (paid["id"],)).fetchone()[0]
    day = date(2026, 11, 5)
    statement = g.render([own], [
        g.Payment("101", day, 12000_00, payer, own,
                  f"Оплата по счету № {invoice} от 02.11.2026 за консультации."
                  " Сумма 12000-00 без НДС"),
        g.Payment("102", day, 3000_00, payer, own, "Аванс по договору № 7")])
    return data, store, admin, own, paid, open_sale, statement


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def test_a_statement_is_loaded_summarised_and_a_payment_resolved(server_factory, page,
                                                                 tmp_path):
    data, store, admin, own, paid, open_sale, statement = _seed(tmp_path)
    srv = server_factory(data)

    # Settings → Моя компания: the account payments arrive on
    page.goto(f"{srv.url}/settings")
    wait_idle(page, 40)
    main = page.get_by_test_id("stMain")
    main.get_by_label("БИК", exact=True).fill(own.bik)
    main.get_by_label("Расчётный счёт", exact=True).fill(own.account)
    main.get_by_role("button", name="Сохранить").first.click()
    expect(page.get_by_text("Реквизиты сохранены.")).to_be_visible(timeout=LONG)
    assert company.get(store)["account"] == own.account

    # the page is in the «Работа» section of the menu
    page.get_by_test_id("stSidebar").get_by_role("link", name="Банковская выписка").click()
    expect(page.get_by_role("heading", name="Банковская выписка")).to_be_visible(timeout=LONG)
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader")
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "kl_to_1c.txt", "buffer": statement, "mimeType": "text/plain"}])
    expect(uploader.get_by_text("kl_to_1c.txt")).to_be_visible(timeout=LONG)
    wait_idle(page)
    page.get_by_test_id("stMain").get_by_role("button", name="Загрузить").click()
    expect(page.get_by_text("Выписка загружена.")).to_be_visible(timeout=LONG)
    expect(_metric(page, "Поступило")).to_have_text("15 000,00 ₽")
    expect(_metric(page, "Разнесено автоматически")).to_have_text("12 000,00 ₽")
    expect(_metric(page, "Ждут разбора")).to_have_text("3 000,00 ₽")
    expect(page.get_by_role("button", name="Скачать сводку (Excel)")).to_be_visible()
    wait_idle(page)
    shot(page, "bank-summary-ru")
    assert sales.get_card(store, admin, paid["id"])["status"]["code"] == "paid"

    # the advance waits for review: recorded on the open invoice, its best candidate
    page.get_by_role("tab", name="Разбор").click()
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Аванс по договору № 7")).to_be_visible(timeout=LONG)
    expect(main.get_by_text("клиента ООО «Ромашка», остаток 5 000,00 ₽",
                            exact=False)).to_be_visible()
    shot(page, "bank-review-ru")
    main.get_by_role("button", name="Разнести").click()
    expect(page.get_by_text("Платёж № 102 на 3 000,00 ₽ разнесён", exact=False)).to_be_visible(
        timeout=LONG)
    expect(page.get_by_text("Разбирать нечего: все поступления разнесены.")).to_be_visible()
    card = sales.get_card(store, admin, open_sale["id"])
    assert str(card["balance"]["paid"]) == "3000.00"
    assert [p["state"] for p in bank.list_payments(store, admin)] == ["matched", "matched"]

    # in English
    page.get_by_test_id("stSidebar").get_by_text("EN", exact=True).click()
    wait_idle(page, 40)
    expect(page.get_by_role("heading", name="Bank statement")).to_be_visible(timeout=LONG)
    page.get_by_role("tab", name="Load").click()
    wait_idle(page)
    expect(_metric(page, "Matched automatically")).to_have_text("12,000.00 ₽", timeout=LONG)
    shot(page, "bank-summary-en")
    page.get_by_role("tab", name="Payments").click()
    wait_idle(page)
    expect(page.get_by_text("Payments: 2")).to_be_visible(timeout=LONG)
    expect(page.get_by_role("button", name="Download Excel")).to_be_visible()
    shot(page, "bank-payments-en")
    expect(page.get_by_test_id("stException")).to_have_count(0)
