"""The consent / opt-out register (152-ФЗ «О персональных данных», 38-ФЗ «О рекламе»).

One current entry per ``(channel, value)``: channel ``"email"`` or ``"phone"``, the
value normalised (an e-mail lower-cased, a phone in E.164 with region RU), status
``consent`` or ``optout``, the date, where it came from (source), a note, an optional
link to a client and/or contact, and who recorded it. Every change is written to the
audit log (entity ``consent``), which is the entry's history.

The rule every mailing and phone list applies (:func:`is_allowed`): an address or a
phone may be used only if it has a consent entry, or it belongs to a contact whose
``consent_email`` / ``consent_sms`` flag is set — and an opt-out always wins.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from clientplus_core.base.errors import AccessDenied, ConflictError, NotFound, ValidationError
from clientplus_core.base.textnorm import clean, like_contains
from clientplus_core.records.validation import check_email, check_phone, split_phone
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

CHANNELS: dict[str, tuple[str, str]] = {"email": ("E-mail", "E-mail"),
                                        "phone": ("Телефон", "Phone")}
STATUSES: dict[str, tuple[str, str]] = {"consent": ("Согласие", "Consent"),
                                        "optout": ("Отказ", "Opt-out")}
SOURCES = ("форма на сайте", "письмо", "ссылка отписки", "звонок", "договор", "импорт",
           "вручную")
HEADERS = ["Канал", "Адрес / телефон", "Статус", "Дата", "Источник", "Примечание",
           "Клиент", "Контакт", "Кто записал", "Изменено"]
_EMAIL_FAST = re.compile(r"^[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}$")


def normalise_value(channel: str, value: str) -> str:
    """The register's key for a value: an e-mail lower-cased, a phone in E.164 (an
    extension dropped: a consent is given for the number).
    Raises ``ValueError`` (Russian message) for an invalid value or channel."""
    if channel == "email":
        v = (value or "").strip().lower()
        if not v:
            raise ValueError("адрес e-mail не указан")
        if _EMAIL_FAST.match(v):
            return v
        return check_email(v).lower()
    if channel == "phone":
        if not (value or "").strip():
            raise ValueError("номер телефона не указан")
        return split_phone(check_phone(value))[0]  # consent is the number's, not an extension's
    raise ValueError(f"канал «{channel}»: e-mail или телефон")


def _try_norm(channel: str, value: str) -> str | None:
    try:
        return normalise_value(channel, value)
    except ValueError:
        return None


def lookup(conn: sqlite3.Connection, channel: str, value: str) -> sqlite3.Row | None:
    """The current entry for an already normalised value, or ``None``."""
    return conn.execute("SELECT * FROM consents WHERE channel = ? AND value = ?",
                        (channel, value)).fetchone()


def is_allowed(conn: sqlite3.Connection, channel: str, value: str,
               contact_flag: bool = False) -> bool:
    """Whether ``value`` may be used on ``channel``: an opt-out entry → never; a
    consent entry → yes; no entry → only when ``contact_flag`` (the contact's
    ``consent_email`` / ``consent_sms``) is set. An invalid value is never allowed."""
    norm = _try_norm(channel, value)
    if norm is None:
        return False
    row = lookup(conn, channel, norm)
    if row is not None:
        return bool(row["status"] == "consent")
    return bool(contact_flag)


Entry = tuple[str, str, str]   # (status, date, source) of a register entry


def statuses_for(conn: sqlite3.Connection, channel: str,
                 values: Iterable[str]) -> dict[str, Entry]:
    """Current entries for many normalised values at once: ``{value: (status, date,
    source)}``."""
    vals = sorted(set(values))
    out: dict[str, Entry] = {}
    cur = conn.cursor()
    cur.row_factory = None
    for i in range(0, len(vals), 900):
        chunk = vals[i:i + 900]
        for value, status, day, source in cur.execute(
                "SELECT value, status, date, source FROM consents WHERE channel = ? AND value IN"
                f" ({','.join('?' * len(chunk))})", [channel, *chunk]):
            out[value] = (status, day, source)
    return out


def all_statuses(conn: sqlite3.Connection, channel: str) -> dict[str, Entry]:
    """Every entry of a channel, ``{value: (status, date, source)}`` (for big lists:
    one scan instead of a lookup per address)."""
    cur = conn.cursor()
    cur.row_factory = None
    return {v: (st, d, src) for v, st, d, src in cur.execute(
        "SELECT value, status, date, source FROM consents WHERE channel = ?", (channel,))}


def entries_for(conn: sqlite3.Connection, channel: str, values: set[str]) -> dict[str, Entry]:
    """:func:`statuses_for` for a few values, :func:`all_statuses` for many."""
    return all_statuses(conn, channel) if len(values) > 5000 else \
        statuses_for(conn, channel, values)


def optout_reason(row: Mapping[str, Any] | sqlite3.Row) -> str:
    """The user-facing skip reason for an opt-out entry."""
    return optout_text(row["date"], row["source"])


def optout_text(day: str, source: str) -> str:
    """«отказ от рассылки (дата, источник)»."""
    src = f", {source}" if source else ""
    return f"отказ от рассылки ({_ru_date(day)}{src})"


def _ru_date(iso: str) -> str:
    try:
        return date.fromisoformat(str(iso)[:10]).strftime("%d.%m.%Y")
    except ValueError:
        return str(iso)


def _parse_day(value: object) -> str:
    if value in (None, ""):
        return date.today().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    s = str(value).strip()[:10]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            from datetime import datetime

            return datetime.strptime(s, fmt).date().isoformat()
        except ValueError:
            continue
    raise ValueError(s)


def normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate an entry's fields; ``ValidationError`` names each bad field."""
    errors: dict[str, str] = {}
    channel = str(data.get("channel") or "").strip().lower()
    channel = {"e-mail": "email", "почта": "email", "телефон": "phone", "sms": "phone",
               "смс": "phone"}.get(channel, channel)
    out: dict[str, Any] = {"channel": channel}
    if channel not in CHANNELS:
        errors["channel"] = "Канал: e-mail или телефон"
    try:
        out["value"] = normalise_value(channel, str(data.get("value") or "")) \
            if channel in CHANNELS else ""
    except ValueError as exc:
        errors["value"] = f"Адрес / телефон: {exc}"
    status = str(data.get("status") or "consent").strip().lower()
    status = {"согласие": "consent", "отказ": "optout", "отписка": "optout",
              "opt-out": "optout"}.get(status, status)
    if status not in STATUSES:
        errors["status"] = "Статус: согласие или отказ"
    out["status"] = status
    try:
        out["date"] = _parse_day(data.get("date"))
    except ValueError:
        errors["date"] = "Дата: вида 31.12.2026 или 2026-12-31"
    try:
        out["source"] = clean(data.get("source"), 100)
        out["note"] = clean(data.get("note"), 1000)
    except ValueError as exc:
        errors["note"] = f"Примечание: {exc}"
    for key in ("client_id", "contact_id"):
        v = data.get(key)
        try:
            out[key] = int(v) if v not in (None, "", 0) else None
        except (TypeError, ValueError):
            errors[key] = f"{key}: номер записи"
    if errors:
        raise ValidationError(errors)
    return out


