"""The access matrix: every role × every core operation × own / someone else's /
shared record, checked by really calling the core. Expectations come from one
table; an operation in ``access.PERMISSIONS`` without a row here fails the suite,
so a new operation cannot be forgotten silently."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import segments
from clientplus_core.base.errors import AccessDenied, NotFound
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.organizer import tasks
from clientplus_core.outreach import addressbooks, consent, mailing, phones, sending, smtp
from clientplus_core.records import custom_fields, settings
from clientplus_core.sales import catalogue, company, documents, statuses
from clientplus_core.search import index as search
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import access, audit, auth
from clientplus_core.team import users as users_mod
from clientplus_core.team.access import Actor

ALL = {"own", "other", "shared"}
NONE: set[str] = set()
KINDS = ("own", "other", "shared")
ROLE_LOGINS = {"admin": "admin", "head": "head", "manager": "manager1", "viewer": "viewer"}


def rows(admin: set[str], head: set[str], manager: set[str], viewer: set[str]) -> dict:
    return {"admin": admin, "head": head, "manager": manager, "viewer": viewer}


READ = rows(ALL, ALL, {"own", "shared"}, ALL)
WRITE = rows(ALL, ALL, {"own", "shared"}, NONE)
HEAD = rows(ALL, ALL, NONE, NONE)
ADMIN = rows(ALL, NONE, NONE, NONE)
CREATE = rows(ALL, ALL, ALL, NONE)

# operation -> role -> record kinds on which it is allowed
EXPECTED: dict[str, dict[str, set[str]]] = {
    "client.read": READ,
    "client.list": READ,
    "search": READ,
    "client.export": READ,
    "client.history": READ,
    "client.create": CREATE,
    "client.update": WRITE,
    "client.delete": WRITE,
    "client.merge": WRITE,
    "client.share": rows(ALL, ALL, {"own"}, NONE),
    "client.assign_owner": HEAD,
    "client.restore": HEAD,
    "client.import": CREATE,
    "contact.create": WRITE,
    "file.upload": WRITE,
    "file.delete": WRITE,
    "file.read": READ,
    "link.create": WRITE,
    "settings.company": ADMIN,
    "settings.write": ADMIN,
    "backup": ADMIN,
    "audit.read": HEAD,
    "users.manage": ADMIN,
    "lookup.use": CREATE,
    "lookup.refresh": HEAD,
    "sale.read": READ,
    "sale.list": READ,
    "sale.create": WRITE,
    "sale.update": WRITE,
    "sale.set_status": WRITE,
    "sale.payment": WRITE,
    "sale.contact_event": WRITE,
    "sale.delete": WRITE,
    "sale.restore": HEAD,
    "sale.export": READ,
    "document.generate": WRITE,
    "catalogue.write": HEAD,
    "templates.manage": ADMIN,
    "statuses.manage": ADMIN,
    "fields.manage": ADMIN,
    "segments.manage": CREATE,
    "report.read": READ,
    "task.read": READ,
    "task.write": WRITE,
    "consent.read": READ,
    "consent.write": WRITE,
    "addressbook.manage": WRITE,
    "phones.export": WRITE,
    "mailing.manage": WRITE,
    "mailing.send": WRITE,
    "settings.mail": ADMIN,
    "bank.import": HEAD,
}


class World:
    def __init__(self, tmp: Path):
        self.store: Store = open_store(tmp / "data")
        self.tmp = tmp
        admin = users_mod.ensure_local_admin(self.store)
        self.actors: dict[str, Actor] = {"admin": admin}
        for login, role in (("head", "head"), ("manager1", "manager"), ("manager2", "manager"),
                            ("viewer", "viewer")):
            self.actors[login] = users_mod.create(self.store, login, login, role)
        m1, m2 = self.actors["manager1"], self.actors["manager2"]
        self.records: dict[str, int] = {}
        self.files: dict[str, int] = {}
        for kind, owner in (("own", m1), ("other", m2), ("shared", m2)):
            c = clients.create(self.store, owner, {"name": f"Клиент {kind} Ромб"},
                               allow_duplicate=True)
            self.records[kind] = c["id"]
            self.files[kind] = files.upload(self.store, owner, c["id"], f"{kind}.txt",
                                            io.BytesIO(b"data"))["id"]
        clients.share(self.store, m2, self.records["shared"], [m1.id])
        self.sales = {k: sales.create(self.store, admin, {
            "client_id": cid, "title": f"Сделка {k}",
            "lines": [{"name": "Услуга", "qty": 1, "price": 1000}]})["id"]
            for k, cid in self.records.items()}

    def twin(self, kind: str) -> int:
        """Another client with the same owner and sharing as ``kind``'s record."""
        owner = self.actors["manager1" if kind == "own" else "manager2"]
        c = clients.create(self.store, owner, {"name": f"Двойник {kind}"}, allow_duplicate=True)
        if kind == "shared":
            clients.share(self.store, owner, c["id"], [self.actors["manager1"].id])
        return c["id"]


