"""Requisites lookup against a fake DaData server on 127.0.0.1: what the card gets,
the cache and offline use, the daily limit, every failure leaving the database as
it was, and the batch refresh with its stop, limit and resumption."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from clientplus_core.base.errors import AccessDenied
from clientplus_core.clients import cards as clients
from clientplus_core.requisites import dadata, lookup, refresh
from clientplus_core.requisites.dadata import (
    DadataClient,
    DadataConfig,
    LimitReached,
    NoToken,
    ServiceError,
)
from clientplus_core.requisites.lookup import BadQuery, NothingFound
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

from ..fake_dadata import (
    BIK,
    CORR,
    DEAD_INN,
    INDEX,
    IP_INN,
    IP_OGRNIP,
    LEGAL_INN,
    LEGAL_OGRN,
    TOKEN,
    UNKNOWN_INN,
    FakeDadata,
)


@pytest.fixture
def fake() -> Iterator[FakeDadata]:
    with FakeDadata() as server:
        yield server


def client_for(fake: FakeDadata, limit: int = 10_000, token: str = TOKEN) -> DadataClient:
    return DadataClient(DadataConfig(token=token, base_url=fake.url, read_timeout=0.3,
                                     daily_limit=limit))


@pytest.fixture
def svc(fake: FakeDadata) -> DadataClient:
    return client_for(fake)


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Everything a lookup could write."""
    with store.read() as conn:
        return {t: [tuple(r) for r in conn.execute(f"SELECT * FROM {t} ORDER BY 1")]
                for t in ("lookup_cache", "lookup_usage", "lookup_refresh", "clients",
                          "audit_log")}


def used_today(store: Store) -> int:
    with store.read() as conn:
        row = conn.execute("SELECT requests FROM lookup_usage WHERE day = ?",
                           (lookup.moscow_day(),)).fetchone()
    return row[0] if row else 0


# ---- the card's lookups ---------------------------------------------------------

def test_a_company_is_found_by_inn_with_its_head_office_and_branch(store, actor, fake, svc):
    found = lookup.find_party(store, actor, LEGAL_INN, client=svc)
    f = found.fields
    assert f["kind"] == "legal"
    assert f["name"] == 'ООО "ТЕСТОВАЯ КОМПАНИЯ"'
    assert f["full_name"].startswith("ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ")
    assert (f["inn"], f["kpp"], f["ogrn"], f["okved"]) == (
        LEGAL_INN, "773601001", LEGAL_OGRN, "62.01")
    assert f["legal_address"] == "117312, г Москва, ул Вавилова, д 19"
    assert f["postal_index"] == "117312"
    assert (f["director_post"], f["director_name"]) == ("Генеральный директор",
                                                        "Иванов Иван Иванович")
    assert found.status == "ACTIVE" and found.warning is None
    assert found.registration_date == "2002-08-16"
    assert [(b.kpp, b.is_head) for b in found.branches] == [("773601001", True),
                                                            ("540602001", False)]
    branch = found.fields_for_branch("540602001")
    assert branch["kpp"] == "540602001"
    assert branch["postal_address"] == "630099, г Новосибирск, ул Серебренниковская, д 20"
    assert branch["legal_address"] == f["legal_address"]
    assert not found.from_cache
    assert fake.requests == [("findById/party", {"query": LEGAL_INN, "count": 20},
                              f"Token {TOKEN}")]
    # the found fields pass the card's own validation
    saved = clients.create(store, actor, f)
    assert saved["kpp"] == "773601001"


def test_a_company_is_found_by_ogrn_too(store, actor, svc):
    assert lookup.find_party(store, actor, LEGAL_OGRN, client=svc).fields["inn"] == LEGAL_INN


def test_an_entrepreneur_gets_his_own_name_and_no_kpp(store, actor, svc):
    found = lookup.find_party(store, actor, IP_INN, client=svc)
    f = found.fields
    assert (f["kind"], f["name"], f["kpp"], f["ogrn"]) == (
        "ip", "ИП Петров Пётр Петрович", "", IP_OGRNIP)
    assert (f["director_post"], f["director_name"]) == ("Индивидуальный предприниматель",
                                                        "Петров Пётр Петрович")
    assert found.branches == []
    clients.create(store, actor, f)  # valid as an IP card


def test_a_liquidated_company_comes_with_a_warning(store, actor, svc):
    found = lookup.find_party(store, actor, DEAD_INN, client=svc)
    assert found.status == "LIQUIDATED"
    assert found.status_label_ru == "ликвидирована"
    assert found.liquidation_date == "2021-03-05"
    assert found.warning and "ликвидирована 05.03.2021" in found.warning


