"""The registry check page (head, admin): check, summary, apply, limit and resumption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.requisites import dadata
from clientplus_core.store.db import Store
from clientplus_core.team import users

from ..fake_dadata import DEAD_INN, LEGAL_INN, TOKEN, FakeDadata

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDadata]:
    with FakeDadata() as server:
        monkeypatch.setenv(dadata.ENV_TOKEN, TOKEN)
        monkeypatch.setenv(dadata.ENV_URL, server.url)
        monkeypatch.setattr(dadata, "secrets_files", lambda: [])
        yield server


@pytest.fixture
def page(store: Store, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLIENTPLUS_DATA", str(store.data_dir.root))
    st.cache_resource.clear()

    def run(actor=None) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=30)
        if actor is not None:
            at.session_state["auth.actor"] = actor
        at.run()
        at.switch_page("pages/lookup_refresh.py").run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    yield run
    st.cache_resource.clear()


@pytest.fixture
def two(make_client):
    return (make_client(name="ООО «Тестовая компания»", inn=LEGAL_INN),
            make_client(name="ООО «Закрытая фирма»", inn=DEAD_INN))


def click(at: AppTest, key: str) -> AppTest:
    at.button(key=key).click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_check_shows_the_changes_and_liquidated_then_applies_them(page, fake, store, actor,
                                                                  two):
    live, dead = two
    at = click(page(), "lr.check")
    assert metric(at, "Проверено") == "2 / 2"
    assert metric(at, "Клиентов с изменениями") == "2"
    flagged, changes = at.dataframe[0].value, at.dataframe[1].value
    assert list(flagged["Статус"]) == ["ликвидирована"]
    row = changes[(changes["№"] == live["id"]) & (changes["Поле"] == "Руководитель")]
    assert list(row["Станет"]) == ["Иванов Иван Иванович"]
    assert clients.get(store, actor, live["id"])["director_name"] == ""  # not yet
    assert any("завершена: проверено 2 из 2" in s.value for s in at.success)
    click(at, "lr.apply")
    assert any("Обновлено клиентов: 2" in s.value for s in at.success)
    assert clients.get(store, actor, live["id"])["director_name"] == "Иванов Иван Иванович"
    assert metric(at, "Клиентов с изменениями") == "0"


def test_the_daily_limit_stops_the_check_and_says_it_resumes(page, fake, monkeypatch, two):
    monkeypatch.setenv(dadata.ENV_DAILY_LIMIT, "1")
    at = click(page(), "lr.check")
    assert any("Дневной лимит" in w.value and "продолжит" in w.value for w in at.warning)
    assert metric(at, "Проверено") == "1 / 2"
    at = page()  # a new visit shows where the unfinished check stands
    assert any("не завершена" in i.value for i in at.info)
    assert at.checkbox(key="lr.restart")


def test_without_a_token_the_check_is_disabled_and_explained(page, fake, monkeypatch, two):
    monkeypatch.delenv(dadata.ENV_TOKEN)
    at = page()
    assert at.button(key="lr.check").disabled
    assert any("dadata.ru" in i.value for i in at.info)


def test_a_manager_is_refused_the_page(page, fake, store):
    manager = users.create(store, "manager1", "Мария", "manager")
    at = page(manager)
    assert any("Нет доступа" in e.value for e in at.error)
    assert not [b for b in at.button if b.key and b.key.startswith("lr.")]