def _check_links(conn: sqlite3.Connection, actor: Actor, values: dict[str, Any]) -> None:
    if values.get("contact_id"):
        cond, args = client_scope(actor)
        row = conn.execute("SELECT t.client_id FROM contacts t JOIN clients c ON c.id ="
                           f" t.client_id WHERE t.id = ? AND t.deleted_at IS NULL AND {cond}",
                           [values["contact_id"], *args]).fetchone()
        if row is None:  # absent or outside the scope: the same answer, no client number
            raise NotFound(f"Контакт №{values['contact_id']} не найден")
        values["client_id"] = values.get("client_id") or row["client_id"]
    if values.get("client_id"):
        cond, args = client_scope(actor)
        row = conn.execute(f"SELECT 1 FROM clients c WHERE c.id = ? AND {cond}",
                           [values["client_id"], *args]).fetchone()
        if row is None:
            raise NotFound(f"Клиент №{values['client_id']} не найден")


def _auto_link(conn: sqlite3.Connection, values: dict[str, Any],
               actor: Actor | None = None) -> None:
    """Link a new entry given without a client to the contact or client that has
    this address or phone (a client in ``actor``'s scope first), so that the entry
    follows that client's scope: a manager does not see other managers' clients'
    addresses. A manager whose address belongs only to another employee's client is
    refused (:func:`_refuse_foreign`), as for any record outside the scope."""
    if values.get("client_id") or values.get("contact_id"):
        return
    v = values["value"]
    scoped = actor is not None and not actor.sees_everything
    for in_scope in ((True, False) if scoped else (False,)):
        cond, args = client_scope(actor, "c") if in_scope and actor else ("1 = 1", [])
        if values["channel"] == "email":
            client_sql = ("SELECT c.id FROM clients c WHERE c.email = ? COLLATE NOCASE AND"
                          f" c.deleted_at IS NULL AND {cond} ORDER BY c.id LIMIT 1", [v, *args])
            contact_sql = ("SELECT t.id, t.client_id FROM contacts t JOIN clients c ON c.id ="
                           " t.client_id WHERE t.email = ? COLLATE NOCASE AND t.deleted_at IS"
                           f" NULL AND {cond} ORDER BY t.id LIMIT 1", [v, *args])
        else:
            # the number itself or the number with an extension («;ext=…», which sorts
            # between v + ";" and v + "<"): range conditions the phone indexes serve
            ext = [v + ";", v + "<"]
            client_sql = ("SELECT c.id FROM clients c WHERE (c.phone = ? OR (c.phone > ? AND"
                          " c.phone < ?)) AND c.deleted_at IS NULL"
                          f" AND {cond} ORDER BY c.id LIMIT 1", [v, *ext, *args])
            contact_sql = ("SELECT t.id, t.client_id FROM contacts t JOIN clients c ON c.id ="
                           " t.client_id WHERE (t.mobile = ? OR t.phone = ? OR (t.phone > ? AND"
                           " t.phone < ?)) AND t.deleted_at IS"
                           f" NULL AND {cond} ORDER BY t.id LIMIT 1", [v, v, *ext, *args])
        row = conn.execute(*client_sql).fetchone()
        if row is not None:
            values["client_id"] = row[0]
        else:
            row = conn.execute(*contact_sql).fetchone()
            if row is not None:
                values["contact_id"], values["client_id"] = row[0], row[1]
        if row is not None:
            if scoped and not in_scope:
                _refuse_foreign(values["value"])
            return


