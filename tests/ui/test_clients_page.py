"""The client registry, driven with AppTest through app.py: list, filters, search
as you type, pages, opening a card, Excel export of exactly what is filtered."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest


@pytest.fixture
def registry(open_app):
    """``registry()``: the app on its default page, the client registry."""
    return lambda: open_app()


def names(at: AppTest) -> list[str]:
    if not at.dataframe:
        return []
    return at.dataframe[0].value["Наименование"].tolist()


@pytest.fixture
def three(make_client):
    return [make_client(name="ООО «Ромашка»", inn="7707083893", phone="+74951234567",
                        tags=["опт"]),
            make_client(kind="ip", name="ИП Лютиков", inn="500100732259"),
            make_client(kind="person", name="Васильев Пётр")]


def test_the_registry_lists_clients_with_formatted_phones(registry, three):
    at = registry()
    assert names(at) == ["Васильев Пётр", "ИП Лютиков", "ООО «Ромашка»"]
    row = at.dataframe[0].value.iloc[2]
    assert (row["Тип"], row["ИНН"], row["Телефон"], row["Метки"]) == (
        "Юр. лицо", "7707083893", "8 (495) 123-45-67", "опт")
    assert "Найдено клиентов: 3" in [c.value for c in at.caption]


def test_the_kind_filter_keeps_only_that_kind(registry, three):
    at = registry()
    at.selectbox(key="reg.kind.ru").set_value("ip").run()
    assert names(at) == ["ИП Лютиков"]


def test_the_search_box_filters_by_any_part_of_the_card(registry, three):
    at = registry()
    at.text_input(key="reg.query").input("омаш").run()
    assert names(at) == ["ООО «Ромашка»"]
    at.text_input(key="reg.query").input("123-45-67").run()  # a phone typed any way
    assert names(at) == ["ООО «Ромашка»"]


def test_the_tag_filter_and_sorting(registry, three):
    at = registry()
    at.selectbox(key="reg.tag.ru").set_value("опт").run()
    assert names(at) == ["ООО «Ромашка»"]
    at.selectbox(key="reg.tag.ru").set_value("")
    at.selectbox(key="reg.desc.ru").set_value(True).run()
    assert names(at) == ["ООО «Ромашка»", "ИП Лютиков", "Васильев Пётр"]


def test_the_created_period_filters_by_date(registry, three):
    today = dt.datetime.now(dt.UTC).date()  # created_at is stored in UTC
    at = registry()
    at.date_input(key="reg.from").set_value(today - dt.timedelta(days=1))
    at.date_input(key="reg.to").set_value(today).run()
    assert len(names(at)) == 3
    at.date_input(key="reg.from").set_value(today + dt.timedelta(days=1)).run()
    assert names(at) == []


def test_nothing_found_says_so(registry, three):
    at = registry()
    at.text_input(key="reg.query").input("несуществующий").run()
    assert names(at) == []
    assert any("Ничего не найдено" in i.value for i in at.info)


def test_long_lists_are_paged_by_fifty(registry, make_client):
    for i in range(55):
        make_client(name=f"Клиент {i:02d}")
    at = registry()
    assert len(names(at)) == 50
    assert any("стр. 1 из 2" in m.value for m in at.markdown)
    at.number_input(key="reg.page").set_value(2).run()
    assert names(at) == [f"Клиент {i}" for i in range(50, 55)]
    at.text_input(key="reg.query").input("Клиент 0").run()  # a new filter: back to page 1
    assert names(at)[0] == "Клиент 00"


def test_selecting_a_row_opens_the_card(registry, three):
    at = registry()
    at.session_state["reg.table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert at.query_params["id"] == str(three[1]["id"])
    assert [t.value for t in at.title] == ["ИП Лютиков"]


def test_excel_has_exactly_the_filtered_clients(registry, three):
    at = registry()
    at.selectbox(key="reg.kind.ru").set_value("legal").run()
    next(b for b in at.button if b.label == "Подготовить Excel").click().run()
    assert not at.exception
    assert any(d.label == "Скачать Excel (1)" for d in at.download_button)
    _filter, data = at.session_state["reg.xlsx"]  # the bytes the download button serves
    sheet = load_workbook(io.BytesIO(data)).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "ООО «Ромашка»" in cells
    assert "ИП Лютиков" not in cells and "Васильев Пётр" not in cells


def test_a_script_in_a_name_stays_text(registry, make_client):
    make_client(name="<script>alert(1)</script>")
    at = registry()
    assert names(at) == ["<script>alert(1)</script>"]
    assert not any("<script>" in m.value for m in at.markdown)


# --- client custom fields: number / date ranges and text «содержит» -------------------

@pytest.fixture
def with_fields(store, actor, make_client):
    from clientplus_core.records import custom_fields as cf

    cf.enable_preset(store, actor, "client", "headcount")
    cf.define(store, actor, {"entity": "client", "key": "since", "label_ru": "Клиент с",
                             "type": "date"})
    cf.define(store, actor, {"entity": "client", "key": "note", "label_ru": "Пометка",
                             "type": "text"})
    make_client(name="Малая", extra={"headcount": 8, "since": "2020-01-10", "note": "Ёж"})
    make_client(name="Средняя", extra={"headcount": 120, "since": "2023-06-01",
                                       "note": "сеть магазинов"})
    make_client(name="Пустая")


@pytest.mark.parametrize(("widget", "key", "value", "expected"), [
    ("text_input", "reg.cf.headcount.min", "50", ["Средняя"]),
    ("text_input", "reg.cf.headcount.max", "50", ["Малая"]),
    ("date_input", "reg.cf.since.min", dt.date(2021, 1, 1), ["Средняя"]),
    ("date_input", "reg.cf.since.max", dt.date(2021, 1, 1), ["Малая"]),
    ("text_input", "reg.cf.note", "МАГАЗ", ["Средняя"]),
    ("text_input", "reg.cf.note", "еж", ["Малая"]),
])
def test_the_registry_filters_by_number_date_and_text_custom_fields(registry, with_fields,
                                                                    widget, key, value,
                                                                    expected):
    at = registry()
    getattr(at, widget)(key=key).set_value(value).run()
    assert not at.exception
    assert names(at) == expected


def test_a_bad_custom_range_is_named_on_the_page(registry, with_fields):
    at = registry()
    at.text_input(key="reg.cf.headcount.min").set_value("десяток").run()
    assert not at.exception
    assert any("Численность сотрудников" in e.value for e in at.error)


def test_the_search_box_lists_the_best_match_first(registry, make_client):
    """«Сбербанк» puts the bank itself before the clients that only bank there, by
    default (the sort «Сначала лучшие совпадения»), as the search page and pickers do."""
    for name in ("ООО «Альфа»", "ООО «Бета»", "ООО «Вега»"):
        make_client(name=name, bank_name="ПАО Сбербанк")
    make_client(name="ПАО Сбербанк", inn="7707083893")
    at = registry()
    assert at.selectbox(key="reg.sort.ru").value == "relevance"
    at.text_input(key="reg.query").input("Сбербанк").run()
    assert names(at) == ["ПАО Сбербанк", "ООО «Альфа»", "ООО «Бета»", "ООО «Вега»"]
    at.selectbox(key="reg.sort.ru").set_value("name").run()
    assert names(at) == ["ООО «Альфа»", "ООО «Бета»", "ООО «Вега»", "ПАО Сбербанк"]


def test_the_count_of_found_clients_is_written_with_thousands(registry, store, actor):
    from clientplus_core.clients import cards as clients

    for i in range(1_001):
        clients.create(store, actor, {"kind": "person", "name": f"Клиент {i:04d}"},
                       allow_duplicate=True)
    at = registry()
    assert "Найдено клиентов: 1 001" in [c.value.replace("\u00a0", " ").replace(
        "\u202f", " ") for c in at.caption]
