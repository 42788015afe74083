"""Clients through the core against a real SQLite file."""

from __future__ import annotations

import io

import pytest

from clientplus_core.base.errors import ConflictError, DuplicateWarning, NotFound, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_core.search import index as search


def test_a_client_is_created_with_normalised_phone_and_tags(store, actor):
    c = clients.create(store, actor, {"name": "ООО «Ромашка»", "inn": "7707083893",
                                      "phone": "8 916 123-45-67", "tags": "VIP, опт, VIP"})
    assert c["phone"] == "+79161234567"
    assert c["tags"] == ["VIP", "опт"]
    assert c["owner_id"] == actor.id
    assert clients.get(store, actor, c["id"])["name"] == "ООО «Ромашка»"


def test_a_wrong_checksum_names_the_field_and_saves_nothing(store, actor):
    with pytest.raises(ValidationError) as err:
        clients.create(store, actor, {"name": "X", "inn": "7707083894", "kpp": "12"})
    assert set(err.value.errors) == {"inn", "kpp"}
    assert "ИНН" in err.value.errors["inn"]
    assert clients.list_clients(store, actor).total == 0


def test_a_ten_thousand_character_name_is_refused_with_a_message(store, actor):
    with pytest.raises(ValidationError) as err:
        clients.create(store, actor, {"name": "Я" * 10_000})
    assert "не длиннее" in err.value.errors["name"]


def test_emoji_and_quotes_survive_a_round_trip(store, actor):
    name = 'ООО "Кавычки" «ёлки» 🎄 \'x\' <b>'
    c = clients.create(store, actor, {"name": name, "notes": "😀 & <script>"})
    got = clients.get(store, actor, c["id"])
    assert got["name"] == name and got["notes"] == "😀 & <script>"


def test_an_existing_inn_phone_or_email_raises_a_duplicate_warning(store, actor, make_client):
    first = make_client(inn="7707083893", phone="+79161234567", email="a@b.ru")
    for data in ({"inn": "7707083893"}, {"phone": "8-916-123-45-67"}, {"email": "A@b.ru"}):
        with pytest.raises(DuplicateWarning) as err:
            clients.create(store, actor, {"name": "Новый", **data})
        assert err.value.existing_ids == [first["id"]]
    assert clients.create(store, actor, {"name": "Новый", "inn": "7707083893"},
                          allow_duplicate=True)["id"] != first["id"]


def test_a_contacts_phone_counts_as_a_duplicate_too(store, actor, make_client):
    c = make_client()
    contacts.create(store, actor, c["id"], {"name": "Иван", "mobile": "+79031112233"})
    with pytest.raises(DuplicateWarning):
        clients.create(store, actor, {"name": "Другой", "phone": "89031112233"})


def test_the_second_of_two_concurrent_saves_is_refused_with_who_and_what(store, actor,
                                                                        make_client):
    c = make_client(notes="старое")
    clients.update(store, actor, c["id"], {"notes": "первый"}, c["version"])
    with pytest.raises(ConflictError) as err:
        clients.update(store, actor, c["id"], {"notes": "второй"}, c["version"], base=c)
    assert err.value.changed_by == actor.login
    assert err.value.changes["notes"] == ("старое", "первый")
    assert clients.get(store, actor, c["id"])["notes"] == "первый"


def test_an_update_is_recorded_in_history_with_a_field_diff(store, actor, make_client):
    c = make_client(notes="a")
    clients.update(store, actor, c["id"], {"notes": "b", "website": "example.ru"}, c["version"])
    h = clients.history(store, actor, c["id"])
    assert h[0]["action"] == "update"
    assert h[0]["diff"]["notes"] == ["a", "b"]
    assert h[0]["diff"]["website"] == ["", "https://example.ru"]
    assert h[-1]["action"] == "create"


def test_registry_filters_sorts_and_pages(store, actor, make_client):
    for i in range(7):
        make_client(name=f"Альфа {i}", kind="legal", tags=["опт"] if i % 2 else [])
    make_client(name="ИП Петров", kind="ip")
    page = clients.list_clients(store, actor, clients.ClientFilter(kind="legal"), 1, 5)
    assert page.total == 7 and len(page.rows) == 5 and page.pages == 2
    assert [r["name"] for r in page.rows] == [f"Альфа {i}" for i in range(5)]
    tagged = clients.list_clients(store, actor, clients.ClientFilter(tag="опт"))
    assert tagged.total == 3
    found = clients.list_clients(store, actor, clients.ClientFilter(query="петр"))
    assert [r["name"] for r in found.rows] == ["ИП Петров"]
    desc = clients.list_clients(store, actor, clients.ClientFilter(sort="name", descending=True))
    assert desc.rows[0]["name"] == "ИП Петров"


def test_a_deleted_client_leaves_lists_and_search_and_can_be_restored(store, actor, make_client):
    c = make_client(name="Удаляемый")
    clients.delete(store, actor, c["id"])
    assert clients.list_clients(store, actor).total == 0
    assert search.search(store, actor, "Удаляем") == []
    with pytest.raises(NotFound):
        clients.get(store, actor, c["id"])
    clients.restore(store, actor, c["id"])
    assert [h.id for h in search.search(store, actor, "Удаляем")] == [c["id"]]


def test_merge_moves_contacts_files_links_and_history_and_loses_nothing(store, actor,
                                                                       make_client):
    keep = make_client(name="Ромашка", inn="7707083893", tags=["a"])
    other = make_client(name="Ромашка (дубль)", phone="+79161234567", notes="важно",
                        tags=["b"])
    contacts.create(store, actor, other["id"], {"name": "Пётр"})
    files.upload(store, actor, other["id"], "kp.txt", io.BytesIO("слово-маркер".encode()))
    assert text_jobs.wait(store, 60)
    files.add_link(store, actor, other["id"], "disk.yandex.ru/d/abc", "Папка")
    merged = clients.merge(store, actor, keep["id"], other["id"])
    assert merged["phone"] == "+79161234567" and "важно" in merged["notes"]
    assert merged["tags"] == ["a", "b"]
    assert [c["name"] for c in contacts.list_for_client(store, actor, keep["id"])] == ["Пётр"]
    assert [f["name"] for f in files.list_for_client(store, actor, keep["id"])] == ["kp.txt"]
    assert len(files.list_links(store, actor, keep["id"])) == 1
    assert {h.client_id for h in search.search(store, actor, "слово-маркер")} == {keep["id"]}
    actions = [h["action"] for h in clients.history(store, actor, keep["id"])]
    assert "merge" in actions and actions.count("create") >= 2
    with pytest.raises(NotFound):
        clients.get(store, actor, other["id"])
