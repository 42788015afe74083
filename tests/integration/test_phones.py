"""Phone lists for SMS: the exported .xlsx opened back with openpyxl and checked
cell by cell, the CSV too; mobile-only, deduplication, opt-outs, no consent and
the dropped counts by reason."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from clientplus_core.base.errors import AccessDenied
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent, phones
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

MOB1, MOB2, MOB3 = "+79161234567", "+79035550011", "+79267770022"
LAND = "+74957001122"           # Moscow fixed line


@pytest.fixture
def data(store: Store, actor: Actor) -> dict[str, int]:
    m1 = users.create(store, "m1", "Менеджер Один", "manager")
    a = clients.create(store, actor, {"name": "ООО «Альфа»", "phone": "8 (916) 123-45-67",
                                      "legal_address": "123456, г. Казань, ул. Баумана, 1",
                                      "owner_id": m1.id}, allow_duplicate=True)["id"]
    ivan = contacts.create(store, actor, a, {"name": "Иванов Иван", "mobile": MOB2,
                                             "phone": LAND, "consent_sms": 1})["id"]
    # the same mobile as the client's phone: a duplicate
    contacts.create(store, actor, a, {"name": "Дубль Дмитрий", "mobile": MOB1,
                                      "consent_sms": 1})
    b = clients.create(store, actor, {"name": "ИП Петров", "phone": MOB3,
                                      "postal_address": "г. Москва, ул. Тверская, 1"},
                       allow_duplicate=True)["id"]
    c = clients.create(store, actor, {"name": "ООО «Без согласия»", "phone": "+79998887766"},
                       allow_duplicate=True)["id"]
    with store.write() as conn:   # an old import that bypassed validation
        conn.execute("UPDATE clients SET phone = '+7 000' WHERE id = ?", (c,))
    d = clients.create(store, actor, {"name": "ООО «Молчун»", "phone": "+79001112233"},
                       allow_duplicate=True)["id"]
    consent.record(store, actor, {"channel": "phone", "value": MOB1, "source": "договор"})
    consent.record(store, actor, {"channel": "phone", "value": MOB3, "source": "форма на сайте"})
    consent.record(store, actor, {"channel": "phone", "value": "+79001112233"})
    consent.record_optout(store, actor, "phone", "+7 900 111-22-33", "звонок")  # d opts out
    return {"a": a, "b": b, "c": c, "d": d, "ivan": ivan, "m1": m1.id}


def test_the_list_has_the_gateway_layout_and_drops_are_counted_by_reason(store, actor, data):
    book = ab.create_book(store, actor, "Все", {"all_clients": True})
    result = phones.for_book(store, actor, book["id"])
    assert result.rows == [
        [MOB1, "ООО «Альфа»", "ООО «Альфа»", "", "Казань", "Менеджер Один"],
        [MOB2, "Иванов Иван", "ООО «Альфа»", "Иванов Иван", "Казань", "Менеджер Один"],
        [LAND, "Иванов Иван", "ООО «Альфа»", "Иванов Иван", "Казань", "Менеджер Один"],
        [MOB3, "ИП Петров", "ИП Петров", "", "Москва", "Администратор"],
    ]
    assert dict(result.dropped) == {"дубль": 1, "неверный номер": 1, "отказ": 1}
    assert phones.dropped_summary(result) == [("неверный номер", 1), ("отказ", 1), ("дубль", 1)]


def test_mobile_only_drops_fixed_lines(store, actor, data):
    book = ab.create_book(store, actor, "Все", {"all_clients": True})
    result = phones.for_book(store, actor, book["id"], mobile_only=True)
    assert [r[0] for r in result.rows] == [MOB1, MOB2, MOB3]
    assert result.dropped["не мобильный"] == 1


def test_no_consent_is_dropped(store, actor, data):
    cid = clients.create(store, actor, {"name": "ООО «Тихо»", "phone": "+79112223344"},
                         allow_duplicate=True)["id"]
    result = phones.for_clients(store, actor, [cid])
    assert result.rows == [] and dict(result.dropped) == {"нет согласия": 1}


def test_xlsx_opened_back_cell_by_cell(store, actor, data, tmp_path: Path):
    book = ab.create_book(store, actor, "Все", {"all_clients": True})
    out = tmp_path / "sms.xlsx"
    n = phones.write(phones.for_book(store, actor, book["id"]), out)
    assert n == 4
    ws = load_workbook(out).active
    got = [[c.value for c in row] for row in ws.iter_rows()]
    assert got[0] == ["phone", "name", "client", "contact", "city", "manager"]
    assert got[1] == [MOB1, "ООО «Альфа»", "ООО «Альфа»", None, "Казань", "Менеджер Один"]
    assert got[2] == [MOB2, "Иванов Иван", "ООО «Альфа»", "Иванов Иван", "Казань",
                      "Менеджер Один"]
    assert got[4] == [MOB3, "ИП Петров", "ИП Петров", None, "Москва", "Администратор"]
    assert len(got) == 5
    assert ws["A2"].data_type == "s"      # the phone stays text, "+" kept
    assert not (tmp_path / "sms.xlsx.part").exists()


def test_csv_opened_back(store, actor, data, tmp_path: Path):
    book = ab.create_book(store, actor, "Все", {"all_clients": True})
    out = tmp_path / "sms.csv"
    phones.write(phones.for_book(store, actor, book["id"], mobile_only=True), out)
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")                     # UTF-8 BOM for Excel
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["phone", "name", "client", "contact", "city", "manager"]
    assert rows[1] == [MOB1, "ООО «Альфа»", "ООО «Альфа»", "", "Казань", "Менеджер Один"]
    assert [r[0] for r in rows[1:]] == [MOB1, MOB2, MOB3]


def test_a_managers_list_holds_only_their_clients(store, actor, data):
    m1 = users.get_actor(store, "m1")
    book = ab.create_book(store, m1, "Мои", {"all_clients": True})
    result = phones.for_book(store, m1, book["id"])
    assert {r[2] for r in result.rows} == {"ООО «Альфа»"}
    assert phones.for_clients(store, m1, [data["b"], data["d"]]).rows == []
    viewer = users.create(store, "v", "Смотритель", "viewer")
    with pytest.raises(AccessDenied):
        phones.for_clients(store, viewer, [data["a"]])


def test_a_segment_list_and_a_bad_format(store, actor, data, tmp_path: Path):
    from clientplus_core.analytics import segments

    clients.update(store, actor, data["b"], {"source": "Сайт"},
                   clients.get(store, actor, data["b"])["version"])
    segments.save(store, actor, "С сайта", {"source": ["Сайт"]})
    result = phones.for_segment(store, actor, "С сайта")
    assert [r[0] for r in result.rows] == [MOB3]
    with pytest.raises(ValueError, match="xlsx или .csv"):
        phones.write(result, tmp_path / "list.txt")


def test_the_prefix_cache_agrees_with_phonenumbers():
    import phonenumbers

    clf = phones._Classifier()
    samples = [MOB1, MOB2, LAND, "+78123456789", "+73432000000", "+77012345678",
               "+70001234567", "+79001234567", "+78001234567", "+74012123456"]
    for raw in samples:
        clf.classify(raw)     # fill the cache
    for raw in samples:
        num = phonenumbers.parse(raw, "RU")
        valid = phonenumbers.is_valid_number(num)
        mobile = phonenumbers.number_type(num) in phones._MOBILE
        e164, is_mob = clf.classify(raw)
        assert (e164 is not None, is_mob and valid) == (valid, mobile and valid), raw


def test_the_prefix_cache_agrees_with_phonenumbers_on_random_numbers():
    import random

    import phonenumbers

    rng = random.Random(7)
    clf = phones._Classifier()
    numbers = [f"+7{rng.randrange(10**9, 10**10)}" for _ in range(3000)]
    numbers += [f"+7930{rng.randrange(10**6):06d}" for _ in range(300)]
    numbers += [f"+7810{rng.randrange(10**6):06d}" for _ in range(300)]
    for raw in numbers:
        num = phonenumbers.parse(raw, "RU")
        valid = phonenumbers.is_valid_number(num)
        mobile = valid and phonenumbers.number_type(num) in phones._MOBILE
        e164, is_mob = clf.classify(raw)
        assert (e164 is not None, bool(is_mob and e164)) == (valid, mobile), raw
    assert len(clf.prefix) < 1500     # the cache really is per prefix


def test_city_of_reads_common_address_forms():
    assert phones.city_of("123456, г. Казань, ул. Баумана, 1") == "Казань"
    assert phones.city_of("г Нижний Новгород, пр. Гагарина") == "Нижний Новгород"
    assert phones.city_of("Москва, Тверская 1") == "Москва"
    assert phones.city_of("Свердловская обл.") == ""
