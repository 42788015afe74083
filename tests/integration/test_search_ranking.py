"""Issue 13, point 4: finding the right client. A name or INN match comes before
clients that merely bank at «Сбербанк», in the search page, the registry's text
filter and the client pickers (which list the registry's first page)."""

from __future__ import annotations

import pytest

from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.search import index as search
from tests.conftest import VALID_INNS

SBER = "ПАО Сбербанк"


@pytest.fixture
def banked(store, actor, make_client):
    """Twelve clients banking at Sberbank, created first (lower ids, earlier rowids),
    then the bank itself, a name that only starts with the word, one that holds it
    inside, and a client whose contact person works at Sberbank."""
    for n in range(12):
        make_client(name=f"ООО «Альфа {n:02d}»", bank_name=SBER,
                    notes="Расчётный счёт в Сбербанке")
    other = make_client(name="ООО «Вектор»")
    contacts.create(store, actor, other["id"], {"name": "Петров Пётр",
                                                "post": "менеджер Сбербанка"})
    inside = make_client(name="ООО «Лизинг-Сбербанк Сервис»")
    prefix = make_client(name="Сбербанк Страхование")
    bank = make_client(name=SBER, inn="7707083893")
    return {"bank": bank["id"], "prefix": prefix["id"], "inside": inside["id"],
            "contact": other["id"]}


def names(rows):
    return [r["name"] for r in rows]


def test_the_search_page_puts_the_bank_itself_first(store, actor, banked):
    hits = search.search(store, actor, "Сбербанк", limit=50)
    titles = [h.title for h in hits]
    assert titles[:3] == [SBER, "Сбербанк Страхование", "ООО «Лизинг-Сбербанк Сервис»"]
    # then the contact person, then the clients that only bank there
    assert hits[3].entity == "contact" and hits[3].client_id == banked["contact"]
    assert all(t.startswith("ООО «Альфа") for t in titles[4:])


def test_the_registry_text_filter_ranks_the_same_way(store, actor, banked):
    page = clients.list_clients(store, actor, ClientFilter(query="Сбербанк"), page_size=5)
    assert page.total == 16
    assert [r["id"] for r in page.rows[:4]] == [banked["bank"], banked["prefix"],
                                                banked["inside"], banked["contact"]]
    assert page.rows[4]["name"] == "ООО «Альфа 00»"


def test_the_picker_shows_the_bank_first_even_among_many(store, actor, banked, make_client):
    # the picker lists the registry's first page of 50: more than 50 weaker matches
    for n in range(50):
        make_client(name=f"ООО «Бета {n:02d}»", bank_name=SBER)
    rows = clients.list_clients(store, actor, ClientFilter(query="сбербанк"), page=1,
                                page_size=50).rows
    assert names(rows)[:3] == [SBER, "Сбербанк Страхование", "ООО «Лизинг-Сбербанк Сервис»"]


def test_an_exact_inn_comes_before_an_inn_inside_other_text(store, actor, make_client):
    inn = VALID_INNS[1]
    make_client(name="ООО «Первый»", notes=f"Платили за нас с ИНН {inn}")
    wanted = make_client(name="ООО «Второй»", inn=inn)
    assert search.search(store, actor, inn)[0].client_id == wanted["id"]
    rows = clients.list_clients(store, actor, ClientFilter(query=inn)).rows
    assert [r["id"] for r in rows] == [wanted["id"], wanted["id"] - 1]


def test_exact_then_prefix_then_substring_of_a_name(store, actor, make_client):
    for name in ("Мир Ромашка", "Ромашка-Сервис", "ООО «Ромашка»"):
        make_client(name=name)
    expected = ["ООО «Ромашка»", "Ромашка-Сервис", "Мир Ромашка"]
    assert [h.title for h in search.search(store, actor, "ромашка")] == expected
    assert names(clients.list_clients(store, actor, ClientFilter(query="ромашка")).rows) == \
        expected


def test_an_explicit_sort_still_sorts_by_it(store, actor, banked):
    rows = clients.list_clients(store, actor, ClientFilter(query="Сбербанк", sort="name")).rows
    assert names(rows) == sorted(names(rows), key=str.casefold)


def test_a_manager_sees_only_their_own_ranked_matches(store, actor, banked, make_client):
    from clientplus_core.team import users

    manager = users.create(store, "m1", "Менеджер", "manager", "m1@example.ru")
    mine = make_client(name="ООО «Сбербанк Мой»", actor=manager)
    assert [h.client_id for h in search.search(store, manager, "Сбербанк")] == [mine["id"]]
    rows = clients.list_clients(store, manager, ClientFilter(query="Сбербанк")).rows
    assert [r["id"] for r in rows] == [mine["id"]]