def _refuse_foreign(value: str) -> None:
    """Refuse a manager's write on an entry of another employee's client, revealing
    nothing but that (no client name, number or entry)."""
    raise AccessDenied(f"«{value}» относится к клиенту другого сотрудника: записать согласие"
                       " или отказ может его ответственный или руководитель")


def _guard_scope(conn: sqlite3.Connection, actor: Actor | None,
                 old: Mapping[str, Any] | sqlite3.Row | None) -> None:
    """A manager may not replace the entry linked to a client outside their scope."""
    if actor is None or actor.sees_everything or old is None or not old["client_id"]:
        return
    cond, args = client_scope(actor)
    if conn.execute(f"SELECT 1 FROM clients c WHERE c.id = ? AND {cond}",
                    [old["client_id"], *args]).fetchone() is None:
        _refuse_foreign(old["value"])


OPTOUT_LIFTERS = ("admin", "head")


def _guard_optout(actor: Actor | None, old: Mapping[str, Any] | sqlite3.Row | None,
                  new_status: str | None) -> None:
    """An opt-out is the person's own decision (152-ФЗ): only the head or the
    administrator may lift it (turn it into a consent or delete it); every change
    stays in the audit log either way."""
    if old is None or old["status"] != "optout" or new_status == "optout":
        return
    if actor is None or actor.role not in OPTOUT_LIFTERS:
        raise AccessDenied(f"«{old['value']}» отказался от рассылок"
                           f" ({optout_reason(old)}): снять отказ может только руководитель"
                           " или администратор")


def _upsert(conn: sqlite3.Connection, actor: Actor | None, values: dict[str, Any],
            action: str, scoped: bool = True) -> dict[str, Any]:
    """Insert or replace the entry for ``values``' channel and value. ``scoped``: the
    actor's client scope applies (not to an opt-out, which anyone may record)."""
    ts = now_iso()
    old = lookup(conn, values["channel"], values["value"])
    _guard_optout(actor, old, values["status"])
    if scoped:
        _guard_scope(conn, actor, old)
    if old is None:
        _auto_link(conn, values, actor if scoped else None)
        cur = conn.execute(
            "INSERT INTO consents (channel, value, status, date, source, note, client_id,"
            " contact_id, recorded_by, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (values["channel"], values["value"], values["status"], values["date"],
             values["source"], values["note"], values.get("client_id"),
             values.get("contact_id"), actor.id if actor else None, ts, ts))
        cid = int(cur.lastrowid or 0)
        changes: dict[str, Any] = {k: [None, values.get(k)] for k in
                                   ("status", "date", "source", "note")}
    else:
        cid = old["id"]
        merged = {"client_id": values.get("client_id") or old["client_id"],
                  "contact_id": values.get("contact_id") or old["contact_id"]}
        conn.execute(
            "UPDATE consents SET status = ?, date = ?, source = ?, note = ?, client_id = ?,"
            " contact_id = ?, recorded_by = ?, updated_at = ?, version = version + 1"
            " WHERE id = ?",
            (values["status"], values["date"], values["source"], values["note"],
             merged["client_id"], merged["contact_id"], actor.id if actor else None, ts, cid))
        changes = audit.diff(dict(old), values | merged)
    audit.record(conn, actor, action, "consent", cid, values.get("client_id"),
                 f"{values['channel']} {values['value']}: {values['status']}", changes)
    return dict(conn.execute("SELECT * FROM consents WHERE id = ?", (cid,)).fetchone())