def _ids_in_list(w: World, a: Actor, cid: int) -> bool:
    return cid in {r["id"] for r in clients.list_clients(w.store, a, ClientFilter(), 1, 100).rows}


OPS: dict[str, Callable[[World, Actor, str], Any]] = {
    "client.read": lambda w, a, k: clients.get(w.store, a, w.records[k]),
    "client.list": lambda w, a, k: _ids_in_list(w, a, w.records[k]),
    "search": lambda w, a, k: w.records[k] in {h.client_id for h in search.search(
        w.store, a, f"Клиент {k}")},
    "client.export": lambda w, a, k: w.records[k] in {r["id"] for r in clients.iter_clients(
        w.store, a)},
    "client.history": lambda w, a, k: clients.history(w.store, a, w.records[k]),
    "client.create": lambda w, a, k: clients.create(w.store, a, {"name": "Новый"},
                                                    allow_duplicate=True),
    "client.update": lambda w, a, k: clients.update(
        w.store, a, w.records[k], {"notes": "x"}, clients.get(w.store, w.actors["admin"],
                                                              w.records[k])["version"]),
    "client.delete": lambda w, a, k: clients.delete(w.store, a, w.records[k]),
    "client.merge": lambda w, a, k: clients.merge(w.store, a, w.records[k], w.twin(k)),
    "client.share": lambda w, a, k: clients.share(w.store, a, w.records[k],
                                                  [w.actors["head"].id]),
    "client.assign_owner": lambda w, a, k: clients.reassign_owner(
        w.store, a, w.records[k], w.actors["head"].id),
    "client.restore": lambda w, a, k: (clients.delete(w.store, w.actors["admin"], w.records[k]),
                                       clients.restore(w.store, a, w.records[k])),
    "client.import": lambda w, a, k: _import(w, a),
    "contact.create": lambda w, a, k: contacts.create(w.store, a, w.records[k], {"name": "Иван"}),
    "file.upload": lambda w, a, k: files.upload(w.store, a, w.records[k], "x.txt",
                                                io.BytesIO(b"x")),
    "file.delete": lambda w, a, k: files.delete(w.store, a, w.files[k]),
    "file.read": lambda w, a, k: files.read(w.store, a, w.files[k]),
    "link.create": lambda w, a, k: files.add_link(w.store, a, w.records[k], "https://x.ru"),
    "settings.company": lambda w, a, k: company.save(w.store, a, {"name": "Моя фирма"}),
    "settings.write": lambda w, a, k: settings.put(w.store, a, "upload_limit_mb", 100),
    "backup": lambda w, a, k: _backup(w, a),
    "audit.read": lambda w, a, k: audit.query(w.store, a),
    "users.manage": lambda w, a, k: auth.reset_password(w.store, a, w.actors["viewer"].id,
                                                        "новыйпароль1"),
    "lookup.use": lambda w, a, k: _lookup_use(w, a),
    "lookup.refresh": lambda w, a, k: _lookup_refresh(w, a),
    "sale.read": lambda w, a, k: sales.get_card(w.store, a, w.sales[k]),
    "sale.list": lambda w, a, k: w.sales[k] in {r["id"] for r in sales.list_sales(w.store,
                                                                                   a).rows},
    "sale.create": lambda w, a, k: sales.create(w.store, a, {
        "client_id": w.records[k], "lines": [{"name": "Товар", "qty": 2, "price": 10}]}),
    "sale.update": lambda w, a, k: sales.update(
        w.store, a, w.sales[k], {"title": "Новое"},
        sales.get(w.store, w.actors["admin"], w.sales[k])["version"]),
    "sale.set_status": lambda w, a, k: sales.set_status(w.store, a, w.sales[k], "offer_ready"),
    "sale.payment": lambda w, a, k: sales.add_payment(w.store, a, w.sales[k], 100),
    "sale.contact_event": lambda w, a, k: sales.add_contact_event(
        w.store, a, {"sale_id": w.sales[k], "subject": "Звонок"}),
    "sale.delete": lambda w, a, k: sales.delete(w.store, a, w.sales[k]),
    "sale.restore": lambda w, a, k: (sales.delete(w.store, w.actors["admin"], w.sales[k]),
                                     sales.restore(w.store, a, w.sales[k])),
    "sale.export": lambda w, a, k: w.sales[k] in {r["id"] for r in sales.iter_sales(w.store,
                                                                                    a)},
    "document.generate": lambda w, a, k: documents.render(w.store, a, w.sales[k], "invoice"),
    "catalogue.write": lambda w, a, k: catalogue.create(w.store, a, {"name": "Товар",
                                                                     "price": 10}),
    "templates.manage": lambda w, a, k: documents.upload_template(
        w.store, a, "invoice", "t.docx", documents.default_template("invoice")),
    "statuses.manage": lambda w, a, k: statuses.update(
        w.store, a, 1, {"label": "Заявка"}, statuses.get(w.store, 1)["version"]),
    "fields.manage": lambda w, a, k: custom_fields.enable_preset(w.store, a, "client",
                                                                 "industry"),
    "segments.manage": lambda w, a, k: segments.save(w.store, a, f"Сегмент {k}",
                                                     {"kind": "Юр. лицо"}),
    "report.read": lambda w, a, k: w.sales[k] in set(analytics.query(
        w.store, a, "SELECT id FROM sales")["id"].to_list()),
    "task.read": lambda w, a, k: tasks.get(w.store, a, _task(w, k)),
    "task.write": lambda w, a, k: tasks.update(
        w.store, a, (tid := _task(w, k)), {"title": "Перезвонить"},
        tasks.get(w.store, w.actors["admin"], tid)["version"]),
    # outreach lists (issue 7): entries, books and phone lists follow the client's scope
    "consent.read": lambda w, a, k: consent.get(w.store, a, _consent(w, k)),
    "consent.write": lambda w, a, k: consent.record(w.store, a, {
        "channel": "email", "value": f"{k}@romb.ru", "client_id": w.records[k]}),
    "addressbook.manage": lambda w, a, k: w.records[k] in addressbooks.client_ids(
        w.store, a, addressbooks.create_book(w.store, a, "Все", {"all_clients": True})["id"]),
    "phones.export": lambda w, a, k: bool(phones.for_clients(
        w.store, a, [_with_phone(w, k)]).rows),
    # e-mail mailings (issue 7): a manager previews and mails only own and shared clients
    "mailing.manage": lambda w, a, k: mailing.preview(
        w.store, a, mailing.create(w.store, a, {"subject": "Тема", "body_text": "Текст"})["id"],
        {"client_id": w.records[k], "contact_id": None, "email": f"{k}@romb.ru", "name": k,
         "sale_id": None}),
    "mailing.send": lambda w, a, k: _mailing_send(w, a, k),
    "bank.import": lambda w, a, k: _bank_import(w, a, k),
    "settings.mail": lambda w, a, k: smtp.save_settings(w.store, a, {
        "host": "smtp.yandex.ru", "port": 465, "security": "ssl", "from_address": "a@b.ru"}),
}


