"""Realistic, deterministic demo data: users, clients, contacts and attachments.

The generator is built for volume (``clientplus demo --clients 100000`` in well
under two minutes): Faker is only asked once for small pools of names and
streets, which a seeded :class:`random.Random` then combines; rows are written
with ``executemany`` in chunks, each chunk in one transaction, and indexed for
search by the same functions the normal write path uses
(:func:`clientplus_core.clients.cards.index_client` and friends), so the search index
is exactly what creating the same rows one by one would produce.

Every generated requisite is valid: INN and OGRN/OGRNIP check digits, KPP,
real BIKs with their correspondent accounts, settlement accounts whose key digit
matches the BIK, phones that ``phonenumbers`` accepts as valid Russian numbers.
"""

from __future__ import annotations

import bisect
import io
import json
import mimetypes
import random
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from faker import Faker

from clientplus_core import sales as sales_mod
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files
from clientplus_core.records.validation import account_key_digit
from clientplus_core.sales.money import line_amount_kop, line_vat_kop
from clientplus_core.search import index as search
from clientplus_core.search.textextract import extract_text
from clientplus_core.store.db import Store, connect, transaction
from clientplus_core.team import audit, users
from clientplus_core.team.access import Actor

CHUNK = 5_000
FILES_RATIO = 0.2

# --- requisites -------------------------------------------------------------------------

_INN10_W = (2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN11_W = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN12_W = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def _inn_digit(digits: str, weights: Sequence[int]) -> str:
    return str(sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10)


def make_valid_inn(rng: random.Random, length: int = 10, region: str | None = None) -> str:
    """A random INN with correct check digits: 10 digits (company) or 12 (person, IP).

    ``region`` is the two-digit region code the number starts with (random if omitted).
    """
    if length not in (10, 12):
        raise ValueError("INN length is 10 or 12")
    reg = region or f"{rng.randint(1, 89):02d}"
    office = f"{rng.randint(1, 51):02d}"
    body = reg + office + "".join(str(rng.randrange(10)) for _ in range(5 if length == 10 else 6))
    if length == 10:
        return body + _inn_digit(body, _INN10_W)
    n11 = _inn_digit(body, _INN11_W)
    return body + n11 + _inn_digit(body + n11, _INN12_W)


def make_ogrn(rng: random.Random, region: str | None = None, year: int | None = None) -> str:
    """A 13-digit OGRN of a company with a correct check digit (``int(first 12) % 11 % 10``)."""
    sign = rng.choice("15")
    yy = f"{(year if year is not None else rng.randint(2002, 2024)) % 100:02d}"
    reg = region or f"{rng.randint(1, 89):02d}"
    body = sign + yy + reg + f"{rng.randint(0, 99):02d}" + f"{rng.randrange(10**5):05d}"
    return body + str(int(body) % 11 % 10)


def make_ogrnip(rng: random.Random, region: str | None = None, year: int | None = None) -> str:
    """A 15-digit OGRNIP with a correct check digit (``int(first 14) % 13 % 10``)."""
    yy = f"{(year if year is not None else rng.randint(2004, 2024)) % 100:02d}"
    reg = region or f"{rng.randint(1, 89):02d}"
    body = "3" + yy + reg + f"{rng.randrange(10**9):09d}"
    return body + str(int(body) % 13 % 10)


def make_kpp(inn10: str, rng: random.Random) -> str:
    """A KPP for the company with this INN (same tax office, reason code 01)."""
    return inn10[:4] + rng.choice(("01", "01", "01", "43", "45")) + "001"


@dataclass(frozen=True)
class Bank:
    bik: str
    name: str
    corr_account: str


BANKS: tuple[Bank, ...] = (
    Bank("044525225", "ПАО Сбербанк", "30101810400000000225"),
    Bank("044525593", "АО «Альфа-Банк»", "30101810200000000593"),
    Bank("044525974", "АО «Тинькофф Банк»", "30101810145250000974"),
    Bank("044525187", "Банк ВТБ (ПАО)", "30101810700000000187"),
    Bank("044525823", "Банк ГПБ (АО)", "30101810200000000823"),
    Bank("044525700", "АО «Райффайзенбанк»", "30101810200000000700"),
    Bank("044030653", "Северо-Западный банк ПАО Сбербанк", "30101810500000000653"),
    Bank("046577674", "Уральский банк ПАО Сбербанк", "30101810500000000674"),
)

# balance account prefix by client kind: 40702 companies, 40802 IP, 40817 persons (rubles 810)
_ACCOUNT_PREFIX = {"legal": "40702810", "ip": "40802810", "person": "40817810"}


def make_account(rng: random.Random, bik: str, kind: str = "legal") -> str:
    """A 20-digit settlement account whose key digit matches ``bik``."""
    raw = (_ACCOUNT_PREFIX[kind] + "0" + f"{rng.randrange(10**4):04d}"
           + f"{rng.randrange(10**7):07d}")
    return raw[:8] + account_key_digit(bik[-3:], raw) + raw[9:]


# --- geography: city, region code, postal index range, landline area codes --------------

@dataclass(frozen=True)
class City:
    name: str
    region: str          # two-digit region code (INN, OGRN)
    index_from: int
    index_to: int
    area_codes: tuple[str, ...]


CITIES: tuple[City, ...] = (
    City("Москва", "77", 101000, 129348, ("495", "499")),
    City("Санкт-Петербург", "78", 190000, 199406, ("812",)),
    City("Екатеринбург", "66", 620000, 620150, ("343",)),
    City("Новосибирск", "54", 630000, 630140, ("383",)),
    City("Казань", "16", 420000, 420140, ("843",)),
    City("Нижний Новгород", "52", 603000, 603170, ("831",)),
    City("Самара", "63", 443000, 443130, ("846",)),
    City("Ростов-на-Дону", "61", 344000, 344119, ("863",)),
    City("Краснодар", "23", 350000, 350089, ("861",)),
    City("Воронеж", "36", 394000, 394095, ("473",)),
    City("Пермь", "59", 614000, 614113, ("342",)),
    City("Уфа", "02", 450000, 450112, ("347",)),
    City("Челябинск", "74", 454000, 454139, ("351",)),
    City("Тюмень", "72", 625000, 625062, ("3452",)),
    City("Красноярск", "24", 660000, 660135, ("391",)),
    City("Омск", "55", 644000, 644125, ("3812",)),
    City("Волгоград", "34", 400000, 400138, ("8442",)),
    City("Ярославль", "76", 150000, 150066, ("4852",)),
    City("Тула", "71", 300000, 300045, ("4872",)),
    City("Калининград", "39", 236000, 236044, ("4012",)),
)
# Moscow and St Petersburg hold most customers
_CITY_WEIGHTS = (30, 12, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 3, 2, 2, 2, 2, 2)

# Russian mobile operator codes (9xx); 930 has unassigned ranges, so it is left out
MOBILE_CODES = tuple(str(c) for c in range(900, 1000) if c != 930)


def make_mobile(rng: random.Random) -> str:
    """A valid Russian mobile number in E.164 (``+79XXXXXXXXX``)."""
    return "+7" + rng.choice(MOBILE_CODES) + f"{rng.randrange(10**7):07d}"


def make_landline(rng: random.Random, city: City) -> str:
    """A valid landline number of ``city`` in E.164."""
    code = rng.choice(city.area_codes)
    n = 10 - len(code)
    return "+7" + code + str(rng.randrange(2 * 10 ** (n - 1), 10**n))


# --- words ------------------------------------------------------------------------------

OKVED = ("46.90", "46.73", "46.69", "47.11", "47.91", "41.20", "43.21", "43.31", "49.41",
         "52.29", "10.71", "56.10", "62.01", "62.02", "63.11", "68.20", "69.10", "70.22",
         "73.11", "45.20", "25.62", "33.12", "86.23", "85.41", "16.10", "22.29")
SOURCES = ("Сайт", "Рекомендация", "Выставка", "Холодный звонок", "Яндекс.Директ",
           "Входящий звонок", "Email-рассылка", "Авито", "Тендер", "Партнёр")
TAGS = ("опт", "розница", "VIP", "госзаказчик", "дилер", "новый", "постоянный",
        "должник", "сезонный", "тендер", "экспорт", "предоплата")
PRODUCTS = ("металлопрокат", "офисная мебель", "упаковочные материалы", "строительные смеси",
            "светодиодные светильники", "кабельная продукция", "лакокрасочные материалы",
            "спецодежда", "бумага офисная А4", "сантехническое оборудование",
            "запчасти для спецтехники", "бытовая химия", "компьютерная техника",
            "насосное оборудование", "пиломатериалы", "электроинструмент", "канцтовары",
            "тротуарная плитка", "медицинские расходные материалы", "климатическое оборудование",
            "гидроизоляция", "поддоны деревянные", "стеллажи складские", "кофе в зёрнах")
NOTE_TEMPLATES = (
    "Интересуется поставкой: {p}.",
    "Просили перезвонить в {m}, обсудить объёмы по позиции «{p}».",
    "Оплата по факту поставки, отсрочка {d} дней.",
    "Работаем по предоплате 50%. Основная позиция — {p}.",
    "Закупки раз в квартал, решение принимает {post}.",
    "Запросили коммерческое предложение на {p}, срок ответа — неделя.",
    "Доставка до склада клиента, разгрузка своими силами.",
    "Сравнивают нас с конкурентами по цене на {p}.",
    "Участвуют в тендерах по 44-ФЗ, нужен пакет документов.",
    "Ключевой клиент, скидка {d}% на {p}.",
    "Были на выставке, оставили визитку. Интерес к позиции «{p}».",
)
MONTHS = ("январе", "феврале", "марте", "апреле", "мае", "июне", "июле", "августе",
          "сентябре", "октябре", "ноябре", "декабре")
POSTS = ("Генеральный директор", "Коммерческий директор", "Главный бухгалтер",
         "Менеджер по закупкам", "Начальник отдела снабжения", "Финансовый директор",
         "Инженер", "Офис-менеджер", "Руководитель проекта", "Заведующий складом",
         "Специалист по тендерам", "Юрист")
_ROOTS = ("Техно", "Строй", "Агро", "Энерго", "Мед", "Транс", "Инвест", "Пром", "Сиб", "Урал",
          "Волга", "Нева", "Север", "Юг", "Росс", "Мега", "Гео", "Эко", "Тех", "Хим", "Лес",
          "Метал", "Электро", "Кран", "Дор", "Газ", "Нефть", "Авто", "Фарм", "Инфо")
_TAILS = ("снаб", "торг", "сервис", "комплект", "монтаж", "строй", "пром", "трейд", "логистик",
          "маркет", "систем", "проект", "инжиниринг", "лайн", "групп", "ресурс", "альянс",
          "стандарт", "профи", "мир", "эксперт", "капитал", "холдинг", "техника")
_ADJ = ("Северная", "Южная", "Красная", "Зелёная", "Белая", "Новая", "Первая", "Золотая",
        "Большая", "Сибирская", "Уральская", "Волжская", "Балтийская", "Восточная")
_NOUNS = ("звезда", "линия", "гавань", "долина", "пристань", "мануфактура", "слобода",
          "вершина", "компания", "мастерская", "артель", "фабрика", "торговля", "роща")
_LAT = {"а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "sch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
        "я": "ya"}
MAIL_DOMAINS = ("mail.ru", "yandex.ru", "gmail.com", "bk.ru", "inbox.ru", "list.ru", "rambler.ru")
TLDS = ("ru", "ru", "ru", "com", "рф", "su", "net")


@lru_cache(maxsize=65536)
def translit(text: str) -> str:
    """Lower-case Latin transliteration of Russian text (letters and digits only)."""
    out = []
    for ch in text.lower():
        if ch in _LAT:
            out.append(_LAT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch)
    return "".join(out)


DEMO_USERS = (
    ("head", "Орлова Елена Викторовна", "head", "orlova@example.com"),
    ("manager1", "Смирнов Алексей Игоревич", "manager", "smirnov@example.com"),
    ("manager2", "Кузнецова Мария Андреевна", "manager", "kuznetsova@example.com"),
)
# share of the clients each demo user owns (head, manager1, manager2)
OWNER_WEIGHTS = (20, 45, 35)


@dataclass
class _Pools:
    """Small pools drawn from a seeded Faker once, combined later by ``random``."""

    male: list[tuple[str, str, str]] = field(default_factory=list)    # last, first, middle
    female: list[tuple[str, str, str]] = field(default_factory=list)
    streets: list[str] = field(default_factory=list)
    brands: list[str] = field(default_factory=list)


def _pools(seed: int, size: int = 2000) -> _Pools:
    fake = Faker("ru_RU")
    fake.seed_instance(seed)
    p = _Pools()
    for _ in range(size):
        p.male.append((fake.last_name_male(), fake.first_name_male(), fake.middle_name_male()))
        p.female.append((fake.last_name_female(), fake.first_name_female(),
                         fake.middle_name_female()))
    kinds = ("ул.",) * 9 + ("наб.",)   # street_title() names are feminine adjectives
    p.streets = sorted({f"{fake.random_element(kinds)} {fake.street_title()}"
                        for _ in range(size)})
    p.brands = sorted({fake.large_company() for _ in range(300)})
    return p


# --- row generation ---------------------------------------------------------------------

@dataclass
class _Doc:
    name: str
    data: bytes


@dataclass
class _Chunk:
    clients: list[dict[str, Any]] = field(default_factory=list)
    contacts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)   # (client idx, row)
    files: list[tuple[int, _Doc, str]] = field(default_factory=list)          # (idx, doc, ts)
    shares: list[tuple[int, int]] = field(default_factory=list)               # (idx, user id)


