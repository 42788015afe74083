"""Sales against a real SQLite file: the card, numbering, lines and totals, statuses,
payments, contact history, scope, conflicts, search, the register and the export."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal as D
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.base.errors import ConflictError, NotFound, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.maintenance import reindex
from clientplus_core.records import settings
from clientplus_core.sales import SaleFilter, company, statuses
from clientplus_core.search import index as search
from clientplus_core.store.db import Store
from clientplus_core.team import audit
from clientplus_core.team import users as users_mod
from clientplus_core.team.access import Actor

CASE1 = [{"name": "Консультация", "qty": 3, "price": "1500.00", "vat_code": "22"},
         {"name": "Бумага А4", "qty": 7, "price": "349,90", "discount": 5, "vat_code": "22"}]


@pytest.fixture
def client(make_client: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_client(name="ООО «Покупатель»", inn="7736207543", kpp="773601001")


@pytest.fixture
def make_sale(store: Store, actor: Actor, client: dict[str, Any]) -> Callable[..., dict[str, Any]]:
    def make(**overrides: Any) -> dict[str, Any]:
        who = overrides.pop("actor", actor)
        data: dict[str, Any] = {"client_id": client["id"], "title": "Поставка", "lines": CASE1,
                                "date": "2026-03-01"}
        data.update(overrides)
        return sales.create(store, who, data)
    return make


def _count(store: Store, table: str) -> int:
    with store.read() as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


# --- the card ------------------------------------------------------------------------------

def test_a_sale_is_created_with_its_lines_and_totals_kept_in_kopecks(store, actor, make_sale):
    sale = make_sale()
    card = sales.get_card(store, actor, sale["id"])
    assert [ln["amount"] for ln in card["lines"]] == [D("4500.00"), D("2326.84")]
    assert card["totals"]["total"] == D("6826.84")
    assert card["totals"]["vat_by_rate"] == [{"code": "22", "label": "22 %", "rate": 22,
                                              "amount": D("1231.07")}]
    assert card["totals"]["words"] == "Шесть тысяч восемьсот двадцать шесть рублей 84 копейки"
    assert card["status"]["code"] == "lead"
    with store.read() as conn:
        row = conn.execute("SELECT subtotal_kop, vat_kop, total_kop FROM sales WHERE id = ?",
                           (sale["id"],)).fetchone()
        assert tuple(row) == (682684, 123107, 682684)
        assert [tuple(r) for r in conn.execute(
            "SELECT qty_milli, price_kop, discount_bp, amount_kop, vat_kop FROM sale_lines"
            " WHERE sale_id = ? ORDER BY pos", (sale["id"],))] == [
            (3000, 150000, 0, 450000, 81148), (7000, 34990, 500, 232684, 41959)]


def test_a_sale_with_a_sale_discount_and_no_vat_matches_reference_case_3(store, actor, make_sale):
    sale = make_sale(discount=10, lines=[
        {"name": "Разработка сайта", "qty": 1, "price": 85000, "vat_code": "none"},
        {"name": "Хостинг", "qty": 12, "price": 450, "vat_code": "none"},
        {"name": "Домен", "qty": 1, "price": 199, "vat_code": "без НДС"}])
    card = sales.get_card(store, actor, sale["id"])
    assert [ln["amount"] for ln in card["lines"]] == [D("76500.00"), D("4860.00"), D("179.10")]
    assert card["totals"]["no_vat"] and card["totals"]["total"] == D("81539.10")


def test_vat_on_top_with_mixed_rates_and_a_fractional_quantity(store, actor, make_sale):
    sale = make_sale(vat_mode="on_top", lines=[
        {"name": "Молоко", "qty": "2,5", "price": "89.99", "vat_code": "10", "unit": "л"},
        {"name": "Доставка", "qty": 1, "price": 1000, "vat_code": "22", "unit": "усл"}])
    card = sales.get_card(store, actor, sale["id"])
    assert card["lines"][0]["qty"] == D("2.5")
    assert [(v["label"], v["amount"]) for v in card["totals"]["vat_by_rate"]] == [
        ("22 %", D("220.00")), ("10 %", D("22.50"))]
    assert card["totals"]["total"] == D("1467.48")


def test_the_default_vat_rate_follows_the_date_of_the_sale(store, actor, make_sale):
    old = make_sale(date="2025-12-30", lines=[{"name": "Услуга", "qty": 1, "price": 1000}])
    new = make_sale(date="2026-01-01", lines=[{"name": "Услуга", "qty": 1, "price": 1000}])
    assert old["lines"][0]["vat_code"] == "20" and old["lines"][0]["vat"] == D("166.67")
    assert new["lines"][0]["vat_code"] == "22"
    with pytest.raises(ValidationError) as exc:
        make_sale(date="2026-02-01", lines=[{"name": "Услуга", "qty": 1, "price": 10,
                                              "vat_code": "20"}])
    assert exc.value.errors == {"lines[1].vat_code": "Строка 1: НДС: ставка 20 % действует до"
                                                     " 31.12.2025 включительно"}


def test_usn_rates_need_a_seller_on_the_simplified_system(store, actor, make_sale):
    with pytest.raises(ValidationError, match="только для УСН"):
        make_sale(lines=[{"name": "Услуга", "qty": 1, "price": 10, "vat_code": "5"}])
    company.save(store, actor, {"name": "ИП Продавец", "kind": "ip", "tax_system": "usn"})
    sale = make_sale(lines=[{"name": "Услуга", "qty": 1, "price": 105, "vat_code": "5"},
                            {"name": "Товар", "qty": 1, "price": 10}])
    assert [ln["vat_code"] for ln in sale["lines"]] == ["5", "none"]   # УСН default: без НДС
    assert sale["lines"][0]["vat"] == D("5.00")


@pytest.mark.parametrize("line, key, text", [
    ({"qty": -1}, "lines[2].qty", "больше нуля"),
    ({"qty": 0}, "lines[2].qty", "больше нуля"),
    ({"qty": "1e9"}, "lines[2].qty", "слишком большое"),
    ({"qty": "1.0005"}, "lines[2].qty", "3 знаков"),
    ({"qty": "много"}, "lines[2].qty", "не число"),
    ({"price": -5}, "lines[2].price", "отрицательной"),
    ({"price": "5000000000"}, "lines[2].price", "слишком большая"),
    ({"price": "1.001"}, "lines[2].price", "2 знаков"),
    ({"discount": 101}, "lines[2].discount", "больше 100"),
    ({"discount": -1}, "lines[2].discount", "отрицательной"),
    ({"name": ""}, "lines[2].name", "обязательное"),
    ({"vat_code": "18"}, "lines[2].vat_code", "не найдена"),
])
def test_a_bad_line_is_refused_naming_the_line_and_nothing_is_saved(
        store, actor, make_sale, line, key, text):
    bad = {"name": "Плохая", "qty": 1, "price": 10} | line
    before = (_count(store, "sales"), _count(store, "sale_lines"), _count(store, "audit_log"))
    with pytest.raises(ValidationError) as exc:
        make_sale(lines=[CASE1[0], bad])
    assert key in exc.value.errors and text in exc.value.errors[key]
    assert exc.value.errors[key].startswith("Строка 2:")
    assert (_count(store, "sales"), _count(store, "sale_lines"), _count(store, "audit_log")) \
        == before


def test_a_sale_discount_over_100_percent_is_refused(make_sale):
    with pytest.raises(ValidationError, match="больше 100"):
        make_sale(discount=150)


def test_a_line_from_the_catalogue_takes_its_name_unit_price_and_vat(store, actor, make_sale):
    from clientplus_core.sales import catalogue

    item = catalogue.create(store, actor, {"name": "Кофе в зёрнах", "sku": "K-1", "unit": "кг",
                                           "price": "1890", "vat_code": "10"})
    sale = make_sale(lines=[{"catalogue_id": item["id"], "qty": "1.5"}])
    ln = sale["lines"][0]
    assert (ln["name"], ln["sku"], ln["unit"], ln["price"], ln["vat_code"], ln["amount"]) == (
        "Кофе в зёрнах", "K-1", "кг", D("1890.00"), "10", D("2835.00"))


def test_a_standard_rate_catalogue_item_gets_the_rate_of_the_sale_date(store, actor, make_sale):
    from clientplus_core.sales import catalogue

    item = catalogue.create(store, actor, {"name": "Стол", "price": 100, "vat_code": "22"})
    sale = make_sale(date="2025-06-01", lines=[{"catalogue_id": item["id"], "qty": 1}])
    assert sale["lines"][0]["vat_code"] == "20"


def test_numbers_are_unique_and_counted_per_year(store, actor, make_sale):
    plain = [{"name": "Товар", "qty": 1, "price": 10}]
    make_sale = functools.partial(make_sale, lines=plain)
    a = make_sale(date="2025-05-01")
    b = make_sale(date="2025-07-01")
    c = make_sale(date="2026-01-10")
    assert [a["number"], b["number"], c["number"]] == ["2025-0001", "2025-0002", "2026-0001"]
    settings.put(store, actor, "sale_number_prefix", "ПР-")
    assert make_sale(date="2026-02-01")["number"] == "ПР-2026-0002"
    assert make_sale(date="2026-02-01", prefix="ОПТ-")["number"] == "ОПТ-2026-0003"
    with pytest.raises(ValidationError, match="уже занят"):
        make_sale(number="2025-0001")
    manual = make_sale(number="2026-0004")
    assert manual["number"] == "2026-0004"
    # the sequence goes on; the full number (prefix included) is what must be unique
    assert make_sale(date="2026-03-01")["number"] == "ПР-2026-0004"


def test_the_client_must_be_visible_and_the_contact_its_employee(store, actor, make_sale,
                                                                 make_client):
    other = make_client(name="Другой")
    stranger = contacts.create(store, actor, other["id"], {"name": "Чужой Сотрудник"})
    with pytest.raises(ValidationError, match="не сотрудник"):
        make_sale(contact_id=stranger["id"])
    with pytest.raises(NotFound):
        make_sale(client_id=999_999)


def test_editing_bumps_the_version_and_a_stale_save_names_who_changed_what(store, actor,
                                                                           make_sale):
    sale = make_sale()
    head = users_mod.create(store, "head", "Орлова Елена", "head")
    first = sales.update(store, head, sale["id"], {"title": "Поставка бумаги"}, sale["version"],
                         base=sale)
    assert first["version"] == sale["version"] + 1
    with pytest.raises(ConflictError) as exc:
        sales.update(store, actor, sale["id"], {"notes": "моё"}, sale["version"], base=sale)
    assert exc.value.changed_by == "head"
    assert exc.value.changes["title"] == ("Поставка", "Поставка бумаги")
    assert sales.get(store, actor, sale["id"])["notes"] == ""


def test_replacing_the_lines_retotals_the_sale_and_logs_the_change(store, actor, make_sale):
    sale = make_sale()
    updated = sales.update(store, actor, sale["id"], {"lines": CASE1[:1], "discount": 10},
                           sale["version"])
    card = sales.get_card(store, actor, updated["id"])
    assert card["totals"]["total"] == D("4050.00")
    entry = audit.query(store, actor, entity="sale", action="update")[0]
    assert "lines" in entry["diff"] and entry["diff"]["total"] == ["6826.84", "4050.00"]


def test_changing_the_vat_mode_alone_retotals_the_stored_lines(store, actor, make_sale):
    sale = make_sale()
    sales.update(store, actor, sale["id"], {"vat_mode": "on_top"}, sale["version"])
    assert sales.get_card(store, actor, sale["id"])["totals"]["total"] == D("8328.74")


# --- statuses ------------------------------------------------------------------------------

def test_every_status_change_is_logged_with_who_and_when(store, actor, make_sale):
    sale = make_sale()
    sales.set_status(store, actor, sale["id"], "offer_sent")
    sales.set_status(store, actor, sale["id"], "Согласование")
    card = sales.get_card(store, actor, sale["id"])
    assert [(e["from_label"], e["to_label"]) for e in card["status_log"]] == [
        (None, "Предварительная заявка"), ("Предварительная заявка", "КП отправлено"),
        ("КП отправлено", "Согласование")]
    assert all(e["actor_login"] == "admin" and e["at"] for e in card["status_log"])
    assert card["status"]["code"] == "negotiation"
    assert sales.next_status(store, actor, sale["id"])["code"] == "contract"


def test_a_lost_sale_needs_a_reason(store, actor, make_sale):
    sale = make_sale()
    with pytest.raises(ValidationError, match="почему"):
        sales.set_status(store, actor, sale["id"], "lost")
    sales.set_status(store, actor, sale["id"], "lost", reason="Выбрали конкурента")
    card = sales.get_card(store, actor, sale["id"])
    assert card["lost_reason"] == "Выбрали конкурента" and card["status"]["is_lost"]
    assert card["status_log"][-1]["note"] == "Выбрали конкурента"


def test_status_labels_order_and_flags_are_editable_and_codes_stay(store, actor, make_sale):
    st = statuses.get(store, 8)
    statuses.update(store, actor, 8, {"label": "Деньги получены"}, st["version"])
    statuses.reorder(store, actor, [2, 1])
    listed = statuses.list_statuses(store)
    assert [s["id"] for s in listed[:2]] == [2, 1]
    assert next(s for s in listed if s["id"] == 8)["code"] == "paid"
    new = statuses.create(store, actor, {"label": "Ждём тендер", "sort": 45})
    assert new["code"] == f"custom{new['id']}" and new["is_active"]
    with pytest.raises(ConflictError):
        statuses.update(store, actor, 8, {"label": "x"}, st["version"])


# --- payments ------------------------------------------------------------------------------

def test_paid_remaining_and_overdue_amounts_on_the_card(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 10000}])
    past = (date.today() - timedelta(days=10)).isoformat()
    future = (date.today() + timedelta(days=20)).isoformat()
    sales.add_planned_payment(store, actor, sale["id"], 4000, past, "аванс")
    sales.add_planned_payment(store, actor, sale["id"], "6 000", future)
    result = sales.add_payment(store, actor, sale["id"], "1500,00", document="п/п № 17")
    assert result["balance"]["paid"] == D("1500.00")
    card = sales.get_card(store, actor, sale["id"])
    b = card["balance"]
    assert (b["paid"], b["remaining"], b["planned"], b["overdue"]) == (
        D("1500.00"), D("8500.00"), D("10000.00"), D("2500.00"))
    assert b["is_overdue"] and card["overdue_from"] == past
    assert [p["amount"] for p in card["schedule"]] == [D("4000.00"), D("6000.00")]
    assert card["payments"][0]["document"] == "п/п № 17"
    ids = {r["id"] for r in sales.list_sales(store, actor, SaleFilter(payment="overdue")).rows}
    assert sale["id"] in ids
    sales.add_payment(store, actor, sale["id"], 2500)
    card = sales.get_card(store, actor, sale["id"])
    assert not card["balance"]["is_overdue"] and card["overdue_from"] == future
    assert sale["id"] not in {r["id"] for r in sales.list_sales(
        store, actor, SaleFilter(payment="overdue")).rows}


def test_a_payment_larger_than_the_debt_is_refused_and_not_saved(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    sales.add_payment(store, actor, sale["id"], 600)
    with pytest.raises(ValidationError) as exc:
        sales.add_payment(store, actor, sale["id"], "400.01")
    assert exc.value.errors["amount"] == "Сумма: платёж 400,01 больше долга 400,00"
    for bad, key in ((0, "amount"), (-5, "amount"), ("abc", "amount")):
        with pytest.raises(ValidationError) as exc:
            sales.add_payment(store, actor, sale["id"], bad)
        assert key in exc.value.errors
    assert sales.get_card(store, actor, sale["id"])["balance"]["paid"] == D("600.00")
    assert _count(store, "sale_payments") == 1


def test_a_schedule_larger_than_the_sale_is_refused(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    sales.add_planned_payment(store, actor, sale["id"], 700, "2026-04-01")
    with pytest.raises(ValidationError, match="ещё 300,00"):
        sales.add_planned_payment(store, actor, sale["id"], 301, "2026-05-01")


def test_lowering_the_total_below_what_was_paid_is_refused(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    sales.add_payment(store, actor, sale["id"], 900)
    with pytest.raises(ValidationError, match="меньше уже оплаченной"):
        sales.update(store, actor, sale["id"], {"lines": [{"name": "Работы", "qty": 1,
                                                           "price": 500}]}, sale["version"])


def test_payments_suggest_partly_paid_then_paid_and_apply_it_when_asked(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    sales.set_status(store, actor, sale["id"], "invoiced")
    first = sales.add_payment(store, actor, sale["id"], 300)
    assert first["suggested_status"]["code"] == "partly_paid" and not first["status_changed"]
    assert sales.get_card(store, actor, sale["id"])["status"]["code"] == "invoiced"
    last = sales.add_payment(store, actor, sale["id"], 700, apply_suggestion=True)
    assert last["suggested_status"]["code"] == "paid" and last["status_changed"]
    card = sales.get_card(store, actor, sale["id"])
    assert card["status"]["code"] == "paid" and card["suggested_status"] is None
    assert card["status_log"][-1]["note"] == "по оплате"
    assert sale["id"] in {r["id"] for r in sales.list_sales(
        store, actor, SaleFilter(payment="paid")).rows}


def test_the_auto_status_setting_applies_the_suggestion(store, actor, make_sale):
    settings.put(store, actor, "sale_auto_status", True)
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    assert sales.add_payment(store, actor, sale["id"], 1000)["status_changed"]
    assert sales.get_card(store, actor, sale["id"])["status"]["code"] == "paid"


def test_a_deleted_payment_no_longer_counts(store, actor, make_sale):
    sale = make_sale(lines=[{"name": "Работы", "qty": 1, "price": 1000}])
    pid = sales.add_payment(store, actor, sale["id"], 400)["payment"]["id"]
    sales.delete_payment(store, actor, pid)
    assert sales.get_card(store, actor, sale["id"])["balance"]["paid"] == D("0.00")


# --- contact history ---------------------------------------------------------------------

def test_contact_history_is_on_the_sale_and_on_the_client_card(store, actor, make_sale, client):
    person = contacts.create(store, actor, client["id"], {"name": "Сидоров Пётр"})
    sale = make_sale(contact_id=person["id"])
    sales.add_contact_event(store, actor, {"sale_id": sale["id"], "contact_id": person["id"],
                                           "channel": "call", "subject": "Обсуждение КП",
                                           "outcome": "Перезвонить", "at": "2026-03-02 10:30"})
    sales.add_contact_event(store, actor, {"client_id": client["id"], "channel": "Встреча",
                                           "subject": "Знакомство", "at": "2026-02-01 12:00"})
    on_sale = sales.get_card(store, actor, sale["id"])["contacts_history"]
    assert [(e["subject"], e["contact_name"], e["channel_label"]) for e in on_sale] == [
        ("Обсуждение КП", "Сидоров Пётр", "Звонок")]
    on_client = sales.contact_history(store, actor, client_id=client["id"])
    assert [(e["subject"], e["sale_number"]) for e in on_client] == [
        ("Обсуждение КП", sale["number"]), ("Знакомство", None)]
    with pytest.raises(ValidationError, match="Канал"):
        sales.add_contact_event(store, actor, {"sale_id": sale["id"], "channel": "голубь",
                                               "subject": "x"})


# --- scope, deletion, hand-over, merge ---------------------------------------------------

@pytest.fixture
def team(store: Store) -> dict[str, Actor]:
    return {"head": users_mod.create(store, "head", "Орлова", "head"),
            "m1": users_mod.create(store, "manager1", "Смирнов", "manager"),
            "m2": users_mod.create(store, "manager2", "Кузнецова", "manager")}


def test_a_manager_sees_and_edits_only_sales_of_their_clients(store, team):
    m1, m2 = team["m1"], team["m2"]
    own = clients.create(store, m1, {"name": "Мой клиент"}, allow_duplicate=True)
    alien = clients.create(store, m2, {"name": "Чужой клиент"}, allow_duplicate=True)
    mine = sales.create(store, m1, {"client_id": own["id"], "title": "Моя сделка",
                                    "lines": CASE1})
    theirs = sales.create(store, m2, {"client_id": alien["id"], "title": "Чужая сделка",
                                      "lines": CASE1})
    assert mine["owner_id"] == m1.id
    assert {r["id"] for r in sales.list_sales(store, m1).rows} == {mine["id"]}
    with pytest.raises(NotFound):
        sales.get_card(store, m1, theirs["id"])
    with pytest.raises(NotFound):
        sales.set_status(store, m1, theirs["id"], "offer_sent")
    with pytest.raises(NotFound):
        sales.create(store, m1, {"client_id": alien["id"], "lines": CASE1})
    assert {h.id for h in search.search(store, m1, "сделка", entities=("sale",))} == {mine["id"]}
    assert {r["id"] for r in sales.list_sales(store, team["head"]).rows} == {mine["id"],
                                                                             theirs["id"]}
    clients.share(store, m2, alien["id"], [m1.id])
    assert sales.get_card(store, m1, theirs["id"])["id"] == theirs["id"]
    with pytest.raises(ValidationError, match="руководитель"):
        sales.update(store, m1, mine["id"], {"owner_id": m2.id}, mine["version"])


def test_the_owner_of_a_sale_must_see_its_client(store, team):
    alien = clients.create(store, team["m2"], {"name": "Клиент М2"}, allow_duplicate=True)
    with pytest.raises(ValidationError, match="не видит"):
        sales.create(store, team["head"], {"client_id": alien["id"], "owner_id": team["m1"].id,
                                           "lines": CASE1})
    sale = sales.create(store, team["head"], {"client_id": alien["id"], "lines": CASE1})
    assert sale["owner_id"] == team["m2"].id        # the client's manager by default


def test_a_deleted_sale_leaves_register_and_search_and_the_head_restores_it(store, team):
    c = clients.create(store, team["m1"], {"name": "Клиент"}, allow_duplicate=True)
    sale = sales.create(store, team["m1"], {"client_id": c["id"], "title": "Удаляемая",
                                            "lines": CASE1})
    sales.delete(store, team["m1"], sale["id"])
    assert sales.list_sales(store, team["head"]).total == 0
    assert not search.search(store, team["head"], "Удаляемая")
    with pytest.raises(NotFound):
        sales.get_card(store, team["m1"], sale["id"])
    assert [r["id"] for r in sales.list_deleted(store, team["head"])] == [sale["id"]]
    sales.restore(store, team["head"], sale["id"])
    assert search.search(store, team["head"], "Удаляемая")[0].id == sale["id"]
    assert sales.list_sales(store, team["m1"]).total == 1


def test_sales_of_a_deleted_client_leave_the_register(store, actor, make_sale, client):
    make_sale()
    other = clients.create(store, actor, {"name": "ООО «Живой»"}, allow_duplicate=True)
    kept = sales.create(store, actor, {"client_id": other["id"], "title": "Живая сделка",
                                       "lines": [{"name": "Стул", "qty": 1, "price": 10}]})
    clients.delete(store, actor, client["id"])
    for f in (SaleFilter(), SaleFilter(query="сделка"), SaleFilter(amount_min=1)):
        assert [r["id"] for r in sales.list_sales(store, actor, f).rows] == [kept["id"]], f
    sales.delete(store, actor, kept["id"])
    assert sales.list_sales(store, actor).total == 0
    clients.restore(store, actor, client["id"])
    assert sales.list_sales(store, actor).total == 1


def test_handing_a_client_over_moves_its_open_sales_only(store, team):
    c = clients.create(store, team["m1"], {"name": "Клиент"}, allow_duplicate=True)
    open_sale = sales.create(store, team["m1"], {"client_id": c["id"], "lines": CASE1})
    closed = sales.create(store, team["m1"], {"client_id": c["id"], "lines": CASE1})
    sales.set_status(store, team["m1"], closed["id"], "shipped")
    clients.reassign_owner(store, team["head"], c["id"], team["m2"].id)
    assert sales.get(store, team["head"], open_sale["id"])["owner_id"] == team["m2"].id
    assert sales.get(store, team["head"], open_sale["id"])["version"] == 2
    assert sales.get(store, team["head"], closed["id"])["owner_id"] == team["m1"].id
    assert {r["id"] for r in sales.list_sales(store, team["m2"]).rows} == {open_sale["id"],
                                                                           closed["id"]}


def test_merging_clients_moves_their_sales_and_contact_history(store, actor, make_client):
    keep = make_client(name="Ромашка")
    other = make_client(name="Ромашка (дубль)")
    sale = sales.create(store, actor, {"client_id": other["id"], "title": "Сделка дубля",
                                       "lines": CASE1})
    sales.add_contact_event(store, actor, {"sale_id": sale["id"], "subject": "Звонок"})
    clients.merge(store, actor, keep["id"], other["id"])
    card = sales.get_card(store, actor, sale["id"])
    assert card["client"]["id"] == keep["id"]
    assert len(sales.contact_history(store, actor, client_id=keep["id"])) == 1
    hit = search.search(store, actor, "Сделка дубля")[0]
    assert (hit.entity, hit.client_id) == ("sale", keep["id"])


# --- search, register, board, export ------------------------------------------------------

def test_sales_are_found_by_number_title_client_and_specification_line(store, actor, make_sale):
    sale = make_sale(title="Оснащение склада", lines=[
        {"name": "Стеллаж складской 2000×1000", "qty": 2, "price": 14600, "sku": "СТ-2000"}])
    for q in (sale["number"], "оснащение", "Покупатель", "стеллаж", "СТ-2000"):
        hits = search.search(store, actor, q, entities=("sale",))
        assert [h.id for h in hits] == [sale["id"]], q
    assert sales.list_sales(store, actor, SaleFilter(query="стеллаж")).total == 1
    assert sales.find_id(store, actor, sale["number"]) == sale["id"]


def test_rebuilding_the_search_index_keeps_the_sales(store, actor, make_sale):
    make_sale(title="Уникальная сделка")
    sql = "SELECT rowid, entity, entity_id, client_id, title, body FROM search_index ORDER BY rowid"
    with store.read() as conn:
        before = [tuple(r) for r in conn.execute(sql)]
    reindex.rebuild(store)
    with store.read() as conn:
        assert [tuple(r) for r in conn.execute(sql)] == before


def test_the_register_filters_sorts_pages_and_sums(store, actor, make_sale, make_client):
    other = make_client(name="Второй клиент")
    a = make_sale(date="2026-01-15", lines=[{"name": "A", "qty": 1, "price": 100}])
    b = make_sale(date="2026-02-15", lines=[{"name": "B", "qty": 1, "price": 2000}])
    c = make_sale(date="2026-03-15", client_id=other["id"],
                  lines=[{"name": "C", "qty": 1, "price": 30000}])
    sales.set_status(store, actor, b["id"], "invoiced")
    page = sales.list_sales(store, actor)
    assert [r["id"] for r in page.rows] == [c["id"], b["id"], a["id"]]
    assert page.sums == {"total": D("32100.00"), "paid": D("0.00"), "debt": D("32100.00"),
                         "unpaid": D("32100.00"), "receivable": D("2000.00")}
    f = SaleFilter(date_from="2026-02-01", date_to="31.03.2026", amount_max="10 000")
    assert [r["id"] for r in sales.list_sales(store, actor, f).rows] == [b["id"]]
    assert [r["id"] for r in sales.list_sales(store, actor, SaleFilter(
        statuses=[1], client_id=a["client_id"])).rows] == [a["id"]]
    by_total = sales.list_sales(store, actor, SaleFilter(sort="total", descending=False))
    assert [r["id"] for r in by_total.rows] == [a["id"], b["id"], c["id"]]
    second = sales.list_sales(store, actor, page=2, page_size=2)
    assert (second.total, second.pages, [r["id"] for r in second.rows]) == (3, 2, [a["id"]])
    row = page.rows[0]
    assert (row["client_name"], row["status_label"], row["total"]) == (
        "Второй клиент", "Предварительная заявка", D("30000.00"))
    with pytest.raises(ValidationError):
        sales.list_sales(store, actor, SaleFilter(payment="someday"))


def test_the_board_has_a_column_per_status_with_counts_and_sums(store, actor, make_sale):
    a = make_sale()
    make_sale()
    sales.set_status(store, actor, a["id"], "offer_ready")
    columns = sales.board(store, actor)
    by_code = {c["status"]["code"]: c for c in columns}
    assert [c["status"]["code"] for c in columns][:2] == ["lead", "offer_ready"]
    assert by_code["lead"]["count"] == 1 and by_code["offer_ready"]["count"] == 1
    assert by_code["offer_ready"]["total"] == D("6826.84")
    assert by_code["offer_ready"]["rows"][0]["id"] == a["id"]


def test_sales_export_to_xlsx_and_csv_with_filters(store, actor, make_sale):
    from openpyxl import load_workbook

    make_sale(title="=HYPERLINK(\"x\")", date="2026-01-10")
    make_sale(title="Вторая", date="2026-02-10")
    data = sales.export_sales_bytes(store, actor, SaleFilter(date_from="2026-02-01"), "xlsx")
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:4] == ("Номер", "Дата", "Клиент", "Название")
    assert len(rows) == 2 and rows[1][3] == "Вторая" and rows[1][6] == 6826.84
    csv = sales.export_sales_bytes(store, actor, None, "csv").decode("utf-8-sig")
    assert "'=HYPERLINK" in csv
    assert audit.query(store, actor, entity="sale", action="export")


def test_sale_writes_leave_an_audit_trail_on_the_client(store, actor, make_sale, client):
    sale = make_sale()
    sales.set_status(store, actor, sale["id"], "invoiced")
    sales.add_payment(store, actor, sale["id"], 100)
    sales.delete(store, actor, sale["id"])
    actions = [h["action"] for h in clients.history(store, actor, client["id"])
               if h["entity"] == "sale"]
    assert actions == ["delete", "payment", "status", "create"]


def test_files_and_links_attach_to_the_sale_and_show_on_the_client(store, actor, make_sale,
                                                                    client):
    from clientplus_core.clients import files, text_jobs

    sale = make_sale()
    f = sales.attach_file(store, actor, sale["id"], "спецификация.txt",
                          "Болты М8 оцинкованные".encode())
    sales.add_link(store, actor, sale["id"], "https://disk.yandex.ru/d/abc", "Папка")
    card = sales.get_card(store, actor, sale["id"])
    assert [x["id"] for x in card["files"]] == [f["id"]] and card["links"][0]["title"] == "Папка"
    assert f["text_status"] == "pending", "the text is read off the request"
    assert text_jobs.wait(store, 60)
    listed = sales.list_files(store, actor, sale["id"])
    assert listed[0]["uploaded_by_name"] == actor.full_name and listed[0]["text_status"] == "ok"
    assert f["id"] in {x["id"] for x in files.list_for_client(store, actor, client["id"])}
    assert search.search(store, actor, "оцинкованные")[0].id == f["id"]
    assert [r["id"] for r in sales.list_sales(store, actor, SaleFilter(
        query="оцинкованные")).rows] == [sale["id"]]


def test_new_sale_defaults_follow_today_and_the_client_owner(store, actor, client):
    d = sales.new_sale_defaults(store, actor, client["id"])
    assert d["date"] == date.today().isoformat()
    assert d["vat_code"] == ("22" if date.today() >= date(2026, 1, 1) else "20")
    assert d["owner_id"] == client["owner_id"] and d["status"]["code"] == "lead"
    assert "5" not in {r["code"] for r in d["vat_rates"]}


def test_a_client_changing_hands_by_any_path_changes_who_sees_its_sales(store, team):
    c = clients.create(store, team["m1"], {"name": "Клиент"}, allow_duplicate=True)
    sale = sales.create(store, team["m1"], {"client_id": c["id"], "lines": CASE1})
    version = clients.get(store, team["head"], c["id"])["version"]
    clients.update(store, team["head"], c["id"], {"owner_id": team["m2"].id}, version)
    assert [r["id"] for r in sales.list_sales(store, team["m2"]).rows] == [sale["id"]]
    assert sales.list_sales(store, team["m1"]).total == 0
    with store.read() as conn:
        assert conn.execute("SELECT client_owner_id FROM sales WHERE id = ?",
                            (sale["id"],)).fetchone()[0] == team["m2"].id


def test_a_manager_register_merges_own_and_shared_sales_in_date_order(store, team):
    m1, m2 = team["m1"], team["m2"]
    own = clients.create(store, m1, {"name": "Свой"}, allow_duplicate=True)
    shared = clients.create(store, m2, {"name": "Общий"}, allow_duplicate=True)
    clients.share(store, m2, shared["id"], [m1.id])
    ids = []
    for i, cid in enumerate([own["id"], shared["id"], own["id"], shared["id"]]):
        who = m1 if cid == own["id"] else m2
        ids.append(sales.create(store, who, {"client_id": cid, "date": f"2026-01-0{i + 1}",
                                             "lines": [{"name": "x", "qty": 1,
                                                        "price": 100 * (i + 1)}]})["id"])
    page = sales.list_sales(store, m1, page_size=3)
    assert (page.total, [r["id"] for r in page.rows]) == (4, ids[::-1][:3])
    assert page.sums["total"] == D("1000.00")
    assert [r["id"] for r in sales.list_sales(store, m1, page=2, page_size=3).rows] == [ids[0]]
    assert [r["id"] for r in sales.iter_sales(store, m1)] == ids[::-1]


def test_every_register_filter_combination_gives_what_a_plain_scan_gives(store, team):
    """The register names an index per filter combination; the answer must not depend
    on it: each combination is checked against the sales filtered in Python."""
    import itertools

    m1, m2, head = team["m1"], team["m2"], team["head"]
    own = clients.create(store, m1, {"name": "Свой"}, allow_duplicate=True)
    shared = clients.create(store, m2, {"name": "Общий"}, allow_duplicate=True)
    alien = clients.create(store, m2, {"name": "Чужой"}, allow_duplicate=True)
    clients.share(store, m2, shared["id"], [m1.id])
    past = (date.today() - timedelta(days=5)).isoformat()
    line_of: dict[int, str] = {}
    for i in range(18):
        cid = (own, shared, alien)[i % 3]["id"]
        who = m1 if cid == own["id"] else m2
        sale = sales.create(store, who, {"client_id": cid, "date": f"2026-0{i % 9 + 1}-1{i % 7}",
                                         "lines": [{"name": f"Товар {i}", "qty": 1,
                                                    "price": 1000 * (i + 1)}],
                                         "title": "Стеллажи" if i % 2 else "Кресла"})
        line_of[sale["id"]] = "стеллажи" if i % 2 else "кресла"
        if i % 4 == 1:
            sales.add_planned_payment(store, who, sale["id"], 500, past)
        if i % 4 == 2:
            sales.add_payment(store, who, sale["id"], 1000 * (i + 1))
        if i % 3 == 0:
            sales.set_status(store, who, sale["id"], "invoiced")
        if i % 5 == 0:
            sales.set_status(store, who, sale["id"], "shipped")
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute("SELECT s.*, c.owner_id AS c_owner FROM sales s"
                                              " JOIN clients c ON c.id = s.client_id")]
    closed_ids = {1: set(), 0: set()}
    for st in statuses.list_statuses(store, include_inactive=True):
        closed_ids[st["is_closed"]].add(st["id"])
    shares = {shared["id"]}

    def visible(actor: Actor, r: dict[str, Any]) -> bool:
        return actor.sees_everything or r["c_owner"] == actor.id or (
            actor.id == m1.id and r["client_id"] in shares)

    def expected(actor: Actor, f: SaleFilter) -> list[int]:
        out = [r for r in rows if visible(actor, r)
               and (not f.statuses or r["status_id"] in f.statuses)
               and (not f.owner_id or r["owner_id"] == f.owner_id)
               and (not f.client_id or r["client_id"] == f.client_id)
               and (not f.date_from or r["date"] >= f.date_from)
               and (f.payment != "paid" or 0 < r["total_kop"] <= r["paid_kop"])
               and (f.payment != "unpaid" or r["paid_kop"] < r["total_kop"])
               and (f.payment != "overdue" or (r["overdue_from"] or "9") < date.today().isoformat())
               and (f.closed is None or r["status_id"] in closed_ids[int(f.closed)])
               and (not f.query or f.query.lower() in line_of[r["id"]])
               and (f.amount_min is None or r["total_kop"] >= int(f.amount_min) * 100)
               and (f.amount_max is None or r["total_kop"] <= int(f.amount_max) * 100)]
        key = {"date": "date", "total": "total_kop"}[f.sort]
        out.sort(key=lambda r: (r[key], r["id"]), reverse=f.descending)
        return [r["id"] for r in out]

    options = itertools.product(
        [(), (6,), (6, 9)], [None, m1.id], [None, shared["id"]], [None, "2026-04-01"],
        [None, "paid", "unpaid", "overdue"], [None, True, False], ["date", "total"],
        ["", "стеллаж"], [(None, None), ("2000", "9000"), ("5000", None)])
    for sts, owner, client, since, payment, closed, sort, text, (lo, hi) in options:
        f = SaleFilter(statuses=sts, owner_id=owner, client_id=client, date_from=since,
                       payment=payment, closed=closed, sort=sort, query=text,
                       amount_min=lo, amount_max=hi)
        for actor in (head, m1):
            want = expected(actor, f)
            page = sales.list_sales(store, actor, f, page_size=5)
            assert page.total == len(want), (actor.login, f)
            assert [r["id"] for r in page.rows] == want[:5], (actor.login, f)
            assert page.sums["total"] == sum(money_total(rows, want))
            if len(want) > 5:
                second = sales.list_sales(store, actor, f, page=2, page_size=5)
                assert [r["id"] for r in second.rows] == want[5:10], (actor.login, f)
    assert sales.list_sales(store, m1, SaleFilter(query="Товар 1")).total >= 1


def money_total(rows: list[dict[str, Any]], ids: list[int]) -> list[D]:
    by_id = {r["id"]: r for r in rows}
    return [D(by_id[i]["total_kop"]) / 100 for i in ids]


def test_a_preview_totals_lines_like_saving_would_and_saves_nothing(store):
    lines, totals = sales.preview_lines(store, CASE1, "2026-03-01", "included", 0)
    assert totals.total == D("6826.84") and [ln["amount_kop"] for ln in lines] == [450000,
                                                                                    232684]
    with pytest.raises(ValidationError, match="Строка 1"):
        sales.preview_lines(store, [{"name": "x", "qty": -1, "price": 1}])
    assert _count(store, "sales") == 0
