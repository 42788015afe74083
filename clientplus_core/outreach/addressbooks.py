"""Address books: named lists of clients built from criteria, used by mailings
(:func:`email_recipients`) and phone lists (:mod:`clientplus_core.outreach.phones`).

A book is ``live`` (the criteria are evaluated each time it is used) or a
``snapshot`` (the client ids found at creation are frozen; «Обновить снимок»
re-evaluates them: :func:`refresh_snapshot`). Manual additions and removals are
kept apart from the criteria (``address_book_members`` with mode ``include`` /
``exclude``) so they survive every re-evaluation.

The criteria (:mod:`clientplus_core.outreach.criteria`) are evaluated within the
acting user's scope: a manager's book never yields another manager's client,
whoever created the book.

Recipients (:func:`email_recipients`): the client's e-mail, its contacts' e-mails or
both (``channels``), deduplicated by address (first wins: clients in id order, the
client's own address before its contacts'); invalid addresses, opt-outs and addresses
without consent (:mod:`clientplus_core.outreach.consent`) are skipped and reported with a reason.
In a birthday book, a client where somebody celebrates this month (a contact, or the
person client itself) is written to and phoned through them only
(:func:`only_celebrants`), never through a colleague; a client without one (e.g.
added by hand) keeps all its addresses.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from clientplus_core.base.errors import ConflictError, NotFound, ValidationError
from clientplus_core.base.textnorm import clean_line
from clientplus_core.outreach import consent
from clientplus_core.outreach.criteria import (
    CONTACT_BIRTHDAY,
    PERSON_BIRTHDAY,
    SALE_CRITERIA,
    describe,
    evaluate,
    normalise_criteria,
    sale_condition,
    today,
)
from clientplus_core.records.visibility import visible_clients
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

KINDS: dict[str, tuple[str, str]] = {"live": ("Живая (пересчитывается)", "Live"),
                                     "snapshot": ("Снимок (зафиксирована)", "Snapshot")}
CHANNELS: dict[str, tuple[str, str]] = {
    "both": ("E-mail клиента и контактов", "Client and contacts"),
    "client": ("Только e-mail клиента", "Client's e-mail only"),
    "contacts": ("Только e-mail контактов", "Contacts' e-mails only")}
REASON_INVALID = "неверный адрес"
REASON_NO_CONSENT = "нет согласия"
REASON_DUPLICATE = "дубль"


@dataclass(frozen=True)
class Recipient:
    client_id: int
    contact_id: int | None
    email: str             # normalised (lower-case), validated
    name: str              # display name for To: (the contact's name, else the client's name)
    sale_id: int | None    # for sale-based criteria: the client's latest matching sale


@dataclass(frozen=True)
class Skipped:
    client_id: int
    contact_id: int | None
    value: str
    reason: str            # Russian, user-facing


# --- books ---------------------------------------------------------------------------------


def _clean_name(name: str) -> str:
    text = clean_line(name)[:120]
    if not text:
        raise ValidationError({"name": "Название книги: обязательное поле"})
    return text


def _visible(actor: Actor, alias: str = "b") -> tuple[str, list[object]]:
    return ("1 = 1", []) if actor.sees_everything else (f"{alias}.owner_id = ?", [actor.id])


_BOOK_SQL = (
    "SELECT b.*, coalesce(nullif(u.full_name, ''), u.login, '') AS owner_name,"
    " (SELECT count(*) FROM address_book_members m WHERE m.book_id = b.id AND m.mode ="
    " 'include') AS included, (SELECT count(*) FROM address_book_members m WHERE"
    " m.book_id = b.id AND m.mode = 'exclude') AS excluded, (SELECT count(*) FROM"
    " address_book_members m WHERE m.book_id = b.id AND m.mode = 'snapshot') AS frozen"
    " FROM address_books b LEFT JOIN users u ON u.id = b.owner_id")


def _book(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["criteria"] = json.loads(d.get("criteria") or "{}")
    d["owner"] = d.get("owner_name", "")
    d["counts"] = {"included": d.get("included", 0), "excluded": d.get("excluded", 0),
                   "snapshot": d.get("frozen", 0)}
    return d


def list_books(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Books the actor may use (their own; everyone's for admin, head, viewer): id,
    name, kind, criteria, channels, owner, counts (manual includes / excludes,
    frozen clients)."""
    require(actor, "client.read")
    cond, args = _visible(actor)
    with store.read() as conn:
        return [_book(r) for r in conn.execute(
            f"{_BOOK_SQL} WHERE {cond} ORDER BY b.name, b.id", args)]