def test_a_bank_is_found_by_bik(store, actor, svc):
    bank = lookup.find_bank(store, actor, "04 45 25 225", client=svc)
    assert (bank.bik, bank.corr_account, bank.city, bank.swift) == (BIK, CORR, "Москва",
                                                                    "SABRRUMM")
    assert bank.fields == {"bik": BIK, "bank_name": "ПАО СБЕРБАНК, г. Москва",
                           "corr_account": CORR}


def test_a_postal_index_gives_addresses_to_pick(store, actor, fake, svc):
    result = lookup.postal_suggestions(store, actor, INDEX, client=svc)
    assert [i.value for i in result.items] == [
        "г Москва, ул Тверская, д 7", "г Москва, ул Малая Дмитровка",
        "г Москва, ул Садовая-Триумфальная"]
    assert result.items[1].street == "ул Малая Дмитровка"
    assert result.items[1].region == "г Москва"
    assert used_today(store) == 2  # post office + address suggestions
    assert lookup.postal_suggestions(store, actor, INDEX, client=svc).from_cache
    assert fake.count() == 2


def test_an_empty_answer_says_nothing_was_found_and_caches_nothing(store, actor, svc):
    with pytest.raises(NothingFound, match="ничего не найдено"):
        lookup.find_party(store, actor, UNKNOWN_INN, client=svc)
    assert snapshot(store)["lookup_cache"] == []


# ---- bad input never reaches the network ----------------------------------------

@pytest.mark.parametrize("typed, message", [
    ("7707083894", "контрольная сумма"),
    ("77070838ab", "только цифры"),
    ("12345", "10 или 12"),
    ("", "введите"),
    ("1027700132196", "контрольная сумма ОГРН"),
])
def test_a_wrong_inn_is_refused_before_any_request(store, actor, fake, svc, typed, message):
    with pytest.raises(BadQuery, match=message):
        lookup.find_party(store, actor, typed, client=svc)
    assert fake.requests == []


@pytest.mark.parametrize("typed", [" 7707-083-893 ", "ИНН 7707083893", "инн: 7707 083 893"])
def test_spaces_dashes_and_a_label_are_cleaned(store, actor, svc, typed):
    assert lookup.find_party(store, actor, typed, client=svc).query == LEGAL_INN


@pytest.mark.parametrize("typed, message", [("04452522x", "только цифры"),
                                            ("123456789", "начинается с 04"),
                                            ("0445252", "9 цифр")])
def test_a_wrong_bik_is_refused_before_any_request(store, actor, fake, svc, typed, message):
    with pytest.raises(BadQuery, match=message):
        lookup.find_bank(store, actor, typed, client=svc)
    assert fake.requests == []


# ---- failures: one line, nothing written ------------------------------------------

@pytest.mark.parametrize("mode, message", [
    (401, "неверный токен DaData"),
    (403, "дневной лимит запросов DaData исчерпан"),
    (429, "слишком много запросов, повторите через минуту"),
    (500, "сервис DaData недоступен (код 500)"),
    (503, "сервис DaData недоступен (код 503)"),
    ("timeout", "DaData не ответил вовремя"),
    ("badjson", "DaData вернул непонятный ответ"),
])
def test_each_failure_is_one_line_and_changes_nothing(store, actor, fake, svc, make_client,
                                                      mode, message):
    make_client(name="ООО «Есть»", inn=LEGAL_INN)
    before = snapshot(store)
    fake.mode = mode
    for call, arg in ((lookup.find_party, DEAD_INN), (lookup.find_bank, BIK),
                      (lookup.postal_suggestions, INDEX)):
        with pytest.raises(ServiceError) as err:
            call(store, actor, arg, client=svc)
        assert str(err.value) == message
        assert "\n" not in str(err.value)
    assert snapshot(store) == before


def test_a_wrong_token_is_reported(store, actor, fake):
    with pytest.raises(ServiceError, match="неверный токен"):
        lookup.find_party(store, actor, LEGAL_INN, client=client_for(fake, token="wrong"))


def test_a_base_url_that_is_not_http_is_refused(store, actor):
    with pytest.raises(ServiceError, match="http"):
        DadataClient(DadataConfig(token="t", base_url="ftp://example.org"))


# ---- cache, offline, no token ---------------------------------------------------------

def test_a_repeated_lookup_is_served_from_the_cache_even_offline(store, actor, fake, svc):
    first = lookup.find_party(store, actor, LEGAL_INN, client=svc)
    fake.stop()
    again = lookup.find_party(store, actor, LEGAL_INN, client=svc)
    assert again.from_cache and again.fields == first.fields
    assert again.fetched_at == first.fetched_at
    assert len(again.branches) == 2
    assert fake.count() == 1
    with pytest.raises(ServiceError, match="нет связи с DaData"):
        lookup.find_party(store, actor, LEGAL_INN, client=svc, fresh=True)
    bank_fake = FakeDadata().start()  # a bank seen before also works offline
    try:
        lookup.find_bank(store, actor, BIK, client=client_for(bank_fake))
    finally:
        bank_fake.stop()
    assert lookup.find_bank(store, actor, BIK, client=svc).from_cache


