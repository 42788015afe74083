"""Reminders by e-mail (`clientplus remind`): each user's due and overdue open
tasks as a digest, sent over the configured SMTP server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from clientplus_core.organizer.task_time import local_day_bounds, timezone, utc_now
from clientplus_core.organizer.tasks import TASK_SELECT, task_dict
from clientplus_core.store.db import Store
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require


@dataclass(frozen=True)
class Digest:
    """One user's due and overdue tasks, for the e-mail of `clientplus remind`."""

    user_id: int
    login: str
    name: str
    email: str
    overdue: list[dict[str, Any]]
    today: list[dict[str, Any]]


def digests(store: Store, actor: Actor, now: datetime | None = None) -> list[Digest]:
    """For each active user with an e-mail who has open tasks due today or overdue
    (head and admin: everyone; anybody else: only themselves)."""
    require(actor, "task.read")
    tz, moment = timezone(store), utc_now(now)
    _, end = local_day_bounds(moment.astimezone(tz).date(), tz)
    out: list[Digest] = []
    with store.read() as conn:
        people = conn.execute(
            "SELECT id, login, coalesce(nullif(full_name, ''), login) AS name, email"
            " FROM users WHERE is_active = 1 AND trim(email) <> '' ORDER BY id").fetchall()
        for p in people:
            if actor.role not in ("admin", "head") and p["id"] != actor.id:
                continue
            rows = [task_dict(r, tz, moment) for r in conn.execute(
                f"{TASK_SELECT} WHERE t.assignee_id = ? AND t.status = 'open' AND t.due_at < ?"
                " ORDER BY t.due_at, t.id", (p["id"], end))]
            if rows:
                out.append(Digest(p["id"], p["login"], p["name"], p["email"].strip(),
                                  [r for r in rows if r["overdue"]],
                                  [r for r in rows if not r["overdue"]]))
    return out


def _line(r: Mapping[str, Any]) -> str:
    bits = [f"{r['due_text']} — {r['title']}"]
    if r.get("client_name"):
        bits.append(f"клиент: {r['client_name']}")
    if r.get("sale_number"):
        bits.append(f"продажа {r['sale_number']}")
    if r["priority"] == "high":
        bits.append("высокий приоритет")
    return "  • " + "; ".join(bits)


def digest_text(d: Digest, today: date) -> tuple[str, str]:
    """Subject and plain-text body (Russian) of one user's digest."""
    total = len(d.overdue) + len(d.today)
    subject = f"ClientPlus: задачи на {today:%d.%m.%Y} — {total}"
    if d.overdue:
        subject += f" (просрочено: {len(d.overdue)})"
    lines = [f"Здравствуйте, {d.name}!", ""]
    if d.overdue:
        lines += [f"Просрочено ({len(d.overdue)}):", *(_line(r) for r in d.overdue), ""]
    if d.today:
        lines += [f"На сегодня ({len(d.today)}):", *(_line(r) for r in d.today), ""]
    lines += ["Все задачи — в ClientPlus, раздел «Задачи».", "",
              "Это автоматическое письмо ClientPlus."]
    return subject, "\n".join(lines) + "\n"


@dataclass
class ReminderResult:
    """One digest of `clientplus remind`: to whom, what, and how it went."""

    digest: Digest
    subject: str
    text: str
    sent: bool = False
    error: str = ""


def remind(store: Store, actor: Actor, now: datetime | None = None,
           dry_run: bool = False) -> list[ReminderResult]:
    """E-mail each user with an e-mail address a digest of their due-today and overdue
    open tasks, over the configured SMTP server (one connection for all). A refused
    recipient is reported and the others are still sent; ``dry_run`` composes the
    digests without connecting to the server."""
    from clientplus_core.outreach import smtp

    moment = utc_now(now)
    today = moment.astimezone(timezone(store)).date()
    results = []
    for d in digests(store, actor, moment):
        subject, text = digest_text(d, today)
        results.append(ReminderResult(d, subject, text))
    if dry_run or not results:
        return results
    cfg = smtp.load_config(store)
    with smtp.connect(cfg) as conn:
        for r in results:
            try:
                smtp.send(conn, smtp.build_message(cfg, r.digest.email, r.subject, r.text,
                                                   to_name=r.digest.name))
                r.sent = True
            except smtp.SendError as exc:
                r.error = str(exc)
    with store.write() as conn_db:
        audit.record(conn_db, actor, "remind", "task", None, None,
                     f"Напоминания о задачах: отправлено {sum(r.sent for r in results)}"
                     f" из {len(results)}",
                     {r.digest.login: (r.error or "sent") for r in results})
    return results