class _Generator:
    """Makes client, contact and document rows from a seed (no database access)."""

    def __init__(self, seed: int, owners: Sequence[Actor], anchor: datetime,
                 files_ratio: float):
        self.rng = random.Random(seed)
        self.pools = _pools(seed)
        self.owners = list(owners)
        self.anchor = anchor
        self.files_ratio = files_ratio
        self.docx_pool: list[_Doc] = []
        self.doc_no = 0
        self.seq = 0

    # people
    def person(self) -> tuple[str, str, str, bool]:
        female = self.rng.random() < 0.45
        last, first, middle = self.rng.choice(self.pools.female if female else self.pools.male)
        return last, first, middle, female

    def company_core(self) -> str:
        r = self.rng.random()
        rng = self.rng
        if r < 0.45:
            core = rng.choice(_ROOTS) + rng.choice(_TAILS)
        elif r < 0.65:
            core = rng.choice(_ROOTS) + rng.choice(_ROOTS).lower() + rng.choice(_TAILS)
        elif r < 0.8:
            core = f"{rng.choice(_ADJ)} {rng.choice(_NOUNS)}"
        elif r < 0.92:
            core = rng.choice(self.pools.brands)
        else:
            core = f"Торговый дом {rng.choice(self.pools.male)[0]}"
        if rng.random() < 0.3:
            core += rng.choice((" Плюс", "-М", " Групп", " Про", "-Сервис", " 2000", "-Юг"))
        return core

    def address(self, city: City) -> tuple[str, str]:
        rng = self.rng
        index = f"{rng.randint(city.index_from, city.index_to):06d}"
        street = rng.choice(self.pools.streets)
        addr = f"{index}, г. {city.name}, {street}, д. {rng.randint(1, 180)}"
        if rng.random() < 0.3:
            addr += f", корп. {rng.randint(1, 6)}"
        if rng.random() < 0.6:
            addr += rng.choice((", оф. ", ", пом. ", ", кв. ")) + str(rng.randint(1, 450))
        return index, addr

    def created_at(self) -> datetime:
        # last ~3 years, more clients recently
        days = int(self.rng.triangular(0, 3 * 365, 0))
        return self.anchor - timedelta(days=days, seconds=self.rng.randrange(86_400))

    def note(self) -> str:
        rng = self.rng
        parts = [rng.choice(NOTE_TEMPLATES).format(p=rng.choice(PRODUCTS), m=rng.choice(MONTHS),
                                                   d=rng.choice((5, 7, 10, 14, 30)),
                                                   post=rng.choice(POSTS).lower())
                 for _ in range(rng.randint(1, 3))]
        return " ".join(parts)

    def client(self) -> tuple[dict[str, Any], City, str]:
        rng = self.rng
        self.seq += 1
        r = rng.random()
        kind = "legal" if r < 0.6 else "ip" if r < 0.85 else "person"
        city = rng.choices(CITIES, _CITY_WEIGHTS)[0]
        index, addr = self.address(city)
        last, first, middle, female = self.person()
        fio = f"{last} {first} {middle}"
        initials = f"{last} {first[0]}.{middle[0]}."
        bank = rng.choice(BANKS)
        created = self.created_at()
        updated = created + timedelta(days=rng.randint(0, 60), seconds=rng.randrange(3600))
        updated = min(updated, self.anchor)
        row: dict[str, Any] = {"kind": kind, "postal_index": index, "legal_address": addr,
                               "full_name": "", "kpp": "", "ogrn": "", "okved": "",
                               "director_post": "", "director_name": "", "website": "",
                               "bik": "", "bank_name": "", "corr_account": "", "account": ""}
        if kind == "legal":
            core = self.company_core()
            opf, opf_full = (("ООО", "Общество с ограниченной ответственностью")
                             if rng.random() < 0.85 else ("АО", "Акционерное общество"))
            row["name"] = f"{opf} «{core}»"
            row["full_name"] = f"{opf_full} «{core}»"
            row["inn"] = make_valid_inn(rng, 10, city.region)
            row["kpp"] = make_kpp(row["inn"], rng)
            year = max(2002, created.year - rng.randint(0, 15))
            row["ogrn"] = make_ogrn(rng, city.region, year)
            row["okved"] = rng.choice(OKVED)
            row["director_post"] = rng.choice(("Генеральный директор", "Генеральный директор",
                                               "Директор", "Управляющий"))
            row["director_name"] = fio
            slug = translit(core)[:24] or f"company{self.seq}"
            domain = f"{slug}.{rng.choice(TLDS)}"
            if domain.endswith(".рф"):
                row["website"] = f"https://{domain}"
                domain = f"{slug}.ru"
            elif rng.random() < 0.75:
                row["website"] = f"https://{domain}"
            row["email"] = f"{rng.choice(('info', 'office', 'sales', 'zakaz', 'mail'))}@{domain}"
            row["phone"] = make_landline(rng, city) if rng.random() < 0.7 else make_mobile(rng)
        elif kind == "ip":
            row["name"] = f"ИП {initials}"
            row["full_name"] = f"Индивидуальный предприниматель {fio}"
            row["inn"] = make_valid_inn(rng, 12, city.region)
            year = max(2004, created.year - rng.randint(0, 12))
            row["ogrn"] = make_ogrnip(rng, city.region, year)
            row["okved"] = rng.choice(OKVED)
            row["director_name"] = fio
            row["email"] = self.personal_email(first, last)
            row["phone"] = make_mobile(rng)
        else:
            row["name"] = fio
            row["inn"] = make_valid_inn(rng, 12, city.region) if rng.random() < 0.5 else ""
            row["email"] = self.personal_email(first, last) if rng.random() < 0.8 else ""
            row["phone"] = make_mobile(rng)
        if kind != "person" or rng.random() < 0.3:
            row["bik"], row["bank_name"], row["corr_account"] = (bank.bik, bank.name,
                                                                 bank.corr_account)
            row["account"] = make_account(rng, bank.bik, kind)
        row["postal_address"] = addr if rng.random() < 0.7 else self.address(city)[1]
        row["source"] = rng.choice(SOURCES)
        row["tags"] = rng.sample(TAGS, rng.choices((0, 1, 2, 3), (25, 40, 25, 10))[0])
        row["notes"] = self.note() if rng.random() < 0.6 else ""
        owner = rng.choices(self.owners, OWNER_WEIGHTS)[0]
        row["owner_id"] = owner.id
        row["created_by"] = row["updated_by"] = owner.id
        row["created_at"] = created.isoformat()
        row["updated_at"] = updated.isoformat()
        row["extra"] = {}
        row["deleted_at"] = None
        row["version"] = 1
        return row, city, row["email"].split("@")[-1] if kind == "legal" else ""

    def personal_email(self, first: str, last: str) -> str:
        rng = self.rng
        local = rng.choice((f"{translit(first)}.{translit(last)}",
                            f"{translit(first)[0]}{translit(last)}",
                            f"{translit(last)}{rng.randint(1, 99)}",
                            f"{translit(first)}{rng.randint(1960, 2005)}"))
        return f"{local}@{rng.choice(MAIL_DOMAINS)}"

    def contact(self, client: dict[str, Any], city: City, domain: str) -> dict[str, Any]:
        rng = self.rng
        last, first, middle, female = self.person()
        post = rng.choice(POSTS)
        if domain:
            email = f"{translit(first)[0]}.{translit(last)}@{domain}"
        else:
            email = self.personal_email(first, last)
        born = date(rng.randint(1958, 2002), rng.randint(1, 12), rng.randint(1, 28))
        created = datetime.fromisoformat(client["created_at"]) + timedelta(
            days=rng.randint(0, 30), seconds=rng.randrange(86_400))
        ts = min(created, self.anchor).isoformat()
        messenger = ""
        if rng.random() < 0.6:
            messenger = rng.choice(("Telegram: @", "WhatsApp: ", "Telegram: @")) + (
                translit(first)[:1] + translit(last))
            if messenger.startswith("WhatsApp"):
                messenger = "WhatsApp: " + make_mobile(rng)
        return {
            "name": f"{last} {first} {middle}",
            "post": post,
            "phone": make_landline(rng, city) if rng.random() < 0.5 else "",
            "mobile": make_mobile(rng) if rng.random() < 0.85 else "",
            "email": email if rng.random() < 0.85 else "",
            "messenger": messenger,
            "birthday": born.isoformat() if rng.random() < 0.6 else "",
            "consent_email": 1 if rng.random() < 0.5 else 0,
            "consent_sms": 1 if rng.random() < 0.3 else 0,
            "notes": rng.choice(("", "", "", "Лучше звонить после обеда.",
                                 "Предпочитает общение в мессенджере.",
                                 "Отвечает за приёмку товара.", "Подписывает договоры.")),
            "created_at": ts,
            "updated_at": ts,
            "deleted_at": None,
            "version": 1,
        }

    def document(self, client: dict[str, Any]) -> _Doc:
        """A short commercial offer or contract mentioning products (txt, or docx from a pool)."""
        rng = self.rng
        self.doc_no += 1
        created = datetime.fromisoformat(client["created_at"])
        no = f"{self.doc_no}-{created:%y}"
        day = created.strftime("%d.%m.%Y")
        items = rng.sample(PRODUCTS, 3)
        if rng.random() < 0.25:
            # docx: python-docx is slow, so a pool of generic offers is built once and reused
            if len(self.docx_pool) < 100:
                self.docx_pool.append(_make_docx(
                    f"Коммерческое предложение № {no}.docx",
                    f"Коммерческое предложение № {no} от {day}",
                    f"Предлагаем вашей компании поставку: {items[0]}, {items[1]} и {items[2]}."
                    f" Цены действительны 30 дней, скидка {rng.choice((3, 5, 7))}% при"
                    " заказе от 100 000 руб."))
            return self.docx_pool[rng.randrange(len(self.docx_pool))]
        if rng.random() < 0.5:
            title = f"Коммерческое предложение № {no} от {day}"
            body = (f"Уважаемые коллеги! Предлагаем {client['name']} поставку: "
                    f"{items[0]}, {items[1]} и {items[2]}. Цены действительны 30 дней, "
                    f"доставка по городу бесплатно при заказе от 50 000 руб. "
                    f"Отсрочка платежа — {rng.choice((7, 14, 30))} дней.")
            fname = f"Коммерческое предложение № {no}"
        else:
            title = f"Договор поставки № {no} от {day}"
            body = (f"Поставщик обязуется передать, а Покупатель ({client['name']}, "
                    f"ИНН {client['inn'] or 'не указан'}) принять и оплатить товар: "
                    f"{items[0]}, {items[1]}, {items[2]}. Срок поставки — "
                    f"{rng.randint(3, 30)} рабочих дней с момента оплаты.")
            fname = f"Договор № {no}"
        return _Doc(fname + ".txt", f"{title}\n\n{body}\n".encode())

    def chunk(self, n: int, with_files: bool) -> _Chunk:
        out = _Chunk()
        rng = self.rng
        manager_ids = [o.id for o in self.owners if o.role == "manager"]
        for i in range(n):
            row, city, domain = self.client()
            out.clients.append(row)
            for _ in range(rng.choices((0, 1, 2, 3, 4), (5, 30, 35, 20, 10))[0]):
                out.contacts.append((i, self.contact(row, city, domain)))
            if with_files and rng.random() < self.files_ratio:
                ts = min(datetime.fromisoformat(row["created_at"])
                         + timedelta(days=rng.randint(1, 90)), self.anchor)
                out.files.append((i, self.document(row), ts.isoformat()))
            if manager_ids and rng.random() < 0.02:
                other = [m for m in manager_ids if m != row["owner_id"]]
                if other:
                    out.shares.append((i, rng.choice(other)))
        return out