def test_fresh_asks_again_and_updates_the_date(store, actor, fake, svc):
    lookup.find_party(store, actor, LEGAL_INN, client=svc)
    again = lookup.find_party(store, actor, LEGAL_INN, client=svc, fresh=True)
    assert not again.from_cache and fake.count() == 2


@pytest.fixture
def no_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(dadata.ENV_TOKEN, raising=False)
    monkeypatch.setattr(dadata, "secrets_files", lambda: [])


def test_without_a_token_the_cache_still_works_and_the_rest_says_how_to_get_one(
        store, actor, svc, no_token):
    lookup.find_party(store, actor, LEGAL_INN, client=svc)
    assert lookup.find_party(store, actor, LEGAL_INN).from_cache
    with pytest.raises(NoToken) as err:
        lookup.find_party(store, actor, IP_INN)
    assert "dadata.ru" in str(err.value) and "10 000" in str(err.value)
    with pytest.raises(BadQuery):  # the checksum needs no network and no token
        lookup.find_party(store, actor, "7707083894")


def test_the_token_and_url_come_from_the_environment(store, actor, fake, monkeypatch):
    monkeypatch.setenv(dadata.ENV_TOKEN, TOKEN)
    monkeypatch.setenv(dadata.ENV_URL, fake.url + "/")
    found = lookup.find_party(store, actor, IP_INN)
    assert found.fields["inn"] == IP_INN and fake.requests[0][2] == f"Token {TOKEN}"


# ---- the daily limit ---------------------------------------------------------------

def test_the_daily_limit_is_counted_and_respected(store, actor, fake):
    svc = client_for(fake, limit=2)
    lookup.find_party(store, actor, LEGAL_INN, client=svc)
    lookup.find_party(store, actor, IP_INN, client=svc)
    assert used_today(store) == 2
    assert lookup.find_party(store, actor, LEGAL_INN, client=svc).from_cache  # still works
    with pytest.raises(LimitReached, match="дневной лимит"):
        lookup.find_party(store, actor, DEAD_INN, client=svc)
    assert fake.count() == 2


def test_a_viewer_may_not_look_up(store, actor, svc):
    viewer = users.create(store, "viewer", "Виктор", "viewer")
    with pytest.raises(AccessDenied):
        lookup.find_party(store, viewer, LEGAL_INN, client=svc)


# ---- batch refresh -----------------------------------------------------------------

@pytest.fixture
def portfolio(store: Store, actor: Actor) -> dict[str, dict[str, Any]]:
    """Four clients: one with an outdated director, an IP, a liquidated company and
    one the register does not know."""
    made = {}
    for key, data in (
        ("legal", {"name": "ООО «Тестовая компания»", "inn": LEGAL_INN,
                   "director_post": "Генеральный директор", "director_name": "Старый Директор",
                   "tags": ["ключевой"]}),
        ("ip", {"kind": "ip", "name": "ИП Петров Пётр Петрович", "inn": IP_INN}),
        ("dead", {"name": "ООО «Закрытая фирма»", "inn": DEAD_INN, "tags": ["ключевой"]}),
        ("unknown", {"name": "ООО «Неизвестная»", "inn": UNKNOWN_INN}),
    ):
        made[key] = clients.create(store, actor, data, allow_duplicate=True)
    clients.create(store, actor, {"name": "Без ИНН"})
    return made


def test_refresh_summarises_changes_and_flags_without_writing_them(store, actor, fake, svc,
                                                                   portfolio):
    ticks: list[tuple[int, int]] = []
    report = refresh.refresh(store, actor, client=svc, progress=lambda d, t: ticks.append((d, t)))
    assert (report.total, report.checked, report.requested) == (4, 4, 4)
    assert report.finished and report.stopped_reason is None
    assert ticks[-1] == (4, 4)
    legal = portfolio["legal"]["id"]
    changes = {(c.client_id, c.field): (c.old, c.new) for c in report.changed}
    assert changes[(legal, "director_name")] == ("Старый Директор", "Иванов Иван Иванович")
    assert changes[(legal, "kpp")] == ("", "773601001")
    assert (legal, "name") not in changes  # «Тестовая компания» = "ТЕСТОВАЯ КОМПАНИЯ"
    assert {(f.client_id, f.status) for f in report.liquidated} == {
        (portfolio["dead"]["id"], "LIQUIDATED"), (portfolio["unknown"]["id"], "NOT_FOUND")}
    # nothing but the registry status is written before apply
    assert clients.get(store, actor, legal)["director_name"] == "Старый Директор"
    dead = clients.get(store, actor, portfolio["dead"]["id"])
    assert dead["registry_status"] == "LIQUIDATED" and dead["registry_checked_at"]
    assert dead["version"] == portfolio["dead"]["version"]


