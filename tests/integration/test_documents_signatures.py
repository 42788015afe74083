"""Documents a counterparty signs without edits (issue 13, section 5): the parties in
the contract's words, the discount on every row, no empty requisites lines, the
specification under its heading, the accountant's own signature. Each document is
opened back with python-docx and checked by its text and table cells."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import docx
import pytest

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company, documents
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

NBSP = "\u00a0"
SELLER = {"kind": "legal", "name": "ООО «Продавец»",
          "full_name": "Общество с ограниченной ответственностью «Продавец»",
          "inn": "7707083893", "kpp": "770701001", "ogrn": "1027700132195",
          "legal_address": "125009, г. Москва, ул. Тверская, д. 1",
          "bik": "044525225", "bank_name": "ПАО Сбербанк",
          "corr_account": "30101810400000000225", "account": "40702810938000000001",
          "director_post": "Генеральный директор", "director_name": "Иванов Иван Иванович",
          "phone": "+74951234567"}
SELLER_WORDS = ("Общество с ограниченной ответственностью «Продавец», именуемое в дальнейшем"
                " «{role}», в лице Генерального директора Иванова Ивана Ивановича, действующего"
                " на основании Устава, с одной стороны, и ")
BUYERS = {
    "legal": ({"kind": "legal", "name": "ООО «Покупатель»",
               "full_name": "Общество с ограниченной ответственностью «Покупатель»",
               "inn": "7736207543", "kpp": "773601001", "director_post": "Генеральный директор",
               "director_name": "Сидорова Мария Ивановна"},
              "Общество с ограниченной ответственностью «Покупатель», именуемое в дальнейшем"
              " «{role}», в лице Генерального директора Сидоровой Марии Ивановны, действующей"
              " на основании Устава, с другой стороны"),
    "ip_male": ({"kind": "ip", "name": "ИП Петров Пётр Петрович", "inn": "500100732259",
                 "ogrn": "304500116000157"},
                "Индивидуальный предприниматель Петров Пётр Петрович, именуемый в дальнейшем"
                " «{role}», действующий на основании записи в ЕГРИП ОГРНИП 304500116000157,"
                " с другой стороны"),
    "ip_female": ({"kind": "ip", "name": "ИП Петрова Анна Сергеевна", "inn": "500100732259",
                   "ogrn": "304500116000157"},
                  "Индивидуальный предприниматель Петрова Анна Сергеевна, именуемая в"
                  " дальнейшем «{role}», действующая на основании записи в ЕГРИП ОГРНИП"
                  " 304500116000157, с другой стороны"),
}


@pytest.fixture
def seller(store: Store, actor: Actor) -> dict[str, Any]:
    return company.save(store, actor, SELLER)


def _sale(store: Store, actor: Actor, client_id: int, **extra: Any) -> dict[str, Any]:
    data = {"client_id": client_id, "date": "2026-03-01",
            "lines": [{"name": "Консультация", "qty": 3, "price": "1500", "vat_code": "22"}]}
    return sales.create(store, actor, data | extra)


def _open(data: bytes) -> tuple[str, list[list[list[str]]]]:
    d = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in d.paragraphs).replace(NBSP, " ")
    tables = [[[c.text.replace(NBSP, " ") for c in row.cells] for row in t.rows]
              for t in d.tables]
    return text, tables


def _body(data: bytes) -> list[str]:
    """The document's body in order: a paragraph's text, or ``[table: <first cell>]``."""
    d = docx.Document(io.BytesIO(data))
    out = []
    for el in d.element.body.iterchildren():
        if el.tag.endswith("}p"):
            out.append("".join(t.text or "" for t in el.iter() if t.tag.endswith("}t")))
        elif el.tag.endswith("}tbl"):
            first = next(el.iter(docx.oxml.ns.qn("w:t")), None)
            out.append(f"[table: {first.text if first is not None else ''}]")
    return out


def _table_with(tables: list[list[list[str]]], header: str) -> list[list[str]]:
    return next(t for t in tables if any(header in c for c in t[0]))


@pytest.mark.parametrize("kind, roles", [("contract", ("Поставщик", "Покупатель")),
                                         ("act", ("Исполнитель", "Заказчик"))])
@pytest.mark.parametrize("buyer", list(BUYERS))
def test_each_party_is_named_by_its_kind_and_gender_with_the_signatory_and_basis(
        store, actor, seller, make_client, kind, roles, buyer):
    data, phrase = BUYERS[buyer]
    client = make_client(**data)
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], kind)
    text, _ = _open(out)
    assert SELLER_WORDS.format(role=roles[0]) + phrase.format(role=roles[1]) in text


def test_a_declined_form_typed_on_the_card_wins_over_the_library(
        store, actor, seller, make_client):
    # the library gives «Вороной» here; the card says how it is right
    client = make_client(name="ООО «Ворона и партнёры»", director_post="Директор",
                         director_name="Ворона Ирина Ивановна",
                         director_name_gen="Вороны Ирины Ивановны",
                         director_post_gen="Директора филиала",
                         basis="доверенности № 5 от 01.02.2026")
    assert clients.get(store, actor, client["id"])["director_name_gen"] == (
        "Вороны Ирины Ивановны")
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    text, _ = _open(out)
    assert ("«Покупатель», в лице Директора филиала Вороны Ирины Ивановны, действующей на"
            " основании доверенности № 5 от 01.02.2026, с другой стороны") in text
    assert "Вороной" not in text


def test_the_own_company_override_lives_in_the_settings(store, actor, make_client):
    company.save(store, actor, SELLER | {"director_name_gen": "Иванова-Петрова Ивана Ивановича",
                                         "basis": "Устава и решения № 1"})
    assert company.get(store)["director_name_gen"] == "Иванова-Петрова Ивана Ивановича"
    client = make_client(**BUYERS["ip_male"][0])
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    assert ("в лице Генерального директора Иванова-Петрова Ивана Ивановича, действующего на"
            " основании Устава и решения № 1, с одной стороны") in _open(out)[0]


@pytest.mark.parametrize("kind", ["invoice", "act", "contract"])
def test_a_discount_on_the_whole_sale_shows_on_every_row_so_each_row_adds_up(
        store, actor, seller, make_client, kind):
    # shared/reference/invoice_cases.md, case 3, plus a line with a discount of its own
    client = make_client(**BUYERS["legal"][0])
    sale = sales.create(store, actor, {"client_id": client["id"], "discount": 10, "lines": [
        {"name": "Разработка сайта", "qty": 1, "price": 85000, "vat_code": "none"},
        {"name": "Хостинг", "qty": 12, "price": 450, "vat_code": "none"},
        {"name": "Домен", "qty": 1, "price": 199, "vat_code": "none"},
        {"name": "Бумага", "qty": 7, "price": "349.90", "discount": 5, "vat_code": "none"}]})
    _, out = documents.render(store, actor, sale["id"], kind)
    text, tables = _open(out)
    lines = _table_with(tables, "Товары (работы, услуги)")
    assert lines[0][5:] == ["Скидка, %", "Сумма"]
    assert [row[1:] for row in lines[1:]] == [
        ["Разработка сайта", "1", "шт", "85 000,00", "10", "76 500,00"],
        ["Хостинг", "12", "шт", "450,00", "10", "4 860,00"],
        ["Домен", "1", "шт", "199,00", "10", "179,10"],
        ["Бумага", "7", "шт", "349,90", "14,5", "2 094,15"]]   # 5 % and 10 %: 14,5 %
    assert ["Всего к оплате:", "83 633,25"] in _table_with(tables, "Итого:")


def test_the_invoice_is_signed_by_the_accountant_or_the_director_when_there_is_none(
        store, actor, make_client):
    client = make_client(**BUYERS["legal"][0])
    company.save(store, actor, SELLER)
    sale = _sale(store, actor, client["id"])
    _, out = documents.render(store, actor, sale["id"], "invoice")
    signs = _table_with(_open(out)[1], "Руководитель")
    assert signs[0] == ["Руководитель", "Бухгалтер"]
    assert signs[1] == ["_______________ / Иванов И. И.", "_______________ / Иванов И. И."]
    company.save(store, actor, SELLER | {"accountant_name": "Смирнова Ольга Петровна"})
    _, out = documents.render(store, actor, sale["id"], "invoice")
    signs = _table_with(_open(out)[1], "Руководитель")
    assert signs[1] == ["_______________ / Иванов И. И.", "_______________ / Смирнова О. П."]


def test_a_requisites_line_with_nothing_in_it_is_left_out(store, actor, seller, make_client):
    client = make_client(**BUYERS["ip_female"][0])     # no address, bank, phone
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    req = _table_with(_open(out)[1], "Поставщик (Исполнитель)")
    assert req[1][1].split("\n") == [
        "ИП Петрова Анна Сергеевна", "ИНН 500100732259", "ОГРНИП 304500116000157", "",
        "Индивидуальный предприниматель", "_______________ / Петрова А. С."]
    seller_lines = req[1][0].split("\n")
    assert "Тел.: 8 (495) 123-45-67" in seller_lines and "Генеральный директор" in seller_lines
    assert not any(line.rstrip(": ") in ("Тел.", "Адрес", "Р/с", "в", "БИК", "К/с", "E-mail")
                   for line in req[1][0].split("\n") + req[1][1].split("\n"))


def test_the_contract_has_the_specification_under_its_own_heading_and_sentence_case(
        store, actor, seller, make_client):
    client = make_client(**BUYERS["legal"][0])
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    body = _body(out)
    at = body.index("Спецификация")
    assert body[at + 1] == "[table: №]"
    text = _open(out)[0]
    assert ("составляет 4 500,00 руб. (Четыре тысячи пятьсот рублей 00 копеек), в том числе"
            " НДС 22 % — 811,48 руб.") in text
    assert "В том числе" not in text


def test_the_offer_states_the_total_in_figures_with_rub_and_in_words(
        store, actor, seller, make_client):
    client = make_client(**BUYERS["legal"][0])
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "offer")
    assert ("Итого к оплате: 4 500,00 руб. (Четыре тысячи пятьсот рублей 00 копеек)"
            in _open(out)[0])


def test_the_new_card_fields_are_on_the_client_and_refuse_an_overlong_value(
        store, actor, make_client: Callable[..., dict[str, Any]]):
    client = make_client(basis="Устава")
    assert client["basis"] == "Устава" and client["director_post_gen"] == ""
    with pytest.raises(Exception, match="Руководитель \\(кого\\?\\)"):
        make_client(director_name_gen="Я" * 301)


def test_the_gender_chosen_on_the_card_decides_the_words_when_the_name_does_not_tell(
        store, actor, seller, make_client):
    """Initials only: the library takes «Ким А. С.» for a man («Кима …, действующего»);
    «жен.» on the card makes the contract right, and it sticks on the card."""
    data = {"name": "ООО «Ким и партнёры»", "director_post": "Директор",
            "director_name": "Ким А. С."}
    plain = make_client(**data)
    _, out = documents.render(store, actor, _sale(store, actor, plain["id"])["id"], "contract")
    assert "в лице Директора Кима А. С., действующего на основании Устава" in _open(out)[0]
    chosen = make_client(**data | {"director_gender": "жен."})
    assert clients.get(store, actor, chosen["id"])["director_gender"] == "f"
    _, out = documents.render(store, actor, _sale(store, actor, chosen["id"])["id"], "act")
    text = _open(out)[0]
    assert "в лице Директора Ким А. С., действующей на основании Устава" in text
    assert "Кима" not in text


def test_an_entrepreneur_of_the_chosen_gender_is_named_so(store, actor, seller, make_client):
    client = make_client(kind="ip", name="ИП Ли Ю.", inn="500100732259",
                         ogrn="304500116000157", director_gender="f")
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    assert ("Индивидуальный предприниматель Ли Ю., именуемая в дальнейшем «Покупатель»,"
            " действующая на основании записи в ЕГРИП") in _open(out)[0]


def test_the_own_directors_gender_is_chosen_in_the_settings(store, actor, make_client):
    company.save(store, actor, SELLER | {"director_name": "Смит Дж.", "director_gender": "f"})
    assert company.get(store)["director_gender"] == "f"
    client = make_client(**BUYERS["ip_male"][0])
    _, out = documents.render(store, actor, _sale(store, actor, client["id"])["id"], "contract")
    assert "в лице Генерального директора Смит Дж., действующей на основании Устава" in \
        _open(out)[0]


def test_a_gender_that_is_neither_is_refused_by_the_fields_name(store, actor, make_client):
    with pytest.raises(Exception, match="Пол руководителя"):
        make_client(name="ООО «Икс»", director_gender="средний")
