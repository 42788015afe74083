"""The 1C bank exchange file (``kl_to_1c.txt``) read from hand-written samples, and the
invoice numbers found in payment purposes as people write them."""

from __future__ import annotations

import pytest

from clientplus_core.bank import exchange
from clientplus_core.bank.purpose import extract, sale_numbers

OWN = "40702810400000000001"
PAYER = "40702810900000000002"

SAMPLE = f"""1CClientBankExchange
ВерсияФормата=1.03
Кодировка=Windows
Отправитель=Сбербанк Бизнес Онлайн
Получатель=
ДатаСоздания=06.02.2026
ВремяСоздания=10:15:03
ДатаНачала=01.02.2026
ДатаКонца=05.02.2026
РасчСчет={OWN}
СекцияРасчСчет
ДатаНачала=01.02.2026
ДатаКонца=05.02.2026
РасчСчет={OWN}
НачальныйОстаток=1000.00
ВсегоПоступило=12000.00
ВсегоСписано=0.00
КонечныйОстаток=13000.00
КонецРасчСчет
СекцияДокумент=Платежное поручение
Номер=123
Дата=03.02.2026
Сумма=12000.00
ПлательщикСчет={PAYER}
Плательщик=ИНН 7736207543 ООО "Ромашка"
ПлательщикИНН=7736207543
ПлательщикКПП=773601001
Плательщик1=ООО "Ромашка"
ПлательщикБИК=044525225
ПлательщикБанк1=ПАО СБЕРБАНК
ПолучательСчет={OWN}
ДатаПоступило=04.02.2026
ПолучательИНН=7707083893
Получатель1=ООО «Продавец»
НазначениеПлатежа=Оплата по счету № 15 от 03.02.2026 за консультации. В т.ч. НДС (22%) 2163-93
КонецДокумента
КонецФайла
"""


def _bytes(text: str, codec: str = "cp1251", crlf: bool = True) -> bytes:
    return (text.replace("\n", "\r\n") if crlf else text).encode(codec)


def _replace(old: str, new: str) -> str:
    assert old in SAMPLE
    return SAMPLE.replace(old, new)


def _line_of(text: str, needle: str) -> int:
    return next(i for i, ln in enumerate(text.splitlines(), start=1) if ln.startswith(needle))


def test_a_windows_1251_file_with_crlf_reads_every_field_the_crm_uses() -> None:
    st = exchange.parse(_bytes(SAMPLE), "kl_to_1c.txt")
    assert (st.encoding, st.version, st.date_from, st.date_to) == (
        "cp1251", "1.03", "2026-02-01", "2026-02-05")
    assert st.accounts == [(OWN, 10)]
    assert st.sections[0].incoming_kop == 1_200_000 and st.sections[0].closing_kop == 1_300_000
    doc = st.documents[0]
    assert (doc.number, doc.date, doc.amount_kop, doc.paid_on) == (
        "123", "2026-02-03", 1_200_000, "2026-02-04")
    assert (doc.payer_inn, doc.payer_kpp, doc.payer_account, doc.payer_bik) == (
        "7736207543", "773601001", PAYER, "044525225")
    assert doc.payer_name == 'ООО "Ромашка"' and doc.payee_account == OWN
    assert doc.purpose.startswith("Оплата по счету № 15 от 03.02.2026")
    assert doc.line == _line_of(SAMPLE, "СекцияДокумент")


@pytest.mark.parametrize("codec, crlf", [("utf-8", False), ("cp866", True), ("utf-8", True)])
def test_utf8_and_dos_files_read_the_same(codec: str, crlf: bool) -> None:
    text = SAMPLE.replace("«Продавец»", '"Продавец"')
    if codec == "cp866":
        text = text.replace("Кодировка=Windows", "Кодировка=DOS")
    st = exchange.parse(_bytes(text, codec, crlf), "x.txt")
    assert st.encoding == codec
    assert st.documents[0].payer_name == 'ООО "Ромашка"'
    assert st.documents[0].purpose.startswith("Оплата по счету № 15")


def test_a_payer_name_without_its_own_line_drops_the_inn_in_front() -> None:
    text = _replace('Плательщик1=ООО "Ромашка"\n', "")
    assert exchange.parse(_bytes(text)).documents[0].payer_name == 'ООО "Ромашка"'


def test_a_purpose_split_over_numbered_lines_is_joined() -> None:
    text = _replace("НазначениеПлатежа=Оплата по счету № 15 от 03.02.2026 за консультации."
                    " В т.ч. НДС (22%) 2163-93",
                    "НазначениеПлатежа1=Оплата по счету № 15\nНазначениеПлатежа2=от 03.02.2026")
    assert exchange.parse(_bytes(text)).documents[0].purpose == "Оплата по счету № 15 от 03.02.2026"


