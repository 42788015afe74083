"""Invoice arithmetic as 1C prints it (shared/reference/invoice_cases.md) and the
amount in words."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal as D

import pytest

from clientplus_core.sales import money as m
from clientplus_core.sales.money import Line

# --- the four reference cases ------------------------------------------------------------

def test_case_1_vat_included_22_with_a_line_discount() -> None:
    t = m.compute([Line(D(3), D("1500.00"), D(0), D(22), "Консультация"),
                   Line(D(7), D("349.90"), D(5), D(22), "Бумага А4")], "included")
    assert [x.amount for x in t.lines] == [D("4500.00"), D("2326.84")]
    assert [x.vat for x in t.lines] == [D("811.48"), D("419.59")]
    assert t.vat_by_rate == {D(22): D("1231.07")}
    assert t.total == D("6826.84")
    assert t.words() == "Шесть тысяч восемьсот двадцать шесть рублей 84 копейки"


def test_case_2_vat_on_top_with_mixed_rates_and_a_fractional_quantity() -> None:
    t = m.compute([Line(D("2.5"), D("89.99"), D(0), D(10), "Молоко"),
                   Line(D(1), D("1000.00"), D(0), D(22), "Доставка")], "on_top")
    assert [x.amount for x in t.lines] == [D("224.98"), D("1000.00")]
    assert t.vat_by_rate == {D(22): D("220.00"), D(10): D("22.50")}
    assert list(t.vat_by_rate) == [D(22), D(10)]          # highest rate first
    assert t.total == D("1467.48")
    assert t.words() == "Одна тысяча четыреста шестьдесят семь рублей 48 копеек"


def test_case_3_without_vat_and_a_sale_discount_of_ten_percent() -> None:
    t = m.compute([Line(D(1), D("85000.00"), vat_rate=None, name="Разработка сайта"),
                   Line(D(12), D("450.00"), vat_rate=None, name="Хостинг"),
                   Line(D(1), D("199.00"), vat_rate=None, name="Домен")],
                  "included", sale_discount=D(10))
    assert [x.amount for x in t.lines] == [D("76500.00"), D("4860.00"), D("179.10")]
    assert t.no_vat and t.vat_by_rate == {} and t.vat_total == 0
    assert t.total == D("81539.10")
    assert t.words() == "Восемьдесят одна тысяча пятьсот тридцать девять рублей 10 копеек"


def test_case_4_a_document_dated_in_2025_keeps_twenty_percent() -> None:
    rate = m.default_vat_rate(date(2025, 12, 30))
    assert rate == 20
    t = m.compute([Line(D(1), D("1000.00"), vat_rate=rate, name="Услуга")], "included")
    assert t.vat_by_rate == {D(20): D("166.67")}
    assert t.total == D("1000.00")
    assert t.words() == "Одна тысяча рублей 00 копеек"


def test_the_standard_rate_is_22_from_2026_and_none_for_usn() -> None:
    assert m.default_vat_rate(date(2026, 1, 1)) == 22
    assert m.default_vat_rate(date(2025, 12, 31)) == 20
    assert m.default_vat_rate(date(2026, 5, 1), "usn") is None


# --- more cases of our own ---------------------------------------------------------------

def test_vat_is_summed_from_rounded_line_vats_not_recomputed_on_the_total() -> None:
    # seven lines of 0.05 at 10 % on top: each VAT 0.005 rounds to 0.01 -> 0.07,
    # while 10 % of the total 0.35 would be 0.04
    t = m.compute([Line(D(1), D("0.05"), vat_rate=D(10)) for _ in range(7)], "on_top")
    assert [x.vat for x in t.lines] == [D("0.01")] * 7
    assert t.vat_total == D("0.07")
    assert t.total == D("0.42")
    # included: three lines of 1.01 at 22 %: 0.1821… -> 0.18 each = 0.54; on the
    # total 3.03 it would be 0.5464… -> 0.55
    t = m.compute([Line(D(1), D("1.01"), vat_rate=D(22)) for _ in range(3)], "included")
    assert t.vat_total == D("0.54")


def test_half_a_kopeck_rounds_up() -> None:
    assert m.line_amount(D("0.5"), D("0.01")) == D("0.01")       # 0.005 -> 0.01
    assert m.line_amount(D(3), D("0.335"), D(0)) == D("1.01")   # 1.005 -> 1.01
    assert m.line_vat(D("0.55"), D(10), "on_top") == D("0.06")  # 0.055 -> 0.06


def test_a_line_discount_and_the_sale_discount_both_apply_before_one_rounding() -> None:
    # 3 × 99.99 × 0.95 × 0.90 = 256.474… -> 256.47
    assert m.line_amount(D(3), D("99.99"), D(5), D(10)) == D("256.47")


def test_a_fractional_quantity_with_three_decimals() -> None:
    t = m.compute([Line(D("1.375"), D("1234.56"), vat_rate=D(22))], "on_top")
    assert t.lines[0].amount == D("1697.52")          # 1697.52
    assert t.lines[0].vat == D("373.45")              # 373.4544 -> 373.45
    assert t.total == D("2070.97")


def test_a_zero_percent_line_shows_zero_vat_but_is_not_without_vat() -> None:
    t = m.compute([Line(D(1), D(100), vat_rate=D(0))], "included")
    assert t.vat_by_rate == {D(0): D("0.00")} and not t.no_vat


def test_a_hundred_percent_discount_gives_a_free_line() -> None:
    assert m.line_amount(D(5), D("100"), D(100)) == D("0.00")


def test_large_values_keep_every_kopeck() -> None:
    amount = m.line_amount(D("999999.999"), D("999999999.99"))
    assert amount == D("999999998990000.00")


def test_integer_kopeck_arithmetic_gives_the_same_results_as_decimal() -> None:
    rng = random.Random(5)
    for _ in range(5000):
        qty = rng.randint(1, 5_000_000)            # thousandths
        price = rng.randint(0, 10_000_000)         # kopecks
        disc = rng.choice([0, 0, 500, 750, 1000, 3333, rng.randint(0, 10_000)])
        sale_disc = rng.choice([0, 0, 1000, rng.randint(0, 10_000)])
        rate = rng.choice([None, 0, 5, 7, 10, 20, 22])
        mode = rng.choice(m.VAT_MODES)
        amount = m.line_amount(D(qty) / 1000, D(price) / 100, D(disc) / 100, D(sale_disc) / 100)
        kop = m.line_amount_kop(qty, price, disc, sale_disc)
        assert m.to_kop(amount) == kop
        vat = m.line_vat(amount, None if rate is None else D(rate), mode)
        assert m.to_kop(vat) == m.line_vat_kop(kop, rate, mode)


def test_typed_numbers_are_read_as_decimals() -> None:
    assert m.parse_decimal("1 500,50") == D("1500.50")
    assert m.parse_decimal("1\u00a0500.5") == D("1500.5")
    assert m.parse_decimal(0.1) == D("0.1")
    assert m.parse_decimal(12) == D(12)
    with pytest.raises(ValueError, match="не число"):
        m.parse_decimal("двенадцать", what="Цена")
    with pytest.raises(ValueError, match="не больше 2 знаков"):
        m.parse_decimal("1.005", places=2, what="Цена")
    with pytest.raises(ValueError, match="не число"):
        m.parse_decimal("NaN")


def test_amounts_are_printed_with_thousands_and_a_comma() -> None:
    assert m.format_amount(D("6826.84")) == "6\u00a0826,84"
    assert m.format_amount(D("1000000"), " ") == "1 000 000,00"
    assert m.format_amount(D("0.5")) == "0,50"
    assert m.format_qty(D("2.500")) == "2,5"
    assert m.format_qty(D("3")) == "3"
    assert m.format_qty(D("100")) == "100"


def test_kopecks_convert_both_ways() -> None:
    assert m.to_kop(D("6826.84")) == 682684
    assert m.from_kop(682684) == D("6826.84")
    assert m.from_kop(5) == D("0.05")


# --- amount in words ---------------------------------------------------------------------

@pytest.mark.parametrize("amount, words", [
    ("0", "Ноль рублей 00 копеек"),
    ("0.00", "Ноль рублей 00 копеек"),
    ("0.01", "Ноль рублей 01 копейка"),
    ("0.02", "Ноль рублей 02 копейки"),
    ("0.05", "Ноль рублей 05 копеек"),
    ("0.11", "Ноль рублей 11 копеек"),
    ("0.21", "Ноль рублей 21 копейка"),
    ("1.00", "Один рубль 00 копеек"),
    ("2.00", "Два рубля 00 копеек"),
    ("5.00", "Пять рублей 00 копеек"),
    ("11.00", "Одиннадцать рублей 00 копеек"),
    ("21.00", "Двадцать один рубль 00 копеек"),
    ("101.05", "Сто один рубль 05 копеек"),
    ("1234.50", "Одна тысяча двести тридцать четыре рубля 50 копеек"),
    ("2000", "Две тысячи рублей 00 копеек"),
    ("1000000.00", "Один миллион рублей 00 копеек"),
    ("6826.84", "Шесть тысяч восемьсот двадцать шесть рублей 84 копейки"),
])
def test_amount_in_words(amount: str, words: str) -> None:
    assert m.amount_in_words(D(amount)) == words


def test_amount_in_words_takes_an_int_as_roubles_not_kopecks() -> None:
    assert m.amount_in_words(D(5)) == "Пять рублей 00 копеек"


def test_amount_in_words_refuses_a_negative_amount() -> None:
    with pytest.raises(ValueError):
        m.amount_in_words(D("-1"))
