"""Custom fields on cards, segmentation and the report builder against a small
hand-made dataset; every expected table below is written out by hand."""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.analytics import report_builder as rb
from clientplus_core.analytics import segments
from clientplus_core.analytics.report_builder import Filter, ReportSpec
from clientplus_core.base.errors import AccessDenied, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

D = Decimal


@pytest.fixture
def world(store: Store, actor: Actor) -> dict[str, Any]:
    """Four clients (two per manager), five sales (one lost), four payments."""
    for key in ("industry", "headcount", "sector"):
        cf.enable_preset(store, actor, "client", key)
    cf.enable_preset(store, actor, "sale", "discount")
    m1 = users.create(store, "m1", "Первый", "manager")
    m2 = users.create(store, "m2", "Второй", "manager")

    def client(owner: Actor, name: str, address: str, **extra: Any) -> int:
        return int(clients.create(store, owner, {"name": name, "legal_address": address,
                                                 "extra": extra}, allow_duplicate=True)["id"])

    a = client(m1, "Альфа", "г. Москва, ул. Тверская, 1", industry="IT", headcount=5,
               sector="Коммерческий")
    b = client(m1, "Бета", "123456, Свердловская обл., г Екатеринбург", industry="it",
               headcount="40", sector="Бюджетный")
    c = client(m2, "Гамма", "г. Москва, ул. Арбат, 2", industry="Торговля", headcount=300,
               sector="Коммерческий")
    d = client(m2, "Дельта", "")

    def sale(cid: int, amount: int, day: str, paid: int = 0, pay_day: str = "",
             lost: bool = False) -> int:
        s = sales.create(store, actor, {"client_id": cid, "date": day, "title": "Сделка",
                                        "lines": [{"name": "Услуга", "qty": 1,
                                                   "price": amount}]})
        if paid:
            sales.add_payment(store, actor, s["id"], paid, pay_day)
        if lost:
            sales.set_status(store, actor, s["id"], "lost", reason="дорого")
        return int(s["id"])

    sale(a, 1000, "2026-01-10", 600, "2026-01-15")
    sale(a, 3000, "2026-02-01", lost=True)
    sale(b, 2000, "2026-01-20", 2000, "2026-02-05")
    sale(c, 500, "2026-03-01")
    sale(c, 1500, "2026-03-02", 1500, "2026-03-03")
    return {"m1": m1, "m2": m2, "ids": {"a": a, "b": b, "c": c, "d": d}}


def table(frame: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in frame.iter_rows()]


def test_custom_values_are_validated_and_normalised_on_the_card(store, actor, world) -> None:
    b = clients.get(store, actor, world["ids"]["b"])
    assert b["extra"] == {"industry": "IT", "headcount": 40, "sector": "Бюджетный"}
    with pytest.raises(ValidationError) as err:
        clients.update(store, actor, b["id"], {"extra": {"headcount": "много"}}, b["version"])
    assert "Численность сотрудников" in str(err.value)


def test_a_sale_custom_field_is_validated_too(store, actor, world) -> None:
    with pytest.raises(ValidationError, match="Персональная скидка"):
        sales.create(store, actor, {"client_id": world["ids"]["a"], "extra": {"discount": "x"},
                                    "lines": [{"name": "У", "qty": 1, "price": 1}]})


def test_segments_by_one_custom_field(store, actor, world) -> None:
    frame = segments.pivot(store, actor, ["industry"])
    assert frame.columns == ["industry", "clients", "sales", "revenue", "avg_deal"]
    assert table(frame) == [
        ("IT", 2, 2, D("2600.00"), D("1500.00")),
        ("(не указано)", 1, 0, D("0.00"), D("0.00")),
        ("Торговля", 1, 2, D("1500.00"), D("1000.00")),
    ]


def test_segments_by_two_custom_fields(store, actor, world) -> None:
    frame = segments.pivot(store, actor, ["headcount", "sector"])
    assert sorted(table(frame)) == sorted([
        ("1–10", "Коммерческий", 1, 1, D("600.00"), D("1000.00")),
        ("11–50", "Бюджетный", 1, 1, D("2000.00"), D("2000.00")),
        ("251–1000", "Коммерческий", 1, 2, D("1500.00"), D("1000.00")),
        ("(не указано)", "(не указано)", 1, 0, D("0.00"), D("0.00")),
    ])
    cross = segments.wide(frame, ["headcount", "sector"], "clients")
    assert cross.columns[0] == "headcount"
    assert cross.filter(cross["headcount"] == "1–10")["Коммерческий"].to_list() == [1]


