"""Every public core function that takes an ``Actor`` checks the operation and the
record's scope itself (DESIGN.md §5), proved by calling it.

The functions are found by introspection: every module of ``clientplus_core``, every
public function defined there with a parameter annotated ``Actor`` or named
``actor``. Each must have a recipe in :data:`RECIPES` (keyed ``"module.function"``)
or an entry, with its reason, in :data:`EXEMPT`; so a new function without a check —
or without a recipe — fails the suite.

A recipe is a call ``(office, actor) -> result`` on the records of *manager2*, with
the checks it stands for:

- ``viewer`` (the function writes): called by the viewer it must raise
  ``AccessDenied``/``NotFound``; called by the administrator it must succeed.
- ``other`` (it reads or writes a record of a client): called by manager1 on
  manager2's record it must raise ``AccessDenied``/``NotFound`` or return ``False``
  (a list recipe returns whether manager2's record is in the result); called by
  manager2, the owner, it must succeed and not return ``False``.

The forbidden call runs first, on a fresh copy of the office; then the allowed one,
which proves the recipe reaches the function at all (a recipe broken for another
reason cannot pass). Manager1 owns no client, so anything of a client he gets back
is a leak.
"""

from __future__ import annotations

import importlib
import inspect
import io
import json
import pkgutil
import random
import shutil
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

import clientplus_core
from clientplus_core import sales
from clientplus_core.analytics import cache, report_builder, reports, segments
from clientplus_core.analytics import engine as analytics
from clientplus_core.bank import generator as bank_gen
from clientplus_core.bank import imports as bank_imports
from clientplus_core.bank import review as bank_review
from clientplus_core.base.errors import AccessDenied, NotFound, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import (
    contacts,
    export,
    files,
    import_mapping,
    importer,
    sheets,
    text_jobs,
)
from clientplus_core.maintenance import backup
from clientplus_core.organizer import reminders, task_time, tasks
from clientplus_core.outreach import (
    addressbooks,
    consent,
    criteria,
    mailing,
    phones,
    sending,
    smtp,
)
from clientplus_core.records import custom_fields, settings
from clientplus_core.requisites import lookup, refresh
from clientplus_core.sales import (
    attachments,
    bin,
    card,
    catalogue,
    company,
    doc_context,
    doc_templates,
    documents,
    history,
    payments,
    register,
    statuses,
    writing,
)
from clientplus_core.search import index as search
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import audit, auth
from clientplus_core.team import users as users_mod
from clientplus_core.team.access import Actor

OTHER_EMAIL = "other@romb.ru"
OTHER_PHONE = "+79161234567"
OTHER_INN = "7707083893"


# --- the office: five users, manager2's client with everything hanging off it ------------


class Office:
    """A data folder and the ids of manager2's records (``ids``) in it."""

    def __init__(self, tmp: Path, ids: dict[str, Any]):
        self.tmp = tmp
        self.store = Store(tmp / "data")
        self.ids = ids
        self.actors = {u["login"]: users_mod.get_actor(self.store, u["login"])
                       for u in users_mod.list_users(self.store)}

    def __getitem__(self, key: str) -> Any:
        return self.ids[key]


def build_office(data: Path) -> dict[str, Any]:
    """Fill ``data`` with the office; returns manager2's record ids."""
    store = open_store(data)
    admin = users_mod.ensure_local_admin(store)
    for login, role in (("head", "head"), ("manager1", "manager"), ("manager2", "manager"),
                        ("viewer", "viewer")):
        users_mod.create(store, login, login.title(), role)
    with store.write() as conn:
        conn.execute("UPDATE users SET email = login || '@romb.ru'")
    m2 = users_mod.get_actor(store, "manager2")
    ids: dict[str, Any] = {}
    c = clients.create(store, m2, {"name": "ООО «Чужой Ромб»", "inn": OTHER_INN,
                                   "phone": OTHER_PHONE, "email": OTHER_EMAIL,
                                   "tags": ["м2тег"], "source": "выставка"})
    cid = ids["client"] = c["id"]
    ids["twin"] = clients.create(store, m2, {"name": "ООО «Двойник Ромба»",
                                             "email": OTHER_EMAIL}, allow_duplicate=True)["id"]
    ids["contact"] = contacts.create(store, m2, cid, {
        "name": "Петров Пётр", "email": "petr@romb.ru", "mobile": "+79161234568",
        "consent_email": True, "consent_sms": True})["id"]
    ids["file"] = files.upload(store, m2, cid, "other.txt", io.BytesIO(b"secret text"))["id"]
    ids["link"] = files.add_link(store, m2, cid, "https://disk.yandex.ru/other")["id"]
    s = sales.create(store, m2, {"client_id": cid, "title": "Сделка Ромба",
                                 "lines": [{"name": "Услуга", "qty": 1, "price": 1000}]})
    ids["sale"], ids["sale_number"] = s["id"], s["number"]
    ids["planned"] = payments.add_planned_payment(
        store, m2, s["id"], 500, date.today() + timedelta(days=30))["id"]
    ids["payment"] = payments.add_payment(store, m2, s["id"], 100)["payment"]["id"]
    sales.set_status(store, m2, s["id"], "invoiced")
    lost = sales.create(store, m2, {"client_id": cid, "title": "Потерянная",
                                    "lines": [{"name": "Товар", "qty": 1, "price": 50}]})
    sales.set_status(store, m2, lost["id"], "lost", reason="дорого")
    ids["event"] = history.add_contact_event(store, m2, {"sale_id": s["id"],
                                                         "subject": "Звонок Ромбу"})["id"]
    documents.render(store, m2, s["id"], "invoice")  # an issued invoice, kept in the files
    ids["sale_file"] = attachments.attach_file(store, m2, s["id"], "spec.txt", b"spec")["id"]
    ids["task"] = tasks.create(store, m2, {
        "title": "Перезвонить Ромбу", "due_date": date.today().isoformat(), "due_time": "00:00",
        "client_id": cid})["id"]
    ids["consent"] = consent.record(store, m2, {"channel": "email", "value": OTHER_EMAIL,
                                                "client_id": cid})["id"]
    consent.record(store, m2, {"channel": "phone", "value": OTHER_PHONE, "client_id": cid})
    ids["book"] = addressbooks.create_book(store, m2, "Книга Ромба", {"all_clients": True})["id"]
    ids["snapshot"] = addressbooks.create_book(store, m2, "Снимок Ромба", {"all_clients": True},
                                               kind="snapshot")["id"]
    m = mailing.create(store, m2, {"subject": "Тема", "body_text": "Привет, {{ client.name }}",
                                   "book_id": ids["book"]})
    ids["mailing"] = m["id"]
    ids["attachment"] = mailing.add_attachment(store, m2, m["id"], "a.txt", b"attached")["id"]
    segments.save(store, m2, "Сегмент Ромба", {"kind": "Юр. лицо"})
    report_builder.save(store, m2, "Отчёт Ромба", report_builder.ReportSpec())
    ids["template"] = doc_templates.upload_template(
        store, admin, "invoice", "t.docx", documents.default_template("invoice"),
        make_default=False)["id"]
    ids["item"] = catalogue.create(store, admin, {"name": "Товар", "price": 10})["id"]
    custom_fields.enable_preset(store, admin, "client", "industry")
    return ids


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("office")
    ids = build_office(tmp / "data")
    # files' text is read in the background: let that finish before the folder is
    # copied, or the copy races the worker's database files (-wal, -shm)
    assert text_jobs.wait(Store(tmp / "data"), 60)
    (tmp / "ids.json").write_text(json.dumps(ids))
    return tmp


