"""The organizer's tasks: creating, changing, listing, the calendar and export.

The time zone, local days and checking a task's fields live in
:mod:`clientplus_core.organizer.task_time`; the reminder e-mails of `clientplus remind`
(``digests``, ``digest_text``, ``remind``) in :mod:`clientplus_core.organizer.reminders`.

Public API (what the pages and the CLI call)::

    create(store, actor, data) -> dict
    get(store, actor, task_id, now=None) -> dict
    update(store, actor, task_id, data, version) -> dict
    set_status(store, actor, task_id, status, version, now=None) -> dict   # + "next"
    delete(store, actor, task_id, version) -> None
    list_tasks(store, actor, view="open", now=None, *, assignee_id=None,
               client_id=None, sale_id=None) -> list[dict]
        # view: "today" | "overdue" | "week" | "open" | "all"
    by_assignee(store, actor, now=None) -> list[dict]    # open / today / overdue per person
    month(store, actor, year, month) -> dict[date, list[dict]]
    month_grid(year, month) -> list[list[date | None]]   # Monday-first weeks
    due_summary(store, actor, now=None) -> DueSummary    # the sidebar badge
    to_xlsx(rows, lang="ru") -> bytes
    assignees(store, actor) -> list[dict]                # whom the actor may assign to

``data`` for :func:`create` / :func:`update`: ``title`` (required), ``description``,
``due_date`` (required: a date, ISO text or ``ДД.ММ.ГГГГ``), ``due_time`` (a time or
``ЧЧ:ММ``; without it the task is due by the end of the day, 23:59), ``remind_date`` /
``remind_time`` (optional; a reminder time alone means the due day), ``priority``
(``low`` | ``normal`` | ``high``), ``assignee_id`` (default: the actor), ``client_id``,
``sale_id`` (a sale implies its client), ``repeat`` (``""`` | ``daily`` | ``weekly`` |
``monthly``).

Decisions (for time, see :mod:`clientplus_core.organizer.task_time`):

- **Views**: *today* — open tasks whose local due date is today (including those
  already past their time, flagged ``overdue``); *overdue* — open tasks due before
  now; *week* — open tasks due this Monday–Sunday; the calendar shows open and done
  tasks of a month by local due day.
- **Repetition**: marking a repeating task done creates the next occurrence (same
  local wall time, reminder at the same offset). Monthly repetition keeps the day of
  month of the first occurrence and clamps it to the month's end (31 Jan → 28 Feb →
  31 Mar). The next occurrence is never created in the past: it skips ahead to today
  at the earliest. Cancelling ends the series.
- **Scope**: admin, head (and viewer, read-only) see every task. A manager sees the
  tasks assigned to or created by them and the tasks on clients they can see
  (:func:`access.client_scope`), and may assign tasks only to themselves.
- **Reminders**: the badge counts the actor's own open tasks due by the end of today
  or whose reminder time has come (one query on ``ix_tasks_open_assignee``).
- **Optimistic locking**: ``version`` covers every field and the status; a lost race
  raises :class:`ConflictError`. Every write is audited (entity ``"task"``, with the
  client's id so the client's history shows it).
"""

from __future__ import annotations

import calendar
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.organizer.task_time import (
    LABELS,
    MIN_YEAR,
    PRIORITIES,
    REPEATS,
    from_iso,
    local_day_bounds,
    normalise,
    timezone,
    utc_iso,
    utc_now,
)
from clientplus_core.records.conflicts import conflict
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

STATUSES: dict[str, tuple[str, str]] = {"open": ("Открыта", "Open"),
                                        "done": ("Выполнена", "Done"),
                                        "cancelled": ("Отменена", "Cancelled")}
VIEWS = ("today", "overdue", "week", "open", "all")

#: a task with the names of its assignee, client, sale and creator
TASK_SELECT = """SELECT t.*, coalesce(nullif(u.full_name, ''), u.login) AS assignee_name,
    u.email AS assignee_email, c.name AS client_name, s.number AS sale_number,
    coalesce(nullif(cb.full_name, ''), cb.login) AS created_by_name
FROM tasks t JOIN users u ON u.id = t.assignee_id
    LEFT JOIN clients c ON c.id = t.client_id
    LEFT JOIN sales s ON s.id = t.sale_id
    LEFT JOIN users cb ON cb.id = t.created_by"""


