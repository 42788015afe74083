"""The import page, driven with AppTest: guess, check, import, refuse a bad file.

AppTest cannot drive a file uploader, so each test puts ``(filename, bytes)`` into
``st.session_state["import.upload"]`` — the key the page's uploader writes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "import.py")

CSV_HEADER = "Наименование;ИНН;Телефон;E-mail;Контактное лицо\n"
GOOD_ROWS = ("ООО «Ромашка»;7707083893;+7 495 123-45-67;info@romashka.ru;Иванов Иван\n"
             "ООО «Лютик»;7736207543;;;\n")
BAD_INN_ROW = "ООО «Ошибка»;7707083894;;;\n"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("CLIENTPLUS_DATA", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()


def page_with(upload: tuple[str, bytes]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["import.upload"] = upload
    return at.run()


def client_names(folder: Path) -> list[str]:
    store = open_store(folder)
    actor = users.ensure_local_admin(store)
    return sorted(c["name"] for c in clients.iter_clients(store, actor))


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_columns_are_mapped_from_russian_headers(data_dir: Path) -> None:
    at = page_with(("clients.csv", (CSV_HEADER + GOOD_ROWS).encode()))
    assert not at.exception
    chosen = {sb.label: sb.value for sb in at.selectbox}
    assert chosen["Наименование"] == "name"
    assert chosen["ИНН"] == "inn"
    assert chosen["Телефон"] == "phone"
    assert chosen["E-mail"] == "email"
    assert chosen["Контактное лицо"] == "contact.name"
    preview = at.dataframe[0].value
    assert list(preview.columns)[:3] == ["Строка", "Наименование", "ИНН"]
    assert list(preview["Строка"]) == [2, 3]


def test_windows_1251_csv_is_read(data_dir: Path) -> None:
    at = page_with(("clients.csv", (CSV_HEADER + GOOD_ROWS).encode("cp1251")))
    assert not at.exception and not at.error
    assert {sb.label: sb.value for sb in at.selectbox}["ИНН"] == "inn"
    assert "ООО «Ромашка»" in list(at.dataframe[0].value["Наименование"])


def test_dry_run_reports_the_bad_inn_row_and_writes_nothing(data_dir: Path) -> None:
    at = page_with(("clients.csv", (CSV_HEADER + GOOD_ROWS + BAD_INN_ROW).encode()))
    at.button(key="import.dry").click().run()
    assert not at.exception
    assert metrics(at)["Будет создано"] == "2"
    assert metrics(at)["Строк с ошибками"] == "1"
    bad = at.dataframe[-1].value
    assert list(bad["Строка"]) == [4]
    assert list(bad["Поле"]) == ["ИНН"]
    assert "контрольная сумма" in bad["Ошибка"][0]
    assert any(b.label == "Скачать ошибки (Excel)" for b in at.get("download_button"))
    assert client_names(data_dir) == []


def test_import_creates_clients_shows_counts_and_does_not_repeat(data_dir: Path) -> None:
    at = page_with(("clients.csv", (CSV_HEADER + GOOD_ROWS + BAD_INN_ROW).encode()))
    at.button(key="import.run").click().run()
    assert not at.exception
    assert metrics(at)["Создано"] == "2"
    assert metrics(at)["Строк с ошибками"] == "1"
    assert client_names(data_dir) == ["ООО «Лютик»", "ООО «Ромашка»"]
    store = open_store(data_dir)
    actor = users.ensure_local_admin(store)
    romashka = next(c for c in clients.iter_clients(store, actor) if c["inn"] == "7707083893")
    assert [c["name"] for c in contacts.list_for_client(store, actor, romashka["id"])] == [
        "Иванов Иван"]

    assert at.button(key="import.run").disabled
    assert "уже импортирован" in at.info[0].value
    at.run()  # a rerun must not import the file again
    assert at.button(key="import.run").disabled
    assert client_names(data_dir) == ["ООО «Лютик»", "ООО «Ромашка»"]
    assert metrics(at)["Создано"] == "2"


def test_a_formula_in_the_notes_is_imported_as_text_and_shown_as_a_warning(data_dir: Path
                                                                          ) -> None:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["Наименование", "ИНН", "Примечания"])
    wb.active.append(["ООО «Формула»", "7707083893", "=1+1"])
    buf = io.BytesIO()
    wb.save(buf)
    at = page_with(("clients.xlsx", buf.getvalue()))
    at.button(key="import.run").click().run()
    assert not at.exception
    assert metrics(at)["Создано"] == "1" and metrics(at)["Строк с ошибками"] == "0"
    assert any("строка 2" in w.value and "=1+1" in w.value for w in at.warning)
    assert client_names(data_dir) == ["ООО «Формула»"]


def test_mapping_survives_reruns_and_a_changed_choice_is_used(data_dir: Path) -> None:
    at = page_with(("clients.csv", (CSV_HEADER + GOOD_ROWS).encode()))
    phone = next(sb for sb in at.selectbox if sb.label == "Телефон")
    phone.select_index(0).run()  # «— не импортировать —»
    at.run()
    assert {sb.label: sb.value for sb in at.selectbox}["Телефон"] is None
    assert "Телефон" not in list(at.dataframe[0].value.columns)


def test_png_named_xlsx_shows_a_clear_error(data_dir: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    at = page_with(("clients.xlsx", png))
    assert not at.exception
    assert len(at.error) == 1
    assert "не является книгой Excel" in at.error[0].value
    assert not at.selectbox


def test_headers_are_shown_as_plain_text(data_dir: Path) -> None:
    at = page_with(("clients.csv", "**Наименование**;[ИНН](http://x)\nООО «А»;7707083893\n"
                    .encode()))
    assert not at.exception
    labels = [sb.label for sb in at.selectbox]
    assert labels == ["\\*\\*Наименование\\*\\*", "\\[ИНН\\](http://x)"]


def test_a_viewer_cannot_import(data_dir: Path) -> None:
    viewer = users.create(open_store(data_dir), "viewer1", "Вера", role="viewer")
    at = AppTest.from_file(PAGE, default_timeout=30)
    at.session_state["auth.actor"] = viewer
    at.session_state["import.upload"] = ("clients.csv", (CSV_HEADER + GOOD_ROWS).encode())
    at.run()
    assert not at.exception
    assert at.error[0].value == "Нет доступа к этой странице."
    assert not at.button
