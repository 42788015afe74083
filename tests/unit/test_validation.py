"""Checksums and normalisation of Russian requisites, phones and e-mails."""

from __future__ import annotations

import pytest

from clientplus_core.records import validation as v


@pytest.mark.parametrize("inn", ["7707083893", "500100732259", "7736207543"])
def test_a_valid_inn_is_accepted(inn: str) -> None:
    assert v.check_inn(inn) == inn


@pytest.mark.parametrize("inn, msg", [
    ("7707083894", "контрольная сумма"),
    ("500100732258", "контрольная сумма"),
    ("77070838", "10 или 12"),
    ("77070838ab", "цифр"),
])
def test_a_wrong_inn_is_refused_with_the_reason(inn: str, msg: str) -> None:
    with pytest.raises(ValueError, match=msg):
        v.check_inn(inn)


def test_inn_length_must_fit_the_kind_of_client() -> None:
    with pytest.raises(ValueError, match="юридического"):
        v.check_inn("500100732259", "legal")
    with pytest.raises(ValueError, match="ИП"):
        v.check_inn("7707083893", "ip")


def test_ogrn_of_a_company_has_a_check_digit() -> None:
    assert v.check_ogrn("1027700132195") == "1027700132195"
    with pytest.raises(ValueError, match="контрольная сумма ОГРН"):
        v.check_ogrn("1027700132196")


def test_ogrnip_with_remainder_10_is_valid_with_check_digit_0() -> None:
    # int(first 14) % 13 == 10 -> the check digit is 10 % 10 == 0; the naive rule fails here
    ogrnip = "304500116000180"
    assert int(ogrnip[:14]) % 13 == 10
    assert v.check_ogrn(ogrnip, "ip") == ogrnip


def test_a_wrong_ogrnip_is_refused() -> None:
    with pytest.raises(ValueError, match="ОГРНИП"):
        v.check_ogrn("304500116000181", "ip")


def test_kpp_format() -> None:
    assert v.check_kpp("773601001") == "773601001"
    assert v.check_kpp("7736AB001") == "7736AB001"
    with pytest.raises(ValueError, match="КПП"):
        v.check_kpp("77360100")
    with pytest.raises(ValueError, match="КПП"):
        v.check_kpp("7736ab00X")


def test_bik_must_start_with_04() -> None:
    assert v.check_bik("044525225") == "044525225"
    with pytest.raises(ValueError, match="04"):
        v.check_bik("144525225")
    with pytest.raises(ValueError, match="9 цифр"):
        v.check_bik("04452522")


def test_settlement_account_key_is_checked_against_the_bik() -> None:
    bik = "044525225"
    acc = list("40702810000000000001")
    acc[8] = v.account_key_digit(bik[-3:], "".join(acc))
    good = "".join(acc)
    assert v.check_account(good, bik) == good
    bad = good[:8] + str((int(good[8]) + 1) % 10) + good[9:]
    with pytest.raises(ValueError, match="не сходится с БИК"):
        v.check_account(bad, bik)


def test_correspondent_account_is_checked_against_the_bik() -> None:
    assert v.check_corr_account("30101810400000000225", "044525225")
    with pytest.raises(ValueError, match="не сходится"):
        v.check_corr_account("30101810400000000226", "044525225")


@pytest.mark.parametrize("typed", ["8 (916) 123-45-67", "+7 916 123 45 67", "89161234567",
                                   "9161234567", "+7(916)1234567"])
def test_phones_typed_any_way_are_stored_in_e164(typed: str) -> None:
    assert v.check_phone(typed) == "+79161234567"


def test_phone_is_shown_in_national_format() -> None:
    assert v.format_phone("+79161234567") == "8 (916) 123-45-67"


def test_an_invalid_phone_is_refused_not_just_an_impossible_one() -> None:
    with pytest.raises(ValueError, match="телефона"):
        v.check_phone("+7 000 123 45 67")


def test_plus7_7xx_is_kazakhstan() -> None:
    e164 = v.check_phone("+7 701 123 45 67")
    assert e164 == "+77011234567"
    assert not v.format_phone(e164).startswith("8 (")


def test_email_is_validated() -> None:
    assert v.check_email(" Ivan@Example.RU ") == "Ivan@example.ru"
    with pytest.raises(ValueError, match="e-mail"):
        v.check_email("ivan@")


def test_empty_values_are_allowed_everywhere() -> None:
    for fn in (v.check_inn, v.check_ogrn, v.check_kpp, v.check_bik, v.check_account,
               v.check_phone, v.check_email, v.check_postal_index):
        assert fn("") == ""


@pytest.mark.parametrize("typed", ["+7 495 500-55-50 доб. 123", "8 (495) 500-55-50, доб 123",
                                   "84955005550 ext. 123", "+7 495 500 55 50 #123"])
def test_an_extension_typed_with_a_phone_is_kept(typed: str) -> None:
    stored = v.check_phone(typed)
    assert stored == "+74955005550;ext=123"
    assert v.format_phone(stored) == "8 (495) 500-55-50 доб. 123"
    assert v.check_phone(v.format_phone(stored)) == stored     # the edit form round-trips
    assert v.split_phone(stored) == ("+74955005550", "123")


def test_a_phone_without_extension_is_stored_as_before() -> None:
    assert v.check_phone("8 916 123-45-67") == "+79161234567"
    assert v.split_phone("+79161234567") == ("+79161234567", "")


def test_a_query_with_an_extension_matches_how_phones_are_indexed() -> None:
    from clientplus_core.search.index import normalise_query

    stored = v.check_phone("+7 495 500-55-50 доб. 123")
    assert normalise_query("8 (495) 500-55-50 доб. 123") == ["74955005550 123"]
    assert "74955005550 123" in v.phone_search_tokens(stored)


@pytest.mark.parametrize(("name", "inn", "ogrn", "kind"), [
    ("ИП Петров Пётр Петрович", "500100732259", "", "ip"),
    ("Индивидуальный предприниматель Петров П. П.", "500100732259", "", "ip"),
    ("Петров Пётр Петрович", "500100732259", "", "person"),
    ("Петров Пётр Петрович", "500100732259", "304500116000180", "ip"),
    ("ООО «Ромашка»", "7707083893", "", "legal"),
    ("ИП-Сервис", "", "", "legal"),
])
def test_the_client_type_is_inferred_from_inn_ogrnip_and_name(name, inn, ogrn, kind) -> None:
    from clientplus_core.clients.cards import infer_kind, normalise

    assert infer_kind(name, inn, ogrn) == kind
    assert normalise({"name": name, "inn": inn, "ogrn": ogrn})["kind"] == kind
