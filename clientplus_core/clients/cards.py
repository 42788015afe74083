"""Clients: create, read, update, soft-delete, list, duplicates, merge, history."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clientplus_core.base.errors import (
    AccessDenied,
    ValidationError,
)
from clientplus_core.base.textnorm import clean
from clientplus_core.clients.duplicates import duplicate_warning, find_duplicates
from clientplus_core.clients.fields import CLIENT_FIELDS, CLIENT_KINDS, check_gender, spec
from clientplus_core.records import custom_fields
from clientplus_core.records.conflicts import conflict
from clientplus_core.records.custom_fields import extra_conditions
from clientplus_core.records.paging import Page
from clientplus_core.records.validation import (
    check_account,
    check_bik,
    check_corr_account,
    check_email,
    check_inn,
    check_kpp,
    check_ogrn,
    check_okved,
    check_phone,
    check_postal_index,
    check_url,
    format_phone,
    phone_search_tokens,
)
from clientplus_core.records.visibility import visible_client
from clientplus_core.search import index as search
from clientplus_core.store import versioned
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

TEXT_FIELDS = tuple(f.name for f in CLIENT_FIELDS if f.name not in ("kind", "tags"))
EDITABLE = (*TEXT_FIELDS, "kind", "tags", "owner_id", "extra")
_LEN = {f.name: f.max_len for f in CLIENT_FIELDS}


def parse_tags(value: object) -> list[str]:
    """Tags from a list or a comma/semicolon separated string; unique, order kept."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else str(value).replace(";", ",").split(",")
    out: list[str] = []
    for item in items:
        t = clean(item)[:60]
        if t and t not in out:
            out.append(t)
    return out


_IP_NAME = re.compile(r"^\s*(?:ИП|индивидуальный\s+предприниматель)(?=[\s.,«\"]|$)",
                      re.IGNORECASE)


def infer_kind(name: str, inn: str = "", ogrn: str = "") -> str:
    """The client's type when nothing states it (an import without a «Тип» column):
    a 12-digit INN is an entrepreneur when the name starts with «ИП» /
    «Индивидуальный предприниматель» or a 15-digit OGRNIP is given, else a person;
    without an INN, a 15-digit OGRNIP or such a name means an entrepreneur too;
    anything else (a 10-digit INN, no INN) a legal entity."""
    inn_digits = re.sub(r"\D", "", inn or "")
    ogrnip = len(re.sub(r"\D", "", ogrn or "")) == 15
    if len(inn_digits) == 12:
        return "ip" if ogrnip or _IP_NAME.match(name or "") else "person"
    if not inn_digits and (ogrnip or _IP_NAME.match(name or "")):
        return "ip"
    return "legal"