_DOCX_TEMPLATE: bytes | None = None
_TITLE_MARK, _BODY_MARK = "ZZTITLEZZ", "ZZBODYZZ"


def _make_docx(name: str, title: str, body: str) -> _Doc:
    """A small .docx: python-docx builds one template, copies swap its two paragraphs."""
    import zipfile
    from xml.sax.saxutils import escape

    global _DOCX_TEMPLATE
    if _DOCX_TEMPLATE is None:
        import docx

        d = docx.Document()
        d.add_heading(_TITLE_MARK, level=1)
        d.add_paragraph(_BODY_MARK)
        d.add_paragraph("С уважением, отдел продаж.")
        buf = io.BytesIO()
        d.save(buf)
        _DOCX_TEMPLATE = buf.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_DOCX_TEMPLATE)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "word/document.xml":
                data = (data.decode("utf-8").replace(_TITLE_MARK, escape(title))
                        .replace(_BODY_MARK, escape(body)).encode("utf-8"))
            # a fixed timestamp: the same seed gives byte-identical files on any day
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0)),
                         data, compress_type=zipfile.ZIP_DEFLATED)
    return _Doc(name, out.getvalue())


# --- writing ----------------------------------------------------------------------------

CLIENT_COLUMNS = ("id", "kind", "name", "full_name", "inn", "kpp", "ogrn", "okved",
                  "legal_address", "postal_address", "postal_index", "bik", "bank_name",
                  "corr_account", "account", "director_post", "director_name", "phone", "email",
                  "website", "source", "tags", "notes", "extra", "owner_id", "created_by",
                  "updated_by", "created_at", "updated_at", "deleted_at", "version")
