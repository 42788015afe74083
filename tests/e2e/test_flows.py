"""Main user flows in a real browser: create a client, attach and find a file,
import from Excel, download the registry, the sidebar search, the language switch.

Each test starts its own server on a fresh data folder seeded through the core
(local single-user mode: the administrator is signed in automatically).
st.dataframe draws into a canvas, so table cells are checked through downloaded
files, captions, metrics or the database, never through the DOM.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from openpyxl import Workbook, load_workbook
from playwright.sync_api import expect

from clientplus_core.clients import cards as clients
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from ..integration.test_search_files import _pdf
from .conftest import shot, wait_idle

LONG = 30_000  # ms: Streamlit reruns on a shared 2-core machine can be slow


def _seed(tmp_path: Path, rows: list[dict] | None = None):
    """A data folder with the local admin and ``rows`` clients: (dir, store, admin, made)."""
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    made = [clients.create(store, admin, r, allow_duplicate=True) for r in rows or []]
    return data, store, admin, made


def _all_clients(store, admin) -> list[dict]:
    return clients.list_clients(store, admin, ClientFilter(), page=1, page_size=500).rows


def _open(page, url: str) -> None:
    page.goto(url)
    wait_idle(page, 40)


def _sidebar_search(page, text: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_label("Поиск", exact=True)
    box.fill(text)
    box.press("Enter")


def test_a_new_client_is_saved_only_with_a_valid_inn(server_factory, page, tmp_path):
    data, store, admin, _ = _seed(tmp_path)
    srv = server_factory(data)
    _open(page, srv.url + "/")
    page.get_by_role("link", name="Новый клиент").click()
    expect(page.get_by_role("heading", name="Новый клиент")).to_be_visible(timeout=LONG)
    wait_idle(page)

    main = page.get_by_test_id("stMain")
    main.get_by_label("Наименование", exact=True).fill("ООО «Ромашка»")
    main.get_by_label("ИНН", exact=True).fill("7707083894")  # bad check digit
    main.get_by_label("Телефон", exact=True).fill("+7 495 123-45-67")
    main.get_by_role("button", name="Сохранить").click()
    wait_idle(page)
    error = main.get_by_test_id("stAlertContentError")
    expect(error).to_be_visible(timeout=LONG)
    expect(error).to_contain_text("Не сохранено")
    expect(error).to_contain_text("ИНН")
    shot(page, "flow-create-bad-inn")
    assert _all_clients(store, admin) == [], "nothing is saved with a wrong INN"

    main.get_by_label("ИНН", exact=True).fill("7707083893")
    main.get_by_role("button", name="Сохранить").click()
    expect(page.get_by_role("heading", name="ООО «Ромашка»")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Клиент «ООО «Ромашка»» создан")).to_be_visible()
    wait_idle(page)
    shot(page, "flow-create-saved")

    rows = _all_clients(store, admin)
    assert [(r["name"], r["inn"]) for r in rows] == [("ООО «Ромашка»", "7707083893")]
    assert rows[0]["phone"] == "+74951234567"
    assert f"id={rows[0]['id']}" in page.url


def test_an_uploaded_pdf_is_found_by_a_word_inside_it(server_factory, page, tmp_path):
    data, store, admin, (client,) = _seed(tmp_path, [{"name": "ООО «Файловый»"}])
    srv = server_factory(data)
    _open(page, f"{srv.url}/client?id={client['id']}")
    expect(page.get_by_role("heading", name="ООО «Файловый»")).to_be_visible(timeout=LONG)
    # A deep link as the first visit to a fresh server is still served through app.py
    # (its menu and sidebar search), not Streamlit's automatic pages/ folder menu.
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_label("Поиск", exact=True)).to_be_visible(timeout=LONG)
    expect(sidebar.get_by_text("app", exact=True)).to_have_count(0)
    page.get_by_role("tab", name="Файлы и ссылки").click()
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Прикрепить файлы")
    expect(uploader).to_be_visible(timeout=LONG)
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "invoice-zephyr.pdf", "mimeType": "application/pdf",
        "buffer": _pdf("Quarterly invoice for Zephyrine deliveries")}])
    expect(page.get_by_text("«invoice-zephyr.pdf» загружен")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("текст извлечён").first).to_be_visible()
    wait_idle(page)
    shot(page, "flow-file-uploaded")

    _sidebar_search(page, "zephyrine")
    page.wait_for_url(re.compile(r"/search\?q=zephyrine"), timeout=LONG)
    expect(page.get_by_text("Найдено: 1")).to_be_visible(timeout=LONG)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("invoice-zephyr.pdf")).to_be_visible()
    mark = main.locator("mark")
    expect(mark.first).to_have_text(re.compile("zephyrine", re.I))
    expect(main.get_by_role("link", name="ООО «Файловый»")).to_be_visible()
    wait_idle(page)
    shot(page, "flow-file-search")


def _xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["Наименование", "ИНН", "Телефон"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _metric(page, label: str):
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    ).get_by_test_id("stMetricValue")


def test_an_excel_import_creates_the_good_rows_and_reports_the_bad_one(
        server_factory, page, tmp_path):
    data, store, admin, _ = _seed(tmp_path)
    srv = server_factory(data)
    book = _xlsx([["ООО «Альфа»", "7707083893", "+7 495 111-11-11"],
                  ["ООО «Бета»", "7736207543", "+7 495 222-22-22"],
                  ["ООО «Гамма»", "7702070139", "+7 495 333-33-33"],
                  ["ООО «Дельта»", "7710140670", "+7 495 444-44-44"]])  # bad INN: row 5
    _open(page, srv.url + "/import")
    expect(page.get_by_role("heading", name="Импорт клиентов")).to_be_visible(timeout=LONG)
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(files=[{
        "name": "clients.xlsx",
        "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "buffer": book}])
    expect(page.get_by_text("Строк в файле: 4")).to_be_visible(timeout=LONG)
    wait_idle(page)

    page.get_by_role("button", name="Проверить (без записи)").click()
    expect(page.get_by_text("Результат проверки (ничего не записано)")).to_be_visible(
        timeout=LONG)
    expect(_metric(page, "Будет создано")).to_have_text("3")
    expect(_metric(page, "Строк с ошибками")).to_have_text("1")
    assert _all_clients(store, admin) == [], "the check writes nothing"

    page.get_by_role("button", name="Импортировать").click()
    expect(page.get_by_text("Результат импорта")).to_be_visible(timeout=LONG)
    expect(_metric(page, "Создано")).to_have_text("3")
    expect(_metric(page, "Строк с ошибками")).to_have_text("1")
    expect(page.get_by_text("Этот файл уже импортирован")).to_be_visible()
    wait_idle(page)
    # the main area scrolls inside its own container: bring the report into view
    page.get_by_role("button", name="Скачать ошибки (Excel)").scroll_into_view_if_needed()
    shot(page, "flow-import-result")

    with page.expect_download(timeout=LONG) as dl:
        page.get_by_role("button", name="Скачать ошибки (Excel)").click()
    report = tmp_path / "errors.xlsx"
    dl.value.save_as(report)
    ws = load_workbook(report).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == ["Строка", "Поле", "Ошибка"]
    assert len(rows) == 2, rows
    assert rows[1][0] in (5, "5") and "ИНН" in str(rows[1][1]) + str(rows[1][2])

    names = sorted(r["name"] for r in _all_clients(store, admin))
    assert names == ["ООО «Альфа»", "ООО «Бета»", "ООО «Гамма»"]


def test_the_registry_downloads_exactly_the_filtered_clients_as_excel(
        server_factory, page, tmp_path):
    data, store, admin, _ = _seed(tmp_path, [
        {"kind": "legal", "name": "ООО «Первое»", "inn": "7707083893"},
        {"kind": "legal", "name": "ООО «Второе»", "inn": "7736207543"},
        {"kind": "legal", "name": "ООО «Третье»"},
        {"kind": "ip", "name": "ИП Иванов Иван"},
        {"kind": "ip", "name": "ИП Петров Пётр"},
    ])
    srv = server_factory(data)
    _open(page, srv.url + "/")
    expect(page.get_by_text("Найдено клиентов: 5")).to_be_visible(timeout=LONG)

    kind = page.get_by_test_id("stSelectbox").filter(has_text="Тип")
    kind.click()
    page.get_by_role("option", name="ИП", exact=True).click()
    expect(page.get_by_text("Найдено клиентов: 2")).to_be_visible(timeout=LONG)
    wait_idle(page)

    page.get_by_role("button", name="Подготовить Excel").click()
    download = page.get_by_role("button", name="Скачать Excel (2)")
    expect(download).to_be_visible(timeout=LONG)
    wait_idle(page)
    shot(page, "flow-registry-excel")
    with page.expect_download(timeout=LONG) as dl:
        download.click()
    assert dl.value.suggested_filename.endswith(".xlsx")
    path = tmp_path / "registry.xlsx"
    dl.value.save_as(path)

    ws = load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    header = rows[0]
    assert "Наименование" in header, header
    name_col = header.index("Наименование")
    names = sorted(r[name_col] for r in rows[1:] if any(v is not None for v in r))
    assert names == ["ИП Иванов Иван", "ИП Петров Пётр"]


def test_the_sidebar_search_finds_a_phone_typed_in_another_format(
        server_factory, page, tmp_path):
    data, store, admin, (client, _) = _seed(tmp_path, [
        {"name": "ООО «Телефонный»", "phone": "+79161234567"},
        {"name": "ООО «Посторонний»", "phone": "+74950000000"},
    ])
    srv = server_factory(data)
    _open(page, srv.url + "/")
    expect(page.get_by_text("Найдено клиентов: 2")).to_be_visible(timeout=LONG)

    _sidebar_search(page, "8 (916) 123-45-67")
    page.wait_for_url(re.compile(r"/search\?q="), timeout=LONG)
    expect(page.get_by_text("Найдено: 1")).to_be_visible(timeout=LONG)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("ООО «Телефонный»")).to_be_visible()
    expect(main.get_by_text("ООО «Посторонний»")).to_have_count(0)
    wait_idle(page)
    shot(page, "flow-phone-search")

    main.get_by_role("link", name="Открыть карточку").click()
    expect(page.get_by_role("heading", name="ООО «Телефонный»")).to_be_visible(timeout=LONG)
    page.wait_for_url(re.compile(rf"/client\?id={client['id']}$"), timeout=LONG)
    wait_idle(page)
    shot(page, "flow-phone-search-card")


def test_the_language_switch_shows_english_labels(server_factory, page, tmp_path):
    data, *_ = _seed(tmp_path, [{"name": "ООО «Язык»"}])
    srv = server_factory(data)
    _open(page, srv.url + "/")
    expect(page.get_by_role("heading", name="Клиенты")).to_be_visible(timeout=LONG)

    switch = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Язык / Language")
    expect(switch.get_by_role("radio", name="RU", exact=True)).to_be_checked()
    switch.get_by_role("radio", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible(timeout=LONG)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("link", name="New client")).to_be_visible()
    expect(page.get_by_text("Clients found: 1")).to_be_visible()
    expect(page.get_by_role("button", name="Prepare Excel")).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_label("Search", exact=True)).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out")).to_be_visible()
    expect(page.get_by_text("Найдено клиентов")).to_have_count(0)
    expect(switch.get_by_role("radio", name="EN", exact=True)).to_be_checked()
    wait_idle(page)
    shot(page, "flow-language-en")