def normalise(data: Mapping[str, Any], base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate and normalise a client's fields; raise ValidationError naming each bad field.

    ``base`` is the stored row when updating: fields absent from ``data`` keep it. A
    new client without a type gets the one its INN, OGRN and name imply
    (:func:`infer_kind`).
    """
    merged: dict[str, Any] = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in EDITABLE})
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    given = merged.get("kind")
    if not str(given or "").strip():
        given = infer_kind(str(merged.get("name") or ""), str(merged.get("inn") or ""),
                           str(merged.get("ogrn") or ""))
    kind = clean(given or "legal")
    kind = {"юр. лицо": "legal", "юл": "legal", "ип": "ip", "физ. лицо": "person",
            "фл": "person"}.get(kind.lower(), kind)
    if kind not in CLIENT_KINDS:
        errors["kind"] = "тип клиента: юр. лицо, ИП или физ. лицо"
    out["kind"] = kind

    for name in TEXT_FIELDS:
        try:
            out[name] = clean(merged.get(name), _LEN.get(name))
        except ValueError as exc:
            errors[name] = f"{spec(CLIENT_FIELDS, name).ru}: {exc}"
            out[name] = ""
    if not out.get("name") and "name" not in errors:
        errors["name"] = "Наименование: обязательное поле"

    checks = {
        "inn": lambda v: check_inn(v, kind),
        "ogrn": lambda v: check_ogrn(v, kind),
        "kpp": check_kpp,
        "bik": check_bik,
        "account": lambda v: check_account(v, out.get("bik", "")),
        "corr_account": lambda v: check_corr_account(v, out.get("bik", "")),
        "phone": check_phone,
        "email": check_email,
        "postal_index": check_postal_index,
        "okved": check_okved,
        "website": check_url,
        "director_gender": check_gender,
    }
    for name, fn in checks.items():
        if name in errors:
            continue
        try:
            out[name] = fn(out[name])
        except ValueError as exc:
            errors[name] = _named(spec(CLIENT_FIELDS, name).ru, str(exc))
    if kind == "person" and out.get("kpp"):
        errors.setdefault("kpp", "КПП: у физического лица нет КПП")

    out["tags"] = parse_tags(merged.get("tags"))
    extra = merged.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = {}
    out["extra"] = extra
    owner = merged.get("owner_id")
    out["owner_id"] = int(owner) if owner not in (None, "") else None
    if errors:
        raise ValidationError(errors)
    return out


def _named(label: str, message: str) -> str:
    """``"Label: message"`` unless the message already starts with the label."""
    return message if message.lower().startswith(label.lower()) else f"{label}: {message}"


def row_to_dict(row: sqlite3.Row | Mapping[str, Any]) -> dict[str, Any]:
    d = dict(row)
    d["tags"] = json.loads(d.get("tags") or "[]")
    d["extra"] = json.loads(d.get("extra") or "{}")
    return d


def _to_db(values: Mapping[str, Any]) -> dict[str, Any]:
    d = dict(values)
    d["tags"] = json.dumps(d.get("tags", []), ensure_ascii=False)
    d["extra"] = json.dumps(d.get("extra", {}), ensure_ascii=False)
    return d


def index_client(conn: sqlite3.Connection, row: Mapping[str, Any]) -> None:
    """(Re)index a client row for search."""
    tags = row["tags"] if isinstance(row["tags"], list) else json.loads(row["tags"] or "[]")
    phone = row["phone"] or ""
    search.index_row(conn, "client", row["id"], row["id"], row["name"], [
        format_phone(phone), row["email"], row["inn"], row["full_name"], row["kpp"], row["ogrn"],
        row["website"], row["director_name"], row["legal_address"], row["postal_address"],
        row["bank_name"], " ".join(tags), row["notes"], row["source"],
    ], hidden=phone_search_tokens(phone))


def _set_tags(conn: sqlite3.Connection, client_id: int, tags: list[str]) -> None:
    conn.execute("DELETE FROM client_tags WHERE client_id = ?", (client_id,))
    conn.executemany("INSERT OR IGNORE INTO client_tags (client_id, tag) VALUES (?, ?)",
                     [(client_id, t) for t in tags])


def create(store: Store, actor: Actor, data: Mapping[str, Any], *,
           allow_duplicate: bool = False, conn: sqlite3.Connection | None = None,
           normalised: bool = False) -> dict[str, Any]:
    """Create a client; raises DuplicateWarning unless ``allow_duplicate``.

    ``normalised=True`` says ``data`` is already the output of :func:`normalise`
    (the importer validates every row first and need not pay for it twice)."""
    require(actor, "client.create")
    values = dict(data) if normalised else normalise(data)
    if values["owner_id"] is None or actor.role == "manager":
        values["owner_id"] = actor.id
    if conn is None:
        with store.write() as c:
            return _create(c, actor, values, allow_duplicate, "extra" in data and not normalised)
    return _create(conn, actor, values, allow_duplicate,
                   "extra" in data and not normalised)


def _create(conn: sqlite3.Connection, actor: Actor, values: dict[str, Any],
            allow_duplicate: bool, check_required: bool = False) -> dict[str, Any]:
    values["extra"] = custom_fields.check_extra(conn, "client", values["extra"], check_required)
    if not allow_duplicate:
        dups = find_duplicates(conn, values["inn"], values["phone"], values["email"])
        if dups:
            raise duplicate_warning(conn, actor, dups)
    ts = now_iso()
    row = _to_db(values) | {"created_at": ts, "updated_at": ts, "created_by": actor.id,
                            "updated_by": actor.id, "version": 1}
    cols = ", ".join(row)
    cur = conn.execute(f"INSERT INTO clients ({cols}) VALUES ({', '.join('?' * len(row))})",
                       list(row.values()))
    cid = int(cur.lastrowid or 0)
    _set_tags(conn, cid, values["tags"])
    stored = conn.execute("SELECT * FROM clients WHERE id = ?", (cid,)).fetchone()
    index_client(conn, stored)
    audit.record(conn, actor, "create", "client", cid, cid, values["name"])
    return row_to_dict(stored)


def get(store: Store, actor: Actor, client_id: int) -> dict[str, Any]:
    """One client the actor may see (NotFound otherwise)."""
    require(actor, "client.read")
    with store.read() as conn:
        return row_to_dict(visible_client(conn, actor, client_id))


def update(store: Store, actor: Actor, client_id: int, data: Mapping[str, Any], version: int,
           *, base: Mapping[str, Any] | None = None, allow_duplicate: bool = True,
           conn: sqlite3.Connection | None = None) -> dict[str, Any]:
    """Save changes made to version ``version``; ConflictError if someone saved first.

    ``base`` is what the user loaded (to show what the other person changed).
    """
    require(actor, "client.update")
    if conn is None:
        with store.write() as c:
            return _update(c, actor, client_id, data, version, base, allow_duplicate)
    return _update(conn, actor, client_id, data, version, base, allow_duplicate)


def _update(conn: sqlite3.Connection, actor: Actor, client_id: int, data: Mapping[str, Any],
            version: int, base: Mapping[str, Any] | None, allow_duplicate: bool) -> dict[str, Any]:
    row = visible_client(conn, actor, client_id)
    if row["version"] != version:
        raise conflict(conn, row_to_dict(row), base)
    before = row_to_dict(row)
    if "owner_id" in data and data["owner_id"] != before["owner_id"]:
        require(actor, "client.assign_owner")
    values = normalise(data, before)
    values["extra"] = custom_fields.check_extra(conn, "client", values["extra"], "extra" in data,
                                                before["extra"])
    if not allow_duplicate:
        dups = find_duplicates(conn, values["inn"], values["phone"], values["email"], client_id)
        if dups:
            raise duplicate_warning(conn, actor, dups)
    changes = audit.diff(before, values)
    if not changes:
        return before
    sets = _to_db(values) | {"updated_at": now_iso(), "updated_by": actor.id,
                             "version": version + 1}
    cur = conn.execute(
        f"UPDATE clients SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ? AND version = ?",
        [*sets.values(), client_id, version])
    if cur.rowcount != 1:
        raise conflict(conn, row_to_dict(conn.execute("SELECT * FROM clients WHERE id=?",
                                                      (client_id,)).fetchone()), base)
    if "tags" in changes:
        _set_tags(conn, client_id, values["tags"])
    stored = conn.execute("SELECT * FROM clients WHERE id = ?", (client_id,)).fetchone()
    index_client(conn, stored)
    audit.record(conn, actor, "update", "client", client_id, client_id, values["name"], changes)
    return row_to_dict(stored)


def delete(store: Store, actor: Actor, client_id: int) -> None:
    """Soft-delete a client (restorable); it disappears from lists and search."""
    require(actor, "client.delete")
    with store.write() as conn:
        row = visible_client(conn, actor, client_id)
        conn.execute("UPDATE clients SET deleted_at = ?, updated_at = ?, updated_by = ?,"
                     " version = version + 1 WHERE id = ?",
                     (now_iso(), now_iso(), actor.id, client_id))
        search.unindex(conn, "client", client_id)
        audit.record(conn, actor, "delete", "client", client_id, client_id, row["name"])


def restore(store: Store, actor: Actor, client_id: int) -> None:
    """Undo a soft delete (head and admin)."""
    require(actor, "client.restore")
    with store.write() as conn:
        row = visible_client(conn, actor, client_id, include_deleted=True)
        conn.execute("UPDATE clients SET deleted_at = NULL, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), client_id))
        index_client(conn, conn.execute("SELECT * FROM clients WHERE id = ?",
                                        (client_id,)).fetchone())
        audit.record(conn, actor, "restore", "client", client_id, client_id, row["name"])


@dataclass
class ClientFilter:
    """The registry's filters; the same object drives the page and the export."""

    query: str = ""
    kind: str | None = None
    owner_id: int | None = None
    tag: str | None = None
    created_from: str | None = None  # ISO date, inclusive
    created_to: str | None = None    # ISO date, inclusive
    # "relevance": with a query, best matches first (the search's tiers, then by name);
    # without one, by name
    sort: str = "relevance"
    descending: bool = False
    # custom fields (issue 6): ((key, value), …) — the value equals the field's value
    # or is one of a multiselect's values — or ((key, op, value), …) with an op of
    # :data:`EXTRA_OPS` (see :func:`extra_conditions`); keys and values are bound
    extra: tuple[tuple[Any, ...], ...] = ()


SORTABLE = {"name": "c.name COLLATE NOCASE", "created_at": "c.created_at",
            "updated_at": "c.updated_at", "inn": "c.inn", "id": "c.id", "kind": "c.kind"}


def _where(conn: sqlite3.Connection, actor: Actor, f: ClientFilter,
           matches: dict[int, tuple[bool, int]] | None = None) -> tuple[str, list[object]]:
    """The WHERE clause of ``f`` (``matches``: the text query's matches, when the
    caller has already read them)."""
    scope_sql, args = client_scope(actor, "c")
    where = ["c.deleted_at IS NULL", scope_sql]
    if f.kind:
        where.append("c.kind = ?")
        args.append(f.kind)
    if f.owner_id:
        where.append("c.owner_id = ?")
        args.append(f.owner_id)
    if f.tag:
        where.append("c.id IN (SELECT client_id FROM client_tags WHERE tag = ?)")
        args.append(f.tag)
    if f.created_from:
        where.append("c.created_at >= ?")
        args.append(str(f.created_from))
    if f.created_to:
        where.append("c.created_at < date(?, '+1 day')")
        args.append(str(f.created_to))
    extra_where, extra_args = extra_conditions(conn, "client", "c", f.extra)
    where += extra_where
    args += extra_args
    if matches is None:
        matches = search.client_matches(conn, f.query)
    if matches is not None:
        # Run the text match once and hand its ids over as one JSON parameter,
        # so the count and the page do not each repeat the FTS query.
        where.append("c.id IN (SELECT value FROM json_each(?))")
        args.append(json.dumps(sorted(matches)))
    return " AND ".join(where), args


LIST_COLUMNS = ("c.id, c.kind, c.name, c.inn, c.phone, c.email, c.tags, c.owner_id,"
                " u.full_name AS owner_name, c.created_at, c.updated_at, c.extra")


def list_clients(store: Store, actor: Actor, f: ClientFilter | None = None, page: int = 1,
                 page_size: int = 50) -> Page:
    """One page of the registry, filtered and sorted, plus the total count. Sorted by
    relevance (the default) with a text query, the best matches come first, ranked
    as the search ranks them (:class:`~clientplus_core.search.index.Ranker`)."""
    require(actor, "client.read")
    f = f or ClientFilter()
    order = SORTABLE.get(f.sort, SORTABLE["name"]) + (" DESC" if f.descending else "")
    page = max(1, int(page))
    with store.read() as conn:
        matches = search.client_matches(conn, f.query) if f.sort == "relevance" else None
        where, args = _where(conn, actor, f, matches)
        if matches is not None:
            ranked = search.rank_clients(conn, where, args, f.query, matches, f.descending)
            total = len(ranked)
            ids = ranked[(page - 1) * page_size:page * page_size]
        else:
            total = _count(store, conn, where, args, kept=not f.tag)
            # Deferred join: page through the covering index for ids, then read only
            # the rows shown.
            ids = [r[0] for r in conn.execute(
                f"SELECT c.id FROM clients c WHERE {where} ORDER BY {order}, c.id"
                " LIMIT ? OFFSET ?", [*args, page_size, (page - 1) * page_size])]
        by_id = {r["id"]: r for r in conn.execute(
            f"SELECT {LIST_COLUMNS} FROM clients c LEFT JOIN users u ON u.id = c.owner_id"
            f" WHERE c.id IN ({','.join('?' * len(ids)) or 'NULL'})", ids)}
        rows = [by_id[i] for i in ids]
    return Page([row_to_dict(r) for r in rows], int(total), page, page_size)


def _count(store: Store, conn: sqlite3.Connection, where: str, args: list[object],
           kept: bool) -> int:
    """The registry's count (each run asks it: 100,000 clients, up to 15 ms), kept
    while the clients are unchanged (:mod:`~clientplus_core.store.versioned`) when
    ``where`` reads only logged tables (the tag filter reads ``client_tags``)."""
    def count() -> int:
        return int(conn.execute(f"SELECT count(*) FROM clients c WHERE {where}",
                                args).fetchone()[0])
    if not kept:
        return count()
    return versioned.kept(conn, store.db_path, ("clients.count", where, tuple(args)), count)


def iter_clients(store: Store, actor: Actor, f: ClientFilter | None = None,
                 batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every client matching the filter, full rows, in registry order (for export)."""
    require(actor, "client.export")
    f = f or ClientFilter()
    order = SORTABLE.get(f.sort, SORTABLE["name"]) + (" DESC" if f.descending else "")
    with store.read() as conn:
        where, args = _where(conn, actor, f)
        cur = conn.execute(
            f"SELECT c.*, u.full_name AS owner_name FROM clients c"
            f" LEFT JOIN users u ON u.id = c.owner_id WHERE {where} ORDER BY {order}, c.id", args)
        while True:
            chunk = cur.fetchmany(batch)
            if not chunk:
                break
            for r in chunk:
                yield row_to_dict(r)


def all_tags(store: Store, actor: Actor) -> list[str]:
    """Distinct tags in use among visible clients.

    The distinct tags are walked on the tag-led primary key (a skip-scan: one seek per
    tag, a dozen rather than 120k rows at 100k clients) and each is kept when one
    visible, live client carries it (the search stops at the first)."""
    scope_sql, args = client_scope(actor, "c")
    with store.read() as conn:
        return [r[0] for r in conn.execute(
            "WITH RECURSIVE t(tag) AS (SELECT min(tag) FROM client_tags UNION ALL"
            " SELECT (SELECT min(x.tag) FROM client_tags x WHERE x.tag > t.tag) FROM t"
            " WHERE t.tag IS NOT NULL)"
            " SELECT t.tag FROM t WHERE t.tag IS NOT NULL AND EXISTS (SELECT 1 FROM"
            " client_tags y JOIN clients c ON c.id = y.client_id WHERE y.tag = t.tag"
            f" AND c.deleted_at IS NULL AND {scope_sql}) ORDER BY t.tag", args)]


# The card and every card merged into it (and into those, …): the audit log is
# append-only, so a merge leaves the other card's entries where they are, and the
# history follows the merge records (``merged_id`` in their diff) instead.
_MERGED_INTO = """WITH RECURSIVE merged(id) AS (
    SELECT ? UNION
    SELECT json_extract(a.diff, '$.merged_id') FROM audit_log a JOIN merged m
        ON a.entity = 'client' AND a.entity_id = m.id AND a.action = 'merge'
)"""


def history(store: Store, actor: Actor, client_id: int, limit: int = 500) -> list[dict[str, Any]]:
    """What changed on this card (card, contacts, files, links) and on the cards merged
    into it, newest first."""
    with store.read() as conn:
        visible_client(conn, actor, client_id, include_deleted=True)
        rows = conn.execute(
            _MERGED_INTO + " SELECT at, actor_login, action, entity, entity_id, summary, diff"
            " FROM audit_log WHERE client_id IN (SELECT id FROM merged)"
            " ORDER BY id DESC LIMIT ?", (client_id, limit)).fetchall()
    return [dict(r) | {"diff": json.loads(r["diff"] or "{}")} for r in rows]


def duplicates_of(store: Store, actor: Actor, client_id: int) -> list[dict[str, Any]]:
    """Other visible clients sharing this one's INN, phone or e-mail."""
    with store.read() as conn:
        row = visible_client(conn, actor, client_id)
        dups = find_duplicates(conn, row["inn"], row["phone"], row["email"], client_id)
        scope_sql, args = client_scope(actor, "c")
        visible = {r[0] for r in conn.execute(
            f"SELECT c.id FROM clients c WHERE c.id IN ({','.join('?' * len(dups)) or 'NULL'})"
            f" AND {scope_sql}", [*(d["id"] for d in dups), *args])}
    return [d for d in dups if d["id"] in visible]


def merge(store: Store, actor: Actor, survivor_id: int, other_id: int) -> dict[str, Any]:
    """Merge ``other`` into ``survivor``: contacts, files and links move, the other's
    history shows on the survivor's card (the audit log itself is never rewritten),
    empty fields of the survivor are filled from the other, tags are united, notes
    are appended; the other card is soft-deleted. Nothing is lost."""
    require(actor, "client.merge")
    if survivor_id == other_id:
        raise ValidationError({"merge": "нельзя объединить клиента с самим собой"})
    from clientplus_core.clients import contacts, files

    with store.write() as conn:
        keep = row_to_dict(visible_client(conn, actor, survivor_id))
        other = row_to_dict(visible_client(conn, actor, other_id))
        new = dict(keep)
        for k in TEXT_FIELDS:
            if not keep.get(k) and other.get(k):
                new[k] = other[k]
        if other["notes"] and other["notes"] not in keep["notes"]:
            new["notes"] = (keep["notes"] + "\n\n" if keep["notes"] else "") + other["notes"]
            new["notes"] = new["notes"][: spec(CLIENT_FIELDS, "notes").max_len]
        new["tags"] = keep["tags"] + [t for t in other["tags"] if t not in keep["tags"]]
        new["extra"] = {**other["extra"], **keep["extra"]}
        moved = {
            "contacts": contacts.move_all(conn, other_id, survivor_id),
            "files": files.move_all(conn, other_id, survivor_id),
        }
        for stmt in MERGE_CASCADE:
            conn.execute(stmt, {"from_client": other_id, "to_client": survivor_id})
        _update(conn, actor, survivor_id, new, keep["version"], None, True)
        conn.execute("UPDATE clients SET deleted_at = ?, notes = notes || ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), f"\n[объединён с №{survivor_id}]", other_id))
        search.unindex(conn, "client", other_id)
        audit.record(conn, actor, "merge", "client", survivor_id, survivor_id,
                     f"«{other['name']}» (№{other_id}) → «{keep['name']}»",
                     {"merged_id": other_id, **moved})
        return row_to_dict(conn.execute("SELECT * FROM clients WHERE id = ?",
                                        (survivor_id,)).fetchone())


# Statements run when a client's owner changes, so that the client's open work
# follows it. Later modules (sales, tasks) append theirs; parameters are named
# :client_id, :old_owner, :new_owner.
OWNER_CASCADE: list[str] = [
    # sales: the old owner's OPEN sales of this client move to the new owner (closed
    # ones keep who actually sold them, for reports). Kept here, not appended by
    # sales.py at import time, so the cascade runs whichever modules are loaded.
    "UPDATE sales SET owner_id = :new_owner, version = version + 1,"
    " updated_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"
    " WHERE client_id = :client_id AND deleted_at IS NULL AND owner_id IS :old_owner"
    " AND status_id IN (SELECT id FROM sale_statuses WHERE is_closed = 0)",
]

# Statements run when client :from_client is merged into :to_client (after contacts,
# files and links have moved): its sales and contact history follow.
MERGE_CASCADE: list[str] = [
    "UPDATE search_index SET client_id = :to_client WHERE rowid IN"
    " (SELECT 5000000000000 + id FROM sales WHERE client_id = :from_client)",
    "UPDATE sales SET client_id = :to_client WHERE client_id = :from_client",
    "UPDATE interactions SET client_id = :to_client WHERE client_id = :from_client",
]


def reassign_owner(store: Store, actor: Actor, client_id: int,
                   new_owner_id: int) -> dict[str, Any]:
    """Give a client to another user (head/admin); their sales and open tasks follow."""
    require(actor, "client.assign_owner")
    with store.write() as conn:
        row = visible_client(conn, actor, client_id)
        if conn.execute("SELECT 1 FROM users WHERE id = ? AND is_active = 1",
                        (new_owner_id,)).fetchone() is None:
            raise ValidationError({"owner_id": "Ответственный: нет такого активного пользователя"})
        old = row["owner_id"]
        conn.execute("UPDATE clients SET owner_id = ?, updated_at = ?, updated_by = ?,"
                     " version = version + 1 WHERE id = ?",
                     (new_owner_id, now_iso(), actor.id, client_id))
        params = {"client_id": client_id, "old_owner": old, "new_owner": new_owner_id}
        for stmt in OWNER_CASCADE:
            conn.execute(stmt, params)
        audit.record(conn, actor, "reassign", "client", client_id, client_id, row["name"],
                     {"owner_id": [old, new_owner_id]})
        return row_to_dict(conn.execute("SELECT * FROM clients WHERE id = ?",
                                        (client_id,)).fetchone())


def share(store: Store, actor: Actor, client_id: int, user_ids: list[int]) -> list[int]:
    """Set the colleagues a client is shared with (its owner, the head or admin)."""
    require(actor, "client.update")
    with store.write() as conn:
        row = visible_client(conn, actor, client_id)
        if not actor.sees_everything and row["owner_id"] != actor.id:
            raise AccessDenied("Делиться клиентом может только ответственный или руководитель")
        before = [r[0] for r in conn.execute(
            "SELECT user_id FROM client_shares WHERE client_id = ? ORDER BY user_id", (client_id,))]
        after = sorted({int(u) for u in user_ids if int(u) != row["owner_id"]})
        conn.execute("DELETE FROM client_shares WHERE client_id = ?", (client_id,))
        conn.executemany("INSERT INTO client_shares (client_id, user_id) VALUES (?, ?)",
                         [(client_id, u) for u in after])
        if before != after:
            audit.record(conn, actor, "share", "client", client_id, client_id, row["name"],
                         {"shared_with": [before, after]})
        return after


def shared_with(store: Store, actor: Actor, client_id: int) -> list[int]:
    with store.read() as conn:
        visible_client(conn, actor, client_id)
        return [r[0] for r in conn.execute(
            "SELECT user_id FROM client_shares WHERE client_id = ? ORDER BY user_id",
            (client_id,))]


def list_deleted(store: Store, actor: Actor, limit: int = 500) -> list[dict[str, Any]]:
    """Soft-deleted clients, newest deletion first (head and admin: the bin)."""
    require(actor, "client.restore")
    with store.read() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT c.id, c.kind, c.name, c.inn, c.deleted_at, u.full_name AS owner_name"
            " FROM clients c LEFT JOIN users u ON u.id = c.owner_id"
            " WHERE c.deleted_at IS NOT NULL ORDER BY c.deleted_at DESC LIMIT ?", (limit,))]
