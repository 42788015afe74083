"""Money arithmetic the way Russian accounting software prints it: pure functions, no
database, ``Decimal`` only (never ``float``).

Rules (``shared/reference/invoice_cases.md``):

- line amount = round_half_up(quantity × price × (1 − line discount %/100)
  × (1 − sale discount %/100), 2): the sale-level discount is the same percent
  applied to every line, and the line is rounded once, at the end;
- "VAT included" (``vat_mode="included"``): line VAT = round_half_up(amount × rate
  / (100 + rate), 2); total to pay = Σ amounts;
- "VAT on top" (``vat_mode="on_top"``): line VAT = round_half_up(amount × rate / 100, 2);
  total to pay = Σ amounts + Σ VAT;
- VAT is summed per rate from the rounded line VATs, never recomputed on a total;
- a line "без НДС" has ``vat_rate=None``: no VAT; when every line is без НДС the
  document says "Без налога (НДС)";
- the amount in words is the total to pay, capitalised, kopecks as two digits.

Storage units (used by :mod:`clientplus_core.sales`): money as integer kopecks,
quantities as integer thousandths (``qty_milli``: up to three decimals, enough for
kilograms, metres and hours), discounts as integer hundredths of a percent
(``discount_bp``: 0..10000). The integer helpers :func:`line_amount_kop` and
:func:`line_vat_kop` compute the same exact results as the ``Decimal`` ones (the
rational value is computed exactly, then rounded half-up once) and are used by the
bulk demo generator; a unit test checks they agree.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from num2words import num2words

__all__ = [
    "VAT_MODES", "Line", "LineTotal", "Totals", "amount_in_words", "compute",
    "default_vat_rate", "format_amount", "format_qty", "from_kop", "line_amount",
    "line_amount_kop", "line_vat", "line_vat_kop", "parse_decimal", "round_half_up",
    "to_kop", "STANDARD_RATE_CHANGE",
]

VAT_MODES = ("included", "on_top")
ZERO = Decimal(0)
HUNDRED = Decimal(100)
CENT = Decimal("0.01")
STANDARD_RATE_CHANGE = date(2026, 1, 1)   # 20 % before, 22 % from this day

# Limits that make a value "absurd" rather than merely large.
MAX_QTY = Decimal(1_000_000)
MAX_PRICE = Decimal(1_000_000_000)          # one billion roubles per unit
MAX_LINE_AMOUNT = Decimal(100_000_000_000)  # one hundred billion roubles per line
MAX_LINES = 500

_CTX = decimal.Context(prec=80, rounding=ROUND_HALF_UP)


def round_half_up(value: Decimal, places: int = 2) -> Decimal:
    """``value`` rounded half away from zero to ``places`` decimals (accountants' rounding)."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP, context=_CTX)


def parse_decimal(value: object, *, places: int | None = None, what: str = "число") -> Decimal:
    """A user-typed number as Decimal: ``"1 500,50"``, ``"1500.5"``, ``12``, ``Decimal``.

    A ``float`` (as a number widget gives) is read through its shortest ``repr``,
    so ``0.1`` becomes ``Decimal("0.1")``. Raises ``ValueError`` with a Russian
    message for text that is not a number, NaN/infinity, or (with ``places``) more
    decimals than allowed.
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what}: укажите число")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        d = Decimal(repr(value))
    else:
        text = str(value).strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
        if not text:
            raise ValueError(f"{what}: укажите число")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(f"{what}: «{value}» — не число") from None
    if not d.is_finite():
        raise ValueError(f"{what}: «{value}» — не число")
    if places is not None and d != d.quantize(Decimal(1).scaleb(-places), context=_CTX):
        raise ValueError(f"{what}: не больше {places} знаков после запятой")
    return d


def to_kop(amount: Decimal) -> int:
    """Roubles (at most two decimals after rounding) -> integer kopecks."""
    return int(round_half_up(amount) * 100)


def from_kop(kop: int) -> Decimal:
    """Integer kopecks -> roubles as a two-decimal Decimal."""
    return (Decimal(int(kop)) / 100).quantize(CENT)


def line_amount(qty: Decimal, price: Decimal, discount: Decimal = ZERO,
                sale_discount: Decimal = ZERO) -> Decimal:
    """Amount of one line after its discount and the sale's discount, rounded once."""
    with decimal.localcontext(_CTX):
        raw = qty * price * (HUNDRED - discount) / HUNDRED * (HUNDRED - sale_discount) / HUNDRED
    return round_half_up(raw)


def line_vat(amount: Decimal, rate: Decimal | None, vat_mode: str = "included") -> Decimal:
    """VAT of one line (``rate`` in percent; ``None`` = без НДС -> 0)."""
    if rate is None:
        return ZERO.quantize(CENT)
    if vat_mode not in VAT_MODES:
        raise ValueError(f"vat_mode: {vat_mode!r}")
    with decimal.localcontext(_CTX):
        if vat_mode == "included":
            raw = amount * rate / (HUNDRED + rate)
        else:
            raw = amount * rate / HUNDRED
    return round_half_up(raw)


@dataclass(frozen=True)
class Line:
    """One specification line as entered: ``discount`` in percent, ``vat_rate`` in
    percent or ``None`` for "без НДС"."""

    qty: Decimal
    price: Decimal
    discount: Decimal = ZERO
    vat_rate: Decimal | None = None
    name: str = ""


@dataclass(frozen=True)
class LineTotal:
    amount: Decimal
    vat: Decimal
    vat_rate: Decimal | None


@dataclass
class Totals:
    """What a document prints under the table.

    ``subtotal`` is Σ line amounts (the "Итого" row); ``total`` is what is to be
    paid; ``without_vat`` = total − VAT; ``vat_by_rate`` maps each rate present
    (highest first, без НДС excluded) to the sum of its rounded line VATs.
    """

    vat_mode: str
    lines: list[LineTotal] = field(default_factory=list)
    subtotal: Decimal = ZERO
    vat_by_rate: dict[Decimal, Decimal] = field(default_factory=dict)
    vat_total: Decimal = ZERO
    total: Decimal = ZERO

    @property
    def without_vat(self) -> Decimal:
        return self.total - self.vat_total

    @property
    def no_vat(self) -> bool:
        """Every line is "без НДС" (the document says "Без налога (НДС)")."""
        return not self.vat_by_rate

    def words(self) -> str:
        return amount_in_words(self.total)


def compute(lines: Sequence[Line], vat_mode: str = "included",
            sale_discount: Decimal = ZERO) -> Totals:
    """Totals of a specification, line by line, as 1C prints them."""
    if vat_mode not in VAT_MODES:
        raise ValueError(f"vat_mode: {vat_mode!r}")
    out = Totals(vat_mode=vat_mode)
    by_rate: dict[Decimal, Decimal] = {}
    for ln in lines:
        amount = line_amount(ln.qty, ln.price, ln.discount, sale_discount)
        vat = line_vat(amount, ln.vat_rate, vat_mode)
        out.lines.append(LineTotal(amount, vat, ln.vat_rate))
        out.subtotal += amount
        if ln.vat_rate is not None:
            by_rate[ln.vat_rate] = by_rate.get(ln.vat_rate, ZERO.quantize(CENT)) + vat
    out.vat_by_rate = dict(sorted(by_rate.items(), key=lambda kv: -kv[0]))
    out.vat_total = sum(by_rate.values(), ZERO.quantize(CENT))
    out.subtotal = out.subtotal.quantize(CENT)
    out.total = out.subtotal + (out.vat_total if vat_mode == "on_top" else ZERO)
    return out


# --- the same arithmetic on integers (kopecks, thousandths, basis points) ----------------

def _div_half_up(num: int, den: int) -> int:
    """round_half_up(num / den) for num >= 0, den > 0, exactly."""
    return (2 * num + den) // (2 * den)


def line_amount_kop(qty_milli: int, price_kop: int, discount_bp: int = 0,
                    sale_discount_bp: int = 0) -> int:
    """:func:`line_amount` in storage units (kopecks), exact."""
    num = qty_milli * price_kop * (10_000 - discount_bp) * (10_000 - sale_discount_bp)
    return _div_half_up(num, 1000 * 10_000 * 10_000)


def line_vat_kop(amount_kop: int, rate: int | None, vat_mode: str = "included") -> int:
    """:func:`line_vat` in kopecks for an integer percent ``rate`` (``None``: без НДС)."""
    if rate is None or rate == 0:
        return 0
    if vat_mode == "included":
        return _div_half_up(amount_kop * rate, 100 + rate)
    return _div_half_up(amount_kop * rate, 100)


# --- presentation -----------------------------------------------------------------------

def amount_in_words(amount: Decimal) -> str:
    """"Одна тысяча двести тридцать четыре рубля 50 копеек": roubles in words,
    kopecks as two digits, first letter capitalised."""
    value = round_half_up(Decimal(amount))
    if value < 0:
        raise ValueError("сумма прописью: отрицательная сумма")
    text = num2words(value, lang="ru", to="currency", currency="RUB", separator="", cents=False)
    text = " ".join(str(text).split())
    return text[:1].upper() + text[1:]


def format_amount(amount: Decimal, thousands: str = "\u00a0") -> str:
    """``Decimal("6826.84")`` -> ``"6 826,84"`` (a no-break space between thousands)."""
    value = round_half_up(Decimal(amount))
    sign = "-" if value < 0 else ""
    whole, frac = f"{abs(value):.2f}".split(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{thousands.join(groups)},{frac}"


def format_qty(qty: Decimal) -> str:
    """``Decimal("2.500")`` -> ``"2,5"``; ``Decimal("3")`` -> ``"3"``."""
    q = Decimal(qty)
    text = f"{q.quantize(Decimal('0.001'), context=_CTX):f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def format_percent(value: Decimal) -> str:
    """``Decimal("7.50")`` -> ``"7,5"``."""
    return format_qty(value)


def default_vat_rate(on: date, tax_system: str = "osn") -> Decimal | None:
    """The standard VAT rate for a document dated ``on``: 22 % from 2026-01-01, 20 %
    before; ``None`` (без НДС) for a company on the simplified system (УСН)."""
    if tax_system == "usn":
        return None
    return Decimal(22) if on >= STANDARD_RATE_CHANGE else Decimal(20)