@pytest.fixture
def office(template: Path, tmp_path: Path) -> Office:
    shutil.copytree(template / "data", tmp_path / "data")
    return Office(tmp_path, json.loads((template / "ids.json").read_text()))


# --- helpers the recipes share ----------------------------------------------------------


def _has(result: Any) -> bool:
    """Whether a report (a polars frame or a dict of figures) shows anything: a
    positive number anywhere. Manager1 owns nothing, so for him it must be empty."""
    if isinstance(result, dict):
        values = list(result.values())
    else:
        values = [v for row in result.rows() for v in row]
    return any(isinstance(v, (int, float, Decimal)) and not isinstance(v, bool) and v > 0
               for v in values)


def _xlsx_text(data: bytes) -> str:
    """Every cell of every sheet of an .xlsx, as one string."""
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                     for v in row if v is not None)


def _admin(o: Office) -> Actor:
    return o.actors["admin"]


def _client_version(o: Office) -> int:
    return int(clients.get(o.store, _admin(o), o["client"])["version"])


def _sale_version(o: Office) -> int:
    return int(sales.get(o.store, _admin(o), o["sale"])["version"])


def _deleted(o: Office, what: str) -> int:
    """Manager2's ``what`` (client, sale, file), put in the bin by the administrator
    unless the recipe's first call already did."""
    admin = _admin(o)
    delete, key = {"client": (clients.delete, "twin"), "sale": (sales.delete, "sale"),
                   "file": (files.delete, "file")}[what]
    try:
        delete(o.store, admin, o[key])
    except NotFound:
        pass  # already in the bin
    return int(o[key])


def _own_mailing(o: Office, a: Actor) -> int:
    """A fresh draft of the actor's own (nothing in it of anybody's client)."""
    return int(mailing.create(o.store, a, {"subject": "Тема {{ client.name }}",
                                           "body_text": "{{ contact.name }} {{ sale.number }}"}
                              )["id"])


def _recipient(o: Office) -> dict[str, Any]:
    """Manager2's client, contact and sale as a mailing recipient."""
    return {"client_id": o["client"], "contact_id": o["contact"], "email": "petr@romb.ru",
            "name": "Петров Пётр", "sale_id": o["sale"]}


def _send(o: Office, a: Actor) -> bool:
    """Send to manager2's recipient through a loopback server: the viewer tries
    manager2's own mailing, anyone else a draft of their own with that recipient.
    Allowed only if the message really went out."""
    from tests.smtp_server import LoopbackSmtp

    mid = _own_mailing(o, a) if a.can_write else o["mailing"]
    with LoopbackSmtp() as srv:
        sending.send(o.store, a, mid, config=smtp.config_from(srv.settings(), password=""),
                     recipients_override=[mailing.Target(**_recipient(o))])
        return srv.recipients() == ["petr@romb.ru"]


def _test_send(o: Office, a: Actor) -> str:
    from tests.smtp_server import LoopbackSmtp

    with LoopbackSmtp() as srv:
        return mailing.test_send(o.store, a, o["mailing"], "me@romb.ru",
                                 config=smtp.config_from(srv.settings(), password=""))


def _token(o: Office) -> str:
    """The unsubscribe token of a message manager2 really sent to his client."""
    from tests.smtp_server import LoopbackSmtp

    m2 = o.actors["manager2"]
    mid = _own_mailing(o, m2)
    with LoopbackSmtp() as srv:
        sending.send(o.store, m2, mid, config=smtp.config_from(srv.settings(), password=""),
                     recipients_override=[mailing.Target(o["client"], None, OTHER_EMAIL, "Ромб")])
    with o.store.read() as conn:
        return str(conn.execute("SELECT token FROM mailing_recipients WHERE mailing_id = ?",
                                (mid,)).fetchone()[0])