# --- reading ---------------------------------------------------------------------------


def _scope(actor: Actor) -> tuple[str, list[object]]:
    """SQL condition (alias ``t`` for tasks) selecting the tasks ``actor`` may see."""
    if actor.sees_everything:
        return "1 = 1", []
    cond, args = client_scope(actor, "c")
    return (f"(t.assignee_id = ? OR t.created_by = ? OR (t.client_id IS NOT NULL AND"
            f" EXISTS (SELECT 1 FROM clients c WHERE c.id = t.client_id AND {cond})))",
            [actor.id, actor.id, *args])


def _fmt_local(moment: datetime) -> str:
    return moment.strftime("%d.%m.%Y %H:%M")


def task_dict(row: sqlite3.Row | Mapping[str, Any], tz: ZoneInfo,
              now: datetime) -> dict[str, Any]:
    """A task row with its local due and reminder times (``due_date``, ``due_text``,
    ``overdue`` …), as every reader returns it."""
    d = dict(row)
    due = from_iso(d["due_at"]).astimezone(tz)
    d["due_local"] = due
    d["due_date"] = due.date().isoformat()
    d["due_time"] = due.strftime("%H:%M")
    d["due_text"] = _fmt_local(due)
    if d.get("remind_at"):
        rem = from_iso(d["remind_at"]).astimezone(tz)
        d["remind_date"], d["remind_time"] = rem.date().isoformat(), rem.strftime("%H:%M")
        d["remind_text"] = _fmt_local(rem)
    else:
        d["remind_date"] = d["remind_time"] = None
        d["remind_text"] = ""
    d["overdue"] = d["status"] == "open" and d["due_at"] < utc_iso(now)
    return d


def _visible(conn: sqlite3.Connection, actor: Actor, task_id: int) -> sqlite3.Row:
    cond, args = _scope(actor)
    row = conn.execute(f"{TASK_SELECT} WHERE t.id = ? AND {cond}", [task_id, *args]).fetchone()
    if row is None:
        raise NotFound(f"Задача №{task_id} не найдена")
    return row


def get(store: Store, actor: Actor, task_id: int, now: datetime | None = None) -> dict[str, Any]:
    """One task as the form and the card show it (with ``version``)."""
    require(actor, "task.read")
    tz, moment = timezone(store), utc_now(now)
    with store.read() as conn:
        return task_dict(_visible(conn, actor, int(task_id)), tz, moment)


