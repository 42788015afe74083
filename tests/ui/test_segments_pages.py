"""Custom fields in settings and on the card, the segmentation page and the report
builder, driven with AppTest through app.py."""

from __future__ import annotations

from clientplus_core import sales
from clientplus_core.analytics import report_builder as rb
from clientplus_core.analytics import segments
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf

from .helpers import press, shown


def frame_with(at, *columns: str):
    """The first table on the page that has all these columns (as a pandas frame)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def test_a_field_defined_in_settings_appears_on_the_card_and_is_saved(open_app, store, actor):
    at = open_app("pages/settings.py")
    at.selectbox(key="cfs.type").select("select")
    at.text_input(key="cfs.key").input("vip")
    at.text_input(key="cfs.label_ru").input("Уровень VIP <b>")
    at.text_area(key="cfs.options").input("Золото\nСеребро")
    press(at, "Сохранить поле")
    assert [f.key for f in cf.list_fields(store, "client")] == ["vip"]
    at.checkbox(key="cfs.preset.client.headcount").check().run()
    assert not at.exception
    assert {f.key for f in cf.list_fields(store, "client")} == {"vip", "headcount"}

    c = clients.create(store, actor, {"name": "ООО «Поле»"})
    at = open_app("pages/client.py", id=c["id"])
    vip = at.selectbox(key=f"cf.{c['id']}.0.x.vip")
    assert vip.label == "Уровень VIP \\<b\\>"  # markdown-escaped, never HTML
    vip.select("Серебро")
    at.number_input(key=f"cf.{c['id']}.0.x.headcount").set_value(42)
    press(at, "Сохранить")
    assert clients.get(store, actor, c["id"])["extra"] == {"vip": "Серебро", "headcount": 42}
    assert "Сохранено" in shown(at)


def test_a_required_custom_field_is_named_when_left_empty(open_app, store, actor):
    cf.define(store, actor, {"entity": "client", "key": "sector", "label_ru": "Сектор",
                             "type": "select", "options": ["А", "Б"], "required": True})
    at = open_app("pages/client.py", new=1)
    at.text_input(key="cf.new.0.name").input("ООО «Без сектора»")
    press(at, "Сохранить")
    assert any("Сектор: обязательное поле" in e.value for e in at.error)
    assert clients.list_clients(store, actor).total == 0


def _two_field_world(store, actor) -> None:
    cf.enable_preset(store, actor, "client", "industry")
    cf.enable_preset(store, actor, "client", "sector")
    for name, ind, sec, amount in (("А", "IT", "Бюджетный", 1000), ("Б", "IT", "Коммерческий", 0),
                                   ("В", "Финансы", "Бюджетный", 500)):
        c = clients.create(store, actor, {"name": name, "extra": {"industry": ind,
                                                                  "sector": sec}})
        if amount:
            s = sales.create(store, actor, {"client_id": c["id"], "lines": [
                {"name": "Услуга", "qty": 1, "price": amount}]})
            sales.add_payment(store, actor, s["id"], amount)


def test_segmentation_by_two_custom_fields_and_saving_a_segment(open_app, store, actor):
    _two_field_world(store, actor)
    at = open_app("pages/segments.py")
    at.selectbox(key="seg.by1.ru").select("industry").run()
    at.selectbox(key="seg.by2.ru").select("sector").run()
    assert not at.exception
    table = frame_with(at, "Отрасль", "Сектор", "Клиентов")
    rows = {(r["Отрасль"], r["Сектор"]): (r["Клиентов"], r["Выручка, ₽"])
            for r in table.to_dict("records")}
    assert rows == {("IT", "Бюджетный"): ("1", "1 000,00"), ("IT", "Коммерческий"): ("1", "0,00"),
                    ("Финансы", "Бюджетный"): ("1", "500,00")}
    cross = frame_with(at, "Отрасль", "Бюджетный", "Коммерческий")
    assert cross.to_dict("records") == [
        {"Отрасль": "IT", "Бюджетный": "1", "Коммерческий": "1"},
        {"Отрасль": "Финансы", "Бюджетный": "1", "Коммерческий": "0"}]
    at.multiselect(key="seg.pick.sector").select("Бюджетный")
    at.text_input(key="seg.name").input("Бюджетники")
    press(at, "Сохранить сегмент")
    assert "клиентов 2" in shown(at)
    assert segments.list_segments(store, actor)[0]["where"] == {"sector": ["Бюджетный"]}


def test_the_builder_groups_sales_by_a_custom_field_and_saves_the_report(open_app, store, actor):
    _two_field_world(store, actor)
    at = open_app("pages/builder.py")
    at.selectbox(key="rb.f.entity").select("sales").run()
    at.multiselect(key="rb.f.dims").select("client.industry")
    at.multiselect(key="rb.f.measures").select("sum:total")
    at.selectbox(key="rb.f.field0").select("client")
    at.selectbox(key="rb.f.op0").select("!=")
    at.text_input(key="rb.f.value0").input("'; DROP TABLE clients; --")
    press(at, "Построить")
    table = frame_with(at, "Отрасль", "Сумма: Сумма продажи")
    assert [(r["Отрасль"], r["Количество"], r["Сумма: Сумма продажи"])
            for r in table.to_dict("records")] == [("IT", "1", "1 000,00"),
                                                   ("Финансы", "1", "500,00")]
    at.text_input(key="rb.save.name").input("Выручка по отраслям")
    press(at, "Сохранить отчёт")
    assert rb.load(store, actor, "Выручка по отраслям").dimensions == ["client.industry"]
    assert clients.list_clients(store, actor).total == 3


def test_the_builder_offers_no_sum_or_average_of_a_record_number(open_app, store, actor):
    at = open_app("pages/builder.py")
    at.selectbox(key="rb.f.entity").select("sales").run()
    offered = list(at.multiselect(key="rb.f.measures").options)
    assert "Сумма: Сумма продажи" in offered and "Среднее: Оплачено" in offered
    assert not [o for o in offered if "Продажа №" in o and not o.startswith("Уникальных")]
    assert "Уникальных: Продажа №" in offered


def test_the_registry_filters_by_a_custom_field_and_shows_it_as_a_column(open_app, store,
                                                                         actor):
    _two_field_world(store, actor)
    at = open_app("pages/clients.py")
    at.selectbox(key="reg.cf.sector.ru").select("Бюджетный").run()
    at.multiselect(key="reg.cf.columns").select("industry").run()
    assert not at.exception
    table = frame_with(at, "Наименование", "Отрасль")
    assert sorted(zip(table["Наименование"], table["Отрасль"], strict=True)) == [
        ("А", "IT"), ("В", "Финансы")]


def test_the_import_wizard_maps_a_column_to_a_custom_field(open_app, store, actor):
    cf.enable_preset(store, actor, "client", "industry")
    data = "Наименование;Отрасль\nООО «Импорт»;IT\n".encode()
    at = open_app("pages/import.py", state={"import.upload": ("c.csv", data)})
    boxes = {sb.label: sb for sb in at.selectbox}
    assert boxes["Отрасль"].value == "extra.industry"
    at.button(key="import.run").click().run()
    assert not at.exception
    saved = [c for c in clients.iter_clients(store, actor) if c["name"] == "ООО «Импорт»"]
    assert saved[0]["extra"] == {"industry": "IT"}