CONTACT_COLUMNS = ("id", "client_id", "name", "post", "phone", "mobile", "email", "messenger",
                   "birthday", "consent_email", "consent_sms", "notes", "created_by",
                   "created_at", "updated_at", "deleted_at", "version")


def _insert_sql(table: str, cols: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


def ensure_demo_users(store: Store) -> list[Actor]:
    """The head and two managers of the demo (created if missing), in that order."""
    out = []
    for login, full_name, role, email in DEMO_USERS:
        try:
            out.append(users.get_actor(store, login))
        except Exception:  # noqa: BLE001 - NotFound: create it
            out.append(users.create(store, login, full_name, role, email))
    return out


# Bulk-load tuning: a bigger page cache for the B-trees, and a bigger FTS5 pending-data
# buffer so each chunk is flushed as one index segment instead of dozens (measured on
# 100,000 clients: index build 40 s -> 21 s). The FTS5 setting is persistent, so it is
# put back to SQLite's default (1 MiB) when the load ends.
BULK_CACHE_KIB = 256 * 1024
BULK_FTS_HASHSIZE = 64 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = 1024 * 1024


@contextmanager
def _bulk_connection(store: Store) -> Iterator[sqlite3.Connection]:
    conn = connect(store.db_path)
    try:
        conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
        with transaction(conn):
            conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('hashsize', ?)",
                         (BULK_FTS_HASHSIZE,))
        try:
            yield conn
        finally:
            with transaction(conn):
                conn.execute("INSERT INTO search_index (search_index, rank)"
                             " VALUES ('hashsize', ?)", (FTS_DEFAULT_HASHSIZE,))
    finally:
        conn.close()




def _write_chunk(bulk: sqlite3.Connection, chunk: _Chunk,
                 blobs: dict[int, tuple[str, int, str, str]], counts: dict[str, int]) -> None:
    """Insert one generated chunk in one transaction and index it for search."""
    with transaction(bulk) as conn:
        base = int(conn.execute("SELECT coalesce(max(id), 0) FROM clients").fetchone()[0])
        cbase = int(conn.execute("SELECT coalesce(max(id), 0) FROM contacts").fetchone()[0])
        fbase = int(conn.execute("SELECT coalesce(max(id), 0) FROM files").fetchone()[0])
        client_rows = []
        tag_rows = []
        for i, row in enumerate(chunk.clients):
            row["id"] = base + i + 1
            client_rows.append(tuple(
                json.dumps(row[c], ensure_ascii=False) if c in ("tags", "extra") else row[c]
                for c in CLIENT_COLUMNS))
            tag_rows += [(row["id"], t) for t in row["tags"]]
        conn.executemany(_insert_sql("clients", CLIENT_COLUMNS), client_rows)
        conn.executemany("INSERT OR IGNORE INTO client_tags (client_id, tag) VALUES (?, ?)",
                         tag_rows)
        conn.executemany("INSERT OR IGNORE INTO client_shares (client_id, user_id) VALUES (?, ?)",
                         [(base + i + 1, uid) for i, uid in chunk.shares])
        contact_rows = []
        for j, (i, c) in enumerate(chunk.contacts):
            c["id"] = cbase + j + 1
            c["client_id"] = base + i + 1
            c["created_by"] = chunk.clients[i]["owner_id"]
            contact_rows.append(tuple(c[k] for k in CONTACT_COLUMNS))
        conn.executemany(_insert_sql("contacts", CONTACT_COLUMNS), contact_rows)
        file_rows = []
        for j, (i, doc, ts) in enumerate(chunk.files):
            sha, size, status, text = blobs[j]
            conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, text,"
                         " created_at) VALUES (?,?,?,?,?)", (sha, size, status, text, ts))
            fname = files.safe_name(doc.name)
            mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
            file_rows.append((fbase + j + 1, base + i + 1, sha, fname, size, mime,
                              chunk.clients[i]["owner_id"], ts, ts))
        conn.executemany(
            "INSERT INTO files (id, client_id, sha256, name, size, mime, uploaded_by,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)", file_rows)
        # the search index, through the same functions the normal write path uses
        for row in chunk.clients:
            clients.index_client(conn, row)
        for _, c in chunk.contacts:
            contacts.index_contact(conn, c)
        for j, fr in enumerate(file_rows):
            files.index_file(conn, {"id": fr[0], "client_id": fr[1], "name": fr[3]}, blobs[j][3])
    counts["clients"] += len(chunk.clients)
    counts["contacts"] += len(chunk.contacts)
    counts["files"] += len(chunk.files)
    counts["shares"] += len(chunk.shares)


def generate(store: Store, n_clients: int, seed: int = 42, with_files: bool = True,
             progress: Callable[[int, int], None] | None = None, *,
             files_ratio: float = FILES_RATIO, anchor: datetime | None = None,
             chunk_size: int = CHUNK) -> dict[str, int]:
    """Add ``n_clients`` realistic clients (with contacts and, optionally, attachments).

    Deterministic for a ``seed`` and an ``anchor`` (the "now" that creation dates
    count back from; default: today's midnight UTC, so runs on one day agree).
    ``files_ratio`` is the share of clients that get one generated document.
    Returns counts of what was added.
    """
    admin = users.ensure_local_admin(store)
    owners = ensure_demo_users(store)
    if anchor is None:
        anchor = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    gen = _Generator(seed, owners, anchor.replace(microsecond=0), files_ratio)
    counts = {"clients": 0, "contacts": 0, "files": 0, "shares": 0}
    done = 0
    known: dict[bytes, tuple[str, int, str, str]] = {}   # content -> blob (docx pool reuse)
    with _bulk_connection(store) as bulk:
        while done < n_clients:
            n = min(chunk_size, n_clients - done)
            chunk = gen.chunk(n, with_files)
            blobs: dict[int, tuple[str, int, str, str]] = {}
            for j, (_, doc, _) in enumerate(chunk.files):
                if doc.data not in known:
                    sha, size = files.put_blob(store, io.BytesIO(doc.data))
                    status, text = extract_text(doc.data, doc.name)
                    known[doc.data] = (sha, size, status, text)
                blobs[j] = known[doc.data]
            _write_chunk(bulk, chunk, blobs, counts)
            done += n
            if progress:
                progress(done, n_clients)
        with transaction(bulk) as conn:
            _optimize_index(conn)
    with store.write() as conn:
        add_demo_consents(conn)
        audit.record(conn, admin, "demo", "client", None, None,
                     f"Демо-данные: {counts['clients']} клиентов, {counts['contacts']}"
                     f" контактов, {counts['files']} файлов", dict(counts, seed=seed))
    return counts


_DEMO_CONSENT_SQL = """INSERT OR IGNORE INTO consents (channel, value, status, date, source,
    client_id, contact_id, created_at, updated_at)
SELECT '{channel}', {value}, CASE WHEN ({key} * 7919) % 100 >= 97 THEN 'optout'
        ELSE 'consent' END,
    substr({created}, 1, 10), CASE WHEN ({key} * 7919) % 100 >= 97 THEN 'ссылка отписки'
        WHEN ({key} * 31) % 3 = 0 THEN 'форма на сайте' ELSE 'договор' END,
    {client}, {contact}, {created}, {created}
FROM {table} WHERE {column} <> '' AND (({key} * 7919) % 100 < 85
    OR ({key} * 7919) % 100 >= 97)"""


def add_demo_consents(conn: sqlite3.Connection) -> int:
    """Consent-register entries for the demo (issue 7): most clients' and contacts'
    e-mails and phones have a consent (from the site form or the contract), about
    3 % opted out (unsubscribe link); about 12 % have no entry at all. Deterministic
    by row id; existing entries are kept. Returns the number of entries added."""
    before = conn.execute("SELECT count(*) FROM consents").fetchone()[0]
    for table, key, client, contact, columns in (
            ("clients", "id", "id", "NULL", (("email", "email"), ("phone", "phone"))),
            ("contacts", "id + 500000", "client_id", "id",
             (("email", "email"), ("phone", "mobile"), ("phone", "phone")))):
        for channel, column in columns:
            conn.execute(_DEMO_CONSENT_SQL.format(
                channel=channel, value=f"lower({column})" if channel == "email" else column,
                key=key, created="created_at", client=client, contact=contact, table=table,
                column=column))
    return int(conn.execute("SELECT count(*) FROM consents").fetchone()[0] - before)


