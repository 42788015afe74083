"""The catalogue of goods and services: CRUD, rights, Excel round trip, bad rows."""

from __future__ import annotations

import io
from decimal import Decimal as D

import pytest

from clientplus_core import sales
from clientplus_core.base.errors import AccessDenied, ConflictError, ValidationError
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.sales import catalogue
from clientplus_core.team import users as users_mod


def test_an_item_is_created_read_updated_and_listed(store, actor):
    item = catalogue.create(store, actor, {"name": "Кофе в зёрнах", "sku": "K-1", "unit": "кг",
                                           "price": "1 890,50", "vat_code": "10 %",
                                           "kind": "товар"})
    assert (item["price"], item["price_kop"], item["vat_code"], item["kind"]) == (
        D("1890.50"), 189050, "10", "goods")
    changed = catalogue.update(store, actor, item["id"], {"price": 2000}, item["version"])
    assert changed["price"] == D("2000.00") and changed["version"] == 2
    with pytest.raises(ConflictError):
        catalogue.update(store, actor, item["id"], {"price": 1}, item["version"])
    assert [i["name"] for i in catalogue.list_items(store, actor, "зёрн")] == ["Кофе в зёрнах"]
    assert catalogue.list_items(store, actor, "K-1")[0]["id"] == item["id"]


@pytest.mark.parametrize("data, key", [
    ({"name": ""}, "name"),
    ({"name": "x", "price": -1}, "price"),
    ({"name": "x", "price": "10.001"}, "price"),
    ({"name": "x", "vat_code": "18"}, "vat_code"),
    ({"name": "x", "kind": "дом"}, "kind"),
])
def test_a_bad_item_is_refused_naming_the_field(store, actor, data, key):
    with pytest.raises(ValidationError) as exc:
        catalogue.create(store, actor, data)
    assert key in exc.value.errors


def test_a_sku_is_unique(store, actor):
    catalogue.create(store, actor, {"name": "Стол", "sku": "T-1"})
    with pytest.raises(ValidationError, match="уже есть"):
        catalogue.create(store, actor, {"name": "Стул", "sku": "t-1"})


def test_only_admin_and_head_change_the_catalogue_everyone_reads_it(store, actor):
    manager = users_mod.create(store, "manager1", "М", "manager")
    with pytest.raises(AccessDenied):
        catalogue.create(store, manager, {"name": "Стол"})
    catalogue.create(store, actor, {"name": "Стол"})
    assert len(catalogue.list_items(store, manager)) == 1


def test_an_item_used_in_a_sale_is_deactivated_not_deleted(store, actor, make_client):
    used = catalogue.create(store, actor, {"name": "Стол", "price": 100})
    unused = catalogue.create(store, actor, {"name": "Стул", "price": 50})
    c = make_client()
    sales.create(store, actor, {"client_id": c["id"], "lines": [{"catalogue_id": used["id"]}]})
    assert catalogue.delete(store, actor, used["id"]) == "deactivated"
    assert catalogue.delete(store, actor, unused["id"]) == "deleted"
    assert catalogue.list_items(store, actor) == []
    assert [i["is_active"] for i in catalogue.list_items(store, actor, active_only=False)] == [0]


def test_the_excel_export_imports_back_unchanged(store, actor, tmp_path):
    catalogue.create(store, actor, {"name": "Кофе", "sku": "K-1", "unit": "кг",
                                    "price": "1890.5", "vat_code": "10"})
    catalogue.create(store, actor, {"name": "Обучение", "unit": "час", "price": 4000,
                                    "vat_code": "none", "kind": "service"})
    data = catalogue.export_xlsx(store, actor)
    before = catalogue.list_items(store, actor, active_only=False)
    result = catalogue.import_table(store, actor, data, "каталог.xlsx")
    assert result == {"created": 0, "updated": 0, "rows": 2}
    after = catalogue.list_items(store, actor, active_only=False)
    assert [(i["name"], i["price_kop"], i["vat_code"], i["kind"]) for i in after] == \
        [(i["name"], i["price_kop"], i["vat_code"], i["kind"]) for i in before]


def test_an_import_creates_and_updates_by_sku_or_name(store, actor):
    catalogue.create(store, actor, {"name": "Кофе", "sku": "K-1", "price": 100})
    table = rows_to_xlsx(["Наименование", "Артикул", "Ед.", "Цена", "НДС", "Вид"], [
        ["Кофе арабика", "K-1", "кг", 150.5, "10 %", "Товар"],
        ["Доставка", "", "усл", "1 500", "22%", "услуга"]])
    assert catalogue.import_table(store, actor, table, "c.xlsx") == {
        "created": 1, "updated": 1, "rows": 2}
    items = {i["name"]: i for i in catalogue.list_items(store, actor)}
    assert items["Кофе арабика"]["price"] == D("150.50")
    assert items["Доставка"]["kind"] == "service" and items["Доставка"]["vat_code"] == "22"


def test_an_import_with_a_bad_row_saves_nothing_and_names_the_row(store, actor):
    csv = "Наименование;Цена;НДС\nСтол;100;22\n;50;22\nСтул;-5;22\nШкаф;10;18\n".encode()
    with pytest.raises(ValidationError) as exc:
        catalogue.import_table(store, actor, csv, "c.csv")
    assert set(exc.value.errors) == {"row 3: name", "row 4: price", "row 5: vat_code"}
    assert exc.value.errors["row 4: price"].startswith("строка 4:")
    assert catalogue.list_items(store, actor) == []
    with pytest.raises(ValidationError, match="Наименование"):
        catalogue.import_table(store, actor, "Цена\n1\n".encode(), "c.csv")


def test_a_dry_run_import_reports_without_saving(store, actor):
    csv = io.BytesIO("Наименование;Цена\nСтол;100\n".encode()).getvalue()
    assert catalogue.import_table(store, actor, csv, "c.csv", dry_run=True)["created"] == 1
    assert catalogue.list_items(store, actor) == []


def test_vat_rates_are_data_valid_by_date_and_tax_system(store):
    codes = [r["code"] for r in catalogue.vat_rates(store, "2025-06-01", "osn")]
    assert codes == ["20", "10", "0", "none"]
    codes = [r["code"] for r in catalogue.vat_rates(store, "2026-06-01", "usn")]
    assert codes == ["22", "10", "0", "none", "5", "7"]
    assert catalogue.default_vat_code("2026-01-01") == "22"
    assert catalogue.default_vat_code("2025-12-31") == "20"
    assert catalogue.default_vat_code("2026-05-01", "usn") == "none"
