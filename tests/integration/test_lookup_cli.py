"""``clientplus lookup …`` against the fake DaData server (configured through the
environment, as a deployment would)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from clientplus_cli.main import main
from clientplus_core.clients import cards as clients
from clientplus_core.requisites import dadata

from ..fake_dadata import BIK, DEAD_INN, INDEX, LEGAL_INN, TOKEN, FakeDadata


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeDadata]:
    with FakeDadata() as server:
        monkeypatch.setenv(dadata.ENV_TOKEN, TOKEN)
        monkeypatch.setenv(dadata.ENV_URL, server.url)
        monkeypatch.setenv(dadata.ENV_TIMEOUT, "0.3")
        yield server


def run(store, capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(store.data_dir.root), *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_lookup_inn_prints_the_card_and_json(store, actor, fake, capsys):
    code, out, _ = run(store, capsys, "lookup", "inn", LEGAL_INN)
    assert code == 0
    assert 'ООО "ТЕСТОВАЯ КОМПАНИЯ"' in out and "КПП" in out and "540602001" in out
    assert "Тип                      юридическое лицо" in out and "legal" not in out
    code, out, _ = run(store, capsys, "lookup", "inn", LEGAL_INN, "--json")
    data = json.loads(out)
    assert data["fields"]["kpp"] == "773601001" and data["from_cache"] is True
    assert fake.count() == 1


def test_lookup_inn_of_a_liquidated_company_warns(store, actor, fake, capsys):
    _, out, _ = run(store, capsys, "lookup", "inn", DEAD_INN)
    assert "ликвидирована 05.03.2021" in out


def test_lookup_bik_and_index(store, actor, fake, capsys):
    _, out, _ = run(store, capsys, "lookup", "bik", BIK)
    assert "ПАО СБЕРБАНК, г. Москва" in out and "SABRRUMM" in out
    _, out, _ = run(store, capsys, "lookup", "index", INDEX, "--json")
    assert len(json.loads(out)["items"]) == 3


@pytest.mark.parametrize("argv, message", [
    (("lookup", "inn", "7707083894"), "контрольная сумма"),
    (("lookup", "bik", "abc"), "только цифры"),
    (("lookup", "refresh", "--segment", "VIP"), "Сегмент «VIP» не найден"),
])
def test_bad_input_is_one_line_on_stderr_with_exit_code_1(store, actor, fake, capsys, argv,
                                                          message):
    code, out, err = run(store, capsys, *argv)
    assert code == 1 and message in err and err.count("\n") == 1
    assert fake.requests == []


def test_a_service_failure_is_one_line(store, actor, fake, capsys):
    fake.mode = 401
    code, _, err = run(store, capsys, "lookup", "inn", LEGAL_INN)
    assert (code, err) == (1, "Ошибка: неверный токен DaData\n")


def test_refresh_prints_the_summary_and_writes_only_with_apply(store, actor, fake, capsys,
                                                               make_client):
    c = make_client(name="ООО «Тестовая компания»", inn=LEGAL_INN)
    make_client(name="ООО «Закрытая»", inn=DEAD_INN)
    code, out, _ = run(store, capsys, "lookup", "refresh", "--all")
    assert code == 0
    assert "Проверено клиентов: 2 из 2" in out and "Иванов Иван Иванович" in out
    assert "ликвидирована" in out and "--apply" in out
    assert clients.get(store, actor, c["id"])["director_name"] == ""
    code, out, _ = run(store, capsys, "lookup", "refresh", "--apply", "--json")
    report = json.loads(out)
    assert report["applied"] == 2 and report["requested"] == 0  # reused from the first run
    assert clients.get(store, actor, c["id"])["director_name"] == "Иванов Иван Иванович"


def test_refresh_is_refused_to_a_manager(store, actor, fake, capsys):
    from clientplus_core.team import users

    users.create(store, "manager1", "Мария", "manager")
    code, _, err = run(store, capsys, "--user", "manager1", "lookup", "refresh")
    assert code == 1 and "Нет доступа" in err
