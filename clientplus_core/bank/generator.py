"""Realistic bank statements in the 1C exchange format, for tests, the demo and the
bench: the fields as banks fill them (1.03, ``Плательщик=ИНН … name``, bank name and
city, correspondent accounts, ``ВидОплаты=01``, ``Очередность=5``), CRLF line ends,
Windows-1251 (or DOS 866, or UTF-8), several own accounts, incoming and outgoing
payments, and purposes written the many ways people write them.

:func:`render` writes a file from :class:`Party` and :class:`Payment` values;
:func:`purpose_for` words a payment for invoices; :func:`party` makes a payer with a
valid INN and a settlement account whose key matches its bank's BIK.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from clientplus_core.records.validation import account_key_digit

# real banks: (BIK, correspondent account, name, city)
BANKS = (("044525225", "30101810400000000225", "ПАО СБЕРБАНК", "г. Москва"),
         ("044525187", "30101810700000000187", "Банк ВТБ (ПАО)", "г. Москва"),
         ("044525593", "30101810200000000593", "АО \"АЛЬФА-БАНК\"", "г. Москва"),
         ("044525974", "30101810145250000974", "АО \"ТБанк\"", "г. Москва"),
         ("044030653", "30101810500000000653", "СЕВЕРО-ЗАПАДНЫЙ БАНК ПАО СБЕРБАНК",
          "г. Санкт-Петербург"),
         ("046577674", "30101810500000000674", "УРАЛЬСКИЙ БАНК ПАО СБЕРБАНК",
          "г. Екатеринбург"))
_WHAT = ("консультационные услуги", "поставку товара", "монтажные работы",
         "техническое обслуживание", "программное обеспечение", "транспортные услуги")
_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря")


@dataclass(frozen=True)
class Party:
    """A payer or payee as a payment order names it."""

    name: str
    inn: str
    kpp: str
    account: str
    bik: str
    corr: str = ""
    bank: str = ""
    city: str = ""


@dataclass
class Payment:
    """One payment order of the statement."""

    number: str
    day: date
    amount_kop: int
    payer: Party
    payee: Party
    purpose: str
    received: date | None = None
    kind: str = "Платежное поручение"
    extra: dict[str, str] = field(default_factory=dict)


def inn10(rng: random.Random, region: str = "77") -> str:
    """A company INN with a correct check digit."""
    body = region + "".join(str(rng.randint(0, 9)) for _ in range(7))
    w = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(int(d) * k for d, k in zip(body, w, strict=True)) % 11 % 10)


def inn12(rng: random.Random, region: str = "77") -> str:
    """An entrepreneur's INN with both check digits correct."""
    body = region + "".join(str(rng.randint(0, 9)) for _ in range(8))
    w11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    body += str(sum(int(d) * k for d, k in zip(body, w11, strict=True)) % 11 % 10)
    w12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
    return body + str(sum(int(d) * k for d, k in zip(body, w12, strict=True)) % 11 % 10)


def account(rng: random.Random, bik: str, prefix: str = "40702810") -> str:
    """A settlement account (20 digits) whose key digit matches ``bik``."""
    raw = prefix + "0" + "".join(str(rng.randint(0, 9)) for _ in range(20 - len(prefix) - 1))
    digit = account_key_digit(bik[-3:], raw)
    return raw[:8] + digit + raw[9:]


def party(rng: random.Random, name: str, inn: str = "", kpp: str = "",
          bank: tuple[str, str, str, str] | None = None) -> Party:
    """A party with a valid INN (made up when not given) and an account in ``bank``."""
    bik, corr, bank_name, city = bank or rng.choice(BANKS)
    ip = name.startswith("ИП ")
    inn = inn or (inn12(rng) if ip else inn10(rng))
    kpp = "" if ip else (kpp or f"{inn[:4]}01001")
    return Party(name, inn, kpp, account(rng, bik, "40802810" if ip else "40702810"), bik, corr,
                 bank_name, city)


def _amount(kop: int, sep: str = "-") -> str:
    return f"{kop // 100}{sep}{kop % 100:02d}"


def _vat(kop: int, rate: int = 22) -> int:
    return round(kop * rate / (100 + rate))


def purpose_for(rng: random.Random, amount_kop: int, invoices: Sequence[tuple[str, date]] = (),
                sale_number: str = "", style: int | None = None, partial: bool = False) -> str:
    """A purpose for ``invoices`` ((number, date)) or a sale number, in one of the ways
    people write it (``style`` picks one; random otherwise); none: a contract only."""
    what = rng.choice(_WHAT)
    vat = rng.choice((f" Сумма {_amount(amount_kop)} В т.ч. НДС (22%) {_amount(_vat(amount_kop))}",
                      f", в т.ч. НДС 22% - {_amount(_vat(amount_kop), '.')} руб.",
                      " НДС не облагается", ""))
    head = "Частичная оплата" if partial else rng.choice(("Оплата", "Оплата", "Опл."))
    if sale_number and not invoices:
        return rng.choice((f"{head} по заявке {sale_number} за {what}.{vat}",
                           f"{head} по сделке № {sale_number}{vat}"))
    if not invoices:
        return f"Оплата за {what} по договору № {rng.randint(1, 99)}/{rng.randint(20, 26)}.{vat}"
    if len(invoices) > 1:
        nums = ", ".join(n for n, _ in invoices)
        last = invoices[-1][1]
        return rng.choice((
            f"{head} по счетам № {nums} от {last:%d.%m.%Y} за {what}.{vat}",
            f"{head} счетов " + ", ".join(f"№{n} от {d:%d.%m.%Y}" for n, d in invoices) + vat))
    n, d = invoices[0]
    forms = (f"{head} по счету № {n} от {d:%d.%m.%Y} за {what}.{vat}",
             f"{head} по сч. {n} от {d:%d.%m.%y}г. {what}{vat}",
             f"{head} по счёту №СЧ-{int(n):05d} от {d:%d.%m.%Y}{vat}",
             f"{head} по сч/ф {n} от {d:%d.%m.%Y}{vat}",
             f"{head} счета на оплату № {n} от {d.day} {_MONTHS[d.month - 1]} {d.year} г.{vat}",
             f"Предоплата по счету {n} за {what}{vat}",
             f"{head} сч.№{n} от {d:%d.%m.%Y}г.{vat}")
    return forms[style % len(forms)] if style is not None else rng.choice(forms)