def week_bounds(day: date) -> tuple[date, date]:
    """Monday and the next Monday of ``day``'s week."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=7)


def list_tasks(store: Store, actor: Actor, view: str = "open", now: datetime | None = None, *,
               assignee_id: int | None = None, client_id: int | None = None,
               sale_id: int | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """Tasks the actor may see, by view (see the module notes), soonest first."""
    require(actor, "task.read")
    if view not in VIEWS:
        raise ValidationError({"view": f"Вид: один из {', '.join(VIEWS)}"})
    tz, moment = timezone(store), utc_now(now)
    today = moment.astimezone(tz).date()
    cond, args = _scope(actor)
    where, params = [cond], list(args)
    if view != "all":
        where.append("t.status = 'open'")
    if view == "today":
        start, end = local_day_bounds(today, tz)
        where.append("t.due_at >= ? AND t.due_at < ?")
        params += [start, end]
    elif view == "overdue":
        where.append("t.due_at < ?")
        params.append(utc_iso(moment))
    elif view == "week":
        monday, next_monday = week_bounds(today)
        where.append("t.due_at >= ? AND t.due_at < ?")
        params += [local_day_bounds(monday, tz)[0], local_day_bounds(next_monday, tz)[0]]
    for col, val in (("assignee_id", assignee_id), ("client_id", client_id),
                     ("sale_id", sale_id)):
        if val is not None:
            where.append(f"t.{col} = ?")
            params.append(int(val))
    order = ("CASE t.status WHEN 'open' THEN 0 ELSE 1 END, t.due_at, t.id" if view == "all"
             else "t.due_at, CASE t.priority WHEN 'high' THEN 0 WHEN 'normal' THEN 1 ELSE 2"
                  " END, t.id")
    sql = f"{TASK_SELECT} WHERE {' AND '.join(where)} ORDER BY {order} LIMIT ?"
    with store.read() as conn:
        rows = conn.execute(sql, [*params, int(limit)]).fetchall()
    return [task_dict(r, tz, moment) for r in rows]


def by_assignee(store: Store, actor: Actor, now: datetime | None = None) -> list[dict[str, Any]]:
    """Per assignee: open tasks, of them due today and overdue (busiest first)."""
    require(actor, "task.read")
    tz, moment = timezone(store), utc_now(now)
    start, end = local_day_bounds(moment.astimezone(tz).date(), tz)
    cond, args = _scope(actor)
    sql = (f"SELECT t.assignee_id, coalesce(nullif(u.full_name, ''), u.login) AS name,"
           f" count(*) AS open, sum(t.due_at >= ? AND t.due_at < ?) AS today,"
           f" sum(t.due_at < ?) AS overdue FROM tasks t JOIN users u ON u.id = t.assignee_id"
           f" WHERE t.status = 'open' AND {cond} GROUP BY t.assignee_id"
           f" ORDER BY overdue DESC, open DESC, name")
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sql, [start, end, utc_iso(moment), *args])]


def month_grid(year: int, month: int) -> list[list[date | None]]:
    """The weeks of a month, Monday first; days outside the month are None."""
    out: list[list[date | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month):
        out.append([d if d.month == month else None for d in week])
    return out


def month(store: Store, actor: Actor, year: int, month_no: int,
          now: datetime | None = None) -> dict[date, list[dict[str, Any]]]:
    """Open and done tasks of a month by local due day (cancelled ones are left out)."""
    require(actor, "task.read")
    if not 1 <= int(month_no) <= 12 or not MIN_YEAR <= int(year) <= 9998:
        raise ValidationError({"month": "Месяц: неверный год или месяц"})
    tz, moment = timezone(store), utc_now(now)
    first = date(int(year), int(month_no), 1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    cond, args = _scope(actor)
    sql = (f"{TASK_SELECT} WHERE {cond} AND t.status <> 'cancelled' AND t.due_at >= ?"
           f" AND t.due_at < ? ORDER BY t.due_at, t.id")
    out: dict[date, list[dict[str, Any]]] = {}
    with store.read() as conn:
        for r in conn.execute(sql, [*args, local_day_bounds(first, tz)[0],
                                    local_day_bounds(nxt, tz)[0]]):
            d = task_dict(r, tz, moment)
            out.setdefault(d["due_local"].date(), []).append(d)
    return out


@dataclass(frozen=True)
class DueSummary:
    """What the sidebar badge shows: the actor's own open tasks due by the end of
    today (or whose reminder time has come), soonest first."""

    overdue: int
    today: int
    tasks: list[dict[str, Any]]

    @property
    def count(self) -> int:
        return len(self.tasks)


def _due_rows(conn: sqlite3.Connection, user_id: int, end: str, now_s: str) -> list[sqlite3.Row]:
    return conn.execute(
        f"{TASK_SELECT} WHERE t.assignee_id = ? AND t.status = 'open'"
        " AND (t.due_at < ? OR t.remind_at <= ?) ORDER BY t.due_at, t.id",
        (user_id, end, now_s)).fetchall()


def due_summary(store: Store, actor: Actor, now: datetime | None = None) -> DueSummary:
    """The actor's due and overdue tasks for the reminder badge (one indexed query)."""
    require(actor, "task.read")
    tz, moment = timezone(store), utc_now(now)
    _, end = local_day_bounds(moment.astimezone(tz).date(), tz)
    with store.read() as conn:
        rows = [task_dict(r, tz, moment) for r in _due_rows(conn, actor.id, end, utc_iso(moment))]
    overdue = sum(1 for r in rows if r["overdue"])
    return DueSummary(overdue=overdue, today=len(rows) - overdue, tasks=rows)