def test_applied_changes_land_in_the_card_and_its_history(store, actor, svc, portfolio):
    report = refresh.refresh(store, actor, client=svc)
    refresh.apply_changes(store, actor, report)
    legal = portfolio["legal"]["id"]
    card = clients.get(store, actor, legal)
    assert card["director_name"] == "Иванов Иван Иванович"
    assert card["legal_address"] == "117312, г Москва, ул Вавилова, д 19"
    assert report.applied == report.changed_clients
    history = clients.history(store, actor, legal)
    assert history[0]["action"] == "update"
    assert history[0]["diff"]["director_name"] == ["Старый Директор", "Иванов Иван Иванович"]
    # a second check finds nothing left to change; answers fetched within the last
    # hours are reused, so only the INN the register did not know is asked again
    again = refresh.refresh(store, actor, client=svc)
    assert again.changed == [] and again.requested == 1


def test_refresh_with_apply_skips_a_card_edited_since_the_check(store, actor, svc, portfolio):
    report = refresh.refresh(store, actor, client=svc)
    legal = portfolio["legal"]["id"]
    clients.update(store, actor, legal, {"notes": "правка"},
                   clients.get(store, actor, legal)["version"])
    refresh.apply_changes(store, actor, report)
    assert [cid for cid, _ in report.skipped] == [legal]
    assert clients.get(store, actor, legal)["director_name"] == "Старый Директор"


def test_refresh_stops_at_the_daily_limit_and_resumes_the_next_day(store, actor, fake,
                                                                   portfolio):
    svc = client_for(fake, limit=2)
    first = refresh.refresh(store, actor, client=svc)
    assert first.stopped_reason == "limit" and not first.finished
    assert (first.checked, first.requested) == (2, 2)
    with store.read() as conn:
        run = conn.execute("SELECT * FROM lookup_refresh").fetchone()
    assert run["last_client_id"] == portfolio["ip"]["id"] and run["finished_at"] is None
    assert refresh.last_run(store, actor).checked == 2
    # the next (Moscow) day the counter starts again
    with store.write() as conn:
        conn.execute("UPDATE lookup_usage SET day = '2000-01-01'")
    second = refresh.refresh(store, actor, client=svc)
    assert second.finished and second.checked == 4 and second.requested == 2
    assert [b["query"] for _, b, _ in fake.requests] == [LEGAL_INN, IP_INN, DEAD_INN,
                                                         UNKNOWN_INN]
    # the summary covers the whole run, both days
    changed = {(c.client_id, c.field) for c in second.changed}
    assert (portfolio["legal"]["id"], "director_name") in changed
    assert (portfolio["ip"]["id"], "director_name") in changed  # an empty field gets filled
    assert len(second.liquidated) == 2


def test_refresh_can_be_stopped_and_continues_where_it_stopped(store, actor, fake, svc,
                                                               portfolio):
    calls = iter([False, True])
    report = refresh.refresh(store, actor, client=svc, should_stop=lambda: next(calls, True))
    assert report.stopped_reason == "stop" and report.checked == 1
    report = refresh.refresh(store, actor, client=svc)
    assert report.finished and report.checked == 4 and fake.count() == 4


def test_a_service_failure_stops_the_refresh_with_its_message(store, actor, fake, svc,
                                                              portfolio):
    fake.mode = 500
    report = refresh.refresh(store, actor, client=svc)
    assert report.stopped_reason == "error"
    assert report.error == "сервис DaData недоступен (код 500)"
    assert report.checked == 0


def test_refresh_by_tag_or_by_a_saved_segment(store, actor, svc, portfolio):
    from clientplus_core.analytics import segments

    report = refresh.refresh(store, actor, "tag:ключевой", client=svc)
    assert report.total == 2 and report.scope == "tag:ключевой"
    segments.save(store, actor, "Ключевые", {"tag": ["ключевой"]})
    seg = refresh.refresh(store, actor, "segment:Ключевые", client=svc)
    assert seg.total == 2 and seg.scope == "segment:Ключевые"
    with pytest.raises(lookup.UserError, match="не найден"):
        refresh.refresh(store, actor, "segment:VIP", client=svc)


def test_a_manager_may_not_run_the_refresh(store, actor, svc):
    manager = users.create(store, "manager1", "Мария", "manager")
    with pytest.raises(AccessDenied):
        refresh.refresh(store, manager, client=svc)
