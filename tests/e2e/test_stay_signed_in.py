"""Staying signed in (issue 13, section 1) in a real browser: a reload, a new tab and
a typed address keep the user signed in on the page asked for; every page's own
address works; signing out and the idle timeout end it. The session cookie is
HttpOnly and SameSite=Strict and carries nothing but a random token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from clientplus_core.records import settings
from clientplus_core.store.startup import open_store
from clientplus_core.team import sessions, users

from .conftest import shot, wait_idle
from .test_team import SECRET, seed

LONG = 30_000
# every page app.py registers, by its own address
ADDRESSES = ["clients", "sales", "tasks", "search", "dashboard", "reports", "segments",
             "builder", "addressbooks", "mailings", "consent", "catalogue", "import",
             "lookup_refresh", "settings", "users", "audit", "trash", "profile", "client?id=1",
             "sale?id=1"]


@pytest.fixture
def office(server_factory, tmp_path):
    data = tmp_path / "office"
    seed(data)
    return server_factory(data), open_store(data)


def sign_in(page, url: str, login: str = "admin") -> None:
    page.goto(url)
    wait_idle(page)
    page.get_by_label("Логин").fill(login)
    page.get_by_label("Пароль").fill(SECRET[login])
    page.get_by_role("button", name="Войти").click()
    wait_idle(page)


def session_cookie(page) -> dict:
    """The session cookie once the browser has collected it."""
    for _ in range(100):
        found = [c for c in page.context.cookies() if c["name"] == sessions.COOKIE]
        if found:
            return found[0]
        page.wait_for_timeout(100)
    raise AssertionError("the browser got no session cookie")


def login_form(page):
    return page.get_by_role("button", name="Войти")


def not_found(page):
    return page.get_by_text("Page not found")


def test_a_reload_keeps_the_user_signed_in_on_the_same_page(office, page):
    srv, store = office
    sign_in(page, srv.url + "/sales")
    expect(page.get_by_role("heading", name="Продажи")).to_be_visible(timeout=LONG)
    cookie = session_cookie(page)
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Продажи")).to_be_visible(timeout=LONG)
    expect(login_form(page)).to_have_count(0)
    assert page.url == srv.url + "/sales"
    expect(page.get_by_test_id("stSidebar")).to_contain_text("Админ")
    shot(page, "stay-signed-in-after-reload-ru")
    # the cookie: HttpOnly, SameSite=Strict, whole site, no longer than the idle
    # timeout (60 min by default), and nothing in it but the random token
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert 0 < cookie["expires"] - datetime.now(UTC).timestamp() <= 3600 + 5
    value = cookie["value"]
    assert len(value) >= 43
    assert not any(s in value for s in ("admin", SECRET["admin"], "Админ"))
    assert page.evaluate("document.cookie").find(sessions.COOKIE) == -1  # not for scripts
    with store.read() as conn:
        dump = repr([tuple(r) for r in conn.execute("SELECT * FROM web_sessions")])
    assert value not in dump and sessions.digest(value) in dump


def test_a_new_tab_and_a_typed_address_are_signed_in(office, page):
    srv, _ = office
    sign_in(page, srv.url + "/")
    expect(page.get_by_text("Найдено клиентов: 3")).to_be_visible(timeout=LONG)
    session_cookie(page)
    tab = page.context.new_page()
    tab.goto(srv.url + "/search?q=Своя")
    wait_idle(tab)
    expect(tab.get_by_text("Своя Фирма").first).to_be_visible(timeout=LONG)
    expect(login_form(tab)).to_have_count(0)
    tab.goto(srv.url + "/clients")
    wait_idle(tab)
    expect(tab.get_by_text("Найдено клиентов: 3")).to_be_visible(timeout=LONG)
    expect(not_found(tab)).to_have_count(0)


def test_every_pages_own_address_opens_it_without_page_not_found(office, page):
    srv, _ = office
    page.goto(srv.url + "/clients")  # a fresh server, not signed in: the login, no error
    wait_idle(page)
    expect(login_form(page)).to_be_visible(timeout=LONG)
    expect(not_found(page)).to_have_count(0)
    sign_in(page, srv.url + "/")
    session_cookie(page)
    for address in ADDRESSES:
        page.goto(f"{srv.url}/{address}")
        wait_idle(page)
        expect(page.get_by_test_id("stMain")).not_to_be_empty(timeout=LONG)
        assert not not_found(page).count(), address
        assert not login_form(page).count(), address
    page.goto(srv.url + "/clients")
    wait_idle(page)
    expect(page.get_by_text("Найдено клиентов: 3")).to_be_visible(timeout=LONG)
    shot(page, "stay-signed-in-deep-link-clients")


def test_signing_out_ends_the_session_for_the_reload_and_other_tabs(office, page):
    srv, store = office
    sign_in(page, srv.url + "/")
    value = session_cookie(page)["value"]
    tab = page.context.new_page()
    tab.goto(srv.url + "/tasks")
    wait_idle(tab)
    expect(tab.get_by_role("heading", name="Задачи")).to_be_visible(timeout=LONG)
    page.bring_to_front()
    page.get_by_test_id("stSidebar").get_by_role("button", name="Выйти").click()
    wait_idle(page)
    expect(login_form(page)).to_be_visible(timeout=LONG)
    page.reload()
    wait_idle(page)
    expect(login_form(page)).to_be_visible(timeout=LONG)
    assert sessions.resolve(store, value, 60) is None
    for _ in range(50):  # the browser drops the cookie as well
        if not [c for c in page.context.cookies() if c["name"] == sessions.COOKIE]:
            break
        page.wait_for_timeout(100)
    else:
        raise AssertionError("the cookie is still there after signing out")
    # the other tab's next click finds its session ended
    tab.bring_to_front()
    tab.reload()
    wait_idle(tab)
    expect(login_form(tab)).to_be_visible(timeout=LONG)
    shot(page, "stay-signed-in-login-after-sign-out-ru")


def test_after_the_idle_timeout_a_reload_asks_to_sign_in(office, page):
    srv, store = office
    admin = users.get_actor(store, "admin")
    settings.put(store, admin, "session_idle_minutes", 15)
    sign_in(page, srv.url + "/")
    cookie = session_cookie(page)
    assert cookie["expires"] - datetime.now(UTC).timestamp() <= 15 * 60 + 5
    # twenty minutes without a click (the clock of the session row is moved back)
    before = (datetime.now(UTC) - timedelta(minutes=20)).isoformat(timespec="microseconds")
    with store.write() as conn:
        conn.execute("UPDATE web_sessions SET last_seen_at = ?", (before,))
    page.reload()
    wait_idle(page)
    expect(login_form(page)).to_be_visible(timeout=LONG)
    expect(page.get_by_text("Сеанс завершён из-за бездействия")).to_be_visible()
    assert sessions.resolve(store, cookie["value"], 15) is None


def test_the_language_survives_a_reload_and_screenshots_in_english(office, page):
    srv, _ = office
    sign_in(page, srv.url + "/")
    session_cookie(page)
    switch = page.get_by_test_id("stSidebar").get_by_role("radiogroup", name="Язык / Language")
    switch.get_by_role("radio", name="EN", exact=True).click()
    expect(page.get_by_role("heading", name="Clients")).to_be_visible(timeout=LONG)
    wait_idle(page)
    page.goto(srv.url + "/sales")
    wait_idle(page)
    page.reload()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Sales")).to_be_visible(timeout=LONG)
    shot(page, "stay-signed-in-after-reload-en")
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    wait_idle(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=LONG)
    shot(page, "stay-signed-in-login-en")