def _bank_import(w: World, a: Actor, kind: str) -> Any:
    """Load a statement paying ``kind``'s sale (the company's account set by the
    administrator first)."""
    import random
    from datetime import date

    from clientplus_core import bank
    from clientplus_core.bank import generator

    rng = random.Random(3)
    own = generator.party(rng, "ООО «Мы»", "7702070139", "770201001", generator.BANKS[0])
    company.save(w.store, w.actors["admin"], {"name": own.name, "inn": own.inn,
                                              "bik": own.bik, "account": own.account})
    number = sales.get(w.store, w.actors["admin"], w.sales[kind])["number"]
    data = generator.render([own], [generator.Payment(
        "1", date(2026, 11, 5), 1000, generator.party(rng, "ООО «Плательщик»"), own,
        f"Оплата по заявке {number}")])
    return bank.load(w.store, a, [("kl_to_1c.txt", data)])


def _mailing_send(w: World, a: Actor, kind: str) -> bool:
    """Send a one-recipient mailing to ``kind``'s client through a loopback server:
    allowed only if the server really received the message."""
    from tests.smtp_server import LoopbackSmtp

    mid = mailing.create(w.store, a, {"subject": "Тема", "body_text": "Текст"})["id"]
    with LoopbackSmtp() as srv:
        sending.send(w.store, a, mid, config=smtp.config_from(srv.settings(), password=""),
                     recipients_override=[mailing.Target(w.records[kind], None,
                                                         f"{kind}@romb.ru", kind)])
        return srv.recipients() == [f"{kind}@romb.ru"]