def _import_update(o: Office, a: Actor) -> bool:
    """Import a row with manager2's client's INN, updating the existing card."""
    table = sheets.read_table(f"Наименование,ИНН\nРомб обновлённый,{OTHER_INN}\n".encode(),
                              "c.csv")
    report = importer.run_import(o.store, a, table, import_mapping.guess_mapping(table.headers))
    return report.updated == 1


class _OfflineDadata:
    """DaData answered from the fake server's tables, without a server."""

    daily_limit = 1000

    def post(self, method: str, payload: dict[str, Any]) -> dict[str, Any]:
        from tests import fake_dadata as fd

        table = {"findById/party": fd.PARTIES, "findById/bank": fd.BANKS,
                 "findById/postal_unit": fd.POSTAL_UNITS,
                 "suggest/address": fd.ADDRESSES}.get(method, {})
        return {"suggestions": list(table.get(str(payload.get("query", "")), []))}


def _refresh_report(o: Office) -> refresh.RefreshReport:
    return refresh.refresh(o.store, _admin(o), client=_OfflineDadata())


def _digest_has_task(digests: list[reminders.Digest]) -> bool:
    return any(t["title"] == "Перезвонить Ромбу" for d in digests for t in d.overdue + d.today)


def _has_task(rows: list[dict[str, Any]]) -> bool:
    return any(t["title"] == "Перезвонить Ромбу" for t in rows)


# --- the recipes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How to call one function on manager2's records, and which checks it stands for."""

    call: Callable[[Office, Actor], Any]
    viewer: bool = False  # it writes (or is the head's / administrator's): a viewer is refused
    other: bool = False   # it reaches a record of a client: manager1 is refused on manager2's


def W(call: Callable[[Office, Actor], Any]) -> Recipe:  # noqa: N802 (reads as a table)
    return Recipe(call, viewer=True)


def S(call: Callable[[Office, Actor], Any]) -> Recipe:  # noqa: N802
    return Recipe(call, other=True)


def WS(call: Callable[[Office, Actor], Any]) -> Recipe:  # noqa: N802
    return Recipe(call, viewer=True, other=True)


SEGMENT, REPORT, BOOK = "Сегмент Ромба", "Отчёт Ромба", "Книга Ромба"
REPORT_NAMES = ("funnel", "lost_reasons", "stage_times", "revenue", "debtors", "forecast",
                "client_growth", "client_sources", "top_clients", "no_contact", "kpis")

