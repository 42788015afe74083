"""Import without a database: column auto-mapping, reading files, cell values."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from clientplus_core.base.errors import UserError
from clientplus_core.clients.import_mapping import guess_mapping, targets
from clientplus_core.clients.importer import ImportReport, RowError
from clientplus_core.clients.sheets import FormulaCell, convert_cell, detect_delimiter, read_table

# --- guess_mapping ---------------------------------------------------------------


def test_russian_headers_map_to_client_and_contact_fields():
    headers = ["Наименование", "инн клиента", "КПП", "Юр. адрес", "Телефон", "E-mail",
               "Корр. счёт", "Р/с", "Наименование банка", "Контактное лицо",
               "Телефон контакта", "E-mail контакта", "Должность контакта", "Метки",
               "Комментарий"]
    assert guess_mapping(headers) == {
        "Наименование": "name", "инн клиента": "inn", "КПП": "kpp",
        "Юр. адрес": "legal_address", "Телефон": "phone", "E-mail": "email",
        "Корр. счёт": "corr_account", "Р/с": "account", "Наименование банка": "bank_name",
        "Контактное лицо": "contact.name", "Телефон контакта": "contact.phone",
        "E-mail контакта": "contact.email", "Должность контакта": "contact.post",
        "Метки": "tags", "Комментарий": "notes",
    }


def test_english_headers_map_to_the_same_fields():
    headers = ["Name", "Tax ID", "Phone", "Email", "Website", "Contact", "Contact phone",
               "Contact email", "Notes", "Tags"]
    assert guess_mapping(headers) == {
        "Name": "name", "Tax ID": "inn", "Phone": "phone", "Email": "email",
        "Website": "website", "Contact": "contact.name", "Contact phone": "contact.phone",
        "Contact email": "contact.email", "Notes": "notes", "Tags": "tags",
    }


def test_case_yo_punctuation_and_extra_spaces_do_not_matter():
    mapping = guess_mapping(["  ИНН  ", "РАСЧЕТНЫЙ   СЧЁТ", "e-mail", "корр. счет", "TAX-ID"])
    assert mapping["  ИНН  "] == "inn"
    assert mapping["РАСЧЕТНЫЙ   СЧЁТ"] == "account"
    assert mapping["e-mail"] == "email"
    assert mapping["корр. счет"] == "corr_account"
    assert mapping["TAX-ID"] is None  # "inn" already taken by the better match


def test_a_header_nobody_knows_maps_to_none():
    mapping = guess_mapping(["Наименование", "Любимый цвет", "Что-то ещё", "", "№"])
    assert mapping["Любимый цвет"] is None
    assert mapping["Что-то ещё"] is None
    assert mapping["№"] is None


def test_each_target_is_used_once_and_the_best_match_wins():
    mapping = guess_mapping(["Tax ID", "ИНН", "инн клиента"])
    assert list(mapping.values()).count("inn") == 1
    assert mapping["ИНН"] == "inn"  # the exact label beats synonyms
    assert mapping["Tax ID"] is None and mapping["инн клиента"] is None


def test_inflected_headers_still_match():
    mapping = guess_mapping(["Название компании", "Номер телефона", "ФИО контактного лица",
                             "Мобильный телефон контакта", "Дата рождения контакта"])
    assert mapping == {"Название компании": "name", "Номер телефона": "phone",
                       "ФИО контактного лица": "contact.name",
                       "Мобильный телефон контакта": "contact.mobile",
                       "Дата рождения контакта": "contact.birthday"}


def test_our_own_export_headers_map_back_to_their_fields():
    from clientplus_core.clients.export import COLUMNS

    mapping = guess_mapping(list(COLUMNS))
    assert mapping["№"] is None and mapping["Ответственный"] is None
    assert mapping["Создан"] is None
    mapped = [t for t in mapping.values() if t]
    assert len(mapped) == len(set(mapped)) == len(COLUMNS) - 3


def test_contact_columns_without_a_contact_name_column_are_not_guessed():
    assert guess_mapping(["Наименование", "Telegram"])["Telegram"] is None
    mapping = guess_mapping(["Наименование", "Контактное лицо", "Telegram"])
    assert mapping["Telegram"] == "contact.messenger"


def test_every_target_has_a_russian_label():
    t = targets()
    assert t["inn"] == "ИНН" and t["contact.email"].startswith("Контакт")
    assert all(t.values())


# --- read_table -------------------------------------------------------------------


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_an_xlsx_is_read_with_truthful_row_numbers_around_empty_rows():
    data = _xlsx([["Наименование", "ИНН"], ["А", 7707083893], [None, None], ["Б", "x"]])
    table = read_table(data, "clients.XLSX")
    assert table.headers == ["Наименование", "ИНН"]
    assert table.rows == [["А", 7707083893], ["Б", "x"]]
    assert [table.row_number(i) for i in range(2)] == [2, 4]


def test_a_formula_cell_is_read_as_formula_text_never_evaluated():
    data = _xlsx([["Наименование"], ["=1+2"]])
    (cell,) = read_table(data, "f.xlsx").rows[0]
    assert isinstance(cell, FormulaCell) and cell == "=1+2"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1251"])
def test_a_csv_is_decoded_and_split_whatever_the_encoding_and_delimiter(delimiter, encoding):
    text = delimiter.join(["Наименование", "ИНН", "Примечания"]) + "\r\n"
    text += delimiter.join(['"ООО ""Ёлка"", филиал"', "7707083893", "ёж"]) + "\r\n"
    table = read_table(text.encode(encoding), "x.csv")
    assert table.headers == ["Наименование", "ИНН", "Примечания"]
    assert table.rows == [['ООО "Ёлка", филиал', "7707083893", "ёж"]]


def test_the_delimiter_is_the_one_giving_most_columns():
    assert detect_delimiter("a;b;c\n1,5;2;3\n") == ";"
    assert detect_delimiter("a,b,c\n1;2,3,4\n") == ","
    assert detect_delimiter("one column\nvalue\n") == ";"


def test_duplicate_and_empty_headers_get_distinct_names():
    table = read_table("Телефон;Телефон;\r\n1;2;3\r\n".encode(), "x.csv")
    assert table.headers == ["Телефон", "Телефон (2)", "Столбец 3"]


@pytest.mark.parametrize("data,name,message", [
    (b"", "a.csv", "пустой"),
    (b"  \r\n ", "a.csv", "пустой"),
    (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.xlsx", "не является книгой Excel"),
    (b"PK\x03\x04broken zip", "broken.xlsx", "повреждён"),
    (b"a;b", "old.xls", ".xlsx"),
    (b"a;b", "notes.docx", "не поддерживается"),
    (b"7707083893;+79161234567\r\n", "x.csv", "заголовк"),
    (b";;\r\n;;\r\n", "x.csv", "ни одной заполненной"),
])
def test_files_that_cannot_be_imported_give_a_clear_russian_message(data, name, message):
    with pytest.raises(UserError) as err:
        read_table(data, name)
    assert message in str(err.value)


# --- cells and report -------------------------------------------------------------


@pytest.mark.parametrize("value,target,expected", [
    (7707083893.0, "inn", "7707083893"),
    (7.707083893e9, "inn", "7707083893"),
    ("7707083893.0", "inn", "7707083893"),
    ("7.707083893E9", "inn", "7707083893"),
    ("7,707083893E+09", "inn", "7707083893"),
    (79161234567.0, "phone", "79161234567"),
    ("+79161234567", "phone", "+79161234567"),
    ("  ООО Ромашка  ", "name", "ООО Ромашка"),
    (1.5, "notes", "1.5"),
    ("1.0", "notes", "1.0"),
    (datetime(1980, 12, 31, 0, 0), "contact.birthday", "1980-12-31"),
    (True, "contact.consent_sms", "да"),
    (None, "name", ""),
])
def test_cells_become_the_text_a_user_typed(value, target, expected):
    assert convert_cell(value, target) == (expected, None)


def test_a_long_account_damaged_by_excel_is_refused():
    text, error = convert_cell(40702810938000012345.0, "account")
    assert text == "" and error and "15 цифр" in error


def test_the_report_json_shape_is_stable():
    report = ImportReport(created=2, updated=1, skipped=0,
                          errors=[RowError(5, "inn", "ИНН: неверная контрольная сумма ИНН")])
    assert report.as_json() == {"created": 2, "updated": 1, "skipped": 0, "errors": [
        {"row": 5, "field": "inn", "message": "ИНН: неверная контрольная сумма ИНН"}]}
    assert report.summary() == ("Создано: 2, обновлено: 1, пропущено: 0, "
                                "строк с ошибками: 1")


def test_a_formula_cell_gives_its_saved_value_else_its_text_with_a_warning():
    from clientplus_core.clients.sheets import formula_warning

    assert convert_cell(FormulaCell("=1+1", 2.0), "notes") == ("2", None)
    assert convert_cell(FormulaCell("=A1", 7707083893.0), "inn") == ("7707083893", None)
    assert formula_warning(FormulaCell("=1+1", 2.0), "notes") is None
    assert convert_cell(FormulaCell("=1+1"), "notes") == ("=1+1", None)
    assert "=1+1" in (formula_warning(FormulaCell("=1+1", ""), "notes") or "")
    text, error = convert_cell(FormulaCell("=A1"), "inn")
    assert text == "" and error and "формула" in error
    assert formula_warning(FormulaCell("=A1"), "inn") is None


def test_a_formulas_saved_value_survives_the_reader_process():
    import zipfile

    data = _xlsx([["Наименование", "Примечания"], ["А", "=1+1"]])
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b"<f>1+1</f><v></v>", b"<f>1+1</f><v>2</v>")
            dst.writestr(item, body)
    _name, cell = read_table(out.getvalue(), "f.xlsx").rows[0]
    assert isinstance(cell, FormulaCell) and cell == "=1+1" and cell.cached == 2
