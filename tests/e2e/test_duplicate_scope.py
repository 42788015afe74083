"""The duplicate warning of the «Новый клиент» form in a real browser: a manager who
types the INN of another manager's client learns only that such a client is kept by
another employee, and whom to ask — not its name, number or a link to it."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import auth

from .conftest import shot, wait_idle

PASSWORDS = {"admin": "admin-pass-1", "manager1": "manager1-pass", "manager2": "manager2-pass"}
INN = "7707083893"
LONG = 30_000


def seed(data: Path) -> int:
    """Admin, a head, two managers; manager2 keeps a client with :data:`INN`."""
    store = open_store(data)
    admin = auth.add_user(store, None, "admin", PASSWORDS["admin"], "admin", "Админ")
    auth.add_user(store, admin, "head", "head-pass-123", "head", "Ирина Начальникова")
    auth.add_user(store, admin, "manager1", PASSWORDS["manager1"], "manager", "Мария Первая")
    m2 = auth.add_user(store, admin, "manager2", PASSWORDS["manager2"], "manager",
                       "Михаил Второй")
    return int(clients.create(store, m2, {"name": "ООО «Чужая Тайна»", "inn": INN})["id"])


def test_a_manager_typing_another_managers_inn_sees_only_whom_to_ask(server_factory, page,
                                                                      tmp_path):
    secret_id = seed(tmp_path / "data")
    srv = server_factory(tmp_path / "data")
    page.goto(srv.url + "/client?new=1")
    wait_idle(page, 40)
    page.get_by_label("Логин").fill("manager1")
    page.get_by_label("Пароль").fill(PASSWORDS["manager1"])
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("heading", name="Новый клиент")).to_be_visible(timeout=LONG)
    wait_idle(page)

    main = page.get_by_test_id("stMain")
    main.get_by_label("Наименование", exact=True).fill("ООО «Моя Новая»")
    main.get_by_label("ИНН", exact=True).fill(INN)
    main.get_by_role("button", name="Сохранить").click()
    wait_idle(page)
    warning = main.get_by_test_id("stAlertContentWarning")
    expect(warning).to_be_visible(timeout=LONG)
    expect(warning).to_contain_text("Клиент с таким ИНН уже есть")
    expect(warning).to_contain_text("закреплён за другим сотрудником")
    expect(warning).to_contain_text("Ирина Начальникова")
    shot(page, "duplicate-inn-of-another-manager")

    text = main.inner_text()
    assert "Чужая Тайна" not in text and "Михаил Второй" not in text
    assert f"№{secret_id}" not in text
    expect(main.get_by_text("Открыть существующего")).to_have_count(0)
    expect(main.get_by_role("button", name="Всё равно создать")).to_be_visible()