def test_a_file_that_is_not_a_statement_is_refused_on_line_one() -> None:
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse("Наименование;ИНН\nРомашка;7736207543\n".encode("cp1251"), "clients.csv")
    assert err.value.line == 1
    assert str(err.value).startswith("Файл clients.csv, строка 1: это не выписка")


def test_a_truncated_file_without_konecfaila_says_so_and_where() -> None:
    text = SAMPLE.split("КонецДокумента")[0]
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(_bytes(text), "kl_to_1c.txt")
    assert "файл обрезан: нет строки КонецФайла" in str(err.value)
    assert f"документ со строки {_line_of(SAMPLE, 'СекцияДокумент')} не закрыт" in str(err.value)


def test_a_document_without_a_sum_names_the_documents_line() -> None:
    text = _replace("Сумма=12000.00\n", "")
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(_bytes(text), "kl_to_1c.txt")
    assert err.value.line == _line_of(text, "СекцияДокумент")
    assert "в документе № 123 нет суммы (Сумма=)" in str(err.value)


@pytest.mark.parametrize("value", ["12 000,00 руб", "12000.001", "-5.00", "abc"])
def test_a_malformed_sum_names_its_own_line(value: str) -> None:
    text = _replace("Сумма=12000.00", f"Сумма={value}")
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(_bytes(text))
    assert err.value.line == _line_of(text, "Сумма=")
    assert "Сумма:" in str(err.value)


@pytest.mark.parametrize("value", ["2026-02-03", "31.02.2026", "3.2.26"])
def test_a_malformed_date_names_its_line(value: str) -> None:
    text = _replace("Дата=03.02.2026", f"Дата={value}")
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(_bytes(text))
    assert err.value.line == _line_of(text, "Дата=")
    assert "Дата:" in str(err.value)


def test_a_line_that_is_not_key_value_and_a_block_left_open_are_refused() -> None:
    text = _replace("КонецДокумента\n", "мусор без знака равенства\nКонецДокумента\n")
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(_bytes(text))
    assert err.value.line == _line_of(text, "мусор")
    nested = _replace("КонецДокумента\n", "").replace(
        "КонецФайла", "СекцияДокумент=Платежное поручение\nКонецДокумента\nКонецФайла")
    with pytest.raises(exchange.StatementError, match="новый документ, а документ со строки"):
        exchange.parse(_bytes(nested))


def test_an_undecodable_byte_names_its_line() -> None:
    data = _bytes(SAMPLE).replace("Плательщик1=".encode("cp1251"), b"\x98" + b"1=")
    with pytest.raises(exchange.StatementError) as err:
        exchange.parse(data)
    assert err.value.line == _line_of(SAMPLE, "Плательщик1=")


@pytest.mark.parametrize("purpose, expected", [
    ("Оплата по счету № 15 от 03.02.2026 за консультации. Сумма 12000-00 В т.ч. НДС (22%)"
     " 2163-93", [("invoice", "15", "2026-02-03")]),
    ("Оплата по сч. 15", [("invoice", "15", "")]),
    ("Опл. по сч/ф 15 от 3.02.26", [("invoice", "15", "2026-02-03")]),
    ("Оплата по счёту №СЧ-00015 НДС не облагается", [("invoice", "15", "")]),
    ("Оплата счета на оплату № 15 от 3 февраля 2026 г.", [("invoice", "15", "2026-02-03")]),
    ("ОПЛАТА СЧ.№15 ОТ 03.02.2026Г.", [("invoice", "15", "2026-02-03")]),
    ("Оплата по счетам № 15, 16 от 04.02.2026",
     [("invoice", "15", "2026-02-04"), ("invoice", "16", "2026-02-04")]),
    ("Оплата счетов №15 от 03.02.2026, №16 от 04.02.2026",
     [("invoice", "15", "2026-02-03"), ("invoice", "16", "2026-02-04")]),
    ("в счет оплаты по счету-фактуре 15", [("invoice", "15", "")]),
    ("Оплата по заявке ПР-2026-0015 за монтаж", [("sale", "2026-0015", "")]),
    ("Оплата по договору № 7 от 01.01.2026, НДС 22% 2163.93", []),
    ("Перевод на р/с 40702810400000000001 собственных средств", []),
])
def test_invoice_numbers_are_read_as_people_write_them(purpose: str,
                                                       expected: list[tuple[str, str, str]]
                                                       ) -> None:
    assert [(r.kind, r.number, r.date) for r in extract(purpose, ["ПР-"])] == expected


def test_a_sale_reference_is_looked_up_with_every_prefix_the_app_uses() -> None:
    assert sale_numbers("2026-15", ["ПР-"]) == ["2026-0015", "ПР-2026-0015"]
