"""Issue 13, points 4 and 7 in a real browser: a demo data folder as the first start
makes it; no page asks any host but the app's own server for anything (the tab's
icon included); the dashboard's segment filter offers the demo's segments; the
client picker puts «ПАО Сбербанк» first; «Открыть существующего» opens that card."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from clientplus_core import demo
from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

LONG = 30_000
SBER_INN = "7707083893"
# every page of the menu, by its address (app.py's url paths)
PAGES = ("clients", "sales", "tasks", "bank", "search?q=Сбербанк", "dashboard", "reports",
         "segments", "builder", "addressbooks", "mailings", "consent", "catalogue", "import",
         "lookup_refresh", "settings", "users", "audit", "trash", "profile")
LOCAL = {"127.0.0.1", "localhost"}


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A small demo folder (clients with custom fields and saved segments, sales) with
    Sberbank itself among them; no passwords: the local administrator."""
    data = tmp_path_factory.mktemp("out-of-the-box") / "data"
    store = open_store(data)
    demo.generate(store, 60, seed=5, with_files=False)
    demo.generate_sales(store, 150, seed=5)
    admin = users.ensure_local_admin(store)
    for n in range(3):
        clients.create(store, admin, {"name": f"ООО «Клиент Сбера {n}»",
                                      "bank_name": "ПАО Сбербанк"}, allow_duplicate=True)
    bank = clients.create(store, admin, {"name": "ПАО Сбербанк", "inn": SBER_INN},
                          allow_duplicate=True)
    with store.read() as conn:
        sale_id = int(conn.execute("SELECT min(id) FROM sales").fetchone()[0])
    return data, {"bank": int(bank["id"]), "sale": sale_id}


def test_no_page_asks_any_other_host(server_factory, page, demo_data):
    data, ids = demo_data
    srv = server_factory(data)
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    for path in (*PAGES, f"client?id={ids['bank']}", f"sale?id={ids['sale']}"):
        page.goto(f"{srv.url}/{path}")
        wait_idle(page, 40)
        expect(page.get_by_test_id("stException")).to_have_count(0)
        # the page's own content is there (the sign-in form would mean nothing loaded)
        expect(page.get_by_test_id("stMain").get_by_role("heading").first).to_be_visible()
    icon = page.locator("link[rel~='icon']").first.get_attribute("href") or ""
    assert icon and urlsplit(icon).hostname in (None, *LOCAL), icon
    foreign = sorted({u for u in asked if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(u).hostname not in LOCAL})
    assert not foreign, foreign
    assert len(asked) > len(PAGES)  # the listener did see the app's own requests


def _segment_filter(page) -> None:
    main = page.get_by_test_id("stMain")
    main.get_by_text(re.compile("^(Товар и сегмент|Product and segment)$")).click()
    wait_idle(page)
    box = main.get_by_test_id("stSelectbox").filter(
        has_text=re.compile("Сегмент клиентов|Client segment"))
    box.click()


def test_the_dashboard_segment_filter_offers_the_demo_segments(server_factory, page,
                                                               demo_data):
    data, _ = demo_data
    srv = server_factory(data)
    page.goto(f"{srv.url}/dashboard")
    expect(page.get_by_role("heading", name="Дашборд")).to_be_visible(timeout=LONG)
    wait_idle(page, 40)
    _segment_filter(page)
    for name in ("IT-компании", "Бюджетные организации", "Производство, 51–250 сотрудников",
                 "Женщины 25–34 лет"):
        expect(page.get_by_role("option", name=name, exact=True)).to_be_visible()
    shot(page, "dashboard-segment-filter-ru")
    page.get_by_role("option", name="IT-компании", exact=True).click()
    wait_idle(page, 40)
    expect(page.get_by_test_id("stException")).to_have_count(0)

    switch = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Язык / Language")
    switch.get_by_role("radio", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible(timeout=LONG)
    wait_idle(page, 40)
    _segment_filter(page)
    expect(page.get_by_role("option", name="Бюджетные организации", exact=True)).to_be_visible()
    shot(page, "dashboard-segment-filter-en")


def test_the_task_client_picker_lists_sberbank_itself_first(server_factory, page, demo_data):
    data, _ = demo_data
    srv = server_factory(data)
    page.goto(f"{srv.url}/tasks")
    expect(page.get_by_role("heading", name="Задачи")).to_be_visible(timeout=LONG)
    wait_idle(page, 40)
    main = page.get_by_test_id("stMain")
    main.get_by_text("Новая задача", exact=True).click()
    wait_idle(page)
    main.get_by_label("Найти клиента").first.fill("Сбербанк")
    main.get_by_label("Найти клиента").first.press("Enter")
    wait_idle(page)
    main.get_by_test_id("stSelectbox").filter(has_text="Клиент (необязательно)").click()
    options = page.get_by_role("option")
    expect(options.first).to_have_text("ПАО Сбербанк")
    assert options.count() >= 4
    shot(page, "picker-sberbank-first")
    page.keyboard.press("Escape")

    main.get_by_label("Найти клиента").first.fill("Щщщъ")
    main.get_by_label("Найти клиента").first.press("Enter")
    wait_idle(page)
    picker = main.get_by_test_id("stSelectbox").filter(has_text="Клиент (необязательно)")
    box = picker.get_by_role("combobox")
    expect(box).to_have_attribute("placeholder", "Ничего не найдено — измените запрос")
    expect(box).to_be_disabled()
    shot(page, "picker-nothing-found")
    expect(page.get_by_text("No results")).to_have_count(0)


def test_open_the_existing_one_opens_its_card_at_once(server_factory, page, demo_data):
    data, ids = demo_data
    srv = server_factory(data)
    page.goto(f"{srv.url}/client?new=1")
    expect(page.get_by_role("heading", name="Новый клиент")).to_be_visible(timeout=LONG)
    wait_idle(page, 40)
    main = page.get_by_test_id("stMain")
    main.get_by_label("Наименование", exact=True).fill("ООО «Ещё один Сбер»")
    main.get_by_label("ИНН", exact=True).fill(SBER_INN)
    main.get_by_role("button", name="Сохранить").click()
    wait_idle(page)
    button = main.get_by_role("button", name=f"Открыть существующего (№{ids['bank']})")
    expect(button).to_be_visible(timeout=LONG)
    shot(page, "duplicate-open-existing")
    button.click()
    expect(page.get_by_role("heading", name="ПАО Сбербанк")).to_be_visible(timeout=LONG)
    page.wait_for_url(re.compile(rf"/client\?id={ids['bank']}$"), timeout=LONG)
    wait_idle(page)
    expect(page.get_by_role("heading", name="Новый клиент")).to_have_count(0)
    assert "new=1" not in page.url