def _optimize_index(conn: sqlite3.Connection) -> None:
    """Merge the full-text index's segments after a bulk load (same content, faster reads)."""
    conn.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")


CLIENT_RECORD_FIELDS = ("kind", "name", "full_name", "inn", "kpp", "ogrn", "okved",
                        "legal_address", "postal_address", "postal_index", "bik", "bank_name",
                        "corr_account", "account", "director_post", "director_name", "phone",
                        "email", "website", "source", "tags", "notes")


def client_records(n: int, seed: int = 42,
                   anchor: datetime | None = None) -> Iterator[dict[str, Any]]:
    """``n`` generated clients as plain field dicts (no ids, owners or dates), each with a
    ``"contact"`` dict (or ``None``): input for import files and benchmarks.

    Every record passes :func:`clientplus_core.clients.cards.normalise`.
    """
    dummies = [Actor(id=0, login=f"demo{i}", role="manager") for i in range(len(OWNER_WEIGHTS))]
    gen = _Generator(seed, dummies, anchor or datetime(2026, 1, 1, tzinfo=UTC), 0.0)
    for _ in range(n):
        row, city, domain = gen.client()
        contact = gen.contact(row, city, domain) if gen.rng.random() < 0.9 else None
        out = {k: row[k] for k in CLIENT_RECORD_FIELDS}
        out["contact"] = ({k: contact[k] for k in contacts.TEXT + contacts.FLAGS}
                          if contact else None)
        yield out


# --- sales (issue 5) --------------------------------------------------------------------
#
# ``generate_sales`` adds sales with their specification, status history, payment
# schedule and payments, and contact history to the clients already in the store.
# Built for ``--clients 100000 --sales 1000000`` (3,000,000 lines, ~2,000,000
# payments) in a few minutes: sales are generated in date order (so ids, numbers
# and the date-keyed register indexes grow at their ends), every weighted choice is
# a bisect over precomputed cumulative weights, money is computed with the integer
# kopeck functions of :mod:`clientplus_core.sales.money` (exactly what the Decimal path
# gives), and each chunk is written with ``executemany`` in one transaction. The
# search entries are the ones :func:`clientplus_core.sales.index_sale` writes,
# inserted in bulk.

SALES_CHUNK = 50_000

# (name, unit, price in roubles, VAT code, kind); "22" means "the standard rate"
# and becomes 20 % on sales dated before 2026.
DEMO_CATALOGUE: tuple[tuple[str, str, int, str, str], ...] = (
    ("Металлопрокат: лист г/к 2 мм", "т", 78_500, "22", "goods"),
    ("Металлопрокат: труба профильная 40×20", "м", 215, "22", "goods"),
    ("Арматура А500С 12 мм", "т", 61_900, "22", "goods"),
    ("Стол офисный 1400×700", "шт", 8_900, "22", "goods"),
    ("Кресло офисное «Менеджер»", "шт", 6_450, "22", "goods"),
    ("Шкаф для документов", "шт", 12_300, "22", "goods"),
    ("Стрейч-плёнка 500 мм", "шт", 690, "22", "goods"),
    ("Коробка гофрокартон 600×400×400", "шт", 96, "22", "goods"),
    ("Смесь штукатурная гипсовая 30 кг", "шт", 520, "22", "goods"),
    ("Клей плиточный 25 кг", "шт", 410, "22", "goods"),
    ("Светильник светодиодный 36 Вт", "шт", 1_350, "22", "goods"),
    ("Прожектор светодиодный 100 Вт", "шт", 2_890, "22", "goods"),
    ("Кабель ВВГнг 3×2,5", "м", 118, "22", "goods"),
    ("Кабель ВВГнг 5×6", "м", 495, "22", "goods"),
    ("Краска фасадная 15 л", "шт", 4_750, "22", "goods"),
    ("Эмаль ПФ-115 2,7 кг", "шт", 690, "22", "goods"),
    ("Костюм рабочий летний", "шт", 1_980, "22", "goods"),
    ("Перчатки х/б с ПВХ", "упак", 640, "22", "goods"),
    ("Бумага офисная А4, 500 л.", "упак", 349, "22", "goods"),
    ("Смеситель для кухни", "шт", 3_200, "22", "goods"),
    ("Унитаз-компакт", "шт", 7_800, "22", "goods"),
    ("Фильтр гидравлический для спецтехники", "шт", 4_100, "22", "goods"),
    ("Средство моющее универсальное 5 л", "шт", 560, "22", "goods"),
    ("Ноутбук 15,6\" для офиса", "шт", 58_900, "22", "goods"),
    ("Монитор 27\"", "шт", 21_400, "22", "goods"),
    ("Насос циркуляционный 25/60", "шт", 8_350, "22", "goods"),
    ("Доска обрезная 50×150×6000", "м³", 21_500, "22", "goods"),
    ("Брус 100×100×6000", "м³", 23_800, "22", "goods"),
    ("Шуруповёрт аккумуляторный", "шт", 7_900, "22", "goods"),
    ("Перфоратор SDS-plus", "шт", 9_600, "22", "goods"),
    ("Канцелярский набор", "компл", 1_150, "22", "goods"),
    ("Плитка тротуарная 300×300", "м²", 890, "22", "goods"),
    ("Перчатки нитриловые медицинские", "упак", 720, "10", "goods"),
    ("Бинт стерильный 7×14", "упак", 310, "10", "goods"),
    ("Кондиционер настенный 3,5 кВт", "шт", 38_900, "22", "goods"),
    ("Мембрана гидроизоляционная", "м²", 265, "22", "goods"),
    ("Поддон деревянный 1200×800", "шт", 450, "22", "goods"),
    ("Стеллаж складской 2000×1000", "шт", 14_600, "22", "goods"),
    ("Кофе в зёрнах 1 кг", "кг", 1_890, "10", "goods"),
    ("Чай чёрный листовой", "кг", 1_240, "10", "goods"),
    ("Молоко 3,2 %", "л", 89, "10", "goods"),
    ("Доставка по городу", "усл", 1_500, "22", "service"),
    ("Доставка по области", "усл", 4_500, "22", "service"),
    ("Монтаж оборудования", "час", 2_200, "22", "service"),
    ("Пусконаладочные работы", "усл", 18_000, "22", "service"),
    ("Консультация специалиста", "час", 3_500, "22", "service"),
    ("Техническое обслуживание", "мес", 12_000, "22", "service"),
    ("Разработка сайта", "усл", 85_000, "22", "service"),
    ("Хостинг, месяц", "мес", 450, "22", "service"),
    ("Регистрация домена", "усл", 199, "22", "service"),
    ("Обучение персонала", "час", 4_000, "none", "service"),
    ("Проектирование", "усл", 45_000, "22", "service"),
    ("Аренда спецтехники", "час", 3_800, "22", "service"),
    ("Погрузочно-разгрузочные работы", "час", 1_200, "22", "service"),
)
_SALE_VERBS = {"goods": ("Поставка", "Закупка", "Заказ", "Отгрузка"),
               "service": ("Услуги", "Работы", "Договор на услуги", "Проект")}
# (status code, weight) by the age of the sale in days: recent sales are early in the
# funnel, old ones closed (shipped) or lost
_STATUS_BY_AGE: tuple[tuple[int, tuple[tuple[str, int], ...]], ...] = (
    (7, (("lead", 35), ("offer_ready", 25), ("offer_sent", 25), ("negotiation", 15))),
    (30, (("lead", 4), ("offer_ready", 5), ("offer_sent", 14), ("negotiation", 14),
          ("contract", 10), ("invoiced", 15), ("partly_paid", 8), ("paid", 10),
          ("shipped", 10), ("lost", 10))),
    (90, (("offer_sent", 4), ("negotiation", 5), ("contract", 5), ("invoiced", 8),
          ("partly_paid", 7), ("paid", 10), ("shipped", 41), ("lost", 20))),
    (10**6, (("invoiced", 1), ("partly_paid", 1), ("paid", 3), ("shipped", 68), ("lost", 27))),
)
_STAGES = ("lead", "offer_ready", "offer_sent", "negotiation", "contract", "invoiced",
           "partly_paid", "paid", "shipped")
LOST_REASONS = ("Выбрали конкурента: цена ниже", "Проект отложен на следующий год",
                "Не прошли по срокам поставки", "Нет бюджета", "Клиент перестал отвечать",
                "Тендер выиграл другой участник", "Отказ после согласования условий")
_LINE_COUNTS = ((1, 22), (2, 24), (3, 20), (4, 15), (5, 9), (6, 6), (8, 4))
_EVENT_COUNTS = ((0, 25), (1, 45), (2, 22), (3, 8))
_CHANNELS = (("call", 45), ("email", 25), ("meeting", 12), ("messenger", 15), ("other", 3))
_SUBJECTS = ("Уточнение потребности", "Обсуждение КП", "Согласование цены",
             "Сроки поставки", "Условия оплаты", "Напоминание об оплате",
             "Согласование договора", "Приёмка и закрывающие документы", "Повторный заказ",
             "Презентация продукции")
