"""Issue 11: bidirectional and other control characters never reach a stored file
name or a shown name (whatever way it was typed or uploaded)."""

from __future__ import annotations

import io

from clientplus_core import sales
from clientplus_core.clients import contacts, files
from clientplus_core.outreach import addressbooks, mailing
from clientplus_core.records import custom_fields as cf
from clientplus_core.sales import attachments
from clientplus_core.team import auth, users

RLO, LRE, PDF, LRI, PDI = "\u202e", "\u202a", "\u202c", "\u2066", "\u2069"
DISGUISED = f"invoice{RLO}fdp.exe"  # shown as «invoiceexe.pdf»


def _no_controls(text: str) -> bool:
    return not any(ch in text for ch in (RLO, LRE, PDF, LRI, PDI, "\u200f", "\x07"))


def test_a_file_uploaded_to_a_card_keeps_its_name_without_the_override(store, actor,
                                                                       make_client):
    c = make_client()
    row = files.upload(store, actor, c["id"], DISGUISED, io.BytesIO(b"MZ not really"))
    assert row["name"] == "invoicefdp.exe"
    assert [f["name"] for f in files.list_for_client(store, actor, c["id"])] == [
        "invoicefdp.exe"]


def test_a_file_attached_to_a_sale_or_a_mailing_keeps_its_name_without_controls(
        store, actor, make_client):
    c = make_client()
    s = sales.create(store, actor, {"client_id": c["id"], "title": "Поставка", "lines": [
        {"name": "Услуга", "qty": 1, "price": "100", "vat_code": "none"}]})
    on_sale = attachments.attach_file(store, actor, s["id"], f"акт{LRI}.docx{PDI}\x07", b"x")
    assert on_sale["name"] == "акт.docx"
    m = mailing.create(store, actor, {"subject": "Прайс", "body_text": "Добрый день"})
    att = mailing.add_attachment(store, actor, m["id"], DISGUISED, b"y")
    assert att["name"] == "invoicefdp.exe"
    assert [a["name"] for a in mailing.get(store, actor, m["id"])["attachments"]] == [
        "invoicefdp.exe"]


def test_typed_names_of_clients_contacts_and_users_lose_their_controls(store, actor,
                                                                       make_client):
    c = make_client(name=f"ООО {RLO}«Ромашка»{PDF}")
    assert c["name"] == "ООО «Ромашка»"
    ct = contacts.create(store, actor, c["id"], {"name": f"{LRE}Иванов Иван\u200f"})
    assert ct["name"] == "Иванов Иван"
    u = auth.add_user(store, actor, f"petrov{RLO}", "password-123", "manager",
                      f"Пётр {LRI}Петров{PDI}")
    assert (u.login, u.full_name) == ("petrov", "Пётр Петров")
    shown = {x["login"]: x["full_name"] for x in users.list_users(store)}
    assert shown["petrov"] == "Пётр Петров"


def test_labels_and_list_names_lose_their_controls(store, actor):
    fd = cf.define(store, actor, {"entity": "client", "key": "region",
                                  "label_ru": f"Регион{RLO}", "type": "select",
                                  "options": [f"Север{LRI}", "Юг"]})
    assert fd.label_ru == "Регион" and list(fd.options) == ["Север", "Юг"]
    book = addressbooks.create_book(store, actor, f"Рассылка {RLO}весна", {})
    assert book["name"] == "Рассылка весна"
    assert all(_no_controls(b["name"]) for b in addressbooks.list_books(store, actor))
