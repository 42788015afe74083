"""The sales register with AppTest: filters, totals, the Excel export of exactly
what is filtered, opening a card from the table, the board, and scope."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from clientplus_core import sales

from .helpers import press, shown

LINES = [{"name": "Услуга", "qty": 1, "price": "1000", "vat_code": "22"}]


@pytest.fixture
def three(store, actor, make_client):
    c1 = make_client(name="ООО «Альфа»")
    c2 = make_client(name="ООО «Бета»")
    made = [sales.create(store, actor, {"client_id": c, "title": t, "lines": LINES,
                                        "date": "2026-03-01"})
            for c, t in ((c1["id"], "Первая"), (c2["id"], "Вторая"), (c2["id"], "Третья"))]
    sales.set_status(store, actor, made[1]["id"], "offer_ready")
    return made


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_register_lists_sales_with_totals(open_app, three):
    at = open_app("pages/sales.py")
    table = at.dataframe[0].value
    assert sorted(table["Название"]) == ["Вторая", "Первая", "Третья"]
    assert metric(at, "Продаж") == "3"
    assert metric(at, "Сумма") == "3 000,00 ₽"
    assert metric(at, "Не оплачено по продажам") == "3 000,00 ₽"
    assert metric(at, "Дебиторская задолженность по выставленным счетам") == "0,00 ₽"
    assert "Найдено продаж: 3" in shown(at)


def test_filtering_by_status_exports_exactly_the_filtered_sales(open_app, three):
    at = open_app("pages/sales.py")
    at.multiselect(key="sreg.status.ru").set_value([2]).run()  # «КП подготовлено»
    assert "Найдено продаж: 1" in shown(at)
    assert list(at.dataframe[0].value["Название"]) == ["Вторая"]
    press(at, "Подготовить Excel")
    assert any(d.label == "Скачать Excel (1)" for d in at.download_button)
    _sig, data = at.session_state["sreg.xlsx"]  # the bytes the download button serves
    rows = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))
    header = rows[0]
    assert [r[header.index("Номер")] for r in rows[1:]] == [three[1]["number"]]
    assert rows[1][header.index("Статус")] == "КП подготовлено"
    # a new filter makes the prepared file stale
    at.multiselect(key="sreg.status.ru").set_value([]).run()
    assert not any(d.label.startswith("Скачать Excel") for d in at.download_button)


def test_the_client_search_and_the_payment_filter(open_app, store, actor, three):
    sales.add_payment(store, actor, three[0]["id"], "1000")
    at = open_app("pages/sales.py")
    at.text_input(key="sreg.query").input("Бета").run()
    assert sorted(at.dataframe[0].value["Название"]) == ["Вторая", "Третья"]
    at.text_input(key="sreg.query").input("").run()
    at.selectbox(key="sreg.payment.ru").set_value("paid").run()
    assert list(at.dataframe[0].value["Название"]) == ["Первая"]
    assert metric(at, "Оплачено") == "1 000,00 ₽"


def test_selecting_a_row_opens_the_sale_card(open_app, three):
    at = open_app("pages/sales.py")
    table = at.dataframe[0].value
    row = list(table["Название"]).index("Третья")
    at.session_state["sreg.table"] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert at.query_params["id"] == str(three[2]["id"])
    assert [t.value for t in at.title] == [f"Продажа № {three[2]['number']}"]


def test_the_board_moves_a_sale_to_the_next_stage(open_app, store, actor, three):
    at = open_app("pages/sales.py")
    at.segmented_control(key="sreg.view.ru").set_value("board").run()
    text = shown(at).replace("\u00a0", " ")
    assert "Предварительная заявка" in text and "2 шт. · 2 000,00 ₽" in text
    at.button(key=f"sboard.next.{three[0]['id']}").click().run()
    assert not at.exception
    assert sales.get_card(store, actor, three[0]["id"])["status"]["code"] == "offer_ready"
    assert "2 шт. · 2 000,00 ₽" in shown(at).replace("\u00a0", " ")  # «КП подготовлено»


def test_a_manager_sees_only_the_sales_of_their_clients(open_app, store, team, make_client):
    mine = make_client(name="ООО «Моё»", actor=team["m1"])
    theirs = make_client(name="ООО «Чужое»", actor=team["m2"])
    sales.create(store, team["m1"], {"client_id": mine["id"], "title": "Моя", "lines": LINES})
    sales.create(store, team["m2"], {"client_id": theirs["id"], "title": "Чужая",
                                     "lines": LINES})
    at = open_app("pages/sales.py", actor=team["m1"])
    assert list(at.dataframe[0].value["Название"]) == ["Моя"]
    assert "ООО «Чужое»" not in shown(at)
    assert not any(s.label == "Ответственный" for s in at.selectbox)  # no owner filter
    press(at, "Подготовить Excel")
    _sig, data = at.session_state["sreg.xlsx"]
    cells = [c for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)
             for c in r]
    assert "Моя" in cells and "Чужая" not in cells
    head = open_app("pages/sales.py", actor=team["head"])
    assert sorted(head.dataframe[0].value["Название"]) == ["Моя", "Чужая"]


def test_a_removed_sale_is_restored_by_the_admin(open_app, store, actor, three):
    sales.delete(store, actor, three[0]["id"])
    at = open_app("pages/sales.py")
    assert "Найдено продаж: 2" in shown(at)
    press(at, "Восстановить")
    assert sales.list_sales(store, actor).total == 3
    assert f"Продажа № {three[0]['number']} восстановлена" in shown(at)


def test_the_sales_pages_speak_english(open_app, three):
    at = open_app("pages/sales.py", state={"ui.lang": "en"})
    assert [t.value for t in at.title] == ["Sales"]
    assert "Sales found: 3" in shown(at)
    assert {"Number", "Client", "Status", "Total"} <= set(at.dataframe[0].value.columns)
    # the statuses' English labels, not «Предварительная заявка»
    assert set(at.dataframe[0].value["Status"]) <= {"Lead", "Offer prepared", "Invoiced",
                                                     "Partly paid", "Paid", "Negotiation"}
    at.query_params["id"] = str(three[0]["id"])
    at.switch_page("pages/sale.py").run()
    assert f"Sale No. {three[0]['number']}" in shown(at)
    assert {"Total", "Paid", "Remaining"} <= {m.label for m in at.metric}
    for tab in ("Payments", "Documents", "Contacts", "Files and links", "Statuses", "History"):
        at.session_state["sale.tab"] = tab
        at.run()
        assert not at.exception, (tab, [e.value for e in at.exception])
    # last: leaving a page re-reads its select boxes' labels outside the run (AppTest)
    for page in ("pages/catalogue.py", "pages/settings.py"):
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
    assert "Sale statuses" in [t.label for t in at.tabs]


# --- sale custom fields: «Доп. поля» columns and filters ------------------------------

@pytest.fixture
def with_fields(store, actor, make_client):
    from clientplus_core.records import custom_fields as cf

    for data in ({"key": "discount", "label_ru": "Скидка клиента", "label_en": "Client discount",
                  "type": "number"},
                 {"key": "deadline", "label_ru": "Срок", "type": "date"},
                 {"key": "gifts", "label_ru": "Подарки", "type": "multiselect",
                  "options": ["Кружка", "Ручка"]},
                 {"key": "vip", "label_ru": "VIP", "type": "bool"},
                 {"key": "bonus", "label_ru": "Бонус", "type": "text"}):
        cf.define(store, actor, {**data, "entity": "sale"})
    c = make_client(name="ООО «Альфа»")
    for title, extra in (("Первая", {"discount": 5, "deadline": "2026-02-01", "vip": True,
                                     "gifts": ["Кружка"], "bonus": "Ёлка"}),
                         ("Вторая", {"discount": 15, "deadline": "2026-05-01", "vip": False,
                                     "gifts": ["Ручка", "Кружка"]}),
                         ("Третья", {})):
        sales.create(store, actor, {"client_id": c["id"], "title": title, "lines": LINES,
                                    "date": "2026-03-01", "extra": extra})


def titles(at) -> list[str]:
    return sorted(at.dataframe[0].value["Название"]) if at.dataframe else []


def test_a_sale_custom_field_is_shown_as_an_optional_column(open_app, with_fields):
    at = open_app("pages/sales.py")
    assert "Скидка клиента" not in at.dataframe[0].value.columns
    at.multiselect(key="sreg.cf.columns").set_value(["discount", "deadline"]).run()
    table = at.dataframe[0].value
    assert dict(zip(table["Название"], table["Скидка клиента"], strict=True)) == {
        "Первая": "5", "Вторая": "15", "Третья": ""}
    assert dict(zip(table["Название"], table["Срок"], strict=True))["Вторая"] == "01.05.2026"


@pytest.mark.parametrize(("widget", "key", "value", "expected"), [
    ("text_input", "sreg.cf.discount.min", "10", ["Вторая"]),
    ("text_input", "sreg.cf.discount.max", "10", ["Первая"]),
    ("date_input", "sreg.cf.deadline.min", "2026-04-01", ["Вторая"]),
    ("date_input", "sreg.cf.deadline.max", "2026-04-01", ["Первая"]),
    ("multiselect", "sreg.cf.gifts", ["Ручка"], ["Вторая"]),
    ("multiselect", "sreg.cf.gifts", ["Кружка"], ["Вторая", "Первая"]),
    ("selectbox", "sreg.cf.vip.ru", False, ["Вторая"]),
    ("text_input", "sreg.cf.bonus", "ёлк", ["Первая"]),
])
def test_the_register_filters_by_each_kind_of_custom_field(open_app, with_fields, widget, key,
                                                          value, expected):
    import datetime as dt

    at = open_app("pages/sales.py")
    if widget == "date_input":
        value = dt.date.fromisoformat(value)
    getattr(at, widget)(key=key).set_value(value).run()
    assert not at.exception
    assert titles(at) == expected


def test_a_bad_number_in_a_custom_range_is_named_not_raised(open_app, with_fields):
    at = open_app("pages/sales.py")
    at.text_input(key="sreg.cf.discount.min").set_value("много").run()
    assert not at.exception
    assert any("Скидка клиента" in e.value for e in at.error)


def test_the_excel_export_has_the_custom_columns_of_the_filtered_sales(open_app, with_fields):
    at = open_app("pages/sales.py")
    at.text_input(key="sreg.cf.discount.min").set_value("10").run()
    press(at, "Подготовить Excel")
    _sig, data = at.session_state["sreg.xlsx"]
    ws = load_workbook(io.BytesIO(data)).active
    rows = list(ws.iter_rows(values_only=True))
    header = rows[0]
    assert [r[header.index("Название")] for r in rows[1:]] == ["Вторая"]
    assert rows[1][header.index("Скидка клиента")] == 15
    assert rows[1][header.index("Срок")].date().isoformat() == "2026-05-01"


def test_custom_columns_take_the_english_label(open_app, with_fields):
    at = open_app("pages/sales.py", state={"ui.lang": "en"})
    at.multiselect(key="sreg.cf.columns").set_value(["discount"]).run()
    assert "Client discount" in at.dataframe[0].value.columns
