"""``clientplus mailing …`` on a real data folder and a loopback SMTP server."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from clientplus_cli.main import main
from clientplus_core.outreach import mailing, smtp
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from tests.smtp_server import LoopbackSmtp, seed_mailing_world


@pytest.fixture
def setup(store: Store, actor: Actor) -> Any:
    w = seed_mailing_world(store, actor)
    settings.put(store, actor, "mail_rate_per_minute", 0)
    m = mailing.create(store, actor, {"book_id": w.book, "subject": "Долг {{ client.name }}",
                                      "body_text": "Ваш долг {{ debt }}"})
    return w, m, ["--data-dir", str(store.data_dir.root)]


def test_list_show_test_send_and_resume(store: Store, actor: Actor, setup: Any,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    w, m, data = setup
    mid = str(m["id"])
    assert main([*data, "mailing", "send", mid]) == 1
    assert "Почта не настроена" in capsys.readouterr().err
    with LoopbackSmtp(drop_after=1) as first:
        smtp.save_settings(store, actor, first.settings())
        assert main([*data, "mailing", "test", mid, "--to", "me@romashka.ru"]) == 0
        assert "Тестовое письмо отправлено на me@romashka.ru" in capsys.readouterr().out
        first.received.clear()
        first.dropped = False
        assert main([*data, "mailing", "send", mid]) == 2
        out = capsys.readouterr()
        assert "Рассылка прервана" in out.err and "--resume" in out.err
        got = first.recipients()
    assert main([*data, "mailing", "send", mid]) == 1
    assert "уже начата" in capsys.readouterr().err
    with LoopbackSmtp() as second:
        smtp.save_settings(store, actor, second.settings())
        assert main([*data, "mailing", "send", mid, "--resume"]) == 0
        out = capsys.readouterr().out
        assert "отправлено 3" in out and "[4/4]" in out
        got += second.recipients()
    assert Counter(got) == Counter({"alpha@alpha.ru": 1, "petrov@alpha.ru": 1,
                                    "beta@beta.ru": 1})
    assert main([*data, "mailing", "list"]) == 0
    assert "Отправлена\tДолг {{ client.name }}" in capsys.readouterr().out
    assert main([*data, "mailing", "show", mid, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert {r["email"]: r["status"] for r in shown["log"]} == {
        "alpha@alpha.ru": "sent", "petrov@alpha.ru": "sent", "beta@beta.ru": "sent",
        "gamma@gamma.ru": "skipped"}
    token = next(r["token"] for r in shown["log"] if r["email"] == "beta@beta.ru")
    assert main([*data, "mailing", "unsubscribe", f"unsubscribe {token}"]) == 0
    assert "beta@beta.ru" in capsys.readouterr().out


def test_a_manager_cannot_see_anothers_mailing(store: Store, actor: Actor, setup: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _w, m, data = setup
    assert main([*data, "--user", "m1", "mailing", "show", str(m["id"])]) == 1
    assert "не найдена" in capsys.readouterr().err
    assert main([*data, "mailing", "list", "--user", "m1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
