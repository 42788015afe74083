"""Demo clients: rows of clients, contacts, shares and attachments made from a seed,
and their bulk load (``executemany`` in chunks, indexed for search by the normal
write path's functions)."""

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
from typing import Any

from faker import Faker

from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files
from clientplus_core.demo import fields as demo_fields
from clientplus_core.demo.extras import add_demo_consents
from clientplus_core.demo.words import (
    ADJ,
    BANKS,
    CITIES,
    CITY_WEIGHTS,
    DEMO_USERS,
    MAIL_DOMAINS,
    MONTHS,
    NOTE_TEMPLATES,
    NOUNS,
    OKVED,
    OWNER_WEIGHTS,
    POSTS,
    PRODUCTS,
    ROOTS,
    SOURCES,
    TAGS,
    TAILS,
    TLDS,
    City,
    make_account,
    make_kpp,
    make_landline,
    make_mobile,
    make_ogrn,
    make_ogrnip,
    make_valid_inn,
    translit,
)
from clientplus_core.search.textextract import extract_text
from clientplus_core.store import recovery
from clientplus_core.store.db import Store, connect, transaction
from clientplus_core.team import audit, users
from clientplus_core.team.access import Actor

CHUNK = 5_000
FILES_RATIO = 0.2


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
        self.extra_rng = random.Random(seed + 0x5EED)  # custom fields: a stream of their own
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
            core = rng.choice(ROOTS) + rng.choice(TAILS)
        elif r < 0.65:
            core = rng.choice(ROOTS) + rng.choice(ROOTS).lower() + rng.choice(TAILS)
        elif r < 0.8:
            core = f"{rng.choice(ADJ)} {rng.choice(NOUNS)}"
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
        city = rng.choices(CITIES, CITY_WEIGHTS)[0]
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
        row["extra"] = demo_fields.client_extra(self.extra_rng, kind, row["okved"], female,
                                                self.anchor.date())
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


def insert_sql(table: str, cols: Sequence[str]) -> str:
    """The ``INSERT`` statement of ``cols`` into ``table``, one ``?`` per column."""
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
# put back to SQLite's default (1 MiB) when the load ends — or, after a crash, by the
# next start (:func:`clientplus_core.store.recovery.mend`).
BULK_CACHE_KIB = 256 * 1024
BULK_FTS_HASHSIZE = 64 * 1024 * 1024
FTS_DEFAULT_HASHSIZE = recovery.FTS_DEFAULT_HASHSIZE


@contextmanager
def bulk_connection(store: Store) -> Iterator[sqlite3.Connection]:
    """A connection of its own for a bulk load, tuned as above (restored when it ends).
    The load holds the bulk-load lock meanwhile, so that a start elsewhere does not
    take its dropped indexes for a crash's leftovers."""
    with recovery.running(recovery.bulk_lock_path(store.data_dir)):
        conn = connect(store.db_path)
        try:
            conn.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
            with transaction(conn):
                conn.execute("INSERT INTO search_index (search_index, rank)"
                             " VALUES ('hashsize', ?)", (BULK_FTS_HASHSIZE,))
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
        conn.executemany(insert_sql("clients", CLIENT_COLUMNS), client_rows)
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
        conn.executemany(insert_sql("contacts", CONTACT_COLUMNS), contact_rows)
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
    if n_clients > 0:
        demo_fields.ensure_fields(store)
    counts = {"clients": 0, "contacts": 0, "files": 0, "shares": 0}
    done = 0
    known: dict[bytes, tuple[str, int, str, str]] = {}   # content -> blob (docx pool reuse)
    with bulk_connection(store) as bulk:
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
    if n_clients > 0:
        demo_fields.ensure_segments(store)
    with store.write() as conn:
        add_demo_consents(conn)
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
