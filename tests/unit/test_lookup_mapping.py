"""Pure rules of the requisites lookup: DaData's shapes mapped to our fields, what
counts as a change the user must confirm, input cleaning, and the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientplus_core.requisites import dadata, lookup, registry

from ..fake_dadata import ADDRESSES, BANKS, BIK, BRANCH, DEAD, HEAD, INDEX, IP, POSTAL_UNITS


def test_a_company_maps_to_the_card_fields() -> None:
    fields = lookup.map_party(HEAD)
    assert fields == {
        "kind": "legal", "name": 'ООО "ТЕСТОВАЯ КОМПАНИЯ"',
        "full_name": 'ОБЩЕСТВО С ОГРАНИЧЕННОЙ ОТВЕТСТВЕННОСТЬЮ "ТЕСТОВАЯ КОМПАНИЯ"',
        "inn": "7707083893", "kpp": "773601001", "ogrn": "1027700132195", "okved": "62.01",
        "legal_address": "117312, г Москва, ул Вавилова, д 19", "postal_index": "117312",
        "director_post": "Генеральный директор", "director_name": "Иванов Иван Иванович"}


def test_an_entrepreneur_is_his_own_director() -> None:
    fields = lookup.map_party(IP)
    assert fields["kind"] == "ip" and fields["kpp"] == ""
    assert fields["director_name"] == "Петров Пётр Петрович"


def test_nulls_and_wrong_values_from_the_service_become_empty_fields() -> None:
    odd = {"value": "ООО «Пусто»", "data": {
        "type": "LEGAL", "inn": "1234567890", "kpp": "12", "ogrn": None, "okved": "abc",
        "name": None, "address": None, "management": None, "state": None}}
    fields = lookup.map_party(odd)
    assert fields["name"] == fields["full_name"] == "ООО «Пусто»"
    assert all(fields[k] == "" for k in ("inn", "kpp", "ogrn", "okved", "legal_address",
                                         "postal_index", "director_name"))


def test_an_overlong_name_is_cut_to_the_field_length() -> None:
    long = {"value": "x", "data": {"type": "LEGAL", "name": {"short_with_opf": "Я" * 5000}}}
    assert len(lookup.map_party(long)["name"]) == 300


def test_the_head_office_comes_first_even_when_the_branch_is_listed_first() -> None:
    result = lookup.party_result("7707083893", [BRANCH, HEAD], "2025-01-01T00:00:00+00:00",
                                 False)
    assert result.fields["kpp"] == "773601001"
    assert [b.is_head for b in result.branches] == [True, False]


def test_liquidation_gives_a_dated_warning_and_activity_none() -> None:
    result = lookup.party_result("7736207543", [DEAD], "2025-01-01T00:00:00+00:00", False)
    assert result.warning == ("Внимание: организация — ликвидирована 05.03.2021. "
                              "Проверьте, прежде чем заключать сделку.")
    assert registry.status_warning("ACTIVE") is None
    assert registry.status_warning("BANKRUPT", "ip", lang="en") == (
        "Warning: the entrepreneur is bankrupt. Check before doing business.")
    assert registry.status_label("LIQUIDATED", "ip") == "деятельность прекращена"


def test_a_bank_maps_name_city_and_accounts() -> None:
    bank = lookup._bank_result(BIK, BANKS[BIK][0], "2025-01-01T00:00:00+00:00", False)
    assert bank.fields["bank_name"] == "ПАО СБЕРБАНК, г. Москва"
    assert bank.swift == "SABRRUMM" and bank.warning is None


def test_postal_answers_are_merged_without_repeats() -> None:
    answer = {"postal_unit": POSTAL_UNITS[INDEX],
              "address": ADDRESSES[INDEX] + ADDRESSES[INDEX]
              + [{"value": "другой индекс", "data": {"postal_code": "101000"}}]}
    result = lookup._postal_result(INDEX, answer, "", False)
    assert len(result.items) == 3


@pytest.mark.parametrize("a, b", [('ООО "РОМАШКА"', "ООО «Ромашка»"),
                                  ("г. Москва, ул. Тверская, д. 1", "г Москва, ул Тверская, д 1"),
                                  ("Ёлкин", "елкин")])
def test_the_same_value_written_differently_is_not_a_change(a: str, b: str) -> None:
    assert lookup.same_value(a, b)
    assert lookup.pending_changes({"name": a}, {"name": b}) == []


def test_only_typed_fields_that_would_change_are_asked_about() -> None:
    current = {"name": "ООО «Моё название»", "kpp": "", "inn": "7707083893"}
    found = {"name": 'ООО "ТЕСТОВАЯ КОМПАНИЯ"', "kpp": "773601001", "inn": "7707083893",
             "okved": ""}
    assert lookup.pending_changes(current, found) == [
        ("name", "ООО «Моё название»", 'ООО "ТЕСТОВАЯ КОМПАНИЯ"')]
    assert lookup.empty_fills(current, found) == {"kpp": "773601001"}


@pytest.mark.parametrize("typed, expected", [
    ("7707083893", "7707083893"), (" 7707 083 893 ", "7707083893"),
    ("ИНН: 7707-083-893", "7707083893"), ("ОГРН 1027700132195", "1027700132195"),
    ("304500116000157", "304500116000157")])
def test_inn_and_ogrn_input_is_cleaned(typed: str, expected: str) -> None:
    assert lookup.clean_party_query(typed) == expected


@pytest.mark.parametrize("typed", ["7707083894", "77O7083893", "770708389", "<b>1</b>"])
def test_bad_inn_input_is_refused(typed: str) -> None:
    with pytest.raises(lookup.BadQuery):
        lookup.clean_party_query(typed)


def test_the_moscow_day_turns_at_21_utc() -> None:
    from datetime import UTC, datetime

    assert lookup.moscow_day(datetime(2025, 1, 1, 20, 59, tzinfo=UTC)) == "2025-01-01"
    assert lookup.moscow_day(datetime(2025, 1, 1, 21, 0, tzinfo=UTC)) == "2025-01-02"


def test_config_prefers_the_environment_then_secrets_then_defaults(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[dadata]\ntoken = "from-file"\nurl = "http://mirror.local/rs/"\n'
                       'daily_limit = 500\n', encoding="utf-8")
    cfg = dadata.load_config(env={}, files=[secrets])
    assert (cfg.token, cfg.base_url, cfg.daily_limit) == ("from-file", "http://mirror.local/rs",
                                                          500)
    cfg = dadata.load_config(env={dadata.ENV_TOKEN: "from-env", dadata.ENV_TIMEOUT: "0.5"},
                             files=[secrets])
    assert (cfg.token, cfg.read_timeout) == ("from-env", 0.5)
    cfg = dadata.load_config(env={dadata.ENV_DAILY_LIMIT: "many"}, files=[tmp_path / "none"])
    assert (cfg.token, cfg.base_url, cfg.daily_limit, cfg.connect_timeout) == (
        "", dadata.DEFAULT_URL, 10_000, 3.0)


def test_a_broken_secrets_file_is_ignored(tmp_path: Path) -> None:
    bad = tmp_path / "secrets.toml"
    bad.write_text("[dadata\ntoken = ", encoding="utf-8")
    assert dadata.load_config(env={}, files=[bad]).token == ""