def test_segments_by_region_and_period(store, actor, world) -> None:
    frame = segments.pivot(store, actor, ["region"], date_from="2026-01-01",
                           date_to="2026-01-31")
    # January: sales of Альфа (1000) and Бета (2000); payments dated in January: 600
    assert table(frame) == [
        ("Москва", 2, 1, D("600.00"), D("1000.00")),
        ("(не указано)", 1, 0, D("0.00"), D("0.00")),
        ("Свердловская область", 1, 1, D("0.00"), D("2000.00")),
    ]


def test_a_manager_sees_their_own_clients_only(store, world) -> None:
    frame = segments.pivot(store, world["m1"], ["industry"])
    assert table(frame) == [("IT", 2, 2, D("2600.00"), D("1500.00"))]


def test_a_saved_segment_gives_its_clients_within_the_scope(store, actor, world) -> None:
    segments.save(store, actor, "Бюджетные IT", {"industry": "IT", "sector": ["Бюджетный"]})
    assert [s["name"] for s in segments.list_segments(store, actor)] == ["Бюджетные IT"]
    assert segments.client_ids(store, actor, "Бюджетные IT") == [world["ids"]["b"]]
    segments.save(store, world["m2"], "Москва", {"region": "Москва"})
    assert segments.client_ids(store, world["m2"], "Москва") == [world["ids"]["c"]]
    assert segments.client_ids(store, actor, "Москва") == [world["ids"]["a"],
                                                            world["ids"]["c"]]
    with pytest.raises(ValidationError, match="Разрез «planet» не найден"):
        segments.save(store, actor, "x", {"planet": "Марс"})
    viewer = users.create(store, "v", "Зритель", "viewer")
    with pytest.raises(AccessDenied):
        segments.save(store, viewer, "y", {"kind": "ИП"})


def test_segment_members_are_the_same_from_the_analytics_copy_and_from_sqlite(
        store, actor, world) -> None:
    ids = world["ids"]
    cases = {"Без отрасли": ({"industry": segments.NO_VALUE}, [ids["d"]]),
             "IT в Москве": ({"industry": "IT", "region": "Москва"}, [ids["a"]]),
             "Коммерческие": ({"sector": "Коммерческий"}, [ids["a"], ids["c"]])}
    for name, (where, want) in cases.items():
        segments.save(store, actor, name, where)
        assert segments.client_ids(store, actor, name) == want, name
        assert segments.client_ids(store, actor, name, engine="sqlite") == want, name


def test_builder_sums_sales_by_a_client_custom_field(store, actor, world) -> None:
    spec = ReportSpec("sales", ["client.industry"], ["count", "sum:total", "avg:total"],
                      [Filter("status", "!=", "Проиграна / отменена")])
    assert table(rb.run(store, actor, spec)) == [
        ("IT", 2, D("3000.00"), D("1500.00")),
        ("Торговля", 2, D("2000.00"), D("1000.00")),
    ]
    assert rb.headers(store, spec) == ["Отрасль", "Количество", "Сумма: Сумма продажи",
                                       "Среднее: Сумма продажи"]


def test_builder_payments_by_month_for_a_manager(store, world) -> None:
    spec = ReportSpec("payments", ["payment_month"], ["sum:payment", "count_distinct:client"])
    assert table(rb.run(store, world["m1"], spec)) == [
        ("2026-01", D("600.00"), 1), ("2026-02", D("2000.00"), 1)]


def test_builder_filters_period_and_operators(store, actor, world) -> None:
    spec = ReportSpec("sales", ["client"], ["max:total"],
                      [Filter("client", "in", "Альфа, Гамма"), Filter("total", ">=", "1000")],
                      date_from="2026-01-01", date_to="2026-02-28")
    assert table(rb.run(store, actor, spec)) == [("Альфа", D("3000.00"))]
    spec = ReportSpec("clients", ["client.sector"], ["count"], [Filter("name", "contains", "ль")])
    assert table(rb.run(store, actor, spec)) == [(None, 1), ("Коммерческий", 1)]