def get_book(store: Store, actor: Actor, book_id: int) -> dict[str, Any]:
    require(actor, "client.read")
    cond, args = _visible(actor)
    with store.read() as conn:
        row = conn.execute(f"{_BOOK_SQL} WHERE b.id = ? AND {cond}",
                           [int(book_id), *args]).fetchone()
    if row is None:
        raise NotFound(f"Адресная книга №{book_id} не найдена")
    return _book(row)


def find_book(store: Store, actor: Actor, name: str) -> dict[str, Any]:
    """A book by name (the actor's own first)."""
    wanted = _clean_name(name)
    found = [b for b in list_books(store, actor) if b["name"] == wanted]
    found.sort(key=lambda b: b["owner_id"] != actor.id)
    if not found:
        raise NotFound(f"Адресная книга «{name}» не найдена")
    return found[0]


def _editable(store: Store, actor: Actor, book_id: int) -> dict[str, Any]:
    require(actor, "addressbook.manage")
    book = get_book(store, actor, book_id)
    if book["owner_id"] != actor.id and actor.role not in ("admin", "head"):
        raise NotFound(f"Адресная книга №{book_id} не найдена")
    return book


def _check_kind_channels(kind: str, channels: str) -> None:
    errors = {}
    if kind not in KINDS:
        errors["kind"] = "Вид книги: живая или снимок"
    if channels not in CHANNELS:
        errors["channels"] = "Адреса: клиента, контактов или обоих"
    if errors:
        raise ValidationError(errors)


def _freeze(conn: sqlite3.Connection, book_id: int, ids: Iterable[int]) -> None:
    ts = now_iso()
    conn.execute("DELETE FROM address_book_members WHERE book_id = ? AND mode = 'snapshot'",
                 (book_id,))
    conn.executemany("INSERT INTO address_book_members (book_id, client_id, mode, created_at)"
                     " VALUES (?, ?, 'snapshot', ?)", ((book_id, i, ts) for i in ids))


def create_book(store: Store, actor: Actor, name: str, criteria: dict[str, Any],
                kind: str = "live", channels: str = "both") -> dict[str, Any]:
    """Save a new book; a snapshot freezes the clients matching now."""
    require(actor, "addressbook.manage")
    name = _clean_name(name)
    _check_kind_channels(kind, channels)
    crit = normalise_criteria(criteria)
    frozen = evaluate(store, actor, crit) if kind == "snapshot" else []
    ts = now_iso()
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM address_books WHERE owner_id = ? AND name = ?",
                        (actor.id, name)).fetchone():
            raise ValidationError({"name": f"Название книги: «{name}» уже есть"})
        cur = conn.execute(
            "INSERT INTO address_books (name, kind, criteria, channels, owner_id, snapshot_at,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (name, kind, json.dumps(crit, ensure_ascii=False), channels, actor.id,
             ts if kind == "snapshot" else None, ts, ts))
        book_id = int(cur.lastrowid or 0)
        if kind == "snapshot":
            _freeze(conn, book_id, frozen)
        audit.record(conn, actor, "addressbook.create", "address_book", book_id, None,
                     f"{name}: {describe(crit)}", {"criteria": [None, crit], "kind": [None, kind]})
    return get_book(store, actor, book_id)


