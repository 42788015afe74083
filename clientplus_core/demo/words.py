"""The demo's vocabulary: valid requisites (INN, OGRN/OGRNIP, KPP, banks and
accounts), cities with their postal indexes and phone codes, and the words that
names, notes and e-mails are made of."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from clientplus_core.records.validation import account_key_digit

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
CITY_WEIGHTS = (30, 12, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 3, 2, 2, 2, 2, 2)

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
ROOTS = ("Техно", "Строй", "Агро", "Энерго", "Мед", "Транс", "Инвест", "Пром", "Сиб", "Урал",
          "Волга", "Нева", "Север", "Юг", "Росс", "Мега", "Гео", "Эко", "Тех", "Хим", "Лес",
          "Метал", "Электро", "Кран", "Дор", "Газ", "Нефть", "Авто", "Фарм", "Инфо")
TAILS = ("снаб", "торг", "сервис", "комплект", "монтаж", "строй", "пром", "трейд", "логистик",
          "маркет", "систем", "проект", "инжиниринг", "лайн", "групп", "ресурс", "альянс",
          "стандарт", "профи", "мир", "эксперт", "капитал", "холдинг", "техника")
ADJ = ("Северная", "Южная", "Красная", "Зелёная", "Белая", "Новая", "Первая", "Золотая",
        "Большая", "Сибирская", "Уральская", "Волжская", "Балтийская", "Восточная")
NOUNS = ("звезда", "линия", "гавань", "долина", "пристань", "мануфактура", "слобода",
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
