"""`clientplus remind` against a real SMTP server (aiosmtpd) on 127.0.0.1: one
digest per user with an e-mail, a UTF-8 subject, the tasks in the body; --dry-run
sends nothing."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from clientplus_cli import main as cli
from clientplus_core.organizer import task_time, tasks
from clientplus_core.records import settings
from clientplus_core.team import audit, users


class Collector:
    """An aiosmtpd handler keeping every envelope; refuses the addresses in ``refuse``."""

    def __init__(self, refuse: set[str] | None = None):
        self.envelopes: list[tuple[str, list[str], bytes]] = []
        self.refuse = refuse or set()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 5.1.1 Нет такого ящика"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos),
                               bytes(envelope.original_content or envelope.content)))
        return "250 2.0.0 Queued"

    def messages(self) -> list[EmailMessage]:
        out = []
        for _, _, raw in self.envelopes:
            msg = email.message_from_bytes(raw.replace(b"\r\n", b"\n"),
                                           policy=email.policy.default)
            assert isinstance(msg, EmailMessage)
            out.append(msg)
        return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(request) -> Iterator[tuple[Collector, int]]:
    refuse = getattr(request, "param", None)
    handler = Collector(refuse)
    port = _port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    yield handler, port
    ctl.stop()


@pytest.fixture
def world(store, actor):
    """Two managers with e-mail (one with tasks), one without; tasks around today."""
    smirnov = users.create(store, "smirnov", "Смирнов Алексей", "manager", "smirnov@example.ru")
    kuz = users.create(store, "kuz", "Кузнецова Мария", "manager", "kuz@example.ru")
    nomail = users.create(store, "nomail", "Без Почты", "manager")
    users.create(store, "idle", "Без Задач", "manager", "idle@example.ru")
    today = task_time.local_today(store)
    for who, title, days, tm in (
            (smirnov, "Позвонить в ООО «Ромашка»", -1, "10:00"),
            (smirnov, "Отправить коммерческое предложение", 0, "23:58"),
            (smirnov, "Встреча через неделю", 7, "12:00"),
            (kuz, "Сверка с бухгалтерией", 0, "23:58"),
            (nomail, "Некому напомнить", 0, "23:58")):
        tasks.create(store, actor, {"title": title, "due_date": today + timedelta(days=days),
                                    "due_time": tm, "assignee_id": who.id})
    done = tasks.create(store, actor, {"title": "Уже сделано", "due_date": today,
                                       "assignee_id": kuz.id})
    tasks.set_status(store, actor, done["id"], "done", done["version"])
    return today


def _configure(store, actor, port: int) -> None:
    settings.put(store, actor, "smtp", {"host": "127.0.0.1", "port": port, "security": "none",
                                        "login": "", "from_name": "ClientPlus",
                                        "from_address": "crm@romashka.ru", "reply_to": "",
                                        "timeout": 10})


def _run(store, *args: str) -> int:
    return cli.main(["--data-dir", str(store.data_dir.root), *args])


def test_remind_sends_one_digest_per_user_with_due_tasks(store, actor, world, server,
                                                         capsys):
    handler, port = server
    _configure(store, actor, port)
    assert _run(store, "remind") == 0
    out = capsys.readouterr().out
    assert "Отправлено: smirnov@example.ru (2 задач)" in out
    assert "Готово: отправлено 2 из 2." in out
    assert sorted(rcpts[0] for _, rcpts, _ in handler.envelopes) == [
        "kuz@example.ru", "smirnov@example.ru"]
    assert all(len(rcpts) == 1 and sender == "crm@romashka.ru"
               for sender, rcpts, _ in handler.envelopes)
    msgs = {m["To"].addresses[0].addr_spec: m for m in handler.messages()}
    m = msgs["smirnov@example.ru"]
    assert m["To"].addresses[0].display_name == "Смирнов Алексей"
    head = next(raw for _, r, raw in handler.envelopes
                if r == ["smirnov@example.ru"]).split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head.lower()   # the subject travels encoded
    assert m["Subject"] == f"ClientPlus: задачи на {world:%d.%m.%Y} — 2 (просрочено: 1)"
    body = m.get_body(("plain",)).get_content()
    assert "Здравствуйте, Смирнов Алексей!" in body
    yesterday = world - timedelta(days=1)
    assert f"{yesterday:%d.%m.%Y} 10:00 — Позвонить в ООО «Ромашка»" in body
    assert f"{world:%d.%m.%Y} 23:58 — Отправить коммерческое предложение" in body
    assert body.index("Просрочено (1)") < body.index("На сегодня (1)")
    assert "Встреча через неделю" not in body
    kuz_body = msgs["kuz@example.ru"].get_body(("plain",)).get_content()
    assert "Сверка с бухгалтерией" in kuz_body and "Уже сделано" not in kuz_body
    assert audit.query(store, actor, action="remind")[0]["summary"] == \
        "Напоминания о задачах: отправлено 2 из 2"


def test_dry_run_prints_the_digests_and_sends_nothing(store, actor, world, server, capsys):
    handler, port = server
    _configure(store, actor, port)
    assert _run(store, "remind", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "Кому: Смирнов Алексей <smirnov@example.ru>" in out
    assert "Позвонить в ООО «Ромашка»" in out and "Сверка с бухгалтерией" in out
    assert "Пробный запуск: писем 2, ничего не отправлено." in out
    assert handler.envelopes == []


def test_dry_run_needs_no_mail_settings(store, actor, world, capsys):
    assert _run(store, "remind", "--dry-run") == 0
    assert "писем 2" in capsys.readouterr().out


@pytest.mark.parametrize("server", [{"kuz@example.ru"}], indirect=True)
def test_a_refused_recipient_is_reported_and_the_others_still_get_theirs(store, actor, world,
                                                                        server, capsys):
    handler, port = server
    _configure(store, actor, port)
    assert _run(store, "remind") == 1
    captured = capsys.readouterr()
    assert "Не отправлено: kuz@example.ru: сервер ответил 550" in captured.out
    assert [r for _, r, _ in handler.envelopes] == [["smirnov@example.ru"]]


def test_without_mail_settings_the_error_is_one_line(store, actor, world, capsys):
    assert _run(store, "remind") == 1
    err = capsys.readouterr().err
    assert err.startswith("Ошибка: Почта не настроена") and "Traceback" not in err


def test_a_server_that_is_not_there_gives_a_message_not_a_traceback(store, actor, world,
                                                                    capsys):
    _configure(store, actor, _port())
    assert _run(store, "remind") == 1
    err = capsys.readouterr().err
    assert err.startswith("Ошибка: Не удалось подключиться к 127.0.0.1:")


def test_task_add_and_list_commands(store, actor, capsys):
    assert _run(store, "task", "add", "Позвонить", "--due", "31.12.2026", "--time", "23:30",
                "--priority", "high") == 0
    assert "срок 31.12.2026 23:30" in capsys.readouterr().out
    assert _run(store, "task", "list", "--view", "all", "--json") == 0
    import json

    rows = json.loads(capsys.readouterr().out)
    assert [(r["title"], r["due_at"], r["priority"]) for r in rows] == [
        ("Позвонить", "2026-12-31T20:30:00+00:00", "high")]
    assert _run(store, "task", "add", "", "--due", "32.01.2026") == 1
    err = capsys.readouterr().err
    assert "Название: обязательное поле" in err and "Срок" in err