def update_book(store: Store, actor: Actor, book_id: int, *, version: int,
                name: str | None = None, criteria: dict[str, Any] | None = None,
                channels: str | None = None) -> dict[str, Any]:
    """Rename, change criteria or channels (a snapshot keeps its frozen clients until
    :func:`refresh_snapshot`)."""
    book = _editable(store, actor, book_id)
    if book["version"] != version:
        raise ConflictError("Книгу уже изменил другой пользователь — обновите страницу")
    new: dict[str, Any] = {"name": _clean_name(name) if name is not None else book["name"],
           "criteria": normalise_criteria(criteria) if criteria is not None else book["criteria"],
           "channels": channels or book["channels"]}
    _check_kind_channels(book["kind"], new["channels"])
    with store.write() as conn:
        clash = conn.execute("SELECT 1 FROM address_books WHERE owner_id = ? AND name = ? AND"
                             " id <> ?", (book["owner_id"], new["name"], book_id)).fetchone()
        if clash:
            raise ValidationError({"name": f"Название книги: «{new['name']}» уже есть"})
        cur = conn.execute(
            "UPDATE address_books SET name = ?, criteria = ?, channels = ?, updated_at = ?,"
            " version = version + 1 WHERE id = ? AND version = ?",
            (new["name"], json.dumps(new["criteria"], ensure_ascii=False), new["channels"],
             now_iso(), book_id, version))
        if cur.rowcount != 1:
            raise ConflictError("Книгу уже изменил другой пользователь — обновите страницу")
        audit.record(conn, actor, "addressbook.update", "address_book", book_id, None,
                     new["name"], audit.diff(book, new))
    return get_book(store, actor, book_id)


def delete_book(store: Store, actor: Actor, book_id: int) -> None:
    """Delete a book (its owner, the head or admin); refused while a mailing that is
    not deleted uses it (the mailing names its book)."""
    book = _editable(store, actor, book_id)
    with store.write() as conn:
        used = conn.execute("SELECT count(*) FROM mailings WHERE book_id = ? AND deleted_at"
                            " IS NULL", (book_id,)).fetchone()[0]
        if used:
            raise ValidationError({"book": f"Книгу «{book['name']}» использует рассылок: {used}"
                                           " — сначала удалите их или выберите в них другую"
                                           " книгу"})
        conn.execute("UPDATE mailings SET book_id = NULL WHERE book_id = ?", (book_id,))
        conn.execute("DELETE FROM address_book_members WHERE book_id = ?", (book_id,))
        conn.execute("DELETE FROM address_books WHERE id = ?", (book_id,))
        audit.record(conn, actor, "addressbook.delete", "address_book", book_id, None,
                     book["name"])


def refresh_snapshot(store: Store, actor: Actor, book_id: int) -> int:
    """«Обновить снимок»: re-evaluate the criteria and freeze the result (manual
    additions and removals stay). Returns the number of frozen clients."""
    book = _editable(store, actor, book_id)
    if book["kind"] != "snapshot":
        raise ValidationError({"kind": "Обновить можно только книгу-снимок"})
    ids = evaluate(store, actor, book["criteria"])
    with store.write() as conn:
        _freeze(conn, book_id, ids)
        conn.execute("UPDATE address_books SET snapshot_at = ?, updated_at = ?, version ="
                     " version + 1 WHERE id = ?", (now_iso(), now_iso(), book_id))
        audit.record(conn, actor, "addressbook.refresh", "address_book", book_id, None,
                     f"{book['name']}: {len(ids)} клиент(ов)")
    return len(ids)


def set_manual(store: Store, actor: Actor, book_id: int, client_ids: Iterable[int],
               mode: str) -> int:
    """Add clients by hand (``mode="include"``), remove them by hand (``"exclude"``)
    or drop the manual mark (``"clear"``). Only clients the actor may see are
    touched; returns how many were."""
    if mode not in ("include", "exclude", "clear"):
        raise ValidationError({"mode": "include, exclude или clear"})
    book = _editable(store, actor, book_id)
    ts = now_iso()
    with store.write() as conn:
        ids = visible_clients(conn, actor, client_ids)
        for cid in ids:
            conn.execute("DELETE FROM address_book_members WHERE book_id = ? AND client_id = ?"
                         " AND mode IN ('include', 'exclude')", (book_id, cid))
            if mode != "clear":
                conn.execute("INSERT INTO address_book_members (book_id, client_id, mode,"
                             " created_at) VALUES (?, ?, ?, ?)", (book_id, cid, mode, ts))
        if ids:
            audit.record(conn, actor, f"addressbook.{mode}", "address_book", book_id, None,
                         f"{book['name']}: {len(ids)} клиент(ов)", {"clients": ids[:100]})
    return len(ids)


