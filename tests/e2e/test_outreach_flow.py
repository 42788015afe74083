"""The issue's outreach flow in one browser session on a real server: build the
address book «Выставлен счёт, не оплачено» on its page, write a mailing over it,
preview it, send it to a loopback SMTP server and read the log; the server got one
message per allowed recipient and nobody who opted out."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clientplus_core.outreach import mailing, smtp
from clientplus_core.records import settings
from tests.smtp_server import LoopbackSmtp

from .conftest import shot, wait_idle
from .test_addressbooks import _seed

pytestmark = pytest.mark.e2e
LONG = 30_000


def test_book_then_mailing_then_send_and_log(server_factory, page, tmp_path: Path) -> None:
    data, store, admin = _seed(tmp_path)   # debtor (+ contact Anna), refuser (opted out), payer
    with LoopbackSmtp() as mail:
        settings.put(store, admin, "mail_rate_per_minute", 0)
        smtp.save_settings(store, admin, mail.settings())
        srv = server_factory(data)

        # 1. the address book, built in the browser
        page.goto(f"{srv.url}/addressbooks")
        expect(page.get_by_role("heading", name="Адресные книги")).to_be_visible(timeout=LONG)
        wait_idle(page)
        main = page.get_by_test_id("stMain")
        form = main.get_by_test_id("stForm")
        form.get_by_label("Название книги").fill("Должники")
        form.get_by_text("Выставлен счёт, не оплачено", exact=True).click()
        form.get_by_role("button", name="Создать книгу").click()
        expect(main.get_by_text("Книга «Должники» создана")).to_be_visible(timeout=LONG)
        expect(main.get_by_text("Получателей: 2")).to_be_visible(timeout=LONG)
        wait_idle(page)

        # 2. the mailing over it: write, save, preview
        page.goto(f"{srv.url}/mailings")
        expect(page.get_by_role("heading", name="Рассылки")).to_be_visible(timeout=LONG)
        wait_idle(page)
        main = page.get_by_test_id("stMain")
        expect(main.get_by_role("combobox", name="Адресная книга")).to_have_value(
            "Должники", timeout=LONG)
        main.get_by_label("Тема письма", exact=True).fill("Счёт к продаже {{ sale.number }}")
        main.get_by_label("Текст письма", exact=True).fill(
            "Здравствуйте!\nЗа {{ client.name }} числится долг {{ debt }}.")
        main.get_by_label("Текст письма", exact=True).blur()
        wait_idle(page)
        main.get_by_role("button", name="Сохранить рассылку").click()
        expect(main.get_by_text("сохранена")).to_be_visible(timeout=LONG)
        wait_idle(page)
        expect(main.get_by_text(re.compile(r"За ООО «Должник» числится долг [\d ]+,\d\d ₽\."))
               .first).to_be_visible(timeout=LONG)

        # 3. send with the confirmation; the log shows who got it and who was skipped
        main.get_by_role("button", name="Отправить").click()
        page.get_by_role("button", name="Да, отправить").click()
        expect(main.get_by_text("Рассылка отправлена. Отправлено 2, ошибок 0")).to_be_visible(
            timeout=LONG)
        wait_idle(page)
        expect(main.get_by_text("Журнал отправки")).to_be_visible()
        shot(page, "outreach-flow-log")
        got = Counter(mail.recipients())
        subjects = {m["To"].addresses[0].addr_spec: str(m["Subject"]) for m in mail.messages}
    assert got == Counter({"debtor@firm.ru": 1, "anna@firm.ru": 1})
    assert all(s.startswith("Счёт к продаже ") for s in subjects.values())
    [m] = mailing.list_mailings(store, admin)
    log = {r["email"]: r["status"] for r in mailing.log(store, admin, m["id"])}
    assert log == {"debtor@firm.ru": "sent", "anna@firm.ru": "sent",
                   "refuser@firm.ru": "skipped"}   # opted out: logged, never sent