RECIPES: dict[str, Recipe] = {
    # analytics: every figure is computed over the actor's scope
    "analytics.engine.snapshot": S(lambda o, a: _in_snapshot(o, a)),
    "analytics.engine.query": S(lambda o, a: o["client"] in analytics.query(
        o.store, a, "SELECT id FROM clients")["id"].to_list()),
    "analytics.report_builder.run": S(lambda o, a: _has(report_builder.run(
        o.store, a, report_builder.ReportSpec()))),
    "analytics.report_builder.save": W(lambda o, a: report_builder.save(
        o.store, a, "Новый отчёт", report_builder.ReportSpec())),
    "analytics.report_builder.list_reports": S(lambda o, a: REPORT in {
        r["name"] for r in report_builder.list_reports(o.store, a)}),
    "analytics.report_builder.load": S(lambda o, a: report_builder.load(o.store, a, REPORT)),
    **{f"analytics.reports.{name}": S(lambda o, a, name=name: _has(getattr(reports, name)(
        o.store, a))) for name in REPORT_NAMES},
    "analytics.reports.run": S(lambda o, a: _has(reports.run(o.store, a, "top_clients"))),
    # the kept results: keyed by who asks, so one user's answer never reaches another
    "analytics.cache.run": S(lambda o, a: _has(cache.run(o.store, a, "top_clients"))),
    "analytics.cache.kpis": S(lambda o, a: _has(cache.kpis(o.store, a))),
    "analytics.segments.client_frame": S(lambda o, a: o["client"] in segments.client_frame(
        o.store, a)["id"].to_list()),
    "analytics.segments.pivot": S(lambda o, a: _has(segments.pivot(o.store, a, ["kind"]))),
    "analytics.segments.save": W(lambda o, a: segments.save(o.store, a, "Новый",
                                                            {"kind": "Юр. лицо"})),
    "analytics.segments.list_segments": S(lambda o, a: SEGMENT in {
        s["name"] for s in segments.list_segments(o.store, a)}),
    "analytics.segments.get": S(lambda o, a: segments.get(o.store, a, SEGMENT)),
    "analytics.segments.delete": WS(lambda o, a: segments.delete(o.store, a, SEGMENT)),
    "analytics.segments.client_ids": S(lambda o, a: o["client"] in segments.client_ids(
        o.store, a, SEGMENT)),
    # clients
    "clients.cards.create": W(lambda o, a: clients.create(o.store, a, {"name": "Новый"})),
    "clients.cards.get": S(lambda o, a: clients.get(o.store, a, o["client"])),
    "clients.cards.update": WS(lambda o, a: clients.update(o.store, a, o["client"],
                                                           {"notes": "x"}, _client_version(o))),
    "clients.cards.delete": WS(lambda o, a: clients.delete(o.store, a, o["client"])),
    "clients.cards.restore": W(lambda o, a: clients.restore(o.store, a, _deleted(o, "client"))),
    "clients.cards.list_clients": S(lambda o, a: o["client"] in {
        r["id"] for r in clients.list_clients(o.store, a).rows}),
    "clients.cards.iter_clients": S(lambda o, a: o["client"] in {
        r["id"] for r in clients.iter_clients(o.store, a)}),
    "clients.cards.all_tags": S(lambda o, a: "м2тег" in clients.all_tags(o.store, a)),
    "clients.cards.history": S(lambda o, a: clients.history(o.store, a, o["client"])),
    "clients.cards.duplicates_of": S(lambda o, a: clients.duplicates_of(o.store, a,
                                                                        o["client"])),
    "clients.cards.merge": WS(lambda o, a: clients.merge(o.store, a, o["client"], o["twin"])),
    "clients.cards.reassign_owner": W(lambda o, a: clients.reassign_owner(
        o.store, a, o["client"], o.actors["head"].id)),
    "clients.cards.share": WS(lambda o, a: clients.share(o.store, a, o["client"],
                                                         [o.actors["head"].id])),
    "clients.cards.shared_with": S(lambda o, a: clients.shared_with(o.store, a, o["client"])),
    "clients.cards.list_deleted": W(lambda o, a: clients.list_deleted(o.store, a)),
    "clients.contacts.list_for_client": S(lambda o, a: contacts.list_for_client(
        o.store, a, o["client"])),
    "clients.contacts.create": WS(lambda o, a: contacts.create(o.store, a, o["client"],
                                                               {"name": "Иван"})),
    "clients.contacts.update": WS(lambda o, a: contacts.update(
        o.store, a, o["contact"], {"post": "директор"}, contacts.list_for_client(
            o.store, _admin(o), o["client"])[0]["version"])),
    "clients.contacts.delete": WS(lambda o, a: contacts.delete(o.store, a, o["contact"])),
    "clients.export.export_clients": S(lambda o, a: export.export_clients(
        o.store, a, None, io.BytesIO(), "csv") > 0),
    "clients.export.export_clients_bytes": S(lambda o, a: "Чужой Ромб" in export.
                                             export_clients_bytes(o.store, a, None, "csv")
                                             .decode("utf-8-sig")),
    "clients.files.upload": WS(lambda o, a: files.upload(o.store, a, o["client"], "x.txt",
                                                         io.BytesIO(b"x"))),
    "clients.files.list_for_client": S(lambda o, a: files.list_for_client(o.store, a,
                                                                          o["client"])),
    "clients.files.read": S(lambda o, a: files.read(o.store, a, o["file"])),
    "clients.files.delete": WS(lambda o, a: files.delete(o.store, a, o["file"])),
    "clients.files.add_link": WS(lambda o, a: files.add_link(o.store, a, o["client"],
                                                             "https://disk.yandex.ru/x")),
    "clients.files.list_links": S(lambda o, a: files.list_links(o.store, a, o["client"])),
    "clients.files.delete_link": WS(lambda o, a: files.delete_link(o.store, a, o["link"])),
    "clients.files.list_deleted": W(lambda o, a: files.list_deleted(o.store, a)),
    "clients.files.restore": W(lambda o, a: files.restore(o.store, a, _deleted(o, "file"))),
    "clients.importer.run_import": WS(_import_update),
    # maintenance
    "maintenance.backup.create_backup": W(lambda o, a: backup.create_backup(
        o.store, a, o.tmp / f"b-{a.login}.zip")),
    # organizer
    "organizer.reminders.digests": S(lambda o, a: _digest_has_task(reminders.digests(
        o.store, a))),
    # not ``viewer``: a viewer's run mails nobody but himself his own tasks
    "organizer.reminders.remind": S(lambda o, a: _digest_has_task(
        [r.digest for r in reminders.remind(o.store, a, dry_run=True)])),
    "organizer.task_time.set_timezone": W(lambda o, a: task_time.set_timezone(
        o.store, a, "Asia/Yekaterinburg")),
    "organizer.tasks.get": S(lambda o, a: tasks.get(o.store, a, o["task"])),
    "organizer.tasks.list_tasks": S(lambda o, a: _has_task(tasks.list_tasks(o.store, a))),
    "organizer.tasks.by_assignee": S(lambda o, a: any(
        r["open"] for r in tasks.by_assignee(o.store, a))),
    "organizer.tasks.month": S(lambda o, a: any(_has_task(day) for day in tasks.month(
        o.store, a, date.today().year, date.today().month).values())),
    "organizer.tasks.due_summary": S(lambda o, a: _has_task(tasks.due_summary(o.store,
                                                                              a).tasks)),
    "organizer.tasks.create": WS(lambda o, a: tasks.create(o.store, a, {
        "title": "Ещё", "due_date": "2030-01-10", "client_id": o["client"]})),
    "organizer.tasks.update": WS(lambda o, a: tasks.update(
        o.store, a, o["task"], {"title": "Иначе"}, _task_version(o))),
    "organizer.tasks.set_status": WS(lambda o, a: tasks.set_status(
        o.store, a, o["task"], "done", _task_version(o))),
    "organizer.tasks.delete": WS(lambda o, a: tasks.delete(o.store, a, o["task"],
                                                           _task_version(o))),
    # outreach: address books
    "outreach.addressbooks.list_books": S(lambda o, a: BOOK in {
        b["name"] for b in addressbooks.list_books(o.store, a)}),
    "outreach.addressbooks.get_book": S(lambda o, a: addressbooks.get_book(o.store, a,
                                                                           o["book"])),
    "outreach.addressbooks.find_book": S(lambda o, a: addressbooks.find_book(o.store, a, BOOK)),
    "outreach.addressbooks.create_book": W(lambda o, a: addressbooks.create_book(
        o.store, a, "Новая", {"all_clients": True})),
    "outreach.addressbooks.update_book": WS(lambda o, a: addressbooks.update_book(
        o.store, a, o["book"], version=addressbooks.get_book(o.store, _admin(o), o["book"])[
            "version"], name="Переименована")),
    "outreach.addressbooks.delete_book": WS(lambda o, a: addressbooks.delete_book(
        o.store, a, o["snapshot"])),
    "outreach.addressbooks.refresh_snapshot": WS(lambda o, a: addressbooks.refresh_snapshot(
        o.store, a, o["snapshot"])),
    "outreach.addressbooks.set_manual": WS(lambda o, a: addressbooks.set_manual(
        o.store, a, o["book"], [o["client"]], "exclude") == 1),
    "outreach.addressbooks.add_clients": WS(lambda o, a: addressbooks.add_clients(
        o.store, a, o["book"], [o["client"]]) == 1),
    "outreach.addressbooks.remove_clients": WS(lambda o, a: addressbooks.remove_clients(
        o.store, a, o["book"], [o["client"]]) == 1),
    "outreach.addressbooks.manual_members": S(lambda o, a: addressbooks.manual_members(
        o.store, a, o["book"])),
    "outreach.addressbooks.client_ids": S(lambda o, a: o["client"] in addressbooks.client_ids(
        o.store, a, o["book"])),
    "outreach.addressbooks.email_recipients": S(lambda o, a: bool(
        addressbooks.email_recipients(o.store, a, o["book"])[0])),
    "outreach.addressbooks.preview": S(lambda o, a: bool(addressbooks.preview(
        o.store, a, {"all_clients": True})[0])),
    "outreach.addressbooks.recipients_xlsx": S(lambda o, a: OTHER_EMAIL in _xlsx_text(
        addressbooks.recipients_xlsx(o.store, a, o["book"]))),
    # outreach: the consent register
    "outreach.consent.record": WS(lambda o, a: consent.record(o.store, a, {
        "channel": "email", "value": OTHER_EMAIL, "note": "перезаписано"})),
    # not ``other``: an opt-out is the person's own decision (152-ФЗ) — whoever receives
    # it records it, whoever's client the address is; it returns nothing
    "outreach.consent.record_optout": W(lambda o, a: consent.record_optout(
        o.store, a, "email", "new@romb.ru", "звонок")),
    "outreach.consent.get": S(lambda o, a: consent.get(o.store, a, o["consent"])),
    "outreach.consent.list_entries": S(lambda o, a: OTHER_EMAIL in {
        e["value"] for e in consent.list_entries(o.store, a)}),
    "outreach.consent.update": WS(lambda o, a: consent.update(
        o.store, a, o["consent"], {"note": "иначе"},
        consent.get(o.store, _admin(o), o["consent"])["version"])),
    "outreach.consent.delete": WS(lambda o, a: consent.delete(o.store, a, o["consent"])),
    "outreach.consent.history": S(lambda o, a: consent.history(o.store, a, o["consent"])),
    "outreach.consent.to_xlsx": S(lambda o, a: OTHER_EMAIL in _xlsx_text(consent.to_xlsx(
        o.store, a))),
    "outreach.consent.import_rows": WS(lambda o, a: consent.import_rows(o.store, a, [
        {"channel": "email", "value": OTHER_EMAIL, "status": "consent"}])[0] == 1),
    "outreach.consent.import_table": WS(lambda o, a: consent.import_table(
        o.store, a, f"Канал,Адрес / телефон,Статус\nemail,{OTHER_EMAIL},согласие\n".encode(),
        "c.csv")[0] == 1),
    "outreach.criteria.evaluate": S(lambda o, a: o["client"] in criteria.evaluate(
        o.store, a, {"all_clients": True})),
    # outreach: mailings
    "outreach.mailing.create": W(lambda o, a: mailing.create(o.store, a, {
        "subject": "Тема", "body_text": "Текст"})),
    "outreach.mailing.update": WS(lambda o, a: mailing.update(
        o.store, a, o["mailing"], {"subject": "Иначе", "body_text": "Текст"},
        mailing.get(o.store, _admin(o), o["mailing"])["version"])),
    "outreach.mailing.copy": WS(lambda o, a: mailing.copy(o.store, a, o["mailing"])),
    "outreach.mailing.delete": WS(lambda o, a: mailing.delete(o.store, a, o["mailing"])),
    "outreach.mailing.get": S(lambda o, a: mailing.get(o.store, a, o["mailing"])),
    "outreach.mailing.list_mailings": S(lambda o, a: o["mailing"] in {
        m["id"] for m in mailing.list_mailings(o.store, a)}),
    "outreach.mailing.add_attachment": WS(lambda o, a: mailing.add_attachment(
        o.store, a, o["mailing"], "b.txt", b"more")),
    "outreach.mailing.remove_attachment": WS(lambda o, a: mailing.remove_attachment(
        o.store, a, o["mailing"], o["attachment"])),
    "outreach.mailing.sale_invoice": WS(lambda o, a: mailing.sale_invoice(
        o.store, a, o["sale"], draft=True)),
    "outreach.mailing.book_recipients": S(lambda o, a: bool(mailing.book_recipients(
        o.store, a, {"book_id": o["book"]})[0])),
    "outreach.mailing.recipients": S(lambda o, a: bool(mailing.recipients(o.store, a,
                                                                          o["mailing"]))),
    "outreach.mailing.preview": S(lambda o, a: mailing.preview(
        o.store, a, _own_mailing(o, a), _recipient(o))),
    "outreach.mailing.test_send": WS(_test_send),
    "outreach.mailing.log": S(lambda o, a: mailing.log(o.store, a, o["mailing"])),
    "outreach.mailing.export_log": S(lambda o, a: mailing.export_log(o.store, a,
                                                                     o["mailing"])),
    "outreach.phones.for_book": S(lambda o, a: bool(phones.for_book(o.store, a,
                                                                    o["book"]).rows)),
    "outreach.phones.for_segment": S(lambda o, a: bool(phones.for_segment(o.store, a,
                                                                          SEGMENT).rows)),
    "outreach.phones.for_clients": S(lambda o, a: bool(phones.for_clients(
        o.store, a, [o["client"]]).rows)),
    "outreach.sending.send": WS(_send),
    # not ``other``: the token is the recipient's secret, and whoever holds the reply
    # that carries it records the opt-out (see ``record_optout``)
    "outreach.sending.unsubscribe": W(lambda o, a: sending.unsubscribe(o.store, _token(o), a)),
    "outreach.smtp.save_settings": W(lambda o, a: smtp.save_settings(o.store, a, {
        "host": "smtp.yandex.ru", "port": 465, "security": "ssl", "from_address": "a@b.ru"})),
    # bank statements: loading and review are the head's and the administrator's
    "bank.imports.load": W(lambda o, a: bank_imports.load(o.store, a, [
        ("kl_to_1c.txt", _statement(o, "Оплата"))])),
    "bank.review.list_statements": W(lambda o, a: bank_review.list_statements(o.store, a)),
    "bank.review.review_items": W(lambda o, a: bank_review.review_items(o.store, a)),
    "bank.review.list_payments": S(lambda o, a: o["client"] in {
        p["client_id"] for p in bank_review.list_payments(o.store, a, state="matched")}
        if _bank_paid(o) else "not loaded"),
    "bank.review.confirm": W(lambda o, a: bank_review.confirm(o.store, a, _waiting(o),
                                                              o["sale"])),
    "bank.review.split": W(lambda o, a: bank_review.split(o.store, a, _waiting(o),
                                                          [(o["sale"], 10)])),
    "bank.review.dismiss": W(lambda o, a: bank_review.dismiss(o.store, a, _waiting(o))),
    "bank.review.create_client": W(lambda o, a: bank_review.create_client(
        o.store, a, _waiting(o), lookup_client=_OfflineDadata())),
    # records
    "records.custom_fields.define": W(lambda o, a: custom_fields.define(o.store, a, {
        "entity": "client", "key": "code", "label_ru": "Код", "type": "text"})),
    "records.custom_fields.enable_preset": W(lambda o, a: custom_fields.enable_preset(
        o.store, a, "client", "industry")),
    "records.custom_fields.set_active": W(lambda o, a: custom_fields.set_active(
        o.store, a, "client", "industry", False)),
    "records.settings.put": W(lambda o, a: settings.put(o.store, a, "upload_limit_mb", 100)),
    # requisites
    "requisites.lookup.service_info": W(lambda o, a: lookup.service_info(o.store, a)),
    "requisites.lookup.find_party": W(lambda o, a: lookup.find_party(
        o.store, a, OTHER_INN, client=_OfflineDadata())),
    "requisites.lookup.find_bank": W(lambda o, a: lookup.find_bank(
        o.store, a, "044525225", client=_OfflineDadata())),
    "requisites.lookup.postal_suggestions": W(lambda o, a: lookup.postal_suggestions(
        o.store, a, "127006", client=_OfflineDadata())),
    "requisites.refresh.refresh": W(lambda o, a: refresh.refresh(o.store, a,
                                                                 client=_OfflineDadata())),
    "requisites.refresh.last_run": W(lambda o, a: refresh.last_run(o.store, a)),
    "requisites.refresh.apply_changes": W(lambda o, a: refresh.apply_changes(
        o.store, a, _refresh_report(o))),
    # sales
    "sales.attachments.attach_file": WS(lambda o, a: attachments.attach_file(
        o.store, a, o["sale"], "y.txt", b"y")),
    "sales.attachments.list_files": S(lambda o, a: attachments.list_files(o.store, a,
                                                                          o["sale"])),
    "sales.attachments.add_link": WS(lambda o, a: attachments.add_link(
        o.store, a, o["sale"], "https://disk.yandex.ru/s")),
    "sales.attachments.list_links": S(lambda o, a: attachments.list_links(o.store, a,
                                                                          o["sale"])),
    "sales.bin.delete": WS(lambda o, a: bin.delete(o.store, a, o["sale"])),
    "sales.bin.restore": W(lambda o, a: bin.restore(o.store, a, _deleted(o, "sale"))),
    "sales.bin.list_deleted": W(lambda o, a: bin.list_deleted(o.store, a)),
    "sales.card.get": S(lambda o, a: card.get(o.store, a, o["sale"])),
    "sales.card.find_id": S(lambda o, a: card.find_id(o.store, a, o["sale_number"])),
    "sales.card.get_card": S(lambda o, a: card.get_card(o.store, a, o["sale"])),
    "sales.catalogue.create": W(lambda o, a: catalogue.create(o.store, a, {"name": "Ещё",
                                                                           "price": 5})),
    "sales.catalogue.update": W(lambda o, a: catalogue.update(
        o.store, a, o["item"], {"name": "Иначе", "price": 7},
        catalogue.get(o.store, _admin(o), o["item"])["version"])),
    "sales.catalogue.delete": W(lambda o, a: catalogue.delete(o.store, a, o["item"])),
    "sales.catalogue.import_table": W(lambda o, a: catalogue.import_table(
        o.store, a, "Наименование,Цена\nГвоздь,3\n".encode(), "p.csv")),
    "sales.company.save": W(lambda o, a: company.save(o.store, a, {"name": "Моя фирма"})),
    "sales.doc_context.context": S(lambda o, a: doc_context.context(o.store, a, o["sale"])),
    "sales.doc_templates.upload_template": W(lambda o, a: doc_templates.upload_template(
        o.store, a, "invoice", "u.docx", documents.default_template("invoice"))),
    "sales.doc_templates.set_default_template": W(
        lambda o, a: doc_templates.set_default_template(o.store, a, o["template"])),
    "sales.doc_templates.delete_template": W(lambda o, a: doc_templates.delete_template(
        o.store, a, o["template"])),
    "sales.documents.render": WS(lambda o, a: documents.render(o.store, a, o["sale"],
                                                               "invoice")),
    "sales.history.add_contact_event": WS(lambda o, a: history.add_contact_event(
        o.store, a, {"client_id": o["client"], "subject": "Встреча"})),
    "sales.history.contact_history": S(lambda o, a: history.contact_history(
        o.store, a, client_id=o["client"])),
    "sales.history.change_history": S(lambda o, a: history.change_history(
        o.store, a, o["sale"])),
    "sales.history.delete_contact_event": WS(lambda o, a: history.delete_contact_event(
        o.store, a, o["event"])),
    "sales.payments.add_planned_payment": WS(lambda o, a: payments.add_planned_payment(
        o.store, a, o["sale"], 100, date.today() + timedelta(days=60))),
    "sales.payments.add_payment": WS(lambda o, a: payments.add_payment(o.store, a, o["sale"],
                                                                       50)),
    "sales.payments.delete_payment": WS(lambda o, a: payments.delete_payment(
        o.store, a, o["payment"])),
    "sales.register.list_sales": S(lambda o, a: o["sale"] in {
        r["id"] for r in register.list_sales(o.store, a).rows}),
    "sales.register.iter_sales": S(lambda o, a: o["sale"] in {
        r["id"] for r in register.iter_sales(o.store, a)}),
    "sales.register.export_sales": S(lambda o, a: register.export_sales(
        o.store, a, None, io.BytesIO(), "csv") > 0),
    "sales.register.export_sales_bytes": S(lambda o, a: "Сделка Ромба" in register.
                                           export_sales_bytes(o.store, a, None, "csv")
                                           .decode("utf-8-sig")),
    "sales.register.board": S(lambda o, a: any(
        c["count"] for c in register.board(o.store, a))),
    "sales.statuses.create": W(lambda o, a: statuses.create(o.store, a, {"label": "Пауза"})),
    "sales.statuses.update": W(lambda o, a: statuses.update(
        o.store, a, 1, {"label": "Заявка"}, statuses.get(o.store, 1)["version"])),
    "sales.statuses.reorder": W(lambda o, a: statuses.reorder(o.store, a, [2, 1])),
    "sales.writing.create": WS(lambda o, a: sales.create(o.store, a, {
        "client_id": o["client"], "lines": [{"name": "Товар", "qty": 2, "price": 10}]})),
    "sales.writing.update": WS(lambda o, a: writing.update(
        o.store, a, o["sale"], {"title": "Иначе"}, _sale_version(o))),
    "sales.writing.set_status": WS(lambda o, a: writing.set_status(o.store, a, o["sale"],
                                                                   "shipped")),
    "sales.writing.next_status": S(lambda o, a: writing.next_status(o.store, a, o["sale"])),
    "search.index.search": S(lambda o, a: o["client"] in {
        h.client_id for h in search.search(o.store, a, "Ромб")}),
    # team
    "team.audit.query": W(lambda o, a: audit.query(o.store, a)),
    "team.auth.reset_password": W(lambda o, a: auth.reset_password(
        o.store, a, o.actors["viewer"].id, "новыйпароль1")),
    "team.auth.set_active": W(lambda o, a: auth.set_active(o.store, a,
                                                           o.actors["manager1"].id, False)),
    "team.auth.force_password_change": W(lambda o, a: auth.force_password_change(
        o.store, a, o.actors["manager1"].id)),
    "team.auth.add_user": W(lambda o, a: auth.add_user(o.store, a, "new", "пароль-длинный1",
                                                       "manager")),
}