def add_clients(store: Store, actor: Actor, book_id: int, client_ids: Iterable[int]) -> int:
    return set_manual(store, actor, book_id, client_ids, "include")


def remove_clients(store: Store, actor: Actor, book_id: int, client_ids: Iterable[int]) -> int:
    return set_manual(store, actor, book_id, client_ids, "exclude")


def manual_members(store: Store, actor: Actor, book_id: int) -> list[dict[str, Any]]:
    """The book's manual additions and removals (within the actor's scope)."""
    get_book(store, actor, book_id)
    scope, args = client_scope(actor)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT m.client_id, m.mode, m.created_at, c.name FROM address_book_members m"
            f" JOIN clients c ON c.id = m.client_id WHERE m.book_id = ? AND m.mode IN"
            f" ('include', 'exclude') AND {scope} ORDER BY m.mode, c.name", [book_id, *args])]


def client_ids(store: Store, actor: Actor, book_id: int | Mapping[str, Any]) -> list[int]:
    """The book's clients, sorted: live — criteria evaluated now, plus manual
    additions, minus manual removals; snapshot — the frozen list (plus / minus the
    manual ones). Always within the actor's scope. ``book_id`` may be the book as
    :func:`get_book` returned it (read once by a caller that needs it too)."""
    book = get_book(store, actor, book_id) if isinstance(book_id, int) else book_id
    book_id = int(book["id"])
    scope, args = client_scope(actor)
    with store.read() as conn:
        modes = "('snapshot', 'include')" if book["kind"] == "snapshot" else "('include')"
        base = [r[0] for r in conn.execute(
            f"SELECT c.id FROM clients c WHERE c.deleted_at IS NULL AND {scope} AND c.id IN"
            f" (SELECT client_id FROM address_book_members WHERE book_id = ? AND mode IN"
            f" {modes})", [*args, book_id])]
        excluded = {r[0] for r in conn.execute(
            "SELECT client_id FROM address_book_members WHERE book_id = ? AND mode ="
            " 'exclude'", (book_id,))}
    ids = set(base)
    if book["kind"] == "live":
        ids.update(evaluate(store, actor, book["criteria"]))
    return sorted(ids - excluded)


def latest_sales(store: Store, criteria: Mapping[str, Any], ids: Iterable[int],
                 day: date | None = None) -> dict[int, int]:
    """For a book with a sale-based criterion: each client's latest matching sale
    (by date, then id) — ``{client_id: sale_id}``; empty otherwise."""
    key = next((k for k in SALE_CRITERIA if k in criteria), None)
    if key is None:
        return {}
    wanted = set(ids)
    src, where, args = sale_condition(key, criteria[key], day or today())
    out: dict[int, int] = {}
    with store.read() as conn:
        for cid, sid in conn.execute(f"SELECT s.client_id, s.id FROM {src} WHERE {where}"
                                     " ORDER BY s.date, s.id", args):
            if cid in wanted:
                out[cid] = sid
    return out


# --- recipients ----------------------------------------------------------------------------


def load_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    """Put ``ids`` into the connection's temporary table ``temp.ab_ids`` so that
    100,000 clients are read with one join, not 100,000 queries."""
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS ab_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.ab_ids")
    conn.executemany("INSERT OR IGNORE INTO temp.ab_ids (id) VALUES (?)", ((i,) for i in ids))