_OUTCOMES = ("Договорились созвониться через неделю", "Клиент запросил скидку",
             "Отправили обновлённое КП", "Согласовали график оплаты", "Ждём решения руководства",
             "Подтвердили сроки", "Клиент доволен, планирует повторный заказ",
             "Передали на согласование юристам", "")
_MSK_HOURS = tuple(range(6, 16))   # 9:00–18:59 Moscow time, stored as UTC


def _cumulative(weights: Sequence[tuple[Any, int]]) -> tuple[list[Any], list[int], int]:
    values, cum, total = [], [], 0
    for v, w in weights:
        total += w
        values.append(v)
        cum.append(total)
    return values, cum, total


@dataclass
class _SalesChunk:
    sales: list[tuple[Any, ...]] = field(default_factory=list)
    lines: list[tuple[Any, ...]] = field(default_factory=list)
    log: list[tuple[Any, ...]] = field(default_factory=list)
    payments: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    index: list[tuple[Any, ...]] = field(default_factory=list)


SALE_COLUMNS = ("id", "number", "date", "client_id", "contact_id", "owner_id",
                "client_owner_id", "status_id",
                "status_at", "lost_reason", "title", "source", "expected_close", "vat_mode",
                "discount_bp", "subtotal_kop", "vat_kop", "total_kop", "paid_kop", "planned_kop",
                "overdue_from", "notes", "extra", "created_by", "updated_by", "created_at",
                "updated_at", "deleted_at", "version")
LINE_COLUMNS = ("sale_id", "pos", "catalogue_id", "name", "sku", "unit", "qty_milli",
                "price_kop", "discount_bp", "vat_code", "amount_kop", "vat_kop")
LOG_COLUMNS = ("sale_id", "from_status_id", "to_status_id", "actor_id", "at", "note")
PAYMENT_COLUMNS = ("sale_id", "kind", "date", "amount_kop", "document", "note", "created_by",
                   "created_at")
EVENT_COLUMNS = ("client_id", "sale_id", "contact_id", "at", "channel", "subject", "outcome",
                 "user_id", "created_at", "updated_at")


