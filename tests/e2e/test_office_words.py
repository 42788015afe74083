"""Issue 13, the rest of part 2 in a real browser on demo data: the sign-in page in the
default language of the settings, the lockout saying until when in Moscow time, the
revenue chart's months as people write them («янв 2026» / «Jan 2026»), the manager
picker following the RU/EN switch, the sale's history tab, the «Язык и время» settings
and the signatory's gender on the client card — screenshots in RU and EN."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from clientplus_core import demo, sales
from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.store.startup import open_store
from clientplus_core.team import auth

from .conftest import shot, wait_idle

LONG = 40_000
PASSWORD = "office-secret-1"


def _data(tmp_path: Path) -> tuple[Path, int, int]:
    data = tmp_path / "office"
    store = open_store(data)
    boss = auth.add_user(store, None, "boss", PASSWORD, "admin", "Начальник Отдела")
    demo.generate(store, 30, seed=3, with_files=False)
    demo.generate_sales(store, 120, seed=3)
    settings.put(store, boss, "language", "en")
    client = clients.create(store, boss, {"name": "ООО «Ким и партнёры»", "kind": "legal",
                                          "director_name": "Ким А. С."})
    sale = sales.create(store, boss, {"client_id": client["id"], "title": "Поставка",
                                      "lines": [{"name": "Монтаж", "qty": 1, "price": "12000",
                                                 "vat_code": "22"}]})
    sales.update(store, boss, sale["id"], {"discount": "10"}, sale["version"])
    sales.set_status(store, boss, sale["id"], "invoiced")
    return data, int(client["id"]), int(sale["id"])


def _switch(page, to: str) -> None:
    page.get_by_test_id("stSidebar").get_by_text(to, exact=True).click()
    wait_idle(page, 40)


def _picker(main, label: str) -> str:
    """What the select box labelled ``label`` shows (its text and its input's value)."""
    box = main.get_by_test_id("stSelectbox").filter(has_text=label).first
    box.wait_for()
    inputs = box.locator("input")
    value = inputs.first.input_value() if inputs.count() else ""
    return box.inner_text() + "\n" + value


def _type(page, login: str, password: str) -> None:
    page.get_by_label("Login", exact=True).fill(login)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_idle(page)


def test_office_words_in_russian_and_english(server_factory, page, tmp_path: Path) -> None:
    data, client_id, sale_id = _data(tmp_path)
    srv = server_factory(data)
    page.set_viewport_size({"width": 1440, "height": 1000})
    main = page.get_by_test_id("stMain")

    # a browser that chose no language gets the settings' one, on the sign-in page too
    page.goto(srv.url + "/")
    wait_idle(page, 60)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=LONG)
    shot(page, "t13-login-default-en")
    for _ in range(5):
        _type(page, "stranger", "wrong-password")
    error = page.get_by_test_id("stAlertContentError").first.inner_text()
    assert re.search(r"Sign-in is blocked until \d\d:\d\d \(Moscow time\)", error), error
    shot(page, "t13-lockout-en")
    _type(page, "boss", PASSWORD)
    expect(page.get_by_test_id("stSidebarNav")).to_be_visible(timeout=LONG)

    # the dashboard: months as people write them; the picker follows the switch
    page.goto(srv.url + "/dashboard")
    wait_idle(page, 60)
    _switch(page, "RU")
    ticks = main.locator(".js-plotly-plot .xtick text")
    expect(ticks.first).to_be_attached(timeout=LONG)
    months = ticks.all_text_contents()
    assert any(re.fullmatch(r"(янв|фев|мар|апр|май|июн|июл|авг|сен|окт|ноя|дек) 20\d\d", t)
               for t in months), months
    assert not any(re.fullmatch(r"20\d\d-\d\d", t) for t in months), months
    assert "Все менеджеры" in _picker(main, "Менеджер")
    shot(page, "t13-dashboard-months-ru")
    _switch(page, "EN")
    shown = _picker(main, "Manager")
    assert "All managers" in shown and "Все менеджеры" not in shown, shown
    expect(ticks.first).to_be_attached(timeout=LONG)
    months = ticks.all_text_contents()
    assert any(re.fullmatch(r"[A-Z][a-z]{2} 20\d\d", t) for t in months), months
    shot(page, "t13-dashboard-months-en")

    # the sale's history: field names, not codes
    page.goto(f"{srv.url}/sale?id={sale_id}")
    wait_idle(page, 60)
    main.get_by_role("tab", name="History").click()
    wait_idle(page, 40)
    grid = main.get_by_test_id("stTable").first
    expect(grid.get_by_text("Discount: 0 % → 10 %", exact=False).first).to_be_attached(
        timeout=LONG)
    # statuses in English; the longest sentence wraps and is shown in full at 1440 px
    expect(grid.get_by_text("changed: Lead → Invoiced", exact=False).first).to_be_visible()
    cell = grid.locator("td").filter(has_text="Total: 12,000.00 ₽ → 10,800.00 ₽").last
    expect(cell).to_be_visible()
    fits = cell.evaluate("td => td.scrollWidth <= td.clientWidth + 1"
                         " && td.getBoundingClientRect().right"
                         " <= td.closest('table').getBoundingClientRect().right + 1")
    assert fits, cell.inner_text()
    shot(page, "t13-sale-history-en")
    _switch(page, "RU")
    main.get_by_role("tab", name="История").click()
    wait_idle(page, 40)
    expect(main.get_by_test_id("stTable").first.get_by_text(
        "Скидка: 0 % → 10 %", exact=False).first).to_be_attached(timeout=LONG)
    shot(page, "t13-sale-history-ru")

    # the signatory's gender on the client card; the language and time settings
    page.goto(f"{srv.url}/client?id={client_id}")
    wait_idle(page, 60)
    if not page.get_by_test_id("stSidebar").get_by_text("Работа", exact=True).count():
        _switch(page, "RU")
    expect(main.get_by_text("Пол руководителя", exact=True)).to_be_visible(timeout=LONG)
    assert "авто (муж.)" in _picker(main, "Пол руководителя")
    shot(page, "t13-client-signatory-gender-ru")
    page.goto(f"{srv.url}/settings")
    wait_idle(page, 60)
    if not page.get_by_test_id("stSidebar").get_by_text("Работа", exact=True).count():
        _switch(page, "RU")
    main.get_by_role("tab", name="Язык и время").click()
    wait_idle(page, 40)
    expect(main.get_by_text("Язык интерфейса по умолчанию", exact=True)).to_be_visible(
        timeout=LONG)
    shot(page, "t13-settings-language-time-ru")
    _switch(page, "EN")
    main.get_by_role("tab", name="Language and time").click()
    wait_idle(page, 40)
    assert "English" in _picker(main, "Default interface language")
    shot(page, "t13-settings-language-time-en")