def tuples(conn: sqlite3.Connection, sql: str,
           args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
    """Rows as plain tuples (several times faster than ``sqlite3.Row`` for big reads)."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur.execute(sql, list(args)).fetchall()


def birthday_month(criteria: Mapping[str, Any], day: date | None = None) -> str | None:
    """The month ("MM") whose celebrants a book with ``birthday_month`` addresses,
    ``None`` for any other book."""
    return f"{(day or today()).month:02d}" if criteria.get("birthday_month") else None


def only_celebrants(conn: sqlite3.Connection, cands: list[tuple[Any, ...]], month: str
                    ) -> list[tuple[Any, ...]]:
    """Candidates ``(client_id, contact_id | None, …)`` of the clients in
    ``temp.ab_ids`` narrowed for a birthday book: where somebody celebrates in
    ``month`` — a contact by its birthday, a person client by its ``birth_date`` —
    only their own addresses remain (none, if they have none: a greeting is not sent
    to a colleague); other clients keep all theirs."""
    persons = {r[0] for r in tuples(
        conn, "SELECT c.id FROM temp.ab_ids t JOIN clients c ON c.id = t.id WHERE"
        f" {PERSON_BIRTHDAY}", [month])}
    found = tuples(
        conn, "SELECT k.id, k.client_id FROM temp.ab_ids t JOIN contacts k ON k.client_id ="
        f" t.id WHERE {CONTACT_BIRTHDAY}", [month])
    people = {r[0] for r in found}
    celebrating = persons | {r[1] for r in found}
    return [c for c in cands if c[0] not in celebrating
            or (c[1] in people if c[1] is not None else c[0] in persons)]


# candidates in the order recipients are chosen: clients by id, the client's own
# address first, then its contacts by id
_EMAIL_CANDIDATES = """SELECT c.id, NULL, c.email, c.name, 0, 0, lower(trim(c.email)),
    e.status, e.date, e.source FROM temp.ab_ids t JOIN clients c ON c.id = t.id
    LEFT JOIN consents e ON e.channel = 'email' AND e.value = lower(trim(c.email))
    WHERE c.email <> '' AND {client_on}
UNION ALL
SELECT c.id, k.id, k.email, coalesce(nullif(k.name, ''), c.name), k.consent_email, 1,
    lower(trim(k.email)), e.status, e.date, e.source
    FROM temp.ab_ids t JOIN contacts k ON k.client_id = t.id JOIN clients c ON c.id = t.id
    LEFT JOIN consents e ON e.channel = 'email' AND e.value = lower(trim(k.email))
    WHERE k.deleted_at IS NULL AND k.email <> '' AND {contacts_on}
ORDER BY 1, 6, 2"""


def entries_from_join(conn: sqlite3.Connection, channel: str, keys: list[str | None],
                      cands: list[tuple[Any, ...]], joined_key: int, status_col: int
                      ) -> dict[str, consent.Entry]:
    """Register entries of the candidates: taken from the SQL join where SQLite's key
    (``joined_key`` column) equals Python's normalised key, looked up for the rest
    (e.g. a non-ASCII address that SQLite's ``lower()`` leaves as it is)."""
    out: dict[str, consent.Entry] = {}
    missing: set[str] = set()
    for key, c in zip(keys, cands, strict=True):
        if key is None:
            continue
        if c[joined_key] == key:
            if c[status_col] is not None:
                out[key] = (c[status_col], c[status_col + 1], c[status_col + 2])
        else:
            missing.add(key)
    if missing:
        out.update(consent.statuses_for(conn, channel, missing))
    return out


def _email_key(raw: str, cache: dict[str, str | None]) -> str | None:
    if raw in cache:
        return cache[raw]
    try:
        norm: str | None = consent.normalise_value("email", raw)
    except ValueError:
        norm = None
    cache[raw] = norm
    return norm


def recipients_for(store: Store, ids: list[int], channels: str = "both",
                   sale_ids: Mapping[int, int] | None = None, birthday: str | None = None
                   ) -> tuple[list[Recipient], list[Skipped]]:
    """E-mail recipients of the clients ``ids`` (already scoped by the caller);
    ``birthday`` ("MM"): a birthday book's month (:func:`only_celebrants`)."""
    sale_ids = sale_ids or {}
    sql = _EMAIL_CANDIDATES.format(client_on="1" if channels in ("client", "both") else "0",
                                   contacts_on="1" if channels in ("contacts", "both") else "0")
    with store.read() as conn:
        load_ids(conn, ids)
        cands = tuples(conn, sql)
        if birthday:
            cands = only_celebrants(conn, cands, birthday)
        cache: dict[str, str | None] = {}
        keys = [_email_key(c[2].strip(), cache) for c in cands]
        entries = entries_from_join(conn, "email", keys, cands, 6, 7)
    flagged = {key for key, cand in zip(keys, cands, strict=True) if key and cand[4]}
    recipients: list[Recipient] = []
    skipped: list[Skipped] = []
    seen: set[str] = set()
    for key, (cid, kid, raw, name, *_rest) in zip(keys, cands, strict=True):
        if key is None:
            skipped.append(Skipped(cid, kid, raw, REASON_INVALID))
            continue
        entry = entries.get(key)
        if entry is not None and entry[0] == "optout":
            skipped.append(Skipped(cid, kid, key, consent.optout_text(entry[1], entry[2])))
        elif entry is None and key not in flagged:
            skipped.append(Skipped(cid, kid, key, REASON_NO_CONSENT))
        elif key in seen:
            skipped.append(Skipped(cid, kid, key, REASON_DUPLICATE))
        else:
            seen.add(key)
            recipients.append(Recipient(cid, kid, key, name, sale_ids.get(cid)))
    return recipients, skipped


def email_recipients(store: Store, actor: Actor, book_id: int
                     ) -> tuple[list[Recipient], list[Skipped]]:
    """The book's e-mail recipients, deduplicated by address; opt-outs, addresses
    without consent and invalid ones are skipped with a reason."""
    book = get_book(store, actor, book_id)
    ids = client_ids(store, actor, book)
    return recipients_for(store, ids, book["channels"],
                          latest_sales(store, book["criteria"], ids),
                          birthday_month(book["criteria"]))


def preview(store: Store, actor: Actor, criteria: Mapping[str, Any], channels: str = "both"
            ) -> tuple[list[Recipient], list[Skipped]]:
    """Recipients of unsaved criteria (the «Предпросмотр» before saving a book)."""
    _check_kind_channels("live", channels)
    crit = normalise_criteria(criteria)
    ids = evaluate(store, actor, crit)
    return recipients_for(store, ids, channels, latest_sales(store, crit, ids),
                          birthday_month(crit))


def client_names(store: Store, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    out: dict[int, str] = {}
    with store.read() as conn:
        for k in range(0, len(wanted), 900):
            chunk = wanted[k:k + 900]
            out.update((r[0], r[1]) for r in conn.execute(
                f"SELECT id, name FROM clients WHERE id IN ({','.join('?' * len(chunk))})",
                chunk))
    return out


RECIPIENT_HEADERS = ["E-mail", "Имя", "Клиент", "Клиент №", "Контакт №", "Продажа №"]
SKIPPED_HEADERS = ["Адрес", "Причина", "Клиент", "Клиент №", "Контакт №"]


def recipient_rows(store: Store, recipients: list[Recipient]) -> list[list[object]]:
    names = client_names(store, (r.client_id for r in recipients))
    return [[r.email, r.name, names.get(r.client_id, ""), r.client_id, r.contact_id, r.sale_id]
            for r in recipients]


def skipped_rows(store: Store, skipped: list[Skipped]) -> list[list[object]]:
    names = client_names(store, (s.client_id for s in skipped))
    return [[s.value, s.reason, names.get(s.client_id, ""), s.client_id, s.contact_id]
            for s in skipped]


def recipients_xlsx(store: Store, actor: Actor, book_id: int) -> bytes:
    """The book's recipients as .xlsx (and, below them, nothing else: the skipped
    list has its own export, :func:`skipped_xlsx`)."""
    from clientplus_core.clients.export import rows_to_xlsx

    recipients, _ = email_recipients(store, actor, book_id)
    return rows_to_xlsx(RECIPIENT_HEADERS, recipient_rows(store, recipients),
                        sheet="Получатели")


def skipped_xlsx(store: Store, skipped: list[Skipped]) -> bytes:
    from clientplus_core.clients.export import rows_to_xlsx

    return rows_to_xlsx(SKIPPED_HEADERS, skipped_rows(store, skipped), sheet="Пропущены")
