"""Bank statements against a real database: invoice → statement → sale paid, the
status and every report following; loading twice adding nothing; the review
actions; one transaction per load; a manager's scope."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import openpyxl
import pytest

from clientplus_core import bank, sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from clientplus_core.bank import generator as g
from clientplus_core.base.errors import AccessDenied, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.outreach import addressbooks
from clientplus_core.sales import company, documents
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

D = Decimal
FILE = "kl_to_1c.txt"


@dataclass
class Office:
    store: Store
    admin: Actor
    rng: random.Random
    own: g.Party          # the main account
    second: g.Party       # an extra account of the company
    payer: g.Party        # ООО «Ромашка», a client
    client_id: int

    def sale(self, amount: int, day: str = "2026-11-02", client_id: int | None = None,
             invoice: bool = True, status: str = "invoiced") -> dict[str, Any]:
        """A sale of ``amount`` roubles at ``status``, with an invoice issued on its day."""
        s = sales.create(self.store, self.admin, {
            "client_id": client_id or self.client_id, "date": day,
            "lines": [{"name": "Консультация", "qty": 1, "price": amount}]})
        sales.set_status(self.store, self.admin, s["id"], status)
        if invoice:
            documents.render(self.store, self.admin, s["id"], "invoice", doc_date=day)
        return s

    def invoice_no(self, sale_id: int) -> str:
        with self.store.read() as conn:
            return str(conn.execute("SELECT number FROM documents WHERE sale_id = ? AND"
                                    " kind = 'invoice'", (sale_id,)).fetchone()[0])

    def pay(self, number: str, rub: int | str, purpose: str, payer: g.Party | None = None,
            day: date = date(2026, 11, 5), to: g.Party | None = None) -> g.Payment:
        return g.Payment(number, day, int(D(rub) * 100), payer or self.payer, to or self.own,
                         purpose)

    def statement(self, payments: list[g.Payment], encoding: str = "cp1251") -> bytes:
        return g.render([self.own, self.second], payments, encoding=encoding)

    def load(self, *payments: g.Payment, dry_run: bool = False) -> bank.LoadResult:
        return bank.load(self.store, self.admin, [(FILE, self.statement(list(payments)))],
                         dry_run=dry_run)

    def card(self, sale_id: int) -> dict[str, Any]:
        return sales.get_card(self.store, self.admin, sale_id)


@pytest.fixture
def office(store: Store, actor: Actor) -> Office:
    rng = random.Random(15)
    own = g.party(rng, "ООО «Продавец»", "7707083893", "770701001", g.BANKS[0])
    second = g.party(rng, "ООО «Продавец»", "7707083893", "770701001", g.BANKS[1])
    company.save(store, actor, {
        "name": "ООО «Продавец»", "inn": own.inn, "kpp": own.kpp, "bik": own.bik,
        "account": own.account, "corr_account": own.corr, "bank_name": own.bank,
        "extra_accounts": [{"account": second.account, "bik": second.bik,
                            "bank_name": second.bank}]})
    payer = g.party(rng, 'ООО "Ромашка"', "7736207543", "773601001")
    c = clients.create(store, actor, {"name": "ООО «Ромашка»", "inn": payer.inn,
                                      "kpp": payer.kpp}, allow_duplicate=True)
    return Office(store, actor, rng, own, second, payer, c["id"])


def _status(o: Office, sale_id: int) -> str:
    return str(o.card(sale_id)["status"]["code"])


def _count(o: Office, table: str) -> int:
    with o.store.read() as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# --- invoice → statement → paid ---------------------------------------------------------


def test_a_paid_invoice_moves_the_sale_to_paid_and_every_report_follows(office: Office) -> None:
    o = office
    s = o.sale(12000)
    book = addressbooks.create_book(o.store, o.admin, "Не оплатили", {"invoiced_unpaid": True})
    assert o.client_id in addressbooks.client_ids(o.store, o.admin, book["id"])
    debtors = reports.run(o.store, o.admin, "debtors")
    assert debtors["debt"].to_list() == [D("12000.00")]

    no = o.invoice_no(s["id"])
    result = o.load(o.pay("123", 12000, f"Оплата по счету № {no} от 02.11.2026 за консультации."
                                        " Сумма 12000-00 В т.ч. НДС (22%) 2163-93"))

    assert result.summary["matched_count"] == 1 and result.summary["matched"] == D("12000.00")
    card = o.card(s["id"])
    assert card["status"]["code"] == "paid" and card["balance"]["remaining"] == 0
    assert card["payments"][0]["date"] == "2026-11-05"
    assert card["payments"][0]["document"] == "п/п № 123 от 05.11.2026"
    assert card["status_log"][-1]["note"] == f"по выписке {FILE}"
    assert card["status_log"][-1]["to_label"] == "Оплачено"
    history = sales.contact_history(o.store, o.admin, sale_id=s["id"])
    assert history[0]["subject"] == "Оплата по выписке: 12 000,00 ₽"
    assert FILE in history[0]["outcome"]
    with o.store.read() as conn:
        diff = conn.execute("SELECT diff FROM audit_log WHERE action = 'payment'").fetchone()[0]
    assert FILE in diff
    assert o.client_id not in addressbooks.client_ids(o.store, o.admin, book["id"])
    analytics.refresh(o.store)
    assert reports.run(o.store, o.admin, "debtors").height == 0
    page = sales.list_sales(o.store, o.admin)
    assert page.sums["receivable"] == 0


def test_a_partial_payment_makes_the_sale_partly_paid(office: Office) -> None:
    o = office
    s = o.sale(30000)
    o.load(o.pay("5", 10000, f"Частичная оплата по сч. {o.invoice_no(s['id'])}"))
    card = o.card(s["id"])
    assert card["status"]["code"] == "partly_paid"
    assert card["balance"]["remaining"] == D("20000.00")


def test_one_payment_for_two_invoices_pays_both(office: Office) -> None:
    o = office
    a, b = o.sale(1000), o.sale(2500, day="2026-11-03")
    nos = f"{o.invoice_no(a['id'])}, {o.invoice_no(b['id'])}"
    result = o.load(o.pay("9", 3500, f"Оплата по счетам № {nos} от 03.11.2026"))
    assert result.summary["matched_count"] == 1
    assert {x["sale_id"] for x in result.items[0].allocations} == {a["id"], b["id"]}
    assert _status(o, a["id"]) == _status(o, b["id"]) == "paid"


def test_without_an_invoice_number_the_oldest_sale_with_that_debt_is_paid(office: Office
                                                                           ) -> None:
    o = office
    old, new = o.sale(5000, day="2026-10-01"), o.sale(5000, day="2026-11-01")
    other = o.sale(7000)
    o.load(o.pay("11", 5000, "Оплата за консультационные услуги по договору № 4"))
    assert _status(o, old["id"]) == "paid"
    assert _status(o, new["id"]) == _status(o, other["id"]) == "invoiced"


def test_a_sale_number_in_the_purpose_finds_the_sale_even_without_an_invoice(office: Office
                                                                             ) -> None:
    o = office
    s = o.sale(4000, invoice=False, status="offer_ready")
    o.load(o.pay("12", 4000, f"Оплата по заявке {s['number']}"))
    assert _status(o, s["id"]) == "paid"


def test_branches_with_one_inn_are_told_apart_by_kpp(office: Office) -> None:
    o = office
    branch = clients.create(o.store, o.admin, {"name": "ООО «Ромашка» (филиал)",
                                               "inn": o.payer.inn, "kpp": "773602001"},
                            allow_duplicate=True)
    s = o.sale(800, client_id=branch["id"])
    payer = g.Party(o.payer.name, o.payer.inn, "773602001", o.payer.account, o.payer.bik)
    result = o.load(o.pay("13", 800, "Оплата по сч. без номера", payer=payer))
    assert result.items[0].client_id == branch["id"]
    assert _status(o, s["id"]) == "paid"


def test_a_payer_without_inn_is_known_by_the_account_of_an_earlier_payment(office: Office
                                                                           ) -> None:
    o = office
    first, second = o.sale(100), o.sale(200, day="2026-11-03")
    o.load(o.pay("1", 100, f"Оплата по счету {o.invoice_no(first['id'])}"))
    no_inn = g.Party("Ромашка", "", "", o.payer.account, o.payer.bik)
    result = o.load(o.pay("2", 200, "Оплата за услуги", payer=no_inn))
    assert result.items[0].client_id == o.client_id
    assert _status(o, second["id"]) == "paid"


# --- what is not for us ----------------------------------------------------------------


def test_outgoing_and_foreign_documents_are_ignored_and_the_extra_account_counts(
        office: Office) -> None:
    o = office
    s = o.sale(600)
    stranger = g.party(o.rng, "ООО «Чужие»")
    result = o.load(o.pay("20", 50, "Оплата аренды", payer=o.own, to=stranger),
                    o.pay("21", 70, "Перевод", payer=stranger, to=o.payer),
                    o.pay("22", 600, f"Оплата по счету № {o.invoice_no(s['id'])}",
                          to=o.second))
    assert [(i.direction, i.state) for i in result.items] == [
        ("out", "ignored"), ("other", "ignored"), ("in", "matched")]
    assert result.summary["ignored_count"] == 2 and result.summary["received"] == D("600.00")
    assert _status(o, s["id"]) == "paid"


def test_a_statement_of_an_account_the_company_does_not_have_is_refused_by_line(
        office: Office) -> None:
    o = office
    stranger = g.party(o.rng, "ООО «Продавец»", o.own.inn, o.own.kpp)
    data = g.render([stranger], [o.pay("1", 10, "x", to=stranger)])
    with pytest.raises(bank.StatementError) as err:
        bank.load(o.store, o.admin, [(FILE, data)])
    assert err.value.line == 10
    assert f"счёт {stranger.account} не счёт компании" in str(err.value)


def test_the_extra_accounts_are_checked_against_their_bik(store: Store, actor: Actor) -> None:
    with pytest.raises(ValidationError) as err:
        company.save(store, actor, {"name": "Я", "extra_accounts": [
            {"account": "40702810400000000001", "bik": "044525225"}]})
    assert err.value.errors == {"extra_accounts.1": "Счёт 1: расчётный счёт не сходится с БИК"
                                                    " (контрольный ключ)"}


def test_the_settings_form_saving_without_extra_accounts_keeps_them(office: Office) -> None:
    o = office
    form = {k: v for k, v in company.get(o.store).items() if k != "extra_accounts"}
    company.save(o.store, o.admin, form | {"phone": "+74951234567"})
    assert [a["account"] for a in company.own_accounts(o.store)] == [o.own.account,
                                                                     o.second.account]


# --- idempotence and transactions ---------------------------------------------------------


def test_loading_twice_or_an_overlapping_period_adds_nothing(office: Office) -> None:
    o = office
    a, b = o.sale(100), o.sale(200, day="2026-11-03")
    pa = o.pay("1", 100, f"Оплата по счету {o.invoice_no(a['id'])}")
    pb = o.pay("2", 200, f"Оплата по счету {o.invoice_no(b['id'])}", day=date(2026, 11, 6))
    o.load(pa)
    again = o.load(pa)
    assert again.summary["duplicates_count"] == 1 and again.summary["received_count"] == 0
    overlap = o.load(pa, pb)
    assert [i.state for i in overlap.items] == ["duplicate", "matched"]
    assert _count(o, "sale_payments") == 2 and _count(o, "bank_payments") == 2
    assert o.card(a["id"])["balance"]["paid"] == D("100.00")


def test_a_bad_line_anywhere_loads_nothing_from_any_file(office: Office) -> None:
    o = office
    s = o.sale(100)
    good = o.statement([o.pay("1", 100, f"Оплата по счету {o.invoice_no(s['id'])}")])
    bad = o.statement([o.pay("2", 5, "x")]).replace("Дата=05.11.2026".encode("cp1251"),
                                                    "Дата=35.11.2026".encode("cp1251"))
    with pytest.raises(bank.StatementError, match="плохой.txt, строка"):
        bank.load(o.store, o.admin, [(FILE, good), ("плохой.txt", bad)])
    assert _count(o, "bank_statements") == _count(o, "bank_payments") == 0
    assert _status(o, s["id"]) == "invoiced"


def test_a_dry_run_reports_the_same_and_writes_nothing(office: Office) -> None:
    o = office
    s = o.sale(100)
    pay = o.pay("1", 100, f"Оплата по счету {o.invoice_no(s['id'])}")
    dry = o.load(pay, dry_run=True)
    assert dry.summary["matched_count"] == 1
    assert _count(o, "bank_payments") == _count(o, "sale_payments") == 0
    assert _status(o, s["id"]) == "invoiced"
    assert o.load(pay).summary == dry.summary


def test_the_summary_downloads_as_excel(office: Office) -> None:
    o = office
    s = o.sale(100)
    result = o.load(o.pay("1", 100, f"Оплата по счету {o.invoice_no(s['id'])}"),
                    o.pay("2", 7, "=HYPERLINK(\"http://x\")", payer=g.party(o.rng, "ООО «Икс»")))
    ws = openpyxl.load_workbook(io.BytesIO(bank.summary_xlsx(result))).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][3] == "Итог" and rows[1][3] == "Разнесён автоматически"
    assert rows[1][11] == s["number"] and rows[2][3] == "Ждёт разбора"
    assert rows[2][13].startswith("=HYPERLINK") and ws.cell(3, 14).data_type == "s"


# --- review -------------------------------------------------------------------------------


class _Registry:
    """DaData answered from memory: the payer's company with its address."""

    daily_limit = 100

    def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"suggestions": [{"value": "ООО «Новый плательщик»", "data": {
            "inn": payload["query"], "kpp": "770101001", "ogrn": "1027700132195",
            "type": "LEGAL", "branch_type": "MAIN", "state": {"status": "ACTIVE"},
            "name": {"short_with_opf": "ООО «Новый плательщик»",
                     "full_with_opf": "Общество с ограниченной ответственностью «Новый"
                                      " плательщик»"},
            "address": {"value": "г Москва, ул Тверская, д 1",
                        "data": {"postal_code": "125009"}}}}]}