# Functions that take an actor but need no check of their own, and why.
EXEMPT: dict[str, str] = {
    # the checks themselves, and SQL fragments the checked functions run
    "team.access.can": "is the operation check",
    "team.access.require": "is the operation check",
    "team.access.client_scope": "is the scope check (an SQL condition)",
    "records.visibility.visible_client": "is the scope check",
    "records.visibility.check_visible": "is the scope check",
    "records.visibility.visible_clients": "is the scope check (a filter)",
    "sales.common.visible": "is the sale's scope check",
    "outreach.mailing.visible_mailing": "is the mailing's scope check",
    "outreach.mailing.check_recipient": "is the recipient's scope check",
    "clients.duplicates.duplicate_warning": "words a duplicate warning by the actor's scope",
    "analytics.engine.scoped_ctes": "builds the scoped views every analytics query reads",
    "analytics.report_builder.build_sql": "SQL text only, over the scoped views; run() runs it",
    "sales.register.scope_arms": "builds the scope condition of the sales register",
    # steps inside a transaction of a checked caller (they take its connection)
    "team.audit.record": "appends to the audit trail inside a checked caller",
    "organizer.task_time.normalise": "validates a task inside tasks.create / update",
    "sales.lines.normalise": "validates a sale inside sales.create / update",
    "sales.common.apply_status": "moves a status inside set_status / add_payment",
    "sales.payments.record_payment": "records a payment inside add_payment / bank posting",
    "bank.posting.post": "records a bank payment inside bank load / confirm / split",
    "sales.attachments.attach": "files a document inside attach_file / documents.render",
    "outreach.mail_templates.recipient_context": "renders a recipient already checked by "
                                                 "preview / test_send / send",
    # harmless for everyone
    "team.auth.change_password": "one's own password, and the old one is needed",
    "outreach.mailing.reply_address": "the actor's own e-mail address",
    "organizer.tasks.assignees": "the names of active colleagues, to assign a task to",
    "sales.catalogue.list_items": "the price list is the same for every role",
    "sales.catalogue.get": "the price list is the same for every role",
    "sales.catalogue.export_xlsx": "the price list is the same for every role",
    "sales.doc_templates.list_templates": "the company's document forms, used by every role",
    "sales.doc_templates.template_bytes": "the company's document forms, used by every role",
    "sales.writing.new_sale_defaults": "the defaults of an empty form; the client is "
                                       "checked when the sale is saved",
}


