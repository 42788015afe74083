"""Custom field values by type, buckets, and the region parsed from an address."""

from __future__ import annotations

from datetime import date

import pytest

from clientplus_core.analytics.segments import NO_VALUE, region_of
from clientplus_core.base.errors import ValidationError
from clientplus_core.records import custom_fields as cf

SELECT = cf.FieldDef("client", "industry", "Отрасль", "select", options=("IT", "Торговля"))
MULTI = cf.FieldDef("client", "channels", "Каналы", "multiselect",
                    options=("Почта", "Телефон", "Сайт"))


@pytest.mark.parametrize("ftype, raw, stored", [
    ("text", "  привет ", "привет"),
    ("number", "1 200,5", 1200.5),
    ("number", "40", 40),
    ("number", 7.0, 7),
    ("date", "31.12.1980", "1980-12-31"),
    ("date", date(2001, 2, 3), "2001-02-03"),
    ("date", "2001-02-03", "2001-02-03"),
    ("bool", "да", True),
    ("bool", "Нет", False),
    ("bool", True, True),
    ("text", "", None),
])
def test_a_value_is_stored_in_its_types_form(ftype: str, raw: object, stored: object) -> None:
    assert cf.normalise_value(cf.FieldDef("client", "f", "Поле", ftype), raw) == stored


def test_a_select_takes_a_listed_option_whatever_its_case() -> None:
    assert cf.normalise_value(SELECT, "it") == "IT"
    assert cf.normalise_value(MULTI, "телефон; Почта, Телефон") == ["Телефон", "Почта"]


@pytest.mark.parametrize("fd, raw", [
    (cf.FieldDef("client", "n", "Численность", "number"), "много"),
    (cf.FieldDef("client", "d", "Дата рождения", "date"), "31/31/2000"),
    (cf.FieldDef("client", "b", "VIP", "bool"), "может быть"),
    (SELECT, "Космос"),
    (MULTI, ["Почта", "Голубь"]),
])
def test_a_bad_value_is_refused_with_the_fields_label(fd: cf.FieldDef, raw: object) -> None:
    with pytest.raises(ValidationError) as err:
        cf.validate_values([fd], {fd.key: raw})
    assert err.value.errors[fd.key].startswith(fd.label_ru + ":")


def test_a_required_field_must_be_filled_but_unknown_keys_are_kept() -> None:
    req = cf.FieldDef("client", "sector", "Сектор", "select", options=("А",), required=True)
    with pytest.raises(ValidationError, match="Сектор: обязательное поле"):
        cf.validate_values([req], {"old": 1})
    assert cf.validate_values([req], {"old": 1}, check_required=False) == {"old": 1}
    assert cf.validate_values([req], {"sector": "а", "x": ""}) == {"sector": "А", "x": ""}


@pytest.mark.parametrize("n, bucket", [(None, NO_VALUE), ("", NO_VALUE), (1, "1–10"),
                                       (10, "1–10"), (11, "11–50"), (50, "11–50"),
                                       (51, "51–250"), (1000, "251–1000"), (1001, "1000+")])
def test_headcount_buckets(n: object, bucket: str) -> None:
    assert cf.headcount_bucket(n) == bucket


def test_age_counts_full_years_and_falls_into_a_bucket() -> None:
    today = date(2026, 6, 15)
    assert cf.age("2000-06-16", today) == 25
    assert cf.age("2000-06-15", today) == 26
    assert cf.age_bucket("2000-06-16", today) == "25–34"
    assert cf.age_bucket("1960-01-01", today) == "55+"
    assert cf.age_bucket("2010-01-01", today) == "до 25"
    assert cf.age_bucket(None, today) == NO_VALUE


@pytest.mark.parametrize("address, region", [
    ("г. Москва, ул. Тверская, д. 1", "Москва"),
    ("123456, Свердловская обл., г Екатеринбург, ул. Ленина, 5", "Свердловская область"),
    ("420000, Респ. Татарстан, г. Казань", "Республика Татарстан"),
    ("Краснодарский край, г. Сочи", "Краснодарский край"),
    ("190000, Санкт-Петербург, Невский пр., 1", "Санкт-Петербург"),
    ("", NO_VALUE),
])
def test_the_region_is_read_from_an_address(address: str, region: str) -> None:
    assert region_of(address) == region
