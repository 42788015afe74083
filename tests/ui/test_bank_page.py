"""The bank statement page, driven with AppTest: a generated statement is loaded
(after a dry run that writes nothing), its summary shown; review items are
recorded, split and dismissed; a manager sees no uploader and only their clients'
payments; a bad file names its line and loads nothing; and the extra settlement
accounts of Settings → Моя компания are saved, a wrong one refused naming its row."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from clientplus_core import bank, sales
from clientplus_core.bank import generator as g
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company, documents
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.settings.company import extra_accounts_key

from .helpers import shown

PAGE = "pages/bank.py"
FILE = "kl_to_1c.txt"


@dataclass
class Office:
    """A company with its account, ООО «Ромашка» with two invoiced sales, a statement."""

    store: Store
    admin: Actor
    rng: random.Random
    own: g.Party
    payer: g.Party
    client_id: int
    paid: dict[str, Any]      # the invoice the statement pays in full
    open: dict[str, Any]      # another invoice, of 5 000,00 ₽

    def sale(self, rub: int, client_id: int | None = None) -> dict[str, Any]:
        s = sales.create(self.store, self.admin, {
            "client_id": client_id or self.client_id, "date": "2026-11-02",
            "lines": [{"name": "Консультация", "qty": 1, "price": rub}]})
        sales.set_status(self.store, self.admin, s["id"], "invoiced")
        documents.render(self.store, self.admin, s["id"], "invoice", doc_date="2026-11-02")
        return s

    def invoice_no(self, sale_id: int) -> str:
        with self.store.read() as conn:
            return str(conn.execute("SELECT number FROM documents WHERE sale_id = ? AND"
                                    " kind = 'invoice'", (sale_id,)).fetchone()[0])

    def pay(self, number: str, rub: int, purpose: str,
            payer: g.Party | None = None) -> g.Payment:
        return g.Payment(number, date(2026, 11, 5), rub * 100, payer or self.payer, self.own,
                         purpose)

    def statement(self) -> bytes:
        """Paid in full, a 3 000 advance without an invoice number, an unknown payer's
        99 roubles and one outgoing payment."""
        stranger = g.party(self.rng, "ООО «Незнакомец»")
        supplier = g.party(self.rng, "ООО «Поставщик»")
        return g.render([self.own], [
            self.pay("101", 12000, f"Оплата по счету № {self.invoice_no(self.paid['id'])} от"
                                   " 02.11.2026 за консультации. Сумма 12000-00 без НДС"),
            self.pay("102", 3000, "Аванс по договору № 7"),
            self.pay("103", 99, "Возврат займа", payer=stranger),
            g.Payment("104", date(2026, 11, 5), 500_00, self.own, supplier,
                      "Оплата за бумагу")])

    def payments(self) -> dict[str, dict[str, Any]]:
        return {p["doc_number"]: p for p in bank.list_payments(self.store, self.admin)}


@pytest.fixture
def office(store: Store, actor: Actor) -> Office:
    rng = random.Random(15)
    own = g.party(rng, "ООО «Продавец»", "7707083893", "770701001", g.BANKS[0])
    company.save(store, actor, {
        "name": "ООО «Продавец»", "inn": own.inn, "kpp": own.kpp, "bik": own.bik,
        "account": own.account, "corr_account": own.corr, "bank_name": own.bank})
    payer = g.party(rng, 'ООО "Ромашка"', "7736207543", "773601001")
    c = clients.create(store, actor, {"name": "ООО «Ромашка»", "inn": payer.inn,
                                      "kpp": payer.kpp}, allow_duplicate=True)
    o = Office(store, actor, rng, own, payer, c["id"], {}, {})
    o.paid, o.open = o.sale(12000), o.sale(5000)
    return o


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def table(at: AppTest, column: str) -> Any:
    """The first table on the page with this column (a pandas DataFrame)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def upload(at: AppTest, data: bytes, *, dry: bool = False) -> AppTest:
    at.file_uploader(key="bank.upload").set_value([(FILE, data, "text/plain")])
    at.checkbox(key="bank.dry").set_value(dry)
    at.run()
    at.button(key="bank.load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def status(o: Office, sale_id: int) -> str:
    return str(sales.get_card(o.store, o.admin, sale_id)["status"]["code"])


# --- loading --------------------------------------------------------------------------


def test_a_dry_run_writes_nothing_and_the_load_shows_the_summary(open_app, office) -> None:
    o = office
    data = o.statement()
    at = upload(open_app(PAGE), data, dry=True)
    assert metrics(at)["Разнесено автоматически"] == "12 000,00 ₽"
    assert "ничего не сохранено" in shown(at)
    assert o.payments() == {} and status(o, o.paid["id"]) == "invoiced"

    at = upload(at, data)
    m = metrics(at)
    assert m["Поступило"] == "15 099,00 ₽"
    assert m["Разнесено автоматически"] == "12 000,00 ₽"
    assert m["Ждут разбора"] == "3 099,00 ₽"
    assert (m["Не учитываются"], m["Уже загружены"]) == ("1", "0")
    items = table(at, "Строка")
    outcome = dict(zip(items["№ п/п"], items["Итог"], strict=True))
    assert outcome == {"101": "Разнесён автоматически", "102": "Ждёт разбора",
                       "103": "Ждёт разбора", "104": "Не учитывается"}
    assert list(items["Сумма"]) == ["12 000,00 ₽", "3 000,00 ₽", "99,00 ₽", "500,00 ₽"]
    assert status(o, o.paid["id"]) == "paid"
    assert [b.label for b in at.download_button] == ["Скачать сводку (Excel)"]

    at = upload(at, data)   # the same file again adds nothing
    assert metrics(at)["Уже загружены"] == "4" and metrics(at)["Поступило"] == "0,00 ₽"
    assert len(o.payments()) == 4


def test_a_bad_file_names_its_line_and_loads_nothing(open_app, office) -> None:
    o = office
    lines = o.statement().decode("cp1251").split("\r\n")
    at_line = next(n for n, t in enumerate(lines, start=1) if t == "Номер=102")
    broken = "\r\n".join(t if n != at_line + 1 else "Дата=32.11.2026"
                         for n, t in enumerate(lines, start=1)).encode("cp1251")
    at = upload(open_app(PAGE), broken)
    [error] = at.error
    message = error.value.replace("\\", "")   # markdown escapes
    assert message.startswith(f"Файл {FILE}, строка {at_line + 1}: Дата")
    assert "Ничего не загружено" in shown(at) and not at.metric
    assert o.payments() == {} and status(o, o.paid["id"]) == "invoiced"
    with o.store.read() as conn:
        assert conn.execute("SELECT count(*) FROM bank_statements").fetchone()[0] == 0


def test_without_an_account_in_the_settings_the_page_says_where_to_add_it(
        open_app, store, actor) -> None:
    rng = random.Random(1)
    own = g.party(rng, "ООО «Продавец»")
    at = upload(open_app(PAGE), g.render([own], []))
    assert "Настройки → Моя компания" in at.error[0].value
    assert [link.label for link in at.get("page_link")] == ["Настройки → Моя компания"]


# --- review ---------------------------------------------------------------------------


def review_page(open_app, o: Office) -> tuple[AppTest, dict[str, dict[str, Any]]]:
    bank.load(o.store, o.admin, [(FILE, o.statement())])
    return open_app(PAGE, state={"bank.tab": "Разбор"}), o.payments()


def test_a_review_item_is_recorded_on_the_picked_sale_and_another_dismissed(
        open_app, office) -> None:
    o = office
    at, pays = review_page(open_app, o)
    advance, loan = pays["102"]["id"], pays["103"]["id"]
    text = shown(at)
    assert "Аванс по договору № 7" in text and "ООО «Незнакомец»" in text
    pick = at.radio(key=f"bank.rv.{advance}.pick.ru")
    assert pick.value == o.open["id"]   # the best candidate: the open invoice
    assert "клиента ООО «Ромашка», остаток 5 000,00 ₽" in pick.format_func(pick.value)
    at.button(key=f"bank.rv.{advance}.confirm").click().run()
    assert not at.exception
    assert "Платёж № 102 на 3 000,00 ₽ разнесён" in shown(at)
    card = sales.get_card(o.store, o.admin, o.open["id"])
    assert card["balance"]["paid"] == Decimal("3000.00") and status(o, o.open["id"]) != "paid"

    at.text_input(key=f"bank.rv.{loan}.reason").input("возврат займа, не оплата")
    at.button(key=f"bank.rv.{loan}.dismiss").click().run()
    assert not at.exception
    assert "Платёж № 103 отклонён" in shown(at)
    assert o.payments()["103"]["state"] == "dismissed"
    assert o.payments()["103"]["reason"] == "возврат займа, не оплата"
    assert "Разбирать нечего" in shown(at)


def test_a_split_over_the_debt_names_the_sale_and_records_nothing(open_app, office) -> None:
    o = office
    at, pays = review_page(open_app, o)
    advance = pays["102"]["id"]
    at.text_input(key=f"bank.rv.{advance}.part.{o.open['id']}").input("9 000")
    next(b for b in at.button if b.label == "Разделить платёж"
         and b.key and str(advance) in b.key).click().run()
    [error] = at.error
    assert f"{o.open['number']}: Сумма 1" in error.value and "больше остатка" in error.value
    assert o.payments()["102"]["state"] == "review"

    at.text_input(key=f"bank.rv.{advance}.part.{o.open['id']}").input("3 000,00")
    next(b for b in at.button if b.label == "Разделить платёж"
         and b.key and str(advance) in b.key).click().run()
    assert o.payments()["102"]["state"] == "matched"


def test_the_payer_becomes_a_client_from_the_statement(open_app, office, monkeypatch) -> None:
    o = office
    monkeypatch.delenv("CLIENTPLUS_DADATA_TOKEN", raising=False)
    at, pays = review_page(open_app, o)
    loan = pays["103"]["id"]
    at.button(key=f"bank.rv.{loan}.client").click().run()
    assert not at.exception
    text = shown(at)
    assert "Клиент «ООО «Незнакомец»» создан по реквизитам плательщика" in text
    assert "Реквизиты по ИНН не дополнены" in text   # no registry access here: said so
    assert o.payments()["103"]["client_name"] == "ООО «Незнакомец»"
    assert not [b for b in at.button if b.key == f"bank.rv.{loan}.client"]


# --- who sees what ----------------------------------------------------------------------


def test_a_manager_sees_no_uploader_and_only_the_payments_of_their_clients(
        open_app, office, team) -> None:
    o = office
    m1 = team["m1"]
    mine = clients.create(o.store, m1, {"name": "ООО «Моя»", "inn": "7702070139"},
                          allow_duplicate=True)
    s = o.sale(100, client_id=mine["id"])
    payer = g.party(o.rng, "ООО «Моя»", "7702070139")
    bank.load(o.store, o.admin, [(FILE, g.render([o.own], [
        o.pay("60", 100, f"Оплата по счету {o.invoice_no(s['id'])}", payer=payer),
        o.pay("61", 12000, f"Оплата по счету № {o.invoice_no(o.paid['id'])}")]))])
    at = open_app(PAGE, actor=m1)
    assert not at.file_uploader and not at.tabs
    paid = table(at, "Поступило")
    assert list(paid["Клиент"]) == ["ООО «Моя»"] and list(paid["№ п/п"]) == ["60"]
    assert list(paid["Итог"]) == ["Разнесён"]

    admin = open_app(PAGE, state={"bank.tab": "Платежи"})
    assert sorted(table(admin, "Поступило")["№ п/п"]) == ["60", "61"]


def test_the_page_speaks_english(open_app, office) -> None:
    o = office
    at = open_app(PAGE, state={"ui.lang": "en"})
    at = upload(at, o.statement())
    assert metrics(at)["Matched automatically"] == "12,000.00 ₽"
    assert "Waiting for review" in list(table(at, "Outcome")["Outcome"])


# --- Settings → Моя компания: the extra accounts -----------------------------------------


def test_extra_accounts_are_saved_and_a_wrong_key_is_refused_naming_the_row(
        open_app, office) -> None:
    o = office
    bik = g.BANKS[1][0]
    good = g.account(o.rng, bik)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    at = open_app("pages/settings.py")
    at.session_state[extra_accounts_key()] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"account": good, "bik": bik, "bank_name": "Банк ВТБ (ПАО)"},
                       {"account": bad, "bik": bik}]}
    at.button(key="settings.company.save").click().run()
    assert not at.exception
    [error] = at.error
    assert "Дополнительные счета, строка 2" in error.value
    assert company.get(o.store)["extra_accounts"] == []

    at.session_state[extra_accounts_key()] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"account": good, "bik": bik, "bank_name": "Банк ВТБ (ПАО)"}]}
    at.button(key="settings.company.save").click().run()
    assert not at.error and "Реквизиты сохранены." in shown(at)
    assert [a["account"] for a in company.get(o.store)["extra_accounts"]] == [good]
    assert good in {a["account"] for a in company.own_accounts(o.store)}
    at.run()
    assert list(at.data_editor[0].value["account"]) == [good]