def _statement(o: Office, purpose: str, inn: str = "7736207543", kop: int = 1000) -> bytes:
    """A statement with one payment of ``kop`` to the company's account (set here by the
    administrator) from the payer with ``inn``."""
    from clientplus_core.sales import company

    rng = random.Random(11)
    own = bank_gen.party(rng, "ООО «Мы»", "7702070139", "770201001", bank_gen.BANKS[0])
    company.save(o.store, _admin(o), {"name": own.name, "inn": own.inn, "bik": own.bik,
                                      "account": own.account})
    payer = bank_gen.party(rng, "ООО «Плательщик»", inn)
    return bank_gen.render([own], [bank_gen.Payment("7", date(2026, 11, 5), kop, payer, own,
                                                    purpose)])


def _bank_paid(o: Office) -> bool:
    """The administrator loads a payment from manager2's client for its sale."""
    bank_imports.load(o.store, _admin(o), [("kl_to_1c.txt", _statement(
        o, f"Оплата по заявке {o['sale_number']}", OTHER_INN))])
    with o.store.read() as conn:  # loaded now, or by the first call of the recipe
        return conn.execute("SELECT 1 FROM bank_payments WHERE state = 'matched'"
                            " AND client_id = ?", (o["client"],)).fetchone() is not None


def _waiting(o: Office) -> int:
    """A payment from an unknown payer, loaded by the administrator, waiting for review."""
    bank_imports.load(o.store, _admin(o), [("kl_to_1c.txt", _statement(o, "Аванс"))])
    with o.store.read() as conn:  # loaded now, or by the first call of the recipe
        return int(conn.execute("SELECT id FROM bank_payments WHERE state = 'review'"
                                " ORDER BY id DESC").fetchone()[0])


