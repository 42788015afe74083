"""Word documents of a sale, opened back with python-docx and checked by their text
and table cells; template upload and its validation."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable
from typing import Any

import docx
import pytest

from clientplus_core import sales
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_core.sales import company, documents
from clientplus_core.search import index as search
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
BUYER = 'ООО "Рога & Копыта" <тест>'


@pytest.fixture
def seller(store: Store, actor: Actor) -> dict[str, Any]:
    return company.save(store, actor, SELLER)


@pytest.fixture
def buyer(make_client: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    return make_client(name=BUYER, full_name=BUYER, inn="7736207543", kpp="773601001",
                       legal_address="г. Санкт-Петербург, Невский пр., д. 2",
                       director_name="Петров Пётр Петрович")


@pytest.fixture
def sale(store: Store, actor: Actor, seller: dict[str, Any],
         buyer: dict[str, Any]) -> dict[str, Any]:
    return sales.create(store, actor, {
        "client_id": buyer["id"], "title": "Поставка & монтаж", "date": "2026-03-01",
        "lines": [{"name": "Консультация", "qty": 3, "price": "1500", "vat_code": "22",
                   "unit": "час"},
                  {"name": "Бумага А4 <офисная>", "qty": 7, "price": "349.90", "discount": 5,
                   "vat_code": "22", "unit": "упак"}]})


def _open(data: bytes) -> tuple[str, list[list[list[str]]]]:
    d = docx.Document(io.BytesIO(data))
    text = "\n".join(p.text for p in d.paragraphs).replace(NBSP, " ")
    tables = [[[c.text.replace(NBSP, " ") for c in row.cells] for row in t.rows]
              for t in d.tables]
    return text, tables


def _table_with(tables: list[list[list[str]]], header: str) -> list[list[str]]:
    return next(t for t in tables if any(header in c for c in t[0]))


def test_the_invoice_has_seller_buyer_bank_block_lines_totals_vat_and_words(store, actor, sale):
    name, data = documents.render(store, actor, sale["id"], "invoice", doc_date="2026-03-02")
    assert name == f"Счёт на оплату № 1 от 02.03.2026 ({sale['number']}).docx"
    text, tables = _open(data)
    assert "Счёт на оплату № 1 от 2 марта 2026 г." in text
    assert ("Поставщик (Исполнитель): Общество с ограниченной ответственностью «Продавец»,"
            " ИНН 7707083893, КПП 770701001, 125009, г. Москва, ул. Тверская, д. 1") in text
    assert f"Покупатель (Заказчик): {BUYER}, ИНН 7736207543, КПП 773601001" in text
    bank = tables[0]
    assert bank[0][0] == "ПАО Сбербанк" and bank[0][2:] == ["БИК", "044525225"]
    assert bank[1][2:] == ["Сч. №", "30101810400000000225"]
    assert bank[2] == ["ИНН 7707083893", "КПП 770701001", "Сч. №", "40702810938000000001"]
    assert bank[3][0] == "Общество с ограниченной ответственностью «Продавец»"
    lines = _table_with(tables, "Товары (работы, услуги)")
    assert lines[1:] == [["1", "Консультация", "3", "час", "1 500,00", "", "4 500,00"],
                         ["2", "Бумага А4 <офисная>", "7", "упак", "349,90", "5", "2 326,84"]]
    totals = _table_with(tables, "Итого:")
    assert totals == [["Итого:", "6 826,84"], ["В том числе НДС 22 %:", "1 231,07"],
                      ["Всего к оплате:", "6 826,84"]]
    assert "Всего наименований 2, на сумму 6 826,84 руб." in text
    assert "Шесть тысяч восемьсот двадцать шесть рублей 84 копейки" in text
    assert "Иванов И. И." in str(tables[-1])


def test_a_client_with_ampersand_quotes_and_angle_brackets_gives_a_valid_document(
        store, actor, sale):
    _, data = documents.render(store, actor, sale["id"], "contract")
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        assert z.testzip() is None
        xml = z.read("word/document.xml").decode()
    assert "Рога &amp; Копыта" in xml and "&lt;тест&gt;" in xml
    text, tables = _open(data)
    assert BUYER in text and "Поставка & монтаж" not in text   # the title is not in a contract
    req = _table_with(tables, "Поставщик (Исполнитель)")
    assert BUYER in req[1][1] and "ИНН 7736207543, КПП 773601001" in req[1][1]
    assert "БИК 044525225" in req[1][0] and "Р/с 40702810938000000001" in req[1][0]


def test_the_contract_states_the_total_in_words_with_vat_and_the_schedule(store, actor, sale):
    sales.add_planned_payment(store, actor, sale["id"], "3000", "2026-03-10", "аванс")
    sales.add_planned_payment(store, actor, sale["id"], "3826.84", "2026-04-10")
    _, data = documents.render(store, actor, sale["id"], "contract", doc_date="2026-03-02")
    text, tables = _open(data)
    assert "ДОГОВОР № 1" in text
    assert ("2.1. Общая стоимость по договору составляет 6 826,84 руб. (Шесть тысяч восемьсот"
            " двадцать шесть рублей 84 копейки), в том числе НДС 22 % — 1 231,07 руб.") in text
    assert "В том числе" not in text      # sentence case inside the sentence
    schedule = _table_with(tables, "Дата платежа")
    assert schedule[1:] == [["1", "10.03.2026", "3 000,00", "аванс"],
                            ["2", "10.04.2026", "3 826,84", ""]]


def test_the_act_and_the_offer_list_every_line_and_the_total(store, actor, sale, buyer):
    person = contacts.create(store, actor, buyer["id"], {"name": "Сидоров Пётр",
                                                         "post": "Закупщик"})
    sales.update(store, actor, sale["id"], {"contact_id": person["id"]}, sale["version"])
    for kind, heading in (("act", "Акт № 1 от"), ("offer", "Коммерческое предложение № 1 от")):
        _, data = documents.render(store, actor, sale["id"], kind)
        text, tables = _open(data)
        assert heading in text
        lines = _table_with(tables, "Товары (работы, услуги)")
        assert [row[1] for row in lines[1:]] == ["Консультация", "Бумага А4 <офисная>"]
        assert ["Всего к оплате:", "6 826,84"] in _table_with(tables, "Итого:")
    assert "Кому: ООО \"Рога & Копыта\" <тест>, Закупщик Сидоров Пётр" in text


def test_without_vat_the_invoice_says_without_tax(store, actor, buyer, seller):
    s = sales.create(store, actor, {"client_id": buyer["id"], "discount": 10, "lines": [
        {"name": "Разработка сайта", "qty": 1, "price": 85000, "vat_code": "none"},
        {"name": "Хостинг", "qty": 12, "price": 450, "vat_code": "none"}]})
    _, data = documents.render(store, actor, s["id"], "invoice")
    text, tables = _open(data)
    assert _table_with(tables, "Итого:") == [["Итого:", "81 360,00"],
                                             ["Без налога (НДС):", "—"],
                                             ["Всего к оплате:", "81 360,00"]]
    assert "НДС 22" not in text and "Восемьдесят одна тысяча триста шестьдесят рублей" in text


def test_vat_on_top_lists_each_rate(store, actor, buyer, seller):
    s = sales.create(store, actor, {"client_id": buyer["id"], "vat_mode": "on_top", "lines": [
        {"name": "Молоко", "qty": "2.5", "price": "89.99", "vat_code": "10"},
        {"name": "Доставка", "qty": 1, "price": 1000, "vat_code": "22"}]})
    _, data = documents.render(store, actor, s["id"], "invoice")
    _, tables = _open(data)
    assert _table_with(tables, "Итого:") == [["Итого:", "1 224,98"], ["НДС 22 %:", "220,00"],
                                             ["НДС 10 %:", "22,50"],
                                             ["Всего к оплате:", "1 467,48"]]


def test_each_document_is_numbered_per_kind_and_saved_to_the_sale(store, actor, sale):
    documents.render(store, actor, sale["id"], "invoice")
    documents.render(store, actor, sale["id"], "invoice")
    documents.render(store, actor, sale["id"], "act")
    card = sales.get_card(store, actor, sale["id"])
    assert [(d["kind"], d["number"]) for d in card["documents"]] == [
        ("act", "1"), ("invoice", "2"), ("invoice", "1")]
    assert len(card["files"]) == 3
    row, data = files.read(store, actor, card["documents"][0]["file_id"])
    assert row["sale_id"] == sale["id"] and data[:2] == b"PK"
    assert text_jobs.wait(store, 60)   # the documents' text is read off the request
    assert any(h.entity == "file" for h in search.search(store, actor, "Всего оказано услуг"))


def test_a_preview_is_neither_numbered_nor_saved(store, actor, sale):
    name, data = documents.render(store, actor, sale["id"], "invoice", attach=False)
    assert "черновик" in name and "Счёт на оплату № — от" in _open(data)[0]
    assert sales.get_card(store, actor, sale["id"])["documents"] == []


def test_an_invoice_with_fifty_lines_renders_every_line(store, actor, buyer, seller):
    s = sales.create(store, actor, {"client_id": buyer["id"], "lines": [
        {"name": f"Позиция {i}", "qty": i, "price": "10.01"} for i in range(1, 51)]})
    _, data = documents.render(store, actor, s["id"], "invoice")
    lines = _table_with(_open(data)[1], "Товары (работы, услуги)")
    assert len(lines) == 51 and lines[50][1] == "Позиция 50"


# --- templates ---------------------------------------------------------------------------

def _template(*paragraphs: str, table: list[str] | None = None) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=3, cols=len(table))
        t.rows[0].cells[0].text = "{%tr for line in lines %}"
        for i, cell in enumerate(table):
            t.rows[1].cells[i].text = cell
        t.rows[2].cells[0].text = "{%tr endfor %}"
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_an_uploaded_template_is_validated_stored_and_used(store, actor, sale):
    data = _template("Счёт № {{ doc.number }} для {{ buyer.name }} на {{ totals.total }}",
                     "{{ totals.words }}", table=["{{ line.name }}", "{{ line.amount }}"])
    tpl = documents.upload_template(store, actor, "invoice", "мой счёт.docx", data)
    assert tpl["variables"] == '["buyer", "doc", "lines", "totals"]'
    assert [t["name"] for t in documents.list_templates(store, actor, "invoice")] == [
        "мой счёт.docx"]
    _, out = documents.render(store, actor, sale["id"], "invoice")
    text, tables = _open(out)
    assert f"Счёт № 1 для {BUYER} на 6 826,84" in text
    assert tables[0] == [["Консультация", "4 500,00"], ["Бумага А4 <офисная>", "2 326,84"]]
    documents.set_default_template(store, actor, tpl["id"], False)
    _, out = documents.render(store, actor, sale["id"], "invoice")
    assert "Банк получателя" in str(_open(out)[1])       # the shipped template again


@pytest.mark.parametrize("paragraph, message", [
    ("{{ client.name }}", "неизвестные переменные: client"),
    ("{{ seller.fax }} {{ buyer.inn }}", "неизвестные поля: seller.fax"),
    ("{% for x in lines %}{{ x.colour }}{% endfor %}", "неизвестные поля: x.colour"),
    ("{{ doc.number ", "ошибка в тегах шаблона"),
    ("{% for x in lines %}{{ x.name }}", "ошибка в тегах шаблона"),
    ("{{ doc.number | nosuchfilter }}", "ошибка в тегах шаблона"),
])
def test_a_template_with_unknown_variables_or_broken_jinja_is_refused_by_name(
        store, actor, paragraph, message):
    with pytest.raises(ValidationError) as exc:
        documents.upload_template(store, actor, "offer", "плохой.docx", _template(paragraph))
    assert message in exc.value.errors["template"]
    assert documents.list_templates(store, actor) == []


def test_a_file_that_is_not_a_docx_is_refused(store, actor):
    with pytest.raises(ValidationError, match="файлом Word .docx"):
        documents.upload_template(store, actor, "offer", "счёт.pdf", b"%PDF-1.4")
    with pytest.raises(ValidationError, match="это не документ .docx"):
        documents.upload_template(store, actor, "offer", "счёт.docx", b"not a zip at all")
    with pytest.raises(ValidationError, match="Вид документа"):
        documents.upload_template(store, actor, "receipt", "x.docx", _template("x"))


def test_every_shipped_template_passes_the_upload_validation() -> None:
    for kind in documents.KINDS:
        used = documents.validate_template(documents.default_template(kind), f"{kind}.docx")
        assert {"doc", "seller", "totals"} <= set(used)
        # the committed file matches what the builder makes today (same tags)
        assert documents.validate_template(documents.build_default_template(kind)) == used


def test_a_template_given_as_bytes_renders_as_a_custom_document(store, actor, sale):
    name, out = documents.render(store, actor, sale["id"], _template("{{ sale.basis }}"))
    assert f"Продажа № {sale['number']} от 01.03.2026" in _open(out)[0]
    assert "Документ № 1" in name


def test_pdf_is_offered_only_when_libreoffice_is_installed(store, actor, sale):
    _, data = documents.render(store, actor, sale["id"], "invoice", attach=False)
    if documents.pdf_available():
        assert documents.to_pdf(data)[:4] == b"%PDF"
    else:
        with pytest.raises(UserError, match="LibreOffice"):
            documents.to_pdf(data)


def test_available_variables_describe_every_context_key(store, actor, sale):
    sales.add_planned_payment(store, actor, sale["id"], 100, "2026-04-01")
    ctx = documents.context(store, actor, sale["id"])
    described = documents.available_variables()
    assert set(ctx) == set(described)
    for key, fields in described.items():
        if isinstance(ctx[key], dict):
            assert set(ctx[key]) == set(fields), key
        else:
            assert set(ctx[key][0]) == set(fields), key
