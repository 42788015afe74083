"""The mailings page and the «Почта» settings tab, driven with AppTest through app.py,
sending to a real loopback SMTP server."""

from __future__ import annotations

from collections import Counter

import pytest

from clientplus_core.outreach import mailing, sending, smtp
from clientplus_core.records import settings
from tests.smtp_server import LoopbackSmtp, seed_mailing_world

from .helpers import press, shown

PAGE = "pages/mailings.py"


@pytest.fixture
def world(store, actor):
    w = seed_mailing_world(store, actor)
    settings.put(store, actor, "mail_rate_per_minute", 0)
    return w


def test_create_preview_and_send_a_mailing(open_app, store, actor, world, monkeypatch):
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    at = open_app(PAGE)
    assert "Рассылок пока нет" in shown(at)
    at.text_input(key="mail.new.0.subject").input("Счёт для {{ client.name }}")
    at.text_area(key="mail.new.0.body_text").input(
        "Здравствуйте, {{ contact.first_name or client.name }}! Долг: {{ debt }}")
    press(at, "Сохранить рассылку")
    items = mailing.list_mailings(store, actor)
    assert len(items) == 1 and items[0]["book_id"] == world.book
    mid = items[0]["id"]
    assert f"Рассылка №{mid} сохранена" in shown(at)
    # preview for the second recipient (the contact)
    at.selectbox(key=f"mail.preview.{mid}").select(1).run()
    text = "\n".join(t.value for t in at.text)
    assert "Здравствуйте, Пётр! Долг: 12 345,67 ₽" in text
    with LoopbackSmtp() as srv:
        smtp.save_settings(store, actor, srv.settings())
        press(at, "Да, отправить")
        assert Counter(srv.recipients()) == Counter(
            {"alpha@alpha.ru": 1, "petrov@alpha.ru": 1, "beta@beta.ru": 1})
    assert "Рассылка отправлена. Отправлено 3, ошибок 0, пропущено 1." in shown(at)
    log = next(d.value for d in at.dataframe if "Ответ сервера / причина" in d.value.columns)
    assert sorted(log["Статус"]) == ["Отправлено", "Отправлено", "Отправлено", "Пропущено"]
    assert any(b.label == "Журнал в Excel" for b in at.get("download_button"))
    assert mailing.get(store, actor, mid)["status"] == "done"


def test_a_template_with_an_unknown_field_is_refused_naming_it(open_app, store, actor, world):
    at = open_app(PAGE)
    at.text_input(key="mail.new.0.subject").input("Привет")
    at.text_area(key="mail.new.0.body_text").input("Строка\n{{ client.adress }}")
    press(at, "Сохранить рассылку")
    assert any("Текст письма, строка 2: неизвестное поле «client.adress»" in e.value
               for e in at.error)
    assert mailing.list_mailings(store, actor) == []


def test_an_interrupted_mailing_continues(open_app, store, actor, world):
    m = mailing.create(store, actor, {"book_id": world.book, "subject": "Тема",
                                      "body_text": "Текст"})
    with LoopbackSmtp(drop_after=1) as first:
        smtp.save_settings(store, actor, first.settings())
        sending.send(store, actor, m["id"])
        got = first.recipients()
    at = open_app(PAGE, state={"mail.pick": m["id"]})
    at.run()
    assert "Рассылка прервана" in shown(at)
    with LoopbackSmtp() as second:
        smtp.save_settings(store, actor, second.settings())
        press(at, "Продолжить")
        got += second.recipients()
    assert Counter(got) == Counter({"alpha@alpha.ru": 1, "petrov@alpha.ru": 1,
                                    "beta@beta.ru": 1})
    assert mailing.get(store, actor, m["id"])["status"] == "done"


def test_the_test_send_and_a_missing_server(open_app, store, actor, world):
    m = mailing.create(store, actor, {"book_id": world.book, "subject": "Тема",
                                      "body_text": "Текст"})
    at = open_app(PAGE, state={"mail.pick": m["id"]})
    at.run()
    at.text_input(key=f"mail.test.to.{m['id']}").input("me@romashka.ru")
    press(at, "Тестовое письмо себе")
    assert any("Почта не настроена" in e.value for e in at.error)
    with LoopbackSmtp() as srv:
        smtp.save_settings(store, actor, srv.settings())
        press(at, "Тестовое письмо себе")
        assert srv.recipients() == ["me@romashka.ru"]
        assert srv.messages[0]["Subject"] == "[Тест] Тема"
    assert any("Тестовое письмо отправлено на me@romashka.ru" in s.value for s in at.success)