def _party_lines(side: str, p: Party) -> list[str]:
    name = f"ИНН {p.inn} {p.name}" if p.inn else p.name
    return [f"{side}Счет={p.account}", f"{side}={name}", f"{side}ИНН={p.inn}",
            f"{side}1={p.name}", f"{side}РасчСчет={p.account}", f"{side}Банк1={p.bank}",
            f"{side}Банк2={p.city}", f"{side}БИК={p.bik}", f"{side}Корсчет={p.corr}"]


def _document(p: Payment, own: set[str]) -> list[str]:
    incoming = p.payee.account in own
    received = p.received or p.day
    lines = [f"СекцияДокумент={p.kind}", f"Номер={p.number}", f"Дата={p.day:%d.%m.%Y}",
             f"Сумма={p.amount_kop // 100}.{p.amount_kop % 100:02d}"]
    payer = _party_lines("Плательщик", p.payer)
    payee = _party_lines("Получатель", p.payee)
    lines += payer[:1] + ([] if incoming else [f"ДатаСписано={p.day:%d.%m.%Y}"]) + payer[1:]
    lines += payee[:1] + ([f"ДатаПоступило={received:%d.%m.%Y}"] if incoming else []) + payee[1:]
    lines += ["ВидПлатежа=", "ВидОплаты=01", "СтатусСоставителя=",
              f"ПлательщикКПП={p.payer.kpp}", f"ПолучательКПП={p.payee.kpp}",
              "ПоказательКБК=", "ОКАТО=", "ПоказательОснования=", "ПоказательПериода=",
              "ПоказательНомера=", "ПоказательДаты=", "ПоказательТипа=", "Очередность=5",
              "Код=0", f"НазначениеПлатежа={p.purpose}"]
    lines += [f"{k}={v}" for k, v in p.extra.items()]
    return lines + ["КонецДокумента"]


def render(own: Sequence[Party], payments: Sequence[Payment], *, encoding: str = "cp1251",
           date_from: date | None = None, date_to: date | None = None,
           sender: str = "Сбербанк Бизнес Онлайн", created: datetime | None = None,
           opening_kop: int = 1_000_000_00, truncate: bool = False) -> bytes:
    """The statement file for the company's accounts ``own`` (CRLF; ``encoding``
    cp1251 → ``Кодировка=Windows``, cp866 → ``DOS``, utf-8 as some banks send).
    ``truncate`` leaves out ``КонецФайла`` (a download cut short)."""
    days = [p.day for p in payments] or [date.today()]
    start, end = date_from or min(days), date_to or max(days)
    made = created or datetime.combine(end, datetime.min.time()).replace(hour=10, minute=15)
    accounts = {a.account for a in own}
    lines = ["1CClientBankExchange", "ВерсияФормата=1.03",
             f"Кодировка={'DOS' if encoding == 'cp866' else 'Windows'}",
             f"Отправитель={sender}", "Получатель=", f"ДатаСоздания={made:%d.%m.%Y}",
             f"ВремяСоздания={made:%H:%M:%S}", f"ДатаНачала={start:%d.%m.%Y}",
             f"ДатаКонца={end:%d.%m.%Y}"]
    lines += [f"РасчСчет={a.account}" for a in own]
    lines += ["Документ=Платежное поручение", "Документ=Банковский ордер"]
    for a in own:
        came = sum(p.amount_kop for p in payments if p.payee.account == a.account)
        went = sum(p.amount_kop for p in payments if p.payer.account == a.account)
        lines += ["СекцияРасчСчет", f"ДатаНачала={start:%d.%m.%Y}", f"ДатаКонца={end:%d.%m.%Y}",
                  f"РасчСчет={a.account}", f"НачальныйОстаток={_amount(opening_kop, '.')}",
                  f"ВсегоПоступило={_amount(came, '.')}", f"ВсегоСписано={_amount(went, '.')}",
                  f"КонечныйОстаток={_amount(opening_kop + came - went, '.')}",
                  "КонецРасчСчет"]
    for p in payments:
        lines += _document(p, accounts)
    if not truncate:
        lines.append("КонецФайла")
    text = "\r\n".join(lines) + "\r\n"
    if encoding == "cp866":  # DOS has no «»: banks writing it use straight quotes
        text = text.translate({ord("«"): '"', ord("»"): '"'})
    return text.encode(encoding)