def test_an_unknown_payer_becomes_a_client_and_the_payment_lands_on_its_sale(
        office: Office) -> None:
    o = office
    newcomer = g.party(o.rng, "ООО «Новый плательщик»")
    result = o.load(o.pay("31", 900, "Оплата по счету № 77", payer=newcomer))
    item = result.items[0]
    assert item.state == "review" and "не найден среди клиентов" in item.reason
    client = bank.create_client(o.store, o.admin, item.payment_id, lookup_client=_Registry())
    assert (client["inn"], client["account"], client["bik"]) == (
        newcomer.inn, newcomer.account, newcomer.bik)
    assert client["ogrn"] == "1027700132195" and "Тверская" in client["legal_address"]
    s = o.sale(900, client_id=client["id"])
    waiting = bank.review_items(o.store, o.admin)
    assert waiting[0]["candidates"][0]["sale_id"] == s["id"]
    assert "остаток 900,00 ₽" in waiting[0]["candidates"][0]["reason"]
    done = bank.confirm(o.store, o.admin, item.payment_id)
    assert done["state"] == "matched" and done["client_id"] == client["id"]
    assert _status(o, s["id"]) == "paid"
    with pytest.raises(ValidationError, match="уже разобран"):
        bank.dismiss(o.store, o.admin, item.payment_id)


