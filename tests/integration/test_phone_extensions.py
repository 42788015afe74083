"""Issue 13 §3: a phone typed with an extension («+7 495 500-55-50 доб. 123») keeps
it on the card, on a contact, in search, in the export and in a call list, while an
SMS list sends to the bare number."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from clientplus_core.base.errors import DuplicateWarning
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.clients.export import export_clients_bytes
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent, phones
from clientplus_core.records.validation import format_phone
from clientplus_core.search import index as search

TYPED = "+7 495 500-55-50 доб. 123"
SHOWN = "8 (495) 500-55-50 доб. 123"


def test_a_clients_extension_is_kept_and_shown(store, actor):
    c = clients.create(store, actor, {"name": "ООО «Добавочный»", "phone": TYPED})
    again = clients.get(store, actor, c["id"])
    assert format_phone(again["phone"]) == SHOWN


def test_a_contacts_phone_and_mobile_keep_their_extensions(store, actor, make_client):
    client = make_client()
    k = contacts.create(store, actor, client["id"], {"name": "Иванов Иван",
                                                      "phone": "8 (495) 500-55-50, доб. 45"})
    got = next(r for r in contacts.list_for_client(store, actor, client["id"])
               if r["id"] == k["id"])
    assert format_phone(got["phone"]) == "8 (495) 500-55-50 доб. 45"


def test_two_extensions_of_one_office_are_not_duplicates_but_the_same_one_is(store, actor):
    first = clients.create(store, actor, {"name": "ООО «Первый»", "phone": TYPED})
    clients.create(store, actor, {"name": "ООО «Второй»", "phone": "+7 495 500-55-50 доб. 124"})
    with pytest.raises(DuplicateWarning) as err:
        clients.create(store, actor, {"name": "ООО «Третий»", "phone": "84955005550 доб 123"})
    assert err.value.existing_ids == [first["id"]]


def test_search_finds_the_number_with_and_without_its_extension(store, actor, make_client):
    c = make_client(name="ООО «Поиск»", phone=TYPED)
    for q in ("4955005550", TYPED, "8 (495) 500-55-50 доб 123", "500-55-50 доб. 123"):
        hits = search.search(store, actor, q)
        assert [h.client_id for h in hits] == [c["id"]], q
    assert search.search(store, actor, "+7 495 500-55-50 доб. 999") == []


def test_the_client_export_shows_the_extension(store, actor, make_client):
    make_client(name="ООО «Экспорт»", phone=TYPED)
    wb = openpyxl.load_workbook(io.BytesIO(export_clients_bytes(store, actor, ClientFilter())))
    rows = [[c.value for c in r] for r in wb.worksheets[0].iter_rows()]
    col = rows[0].index("Телефон")
    assert rows[1][col] == SHOWN
    text = export_clients_bytes(store, actor, ClientFilter(), "csv").decode("utf-8-sig")
    assert SHOWN in text


def _office(store, actor):
    a = clients.create(store, actor, {"name": "ООО «Офис»", "phone": TYPED},
                       allow_duplicate=True)["id"]
    contacts.create(store, actor, a, {"name": "Петров Пётр",
                                      "phone": "+7 495 500-55-50 доб. 124"})
    consent.record(store, actor, {"channel": "phone", "value": TYPED, "source": "договор"})
    return ab.create_book(store, actor, "Офис", {"all_clients": True})


def test_an_sms_list_sends_to_the_bare_number_once(store, actor):
    book = _office(store, actor)
    result = phones.for_book(store, actor, book["id"])
    assert [r[0] for r in result.rows] == ["+74955005550"]
    assert result.dropped["дубль"] == 1
    assert result.headers == phones.HEADERS


def test_a_call_list_keeps_each_extension_in_its_own_column(store, actor, tmp_path):
    book = _office(store, actor)
    result = phones.for_book(store, actor, book["id"], purpose="calls")
    assert [r[:3] for r in result.rows] == [["+74955005550", "123", "ООО «Офис»"],
                                            ["+74955005550", "124", "Петров Пётр"]]
    out = tmp_path / "calls.csv"
    phones.write(result, out)
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["phone", "ext"]
    assert [r[1] for r in rows[1:]] == ["123", "124"]
    ws = openpyxl.load_workbook(io.BytesIO(phones.to_xlsx(result))).active
    assert [c.value for c in ws[1]][:2] == ["phone", "ext"] and ws["B2"].value == "123"


def test_the_consent_of_a_number_covers_its_extensions():
    assert consent.normalise_value("phone", TYPED) == "+74955005550"


def test_a_letter_shows_the_extension_never_the_storage_form(store, actor):
    from clientplus_core.outreach import mail_templates

    cid = clients.create(store, actor, {"name": "ООО «Письмо»", "phone": TYPED})["id"]
    kid = contacts.create(store, actor, cid, {"name": "Иванов Иван",
                                              "mobile": "+7 495 500-55-50 доб. 7"})["id"]
    with store.read() as conn:
        ctx = mail_templates.recipient_context(conn, actor, {"client_id": cid,
                                                             "contact_id": kid}, "t", "a@b.ru")
    assert ctx["client"]["phone"] == "+74955005550 доб. 123"
    assert ctx["contact"]["phone"] == "+74955005550 доб. 7"


def test_a_consent_for_the_number_is_linked_to_the_client_with_an_extension(store, actor):
    cid = clients.create(store, actor, {"name": "ООО «Согласие»", "phone": TYPED})["id"]
    entry = consent.record(store, actor, {"channel": "phone", "value": "+7 495 500-55-50"})
    assert entry["value"] == "+74955005550" and entry["client_id"] == cid
