"""«Заполнить по ИНН / БИК / индексу» on the client card and on Settings → Моя
компания, driven with AppTest against the fake DaData server (URL and token
passed through the environment, as in a deployment)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.requisites import dadata
from clientplus_core.sales import company
from clientplus_core.store.db import Store
from clientplus_core.team import users

from ..fake_dadata import BIK, CORR, DEAD_INN, INDEX, IP_INN, LEGAL_INN, TOKEN, FakeDadata

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")
NEW = "cf.new.0"  # the new card's widgets (generation 0)
PANEL = "cf.new"  # the new card's lookup buttons and panel


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDadata]:
    with FakeDadata() as server:
        monkeypatch.setenv(dadata.ENV_TOKEN, TOKEN)
        monkeypatch.setenv(dadata.ENV_URL, server.url)
        monkeypatch.setenv(dadata.ENV_TIMEOUT, "0.3")
        monkeypatch.setattr(dadata, "secrets_files", lambda: [])
        yield server


@pytest.fixture
def open_page(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLIENTPLUS_DATA", str(store.data_dir.root))
    st.cache_resource.clear()

    def run(page: str, actor=None, **params: object) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        if actor is not None:
            at.session_state["auth.actor"] = actor
        for k, v in params.items():
            at.query_params[k] = str(v)
        at.run()
        at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    st.cache_resource.clear()


def text(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "markdown", "caption", "text", "success", "warning",
                                  "error", "info") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts).replace("\\", "")


def value(at: AppTest, prefix: str, name: str) -> str:
    return at.text_input(key=f"{prefix}.{name}").value


def press(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fill_by_inn(at: AppTest, inn: str, prefix: str = NEW) -> AppTest:
    at.text_input(key=f"{prefix}.inn").input(inn)
    return press(at, f"{prefix.rsplit('.', 1)[0]}.lookup_btn.inn")


def test_an_inn_fills_the_new_card_which_then_saves(open_page, fake, store, actor):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, LEGAL_INN)
    assert value(at, NEW, "name") == 'ООО "ТЕСТОВАЯ КОМПАНИЯ"'
    assert value(at, NEW, "kpp") == "773601001"
    assert value(at, NEW, "ogrn") == "1027700132195"
    assert value(at, NEW, "okved") == "62.01"
    assert value(at, NEW, "legal_address") == "117312, г Москва, ул Вавилова, д 19"
    assert value(at, NEW, "postal_index") == "117312"
    assert value(at, NEW, "director_name") == "Иванов Иван Иванович"
    shown = text(at)
    assert "данные от" in shown and "действующая" in shown and "2002" in shown
    assert not at.warning
    next(b for b in at.button if b.label == "Сохранить").click().run()
    saved = clients.list_clients(store, actor).rows
    assert [c["name"] for c in saved] == ['ООО "ТЕСТОВАЯ КОМПАНИЯ"']
    card = clients.get(store, actor, saved[0]["id"])
    assert (card["kpp"], card["director_post"]) == ("773601001", "Генеральный директор")


def test_an_entrepreneur_switches_the_kind(open_page, fake):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, IP_INN)
    assert at.selectbox(key=f"{NEW}.kind.ru").value == "ip"
    assert value(at, NEW, "director_name") == "Петров Пётр Петрович"


def test_a_liquidated_company_is_filled_with_a_warning_and_its_markup_is_text(open_page, fake):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, DEAD_INN)
    assert any("ликвидирована 05.03.2021" in w.value for w in at.warning)
    assert value(at, NEW, "name") == 'ООО "<b>ЗАКРЫТАЯ</b> ФИРМА"'
    assert not any("<b>" in m.value for m in at.markdown)  # escaped, never HTML
    assert not at.html


def test_typed_fields_are_compared_and_kept_or_replaced(open_page, fake):
    at = open_page("pages/client.py", new=1)
    at.text_input(key=f"{NEW}.name").input("Моя Компания")
    at.text_input(key=f"{NEW}.director_name").input("Кто-то Другой")
    fill_by_inn(at, LEGAL_INN)
    table = at.dataframe[0].value
    assert list(table["Поле"]) == ["Наименование", "Руководитель"]
    assert list(table["Сейчас"]) == ["Моя Компания", "Кто-то Другой"]
    assert value(at, NEW, "name") == "Моя Компания"  # not overwritten before asking
    assert value(at, NEW, "kpp") == "773601001"       # empty ones are filled at once
    press(at, f"{PANEL}.lookup.keep")
    assert value(at, NEW, "name") == "Моя Компания" and not at.dataframe
    fill_by_inn(at, LEGAL_INN)
    press(at, f"{PANEL}.lookup.replace")
    assert value(at, NEW, "name") == 'ООО "ТЕСТОВАЯ КОМПАНИЯ"'
    assert value(at, NEW, "director_name") == "Иванов Иван Иванович"


def test_a_branch_can_be_chosen(open_page, fake):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, LEGAL_INN)
    at.selectbox(key=f"{PANEL}.lookup.branch").set_value("540602001")
    press(at, f"{PANEL}.lookup.use_branch")
    assert value(at, NEW, "kpp") == "540602001"
    assert value(at, NEW, "postal_address").startswith("630099, г Новосибирск")
    assert value(at, NEW, "legal_address").startswith("117312")


@pytest.mark.parametrize("mode, message", [
    (401, "неверный токен DaData"), (403, "дневной лимит запросов DaData исчерпан"),
    (429, "слишком много запросов, повторите через минуту"),
    (500, "сервис DaData недоступен (код 500)"),
    ("timeout", "DaData не ответил вовремя"), ("badjson", "DaData вернул непонятный ответ")])
def test_a_failure_is_one_line_on_the_card_and_changes_nothing(open_page, fake, store, actor,
                                                               make_client, mode, message):
    c = make_client(name="ООО «Было»")
    fake.mode = mode
    prefix = f"cf.{c['id']}.0"
    at = open_page("pages/client.py", id=c["id"])
    fill_by_inn(at, LEGAL_INN, prefix)
    assert [e.value.replace("\\", "") for e in at.error] == [message]
    assert value(at, prefix, "name") == "ООО «Было»" and value(at, prefix, "kpp") == ""
    assert clients.get(store, actor, c["id"]) == c


def test_a_wrong_inn_is_refused_without_a_request(open_page, fake):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, "7707083894")
    assert any("контрольная сумма" in e.value for e in at.error)
    assert fake.requests == []


def test_without_a_token_the_button_says_how_to_get_one(open_page, fake, monkeypatch):
    monkeypatch.delenv(dadata.ENV_TOKEN)
    at = open_page("pages/client.py", new=1)
    assert "10 000" in at.button(key=f"{PANEL}.lookup_btn.inn").help
    fill_by_inn(at, LEGAL_INN)
    assert any("dadata.ru" in i.value and "10 000" in i.value for i in at.info)
    assert value(at, NEW, "name") == ""


def test_a_bik_fills_the_bank_and_checks_the_account(open_page, fake):
    at = open_page("pages/client.py", new=1)
    at.text_input(key=f"{NEW}.account").input("40702810900000000001")
    at.text_input(key=f"{NEW}.bik").input(BIK)
    press(at, f"{PANEL}.lookup_btn.bik")
    assert value(at, NEW, "bank_name") == "ПАО СБЕРБАНК, г. Москва"
    assert value(at, NEW, "corr_account") == CORR
    assert "SABRRUMM" in text(at)
    assert any("не сходится с БИК" in w.value for w in at.warning)


def test_a_postal_index_offers_addresses_to_pick(open_page, fake):
    at = open_page("pages/client.py", new=1)
    at.text_input(key=f"{NEW}.postal_index").input(INDEX)
    press(at, f"{PANEL}.lookup_btn.postal_index")
    box = at.selectbox(key=f"{PANEL}.lookup.address")
    assert box.options[0] == "г Москва, ул Тверская, д 7" and len(box.options) == 3
    box.set_value("г Москва, ул Малая Дмитровка")
    press(at, f"{PANEL}.lookup.use_address")
    assert value(at, NEW, "postal_address") == "г Москва, ул Малая Дмитровка"
    assert value(at, NEW, "postal_index") == INDEX


def test_a_second_lookup_is_served_from_saved_data(open_page, fake):
    at = open_page("pages/client.py", new=1)
    fill_by_inn(at, LEGAL_INN)
    fake.stop()
    at2 = open_page("pages/client.py", new=1)
    fill_by_inn(at2, LEGAL_INN)
    assert value(at2, NEW, "kpp") == "773601001"
    assert "(сохранённые)" in text(at2)


def test_a_viewer_gets_no_fill_buttons(open_page, fake, store, make_client):
    c = make_client()
    viewer = users.create(store, "viewer", "Виктор", "viewer")
    at = open_page("pages/client.py", actor=viewer, id=c["id"])
    assert at.button(key=f"cf.{c['id']}.lookup_btn.inn").disabled


def test_the_card_warns_about_a_liquidated_client_found_by_the_refresh(open_page, fake, store,
                                                                       make_client):
    c = make_client(name="ООО «Закрытая фирма»", inn=DEAD_INN)
    with store.write() as conn:
        conn.execute("UPDATE clients SET registry_status = 'LIQUIDATED',"
                     " registry_checked_at = '2025-02-03T10:00:00+00:00' WHERE id = ?",
                     (c["id"],))
    at = open_page("pages/client.py", id=c["id"])
    assert any("03.02.2025" in w.value and "ликвидирована" in w.value for w in at.warning)


# ---- Settings → Моя компания -----------------------------------------------------

def test_own_company_is_filled_by_inn_on_the_settings_page(open_page, fake, store):
    at = open_page("pages/settings.py")
    at.text_input(key="settings.company.inn").input(LEGAL_INN)
    press(at, "settings.company.lookup_btn.inn")
    assert at.text_input(key="settings.company.kpp").value == "773601001"
    assert at.text_input(key="settings.company.director_name").value == "Иванов Иван Иванович"
    at.text_input(key="settings.company.bik").input(BIK)
    press(at, "settings.company.lookup_btn.bik")
    assert at.text_input(key="settings.company.corr_account").value == CORR
    press(at, "settings.company.save")
    saved = company.get(store)
    assert (saved["name"], saved["kpp"], saved["corr_account"]) == (
        'ООО "ТЕСТОВАЯ КОМПАНИЯ"', "773601001", CORR)
