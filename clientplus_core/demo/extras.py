"""Demo extras: consent-register entries, a few Word documents, organizer tasks, and
an address book with a draft payment reminder, so those pages are not empty."""

from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from clientplus_core.store.db import Store
from clientplus_core.team import users

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


# which document a sale at a stage has: (kind, status code)
DEMO_DOCUMENTS = (("offer", "offer_sent"), ("contract", "contract"), ("invoice", "invoiced"),
                  ("act", "shipped"))


def generate_documents(store: Store, per_kind: int = 3) -> int:
    """A few Word documents made the normal way (numbered, dated the sale's day, saved
    to the sale's files): an offer for offers sent, a contract for signed contracts,
    an invoice for invoiced sales, an act for shipped ones — the latest ``per_kind``
    of each — so the sale cards, their files and the search show what documents look
    like. Only when there are no documents yet. Returns once their text is extracted
    (in the background, as for any document), so the search finds them at once."""
    from clientplus_core.clients import text_jobs
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
    text_jobs.wait(store)
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
    from clientplus_core.organizer import task_time, tasks

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
    day0 = anchor or task_time.local_today(store)
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
