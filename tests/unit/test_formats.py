"""How amounts, numbers, dates and times read (clientplus_core.base.formats)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest

from clientplus_core.base import formats


@pytest.mark.parametrize(("value", "lang", "expected"), [
    (D("9821111.14"), "ru", "9 821 111,14 ₽"),
    (D("9821111.14"), "en", "9,821,111.14 ₽"),
    ("9821111.145", "ru", "9 821 111,15 ₽"),       # half-up, through Decimal
    (0.1 + 0.2, "ru", "0,30 ₽"),                   # a float goes through its text
    (-1234.5, "ru", "-1 234,50 ₽"),
    (12000, "ru", "12 000,00 ₽"),
    ("1 234,5", "ru", "1 234,50 ₽"),               # typed the Russian way
])
def test_money_reads_as_the_language_writes_it(value, lang, expected):
    assert formats.money(value, lang) == expected


def test_rounded_figures_have_no_kopecks_and_nothing_is_none():
    assert formats.money(D("5000000.00"), "ru", whole=True) == "5 000 000 ₽"
    assert formats.money(D("266075.81"), "en", whole=True, sign=False) == "266,076"
    for nothing in (None, ""):
        assert formats.money(nothing) == "" and formats.number(nothing) == ""
    assert formats.money("not a number") == "not a number"


def test_big_amounts_are_shortened_in_words_not_letters():
    assert formats.short_money(D("194676554.32")) == "194,7 млн ₽"
    assert formats.short_money(D("194676554.32"), "en") == "194.7 M ₽"
    assert formats.short_money(D("2500000000")) == "2,5 млрд ₽"
    assert formats.short_money(D("999999.99")) == "999 999,99 ₽"


def test_dates_read_day_month_year():
    assert formats.day("2026-12-06") == "06.12.2026"
    assert formats.day(date(2026, 12, 6)) == "06.12.2026"
    assert formats.day("2026-12-06T05:25:04+00:00") == "06.12.2026"
    assert formats.day(None) == "" and formats.day("позже") == "позже"


def test_a_stored_utc_instant_is_shown_in_the_office_zone():
    stored = "2026-12-06T21:30:00+00:00"
    assert formats.moment(stored, "Europe/Moscow") == "07.12.2026 00:30"  # the next day
    assert formats.moment(stored, "Asia/Vladivostok") == "07.12.2026 07:30"
    assert formats.moment("2026-12-06T21:30:00", "Europe/Moscow") == "07.12.2026 00:30"
    assert formats.moment(stored, "Europe/Moscow", seconds=True) == "07.12.2026 00:30:00"
    assert formats.clock(stored, "Asia/Yekaterinburg") == "02:30"
    assert formats.moment("2026-12-06", "Europe/Moscow") == "06.12.2026"  # a date stays one


def test_bad_time_values_never_raise():
    assert formats.moment(None) == "" and formats.moment("") == ""
    assert formats.moment("вчера", "Europe/Moscow") == "вчера"
    assert formats.zone("Mars/Olympus").key == "Europe/Moscow"
    assert formats.zone(None).key == "Europe/Moscow"
    assert formats.clock("not a time") == ""


def test_local_now_is_the_office_clock():
    utc = datetime(2026, 12, 6, 21, 30, 15, tzinfo=UTC)
    local = formats.local_now("Europe/Moscow", utc)
    assert (local.date(), local.hour, local.minute, local.second) == (date(2026, 12, 7), 0, 30, 0)


def test_chart_amounts_use_the_language_separators_and_no_si_suffixes():
    import polars as pl

    from clientplus_core.analytics import charts

    df = pl.DataFrame({"key": ["2026-01", "2026-02"], "amount": [D("5000000.00"),
                                                               D("9821111.14")]})
    ru = charts.bars(df, "key", "amount", x_title="Месяц", y_title="Выручка, ₽")
    assert ru.layout.separators == ", "                  # «9 821 111,14»
    assert ru.layout.yaxis.tickformat == ",.0f"          # «5 000 000», not «5M»
    assert ru.layout.yaxis.exponentformat == "none"
    assert ru.data[0].hovertemplate == "%{x}<br>Выручка: %{y:,.2f} ₽<extra></extra>"
    en = charts.bars(df, "key", "amount", y_title="Revenue, ₽", lang="en", horizontal=True)
    assert en.layout.separators == ".," and en.layout.xaxis.tickformat == ",.0f"
    counts = charts.bars(df, "key", "amount", y_title="Продаж")
    assert counts.layout.yaxis.tickformat is None and counts.data[0].hovertemplate is None


def test_a_month_key_reads_as_a_month_and_year():
    assert formats.month("2026-01") == "янв 2026"
    assert formats.month("2026-12", "en") == "Dec 2026"
    assert formats.month(date(2025, 5, 31)) == "май 2025"
    assert formats.month("2026-13") == "2026-13"
    assert formats.month("Альфа") == "Альфа" and formats.month(None) == ""


def test_the_funnel_writes_its_shares_as_the_language_does():
    """«100 %» and «33,3 %» with a no-break space in Russian, «33.3%» in English —
    never plotly's own «100%» / «33.3%» on a Russian chart."""
    import polars as pl

    from clientplus_core.analytics import charts

    df = pl.DataFrame({"status": ["Заявка", "Счёт", "Оплачено"],
                       "reached_count": [1500, 500, 0]})
    ru = charts.funnel(df)
    assert list(ru.data[0].text) == ["1 500<br>100\u00a0%", "500<br>33,3\u00a0%", "0<br>0\u00a0%"]
    assert "percent" not in str(ru.data[0].textinfo) and "percent" not in str(
        ru.data[0].hovertemplate)
    en = charts.funnel(df, lang="en")
    assert list(en.data[0].text) == ["1,500<br>100%", "500<br>33.3%", "0<br>0%"]
    assert formats.percent(12.5) == "12,5\u00a0%" and formats.percent(None) == ""
    assert formats.percent(D("7"), "en", 0) == "7%"