def test_one_payment_is_split_over_two_invoices_by_hand(office: Office) -> None:
    o = office
    a, b = o.sale(1000), o.sale(3000, day="2026-11-03")
    result = o.load(o.pay("40", 2500, "Оплата по сч. 1 и 2 частично"))
    item = result.items[0]
    assert item.state == "review"
    assert {c["sale_id"] for c in item.candidates} >= {a["id"], b["id"]}
    with pytest.raises(ValidationError, match="не равна сумме платежа"):
        bank.split(o.store, o.admin, item.payment_id, [(a["id"], 1000), (b["id"], 1000)])
    with pytest.raises(ValidationError, match="больше остатка"):
        bank.split(o.store, o.admin, item.payment_id, [(a["id"], 2000), (b["id"], 500)])
    bank.split(o.store, o.admin, item.payment_id, [(a["id"], "1 000,00"), (b["id"], 1500)])
    assert _status(o, a["id"]) == "paid" and _status(o, b["id"]) == "partly_paid"


def test_another_sale_can_be_picked_and_a_payment_can_be_dismissed(office: Office) -> None:
    o = office
    a, b = o.sale(500), o.sale(700, day="2026-11-03")
    result = o.load(o.pay("50", 300, "Аванс"), o.pay("51", 99, "Возврат займа"))
    first, second = result.items
    assert first.state == second.state == "review"
    with pytest.raises(ValidationError, match="больше остатка"):
        bank.confirm(o.store, o.admin, second.payment_id,
                     sales.create(o.store, o.admin, {"client_id": o.client_id, "lines": [
                         {"name": "x", "qty": 1, "price": 10}]})["id"])
    bank.confirm(o.store, o.admin, first.payment_id, b["id"])
    assert o.card(b["id"])["balance"]["paid"] == D("300.00") and _status(o, a["id"]) == "invoiced"
    bank.dismiss(o.store, o.admin, second.payment_id, "возврат займа, не оплата")
    states = {p["id"]: p["state"] for p in bank.list_payments(o.store, o.admin)}
    assert states == {first.payment_id: "matched", second.payment_id: "dismissed"}
    assert bank.review_items(o.store, o.admin) == []


