"""Which invoices a payment's purpose («НазначениеПлатежа») names.

People write the same thing many ways: «Оплата по счету № 15 от 03.02.2026 за
консультации», «Оплата по сч. 15», «по сч/ф 15 от 3.02.26», «счёт №СЧ-15»,
«Оплата по счетам № 15, 16 от 03.02.2026», «Счет на оплату № 15 от 3 февраля 2026 г.»,
«по заявке ПР-2026-0015». :func:`extract` returns each reference once, in order:

- ``kind="invoice"``: the number of an invoice document (the app numbers invoices
  per year: «Счёт на оплату № 15»), letters and leading zeros dropped (``СЧ-0015`` →
  ``15``), with its date when written next to it;
- ``kind="sale"``: a sale number (``{prefix}{year}-{seq:04d}``, the prefix from the
  ``sale_number_prefix`` setting, e.g. ``ПР-2026-0015``), stored without the prefix
  (``2026-0015``) — :func:`sale_numbers` gives the spellings to look up.

Numbers are only taken right after a word for an invoice, so «НДС 22%», a contract
number («по договору № 7») or a 20-digit account are never read as invoices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from clientplus_core.base.textnorm import fold

_MONTHS = {"январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7,
           "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12}
_DATE = (r"(?:\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})(?!\d)"
         r"|\d{1,2}\s+(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября"
         r"|ноября|декабря)\s+\d{4})")
_KEYWORD = re.compile(
    r"(?<![а-яa-z0-9])(?:"
    r"сч[е]т(?:ами|ам|ах|ов|ом|у|а|е)?(?![а-я])(?:\s*-\s*фактур[а-я]*|\s+фактур[а-я]*)?"
    r"(?:\s+на\s+оплату)?"
    r"|сч\s*/\s*ф|с\s*/\s*ф|сч\s*-\s*ф(?:\.|актур[а-я]*)?|сч\.|сч(?=\s*(?:№|n\b|#|\d))"
    r"|инвойс[а-я]*|invoice)")
_ITEM = re.compile(
    r"\s*(?:№|n|no\.?|#)?\s*(?P<num>(?:[а-яa-z]{1,4}\s*-?\s*)?\d{1,10}(?:/\d{1,6})?)(?![\d.,-]*\d)"
    r"(?P<tail>(?:\s*г\.?)?(?:\s*(?:от|from|dated)\s*(?P<date>" + _DATE
    + r"))?(?:\s*г(?:ода|\.)?)?)")
_ITEM_DATE_FIRST = re.compile(r"\s*(?:от\s*)?(?P<date>" + _DATE + r")")
_SEP = re.compile(r"\s*(?:,|;|\bи\b|\band\b|&|\+)\s*")
_SALE = r"(?<![\w-])(?P<pfx>{pfx})(?P<year>20\d\d)-(?P<seq>\d{{1,6}})(?![\w-])"


@dataclass(frozen=True)
class Ref:
    """One invoice (or sale) the purpose names."""

    kind: str     # "invoice" | "sale"
    number: str   # invoice: its digits ("15"); sale: "2026-0015" (without a prefix)
    date: str     # ISO, or "" when not written next to it
    text: str     # the words it was read from, for the reason shown to the user


def parse_text_date(text: str, today: date | None = None) -> str:
    """A date as written in a purpose (``03.02.2026``, ``3.2.26``, ``3 февраля 2026``)
    as ISO; "" when it is not a real date."""
    t = fold(text.strip())
    m = re.fullmatch(r"(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})", t)
    if m:
        d, mo, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    else:
        m = re.fullmatch(r"(\d{1,2})\s+([а-я]+)\s+(\d{4})", t)
        if not m:
            return ""
        d, y = int(m.group(1)), int(m.group(3))
        mo = next((n for stem, n in _MONTHS.items() if m.group(2).startswith(stem)), 0)
    if y < 100:
        y += 2000
    try:
        return date(y, mo, d).isoformat()
    except ValueError:
        return ""


def _invoice_number(raw: str) -> str:
    digits = re.search(r"\d+(?:/\d+)?", raw)
    if not digits:
        return ""
    head, _, tail = digits.group(0).partition("/")
    return str(int(head)) + (f"/{tail}" if tail else "")


def _sale_pattern(prefixes: Iterable[str]) -> re.Pattern[str]:
    alts = sorted({fold(p) for p in prefixes if p}, key=len, reverse=True)
    pfx = "|".join(re.escape(p) for p in alts)
    return re.compile(_SALE.format(pfx=f"(?:{pfx})?" if pfx else ""))


def sale_numbers(number: str, prefixes: Iterable[str]) -> list[str]:
    """The stored spellings of a sale reference ``2026-0015``: with each prefix the app
    uses (and none), the sequence padded to four digits as numbering does."""
    year, _, seq = number.partition("-")
    base = f"{year}-{int(seq):04d}" if seq.isdigit() else number
    return sorted({f"{p}{base}" for p in {"", *prefixes}})


def extract(purpose: str, sale_prefixes: Sequence[str] = ()) -> list[Ref]:
    """The invoices and sales a payment's purpose names, in order, each once."""
    text = fold(purpose or "")
    out: list[Ref] = []
    seen: set[tuple[str, str, str]] = set()

    def add(ref: Ref) -> None:
        key = (ref.kind, ref.number, ref.date)
        if ref.number and key not in seen:
            seen.add(key)
            out.append(ref)

    masked = list(text)
    for sm in _sale_pattern(sale_prefixes).finditer(text):
        add(Ref("sale", f"{sm.group('year')}-{int(sm.group('seq')):04d}", "",
                purpose[sm.start():sm.end()]))
        masked[sm.start():sm.end()] = " " * (sm.end() - sm.start())
    text = "".join(masked)
    for kw in _KEYWORD.finditer(text):
        pos = kw.end()
        items: list[tuple[str, str, int, int]] = []
        m = _ITEM.match(text, pos)
        while m:
            num = _invoice_number(m.group("num"))
            day = parse_text_date(m.group("date")) if m.group("date") else ""
            items.append((num, day, kw.start(), m.end()))
            pos = m.end()
            sep = _SEP.match(text, pos)
            if not sep:
                break
            m = _ITEM.match(text, sep.end())
            if m and _ITEM_DATE_FIRST.match(text, sep.end()) and m.group("date") is None \
                    and re.match(r"\s*\d{1,2}[./]\d", text[sep.end():]):
                break  # «…, 03.02.2026» is a date, not another invoice
        # «№ 15 и № 16 от 03.02.2026»: a number without a date of its own shares the
        # date written after the last one
        shared = items[-1][1] if items else ""
        for num, day, start, end in items:
            add(Ref("invoice", num, day or shared, purpose[start:end].strip()))
    return out
