"""Realistic, deterministic demo data: users, clients, contacts and attachments.

The generator is built for volume (``clientplus demo --clients 100000`` in well
under two minutes): Faker is only asked once for small pools of names and
streets, which a seeded :class:`random.Random` then combines; rows are written
with ``executemany`` in chunks, each chunk in one transaction, and indexed for
search by the same functions the normal write path uses
(:func:`clientplus_core.clients.index_client` and friends), so the search index
is exactly what creating the same rows one by one would produce.

Every generated requisite is valid: INN and OGRN/OGRNIP check digits, KPP,
real BIKs with their correspondent accounts, settlement accounts whose key digit
matches the BIK, phones that ``phonenumbers`` accepts as valid Russian numbers.
"""

from __future__ import annotations

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

from . import audit, clients, contacts, files, users
from .access import Actor
from .db import Store, connect
from .textextract import extract_text
from .validation import account_key_digit

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
        with _transaction(conn):
            conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('hashsize', ?)",
                         (BULK_FTS_HASHSIZE,))
        try:
            yield conn
        finally:
            with _transaction(conn):
                conn.execute("INSERT INTO search_index (search_index, rank)"
                             " VALUES ('hashsize', ?)", (FTS_DEFAULT_HASHSIZE,))
    finally:
        conn.close()


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), like :meth:`Store.write`."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _write_chunk(bulk: sqlite3.Connection, chunk: _Chunk,
                 blobs: dict[int, tuple[str, int, str, str]], counts: dict[str, int]) -> None:
    """Insert one generated chunk in one transaction and index it for search."""
    with _transaction(bulk) as conn:
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
        with _transaction(bulk) as conn:
            _optimize_index(conn)
    with store.write() as conn:
        audit.record(conn, admin, "demo", "client", None, None,
                     f"Демо-данные: {counts['clients']} клиентов, {counts['contacts']}"
                     f" контактов, {counts['files']} файлов", dict(counts, seed=seed))
    return counts


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

    Every record passes :func:`clientplus_core.clients.normalise`.
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
