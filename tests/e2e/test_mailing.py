"""A mailing in a real browser: with an address book «выставлен счёт, не оплачено»
made in setup, create a mailing, preview it for a contact, send it with the
confirmation to a loopback aiosmtpd server, see the log; the server really got one
message per recipient. And the «Почта» settings tab checks the connection."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clientplus_core.outreach import mailing, smtp
from clientplus_core.records import settings
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from tests.smtp_server import LoopbackSmtp, seed_mailing_world

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e
LONG = 30_000


def _seed(tmp_path: Path, srv: LoopbackSmtp) -> tuple[Path, object, object]:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    seed_mailing_world(store, admin)
    settings.put(store, admin, "mail_rate_per_minute", 0)
    smtp.save_settings(store, admin, srv.settings())
    return data, store, admin


def test_create_preview_send_and_see_the_log(server_factory, page, tmp_path: Path) -> None:
    with LoopbackSmtp() as mail:
        data, store, admin = _seed(tmp_path, mail)
        srv = server_factory(data)
        page.goto(f"{srv.url}/mailings")
        expect(page.get_by_role("heading", name="Рассылки")).to_be_visible(timeout=LONG)
        wait_idle(page)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("combobox", name="Адресная книга")).to_have_value(
            "Выставлен счёт, не оплачено", timeout=LONG)
        main.get_by_label("Тема письма", exact=True).fill(
            "Напоминание об оплате: {{ sale.number }}")
        main.get_by_label("Текст письма", exact=True).fill(
            "Здравствуйте, {{ contact.first_name or client.name }}!\n"
            "За {{ client.name }} числится долг {{ debt }}.\n{{ manager.name }}")
        main.get_by_label("Текст письма", exact=True).blur()
        wait_idle(page)
        main.get_by_role("button", name="Сохранить рассылку").click()
        expect(main.get_by_text("сохранена")).to_be_visible(timeout=LONG)
        wait_idle(page)
        (m,) = mailing.list_mailings(store, admin)
        expect(main.get_by_text("Предпросмотр для получателя")).to_be_visible(timeout=LONG)
        wait_idle(page)
        shot(page, "mailing-saved")

        # preview for the contact (second recipient)
        combo = main.get_by_role("combobox", name="Предпросмотр для получателя")
        combo.click()
        combo.press_sequentially("petrov")
        combo.press("Enter")
        wait_idle(page)
        expect(main.get_by_text("Здравствуйте, Пётр!")).to_be_visible(timeout=LONG)
        expect(main.get_by_text("долг 12 345,67 ₽")).to_be_visible()
        shot(page, "mailing-preview")

        main.get_by_role("button", name="Отправить").click()
        page.get_by_role("button", name="Да, отправить").click()
        expect(main.get_by_text("Рассылка отправлена. Отправлено 3, ошибок 0, пропущено 1."
                                )).to_be_visible(timeout=LONG)
        wait_idle(page)
        expect(main.get_by_text("Журнал отправки")).to_be_visible()
        log = main.get_by_test_id("stDataFrame").last
        expect(log).to_be_visible()
        log.scroll_into_view_if_needed()
        shot(page, "mailing-sent-log")
        got = Counter(mail.recipients())
        texts = {m_["To"].addresses[0].addr_spec: m_.get_body(("plain",)).get_content()
                 for m_ in mail.messages}
    assert got == Counter({"alpha@alpha.ru": 1, "petrov@alpha.ru": 1, "beta@beta.ru": 1})
    assert "Здравствуйте, Пётр!" in texts["petrov@alpha.ru"]
    assert "За ООО «Бета» числится долг 2 000,00 ₽." in texts["beta@beta.ru"]
    assert {r["email"]: r["status"] for r in mailing.log(store, admin, m["id"])} == {
        "alpha@alpha.ru": "sent", "petrov@alpha.ru": "sent", "beta@beta.ru": "sent",
        "gamma@gamma.ru": "skipped"}


def test_mail_settings_check_connection(server_factory, page, tmp_path: Path) -> None:
    with LoopbackSmtp() as mail:
        data, _store, _admin = _seed(tmp_path, mail)
        srv = server_factory(data)
        page.goto(f"{srv.url}/settings")
        expect(page.get_by_role("heading", name="Настройки")).to_be_visible(timeout=LONG)
        wait_idle(page)
        page.get_by_role("tab", name="Почта").click()
        main = page.get_by_test_id("stMain")
        expect(main.get_by_label("Сервер SMTP")).to_have_value("127.0.0.1")
        main.get_by_role("button", name="Проверить соединение").click()
        expect(main.get_by_text(f"Соединение с 127.0.0.1:{mail.port} (none) установлено")
               ).to_be_visible(timeout=LONG)
        expect(main.get_by_text("Пароль:", exact=False)).to_be_visible()
        wait_idle(page)
        shot(page, "mailing-settings")
