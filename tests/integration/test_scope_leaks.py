"""Another manager's client stays unseen everywhere (issue 11, section 2): the
duplicate warning of the card and the import, the consent register, the mailing's
preview and send. A manager may learn only that a client with this INN, phone or
e-mail is kept by another employee, and whom to ask — never its name or number."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.base.errors import AccessDenied, DuplicateWarning, NotFound, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, import_mapping, importer, sheets
from clientplus_core.outreach import addressbooks, consent, mailing, sending, smtp
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from tests.smtp_server import LoopbackSmtp

INN, PHONE, EMAIL = "7707083893", "+79161234567", "romb@romb.ru"
SECRET = "ООО «Тайный Ромб»"


@dataclass
class Team:
    admin: Actor
    head: Actor
    m1: Actor
    m2: Actor
    viewer: Actor
    secret: dict[str, Any]  # manager2's client


@pytest.fixture
def team(store: Store, actor: Actor) -> Team:
    head = users.create(store, "head", "Ирина Начальникова", "head")
    m1 = users.create(store, "manager1", "Менеджер Один", "manager")
    m2 = users.create(store, "manager2", "Менеджер Два", "manager")
    viewer = users.create(store, "viewer", "Наблюдатель", "viewer")
    secret = clients.create(store, m2, {"name": SECRET, "inn": INN, "phone": PHONE,
                                        "email": EMAIL})
    return Team(actor, head, m1, m2, viewer, secret)


def _says_nothing_of_the_secret(text: str, team: Team) -> None:
    assert "Тайный" not in text
    assert f"№{team.secret['id']}" not in text
    assert "Менеджер Два" not in text and "manager2" not in text


# --- the duplicate warning ----------------------------------------------------------------


@pytest.mark.parametrize("field, value, word", [("inn", INN, "ИНН"),
                                                ("phone", "8 916 123-45-67", "телефоном"),
                                                ("email", "ROMB@romb.ru", "e-mail")])
def test_a_manager_typing_another_managers_inn_phone_or_email_learns_only_who_to_ask(
        store: Store, team: Team, field: str, value: str, word: str) -> None:
    with pytest.raises(DuplicateWarning) as err:
        clients.create(store, team.m1, {"name": "Новый", field: value})
    text = str(err.value)
    _says_nothing_of_the_secret(text, team)
    assert f"Клиент с таким {word} уже есть" in text
    assert "закреплён за другим сотрудником" in text
    assert "Ирина Начальникова" in text  # the head to ask
    assert err.value.existing_ids == []  # no «Открыть существующего» link either


def test_without_a_head_the_administrator_is_the_one_to_ask(store: Store, team: Team) -> None:
    users_rows = users.list_users(store)
    head_id = next(u["id"] for u in users_rows if u["role"] == "head")
    with store.write() as conn:
        conn.execute("UPDATE users SET is_active = 0 WHERE id = ?", (head_id,))
        conn.execute("UPDATE users SET full_name = 'Админ Админович' WHERE id = ?",
                     (team.admin.id,))
    with pytest.raises(DuplicateWarning) as err:
        clients.create(store, team.m1, {"name": "Новый", "inn": INN})
    assert "Админ Админович" in str(err.value)


def test_a_client_the_manager_may_see_is_still_named_with_its_link(store: Store,
                                                                   team: Team) -> None:
    mine = clients.create(store, team.m1, {"name": "ООО «Мой Ромб»", "email": EMAIL},
                          allow_duplicate=True)
    with pytest.raises(DuplicateWarning) as err:
        clients.create(store, team.m1, {"name": "Новый", "email": EMAIL})
    text = str(err.value)
    assert f"«ООО «Мой Ромб»» (№{mine['id']}" in text
    assert err.value.existing_ids == [mine["id"]]
    _says_nothing_of_the_secret(text, team)
    assert "закреплён за другим сотрудником" in text
    # the owner and the head see the other card by name and number, as before
    for who in (team.m2, team.head):
        with pytest.raises(DuplicateWarning) as err:
            clients.create(store, who, {"name": "Новый", "inn": INN})
        assert SECRET in str(err.value) and err.value.existing_ids == [team.secret["id"]]


def test_saving_a_card_with_another_managers_inn_names_nobody(store: Store, team: Team) -> None:
    mine = clients.create(store, team.m1, {"name": "ООО «Мой»"})
    with pytest.raises(DuplicateWarning) as err:
        clients.update(store, team.m1, mine["id"], {"inn": INN}, mine["version"],
                       allow_duplicate=False)
    _says_nothing_of_the_secret(str(err.value), team)
    assert err.value.existing_ids == []
    assert clients.get(store, team.m1, mine["id"])["inn"] == ""  # nothing saved


def test_an_import_row_with_another_managers_inn_names_the_head_not_the_client(
        store: Store, team: Team) -> None:
    table = sheets.read_table(f"Наименование,ИНН\nЧужой,{INN}\n".encode(), "c.csv")
    report = importer.run_import(store, team.m1, table,
                                 import_mapping.guess_mapping(table.headers))
    assert report.created == 0 and report.updated == 0
    [error] = report.errors
    assert error.row == 2 and error.field == "inn"
    _says_nothing_of_the_secret(error.message, team)
    assert "закреплён за другим сотрудником" in error.message
    assert "Ирина Начальникова" in error.message
    assert clients.get(store, team.m2, team.secret["id"])["name"] == SECRET  # untouched


def test_an_import_updates_the_managers_own_card_when_another_manager_has_the_same_inn(
        store: Store, team: Team) -> None:
    mine = clients.create(store, team.m1, {"name": "ООО «Мой Ромб»", "inn": INN},
                          allow_duplicate=True)
    assert mine["id"] > team.secret["id"]  # the other card is older
    table = sheets.read_table(f"ИНН,Примечания\n{INN},обновлено импортом\n".encode(), "c.csv")
    report = importer.run_import(store, team.m1, table,
                                 import_mapping.guess_mapping(table.headers))
    assert (report.updated, report.errors) == (1, [])
    assert clients.get(store, team.m1, mine["id"])["notes"] == "обновлено импортом"
    assert clients.get(store, team.m2, team.secret["id"])["notes"] == ""


# --- the consent register -----------------------------------------------------------------


def test_a_manager_cannot_overwrite_the_consent_entry_of_another_managers_client(
        store: Store, team: Team) -> None:
    entry = consent.record(store, team.m2, {"channel": "email", "value": EMAIL,
                                            "note": "согласие на сайте"})
    assert entry["client_id"] == team.secret["id"]  # linked to manager2's client
    with pytest.raises(AccessDenied) as err:
        consent.record(store, team.m1, {"channel": "email", "value": EMAIL, "note": "моё"})
    _says_nothing_of_the_secret(str(err.value), team)
    after = consent.get(store, team.admin, entry["id"])
    assert after["note"] == "согласие на сайте" and after["recorded_by"] == team.m2.id
    saved, errors = consent.import_rows(store, team.m1, [
        {"channel": "email", "value": EMAIL, "status": "optout", "note": "импорт"}])
    assert saved == 0 and len(errors) == 1 and "строка 2" in errors[0]
    assert consent.get(store, team.admin, entry["id"])["status"] == "consent"


def test_a_new_entry_for_another_managers_address_is_refused_and_names_nothing(
        store: Store, team: Team) -> None:
    contacts.create(store, team.m2, team.secret["id"], {"name": "Пётр", "email": "p@romb.ru"})
    for value in (EMAIL, "p@romb.ru"):
        with pytest.raises(AccessDenied) as err:
            consent.record(store, team.m1, {"channel": "email", "value": value})
        _says_nothing_of_the_secret(str(err.value), team)
    assert consent.list_entries(store, team.admin) == []
    # an address of one's own client links to it; an unknown one stays unlinked
    mine = clients.create(store, team.m1, {"name": "Мой", "email": "me@romb.ru"})
    assert consent.record(store, team.m1, {"channel": "email",
                                           "value": "me@romb.ru"})["client_id"] == mine["id"]
    assert consent.record(store, team.m1, {"channel": "email",
                                           "value": "nobody@romb.ru"})["client_id"] is None


def test_an_opt_out_is_recorded_whoever_keeps_the_client(store: Store, team: Team) -> None:
    consent.record(store, team.m2, {"channel": "email", "value": EMAIL})
    consent.record_optout(store, team.m1, "email", EMAIL, "звонок")
    assert consent.list_entries(store, team.admin)[0]["status"] == "optout"


def test_linking_to_another_managers_contact_does_not_reveal_its_client(
        store: Store, team: Team) -> None:
    contacts.create(store, team.m2, team.secret["id"], {"name": "Иван"})
    contact = contacts.create(store, team.m2, team.secret["id"], {"name": "Пётр"})
    assert contact["id"] != team.secret["id"]
    with pytest.raises(NotFound) as err:
        consent.record(store, team.m1, {"channel": "email", "value": "x@romb.ru",
                                        "contact_id": contact["id"]})
    assert str(err.value) == f"Контакт №{contact['id']} не найден"
    _says_nothing_of_the_secret(str(err.value), team)


# --- the mailing: preview and send ------------------------------------------------------


@pytest.fixture
def foreign(store: Store, team: Team) -> dict[str, Any]:
    """Manager1's own client, and manager2's contact and sale (with a secret name)."""
    own = clients.create(store, team.m1, {"name": "Мой клиент", "email": "mine@romb.ru"})
    contact = contacts.create(store, team.m2, team.secret["id"], {"name": "Тайный Контакт",
                                                                  "email": "t@romb.ru"})
    sale = sales.create(store, team.m2, {"client_id": team.secret["id"], "title": "Тайная",
                                         "lines": [{"name": "Услуга", "qty": 1, "price": 777}]})
    mid = mailing.create(store, team.m1, {
        "subject": "Для {{ contact.name }}", "body_text": "Счёт {{ sale.number }}: {{ sale.total }}"
    })["id"]
    return {"own": own["id"], "contact": contact["id"], "sale": sale["id"], "mailing": mid,
            "sale_number": sale["number"]}


def _rec(foreign: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {"client_id": foreign["own"], "contact_id": None, "email": "mine@romb.ru",
            "name": "Мой", "sale_id": None} | over


def test_a_preview_refuses_another_managers_contact_or_sale(store: Store, team: Team,
                                                            foreign: dict[str, Any]) -> None:
    for over, message in ((dict(contact_id=foreign["contact"]),
                           f"Контакт №{foreign['contact']} не найден"),
                          (dict(sale_id=foreign["sale"]),
                           f"Продажа №{foreign['sale']} не найдена")):
        with pytest.raises(NotFound) as err:
            mailing.preview(store, team.m1, foreign["mailing"], _rec(foreign, **over))
        assert str(err.value) == message
    shown = mailing.preview(store, team.m1, foreign["mailing"], _rec(foreign))
    assert "Тайный" not in shown["subject"] and foreign["sale_number"] not in shown["text"]


def test_a_send_skips_a_recipient_with_another_managers_contact(
        store: Store, team: Team, foreign: dict[str, Any]) -> None:
    with LoopbackSmtp() as srv:
        counts = sending.send(store, team.m1, foreign["mailing"],
                              config=smtp.config_from(srv.settings(), password=""),
                              recipients_override=[mailing.Target(**_rec(
                                  foreign, contact_id=foreign["contact"]))])
        assert srv.messages == []
    assert counts["skipped"] == 1 and counts["sent"] == 0
    [row] = mailing.log(store, team.m1, foreign["mailing"])
    assert "недоступны отправителю" in row["detail"]


def test_a_task_on_another_managers_sale_reads_as_an_unknown_sale(
        store: Store, team: Team, foreign: dict[str, Any]) -> None:
    from clientplus_core.organizer import tasks

    for data in ({"sale_id": foreign["sale"]},
                 {"sale_id": foreign["sale"], "client_id": foreign["own"]}):
        with pytest.raises(ValidationError) as err:
            tasks.create(store, team.m1, {"title": "Позвонить", "due_date": "2030-01-10",
                                          **data})
        assert err.value.errors == {"sale_id": f"Продажа: продажа №{foreign['sale']} не найдена"}
    assert tasks.list_tasks(store, team.admin) == []


# --- links, books -------------------------------------------------------------------------


def test_a_viewer_cannot_delete_a_link(store: Store, team: Team) -> None:
    from clientplus_core.clients import files

    link = files.add_link(store, team.m2, team.secret["id"], "https://disk.yandex.ru/d")
    with pytest.raises(AccessDenied):
        files.delete_link(store, team.viewer, link["id"])
    with pytest.raises(NotFound):
        files.delete_link(store, team.m1, link["id"])
    assert [r["id"] for r in files.list_links(store, team.m2, team.secret["id"])] == [link["id"]]


def test_a_book_a_mailing_uses_is_not_deleted_but_explained(store: Store, team: Team) -> None:
    book = addressbooks.create_book(store, team.m2, "Книга", {"all_clients": True})
    mid = mailing.create(store, team.m2, {"subject": "Т", "body_text": "т",
                                          "book_id": book["id"]})["id"]
    with pytest.raises(ValidationError) as err:
        addressbooks.delete_book(store, team.m2, book["id"])
    assert "использует рассылок: 1" in err.value.errors["book"]
    assert addressbooks.get_book(store, team.m2, book["id"])["name"] == "Книга"
    mailing.delete(store, team.m2, mid)
    addressbooks.delete_book(store, team.m2, book["id"])
    with pytest.raises(NotFound):
        addressbooks.get_book(store, team.m2, book["id"])
