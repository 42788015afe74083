"""The consent register page through app.py with AppTest: the table and its
filters, adding an entry, a bad value named, editing, deleting with a
confirmation, and a manager's view."""

from __future__ import annotations

from clientplus_core.clients import cards as clients
from clientplus_core.outreach import consent

from .helpers import press, shown

PAGE = "pages/consent.py"


def _table(at):
    return next(d.value for d in at.dataframe if "Адрес / телефон" in d.value.columns)


def test_the_register_lists_entries_with_filters_and_an_excel_download(open_app, store, actor):
    consent.record(store, actor, {"channel": "email", "value": "a@firm.ru", "source": "письмо"})
    consent.record_optout(store, actor, "phone", "+79161234567", "звонок")
    at = open_app(PAGE)
    assert "Согласия и отписки" in shown(at)
    table = _table(at)
    assert set(table["Адрес / телефон"]) == {"a@firm.ru", "+79161234567"}
    assert "Записей: 2, из них отказов: 1" in shown(at)
    assert any(b.proto.label == "Скачать Excel" for b in at.get("download_button"))
    at.selectbox(key="consent.f.st").select("optout").run()
    assert list(_table(at)["Адрес / телефон"]) == ["+79161234567"]
    assert list(_table(at)["Статус"]) == ["Отказ"]


def test_adding_an_entry_and_a_bad_phone_is_named(open_app, store, actor):
    at = open_app(PAGE)
    at.selectbox(key="consent.add.channel").select("phone")
    at.text_input(key="consent.add.value").input("12-34")
    press(at, "Добавить")
    assert any("Адрес / телефон" in e.value for e in at.error)
    assert consent.list_entries(store, actor) == []
    at.selectbox(key="consent.add.channel").select("phone")
    at.selectbox(key="consent.add.status").select("optout")
    at.text_input(key="consent.add.value").input("8 916 123-45-67")
    press(at, "Добавить")
    got = consent.list_entries(store, actor)
    assert [(e["channel"], e["value"], e["status"]) for e in got] == [
        ("phone", "+79161234567", "optout")]


def test_editing_and_deleting_with_a_confirmation(open_app, store, actor):
    e = consent.record(store, actor, {"channel": "email", "value": "b@firm.ru"})
    at = open_app(PAGE)
    at.selectbox(key="consent.pick").select(e["id"]).run()
    at.selectbox(key="consent.edit.status").select("optout")
    at.text_input(key="consent.edit.note").input("попросил не писать")
    press(at, "Сохранить")
    got = consent.get(store, actor, e["id"])
    assert (got["status"], got["note"]) == ("optout", "попросил не писать")
    at.selectbox(key="consent.pick").select(e["id"]).run()
    assert consent.list_entries(store, actor)      # not deleted before confirming
    at.button(key="consent.delete").click().run()
    assert not at.exception
    assert consent.list_entries(store, actor) == []
    assert "удалена" in shown(at)


def test_a_manager_sees_only_entries_of_their_clients_and_unlinked_ones(open_app, store, actor,
                                                                         team):
    mine = clients.create(store, team["m1"], {"name": "ООО «Моё»"})
    theirs = clients.create(store, team["m2"], {"name": "ООО «Чужое»"})
    consent.record(store, actor, {"channel": "email", "value": "mine@x.ru",
                                  "client_id": mine["id"]})
    consent.record(store, actor, {"channel": "email", "value": "theirs@x.ru",
                                  "client_id": theirs["id"]})
    consent.record(store, actor, {"channel": "email", "value": "free@x.ru"})
    at = open_app(PAGE, actor=team["m1"])
    assert set(_table(at)["Адрес / телефон"]) == {"mine@x.ru", "free@x.ru"}
