"""The organizer in a real browser: open a client card, create a task from its
«Задачи» tab, find it under «Сегодня» on the «Задачи» page and in the sidebar
reminder; mark it done; the calendar shows the month."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from clientplus_core.clients import cards as clients
from clientplus_core.organizer import task_time, tasks
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e
LONG = 30_000


def test_a_task_created_on_a_client_card_shows_under_today_and_in_the_badge(
        server_factory, page, tmp_path: Path) -> None:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    client = clients.create(store, admin, {"name": "ООО «Ромашка»"})
    srv = server_factory(data)

    page.goto(f"{srv.url}/client?id={client['id']}")
    expect(page.get_by_role("heading", name="ООО «Ромашка»")).to_be_visible(timeout=LONG)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    main.get_by_role("tab", name="Задачи").click()
    wait_idle(page)
    expect(main.get_by_text("Задач нет.")).to_be_visible(timeout=LONG)
    main.get_by_text("Новая задача").click()
    form = main.get_by_test_id("stForm")
    form.get_by_label("Название *").fill("Позвонить директору")
    form.get_by_role("button", name="Создать задачу").click()
    wait_idle(page)
    expect(main.get_by_text("Задача «Позвонить директору» создана")).to_be_visible(timeout=LONG)
    expect(main.get_by_test_id("stDataFrame")).to_be_visible(timeout=LONG)
    shot(page, "tasks-client-card")
    [saved] = tasks.list_tasks(store, admin, "all")
    assert (saved["title"], saved["client_id"]) == ("Позвонить директору", client["id"])
    assert saved["due_date"] == task_time.local_today(store).isoformat()

    # the sidebar reminder counts it (on every page)
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Задачи: 1 к выполнению")).to_be_visible(timeout=LONG)

    # «Задачи» → «Сегодня»
    sidebar.get_by_role("link", name="Задачи").first.click()
    expect(page.get_by_role("heading", name="Задачи", exact=True)).to_be_visible(timeout=LONG)
    wait_idle(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("tab", name="Сегодня")).to_have_attribute("aria-selected", "true")
    grid = main.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible(timeout=LONG)
    expect(main.get_by_text("Задач: 1")).to_be_visible()
    # the table is a canvas grid: check its content through its Excel twin
    with page.expect_download(timeout=LONG) as dl:
        main.get_by_role("button", name="Скачать Excel").click()
    import openpyxl

    path = tmp_path / "today.xlsx"
    dl.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(2, c).value for c in (2, 4, 6)] == ["Позвонить директору", "Открыта",
                                                         "ООО «Ромашка»"]
    shot(page, "tasks-today")

    # done: it leaves «Сегодня» and the badge
    main.get_by_role("button", name="Выполнено").click()
    wait_idle(page)
    expect(main.get_by_text("На сегодня задач нет.")).to_be_visible(timeout=LONG)
    expect(sidebar.get_by_text("Задач на сегодня нет")).to_be_visible(timeout=LONG)
    assert tasks.list_tasks(store, admin, "all")[0]["status"] == "done"

    # the calendar shows the month with the (done) task on its day
    main.get_by_role("tab", name="Календарь").click()
    wait_idle(page)
    expect(main.get_by_role("button", name="Следующий месяц")).to_be_visible(timeout=LONG)
    expect(main.get_by_text("Позвонить директору")).to_be_visible(timeout=LONG)
    shot(page, "tasks-calendar")
