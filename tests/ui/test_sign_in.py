"""Signing in, driven with AppTest through app.py: the gate shows no data, wrong
passwords and the lockout, a manager's scope, a forced password change, the first
administrator on a shared server, the local single-user mode, signing out and the
idle timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.team import auth
from clientplus_core.team.access import Actor

from .helpers import everything, press

ADMIN_PW = "admin-secret-1"


@pytest.fixture
def app(open_app):
    """``app()``: a fresh browser session on app.py (already run once)."""
    return lambda: open_app()


@pytest.fixture
def admin(store) -> Actor:
    """An administrator with a password: from now on sign-in is required."""
    return auth.add_user(store, None, "admin", ADMIN_PW, "admin", "Администратор")


@pytest.fixture
def shared_server():
    """The app listens on every interface (conftest restores the address)."""
    config.set_option("server.address", "0.0.0.0")


def sign_in(at: AppTest, login: str, password: str) -> AppTest:
    at.text_input(key="auth.login_name").input(login)
    at.text_input(key="auth.login_password").input(password)
    return press(at, "Войти")


def titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def by_label(at: AppTest, label: str):
    return next(t for t in at.text_input if t.label == label)


def test_the_gate_shows_the_sign_in_form_and_no_data(app, admin, make_client):
    make_client(name="ООО «Секретный клиент»", inn="7707083893")
    at = app()
    assert titles(at) == ["ClientPlus"]
    assert [b.label for b in at.button] == ["Войти"]
    assert not at.dataframe
    page = everything(at)
    assert "Секретный клиент" not in page and "7707083893" not in page
    assert "auth.actor" not in at.session_state


def test_a_wrong_password_is_refused_without_saying_which_part(app, admin):
    at = sign_in(app(), "admin", "not-the-password")
    assert "Неверный логин или пароль" in errors(at)
    at = sign_in(at, "nobody", "whatever-123")
    assert "Неверный логин или пароль" in errors(at)
    assert titles(at) == ["ClientPlus"] and "auth.actor" not in at.session_state


def test_five_wrong_passwords_lock_the_account(app, admin):
    at = app()
    for _ in range(5):
        at = sign_in(at, "admin", "wrong-password")
    assert "заблокирован" in errors(at)
    at = sign_in(at, "admin", ADMIN_PW)  # even the right password waits out the lock
    assert "заблокирован" in errors(at)
    assert titles(at) == ["ClientPlus"]


def test_the_right_password_opens_the_registry(app, admin, make_client):
    make_client(name="ООО «Видимый»")
    at = sign_in(app(), "admin", ADMIN_PW)
    assert titles(at) == ["Клиенты"]
    assert at.dataframe[0].value["Наименование"].tolist() == ["ООО «Видимый»"]
    assert at.session_state["auth.actor"].login == "admin"


def test_a_manager_sees_only_own_clients(app, store, admin):
    m1 = auth.add_user(store, admin, "manager1", "manager1-pw", "manager", "Первый")
    m2 = auth.add_user(store, admin, "manager2", "manager2-pw", "manager", "Вторая")
    clients.create(store, m1, {"name": "ООО «Клиент первого»"})
    clients.create(store, m2, {"name": "ООО «Клиент второй»"})
    at = sign_in(app(), "manager1", "manager1-pw")
    assert titles(at) == ["Клиенты"]
    assert at.dataframe[0].value["Наименование"].tolist() == ["ООО «Клиент первого»"]
    assert "Клиент второй" not in everything(at)


def test_after_a_reset_the_password_must_be_changed_first(app, store, admin, make_client):
    make_client(name="ООО «После смены»")
    m1 = auth.add_user(store, admin, "manager1", "manager1-pw", "manager")
    temp = auth.reset_password(store, admin, m1.id)
    at = sign_in(app(), "manager1", temp)
    assert titles(at) == ["Смена пароля"]
    assert not at.dataframe and "После смены" not in everything(at)
    at.switch_page("pages/clients.py").run()  # another page: still the change first
    assert titles(at) == ["Смена пароля"]
    by_label(at, "Текущий пароль").input(temp)
    by_label(at, "Новый пароль").input("brand-new-pw")
    by_label(at, "Новый пароль ещё раз").input("brand-new-pw")
    at = press(at, "Сменить пароль")
    assert titles(at) == ["Клиенты"]
    assert not auth.must_change_password(store, m1.id)
    assert auth.authenticate(store, "manager1", "brand-new-pw").id == m1.id


def test_a_shared_server_without_passwords_asks_for_an_administrator(app, store, shared_server,
                                                                     make_client):
    make_client(name="ООО «До администратора»")
    at = app()
    assert "Создайте учётную запись администратора" in "\n".join(i.value for i in at.info)
    assert not at.dataframe and "До администратора" not in everything(at)
    by_label(at, "Имя").input("Анна Админова")
    by_label(at, "Пароль").input("first-admin-pw")
    by_label(at, "Пароль ещё раз").input("first-admin-pw")
    at = press(at, "Создать")
    assert titles(at) == ["Клиенты"]
    assert at.session_state["auth.actor"].login == "admin"
    assert auth.authenticate(store, "admin", "first-admin-pw").role == "admin"


def test_the_first_administrator_form_refuses_mismatched_passwords(app, store, shared_server):
    at = app()
    by_label(at, "Пароль").input("first-admin-pw")
    by_label(at, "Пароль ещё раз").input("other-admin-pw")
    at = press(at, "Создать")
    assert "Пароли не совпадают" in errors(at)
    assert not auth.has_passwords(store)


def test_on_loopback_without_passwords_the_local_admin_is_signed_in(app, make_client):
    make_client(name="ООО «Локальный»")
    at = app()
    assert titles(at) == ["Клиенты"]
    assert at.session_state["auth.actor"].role == "admin"
    assert at.dataframe[0].value["Наименование"].tolist() == ["ООО «Локальный»"]


def test_signing_out_clears_the_session(app, admin, make_client):
    make_client(name="ООО «До выхода»")
    at = sign_in(app(), "admin", ADMIN_PW)
    at.session_state["scratch"] = "private"  # something else this session holds
    # the sign-in's rerun went through app.py: its frame (the sidebar with «Выйти»)
    assert titles(at) == ["Клиенты"]
    at.button(key="auth.sign_out").click().run()
    assert not at.exception
    assert titles(at) == ["ClientPlus"] and [b.label for b in at.button] == ["Войти"]
    assert "auth.actor" not in at.session_state and "scratch" not in at.session_state
    assert "До выхода" not in everything(at)


def test_an_idle_session_is_signed_out(app, store, admin):
    settings.put(store, admin, "session_idle_minutes", 1)
    at = sign_in(app(), "admin", ADMIN_PW)
    assert titles(at) == ["Клиенты"]
    # five minutes without a click: the session's clock (shared by the browser's tabs)
    idle_since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat(timespec="microseconds")
    with store.write() as conn:
        conn.execute("UPDATE web_sessions SET last_seen_at = ?", (idle_since,))
    at.run()
    assert titles(at) == ["ClientPlus"]
    assert any("Сеанс завершён" in i.value for i in at.info)
    assert "auth.actor" not in at.session_state


def test_an_active_session_within_the_limit_stays_signed_in(app, store, admin):
    settings.put(store, admin, "session_idle_minutes", 1)
    at = sign_in(app(), "admin", ADMIN_PW)
    at.session_state["auth.last_seen"] = datetime.now(UTC) - timedelta(seconds=20)
    at.run()
    assert titles(at) == ["Клиенты"]


def test_a_password_change_keeps_this_tab_and_signs_other_browsers_out(app, store, admin):
    from clientplus_core.team import sessions

    at = sign_in(app(), "admin", ADMIN_PW)
    other = sessions.create(store, admin.id)  # the same user in another browser
    other_token = sessions.claim(store, other.claim_code)
    assert other_token and sessions.resolve(store, other_token, 60) == admin
    at.switch_page("pages/profile.py").run()
    by_label(at, "Текущий пароль").input(ADMIN_PW)
    by_label(at, "Новый пароль").input("brand-new-pw")
    by_label(at, "Новый пароль ещё раз").input("brand-new-pw")
    at = press(at, "Сменить пароль")
    assert "Пароль изменён" in "\n".join(s.value for s in at.success)
    assert sessions.resolve(store, other_token, 60) is None
    at.switch_page("pages/clients.py").run()
    assert titles(at) == ["Клиенты"]  # this tab goes on, in a new session
    assert sessions.check(store, at.session_state["auth.session_id"], 60) is not None


def test_signing_out_ends_the_server_side_session(app, store, admin):
    from clientplus_core.team import sessions

    at = sign_in(app(), "admin", ADMIN_PW)
    sid = at.session_state["auth.session_id"]
    assert sessions.check(store, sid, 60) is not None
    at.button(key="auth.sign_out").click().run()
    assert titles(at) == ["ClientPlus"]
    assert sessions.check(store, sid, 60) is None
    assert sessions.end_reason(store, session_id=sid) == "sign_out"


def test_the_lockout_message_names_the_local_time_it_ends(app, store, admin):
    settings.put(store, admin, "timezone", "Asia/Yekaterinburg")
    at = app()
    for _ in range(5):
        at = sign_in(at, "admin", "wrong-password")
    with store.read() as conn:
        # the lock runs from the oldest of the five failures that made it
        first = conn.execute("SELECT min(at) FROM sign_in_failures").fetchone()[0]
    ends = datetime.fromisoformat(first) + timedelta(minutes=auth.LOCK_MINUTES)
    local = ends.astimezone(ZoneInfo("Asia/Yekaterinburg"))
    assert f"до {local:%H:%M} (UTC+5)" in errors(at) or f"до {local:%d.%m.%Y %H:%M} (UTC+5)" \
        in errors(at)
    assert "через 15 минут" not in errors(at)


def test_the_sign_in_page_speaks_the_default_language_of_the_settings(app, store, admin):
    at = app()
    assert [b.label for b in at.button] == ["Войти"]  # Russian unless set otherwise
    settings.put(store, admin, "language", "en")
    at = app()
    assert [b.label for b in at.button] == ["Sign in"]
    assert by_label(at, "Password") is not None
    at = sign_in_en(at, "admin", "wrong-password")
    assert errors(at) == "Wrong login or password"


def sign_in_en(at: AppTest, login: str, password: str) -> AppTest:
    at.text_input(key="auth.login_name").input(login)
    at.text_input(key="auth.login_password").input(password)
    return press(at, "Sign in")


def test_a_language_chosen_in_the_browser_wins_over_the_default(app, store, admin):
    settings.put(store, admin, "language", "en")
    at = app()
    at.session_state["ui.lang"] = "ru"
    at.run()
    assert [b.label for b in at.button] == ["Войти"]
