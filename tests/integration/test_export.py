"""Exporting the client registry to .xlsx and .csv, read back as a user would."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from clientplus_core.base.errors import UserError
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.clients.export import (
    COLUMNS,
    export_clients,
    export_clients_bytes,
    rows_to_xlsx,
    safe_cell,
)
from clientplus_core.clients.import_mapping import guess_mapping
from clientplus_core.clients.importer import run_import
from clientplus_core.clients.sheets import read_table
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from tests.conftest import VALID_INNS

RISKY = ['=HYPERLINK("http://x")', "+1", "-2", "@cmd", " =1+1", "\t=2"]


def read_xlsx(data: bytes) -> tuple[Any, list[list[Any]]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    return ws, [[c.value for c in row] for row in ws.iter_rows()]


def column(rows: list[list[Any]], header: str) -> list[Any]:
    i = rows[0].index(header)
    return [r[i] for r in rows[1:]]


def test_an_export_after_a_filter_holds_exactly_the_filtered_clients(store, actor,
                                                                     make_client):
    make_client(name="ООО «Ромашка»", tags="VIP")
    make_client(name="ООО «Ромашка-2»", tags="опт")
    make_client(name="ИП Лютиков", kind="ip")
    f = ClientFilter(query="Ромашка", tag="VIP")
    ws, rows = read_xlsx(export_clients_bytes(store, actor, f))
    assert column(rows, "Наименование") == ["ООО «Ромашка»"]
    _ws, everyone = read_xlsx(export_clients_bytes(store, actor, ClientFilter()))
    assert set(column(everyone, "Наименование")) == {"ИП Лютиков", "ООО «Ромашка»",
                                                     "ООО «Ромашка-2»"}
    _ws, only_ip = read_xlsx(export_clients_bytes(store, actor, ClientFilter(kind="ip")))
    assert column(only_ip, "Тип") == ["ИП"]


def test_the_xlsx_has_labelled_columns_and_readable_values(store, actor, make_client):
    c = make_client(name="ООО «Альфа»", inn=VALID_INNS[0], phone="+79161234567",
                    tags="VIP, опт", email="a@example.ru")
    ws, rows = read_xlsx(export_clients_bytes(store, actor, None))
    assert rows[0] == list(COLUMNS)
    assert rows[0][:3] == ["№", "Тип", "Наименование"]
    assert rows[0][-3:] == ["Метки", "Ответственный", "Создан"]
    (row,) = rows[1:]
    got = dict(zip(rows[0], row, strict=True))
    assert got["№"] == c["id"] and got["Тип"] == "Юр. лицо" and got["ИНН"] == VALID_INNS[0]
    assert got["Телефон"] == "8 (916) 123-45-67"
    assert got["Метки"] == "VIP, опт"
    assert got["Ответственный"] == actor.full_name
    assert got["Создан"].date() == date.fromisoformat(c["created_at"][:10])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(COLUMNS))}2"
    assert ws["A1"].font.b is True
    assert ws.column_dimensions["C"].width >= 20


def test_risky_texts_read_back_as_plain_strings_not_formulas(store, actor, make_client):
    for i, notes in enumerate(RISKY):
        make_client(name=f"{i} " + notes.strip(), notes=notes)
    make_client(name='=HYPERLINK("http://x")', notes="обычный")
    data = export_clients_bytes(store, actor, ClientFilter(sort="id"))
    wb = openpyxl.load_workbook(io.BytesIO(data))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    name_col, notes_col = header.index("Наименование") + 1, header.index("Примечания") + 1
    notes = [ws.cell(r, notes_col) for r in range(2, ws.max_row + 1)]
    names = [ws.cell(r, name_col) for r in range(2, ws.max_row + 1)]
    assert [c.value for c in notes[: len(RISKY)]] == [n.strip() for n in RISKY]
    assert names[-1].value == '=HYPERLINK("http://x")'
    for cell in [*notes, *names]:
        assert cell.data_type == "s", (cell.coordinate, cell.value)
    # and with data_only the value is still the text (no cached formula result)
    wb2 = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    assert wb2.worksheets[0].cell(ws.max_row, name_col).value == '=HYPERLINK("http://x")'
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet_xml = zf.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_the_csv_opens_as_utf8_with_bom_and_semicolons_and_defuses_formulas(store, actor,
                                                                            make_client,
                                                                            tmp_path: Path):
    make_client(name='=HYPERLINK("http://x")', notes="+1", phone="+79161234567")
    make_client(name="ООО «Ёлка»; и точка с запятой", notes="-2")
    out = tmp_path / "clients.csv"
    assert export_clients(store, actor, ClientFilter(sort="id"), out, "csv") == 2
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with open(out, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[0] == list(COLUMNS)
    got = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    assert got[0]["Наименование"] == "'=HYPERLINK(\"http://x\")"
    assert got[0]["Примечания"] == "'+1" and got[1]["Примечания"] == "'-2"
    assert got[0]["Телефон"] == "8 (916) 123-45-67"
    assert got[1]["Наименование"] == "ООО «Ёлка»; и точка с запятой"
    assert not list(tmp_path.glob("*.part"))


def test_a_manager_exports_only_the_clients_they_see(store, actor, make_client):
    users.create(store, "anna", "Анна", "manager")
    anna = users.get_actor(store, "anna")
    make_client(name="Чужой")
    make_client(name="Свой", actor=anna)
    _ws, rows = read_xlsx(export_clients_bytes(store, anna, ClientFilter()))
    assert column(rows, "Наименование") == ["Свой"]


def test_an_export_is_recorded_in_the_audit_log(store, actor, make_client):
    make_client()
    export_clients_bytes(store, actor, ClientFilter(), "csv")
    with store.read() as conn:
        row = conn.execute("SELECT summary FROM audit_log WHERE action = 'export'").fetchone()
    assert row is not None and "1" in row["summary"]


def test_an_unknown_format_is_refused(store, actor):
    with pytest.raises(UserError):
        export_clients_bytes(store, actor, None, "pdf")


def test_progress_reaches_the_total(store, actor, make_client):
    for _ in range(3):
        make_client()
    seen: list[tuple[int, int]] = []
    export_clients(store, actor, None, io.BytesIO(), "xlsx",
                   progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (3, 3)


def test_an_exported_xlsx_imports_back_into_an_empty_crm(store, actor, make_client,
                                                        tmp_path: Path):
    make_client(name='ООО "Кавычки" 🎄', inn=VALID_INNS[0], phone="+79161234567",
                email="a@example.ru", tags="VIP, опт", notes="=1+1", kind="legal")
    make_client(name="Иванов Иван", kind="person", notes="-минус")
    data = export_clients_bytes(store, actor, ClientFilter(sort="id"))

    other = open_store(tmp_path / "other")
    admin = users.ensure_local_admin(other)
    table = read_table(data, "export.xlsx")
    report = run_import(other, admin, table, guess_mapping(table.headers))
    assert (report.created, report.errors) == (2, [])
    from clientplus_core.clients import cards as clients

    a, b = clients.iter_clients(other, admin, ClientFilter(sort="id"))
    assert a["name"] == 'ООО "Кавычки" 🎄' and a["inn"] == VALID_INNS[0]
    assert a["phone"] == "+79161234567" and a["tags"] == ["VIP", "опт"]
    assert a["notes"] == "=1+1"  # a text cell stays text, it is not a formula
    assert b["kind"] == "person" and b["notes"] == "-минус"


@pytest.mark.parametrize("value,fmt,expected", [
    ("=1+1", "csv", "'=1+1"), ("+79161234567", "csv", "'+79161234567"), ("@x", "csv", "'@x"),
    ("  -2", "csv", "'  -2"), ("\tx", "csv", "'\tx"), ("\rx", "csv", "'\rx"),
    ("ООО", "csv", "ООО"), ("", "csv", ""), (-5, "csv", -5), (None, "csv", None),
    ("a=b", "csv", "a=b"), ("=1+1", "xlsx", "=1+1"),
])
def test_safe_cell_neutralises_only_what_a_spreadsheet_could_run(value, fmt, expected):
    assert safe_cell(value, fmt) == expected


def test_a_workbook_with_many_columns_and_odd_values_reads_back_intact():
    headers = [f"Колонка {i}" for i in range(30)]
    row: list[object] = ["  пробелы  ", "a\r\nb", "<&>\"'", "ctl\x01x", True, 1.25, 10**12,
                         None, "", "😀"] + [f"v{i}" for i in range(20)]
    ws, rows = read_xlsx(rows_to_xlsx(headers, [row]))
    assert rows[0][-1] == "Колонка 29" and ws["AD1"].value == "Колонка 29"
    assert rows[1][:10] == ["  пробелы  ", "a\r\nb", "<&>\"'", "ctlx", True, 1.25, 10**12,
                            None, None, "😀"]


def test_rows_to_xlsx_is_a_safe_generic_table_writer():
    data = rows_to_xlsx(["Сумма", "Текст", "Дата"],
                        [[10, "=SUM(A1:A2)", date(2026, 1, 31)], [-3, "@x", None]],
                        sheet="Продажи: [2026]")
    ws, rows = read_xlsx(data)
    assert ws.title == "Продажи 2026"
    assert rows[1][:2] == [10, "=SUM(A1:A2)"] and rows[2][:2] == [-3, "@x"]
    assert ws["B2"].data_type == "s" and ws["A3"].data_type == "n"
    assert rows[1][2].date() == date(2026, 1, 31)
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:C3"
