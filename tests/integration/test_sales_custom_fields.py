"""Sale custom fields in the register: filters of every type, the scope still
applied, the custom columns in the Excel/CSV export and ``clientplus export sales``;
the client registry's number / date / text filters on client custom fields."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import openpyxl
import pytest

from clientplus_cli.main import main
from clientplus_core import sales
from clientplus_core.base.errors import ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.records import custom_fields
from clientplus_core.sales import SaleFilter
from clientplus_core.store.db import Store
from clientplus_core.team import users as users_mod
from clientplus_core.team.access import Actor

LINES = [{"name": "Услуга", "qty": 1, "price": "1000", "vat_code": "none"}]

# (title, extra) — the hand-made data set every test filters
SALES: list[tuple[str, dict[str, Any]]] = [
    ("Альфа", {"discount": 5, "deadline": "2026-02-10", "channel": "Партнёр",
               "gifts": ["Кружка", "Ручка"], "vip": True, "bonus": "Ёлочная игрушка"}),
    ("Бета", {"discount": 12.5, "deadline": "2026-03-15", "channel": "Сайт",
              "gifts": ["Ручка"], "vip": False, "bonus": "скидка на доставку"}),
    ("Гамма", {"discount": 20, "deadline": "2026-04-01", "channel": "Звонок",
               "gifts": ["Календарь"], "vip": True}),
    ("Дельта", {}),
]


def _define(store: Store, actor: Actor, entity: str = "sale") -> None:
    for data in (
        {"key": "discount", "label_ru": "Скидка клиента, %", "type": "number"},
        {"key": "deadline", "label_ru": "Срок", "type": "date"},
        {"key": "channel", "label_ru": "Канал", "type": "select",
         "options": ["Партнёр", "Сайт", "Звонок"]},
        {"key": "gifts", "label_ru": "Подарки", "type": "multiselect",
         "options": ["Кружка", "Ручка", "Календарь"]},
        {"key": "vip", "label_ru": "VIP", "type": "bool"},
        {"key": "bonus", "label_ru": "Бонус", "type": "text"},
    ):
        custom_fields.define(store, actor, {**data, "entity": entity})


@pytest.fixture
def world(store: Store, actor: Actor, make_client: Callable[..., dict[str, Any]]
          ) -> dict[str, Any]:
    _define(store, actor)
    m1 = users_mod.create(store, "manager1", "Смирнов", "manager")
    own = make_client(name="ООО «Своя»", owner_id=m1.id)
    other = make_client(name="ООО «Чужая»")
    ids = {}
    for i, (title, extra) in enumerate(SALES):
        client = own if i < 2 else other
        ids[title] = sales.create(store, actor, {"client_id": client["id"], "title": title,
                                                 "lines": LINES, "date": f"2026-01-0{i + 1}",
                                                 "extra": extra})["id"]
    return {"m1": m1, "ids": ids}


def titles(store: Store, actor: Actor, *conds: tuple[Any, ...]) -> set[str]:
    page = sales.list_sales(store, actor, SaleFilter(extra=tuple(conds)), page_size=100)
    assert page.total == len(page.rows)
    return {r["title"] for r in page.rows}


@pytest.mark.parametrize(("conds", "expected"), [
    ((("channel", "Сайт"),), {"Бета"}),
    ((("channel", "any", ("Сайт", "Звонок")),), {"Бета", "Гамма"}),
    ((("channel", "any", ("сайт",)),), {"Бета"}),                 # option matched by case
    ((("gifts", "any", ("Ручка",)),), {"Альфа", "Бета"}),         # a multiselect holds it
    ((("gifts", "any", ("Кружка", "Календарь")),), {"Альфа", "Гамма"}),
    ((("vip", True),), {"Альфа", "Гамма"}),
    ((("vip", False),), {"Бета"}),
    ((("vip", "any", ("да",)),), {"Альфа", "Гамма"}),
    ((("discount", "min", "10"),), {"Бета", "Гамма"}),
    ((("discount", "max", "12,5"),), {"Альфа", "Бета"}),
    ((("discount", "min", 6), ("discount", "max", 19)), {"Бета"}),
    ((("deadline", "min", "01.03.2026"),), {"Бета", "Гамма"}),
    ((("deadline", "min", date(2026, 2, 10)), ("deadline", "max", "2026-03-15")),
     {"Альфа", "Бета"}),
    ((("bonus", "contains", "ЕЛОЧН"),), {"Альфа"}),               # case and ё folded
    ((("bonus", "contains", "Доставк"),), {"Бета"}),
    ((("bonus", "contains", "'; DROP TABLE sales; --"),), set()),
    ((("discount", "min", ""), ("bonus", "contains", " ")), {"Альфа", "Бета", "Гамма", "Дельта"}),
])
def test_the_register_filters_by_sale_custom_fields(store, actor, world, conds, expected):
    assert titles(store, actor, *conds) == expected


def test_custom_field_filters_combine_with_the_standard_ones_and_the_scope(store, actor, world):
    f = SaleFilter(extra=(("vip", True),), date_to="2026-01-02")
    assert [r["title"] for r in sales.list_sales(store, actor, f).rows] == ["Альфа"]
    # the manager sees only the sales of their own client
    assert titles(store, world["m1"], ("vip", True)) == {"Альфа"}
    assert titles(store, world["m1"], ("discount", "min", 0)) == {"Альфа", "Бета"}
    # with a text search too (the id-driven path)
    f = SaleFilter(query="Гамма", extra=(("channel", "Звонок"),))
    assert [r["title"] for r in sales.list_sales(store, actor, f).rows] == ["Гамма"]
    f = SaleFilter(query="Гамма", extra=(("channel", "Сайт"),))
    assert sales.list_sales(store, actor, f).total == 0


def test_register_rows_carry_the_custom_values(store, actor, world):
    rows = {r["title"]: r for r in sales.list_sales(store, actor).rows}
    assert rows["Бета"]["extra"]["discount"] == 12.5
    assert rows["Дельта"]["extra"] == {}


@pytest.mark.parametrize(("cond", "message"), [
    (("discount", "min", "много"), "Скидка клиента, %"),
    (("deadline", "max", "32.13.2026"), "Срок"),
    (("channel", "min", "1"), "Канал"),
    (("nosuch", "min", "1"), "nosuch"),
    (("channel", "any", ("Почта",)), "Канал"),
    (("discount", "like", "1"), "like"),
])
def test_a_bad_custom_field_filter_names_the_field(store, actor, world, cond, message):
    with pytest.raises(ValidationError) as err:
        sales.list_sales(store, actor, SaleFilter(extra=(cond,)))
    assert message in str(err.value.errors)


def test_the_export_has_a_column_per_sale_custom_field_with_typed_cells(store, actor, world):
    data = sales.export_sales_bytes(store, actor, SaleFilter(sort="date", descending=False))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in ws[1]]
    for label in ("Скидка клиента, %", "Срок", "Канал", "Подарки", "VIP", "Бонус"):
        assert label in header
    rows = {r[header.index("Название")]: dict(zip(header, r, strict=False))
            for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"Альфа", "Бета", "Гамма", "Дельта"}
    assert rows["Бета"]["Скидка клиента, %"] == 12.5
    assert rows["Альфа"]["Скидка клиента, %"] == 5
    cell = ws.cell(row=2, column=header.index("Срок") + 1)
    assert cell.is_date and cell.value.date() == date(2026, 2, 10)
    assert rows["Альфа"]["Подарки"] == "Кружка, Ручка"
    assert rows["Альфа"]["VIP"] == "да" and rows["Бета"]["VIP"] == "нет"
    assert rows["Дельта"]["Канал"] is None
    # the export follows the custom filter
    data = sales.export_sales_bytes(store, actor, SaleFilter(extra=(("gifts", "any",
                                                                    ("Ручка",)),)))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sorted(r[header.index("Название")] for r in ws.iter_rows(min_row=2,
                                                                     values_only=True)) \
        == ["Альфа", "Бета"]


def test_the_csv_export_has_the_custom_columns(store, actor, world):
    text = sales.export_sales_bytes(store, actor, SaleFilter(extra=(("channel", "Сайт"),)),
                                    fmt="csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    head, row = rows[0], rows[1]
    assert len(rows) == 2
    assert row[head.index("Канал")] == "Сайт"
    assert row[head.index("Срок")] == "2026-03-15"
    assert row[head.index("Скидка клиента, %")] == "12.5"


def test_cli_export_sales_filters_by_field_and_writes_the_columns(store, actor, world,
                                                                   tmp_path, capsys):
    out = tmp_path / "s.xlsx"
    data_dir = str(store.data_dir.root)
    assert main(["--data-dir", data_dir, "export", "sales", "-o", str(out),
                 "--field", "discount>=10", "--field", "channel=Сайт|Партнёр"]) == 0
    ws = openpyxl.load_workbook(out).active
    header = [c.value for c in ws[1]]
    got = [(r[header.index("Название")], r[header.index("Скидка клиента, %")])
           for r in ws.iter_rows(min_row=2, values_only=True)]
    assert got == [("Бета", 12.5)]
    assert main(["--data-dir", data_dir, "export", "sales", "-o", str(out),
                 "--field", "bonus~ёлочная"]) == 0
    ws = openpyxl.load_workbook(out).active
    assert [r[header.index("Название")] for r in ws.iter_rows(min_row=2, values_only=True)] \
        == ["Альфа"]


# --- the client registry ----------------------------------------------------------------

@pytest.fixture
def client_world(store: Store, actor: Actor, make_client: Callable[..., dict[str, Any]]
                 ) -> None:
    _define(store, actor, "client")
    for name, extra in SALES:
        make_client(name=name, extra=extra)


def names(store: Store, actor: Actor, *conds: tuple[Any, ...]) -> set[str]:
    return {r["name"] for r in clients.list_clients(store, actor,
                                                    ClientFilter(extra=tuple(conds))).rows}


@pytest.mark.parametrize(("conds", "expected"), [
    ((("discount", "min", "12.5"),), {"Бета", "Гамма"}),
    ((("discount", "max", 5),), {"Альфа"}),
    ((("deadline", "min", "2026-03-01"), ("deadline", "max", "31.03.2026")), {"Бета"}),
    ((("bonus", "contains", "ёлоч"),), {"Альфа"}),
    ((("channel", "any", ("Партнёр", "Звонок")),), {"Альфа", "Гамма"}),
    ((("gifts", "Ручка"),), {"Альфа", "Бета"}),
])
def test_the_client_registry_filters_by_number_date_and_text(store, actor, client_world,
                                                              conds, expected):
    assert names(store, actor, *conds) == expected


def test_a_bad_client_range_names_the_field(store, actor, client_world):
    with pytest.raises(ValidationError) as err:
        clients.list_clients(store, actor, ClientFilter(extra=(("deadline", "min", "вчера"),)))
    assert "Срок" in str(err.value.errors)