# --- who may do what ---------------------------------------------------------------------


def test_managers_see_payments_of_their_clients_only_and_cannot_load(office: Office) -> None:
    o = office
    m1 = users.create(o.store, "m1", "Менеджер 1", "manager")
    m2 = users.create(o.store, "m2", "Менеджер 2", "manager")
    mine = clients.create(o.store, m1, {"name": "ООО «Моя»", "inn": "7702070139"},
                          allow_duplicate=True)
    s = o.sale(100, client_id=mine["id"])
    payer = g.party(o.rng, "ООО «Моя»", "7702070139")
    o.load(o.pay("60", 100, f"Оплата по счету {o.invoice_no(s['id'])}", payer=payer),
           o.pay("61", 5, "Оплата", payer=g.party(o.rng, "ООО «Ничья»")))
    assert [p["doc_number"] for p in bank.list_payments(o.store, m1)] == ["60"]
    assert bank.list_payments(o.store, m2) == []
    assert len(bank.list_payments(o.store, o.admin)) == 2
    with pytest.raises(AccessDenied):
        bank.load(o.store, m1, [(FILE, o.statement([]))])
    with pytest.raises(AccessDenied):
        bank.review_items(o.store, m1)


def test_without_an_account_in_the_settings_the_load_says_what_to_do(store: Store,
                                                                      actor: Actor) -> None:
    with pytest.raises(ValidationError, match="нет расчётного счёта"):
        bank.load(store, actor, [(FILE, "1CClientBankExchange\r\nКонецФайла\r\n".encode())])
