"""The batch re-check of every client against the register (head and admin).

:func:`refresh` walks the clients with an INN in id order, remembers in
``lookup_refresh`` how far it got, stops at the daily limit or on request and
resumes from there on the next call. Its summary compares each checked client
with the cached registry data, so it is complete across days and interruptions;
changes are written (through :func:`clients.update`, hence with history and
audit) only by :func:`apply_changes` or ``refresh(apply=True)``.

Single look-ups, the cache and the usage count are in
:mod:`clientplus_core.requisites.lookup`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from clientplus_core.base.errors import UserError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import cards as clients
from clientplus_core.requisites import lookup, registry
from clientplus_core.requisites.dadata import LimitReached, ServiceError, Transport
from clientplus_core.requisites.lookup import PARTY, PARTY_COUNT
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

# Fields the batch refresh keeps in step with the register.
REFRESH_FIELDS = ("name", "full_name", "kpp", "legal_address", "director_post", "director_name")


@dataclass
class Change:
    client_id: int
    name: str
    field: str
    old: str
    new: str
    version: int


@dataclass
class Flag:
    """A client whose company is liquidated (or liquidating, bankrupt, …)."""

    client_id: int
    name: str
    inn: str
    status: str
    status_label: str
    kind: str = "legal"


@dataclass
class RefreshReport:
    run_id: int
    scope: str
    total: int                       # clients with an INN in the scope
    checked: int                     # checked so far in this run (across days)
    requested: int = 0               # requests sent by this call
    changed: list[Change] = field(default_factory=list)
    liquidated: list[Flag] = field(default_factory=list)
    stopped_reason: str | None = None  # "limit" | "stop" | "error" | None (finished)
    error: str = ""
    finished: bool = False
    started_at: str = ""
    applied: int = 0                 # clients updated by apply
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (client id, why)

    @property
    def changed_clients(self) -> int:
        return len({c.client_id for c in self.changed})

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "scope": self.scope, "total": self.total,
            "checked": self.checked, "requested": self.requested,
            "changed": [asdict(c) for c in self.changed],
            "liquidated": [asdict(f) for f in self.liquidated],
            "stopped_reason": self.stopped_reason, "error": self.error,
            "finished": self.finished, "started_at": self.started_at,
            "applied": self.applied,
            "skipped": [{"client_id": cid, "message": m} for cid, m in self.skipped],
        }


def parse_scope(scope: str) -> tuple[str, str | None]:
    """``"all"``, ``"tag:NAME"`` or ``"segment:NAME"`` (a saved segment) ->
    (canonical scope, tag)."""
    s = (scope or "all").strip()
    if s == "all":
        return "all", None
    if s.startswith("tag:") and clean(s[4:]):
        tag = clean(s[4:])
        return f"tag:{tag}", tag
    if s.startswith("segment:") and clean(s[8:]):
        return f"segment:{clean(s[8:])}", None
    raise UserError("область проверки: all, tag:МЕТКА или segment:СЕГМЕНТ")


def _segment_ids(store: Store, actor: Actor, canonical: str) -> list[int] | None:
    """The clients of a saved segment (``segment:NAME`` scopes), else None."""
    if not canonical.startswith("segment:"):
        return None
    from clientplus_core.analytics import segments

    return segments.client_ids(store, actor, canonical[len("segment:"):])


def _scope_sql(actor: Actor, tag: str | None,
               ids: list[int] | None = None) -> tuple[str, list[object]]:
    scope_sql, args = client_scope(actor, "c")
    where = ["c.deleted_at IS NULL", "c.inn <> ''", "c.kind IN ('legal', 'ip')", scope_sql]
    if tag:
        where.append("c.id IN (SELECT client_id FROM client_tags WHERE tag = ?)")
        args = [*args, tag]
    if ids is not None:
        where.append("c.id IN (SELECT value FROM json_each(?))")
        args = [*args, json.dumps(ids)]
    return " AND ".join(where), args


def _open_run(store: Store, actor: Actor, scope: str, restart: bool) -> sqlite3.Row:
    """The unfinished run of this scope to resume, or a new one."""
    with store.write() as conn:
        row = conn.execute("SELECT * FROM lookup_refresh WHERE scope = ? AND finished_at IS NULL"
                           " ORDER BY id DESC LIMIT 1", (scope,)).fetchone()
        if row is not None and restart:
            conn.execute("UPDATE lookup_refresh SET finished_at = ? WHERE id = ?",
                         (now_iso(), row["id"]))
            row = None
        if row is None:
            ts = now_iso()
            cur = conn.execute("INSERT INTO lookup_refresh (scope, started_at, updated_at,"
                               " started_by) VALUES (?,?,?,?)", (scope, ts, ts, actor.id))
            row = conn.execute("SELECT * FROM lookup_refresh WHERE id = ?",
                               (cur.lastrowid,)).fetchone()
        return row


def _mark_checked(conn: sqlite3.Connection, actor: Actor, client: Mapping[str, Any],
                  status: str, run_id: int) -> None:
    old = client["registry_status"] or ""
    conn.execute("UPDATE clients SET registry_status = ?, registry_checked_at = ? WHERE id = ?",
                 (status, now_iso(), client["id"]))
    if old != status and not (old == "" and status == "ACTIVE"):
        audit.record(conn, actor, "registry_status", "client", client["id"], client["id"],
                     f"{client['name']}: {registry.status_label(status, client['kind'])}",
                     {"registry_status": [old, status]})
    conn.execute("UPDATE lookup_refresh SET last_client_id = ?, checked = checked + 1,"
                 " updated_at = ? WHERE id = ?", (client["id"], now_iso(), run_id))


def refresh(store: Store, actor: Actor, scope: str = "all", *,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None, apply: bool = False,
            restart: bool = False, reuse_hours: float = 12,
            client: Transport | None = None) -> RefreshReport:
    """Re-check every client with an INN in ``scope`` against the register (head, admin).

    Resumes the scope's unfinished run from its last client (``restart`` starts
    over). Stops when today's limit is used up (``stopped_reason="limit"``), when
    ``should_stop()`` says so (``"stop"``) or when DaData fails (``"error"``);
    each checked client is saved at once, so an interruption loses nothing. An
    answer fetched less than ``reuse_hours`` ago is reused without a request.
    Writes the registry status of each client and, only with ``apply``, the
    changed names, addresses and directors (see :func:`apply_changes`)."""
    require(actor, "lookup.refresh")
    canonical, tag = parse_scope(scope)
    transport = lookup.transport_for(client)
    run = _open_run(store, actor, canonical, restart)
    where, args = _scope_sql(actor, tag, _segment_ids(store, actor, canonical))
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM clients c WHERE {where}", args).fetchone()[0]
        todo = conn.execute(f"SELECT c.id, c.name, c.inn, c.kind, c.registry_status"
                            f" FROM clients c WHERE {where} AND c.id > ? ORDER BY c.id",
                            [*args, run["last_client_id"]]).fetchall()
    reuse_after = (datetime.now(UTC) - timedelta(hours=reuse_hours)).replace(
        microsecond=0).isoformat()
    done, requested = int(run["checked"]), 0
    reason: str | None = None
    error = ""
    if progress:
        progress(done, total)
    for row in todo:
        if should_stop and should_stop():
            reason = "stop"
            break
        with store.read() as conn:
            cached = lookup.cache_get(conn, PARTY, row["inn"])
        items: list[dict[str, Any]] | None = None
        if cached and isinstance(cached[0], list) and cached[0] and cached[1] >= reuse_after:
            items = cached[0]
        fetched = False
        if items is None:
            try:
                items = lookup.suggestions(lookup.ask(store, transport, "findById/party",
                                                      {"query": row["inn"],
                                                       "count": PARTY_COUNT}))
            except LimitReached:
                reason = "limit"
                break
            except ServiceError as exc:
                reason, error = "error", str(exc)
                break
            fetched = True
            requested += 1
        status = (lookup.head_status(items) or "ACTIVE") if items else "NOT_FOUND"
        with store.write() as conn:
            if fetched:
                lookup.record_answer(conn, PARTY, row["inn"], items or None, 1, now_iso())
            _mark_checked(conn, actor, row, status, run["id"])
        done += 1
        if progress:
            progress(done, total)
    finished = reason is None
    if finished:
        with store.write() as conn:
            conn.execute("UPDATE lookup_refresh SET finished_at = ?, updated_at = ? WHERE id = ?",
                         (now_iso(), now_iso(), run["id"]))
    report = _summary(store, actor, run["id"], tag)
    report.requested, report.stopped_reason, report.error = requested, reason, error
    with store.write() as conn:
        conn.execute("UPDATE lookup_refresh SET changed = ? WHERE id = ?",
                     (report.changed_clients, run["id"]))
    if apply:
        apply_changes(store, actor, report)
    return report


def _summary(store: Store, actor: Actor, run_id: int, tag: str | None) -> RefreshReport:
    """What the run found: changes for every client it checked, and flagged ones."""
    with store.read() as conn:
        run_scope = conn.execute("SELECT scope FROM lookup_refresh WHERE id = ?",
                                 (run_id,)).fetchone()
    where, args = _scope_sql(actor, tag,
                             _segment_ids(store, actor, run_scope[0] if run_scope else ""))
    with store.read() as conn:
        run = conn.execute("SELECT * FROM lookup_refresh WHERE id = ?", (run_id,)).fetchone()
        total = conn.execute(f"SELECT count(*) FROM clients c WHERE {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT c.*, lc.response FROM clients c LEFT JOIN lookup_cache lc"
            f" ON lc.kind = 'party' AND lc.key = c.inn"
            f" WHERE {where} AND c.registry_checked_at >= ? ORDER BY c.id",
            [*args, run["started_at"]]).fetchall()
        report = RefreshReport(run_id=run_id, scope=run["scope"], total=int(total),
                               checked=int(run["checked"]), finished=bool(run["finished_at"]),
                               started_at=run["started_at"])
        for r in rows:
            status = r["registry_status"] or ""
            if status in registry.WARN_STATUSES:
                report.liquidated.append(Flag(r["id"], r["name"], r["inn"], status,
                                              registry.status_label(status, r["kind"]), r["kind"]))
            try:
                items = json.loads(r["response"]) if r["response"] else []
            except ValueError:
                items = []
            if not isinstance(items, list) or not items or status == "NOT_FOUND":
                continue
            found = lookup.party_result(r["inn"], items, "", True)
            branch_kpps = {b.kpp for b in found.branches}
            for name in REFRESH_FIELDS:
                new, old = found.fields.get(name, ""), r[name] or ""
                if name == "kpp" and old in branch_kpps:
                    continue  # a branch the user chose on purpose
                if new and not lookup.same_value(old, new):
                    report.changed.append(Change(r["id"], r["name"], name, old, new,
                                                 int(r["version"])))
    return report


def last_run(store: Store, actor: Actor, scope: str = "all") -> RefreshReport | None:
    """The summary of the latest run of ``scope`` (for the page after a reload or a
    stop, and to say where a resumed run will continue); ``None`` if never run."""
    require(actor, "lookup.refresh")
    canonical, tag = parse_scope(scope)
    with store.read() as conn:
        row = conn.execute("SELECT id, finished_at FROM lookup_refresh WHERE scope = ?"
                           " ORDER BY id DESC LIMIT 1", (canonical,)).fetchone()
    if row is None:
        return None
    return _summary(store, actor, row["id"], tag)


def apply_changes(store: Store, actor: Actor, report: RefreshReport,
                  only: Iterable[int] | None = None) -> RefreshReport:
    """Write the report's changes (``only`` these client ids, if given) through
    :func:`clients.update`, one client at a time: history and audit record each.
    A client edited since the check is skipped (named in ``report.skipped``)."""
    require(actor, "lookup.refresh")
    wanted = set(only) if only is not None else None
    by_client: dict[int, list[Change]] = {}
    for c in report.changed:
        if wanted is None or c.client_id in wanted:
            by_client.setdefault(c.client_id, []).append(c)
    for cid, changes in by_client.items():
        try:
            clients.update(store, actor, cid, {c.field: c.new for c in changes},
                           changes[0].version)
        except UserError as exc:
            report.skipped.append((cid, f"{changes[0].name}: {exc}"))
        else:
            report.applied += 1
    return report
