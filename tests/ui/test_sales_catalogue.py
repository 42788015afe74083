"""The catalogue page and the sales settings (statuses, document templates) with
AppTest. Uploads go through the session-state keys the pages' uploaders write."""

from __future__ import annotations

import io
from decimal import Decimal as D

from openpyxl import load_workbook

from clientplus_core.sales import catalogue, documents, statuses
from clientplus_ui.sales.catalogue import IMPORT_KEY
from clientplus_ui.settings.sales import template_upload_key

from ..integration.test_search_files import _docx
from .helpers import press, shown


def test_an_item_is_added_and_found(open_app, store, actor):
    at = open_app("pages/catalogue.py")
    for name, value in (("name", "Консультация юриста"), ("sku", "K-1"), ("price", "1 500,00")):
        at.text_input(key=f"cat.new.0.{name}").input(value)
    at.selectbox(key="cat.new.0.unit").set_value("час")
    at.selectbox(key="cat.new.0.kind.ru").set_value("service")
    press(at, "Добавить")
    [item] = catalogue.list_items(store, actor)
    assert (item["name"], item["unit"], item["price"], item["kind"], item["vat_code"]) == (
        "Консультация юриста", "час", D("1500.00"), "service", "22")
    at.text_input(key="cat.query").input("юрист").run()
    assert list(at.dataframe[0].value["Наименование"]) == ["Консультация юриста"]
    at.text_input(key="cat.query").input("бумага").run()
    assert "Позиций: 0" in shown(at)


def test_a_bad_price_is_named_and_nothing_is_saved(open_app, store, actor):
    at = open_app("pages/catalogue.py")
    at.text_input(key="cat.new.0.name").input("Бумага")
    at.text_input(key="cat.new.0.price").input("-5")
    press(at, "Добавить")
    assert any("Цена" in e.value for e in at.error)
    assert catalogue.list_items(store, actor) == []


def test_a_selected_item_is_edited(open_app, store, actor):
    item = catalogue.create(store, actor, {"name": "Бумага А4", "price": "300"})
    at = open_app("pages/catalogue.py")
    at.session_state["cat.table"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.text_input(key=f"cat.{item['id']}.0.price").input("349,90")
    press(at, "Сохранить")
    assert catalogue.get(store, actor, item["id"])["price"] == D("349.90")


def test_import_checks_first_then_imports_and_the_export_reads_back(open_app, store, actor):
    csv = ("Наименование;Артикул;Ед.;Цена;НДС;Вид\n"
           "Бумага А4;A4;пач;349,90;22 %;товар\nДоставка;D1;усл;500;без НДС;услуга\n")
    at = open_app("pages/catalogue.py", state={IMPORT_KEY: ("cat.csv", csv.encode())})
    press(at, "Проверить (без записи)")
    assert "будет создано 2" in shown(at)
    assert catalogue.list_items(store, actor) == []
    press(at, "Импортировать")
    assert sorted(i["name"] for i in catalogue.list_items(store, actor)) == ["Бумага А4",
                                                                             "Доставка"]
    assert "Импорт выполнен: создано 2" in shown(at)
    book = load_workbook(io.BytesIO(catalogue.export_xlsx(store, actor))).active
    assert any(d.label == "Скачать каталог (Excel)" for d in at.download_button)
    assert [r[0] for r in book.iter_rows(min_row=2, values_only=True)] == ["Бумага А4",
                                                                          "Доставка"]


def test_an_import_with_a_bad_row_names_it_and_saves_nothing(open_app, store, actor):
    csv = "Наименование;Цена\nБумага;349,90\nЛоманое;дорого\n"
    at = open_app("pages/catalogue.py", state={IMPORT_KEY: ("cat.csv", csv.encode())})
    press(at, "Импортировать")
    assert any("строка 3" in e.value for e in at.error), [e.value for e in at.error]
    assert catalogue.list_items(store, actor) == []


def test_a_viewer_reads_the_catalogue_but_cannot_change_it(open_app, store, actor):
    from clientplus_core.team import users

    catalogue.create(store, actor, {"name": "Бумага"})
    viewer = users.create(store, "viewer1", "Зритель", "viewer")
    at = open_app("pages/catalogue.py", actor=viewer)
    assert list(at.dataframe[0].value["Наименование"]) == ["Бумага"]
    assert not any(b.label == "Добавить" for b in at.button)


# ---- settings: statuses and templates ------------------------------------------------------

def open_settings(open_app, **kw):
    return open_app("pages/settings.py", **kw)


def test_the_admin_renames_a_status_and_changes_its_flags(open_app, store):
    at = open_settings(open_app)
    at.session_state["set.statuses.0"] = {
        "edited_rows": {0: {"label": "Заявка", "is_invoiced": True}}, "added_rows": [],
        "deleted_rows": []}
    press(at, "Сохранить статусы")
    lead = statuses.get(store, 1)
    assert (lead["label"], lead["is_invoiced"], lead["code"]) == ("Заявка", 1, "lead")
    assert "Сохранено статусов: 1" in shown(at)


def test_a_new_status_is_added(open_app, store):
    at = open_settings(open_app)
    at.text_input(key="set.statuses.new.label").input("Монтаж")
    at.checkbox(key="set.statuses.new.is_shipped").check()
    press(at, "Добавить")
    row = statuses.list_statuses(store)[-1]
    assert (row["label"], row["is_shipped"]) == ("Монтаж", 1)


def test_a_manager_sees_the_statuses_but_cannot_edit_them(open_app, team):
    at = open_settings(open_app, actor=team["m1"])
    assert "Статусы меняет только администратор." in shown(at)
    assert next(b for b in at.button if b.label == "Сохранить статусы").disabled


def test_a_template_with_an_unknown_variable_is_refused_naming_it(open_app, store, actor):
    bad = _docx("Счёт {{ doc.number }} для {{ customer.name }}")
    at = open_settings(open_app, state={template_upload_key("invoice"): ("мой.docx", bad)})
    press(at, "Загрузить «мой.docx»")
    assert any("customer" in e.value for e in at.error), [e.value for e in at.error]
    assert documents.list_templates(store, actor) == []


def test_a_good_template_is_uploaded_and_used(open_app, store, actor):
    good = _docx("Счёт № {{ doc.number }} для {{ buyer.name }} на {{ totals.total }}")
    at = open_settings(open_app, state={template_upload_key("invoice"): ("мой.docx", good)})
    press(at, "Загрузить «мой.docx»")
    [row] = documents.list_templates(store, actor)
    assert row["kind"] == "invoice" and row["is_default"]
    assert "Шаблон «мой.docx» загружен и используется" in shown(at)
    labels = [d.label for d in at.download_button]
    assert "Скачать текущий" in labels and labels.count("Скачать стандартный") == 4
    press(at, "Вернуть стандартный")
    assert not documents.list_templates(store, actor)[0]["is_default"]