class _SalesGenerator:
    """Makes sale rows from a seed, in date order (no database access)."""

    def __init__(self, seed: int, anchor: datetime, clients_sorted: list[tuple[Any, ...]],
                 contacts_of: dict[int, list[int]], items: list[dict[str, Any]],
                 status_ids: dict[str, int], rates: dict[str, int | None], prefix: str,
                 counters: dict[int, int]):
        self.rng = random.Random(seed * 7919 + 5)
        self.anchor = anchor
        self.today = anchor.date()
        self.clients = clients_sorted          # (id, owner_id, created date ISO, name)
        self.created = [c[2] for c in clients_sorted]
        self.contacts_of = contacts_of
        self.items = items
        self.status_ids = status_ids
        self.rates = rates
        self.prefix = prefix
        self.counters = counters
        self.anchor_sec = int(anchor.timestamp())
        self.today_day = self.today.toordinal() - _EPOCH_ORDINAL
        self._days: dict[int, str] = {}
        self.prefix_digits = sales_mod.number_digits(prefix)
        for item in self.items:
            item["std"] = item["vat_code"] in ("20", "22")
            item["short"] = item["name"].split(":")[0].split(",")[0]
            item["search_name"] = f"{item['name']} {item['sku']}".strip()
        self.age_tables = [(limit, _cumulative(w)) for limit, w in _STATUS_BY_AGE]
        self.line_counts = _cumulative(_LINE_COUNTS)
        self.event_counts = _cumulative(_EVENT_COUNTS)
        self.channels = _cumulative(_CHANNELS)

    def _pick(self, table: tuple[list[Any], list[int], int]) -> Any:
        values, cum, total = table
        return values[bisect.bisect_right(cum, self.rng.random() * total)]

    def day_plan(self, n: int) -> Iterator[tuple[date, int, int]]:
        """(day, sales that day, clients existing that day), summing to ``n``."""
        first = date.fromisoformat(self.created[0])
        days = (self.today - first).days + 1
        weights = []
        for i in range(days):
            d = first + timedelta(days=i)
            existing = bisect.bisect_right(self.created, d.isoformat() + "~")
            weights.append(existing * (0.25 if d.weekday() >= 5 else 1.0))
        total = sum(weights) or 1.0
        done = 0
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            upto = round(n * acc / total)
            count = upto - done
            done = upto
            if count:
                d = first + timedelta(days=i)
                yield d, count, bisect.bisect_right(self.created, d.isoformat() + "~")

    def sales(self, n: int, base_ids: dict[str, int],
              chunk_size: int) -> Iterator[_SalesChunk]:
        chunk = _SalesChunk()
        sale_id = base_ids["sales"]
        for day, count, existing in self.day_plan(n):
            for _ in range(count):
                sale_id += 1
                self.one(chunk, sale_id, day, existing)
                if len(chunk.sales) >= chunk_size:
                    yield chunk
                    chunk = _SalesChunk()
        if chunk.sales:
            yield chunk

    def _iso(self, sec: int) -> str:
        """Epoch seconds -> ``datetime.isoformat()`` of the UTC time, without datetimes."""
        d, rem = divmod(sec, 86_400)
        iso = self._days.get(d)
        if iso is None:
            iso = self._days[d] = date.fromordinal(d + _EPOCH_ORDINAL).isoformat()
        h, rem = divmod(rem, 3600)
        m, s_ = divmod(rem, 60)
        return f"{iso}T{h:02d}:{m:02d}:{s_:02d}+00:00"

    def one(self, out: _SalesChunk, sale_id: int, day: date, existing: int) -> None:
        r = self.rng.random
        cid, owner, _created, client_name = self.clients[int(existing * r() ** 1.3)]
        day_sec = (day.toordinal() - _EPOCH_ORDINAL) * 86_400
        created = day_sec + _MSK_HOURS[int(r() * 10)] * 3600 + int(r() * 3600)
        if created > self.anchor_sec:
            created = self.anchor_sec - int(r() * 3600) - 1
        ts = self._iso(created)
        age = (self.today - day).days
        table = next(t for limit, t in self.age_tables if age <= limit)
        final = self._pick(table)
        # the path through the funnel (a few intermediate stages logged)
        if final == "lost":
            reached = int(r() * 5)
            path = [s for i, s in enumerate(_STAGES[:reached + 1])
                    if i == 0 or i == reached or r() < 0.15]
            path.append("lost")
        else:
            reached = _STAGES.index(final)
            path = [s for i, s in enumerate(_STAGES[:reached + 1])
                    if i == 0 or i == reached or s == "invoiced" or r() < 0.15]
        span = max(60, min(age * 86_400, int((3 + r() * 40) * 86_400)))
        end = min(created + span, self.anchor_sec)
        step = (end - created) // max(1, len(path) - 1)
        prev = None
        invoiced_day = None
        at = ts
        for i, code in enumerate(path):
            sec = created + step * i
            at = self._iso(sec)
            sid = self.status_ids[code]
            out.log.append((sale_id, prev, sid, owner, at,
                            LOST_REASONS[int(r() * len(LOST_REASONS))] if code == "lost" else ""))
            prev = sid
            if code == "invoiced":
                invoiced_day = sec // 86_400
        status_at = at
        lost_reason = out.log[-1][5]
        # the specification
        n_lines = self._pick(self.line_counts)
        no_vat = r() < 0.02
        std = "22" if day >= _RATE_CHANGE else "20"
        sale_disc = (500 if r() < 0.5 else 1000) if r() < 0.08 else 0
        mode = "included" if r() < 0.85 else "on_top"
        subtotal = vat_total = 0
        names = []
        items = self.items
        rates = self.rates
        first = items[int(r() * len(items))]
        for pos in range(1, n_lines + 1):
            item = first if pos == 1 else items[int(r() * len(items))]
            unit = item["unit"]
            scale = _QTY_SCALE.get(unit)
            if scale is not None:
                low, spread, mult = scale
                qty = (low + int(r() * spread)) * mult
            else:
                qty = (1 + int(r() * r() * 60)) * 1000
            price = int(item["price_kop"] * (0.9 + r() * 0.2)) // 100 * 100
            disc = 0 if r() < 0.8 else _DISCOUNTS[int(r() * 4)]
            code = "none" if no_vat else (std if item["std"] else item["vat_code"])
            amount = line_amount_kop(qty, price, disc, sale_disc)
            vat = line_vat_kop(amount, rates[code], mode)
            subtotal += amount
            vat_total += vat
            out.lines.append((sale_id, pos, item["id"], item["name"], item["sku"], unit, qty,
                              price, disc, code, amount, vat))
            names.append(item["search_name"])
        total = subtotal + (vat_total if mode == "on_top" else 0)
        # payments
        paid = planned = 0
        plans: list[tuple[str, int]] = []
        if invoiced_day is not None and total > 0:
            if r() < 0.5:
                plans = [(self._day_iso(invoiced_day + 10), total)]
            else:
                half = total // 2
                plans = [(self._day_iso(invoiced_day + 5), half),
                         (self._day_iso(invoiced_day + 35), total - half)]
            for d, a in plans:
                out.payments.append((sale_id, "plan", d, a, "", "", owner, ts))
                planned += a
            if final in ("paid", "shipped") and (final == "paid" or r() < 0.95):
                facts = plans
            elif final in ("partly_paid", "shipped"):
                facts = [(plans[0][0], max(1, total * (30 + int(r() * 40)) // 100))]
            else:
                facts = []
            for j, (d, a) in enumerate(facts):
                pay_day = min(self._ordinal(d) - int(r() * 4), self.today_day)
                out.payments.append((sale_id, "fact", self._day_iso(pay_day), a,
                                     f"п/п № {sale_id % 9000 + 100 + j}", "", owner, ts))
                paid += a
        # the card
        year = day.year
        seq = self.counters.get(year, 0) + 1
        self.counters[year] = seq
        number = f"{self.prefix}{year}-{seq:04d}"
        verbs = _SALE_VERBS[first["kind"]]
        title = (f"{verbs[int(r() * len(verbs))]}: {first['short']}"
                 + (" и др." if n_lines > 1 else ""))
        contacts = self.contacts_of.get(cid)
        contact = contacts[int(r() * len(contacts))] if contacts and r() < 0.85 else None
        day_iso = self._day_iso(day_sec // 86_400)
        expected = self._day_iso(day_sec // 86_400 + 14 + int(r() * 46))
        source = SOURCES[int(r() * len(SOURCES))]
        out.sales.append((
            sale_id, number, day_iso, cid, contact, owner, owner, self.status_ids[final],
            status_at, lost_reason, title, source, expected, mode, sale_disc, subtotal,
            vat_total, total, paid, planned, sales_mod.overdue_from(plans, paid), "", "{}",
            owner, owner, ts, status_at, None, 1))
        # contact history
        for _ in range(self._pick(self.event_counts)):
            at = self._iso(created + int((end - created) * r()))
            out.events.append((cid, sale_id, contact, at, self._pick(self.channels),
                               _SUBJECTS[int(r() * len(_SUBJECTS))],
                               _OUTCOMES[int(r() * len(_OUTCOMES))], owner, at, at))
        # the search entry, exactly as sales.index_sale writes it
        s_title, body = sales_mod.search_entry(number, title, client_name, names, source, "")
        text = "\n".join(b for b in body if b)[:search.MAX_BODY]
        out.index.append((_SALE_ROWID + sale_id, "sale", sale_id, cid, s_title,
                          search._with_folded(s_title, text,
                                              f"{self.prefix_digits}{year}{seq:04d}")))

    def _day_iso(self, d: int) -> str:
        iso = self._days.get(d)
        if iso is None:
            iso = self._days[d] = date.fromordinal(d + _EPOCH_ORDINAL).isoformat()
        return iso

    def _ordinal(self, iso: str) -> int:
        return date.fromisoformat(iso).toordinal() - _EPOCH_ORDINAL


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_RATE_CHANGE = date(2026, 1, 1)
_SALE_ROWID = search.ENTITY_CODES["sale"] * 10**12
_DISCOUNTS = (300, 500, 700, 1000)
# unit -> (lowest, spread, multiplier) of the quantity in thousandths
_QTY_SCALE = {"кг": (1, 2000, 100), "м": (1, 2000, 100), "м²": (1, 2000, 100),
              "л": (1, 2000, 100), "т": (100, 9900, 1), "м³": (100, 9900, 1),
              "час": (1, 40, 1000), "мес": (1, 6, 1000), "усл": (1, 6, 1000)}


def _ensure_demo_catalogue(store: Store, admin: Actor) -> None:
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM catalogue LIMIT 1").fetchone():
            return
        ts = datetime.now(UTC).replace(microsecond=0).isoformat()
        conn.executemany(
            "INSERT INTO catalogue (name, sku, unit, price_kop, vat_code, kind, created_by,"
            " updated_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(name, f"{'Т' if kind == 'goods' else 'У'}-{i:03d}", unit, price * 100, code, kind,
              admin.id, admin.id, ts, ts)
             for i, (name, unit, price, code, kind) in enumerate(DEMO_CATALOGUE, start=1)])


def _ensure_demo_company(store: Store, admin: Actor, seed: int) -> None:
    from clientplus_core.sales import company

    if company.get(store)["name"]:
        return
    rng = random.Random(seed)
    inn = make_valid_inn(rng, 10, "77")
    bank = BANKS[0]
    company.save(store, admin, {
        "kind": "legal", "name": "ООО «КлиентПлюс Демо»",
        "full_name": "Общество с ограниченной ответственностью «КлиентПлюс Демо»",
        "inn": inn, "kpp": make_kpp(inn, rng), "ogrn": make_ogrn(rng, "77"),
        "legal_address": "123112, г. Москва, Пресненская наб., д. 12, оф. 301",
        "bik": bank.bik, "bank_name": bank.name, "corr_account": bank.corr_account,
        "account": make_account(rng, bank.bik), "director_post": "Генеральный директор",
        "director_name": "Орлова Елена Викторовна", "phone": "+74951234567",
        "email": "info@clientplus-demo.ru"})


_BULK_TABLES = ("sales", "sale_lines", "sale_status_log", "sale_payments", "interactions")


def _drop_secondary_indexes(conn: sqlite3.Connection,
                            tables: Sequence[str]) -> list[tuple[str, str]]:
    """Drop the non-unique indexes of ``tables`` (inside the caller's transaction);
    returns their (name, CREATE statement) to build them again. Unique indexes stay:
    they guard the data (sale numbers)."""
    rows = conn.execute(
        f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({','.join('?' * len(tables))}) ORDER BY name", list(tables)
    ).fetchall()
    dropped = [(str(name), str(sql)) for name, sql in rows
               if not str(sql).lstrip().upper().startswith("CREATE UNIQUE")]
    conn.executemany("INSERT OR REPLACE INTO bulk_dropped_indexes (name, sql) VALUES (?, ?)",
                     dropped)
    for name, _sql in dropped:
        conn.execute(f'DROP INDEX "{name}"')
    return dropped


def _restore_dropped(conn: sqlite3.Connection) -> int:
    """Build again the indexes a bulk load dropped (inside the caller's transaction)."""
    rows = conn.execute("SELECT name, sql FROM bulk_dropped_indexes ORDER BY name").fetchall()
    for name, sql in rows:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?",
                        (name,)).fetchone() is None:
            conn.execute(sql)
    conn.execute("DELETE FROM bulk_dropped_indexes")
    return len(rows)


def restore_dropped_indexes(store: Store) -> int:
    """Rebuild indexes left dropped by an interrupted demo load; returns how many."""
    with store.write() as conn:
        return _restore_dropped(conn)


def generate_sales(store: Store, n_sales: int, seed: int = 42,
                   progress: Callable[[int, int], None] | None = None, *,
                   anchor: datetime | None = None,
                   chunk_size: int = SALES_CHUNK) -> dict[str, int]:
    """Add ``n_sales`` sales to the existing clients: specification lines from a demo
    catalogue, status history, payment schedule and payments, contact history.
    Deterministic for a seed, an anchor (default today's midnight UTC) and the
    clients in the store. Also fills the own company's requisites (the seller in
    documents) and the catalogue when they are empty. Returns counts added."""
    from clientplus_core.records import settings

    counts = {"sales": 0, "sale_lines": 0, "payments": 0, "status_log": 0,
              "contact_events": 0}
    if n_sales <= 0:
        return counts
    admin = users.ensure_local_admin(store)
    if anchor is None:
        anchor = datetime.combine(datetime.now(UTC).date(), time(0), tzinfo=UTC)
    anchor = anchor.replace(microsecond=0)
    _ensure_demo_company(store, admin, seed)
    _ensure_demo_catalogue(store, admin)
    with store.read() as conn:
        clients_sorted = [(r[0], r[1], r[2][:10], r[3]) for r in conn.execute(
            "SELECT id, owner_id, created_at, name FROM clients WHERE deleted_at IS NULL"
            " AND created_at <= ? ORDER BY created_at, id", (anchor.isoformat(),))]
        if not clients_sorted:
            raise ValueError("нет клиентов: сначала сгенерируйте клиентов (--clients N)")
        contacts_of: dict[int, list[int]] = {}
        for cid, ctid in conn.execute("SELECT client_id, id FROM contacts"
                                      " WHERE deleted_at IS NULL ORDER BY id"):
            contacts_of.setdefault(cid, []).append(ctid)
        items = [dict(r) for r in conn.execute(
            "SELECT id, name, sku, unit, price_kop, vat_code, kind FROM catalogue"
            " WHERE is_active = 1 ORDER BY id")]
        status_ids = {r[0]: r[1] for r in conn.execute("SELECT code, id FROM sale_statuses")}
        rates = {r[0]: r[1] for r in conn.execute("SELECT code, rate FROM vat_rates")}
        counters = {r[0]: r[1] for r in conn.execute("SELECT year, last_no FROM sale_counters")}
        base = {"sales": int(conn.execute("SELECT coalesce(max(id), 0) FROM sales")
                             .fetchone()[0])}
    missing = set(_STAGES) - set(status_ids)
    if missing or "lost" not in status_ids:
        raise ValueError(f"демо-данные продаж: нет статусов {sorted(missing)}")
    gen = _SalesGenerator(seed, anchor, clients_sorted, contacts_of, items, status_ids, rates,
                          str(settings.get(store, "sale_number_prefix") or ""), counters)
    done = 0
    with _bulk_connection(store) as bulk:
        # Generated rows reference only rows that exist (checked by the tests with
        # PRAGMA foreign_key_check), so the bulk load skips the per-row foreign-key
        # lookups (measured: table inserts 35 % faster). The normal write path keeps them.
        bulk.execute("PRAGMA foreign_keys = OFF")
        # The secondary indexes of the filled tables are dropped for the load and built
        # again at the end: one sort per index instead of millions of B-tree inserts
        # (measured on 300,000 sales: 82 s -> 55 s). Their definitions are kept in
        # ``bulk_dropped_indexes`` until rebuilt, so an interrupted run is healed by the
        # next one (and by :func:`restore_dropped_indexes`).
        with transaction(bulk) as conn:
            _restore_dropped(conn)
            _drop_secondary_indexes(conn, _BULK_TABLES)
        try:
            for chunk in gen.sales(n_sales, base, chunk_size):
                with transaction(bulk) as conn:
                    conn.executemany(_insert_sql("sales", SALE_COLUMNS), chunk.sales)
                    conn.executemany(_insert_sql("sale_lines", LINE_COLUMNS), chunk.lines)
                    conn.executemany(_insert_sql("sale_status_log", LOG_COLUMNS), chunk.log)
                    conn.executemany(_insert_sql("sale_payments", PAYMENT_COLUMNS),
                                     chunk.payments)
                    conn.executemany(_insert_sql("interactions", EVENT_COLUMNS), chunk.events)
                    conn.executemany("INSERT INTO search_index (rowid, entity, entity_id,"
                                     " client_id, title, body) VALUES (?,?,?,?,?,?)",
                                     chunk.index)
                counts["sales"] += len(chunk.sales)
                counts["sale_lines"] += len(chunk.lines)
                counts["payments"] += len(chunk.payments)
                counts["status_log"] += len(chunk.log)
                counts["contact_events"] += len(chunk.events)
                done += len(chunk.sales)
                if progress:
                    progress(done, n_sales)
        finally:
            with transaction(bulk) as conn:
                _restore_dropped(conn)
        with transaction(bulk) as conn:
            conn.executemany("INSERT INTO sale_counters (year, last_no) VALUES (?, ?)"
                             " ON CONFLICT(year) DO UPDATE SET last_no = excluded.last_no",
                             sorted(gen.counters.items()))
        # No full 'optimize' of the search index here (it rewrites the whole index:
        # ~30 s for a million sales); FTS5's automerge keeps the segments few, and the
        # bench measures search on the result.
    with store.write() as conn:
        audit.record(conn, admin, "demo", "sale", None, None,
                     f"Демо-данные: {counts['sales']} сделок, {counts['sale_lines']} строк,"
                     f" {counts['payments']} платежей", dict(counts, seed=seed))
    counts["tasks"] = generate_tasks(store, seed=seed, anchor=anchor.date())
    counts["mailings"] = generate_outreach(store)
    counts["documents"] = generate_documents(store)
    return counts


# which document a sale at a stage has: (kind, status code)
DEMO_DOCUMENTS = (("offer", "offer_sent"), ("contract", "contract"), ("invoice", "invoiced"),
                  ("act", "shipped"))


def generate_documents(store: Store, per_kind: int = 3) -> int:
    """A few Word documents made the normal way (numbered, dated the sale's day, saved
    to the sale's files): an offer for offers sent, a contract for signed contracts,
    an invoice for invoiced sales, an act for shipped ones — the latest ``per_kind``
    of each — so the sale cards, their files and the search show what documents look
    like. Only when there are no documents yet."""
    from clientplus_core.sales import documents

    admin = users.ensure_local_admin(store)
    with store.read() as conn:
        if conn.execute("SELECT 1 FROM documents LIMIT 1").fetchone():
            return 0
        picks = [(r[1], kind, r[0]) for kind, code in DEMO_DOCUMENTS for r in conn.execute(
            "SELECT s.id, s.date FROM sales s JOIN sale_statuses st ON st.id = s.status_id"
            " JOIN clients c ON c.id = s.client_id WHERE st.code = ? AND s.deleted_at IS NULL"
            " AND c.deleted_at IS NULL AND s.total_kop > 0 ORDER BY s.date DESC, s.id DESC"
            " LIMIT ?", (code, per_kind))]
    for day, kind, sale_id in sorted(picks):   # numbered in date order, like real ones
        documents.render(store, admin, sale_id, kind, doc_date=day)
    return len(picks)


DEMO_REMINDER = (
    "Здравствуйте, {{ contact.first_name or client.name }}!\n\n"
    "Напоминаем: по счёту к продаже № {{ sale.number }} за {{ client.name }} числится"
    " задолженность {{ debt }}. Если оплата уже отправлена, просто не обращайте внимания"
    " на это письмо.\n\nС уважением,\n{{ manager.name }}")


def generate_outreach(store: Store) -> int:
    """A live address book «Выставлен счёт, не оплачено» and a draft payment reminder
    over it, so the outreach pages show what they are for (only when there are none)."""
    from clientplus_core.outreach import addressbooks, mailing

    admin = users.ensure_local_admin(store)
    if addressbooks.list_books(store, admin):
        return 0
    book = addressbooks.create_book(store, admin, "Выставлен счёт, не оплачено",
                                    {"invoiced_unpaid": True})
    mailing.create(store, admin, {"book_id": book["id"], "body_text": DEMO_REMINDER,
                                  "subject": "Напоминание об оплате счёта № {{ sale.number }}"})
    return 1


DEMO_TASKS = ("Позвонить и уточнить потребность", "Отправить коммерческое предложение",
              "Согласовать договор", "Напомнить об оплате счёта", "Назначить встречу",
              "Подготовить акт сверки", "Уточнить реквизиты", "Отправить закрывающие документы",
              "Поздравить с днём рождения компании", "Узнать решение по предложению")


def generate_tasks(store: Store, n: int = 40, seed: int = 42,
                   anchor: date | None = None) -> int:
    """Some organizer tasks around ``anchor`` (default today), so the «Задачи» page and
    the reminder badge are not empty: each assigned to the owner of a client it is
    linked to (some to one of the client's sales), a few overdue, a few due today,
    the rest over the next weeks; a couple repeat. Only into an empty task list."""
    from clientplus_core.organizer import tasks

    with store.read() as conn:
        if conn.execute("SELECT 1 FROM tasks LIMIT 1").fetchone():
            return 0
        picks = [tuple(r) for r in conn.execute(
            "SELECT c.id, c.owner_id, (SELECT max(s.id) FROM sales s WHERE s.client_id = c.id"
            " AND s.deleted_at IS NULL) FROM clients c JOIN users u ON u.id = c.owner_id"
            " WHERE c.deleted_at IS NULL AND u.is_active = 1 ORDER BY c.id LIMIT ?",
            (n * 5,))]
    if not picks:
        return 0
    rng = random.Random(seed)
    admin = users.ensure_local_admin(store)
    day0 = anchor or tasks.local_today(store)
    made = 0
    for i in range(min(n, len(picks))):
        cid, owner, sale_id = picks[rng.randrange(len(picks))]
        offset = (-rng.randint(1, 6) if i % 5 == 0 else 0 if i % 5 == 1
                  else rng.randint(1, 30))
        tasks.create(store, admin, {
            "title": rng.choice(DEMO_TASKS), "due_date": day0 + timedelta(days=offset),
            "due_time": f"{rng.randint(9, 18):02d}:{rng.choice((0, 15, 30, 45)):02d}",
            "priority": rng.choice(("low", "normal", "normal", "high")),
            "assignee_id": owner if i % 7 else admin.id, "client_id": cid,
            "sale_id": sale_id if sale_id and i % 3 == 0 else None,
            "repeat": "weekly" if i % 13 == 0 else ""})
        made += 1
    return made
