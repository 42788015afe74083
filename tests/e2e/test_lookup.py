"""Requisites lookup in a real browser: type an INN, press «Заполнить по ИНН», see
the filled card — and the warning for a liquidated company. The streamlit server
inherits the environment, so it talks to the fake DaData server of this test."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from clientplus_core.clients import cards as clients
from clientplus_core.requisites import dadata
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from ..fake_dadata import DEAD_INN, LEGAL_INN, TOKEN, FakeDadata
from .conftest import shot, wait_idle

LONG = 30_000


def _start(server_factory, monkeypatch, tmp_path: Path, fake: FakeDadata):
    monkeypatch.setenv(dadata.ENV_TOKEN, TOKEN)
    monkeypatch.setenv(dadata.ENV_URL, fake.url)
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    return server_factory(data), store, admin


def _fill_by_inn(page, inn: str) -> None:
    main = page.get_by_test_id("stMain")
    main.get_by_label("ИНН", exact=True).fill(inn)
    main.get_by_role("button", name="Заполнить по ИНН").click()
    wait_idle(page)


def test_an_inn_fills_the_card_and_a_liquidated_company_is_flagged(server_factory, page,
                                                                   tmp_path, monkeypatch):
    with FakeDadata() as fake:
        srv, store, admin = _start(server_factory, monkeypatch, tmp_path, fake)
        page.goto(srv.url + "/client?new=1")
        expect(page.get_by_role("heading", name="Новый клиент")).to_be_visible(timeout=LONG)
        wait_idle(page)
        main = page.get_by_test_id("stMain")

        _fill_by_inn(page, LEGAL_INN)
        expect(main.get_by_label("КПП", exact=True)).to_have_value("773601001", timeout=LONG)
        expect(main.get_by_label("Наименование", exact=True)).to_have_value(
            'ООО "ТЕСТОВАЯ КОМПАНИЯ"')
        expect(main.get_by_label("Руководитель", exact=True)).to_have_value(
            "Иванов Иван Иванович")
        expect(main.get_by_text("данные от", exact=False).first).to_be_visible()
        expect(main.get_by_text("Подразделение", exact=False).first).to_be_visible()
        shot(page, "lookup-filled")

        _fill_by_inn(page, DEAD_INN)  # a different company: typed fields are compared first
        expect(main.get_by_text("Эти поля уже заполнены", exact=False)).to_be_visible(
            timeout=LONG)
        warning = main.get_by_test_id("stAlertContentWarning").filter(
            has_text="ликвидирована 05.03.2021")
        expect(warning).to_be_visible()
        main.get_by_role("button", name="Заменить").click()
        wait_idle(page)
        name = main.get_by_label("Наименование", exact=True)
        expect(name).to_have_value('ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"', timeout=LONG)
        expect(main.get_by_label("КПП", exact=True)).to_have_value("770101001")
        # the service's markup is text on the page, never an element
        assert main.locator("b", has_text="ЗАКРЫТАЯ").count() == 0
        expect(main.get_by_text("<b>ЗАКРЫТАЯ</b>", exact=False).first).to_be_visible()
        expect(warning).to_be_visible()
        page.get_by_text("Внимание: организация").first.scroll_into_view_if_needed()
        shot(page, "lookup-liquidated")

        main.get_by_role("button", name="Сохранить").click()
        expect(page.get_by_role("heading", name='ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"')).to_be_visible(
            timeout=LONG)
        saved = clients.list_clients(store, admin).rows
        assert [(r["name"], r["inn"]) for r in saved] == [('ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"',
                                                           DEAD_INN)]
        assert fake.count("findById/party") == 2


def test_the_registry_check_shows_changes_and_applies_them(server_factory, page, tmp_path,
                                                           monkeypatch):
    with FakeDadata() as fake:
        srv, store, admin = _start(server_factory, monkeypatch, tmp_path, fake)
        live = clients.create(store, admin, {"name": "ООО «Тестовая компания»", "inn": LEGAL_INN,
                                             "director_name": "Старый Директор"})
        clients.create(store, admin, {"name": "ООО «Закрытая фирма»", "inn": DEAD_INN})
        page.goto(srv.url + "/lookup_refresh")
        expect(page.get_by_role("heading", name="Проверка клиентов по реестру")).to_be_visible(
            timeout=LONG)
        wait_idle(page)
        main = page.get_by_test_id("stMain")
        main.get_by_role("button", name="Проверить").click()
        done = main.get_by_text("завершена: проверено 2 из 2", exact=False)
        expect(done).to_be_visible(timeout=LONG)
        expect(main.get_by_role("heading", name="Ликвидированные и не найденные")).to_be_visible()
        wait_idle(page)
        shot(page, "lookup-registry-check")
        main.get_by_role("button", name="Применить изменения (2)").click()
        expect(main.get_by_text("Обновлено клиентов: 2")).to_be_visible(timeout=LONG)
        assert clients.get(store, admin, live["id"])["director_name"] == "Иванов Иван Иванович"
