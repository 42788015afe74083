"""Mailings end to end: a real SQLite file, the address book, and a real SMTP server
on 127.0.0.1 (aiosmtpd) whose received messages are read back."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.base.errors import AccessDenied, NotFound, UserError, ValidationError
from clientplus_core.outreach import consent, mailing, sending, smtp
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from tests.smtp_server import LoopbackSmtp, MailWorld, seed_mailing_world

BODY = ("Здравствуйте, {{ contact.first_name or client.name }}!\n"
        "Ваш долг: {{ debt }}. Продажа {{ sale.number }} на {{ sale.total }}.\n"
        "ИНН {{ client.inn }}. Ваш менеджер {{ manager.name }}.")


@pytest.fixture
def w(store: Store, actor: Actor) -> MailWorld:
    with store.write() as conn:
        conn.execute("UPDATE users SET email = 'admin@romashka.ru' WHERE id = ?", (actor.id,))
    world = seed_mailing_world(store, actor)
    settings.put(store, actor, "mail_rate_per_minute", 0)
    return world


@pytest.fixture
def server(store: Store, actor: Actor, w: MailWorld) -> Any:
    with LoopbackSmtp() as srv:
        smtp.save_settings(store, actor, srv.settings())
        yield srv


def _new(store: Store, who: Actor, w: MailWorld, **over: Any) -> dict[str, Any]:
    data = {"book_id": w.book, "subject": "Счёт для {{ client.name }}", "body_text": BODY}
    data.update(over)
    return mailing.create(store, who, data)


def _by_to(srv: LoopbackSmtp) -> dict[str, Any]:
    return {m["To"].addresses[0].addr_spec: m for m in srv.messages}


def test_each_recipient_gets_one_personal_message_with_the_right_headers(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w, body_html="<p>Уважаемый {{ client.name }}</p>")
    seen: list[tuple[int, int]] = []
    result = sending.send(store, actor, m["id"], progress=lambda d, t, r: seen.append((d, t)))
    assert result["interrupted"] == ""
    assert (result["sent"], result["skipped"], result["failed"]) == (3, 1, 0)
    assert seen[-1] == (4, 4)
    assert sorted(server.recipients()) == ["alpha@alpha.ru", "beta@beta.ru", "petrov@alpha.ru"]
    msgs = _by_to(server)
    alpha, petrov, beta = msgs["alpha@alpha.ru"], msgs["petrov@alpha.ru"], msgs["beta@beta.ru"]
    assert alpha["Subject"] == "Счёт для ООО «Альфа»"
    assert petrov["To"].addresses[0].display_name == "Петров Пётр Петрович"
    assert alpha["Reply-To"] == "admin@romashka.ru"
    assert alpha["From"].addresses[0].addr_spec == "sales@romashka.ru"
    alpha_sale = sales.get(store, actor, w.alpha_sale)
    text = petrov.get_body(("plain",)).get_content()
    assert "Здравствуйте, Пётр!" in text
    assert f"Ваш долг: 12 345,67 ₽. Продажа {alpha_sale['number']} на 12 345,67 ₽." in text
    assert "Ваш менеджер Мария Первая." in text
    beta_text = beta.get_body(("plain",)).get_content()
    assert "Здравствуйте, ООО «Бета»!" in beta_text and "Ваш долг: 2 000,00 ₽." in beta_text
    # html version escapes the client's name and carries the unsubscribe link
    html = alpha.get_body(("html",)).get_content()
    assert "ООО «Альфа»" in html and "Отписаться от рассылки" in html
    # every message: an unsubscribe line and a List-Unsubscribe header with its own token
    log = {r["email"]: r for r in mailing.log(store, actor, m["id"])}
    for addr, msg in msgs.items():
        token = log[addr]["token"]
        assert msg["List-Unsubscribe"].strip() == (
            f"<mailto:sales@romashka.ru?subject=unsubscribe%20{token}>")
        assert f"unsubscribe {token}" in msg.get_body(("plain",)).get_content()
        assert log[addr]["status"] == "sent" and log[addr]["message_id"] == msg["Message-ID"]
    assert log["gamma@gamma.ru"]["status"] == "skipped"
    assert "отказ от рассылки" in log["gamma@gamma.ru"]["detail"]
    assert mailing.get(store, actor, m["id"])["status"] == "done"


def test_a_sent_mailing_appears_in_each_clients_contact_history(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w)
    sending.send(store, actor, m["id"])
    hist = sales.contact_history(store, actor, client_id=w.alpha)
    mails = [h for h in hist if h["channel"] == "email"]
    assert len(mails) == 2  # the client's address and its contact's
    assert {h["subject"] for h in mails} == {"Рассылка: Счёт для ООО «Альфа»"}
    with store.read() as conn:
        rows = conn.execute("SELECT client_id, contact_id, sale_id FROM interactions"
                            " WHERE channel = 'email' ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(w.alpha, None, w.alpha_sale),
                                        (w.alpha, w.petrov, w.alpha_sale),
                                        (w.beta, None, w.beta_sale)]


def test_a_server_refusing_some_recipients_logs_its_answer_and_sends_the_rest(
        store: Store, actor: Actor, w: MailWorld) -> None:
    with LoopbackSmtp(refuse={"petrov@alpha.ru"}) as srv:
        smtp.save_settings(store, actor, srv.settings())
        m = _new(store, actor, w)
        result = sending.send(store, actor, m["id"])
        assert sorted(srv.recipients()) == ["alpha@alpha.ru", "beta@beta.ru"]
    assert (result["sent"], result["failed"]) == (2, 1)
    row = next(r for r in mailing.log(store, actor, m["id"]) if r["email"] == "petrov@alpha.ru")
    assert row["status"] == "failed"
    assert row["detail"].startswith("550") and "Mailbox unavailable" in row["detail"]
    assert mailing.get(store, actor, m["id"])["status"] == "done"


def test_a_dropped_connection_resumes_with_each_remaining_recipient_exactly_once(
        store: Store, actor: Actor, w: MailWorld) -> None:
    m = _new(store, actor, w)
    with LoopbackSmtp(drop_after=1) as first:
        smtp.save_settings(store, actor, first.settings())
        result = sending.send(store, actor, m["id"])
        got_first = first.recipients()
    assert len(got_first) == 1 and result["sent"] == 1
    assert "прервано" in result["interrupted"]
    assert mailing.get(store, actor, m["id"])["status"] == "interrupted"
    with pytest.raises(UserError, match="уже начата"):
        sending.send(store, actor, m["id"])  # without resume: refused, nobody mailed twice
    with LoopbackSmtp() as second:
        smtp.save_settings(store, actor, second.settings())
        again = sending.send(store, actor, m["id"], resume=True)
        got_second = second.recipients()
    everyone = Counter(got_first + got_second)
    assert everyone == Counter({"alpha@alpha.ru": 1, "petrov@alpha.ru": 1, "beta@beta.ru": 1})
    assert again["interrupted"] == "" and again["sent"] == 3
    assert mailing.get(store, actor, m["id"])["status"] == "done"
    with pytest.raises(UserError, match="уже отправлена"):
        sending.send(store, actor, m["id"], resume=True)


def test_a_break_after_the_body_was_handed_over_is_never_sent_again(
        store: Store, actor: Actor, w: MailWorld) -> None:
    m = _new(store, actor, w)
    with LoopbackSmtp(drop_in_data=1) as first:  # takes the 2nd body, then hangs up
        smtp.save_settings(store, actor, first.settings())
        result = sending.send(store, actor, m["id"])
        got_first = first.recipients()
    assert len(got_first) == 2 and result["sent"] == 1 and result["sending"] == 1
    uncertain = got_first[1]
    with LoopbackSmtp() as second:
        smtp.save_settings(store, actor, second.settings())
        sending.send(store, actor, m["id"], resume=True)
        got_second = second.recipients()
    assert uncertain not in got_second
    assert Counter(got_first + got_second) == Counter(
        {"alpha@alpha.ru": 1, "petrov@alpha.ru": 1, "beta@beta.ru": 1})
    row = next(r for r in mailing.log(store, actor, m["id"]) if r["email"] == uncertain)
    assert row["status"] == "skipped" and "не отправлено повторно" in row["detail"]


def test_a_crash_between_the_smtp_answer_and_the_log_does_not_duplicate(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp,
        monkeypatch: pytest.MonkeyPatch) -> None:
    m = _new(store, actor, w)
    real = smtp.send
    calls = {"n": 0}

    def crashing(conn: Any, msg: Any) -> None:
        calls["n"] += 1
        real(conn, msg)
        if calls["n"] == 2:
            raise KeyboardInterrupt  # the process dies right after the server said 250

    monkeypatch.setattr(smtp, "send", crashing)
    with pytest.raises(KeyboardInterrupt):
        sending.send(store, actor, m["id"])
    monkeypatch.setattr(smtp, "send", real)
    assert mailing.get(store, actor, m["id"])["status"] == "sending"
    sending.send(store, actor, m["id"], resume=True)
    assert Counter(server.recipients()) == Counter(
        {"alpha@alpha.ru": 1, "petrov@alpha.ru": 1, "beta@beta.ru": 1})


def test_unknown_fields_and_syntax_errors_are_refused_before_anything_is_sent(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    with pytest.raises(ValidationError) as err:
        _new(store, actor, w, subject="Привет", body_text="Строка\n{{ client.nam }}")
    assert "Текст письма, строка 2: неизвестное поле «client.nam»" in str(err.value)
    with pytest.raises(ValidationError) as err:
        _new(store, actor, w, body_text="{% if debt %}долг")
    assert "Текст письма, строка 1: ошибка в шаблоне" in str(err.value)
    with pytest.raises(ValidationError) as err:
        _new(store, actor, w, body_text="{{ client.__class__.__mro__ }}")
    assert "client.__class__" in str(err.value)
    with pytest.raises(ValidationError) as err:
        _new(store, actor, w, subject="{{ password }}")
    assert "Тема, строка 1: неизвестное поле «password»" in str(err.value)
    # a broken template saved by other means is still refused at send time
    m = _new(store, actor, w)
    with store.write() as conn:
        conn.execute("UPDATE mailings SET body_text = '{{ sale.nope }}' WHERE id = ?", (m["id"],))
    with pytest.raises(ValidationError, match="sale.nope"):
        sending.send(store, actor, m["id"])
    assert server.received == [] and mailing.log(store, actor, m["id"]) == []


def test_attachments_arrive_and_a_too_large_file_is_refused_with_its_size(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w)
    mailing.add_attachment(store, actor, m["id"], "прайс.txt", "Цены 2026".encode())
    settings.put(store, actor, "upload_limit_mb", 1)
    with pytest.raises(ValidationError) as err:
        mailing.add_attachment(store, actor, m["id"], "видео.bin", b"x" * (2 * 1024 * 1024))
    assert "«видео.bin»: 2,0 МБ" in str(err.value)
    assert [a["name"] for a in mailing.get(store, actor, m["id"])["attachments"]] == ["прайс.txt"]
    sending.send(store, actor, m["id"])
    for msg in server.messages:
        atts = [(a.get_filename(), a.get_content()) for a in msg.iter_attachments()]
        assert atts == [("прайс.txt", "Цены 2026")]


def test_the_invoice_of_each_recipients_sale_is_attached(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w, attach_invoice=True)
    sending.send(store, actor, m["id"])
    msgs = _by_to(server)
    alpha_num = sales.get(store, actor, w.alpha_sale)["number"]
    for addr, num in (("alpha@alpha.ru", alpha_num), ("petrov@alpha.ru", alpha_num)):
        names = [a.get_filename() for a in msgs[addr].iter_attachments()]
        assert len(names) == 1 and names[0].startswith("Счёт") and num in names[0]
    beta_names = [a.get_filename() for a in msgs["beta@beta.ru"].iter_attachments()]
    assert beta_names and sales.get(store, actor, w.beta_sale)["number"] in beta_names[0]
    # one invoice per sale, reused for the second address of the same client
    with store.read() as conn:
        n = conn.execute("SELECT COUNT(*) FROM documents WHERE kind = 'invoice'").fetchone()[0]
    assert n == 2


def test_the_rate_limit_spaces_messages(store: Store, actor: Actor, w: MailWorld,
                                        server: LoopbackSmtp) -> None:
    settings.put(store, actor, "mail_rate_per_minute", 30)  # one every 2 s
    now = {"t": 100.0}
    waits: list[float] = []

    def sleep(s: float) -> None:
        waits.append(round(s, 3))
        now["t"] += s

    m = _new(store, actor, w)
    sending.send(store, actor, m["id"], sleep=sleep, clock=lambda: now["t"])
    assert len(server.received) == 3
    assert waits == [2.0, 2.0]


def test_test_send_goes_to_one_address_with_a_marked_subject_and_logs_nothing(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w)
    answer = mailing.test_send(store, actor, m["id"], "me@romashka.ru")
    assert "me@romashka.ru" in answer
    assert server.recipients() == ["me@romashka.ru"]
    assert server.messages[0]["Subject"] == "[Тест] Счёт для ООО «Альфа»"
    assert mailing.log(store, actor, m["id"]) == []
    assert mailing.get(store, actor, m["id"])["status"] == "draft"
    with pytest.raises(ValidationError, match="Адрес для теста"):
        mailing.test_send(store, actor, m["id"], "не адрес")


def test_preview_for_a_chosen_recipient(store: Store, actor: Actor, w: MailWorld) -> None:
    m = _new(store, actor, w, body_html="<p>{{ client.name }}</p>")
    recs = mailing.recipients(store, actor, m["id"])
    assert [r["email"] for r in recs] == ["alpha@alpha.ru", "petrov@alpha.ru", "beta@beta.ru"]
    p = mailing.preview(store, actor, m["id"], recs[1])
    assert p["to"] == "petrov@alpha.ru" and "Здравствуйте, Пётр!" in p["text"]
    assert "<p>ООО «Альфа»</p>" in p["html"]
    p = mailing.preview(store, actor, m["id"], recs[2], data={"subject": "Для {{ client.inn }}!"})
    assert p["subject"] == "Для !"


def test_html_escapes_client_data(store: Store, actor: Actor, w: MailWorld) -> None:
    with store.write() as conn:
        conn.execute("UPDATE clients SET name = 'A <b>&</b>' WHERE id = ?", (w.beta,))
    m = _new(store, actor, w, body_html="<p>{{ client.name }}</p>")
    p = mailing.preview(store, actor, m["id"], mailing.recipients(store, actor, m["id"])[2])
    assert "<p>A &lt;b&gt;&amp;&lt;/b&gt;</p>" in p["html"]


def test_unsubscribe_records_an_opt_out_and_the_next_mailing_skips_the_address(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w)
    sending.send(store, actor, m["id"])
    token = next(r["token"] for r in mailing.log(store, actor, m["id"])
                 if r["email"] == "beta@beta.ru")
    got = sending.unsubscribe(store, f"Re: unsubscribe {token}")
    assert got["email"] == "beta@beta.ru"
    with store.read() as conn:
        assert not consent.is_allowed(conn, "email", "beta@beta.ru")
    with pytest.raises(NotFound):
        sending.unsubscribe(store, "unsubscribe " + "f" * 20)
    with pytest.raises(ValidationError):
        sending.unsubscribe(store, "hello")
    m2 = _new(store, actor, w)
    sending.send(store, actor, m2["id"])
    assert Counter(server.recipients())["beta@beta.ru"] == 1


def test_a_manager_mails_only_own_clients_checked_again_at_send_time(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    from clientplus_core.outreach import addressbooks

    book = addressbooks.create_book(store, w.m1, "Мои должники", {"invoiced_unpaid": True})
    m = mailing.create(store, w.m1, {"book_id": book["id"], "subject": "Привет",
                                     "body_text": "Долг {{ debt }}"})
    assert [r["email"] for r in mailing.recipients(store, w.m1, m["id"])] == [
        "alpha@alpha.ru", "petrov@alpha.ru"]
    with pytest.raises(NotFound):
        mailing.get(store, w.m2, m["id"])
    # the m2 client slipped into the queue (e.g. reassigned since): skipped at send time
    m3 = mailing.create(store, w.m1, {"subject": "Привет", "body_text": "текст"})
    result = sending.send(store, w.m1, m3["id"], recipients_override=[
        mailing.Target(w.alpha, None, "alpha@alpha.ru", "Альфа"),
        mailing.Target(w.beta, None, "beta@beta.ru", "Бета")])
    assert server.recipients() == ["alpha@alpha.ru"] and result["skipped"] == 1
    row = next(r for r in mailing.log(store, w.m1, m3["id"]) if r["email"] == "beta@beta.ru")
    assert "недоступен" in row["detail"]
    # reply-to is the sending manager's own address
    assert server.messages[0]["Reply-To"] == "m1@romashka.ru"


def test_a_viewer_may_not_mail(store: Store, actor: Actor, w: MailWorld) -> None:
    from clientplus_core.team import users

    viewer = users.create(store, "v", "Зритель", "viewer")
    with pytest.raises(AccessDenied):
        mailing.create(store, viewer, {"subject": "x", "body_text": "y"})


def test_the_log_exports_to_excel(store: Store, actor: Actor, w: MailWorld,
                                  server: LoopbackSmtp, tmp_path: Path) -> None:
    import io

    import openpyxl

    m = _new(store, actor, w)
    sending.send(store, actor, m["id"])
    wb = openpyxl.load_workbook(io.BytesIO(mailing.export_log(store, actor, m["id"])))
    rows = list(wb.active.iter_rows(values_only=True))
    assert list(rows[0]) == mailing.LOG_HEADERS
    assert {(r[1], r[5]) for r in rows[1:]} == {
        ("alpha@alpha.ru", "Отправлено"), ("petrov@alpha.ru", "Отправлено"),
        ("beta@beta.ru", "Отправлено"), ("gamma@gamma.ru", "Пропущено")}


def test_no_smtp_settings_is_a_clear_error(store: Store, actor: Actor, w: MailWorld) -> None:
    m = _new(store, actor, w)
    with pytest.raises(UserError, match="Почта не настроена"):
        sending.send(store, actor, m["id"])
    assert mailing.get(store, actor, m["id"])["status"] == "draft"


def test_an_unsubscribe_field_in_the_text_is_not_added_twice(
        store: Store, actor: Actor, w: MailWorld, server: LoopbackSmtp) -> None:
    m = _new(store, actor, w, body_text="Привет!\n{{ unsubscribe }}\nПодпись")
    sending.send(store, actor, m["id"])
    for msg in server.messages:
        text = msg.get_body(("plain",)).get_content()
        assert text.count("Чтобы отписаться") == 1
        assert text.rstrip().endswith("Подпись")
