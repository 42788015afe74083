"""The administration pages, driven with AppTest through app.py: users (admin only),
the audit trail (head and admin), the bin, and what a manager is refused."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.team import auth, users

from .helpers import everything, press, shown, table_shown


@pytest.fixture
def page(open_app):
    """``page(actor, "pages/users.py")``: that page as ``actor`` sees it."""
    return lambda who, path: open_app(path, actor=who)


def denied(at: AppTest) -> bool:
    return any("Нет доступа" in e.value for e in at.error)


# ---- users --------------------------------------------------------------------

def test_the_admin_sees_the_list_of_users(page, team):
    at = page(team["admin"], "pages/users.py")
    assert [t.value for t in at.title] == ["Пользователи"]
    table = at.dataframe[0].value
    assert sorted(table["Логин"].tolist()) == ["admin", "head1", "manager1", "manager2"]
    assert table.set_index("Логин").loc["head1", "Роль"] == "Руководитель"


def test_the_admin_adds_a_user_who_must_change_the_password(page, store, team):
    at = page(team["admin"], "pages/users.py")
    at.text_input(key="users.add.login").input("manager2")
    at.text_input(key="users.add.name").input("Вторая Вера")
    at.selectbox(key="users.add.role").set_value("manager")
    at.text_input(key="users.add.password").input("temporary-pw")
    press(at, "Добавить")
    assert "Пользователь manager2 добавлен" in shown(at)
    new = auth.authenticate(store, "manager2", "temporary-pw")
    assert (new.role, new.full_name) == ("manager", "Вторая Вера")
    assert auth.must_change_password(store, new.id)


def test_a_short_password_is_refused_with_a_message(page, store, team):
    at = page(team["admin"], "pages/users.py")
    at.text_input(key="users.add.login").input("shorty")
    at.text_input(key="users.add.password").input("123")
    press(at, "Добавить")
    assert any("Пароль" in e.value for e in at.error)
    assert "shorty" not in [u["login"] for u in users.list_users(store)]


def test_a_reset_password_is_shown_once_and_works(page, store, team):
    at = page(team["admin"], "pages/users.py")
    at.selectbox(key="users.pick").set_value("manager1")
    press(at, "Сбросить пароль")
    note = next(i.value for i in at.info if "Временный пароль" in i.value)
    temp = re.search(r"`([^`]+)`", note)[1]  # type: ignore[index]
    assert auth.authenticate(store, "manager1", temp).login == "manager1"
    assert auth.must_change_password(store, team["m1"].id)
    at.run()
    assert not any("Временный пароль" in i.value for i in at.info)  # shown once
    assert temp not in everything(at)


def test_deactivating_asks_first(page, store, team):
    at = page(team["admin"], "pages/users.py")
    at.selectbox(key="users.pick").set_value("manager1").run()
    assert "Отключить manager1? Войти он больше не сможет." in shown(at)
    assert users.get_actor_by_id(store, team["m1"].id)  # nothing happened yet
    press(at, "Да, отключить")
    active = {u["login"]: u["is_active"] for u in users.list_users(store)}
    assert active["manager1"] == 0
    assert at.dataframe[0].value.set_index("Логин").loc["manager1", "Активен"] == False  # noqa: E712


def test_a_manager_is_refused_the_users_page_and_sees_no_user_data(page, team):
    at = page(team["m1"], "pages/users.py")
    assert denied(at)
    assert not at.dataframe
    page_text = everything(at)
    assert "head1" not in page_text and "Главная Анна" not in page_text
    assert not [b for b in at.button if b.label in ("Сбросить пароль", "Добавить")]


# ---- audit trail -----------------------------------------------------------------

@pytest.fixture
def activity(store, team):
    """Some creates and a sign-in to find in the trail."""
    clients.create(store, team["m1"], {"name": "ООО «Первое»"})
    clients.create(store, team["head"], {"name": "ООО «Второе»"})
    auth.add_user(store, team["admin"], "signer", "signer-pw-1", "manager")
    auth.authenticate(store, "signer", "signer-pw-1")


def test_the_head_reads_the_audit_trail(page, team, activity):
    at = page(team["head"], "pages/audit.py")
    assert [t.value for t in at.title] == ["Журнал действий"]
    table = table_shown(at)
    assert {"Создание", "Вход", "Добавлен пользователь"} <= set(table["Действие"])
    assert "Создан клиент ООО «Первое»" in table["Что произошло"].tolist()
    assert "Добавлен пользователь signer (Менеджер)" in table["Что произошло"].tolist()
    assert "Пользователь signer" in table["Объект"].tolist()  # not «user №5»
    text = " ".join(table.astype(str).to_numpy().ravel())
    assert "user №" not in text and "{" not in text and "sign_in" not in text
    assert [d.label for d in at.download_button] == ["Скачать Excel"]


def test_the_audit_trail_filters_by_action(page, team, activity):
    at = page(team["head"], "pages/audit.py")
    at.selectbox(key="audit.action").set_value("sign_in").run()
    table = table_shown(at)
    assert set(table["Действие"]) == {"Вход"}
    assert table["Кто"].tolist() == ["signer"]
    at.selectbox(key="audit.action").set_value("create").run()
    assert sorted(table_shown(at)["Что произошло"]) == [
        "Создан клиент ООО «Второе»", "Создан клиент ООО «Первое»"]


def test_a_manager_is_refused_the_audit_trail(page, team, activity):
    at = page(team["m1"], "pages/audit.py")
    assert denied(at)
    assert not at.table and not at.dataframe and not at.download_button
    assert "ООО «Второе»" not in everything(at)


# ---- the bin ---------------------------------------------------------------------

def test_the_head_restores_a_deleted_client_from_the_bin(page, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Удалённое»"})
    clients.delete(store, team["m1"], c["id"])
    at = page(team["head"], "pages/trash.py")
    assert any("ООО «Удалённое»" in t.value for t in at.text)
    press(at, "Восстановить")
    assert clients.get(store, team["m1"], c["id"])["name"] == "ООО «Удалённое»"
    assert "Корзина пуста" in shown(at)


def test_the_head_restores_a_deleted_file_from_the_bin(page, store, team):
    import io

    from clientplus_core.clients import files

    c = clients.create(store, team["m1"], {"name": "ООО «С файлом»"})
    f = files.upload(store, team["m1"], c["id"], "договор.txt", io.BytesIO(b"text"))
    files.delete(store, team["m1"], f["id"])
    at = page(team["head"], "pages/trash.py")
    assert any("договор.txt" in t.value for t in at.text)
    press(at, "Восстановить")
    assert [x["name"] for x in files.list_for_client(store, team["m1"], c["id"])] == ["договор.txt"]


def test_the_head_restores_a_deleted_sale_from_the_bin(page, store, team):
    from clientplus_core import sales

    c = clients.create(store, team["m1"], {"name": "ООО «С продажей»"})
    sale = sales.create(store, team["m1"], {"client_id": c["id"], "title": "Поставка стеллажей",
                                            "lines": [{"name": "Стеллаж", "qty": 1,
                                                       "price": 100}]})
    sales.delete(store, team["m1"], sale["id"])
    at = page(team["head"], "pages/trash.py")
    assert any(sale["number"] in t.value and "Поставка стеллажей" in t.value for t in at.text)
    press(at, "Восстановить")
    assert sales.get(store, team["m1"], sale["id"])["title"] == "Поставка стеллажей"
    assert "Корзина пуста" in shown(at)


def test_a_manager_is_refused_the_bin(page, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Своё удалённое»"})
    clients.delete(store, team["m1"], c["id"])
    at = page(team["m1"], "pages/trash.py")
    assert denied(at)
    assert "Своё удалённое" not in everything(at)


# ---- the menu --------------------------------------------------------------------

ADMIN_ONLY = {"users": "Пользователи", "audit": "Журнал действий", "trash": "Корзина"}


@pytest.fixture
def menus(monkeypatch):
    """The menus app.py's ``st.navigation`` sends (AppTest keeps navigation messages
    out of its element tree), captured as {url path: hidden?}. app.py always
    registers the client card hidden, which tells its menu from the one Streamlit
    builds from the ``pages/`` folder on its own."""
    from streamlit.testing.v1 import local_script_runner as lsr

    seen: list[dict[str, bool]] = []
    original = lsr.parse_tree_from_messages

    def capture(messages):
        for msg in messages:
            if msg.HasField("navigation"):
                menu = {p.url_pathname: p.is_hidden for p in msg.navigation.app_pages}
                if menu.get("client") is True:
                    seen.append(menu)
        return original(messages)

    monkeypatch.setattr(lsr, "parse_tree_from_messages", capture)
    return seen


@pytest.mark.parametrize("role", ["m1", "head", "admin"])
def test_the_menu_lists_admin_pages_only_for_those_who_may_use_them(page, team, menus, role):
    page(team[role], "pages/clients.py")
    assert menus, "app.py sent no menu"
    listed = {url for url, hidden in menus[-1].items() if not hidden}
    assert {"", "search", "profile"} <= listed  # "": the registry, the start page
    expected = {"m1": set(), "head": {"audit", "trash"}, "admin": {"users", "audit", "trash"}}
    assert listed & set(ADMIN_ONLY) == expected[role]


@pytest.mark.parametrize("path", ["pages/users.py", "pages/audit.py", "pages/trash.py"])
def test_a_manager_deep_linking_to_an_admin_page_is_refused(page, team, path):
    at = page(team["m1"], path)
    assert denied(at)
    assert not at.dataframe
