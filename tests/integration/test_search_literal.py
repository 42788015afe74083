"""Issue 11: ``%`` and ``_`` typed into a search box are the characters themselves,
never wildcards, in every search that compares text with LIKE."""

from __future__ import annotations

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.outreach import consent
from clientplus_core.sales import SaleFilter, catalogue
from clientplus_core.search import index as search
from clientplus_core.team import audit


def test_the_catalogue_search_takes_percent_and_underscore_literally(store, actor):
    for name, sku in (("Скидка 50% на монтаж", "S-1"), ("Кабель 500 м", "K-2"),
                      ("Переходник", "a_b"), ("Разъём", "axb")):
        catalogue.create(store, actor, {"name": name, "sku": sku, "price": "10"})
    assert [i["name"] for i in catalogue.list_items(store, actor, "50%")] == [
        "Скидка 50% на монтаж"]
    assert [i["sku"] for i in catalogue.list_items(store, actor, "a_b")] == ["a_b"]
    assert catalogue.list_items(store, actor, "%") == catalogue.list_items(store, actor, "50%")


def test_the_global_search_and_the_registry_take_a_short_percent_literally(store, actor,
                                                                           make_client):
    make_client(name="Скидка 5%")
    make_client(name="Компания 55")
    make_client(name="ИП a_")
    make_client(name="ИП ab")
    assert [h.title for h in search.search(store, actor, "5%")] == ["Скидка 5%"]
    assert [h.title for h in search.search(store, actor, "a_")] == ["ИП a_"]
    found = clients.list_clients(store, actor, ClientFilter(query="5%")).rows
    assert [c["name"] for c in found] == ["Скидка 5%"]


def test_the_sales_register_takes_a_short_percent_literally(store, actor, make_client):
    c = make_client()
    for title in ("НДС 5%", "Поставка 15 шт"):
        sales.create(store, actor, {"client_id": c["id"], "title": title, "lines": [
            {"name": "Услуга", "qty": 1, "price": "100", "vat_code": "none"}]})
    rows = sales.list_sales(store, actor, SaleFilter(query="5%")).rows
    assert [r["title"] for r in rows] == ["НДС 5%"]


def test_the_consent_register_and_the_audit_search_take_them_literally(store, actor):
    consent.record(store, actor, {"channel": "email", "value": "a_b@example.ru",
                                  "note": "скидка 50%"})
    consent.record(store, actor, {"channel": "email", "value": "axb@example.ru",
                                  "note": "пришёл на выставку 500"})
    assert [e["value"] for e in consent.list_entries(store, actor, text="a_b")] == [
        "a_b@example.ru"]
    assert [e["value"] for e in consent.list_entries(store, actor, text="50%")] == [
        "a_b@example.ru"]
    logged = audit.query(store, actor, text="a_b")
    assert logged and all("axb" not in e["summary"] + str(e["diff"]) for e in logged)