def _consent(w: World, kind: str) -> int:
    """A consent entry linked to ``kind``'s client, recorded by the administrator."""
    return int(consent.record(w.store, w.actors["admin"], {
        "channel": "email", "value": f"{kind}@romb.ru", "client_id": w.records[kind]})["id"])


def _with_phone(w: World, kind: str) -> int:
    """``kind``'s client with a mobile phone that has a consent entry."""
    admin, cid = w.actors["admin"], w.records[kind]
    clients.update(w.store, admin, cid, {"phone": "+79161234567"},
                   clients.get(w.store, admin, cid)["version"])
    consent.record(w.store, admin, {"channel": "phone", "value": "+79161234567"})
    return cid


def _task(w: World, kind: str) -> int:
    """A task of the administrator's on ``kind``'s client."""
    return int(tasks.create(w.store, w.actors["admin"], {
        "title": f"Задача {kind}", "due_date": "2026-12-01", "due_time": "10:00",
        "client_id": w.records[kind]})["id"])


def _backup(w: World, a: Actor) -> Any:
    from clientplus_core.maintenance import backup

    return backup.create_backup(w.store, a, w.tmp / f"b-{a.login}.zip")


def _import(w: World, a: Actor) -> Any:
    from clientplus_core.clients import import_mapping, importer, sheets

    table = sheets.read_table("Наименование\nИмпортированный\n".encode(), "c.csv")
    report = importer.run_import(w.store, a, table, import_mapping.guess_mapping(table.headers))
    return report.created == 1


def test_every_permission_has_an_expectation_and_an_executor() -> None:
    assert set(access.PERMISSIONS) <= set(EXPECTED), \
        f"add rows for: {set(access.PERMISSIONS) - set(EXPECTED)}"
    assert set(EXPECTED) == set(OPS)


CASES = [(op, role, kind) for op in EXPECTED for role in ROLE_LOGINS for kind in KINDS]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("template")
    world = World(tmp)
    # its files' text is read in the background: let that finish before the folder is
    # copied, or the copy races the worker's database files (-wal, -shm)
    assert text_jobs.wait(world.store, 60)
    return tmp


@pytest.mark.parametrize("op, role, kind", CASES, ids=[f"{o}-{r}-{k}" for o, r, k in CASES])
def test_access(op: str, role: str, kind: str, template: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(template / "data", tmp_path / "data")
    w = World.__new__(World)
    w.store, w.tmp = Store(tmp_path / "data"), tmp_path
    w.actors = {u["login"]: users_mod.get_actor(w.store, u["login"])
                for u in users_mod.list_users(w.store)}
    with w.store.read() as conn:
        by_name = {r["name"]: r["id"] for r in conn.execute("SELECT id, name FROM clients")}
        w.records = {k: by_name[f"Клиент {k} Ромб"] for k in KINDS}
        w.files = {k: conn.execute("SELECT id FROM files WHERE name = ?",
                                   (f"{k}.txt",)).fetchone()[0] for k in KINDS}
        w.sales = {k: conn.execute("SELECT id FROM sales WHERE title = ?",
                                   (f"Сделка {k}",)).fetchone()[0] for k in KINDS}
    actor = w.actors[ROLE_LOGINS[role]]
    expected = kind in EXPECTED[op][role]
    try:
        result = OPS[op](w, actor, kind)
        allowed = result is not False
    except (AccessDenied, NotFound):
        allowed = False
    assert allowed == expected, f"{role} {op} on {kind}: expected {expected}"


class _OfflineDadata:
    """An in-memory stand-in for DaData: one active company for any query."""

    daily_limit = 100

    def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        return {"suggestions": [{"value": "ООО «Реестр»", "data": {
            "inn": "7707083893", "type": "LEGAL", "branch_type": "MAIN",
            "state": {"status": "ACTIVE"}, "name": {"short_with_opf": "ООО «Реестр»"}}}]}


def _lookup_use(w: World, a: Actor) -> Any:
    from clientplus_core.requisites import lookup

    return lookup.find_party(w.store, a, "7707083893", client=_OfflineDadata())


def _lookup_refresh(w: World, a: Actor) -> Any:
    from clientplus_core.requisites import refresh

    return refresh.refresh(w.store, a, client=_OfflineDadata())