def test_mail_settings_tab_saves_checks_and_never_shows_the_password(open_app, store, actor,
                                                                     monkeypatch):
    monkeypatch.setenv(smtp.ENV_PASSWORD, "TopSecret-123")
    at = open_app("pages/settings.py")
    assert "задан в переменной окружения" in shown(at)
    at.selectbox(key="smtpset.preset").select("Яндекс (smtp.yandex.ru)").run()
    assert at.text_input(key="smtpset.host").value == "smtp.yandex.ru"
    assert at.selectbox(key="smtpset.security").value == "ssl"
    with LoopbackSmtp() as srv:
        at.text_input(key="smtpset.host").input(srv.host)
        at.number_input(key="smtpset.port").set_value(srv.port)
        at.selectbox(key="smtpset.security").select("none")
        at.text_input(key="smtpset.from_address").input("sales@romashka.ru")
        at.number_input(key="smtpset.rate").set_value(120)
        press(at, "Сохранить настройки почты")
        press(at, "Проверить соединение")
        assert any(f"Соединение с {srv.host}:{srv.port}" in s.value and "250" in s.value
                   for s in at.success)
    stored = settings.get(store, "smtp")
    assert stored["host"] == "127.0.0.1" and stored["from_address"] == "sales@romashka.ru"
    assert settings.get(store, "mail_rate_per_minute") == 120
    assert "TopSecret" not in shown(at)
    with store.read() as conn:
        assert not any("TopSecret" in r[0] for r in conn.execute("SELECT value FROM settings"))
    at.text_input(key="smtpset.from_address").input("не адрес")
    press(at, "Сохранить настройки почты")
    assert any("Адрес отправителя" in e.value for e in at.error)


def test_a_manager_sees_only_own_mailings_and_a_viewer_has_no_access(open_app, store, actor,
                                                                     world):
    from clientplus_core.team import users

    mailing.create(store, actor, {"book_id": world.book, "subject": "Админская",
                                  "body_text": "x"})
    mailing.create(store, world.m1, {"subject": "Моя рассылка", "body_text": "x"})
    at = open_app(PAGE, actor=world.m1)
    table = next(d.value for d in at.dataframe if "Тема" in d.value.columns)
    assert list(table["Тема"]) == ["Моя рассылка"]
    viewer = users.create(store, "v", "Зритель", "viewer")
    at = open_app(PAGE, actor=viewer)
    assert any("Нет доступа" in e.value for e in at.error)


def test_unsubscribe_box_records_the_opt_out(open_app, store, actor, world):
    m = mailing.create(store, actor, {"book_id": world.book, "subject": "Т", "body_text": "x"})
    with LoopbackSmtp() as srv:
        smtp.save_settings(store, actor, srv.settings())
        sending.send(store, actor, m["id"])
    token = next(r["token"] for r in mailing.log(store, actor, m["id"])
                 if r["email"] == "beta@beta.ru")
    at = open_app(PAGE)
    at.text_input(key="mail.unsub").input(f"Re: unsubscribe {token}")
    press(at, "Записать отказ")
    assert any("Отказ от рассылки записан: beta@beta.ru" in s.value for s in at.success)


def test_a_too_large_attachment_is_refused_with_its_size(open_app, store, actor, world):
    m = mailing.create(store, actor, {"book_id": world.book, "subject": "Т", "body_text": "x"})
    settings.put(store, actor, "upload_limit_mb", 1)
    at = open_app(PAGE, state={"mail.pick": m["id"],
                               f"mail.upload.{m['id']}": ("big.pdf", b"x" * 1_600_000)})
    at.run()
    press(at, "Прикрепить файл")
    assert any("«big.pdf»: 1,5 МБ" in e.value for e in at.error)
    at.session_state[f"mail.upload.{m['id']}"] = ("прайс.pdf", b"%PDF small")
    at.run()
    press(at, "Прикрепить файл")
    assert "Файл «прайс.pdf» прикреплён" in shown(at)
    assert [a["name"] for a in mailing.get(store, actor, m["id"])["attachments"]] == ["прайс.pdf"]