def assignees(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Active users the actor may assign a task to (a manager: only themselves)."""
    require(actor, "task.read")
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(
            "SELECT id, login, coalesce(nullif(full_name, ''), login) AS name, role"
            " FROM users WHERE is_active = 1 ORDER BY name")]
    if actor.role in ("admin", "head"):
        return rows
    return [r for r in rows if r["id"] == actor.id]


# --- writing ---------------------------------------------------------------------------


def _summary(v: Mapping[str, Any]) -> str:
    return str(v.get("title") or "")


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create an open task; returns :func:`get`'s dict."""
    require(actor, "task.write")
    with store.write() as conn:
        v = normalise(conn, store, actor, data, None)
        tid = _insert(conn, actor, v.row())
        audit.record(conn, actor, "create", "task", tid, v.client_id, v.title,
                     {k: val for k, val in v.row().items() if val not in (None, "")})
        row = _visible(conn, actor, tid)
    return task_dict(row, timezone(store), utc_now(None))


def _insert(conn: sqlite3.Connection, actor: Actor, values: Mapping[str, Any],
            series_id: int | None = None) -> int:
    ts = now_iso()
    row = dict(values) | {"status": "open", "series_id": series_id, "created_by": actor.id,
                          "updated_by": actor.id, "created_at": ts, "updated_at": ts,
                          "version": 1}
    cur = conn.execute(f"INSERT INTO tasks ({', '.join(row)}) VALUES"
                       f" ({', '.join('?' * len(row))})", list(row.values()))
    tid = int(cur.lastrowid or 0)
    if series_id is None and values.get("repeat"):
        conn.execute("UPDATE tasks SET series_id = ? WHERE id = ?", (tid, tid))
    return tid


def _check_version(conn: sqlite3.Connection, row: sqlite3.Row, version: int) -> None:
    if int(row["version"]) != int(version):
        raise conflict(conn, row, None, "task")


def update(store: Store, actor: Actor, task_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Save the task as edited from ``version`` (ConflictError if someone saved first)."""
    require(actor, "task.write")
    tz = timezone(store)
    with store.write() as conn:
        row = _visible(conn, actor, int(task_id))
        _check_version(conn, row, version)
        before = task_dict(row, tz, utc_now(None))
        v = normalise(conn, store, actor, data, before)
        new = v.row()
        changes = audit.diff({k: before.get(k) for k in new}, new)
        if not changes:
            return before
        sets = new | {"updated_at": now_iso(), "updated_by": actor.id, "version": version + 1}
        cur = conn.execute(f"UPDATE tasks SET {', '.join(f'{k} = ?' for k in sets)}"
                           " WHERE id = ? AND version = ?", [*sets.values(), task_id, version])
        if cur.rowcount != 1:
            raise conflict(conn, row, None, "task")
        audit.record(conn, actor, "update", "task", int(task_id), v.client_id, v.title, changes)
        out = _visible(conn, actor, int(task_id))
    return task_dict(out, tz, utc_now(None))


def _add_months(day: date, months: int, anchor_day: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    year, mon = divmod(total, 12)
    last = calendar.monthrange(year, mon + 1)[1]
    return date(year, mon + 1, min(anchor_day, last))


def next_due(due_local: datetime, repeat: str, anchor_day: int | None = None,
             not_before: date | None = None) -> datetime:
    """The next occurrence after ``due_local`` (a local, zone-aware time), keeping the
    wall time; monthly keeps ``anchor_day`` clamped to the month's end. Skips ahead
    until the date is on or after ``not_before``."""
    if repeat not in ("daily", "weekly", "monthly"):
        raise ValueError(f"repeat: {repeat!r}")
    tz, wall, day = due_local.tzinfo, due_local.time(), due_local.date()
    anchor = anchor_day or day.day
    step = 0
    while True:
        step += 1
        if repeat == "daily":
            nxt = day + timedelta(days=step)
        elif repeat == "weekly":
            nxt = day + timedelta(weeks=step)
        else:
            nxt = _add_months(day, step, anchor)
        if not_before is None or nxt >= not_before:
            return datetime.combine(nxt, wall, tzinfo=tz)


def set_status(store: Store, actor: Actor, task_id: int, status: str, version: int,
               now: datetime | None = None) -> dict[str, Any]:
    """Mark a task done, cancelled or open again. Done on a repeating task creates the
    next occurrence, returned under ``"next"``."""
    require(actor, "task.write")
    if status not in STATUSES:
        raise ValidationError({"status": f"{LABELS['status']}: один из {', '.join(STATUSES)}"})
    tz, moment = timezone(store), utc_now(now)
    with store.write() as conn:
        row = _visible(conn, actor, int(task_id))
        _check_version(conn, row, version)
        if row["status"] == status:
            return task_dict(row, tz, moment)
        ts = now_iso()
        conn.execute("UPDATE tasks SET status = ?, done_at = ?, updated_at = ?, updated_by = ?,"
                     " version = version + 1 WHERE id = ? AND version = ?",
                     (status, utc_iso(moment) if status == "done" else None, ts, actor.id,
                      task_id, version))
        audit.record(conn, actor, "status", "task", int(task_id), row["client_id"],
                     row["title"], {"status": [row["status"], status]})
        next_id = None
        if status == "done" and row["repeat"]:
            already = conn.execute("SELECT 1 FROM tasks WHERE series_id = ? AND id > ?"
                                   " AND status = 'open'", (row["series_id"] or row["id"],
                                                            row["id"])).fetchone()
            if not already:
                next_id = _next_occurrence(conn, actor, row, tz, moment)
        out = task_dict(_visible(conn, actor, int(task_id)), tz, moment)
        if next_id is not None:
            out["next"] = task_dict(_visible(conn, actor, next_id), tz, moment)
    return out


def _next_occurrence(conn: sqlite3.Connection, actor: Actor, row: sqlite3.Row, tz: ZoneInfo,
                     moment: datetime) -> int:
    due = from_iso(row["due_at"]).astimezone(tz)
    nxt = next_due(due, row["repeat"], row["repeat_day"], moment.astimezone(tz).date())
    remind = None
    if row["remind_at"]:
        remind = utc_iso(nxt + (from_iso(row["remind_at"]) - due))
    values = {k: row[k] for k in ("title", "description", "priority", "assignee_id",
                                  "client_id", "sale_id", "repeat", "repeat_day")}
    values |= {"due_at": utc_iso(nxt), "remind_at": remind}
    tid = _insert(conn, actor, values, series_id=row["series_id"] or row["id"])
    audit.record(conn, actor, "create", "task", tid, row["client_id"], row["title"],
                 {"repeat_of": row["id"], "due_at": values["due_at"]})
    return tid


def delete(store: Store, actor: Actor, task_id: int, version: int) -> None:
    """Delete a task (the audit log keeps its title and who deleted it)."""
    require(actor, "task.write")
    with store.write() as conn:
        row = _visible(conn, actor, int(task_id))
        _check_version(conn, row, version)
        conn.execute("DELETE FROM tasks WHERE id = ?", (task_id,))
        audit.record(conn, actor, "delete", "task", int(task_id), row["client_id"],
                     row["title"], {"due_at": row["due_at"], "status": row["status"]})


# --- export ----------------------------------------------------------------------------


def export_rows(rows: Sequence[Mapping[str, Any]],
                lang: str = "ru") -> tuple[list[str], list[list[object]]]:
    """Headers and cells of a task list, as the page's table shows them."""
    i = 0 if lang == "ru" else 1
    heads = (["Срок", "Задача", "Приоритет", "Статус", "Исполнитель", "Клиент", "Продажа",
              "Повтор", "Напоминание", "Описание"] if i == 0 else
             ["Due", "Task", "Priority", "Status", "Assignee", "Client", "Sale", "Repeat",
              "Reminder", "Description"])
    body = [[r["due_text"], r["title"], PRIORITIES[r["priority"]][i], STATUSES[r["status"]][i],
             r.get("assignee_name") or "", r.get("client_name") or "",
             r.get("sale_number") or "", REPEATS[r["repeat"] or ""][i] if r["repeat"] else "",
             r.get("remind_text") or "", r.get("description") or ""] for r in rows]
    return heads, body


def to_xlsx(rows: Sequence[Mapping[str, Any]], lang: str = "ru") -> bytes:
    """A task list as .xlsx (text cells only: formula-injection safe)."""
    from clientplus_core.clients.export import rows_to_xlsx

    heads, body = export_rows(rows, lang)
    return rows_to_xlsx(heads, body, sheet="Задачи" if lang == "ru" else "Tasks")
