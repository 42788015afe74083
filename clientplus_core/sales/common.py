"""What the sales modules share: the business date, small parsers, the check that
the actor may see a sale, and the status change primitive (used by the status
operation and by a payment that moves the sale on)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from clientplus_core.base.errors import NotFound
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales import money
from clientplus_core.store.db import now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor

MIN_DATE = "2000-01-01"
RowLike = sqlite3.Row | Mapping[str, Any]


def today() -> date:
    """The business date (local); a function so tests can move "today"."""
    return date.today()


# --- small parsers --------------------------------------------------------------------


def parse_date(value: object, label: str, required: bool = False) -> str | None:
    """A date as ISO ``YYYY-MM-DD`` from a date, ISO text or ``DD.MM.YYYY``."""
    if value in (None, ""):
        if required:
            raise ValueError(f"{label}: обязательное поле")
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()[:10]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day.isoformat() < MIN_DATE or day > today() + timedelta(days=3660):
            raise ValueError(f"{label}: дата {day:%d.%m.%Y} вне разумных пределов")
        return day.isoformat()
    raise ValueError(f"{label}: дата вида 31.12.2026 или 2026-12-31")


def parse_at(value: object) -> str:
    """A timestamp for the contact history (ISO, seconds, UTC offset kept)."""
    if value in (None, ""):
        return now_iso()
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
        return at.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M",
                "%Y-%m-%d", "%d.%m.%Y"):
        try:
            at = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    raise ValueError("Дата и время: вида 31.12.2026 14:30")


def percent_bp(value: object, label: str) -> int:
    """A percentage as hundredths of a percent (0 when empty), 0 to 100 %."""
    if value in (None, ""):
        return 0
    d = money.parse_decimal(value, places=2, what=label)
    if d < 0:
        raise ValueError(f"{label}: не может быть отрицательной")
    if d > 100:
        raise ValueError(f"{label}: больше 100 %")
    return int(d * 100)


def amount_kop(value: object, label: str = "Сумма") -> int:
    """A positive amount in kopecks (ValueError when not above zero or too big)."""
    d = money.parse_decimal(value, places=2, what=label)
    if d <= 0:
        raise ValueError(f"{label}: должна быть больше нуля")
    if d > money.MAX_LINE_AMOUNT:
        raise ValueError(f"{label}: слишком большая")
    return money.to_kop(d)


def opt_int(value: object) -> int | None:
    """An optional id: None when empty or zero, else the number."""
    if value in (None, "", 0, "0"):
        return None
    return int(value)  # type: ignore[call-overload]


# --- shared by the reading and writing modules -----------------------------------------


def visible(conn: sqlite3.Connection, actor: Actor, sale_id: int,
            include_deleted: bool = False) -> sqlite3.Row:
    """The sale row if the actor may see its client (NotFound otherwise)."""
    row = conn.execute("SELECT * FROM sales WHERE id = ?", (sale_id,)).fetchone()
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        raise NotFound(f"Продажа №{sale_id} не найдена")
    try:
        check_visible(conn, actor, row["client_id"])
    except NotFound:
        raise NotFound(f"Продажа №{sale_id} не найдена") from None
    return row


def apply_status(conn: sqlite3.Connection, actor: Actor, row: sqlite3.Row | Mapping[str, Any],
                 status: Mapping[str, Any], reason: str, note: str) -> None:
    """Move the sale ``row`` to ``status``: the sale, its status log and the audit."""
    ts = now_iso()
    conn.execute("UPDATE sales SET status_id = ?, status_at = ?, lost_reason = ?,"
                 " updated_at = ?, updated_by = ? WHERE id = ?",
                 (status["id"], ts, reason if status["is_lost"] else "", ts, actor.id, row["id"]))
    conn.execute("INSERT INTO sale_status_log (sale_id, from_status_id, to_status_id, actor_id,"
                 " at, note) VALUES (?,?,?,?,?,?)",
                 (row["id"], row["status_id"], status["id"], actor.id, ts,
                  reason if status["is_lost"] else note))
    old = conn.execute("SELECT label FROM sale_statuses WHERE id = ?",
                       (row["status_id"],)).fetchone()
    audit.record(conn, actor, "status", "sale", row["id"], row["client_id"],
                 f"{row['number']}: {old['label'] if old else '?'} → {status['label']}",
                 {"status_id": [row["status_id"], status["id"]],
                  **({"lost_reason": reason} if status["is_lost"] else {})})