def test_the_builder_gives_the_same_tables_from_the_analytics_copy_and_from_sqlite(
        store, actor, world) -> None:
    specs = [
        ReportSpec("sales", ["client.industry", "sale_month"], ["count", "sum:total",
                                                               "avg:paid", "max:vat"]),
        ReportSpec("sales", ["client.headcount"], ["count"], [Filter("client.headcount", ">",
                                                                     "10")]),
        ReportSpec("sales", ["status"], ["min:total"], [Filter("client", "contains", "ль")]),
        ReportSpec("sale_lines", ["product", "unit", "sku"], ["sum:line_vat", "sum:qty"]),
        ReportSpec("payments", ["payment_kind", "sale_owner"], ["sum:payment"],
                   date_from="2026-01-01", date_to="2026-02-28"),
        ReportSpec("clients", ["client.sector", "owner"], ["count"],
                   [Filter("client.industry", "empty")]),
        ReportSpec("clients", ["kind"], ["count_distinct:owner"],
                   [Filter("client.sector", "in", "Бюджетный, Коммерческий")]),
    ]
    for who in (actor, world["m1"], world["m2"]):
        for spec in specs:
            assert table(rb.run(store, who, spec)) == table(
                rb.run(store, who, spec, engine="sqlite")), (who.login, spec)
    # «содержит» ignores case in Cyrillic too (SQLite's LIKE would only for ASCII)
    upper = ReportSpec("clients", ["name"], ["count"], [Filter("name", "contains", "ЛЬ")])
    assert table(rb.run(store, actor, upper)) == [("Альфа", 1), ("Дельта", 1)]


def test_builder_refuses_an_unknown_field_or_operator(store, actor, world) -> None:
    with pytest.raises(ValidationError, match="Неизвестное поле «password_hash»"):
        rb.run(store, actor, ReportSpec("clients", ["password_hash"]))
    with pytest.raises(ValidationError, match="Неизвестное условие «LIKE»"):
        rb.run(store, actor, ReportSpec("clients", [], ["count"], [Filter("name", "LIKE", "%")]))
    with pytest.raises(ValidationError, match="Неизвестная сущность"):
        rb.run(store, actor, ReportSpec("users"))
    with pytest.raises(ValidationError, match="Неизвестный показатель"):
        rb.run(store, actor, ReportSpec("sales", [], ["sum(total);--"]))
    with pytest.raises(ValidationError, match="не число"):
        rb.run(store, actor, ReportSpec("sales", [], ["sum:client"]))


def test_record_numbers_are_never_summed_only_grouped_or_counted(store, actor, world) -> None:
    for entity, id_field in (("sales", "sale_id"), ("clients", "id")):
        names = rb.measure_names(rb.fields(store, entity))
        assert not {f"{agg}:{id_field}" for agg in ("sum", "avg", "min", "max")} & set(names)
        assert f"count_distinct:{id_field}" in names
        for agg in ("sum", "avg", "min", "max"):
            with pytest.raises(ValidationError, match="номер записи"):
                rb.run(store, actor, ReportSpec(entity, [], [f"{agg}:{id_field}"]))
    assert {"sum:total", "avg:paid", "max:vat"} <= set(rb.measure_names(rb.fields(store,
                                                                                 "sales")))
    assert "sum:qty" in rb.measure_names(rb.fields(store, "sale_lines"))
    distinct = rb.run(store, actor, ReportSpec("sales", [], ["count_distinct:sale_id"]))
    assert table(distinct) == table(rb.run(store, actor, ReportSpec("sales", [], ["count"])))
    one = rb.run(store, actor, ReportSpec("sales", ["sale_id"], ["count"], [
        Filter("sale_id", "=", "№ 1")]), engine="sqlite")
    assert table(one) == [("1", 1)]


def test_an_injection_string_is_only_a_value_that_matches_nothing(store, actor, world) -> None:
    evil = "'; DROP TABLE clients; --"
    spec = ReportSpec("clients", ["name"], ["count"], [Filter("name", "=", evil)])
    assert rb.run(store, actor, spec).height == 0
    spec = ReportSpec("clients", [], ["count"], [Filter("client.industry", "contains", evil)])
    assert table(rb.run(store, actor, spec)) == [(0,)]
    with sqlite3.connect(store.db_path) as conn:
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == 4
    with pytest.raises(ValidationError):
        rb.run(store, actor, ReportSpec("clients", [evil]))


def test_a_report_is_saved_and_loaded_by_name(store, actor, world) -> None:
    spec = ReportSpec("sales", ["status"], ["sum:total"], [Filter("client", "=", "Альфа")])
    rb.save(store, actor, "По статусам", spec)
    assert rb.load(store, actor, "По статусам") == spec
    assert [r["name"] for r in rb.list_reports(store, actor)] == ["По статусам"]


