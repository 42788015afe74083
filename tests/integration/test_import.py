"""Importing clients from .xlsx and .csv into a real SQLite file."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, importer
from clientplus_core.clients.import_mapping import guess_mapping
from clientplus_core.clients.importer import run_import
from clientplus_core.clients.sheets import Table, read_table
from clientplus_core.store.db import Store
from clientplus_core.team import users
from tests.conftest import VALID_INNS

HEADERS = ["Наименование", "ИНН", "Телефон", "E-mail", "Примечания", "Контактное лицо",
           "Телефон контакта"]
LONG_NAME = "Я" * 10_000
FUNNY_NAME = 'ООО "Кавычки" «Ёлки» 🎄 \'x\''


def xlsx_bytes(rows: list[list[object]], headers: list[str] = HEADERS) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8-sig", delimiter: str = ";",
              headers: list[str] = HEADERS) -> bytes:
    def q(v: object) -> str:
        s = "" if v is None else str(v)
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in '";,\n') else s

    lines = [delimiter.join(q(v) for v in r) for r in [headers, *rows]]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def do_import(store: Store, actor: Any, data: bytes, filename: str, **kw: Any):
    table = read_table(data, filename)
    return run_import(store, actor, table, guess_mapping(table.headers), **kw)


def counts(store: Store) -> dict[str, int]:
    with store.read() as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("clients", "contacts", "search_index", "client_tags", "audit_log")}


def by_name(store: Store, actor: Any) -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in clients.iter_clients(store, actor)}


def errors_by_row(report) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for e in report.errors:
        out.setdefault(e.row, set()).add(e.field)
    return out


MIXED_ROWS: list[list[object]] = [
    ["ООО «Альфа»", VALID_INNS[0], "8 916 123-45-67", "alfa@example.ru", "", "Иван Петров",
     "+7 903 111-22-33"],                                                # row 2: good + contact
    ["ООО «Бета»", "7707083894", "", "", "", "", ""],                    # row 3: bad INN checksum
    ["", VALID_INNS[1], "", "", "без имени", "", ""],                     # row 4: empty name
    [LONG_NAME, VALID_INNS[2], "", "", "", "", ""],                      # row 5: 10,000 chars
    [FUNNY_NAME, "", "", "", "😀 & <script> \"q\"", "", ""],              # row 6: emoji, quotes
    ["=HYPERLINK(\"http://evil\")", VALID_INNS[3], "", "", "", "", ""],  # row 7: formula
    ["ООО «Гамма»", float(VALID_INNS[4]), 79031234567.0, "", "", "", ""],  # row 8: floats
]


def test_an_xlsx_imports_good_rows_and_reports_each_bad_field_with_its_row(store, actor):
    rows = [list(r) for r in MIXED_ROWS]
    report = do_import(store, actor, xlsx_bytes(rows), "clients.xlsx")

    # openpyxl saved row 7's "=HYPERLINK(...)" as a real formula cell: refused, not run.
    assert report.created == 3 and report.updated == 0 and report.skipped == 0
    assert errors_by_row(report) == {3: {"inn"}, 4: {"name"}, 5: {"name"}, 7: {"name"}}
    assert "формула" in next(e.message for e in report.errors if e.row == 7)
    inn_error = next(e for e in report.errors if e.row == 3)
    assert "контрольная сумма" in inn_error.message
    assert "не длиннее 300" in next(e.message for e in report.errors if e.row == 5)

    got = by_name(store, actor)
    assert set(got) == {"ООО «Альфа»", FUNNY_NAME, "ООО «Гамма»"}
    assert got[FUNNY_NAME]["notes"] == "😀 & <script> \"q\""
    assert got["ООО «Гамма»"]["inn"] == VALID_INNS[4]
    assert got["ООО «Гамма»"]["phone"] == "+79031234567"
    assert got["ООО «Альфа»"]["phone"] == "+79161234567"


def test_a_formula_without_a_saved_value_keeps_its_text_with_a_warning(store, actor):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Наименование", "ИНН", "Примечания"])
    ws.append(["ООО «Формула»", VALID_INNS[0], "=1+1"])
    ws.append(["=CONCATENATE(\"a\",\"b\")", VALID_INNS[1], ""])
    ws.append(["ООО «Без формул»", VALID_INNS[2], "ok"])
    buf = io.BytesIO()
    wb.save(buf)
    report = do_import(store, actor, buf.getvalue(), "f.xlsx")
    # a formula without a saved value: its text kept in the notes, listed as a warning;
    # in the name it is still a row error. Nothing is evaluated.
    assert report.created == 2
    assert [(e.row, e.field) for e in report.errors] == [(3, "name")]
    assert "формула" in report.errors[0].message
    assert [(w.row, w.field) for w in report.warnings] == [(2, "notes")]
    assert "=1+1" in report.warnings[0].message
    got = by_name(store, actor)
    assert set(got) == {"ООО «Формула»", "ООО «Без формул»"}
    assert got["ООО «Формула»"]["notes"] == "=1+1"
    assert report.as_json()["warnings"][0]["row"] == 2
    assert "предупреждений: 1" in report.summary()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "cp1251"])
def test_a_semicolon_csv_imports_the_same_in_utf8_and_cp1251(store, actor, encoding):
    rows = [
        ["ООО «Ёлка»", VALID_INNS[0], "", "", "«кавычки» и ёж", "", ""],
        ["ООО «Сбой»", "7707083894", "", "", "", "", ""],
        ["=1+2", VALID_INNS[1], "", "", "", "", ""],
        ["ИП Ромашкин", "7.702070139E9", "", "", "", "", ""],
    ]
    report = do_import(store, actor, csv_bytes(rows, encoding), "clients.csv")
    assert report.created == 3
    assert [(e.row, e.field) for e in report.errors] == [(3, "inn")]
    got = by_name(store, actor)
    assert got["ООО «Ёлка»"]["notes"] == "«кавычки» и ёж"
    assert got["=1+2"]["inn"] == VALID_INNS[1]  # CSV text is plain text, stored as typed
    assert got["ИП Ромашкин"]["inn"] == "7702070139"


def test_emoji_and_a_long_name_in_csv_behave_like_in_xlsx(store, actor):
    rows = [[FUNNY_NAME, "", "", "", "", "", ""], [LONG_NAME, "", "", "", "", "", ""]]
    report = do_import(store, actor, csv_bytes(rows), "x.csv")
    assert report.created == 1
    assert [(e.row, e.field) for e in report.errors] == [(3, "name")]
    assert FUNNY_NAME in by_name(store, actor)


def test_contact_columns_create_a_contact_linked_to_the_client(store, actor):
    rows = [["ООО «Альфа»", VALID_INNS[0], "", "", "", "Иван Петров", "8 903 111-22-33"]]
    report = do_import(store, actor, xlsx_bytes(rows), "c.xlsx")
    assert report.created == 1 and not report.errors
    client = by_name(store, actor)["ООО «Альфа»"]
    (person,) = contacts.list_for_client(store, actor, client["id"])
    assert person["name"] == "Иван Петров" and person["phone"] == "+79031112233"


def test_a_bad_contact_field_refuses_the_whole_row(store, actor):
    rows = [["ООО «Альфа»", VALID_INNS[0], "", "", "", "Иван", "12345"],
            ["ООО «Бета»", VALID_INNS[1], "", "", "", "", "+7 903 111-22-33"]]
    report = do_import(store, actor, xlsx_bytes(rows), "c.xlsx")
    assert report.created == 0
    assert [(e.row, e.field) for e in report.errors] == [(2, "contact.phone"),
                                                         (3, "contact.name")]
    assert counts(store)["clients"] == 0


def test_an_existing_inn_updates_that_client_with_the_non_empty_fields(store, actor,
                                                                        make_client):
    old = make_client(name="ООО «Старое»", inn=VALID_INNS[0], email="old@example.ru",
                      notes="не трогать", tags="VIP")
    headers = ["Наименование", "ИНН", "E-mail", "Примечания", "Метки"]
    rows = [["ООО «Новое»", VALID_INNS[0], "new@example.ru", "", "опт"]]
    report = do_import(store, actor, xlsx_bytes(rows, headers), "u.xlsx")
    assert (report.created, report.updated, report.skipped) == (0, 1, 0)
    got = clients.get(store, actor, old["id"])
    assert got["name"] == "ООО «Новое»" and got["email"] == "new@example.ru"
    assert got["notes"] == "не трогать"  # an empty cell does not erase
    assert got["tags"] == ["VIP", "опт"]
    assert got["version"] == old["version"] + 1
    assert counts(store)["clients"] == 1


def test_an_update_row_may_leave_the_name_empty(store, actor, make_client):
    old = make_client(name="ООО «Имя есть»", inn=VALID_INNS[0])
    headers = ["Наименование", "ИНН", "Телефон"]
    report = do_import(store, actor, xlsx_bytes([["", VALID_INNS[0], "89161234567"]], headers),
                       "u.xlsx")
    assert report.updated == 1 and not report.errors
    got = clients.get(store, actor, old["id"])
    assert got["name"] == "ООО «Имя есть»" and got["phone"] == "+79161234567"


@pytest.mark.parametrize("mode,expected", [("update", (0, 1, 0, 1)), ("skip", (0, 0, 1, 1)),
                                           ("create", (1, 0, 0, 2))])
def test_on_duplicate_decides_between_update_skip_and_create(store, actor, make_client, mode,
                                                             expected):
    make_client(name="ООО «Было»", inn=VALID_INNS[0])
    rows = [["ООО «Стало»", VALID_INNS[0], "", "", "", "", ""]]
    report = do_import(store, actor, xlsx_bytes(rows), "d.xlsx", on_duplicate=mode)
    assert (report.created, report.updated, report.skipped, counts(store)["clients"]) == expected


def test_without_inn_the_email_or_phone_finds_the_duplicate(store, actor, make_client):
    a = make_client(name="А", email="a@example.ru")
    b = make_client(name="Б", phone="+79161234567")
    headers = ["Наименование", "E-mail", "Телефон", "Примечания"]
    rows = [["А2", "A@Example.ru", "", "по почте"], ["Б2", "", "8 (916) 123-45-67", "по тел."]]
    report = do_import(store, actor, xlsx_bytes(rows, headers), "d.xlsx")
    assert (report.created, report.updated) == (0, 2)
    assert clients.get(store, actor, a["id"])["notes"] == "по почте"
    assert clients.get(store, actor, b["id"])["notes"] == "по тел."


def test_a_second_row_with_the_same_inn_updates_the_first(store, actor):
    rows = [["ООО «Первая»", VALID_INNS[0], "", "", "первая", "", ""],
            ["ООО «Вторая»", VALID_INNS[0], "", "", "вторая", "", ""]]
    report = do_import(store, actor, xlsx_bytes(rows), "twice.xlsx")
    assert (report.created, report.updated) == (1, 1)
    (only,) = clients.iter_clients(store, actor)
    assert only["name"] == "ООО «Вторая»" and only["notes"] == "вторая"

    store2_report = do_import(store, actor, xlsx_bytes(rows), "twice.xlsx", on_duplicate="skip")
    assert (store2_report.created, store2_report.skipped) == (0, 2)


def test_importing_the_same_file_twice_does_not_duplicate_contacts(store, actor):
    rows = [["ООО «Альфа»", VALID_INNS[0], "", "", "", "Иван Петров", ""]]
    do_import(store, actor, xlsx_bytes(rows), "a.xlsx")
    report = do_import(store, actor, xlsx_bytes(rows), "a.xlsx")
    assert report.updated == 1
    assert counts(store)["contacts"] == 1


def test_a_managers_import_does_not_touch_another_managers_client(store, actor, make_client):
    users.create(store, "anna", "Анна", "manager")
    anna = users.get_actor(store, "anna")
    users.create(store, "boris", "Борис", "manager")
    boris = users.get_actor(store, "boris")
    theirs = make_client(name="ООО «Чужое»", inn=VALID_INNS[0], actor=boris)
    rows = [["ООО «Моё»", VALID_INNS[0], "", "", "", "", ""]]
    report = do_import(store, anna, xlsx_bytes(rows), "m.xlsx")
    assert report.updated == 0 and [e.field for e in report.errors] == ["inn"]
    assert clients.get(store, actor, theirs["id"])["name"] == "ООО «Чужое»"


def test_a_dry_run_writes_nothing_but_reports_the_same(store, actor, make_client):
    make_client(name="ООО «Было»", inn=VALID_INNS[0])
    rows = [list(r) for r in MIXED_ROWS] + [
        ["ООО «Повтор»", VALID_INNS[4], "", "", "", "", ""]]  # duplicate of row 8
    data = xlsx_bytes(rows)
    before = counts(store)
    dry = do_import(store, actor, data, "x.xlsx", dry_run=True)
    assert counts(store) == before
    real = do_import(store, actor, data, "x.xlsx")
    assert dry.as_json() == real.as_json()
    assert (real.created, real.updated) == (2, 2)  # row 2 updates «Было», row 9 row 8


def test_a_crash_midway_leaves_the_database_exactly_as_it_was(store, actor, make_client,
                                                              monkeypatch):
    make_client(name="ООО «До импорта»", inn=VALID_INNS[0])
    before = counts(store)
    real_create = clients.create
    calls = {"n": 0}

    def flaky_create(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls["n"] += 1
        if calls["n"] == 50:
            raise RuntimeError("disk I/O error (injected)")
        return real_create(*args, **kwargs)

    monkeypatch.setattr(importer.clients, "create", flaky_create)
    rows = [[f"ООО «Клиент {i}»", "", "", "", "", f"Контакт {i}", ""] for i in range(80)]
    with pytest.raises(RuntimeError, match="injected"):
        do_import(store, actor, xlsx_bytes(rows), "crash.xlsx")
    assert calls["n"] == 50
    assert counts(store) == before
    assert [c["name"] for c in clients.iter_clients(store, actor)] == ["ООО «До импорта»"]


def test_a_crash_in_a_contact_write_rolls_back_its_client_too(store, actor, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(importer.contacts, "create", broken)
    rows = [["ООО «Один»", "", "", "", "", "", ""], ["ООО «Два»", "", "", "", "", "Иван", ""]]
    before = counts(store)
    with pytest.raises(RuntimeError):
        do_import(store, actor, xlsx_bytes(rows), "c.xlsx")
    assert counts(store) == before


def test_a_png_renamed_to_xlsx_is_refused_with_a_user_error(store, actor):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    with pytest.raises(UserError, match="не является книгой Excel"):
        read_table(png, "clients.xlsx")
    assert counts(store)["clients"] == 0


def test_the_import_is_recorded_once_in_the_audit_log_with_its_counts(store, actor):
    rows = [["ООО «А»", "", "", "", "", "", ""], ["", "", "", "", "x", "", ""]]
    do_import(store, actor, xlsx_bytes(rows), "a.xlsx")
    with store.read() as conn:
        audits = conn.execute("SELECT summary, diff FROM audit_log WHERE action = 'import'"
                              ).fetchall()
    assert len(audits) == 1
    assert "Создано: 1" in audits[0]["summary"] and '"error_rows": 1' in audits[0]["diff"]


def test_progress_is_reported_while_importing(store, actor):
    headers = ["Наименование"]
    table = Table(headers, [[f"Клиент {i}"] for i in range(450)])
    seen: list[tuple[int, int]] = []
    report = run_import(store, actor, table, {"Наименование": "name"},
                        progress=lambda done, total: seen.append((done, total)))
    assert report.created == 450
    assert seen == [(200, 450), (400, 450), (450, 450)]


def test_rows_with_nothing_in_the_mapped_columns_are_skipped(store, actor):
    table = Table(["Наименование", "Другое"], [["А", ""], ["", "что-то"]])
    report = run_import(store, actor, table, {"Наименование": "name", "Другое": None})
    assert (report.created, report.skipped, report.errors) == (1, 1, [])


@pytest.mark.parametrize("mapping,message", [
    ({"A": None, "B": None}, "Ни один столбец"),
    ({"A": "name", "B": "name"}, "одному полю"),
    ({"A": "salary", "B": None}, "Неизвестное поле"),
])
def test_a_broken_mapping_is_refused_before_anything_is_written(store, actor, mapping,
                                                                 message):
    with pytest.raises(UserError, match=message):
        run_import(store, actor, Table(["A", "B"], [["x", "y"]]), mapping)


def test_a_viewer_may_not_import(store, actor):
    users.create(store, "vera", "Вера", "viewer")
    with pytest.raises(UserError):
        run_import(store, users.get_actor(store, "vera"), Table(["A"], [["x"]]), {"A": "name"})


# --- custom fields: by key or by label, case- and ё-insensitively ----------------------

@pytest.fixture
def industry(store, actor):
    from clientplus_core.records import custom_fields

    custom_fields.enable_preset(store, actor, "client", "industry")
    custom_fields.define(store, actor, {"entity": "client", "key": "segment_code",
                                        "label_ru": "Ёмкость рынка", "label_en": "Market size",
                                        "type": "number"})
    return custom_fields.list_fields(store, "client")


@pytest.mark.parametrize("headers", [
    ["Наименование", "Отрасль", "Ёмкость рынка"],          # the labels
    ["Наименование", "industry", "segment_code"],           # the keys
    ["Наименование", "ОТРАСЛЬ", "емкость  РЫНКА"],          # case, ё and spaces
    ["Наименование", "Industry", "Market size"],            # the English labels
])
def test_custom_field_columns_are_guessed_by_key_or_label(store, actor, industry, headers):
    table = Table(headers, [["ООО «Сталь»", "производство", "1 500"]])
    mapping = guess_mapping(table.headers, industry)
    assert mapping[headers[1]] == "extra.industry"
    assert mapping[headers[2]] == "extra.segment_code"
    report = run_import(store, actor, table, mapping)
    assert (report.created, report.errors) == (1, [])
    assert by_name(store, actor)["ООО «Сталь»"]["extra"] == {"industry": "Производство",
                                                            "segment_code": 1500}


@pytest.mark.parametrize("target", ["extra.industry", "industry", "Отрасль", "extra.ОТРАСЛЬ",
                                    "industry ", "INDUSTRY", "Industry"])
def test_an_explicit_mapping_may_name_a_custom_field_by_key_or_label(store, actor, industry,
                                                                    target):
    table = Table(["Имя", "Сфера"], [["ООО «Торг»", "Торговля"]])
    report = run_import(store, actor, table, {"Имя": "name", "Сфера": target})
    assert (report.created, report.errors) == (1, [])
    assert by_name(store, actor)["ООО «Торг»"]["extra"] == {"industry": "Торговля"}


def test_two_columns_naming_one_custom_field_differently_are_refused(store, actor, industry):
    table = Table(["A", "B", "C"], [["x", "IT", "IT"]])
    with pytest.raises(UserError, match="одному полю"):
        run_import(store, actor, table, {"A": "name", "B": "industry", "C": "Отрасль"})
    with pytest.raises(UserError, match="Неизвестное поле «Отраслевой»"):
        run_import(store, actor, table, {"A": "name", "B": "Отраслевой", "C": None})


def _with_saved_results(data: bytes, results: dict[str, str]) -> bytes:
    """The .xlsx ``data`` with ``results`` (cell -> value) written as the formulas'
    saved results, as Excel does on saving (openpyxl writes none)."""
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                for cell, value in results.items():
                    kind = "" if re.fullmatch(r"[\d.]+", value) else ' t="str"'
                    body, n = re.subn(rf'<c r="{cell}"([^>]*)>(<f>.*?</f>)<v\s*/?>(</v>)?'
                                      .encode(), f'<c r="{cell}"\\1{kind}>\\2<v>{value}</v>'
                                      .encode(), body)
                    assert n == 1, cell
            dst.writestr(item, body)
    return out.getvalue()


def test_a_formula_with_a_saved_value_imports_that_value_without_warnings(store, actor):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Наименование", "ИНН", "Примечания", "Телефон"])
    ws.append(["ООО «Кэш»", f"={VALID_INNS[0]}", "=1+1", '="8916"&"1234567"'])
    ws.append(['="ООО «"&"Склейка"&"»"', VALID_INNS[1], '=A2&" филиал"', ""])
    buf = io.BytesIO()
    wb.save(buf)
    data = _with_saved_results(buf.getvalue(), {
        "B2": VALID_INNS[0], "C2": "2", "D2": "89161234567", "A3": "ООО «Склейка»",
        "C3": "ООО «Кэш» филиал"})
    report = do_import(store, actor, data, "cached.xlsx")
    assert report.errors == [] and report.warnings == []
    assert report.created == 2
    got = by_name(store, actor)
    assert got["ООО «Кэш»"]["notes"] == "2"
    assert got["ООО «Кэш»"]["inn"] == VALID_INNS[0]
    assert got["ООО «Кэш»"]["phone"] == "+79161234567"
    assert got["ООО «Склейка»"]["notes"] == "ООО «Кэш» филиал"


IP_INN, OGRNIP = "500100732259", "304500116000180"


def test_the_type_is_inferred_when_no_column_gives_it(store, actor):
    headers = ["Наименование", "ИНН", "ОГРН"]
    rows = [["ИП Петров Пётр Петрович", IP_INN, ""],
            ["Индивидуальный предприниматель Сидоров", IP_INN, ""],
            ["Петров Пётр Петрович", IP_INN, ""],
            ["Кузнецов Иван", IP_INN, OGRNIP],
            ["ООО «Десять цифр»", VALID_INNS[0], ""]]
    report = do_import(store, actor, csv_bytes(rows, headers=headers), "kinds.csv",
                       on_duplicate="create")
    assert report.errors == [] and report.created == 5
    kinds = {n: c["kind"] for n, c in by_name(store, actor).items()}
    assert kinds == {"ИП Петров Пётр Петрович": "ip",
                     "Индивидуальный предприниматель Сидоров": "ip",
                     "Петров Пётр Петрович": "person", "Кузнецов Иван": "ip",
                     "ООО «Десять цифр»": "legal"}


def test_a_type_column_still_decides_and_an_empty_cell_is_inferred(store, actor):
    headers = ["Наименование", "ИНН", "Тип"]
    rows = [["ИП Иванов", IP_INN, ""], ["Ромашка", VALID_INNS[0], "юр. лицо"],
            ["ИП Ошибкин", IP_INN, "юр. лицо"]]
    report = do_import(store, actor, csv_bytes(rows, headers=headers), "typed.csv",
                       on_duplicate="create")
    assert report.created == 2
    assert [(e.row, e.field) for e in report.errors] == [(4, "inn")]
    assert "юридического лица" in report.errors[0].message
    kinds = {n: c["kind"] for n, c in by_name(store, actor).items()}
    assert kinds == {"ИП Иванов": "ip", "Ромашка": "legal"}
