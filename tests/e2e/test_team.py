"""Team features in a real browser: sign-in, record-level scope, forbidden deep
links, a fresh server's first request, lockout, and escaping of user text."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import auth

from .conftest import shot, wait_idle

SECRET = {"admin": "admin-pass-1", "manager1": "manager1-pass", "manager2": "manager2-pass"}


def seed(data: Path) -> dict[str, int]:
    store = open_store(data)
    admin = auth.add_user(store, None, "admin", SECRET["admin"], "admin", "Админ")
    m1 = auth.add_user(store, admin, "manager1", SECRET["manager1"], "manager", "Мария Первая")
    m2 = auth.add_user(store, admin, "manager2", SECRET["manager2"], "manager", "Михаил Второй")
    ids = {
        "own": clients.create(store, m1, {"name": "ООО «Своя Фирма»"})["id"],
        "foreign": clients.create(store, m2, {"name": "ООО «Чужая Тайна»"})["id"],
        "script": clients.create(store, m1, {"name": "<script>alert(1)</script>"})["id"],
    }
    return ids


def sign_in(page, url: str, login: str, password: str) -> None:
    """Open ``url``; sign in unless this browser already is (its session cookie)."""
    page.goto(url)
    wait_idle(page)
    form = page.get_by_label("Логин")
    form.or_(page.get_by_test_id("stSidebarNav")).first.wait_for()
    if not form.count():
        return
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    wait_idle(page)


@pytest.fixture
def team(server_factory, tmp_path):
    data = tmp_path / "team"
    ids = seed(data)
    return server_factory(data), ids


def test_a_fresh_servers_first_request_to_a_data_page_gets_the_login_and_no_data(team, page):
    srv, ids = team
    page.goto(srv.url + f"/client?id={ids['foreign']}")
    wait_idle(page)
    page.get_by_role("button", name="Войти").wait_for()
    html = page.content()
    assert "Чужая Тайна" not in html and "Своя Фирма" not in html
    shot(page, "team-fresh-deeplink-login")


def test_a_manager_sees_only_own_clients_in_the_registry_and_search(team, page):
    srv, ids = team
    # A full page load is a new Streamlit session; the session cookie keeps it signed in.
    sign_in(page, srv.url + "/", "manager1", SECRET["manager1"])
    page.get_by_text("Найдено клиентов: 2").wait_for()
    sign_in(page, srv.url + "/search?q=ООО", "manager1", SECRET["manager1"])
    page.get_by_text("Своя Фирма").first.wait_for()
    assert "Чужая Тайна" not in page.content()
    shot(page, "team-manager-search")
    sign_in(page, srv.url + f"/client?id={ids['foreign']}", "manager1", SECRET["manager1"])
    page.get_by_text("не найден", exact=False).first.wait_for()
    assert "Чужая Тайна" not in page.content()


def test_a_manager_deep_linking_to_users_gets_no_access(team, page):
    srv, _ = team
    sign_in(page, srv.url + "/users", "manager1", SECRET["manager1"])
    page.get_by_text("Нет доступа к этой странице.").wait_for()
    assert "admin" not in page.locator('[data-testid="stMain"]').inner_text()
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Пользователи" not in nav and "Журнал действий" not in nav
    shot(page, "team-manager-users-no-access")


def test_five_wrong_passwords_lock_the_login(team, page):
    srv, _ = team
    page.goto(srv.url + "/")
    for _ in range(5):
        wait_idle(page)
        page.get_by_label("Логин").fill("manager2")
        page.get_by_label("Пароль").fill("wrong-password")
        page.get_by_role("button", name="Войти").click()
        wait_idle(page)
    page.get_by_text("заблокирован", exact=False).first.wait_for()
    page.get_by_label("Пароль").fill(SECRET["manager2"])
    page.get_by_role("button", name="Войти").click()
    wait_idle(page)
    page.get_by_text("заблокирован", exact=False).first.wait_for()
    shot(page, "team-locked")


def test_a_script_in_a_client_name_shows_as_text(team, page):
    srv, ids = team
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    sign_in(page, srv.url + f"/client?id={ids['script']}", "manager1", SECRET["manager1"])
    page.get_by_text("<script>alert(1)</script>").first.wait_for()
    shot(page, "team-script-card")
    sign_in(page, srv.url + "/search?q=script", "manager1", SECRET["manager1"])
    page.get_by_text("alert(1)", exact=False).first.wait_for()
    shot(page, "team-script-as-text")
    assert dialogs == []