def test_builder_spec_lines_by_product(store, actor, world) -> None:
    spec = ReportSpec("sale_lines", ["product"], ["count", "sum:amount", "sum:qty"])
    assert table(rb.run(store, actor, spec)) == [("Услуга", 5, D("8000.00"), 5.0)]


def test_the_registry_filter_and_export_know_custom_fields(store, actor, world) -> None:
    from clientplus_core.clients import export
    from clientplus_core.clients.cards import ClientFilter

    page = clients.list_clients(store, actor, ClientFilter(extra=(("industry", "IT"),)))
    assert sorted(r["name"] for r in page.rows) == ["Альфа", "Бета"]
    page = clients.list_clients(store, world["m2"], ClientFilter(extra=(("industry", "IT"),)))
    assert page.total == 0
    data = export.export_clients_bytes(store, actor, ClientFilter(sort="name"), fmt="xlsx")
    import io

    import openpyxl

    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    heads = [c.value for c in ws[1]]
    assert heads[-3:] == ["Численность сотрудников", "Отрасль", "Сектор"]
    assert [c.value for c in ws[2]][-3:] == [5, "IT", "Коммерческий"]


def test_a_field_whose_type_changed_does_not_block_saving_the_rest(store, actor, world) -> None:
    a = clients.get(store, actor, world["ids"]["a"])
    cf.define(store, actor, {"entity": "client", "key": "industry", "label_ru": "Отрасль",
                             "type": "number"})  # «IT» is no number now
    saved = clients.update(store, actor, a["id"], {"notes": "звонить утром"}, a["version"])
    assert saved["extra"]["industry"] == "IT" and saved["notes"] == "звонить утром"
    with pytest.raises(ValidationError, match="Отрасль: нужно число"):
        clients.update(store, actor, a["id"], {"extra": {**saved["extra"], "industry": "ИТ"}},
                       saved["version"])


def test_custom_fields_are_imported_by_their_labels_and_checked_by_type(store, actor,
                                                                        world) -> None:
    from clientplus_core.clients import import_mapping, importer, sheets

    csv = ("Наименование;Отрасль;Численность сотрудников\n"
           "ООО «Новый»;торговля;12\n"
           "ООО «Кривой»;Космос;5\n").encode()
    table = sheets.read_table(csv, "c.csv")
    custom = cf.list_fields(store, "client")
    mapping = import_mapping.guess_mapping(table.headers, custom)
    assert mapping == {"Наименование": "name", "Отрасль": "extra.industry",
                       "Численность сотрудников": "extra.headcount"}
    report = importer.run_import(store, actor, table, mapping)
    assert (report.created, report.error_rows) == (1, 1)
    assert "Отрасль: «Космос» нет в списке" in report.errors[0].message
    new = [c for c in clients.iter_clients(store, actor) if c["name"] == "ООО «Новый»"][0]
    assert new["extra"] == {"industry": "Торговля", "headcount": 12}


@pytest.mark.parametrize("by", [["industry"], ["headcount", "sector"], ["region", "owner"],
                                ["kind", "tag"]])
def test_the_sqlite_path_gives_the_same_segments_as_the_analytics_copy(store, actor, world,
                                                                        by) -> None:
    for who in (actor, world["m1"], world["m2"]):
        fast = segments.pivot(store, who, by, date_from="2026-01-01", date_to="2026-12-31")
        exact = segments.pivot(store, who, by, date_from="2026-01-01", date_to="2026-12-31",
                               engine="sqlite")
        assert sorted(table(fast)) == sorted(table(exact))


def test_the_cli_import_fills_client_custom_fields_by_label(store, actor, tmp_path) -> None:
    from clientplus_cli.main import main

    cf.enable_preset(store, actor, "client", "industry")
    label = next(fd.label_ru for fd in cf.list_fields(store, "client") if fd.key == "industry")
    csv = tmp_path / "clients.csv"
    csv.write_text(f"Наименование;{label.upper()}\nООО «Импорт»;IT\n", encoding="utf-8")
    assert main(["--data-dir", str(store.data_dir.root), "import", "clients", str(csv)]) == 0
    page = clients.list_clients(store, actor, clients.ClientFilter(query="Импорт"))
    assert [r["name"] for r in page.rows] == ["ООО «Импорт»"]
    assert clients.get(store, actor, page.rows[0]["id"])["extra"] == {"industry": "IT"}