def record(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Add an entry, or replace the current one for the same channel and value
    (the previous state stays in the audit log)."""
    require(actor, "consent.write")
    values = normalise(data)
    with store.write() as conn:
        _check_links(conn, actor, values)
        return _upsert(conn, actor, values, "consent.record")


def record_optout(store: Store, actor: Actor | None, channel: str, value: str, source: str,
                  note: str = "") -> None:
    """Record an opt-out (e.g. from the mailing's unsubscribe link: ``actor`` may be
    ``None`` for the system). An existing consent is replaced: the opt-out wins."""
    if actor is not None:
        require(actor, "consent.write")
    values = normalise({"channel": channel, "value": value, "status": "optout",
                        "source": source, "note": note})
    with store.write() as conn:
        # An opt-out is the person's own decision (152-ФЗ): whoever receives it records
        # it, whatever client the address belongs to; nothing about that client is returned.
        _upsert(conn, actor, values, "consent.optout", scoped=False)


def _visible_sql(actor: Actor) -> tuple[str, list[object]]:
    """Entries a manager may see: not linked to a client, or linked to one in scope."""
    if actor.sees_everything:
        return "1 = 1", []
    cond, args = client_scope(actor)
    return (f"(k.client_id IS NULL OR EXISTS (SELECT 1 FROM clients c WHERE c.id = k.client_id"
            f" AND {cond}))", args)


def get(store: Store, actor: Actor, entry_id: int) -> dict[str, Any]:
    require(actor, "consent.read")
    cond, args = _visible_sql(actor)
    with store.read() as conn:
        row = conn.execute(f"SELECT k.* FROM consents k WHERE k.id = ? AND {cond}",
                           [entry_id, *args]).fetchone()
    if row is None:
        raise NotFound(f"Запись №{entry_id} реестра согласий не найдена")
    return dict(row)


def list_entries(store: Store, actor: Actor, *, channel: str | None = None,
                 status: str | None = None, text: str | None = None,
                 date_from: str | None = None, date_to: str | None = None,
                 source: str | None = None, limit: int = 5000) -> list[dict[str, Any]]:
    """The register, newest first, filtered; each row with client, contact and
    recorder names."""
    require(actor, "consent.read")
    cond, args = _visible_sql(actor)
    where, params = [cond], list(args)
    for col, val in (("k.channel", channel), ("k.status", status), ("k.source", source)):
        if val:
            where.append(f"{col} = ?")
            params.append(val)
    if date_from:
        where.append("k.date >= ?")
        params.append(str(date_from))
    if date_to:
        where.append("k.date <= ?")
        params.append(str(date_to))
    if text:
        where.append("(k.value LIKE ? ESCAPE '\\' OR k.note LIKE ? ESCAPE '\\'"
                     " OR coalesce(cl.name, '') LIKE ? ESCAPE '\\')")
        params += [like_contains(text.strip().lower()), *[like_contains(text.strip())] * 2]
    sql = ("SELECT k.*, coalesce(cl.name, '') AS client_name, coalesce(ct.name, '') AS"
           " contact_name, coalesce(nullif(u.full_name, ''), u.login, '') AS recorded_by_name"
           " FROM consents k LEFT JOIN clients cl ON cl.id = k.client_id"
           " LEFT JOIN contacts ct ON ct.id = k.contact_id"
           " LEFT JOIN users u ON u.id = k.recorded_by"
           f" WHERE {' AND '.join(where)} ORDER BY k.date DESC, k.id DESC LIMIT ?")
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sql, [*params, int(limit)])]


def update(store: Store, actor: Actor, entry_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Edit an entry (optimistic locking by ``version``)."""
    require(actor, "consent.write")
    current = get(store, actor, entry_id)
    values = normalise({**current, **data})
    with store.write() as conn:
        row = conn.execute("SELECT * FROM consents WHERE id = ?", (entry_id,)).fetchone()
        if row is None:
            raise NotFound(f"Запись №{entry_id} реестра согласий не найдена")
        if row["version"] != version:
            raise ConflictError("Запись уже изменил другой пользователь — обновите страницу")
        _guard_optout(actor, row, values["status"])
        other = lookup(conn, values["channel"], values["value"])
        if other is not None and other["id"] != entry_id:
            raise ValidationError({"value": f"Адрес / телефон: для «{values['value']}» уже"
                                            " есть запись в реестре"})
        _check_links(conn, actor, values)
        ts = now_iso()
        conn.execute(
            "UPDATE consents SET channel = ?, value = ?, status = ?, date = ?, source = ?,"
            " note = ?, client_id = ?, contact_id = ?, recorded_by = ?, updated_at = ?,"
            " version = version + 1 WHERE id = ?",
            (values["channel"], values["value"], values["status"], values["date"],
             values["source"], values["note"], values.get("client_id"),
             values.get("contact_id"), actor.id, ts, entry_id))
        audit.record(conn, actor, "consent.update", "consent", entry_id, values.get("client_id"),
                     f"{values['channel']} {values['value']}: {values['status']}",
                     audit.diff(dict(row), values))
        return dict(conn.execute("SELECT * FROM consents WHERE id = ?", (entry_id,)).fetchone())


def delete(store: Store, actor: Actor, entry_id: int) -> None:
    """Remove an entry (its history stays in the audit log)."""
    require(actor, "consent.write")
    current = get(store, actor, entry_id)
    _guard_optout(actor, current, None)
    with store.write() as conn:
        conn.execute("DELETE FROM consents WHERE id = ?", (entry_id,))
        audit.record(conn, actor, "consent.delete", "consent", entry_id, current["client_id"],
                     f"{current['channel']} {current['value']}: удалено",
                     {k: [current[k], None] for k in ("status", "date", "source", "note")})


def history(store: Store, actor: Actor, entry_id: int) -> list[dict[str, Any]]:
    """The entry's audit trail, newest first."""
    get(store, actor, entry_id)
    with store.read() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT at, actor_login, action, summary, diff FROM audit_log WHERE entity ="
            " 'consent' AND entity_id = ? ORDER BY id DESC", (entry_id,))]


