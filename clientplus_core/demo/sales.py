"""Demo sales: specification lines from a demo catalogue, status history, payment
schedule and payments, and contact history for the clients already in the store."""

from __future__ import annotations

import bisect
import random
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from clientplus_core import sales as sales_mod
from clientplus_core.demo.clients import bulk_connection, insert_sql
from clientplus_core.demo.extras import generate_documents, generate_outreach, generate_tasks
from clientplus_core.demo.words import (
    BANKS,
    SOURCES,
    make_account,
    make_kpp,
    make_ogrn,
    make_valid_inn,
)
from clientplus_core.sales.money import line_amount_kop, line_vat_kop
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, transaction
from clientplus_core.team import audit, users
from clientplus_core.team.access import Actor

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
                          search.with_folded(s_title, text,
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
_COUNTERS_SQL = ("INSERT INTO sale_counters (year, last_no) VALUES (?, ?)"
                 " ON CONFLICT(year) DO UPDATE SET last_no = excluded.last_no")


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
    with bulk_connection(store) as bulk:
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
                    conn.executemany(insert_sql("sales", SALE_COLUMNS), chunk.sales)
                    conn.executemany(insert_sql("sale_lines", LINE_COLUMNS), chunk.lines)
                    conn.executemany(insert_sql("sale_status_log", LOG_COLUMNS), chunk.log)
                    conn.executemany(insert_sql("sale_payments", PAYMENT_COLUMNS),
                                     chunk.payments)
                    conn.executemany(insert_sql("interactions", EVENT_COLUMNS), chunk.events)
                    conn.executemany("INSERT INTO search_index (rowid, entity, entity_id,"
                                     " client_id, title, body) VALUES (?,?,?,?,?,?)",
                                     chunk.index)
                    # the numbering moves with each chunk: a load killed halfway and
                    # run again continues the numbers instead of repeating them
                    conn.executemany(_COUNTERS_SQL, sorted(gen.counters.items()))
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
        # No full 'optimize' of the search index here (it rewrites the whole index:
        # ~30 s for a million sales); FTS5's automerge keeps the segments few, and the
        # bench measures search on the result.
    with store.write() as conn:
        audit.record(conn, admin, "demo", "sale", None, None,
                     f"Демо-данные: {counts['sales']} продаж, {counts['sale_lines']} строк,"
                     f" {counts['payments']} платежей", dict(counts, seed=seed))
    counts["tasks"] = generate_tasks(store, seed=seed, anchor=anchor.date())
    counts["mailings"] = generate_outreach(store)
    counts["documents"] = generate_documents(store)
    return counts