def _in_snapshot(o: Office, a: Actor) -> bool:
    with analytics.snapshot(o.store, a) as snap:
        return o["client"] in snap.query("SELECT id FROM clients")["id"].to_list()


def _task_version(o: Office) -> int:
    return int(tasks.get(o.store, _admin(o), o["task"])["version"])


# --- the tests ----------------------------------------------------------------------------


def _takes_actor(fn: Callable[..., Any]) -> bool:
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that does not resolve: judge by the name alone
        hints = {}
    return any(p.name == "actor" or hints.get(p.name) in (Actor, Actor | None)
               for p in inspect.signature(fn).parameters.values())


def actor_functions() -> list[str]:
    """``"module.function"`` (without ``clientplus_core.``) of every public function
    defined in ``clientplus_core`` that takes an actor."""
    found = []
    for info in pkgutil.walk_packages(clientplus_core.__path__, "clientplus_core."):
        mod = importlib.import_module(info.name)
        for name, fn in vars(mod).items():
            if (not name.startswith("_") and inspect.isfunction(fn)
                    and fn.__module__ == mod.__name__ and _takes_actor(fn)):
                found.append(f"{mod.__name__.removeprefix('clientplus_core.')}.{name}")
    return sorted(found)


def test_every_function_taking_an_actor_has_a_recipe_or_a_reason() -> None:
    found = set(actor_functions())
    assert len(found) > 150, "the enumeration found too little: is it still looking?"
    missing = found - set(RECIPES) - set(EXEMPT)
    assert not missing, f"add a recipe to RECIPES (or a reason to EXEMPT) for: {sorted(missing)}"
    stale = (set(RECIPES) | set(EXEMPT)) - found
    assert not stale, f"no such function any more: {sorted(stale)}"
    assert not set(RECIPES) & set(EXEMPT)
    assert all(r.viewer or r.other for r in RECIPES.values())


CASES = [(name, check) for name, r in RECIPES.items()
         for check in ("viewer", "other") if getattr(r, check)]


@pytest.mark.parametrize("name, check", CASES, ids=[f"{n}-{c}" for n, c in CASES])
def test_refused_outside_the_actors_rights(name: str, check: str, office: Office) -> None:
    recipe = RECIPES[name]
    denied, allowed = (("viewer", "admin") if check == "viewer" else ("manager1", "manager2"))
    try:
        result = recipe.call(office, office.actors[denied])
    except (AccessDenied, NotFound):
        result = False
    except ValidationError as exc:  # a form's field naming a record outside the scope
        if not all("не найден" in m for m in exc.errors.values()):
            raise
        result = False
    assert result is False, f"{denied} got through {name}: {result!r}"[:500]
    result = recipe.call(office, office.actors[allowed])
    assert result is not False, f"{allowed} should be able to use {name}"