def export_rows(entries: list[dict[str, Any]]) -> list[list[object]]:
    """Rows for :data:`HEADERS` (Excel export of the register)."""
    return [[CHANNELS.get(e["channel"], (e["channel"],))[0], e["value"],
             STATUSES.get(e["status"], (e["status"],))[0], e["date"], e["source"], e["note"],
             e.get("client_name", ""), e.get("contact_name", ""),
             e.get("recorded_by_name", ""), e["updated_at"]] for e in entries]


def to_xlsx(store: Store, actor: Actor, **filters: Any) -> bytes:
    """The (filtered) register as .xlsx bytes."""
    from clientplus_core.clients.export import rows_to_xlsx

    return rows_to_xlsx(HEADERS, export_rows(list_entries(store, actor, **filters)),
                        sheet="Согласия")


def import_rows(store: Store, actor: Actor, rows: Iterable[Mapping[str, Any]],
                source: str = "импорт") -> tuple[int, list[str]]:
    """Import entries (dicts with channel, value, status, date, source, note); a bad
    row is reported by its number and skipped. Returns (saved, errors)."""
    require(actor, "consent.write")
    saved, errors = 0, []
    with store.write() as conn:
        for i, raw in enumerate(rows, start=2):
            try:
                values = normalise({"source": source, **raw})
            except ValidationError as exc:
                errors.append(f"строка {i}: {exc}")
                continue
            try:
                _check_links(conn, actor, values)
                _upsert(conn, actor, values, "consent.import")
            except (AccessDenied, NotFound) as exc:
                errors.append(f"строка {i}: {exc}")
                continue
            saved += 1
    return saved, errors


def import_table(store: Store, actor: Actor, data: bytes, filename: str) -> tuple[int, list[str]]:
    """Import the register from an .xlsx or .csv file with columns like the export's
    (Канал, Адрес / телефон, Статус, Дата, Источник, Примечание) or their English
    names (channel, value, status, date, source, note)."""
    from clientplus_core.clients.sheets import read_table

    table = read_table(data, filename)
    names = {"канал": "channel", "адрес / телефон": "value", "адрес": "value",
             "телефон": "value", "e-mail": "value", "статус": "status", "дата": "date",
             "источник": "source", "примечание": "note"}
    keys = [names.get(str(h).strip().lower(), str(h).strip().lower()) for h in table.headers]
    rows = [dict(zip(keys, r, strict=False)) for r in table.rows]
    return import_rows(store, actor, rows)
