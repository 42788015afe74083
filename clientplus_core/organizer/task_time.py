"""Task time and task forms: the ``timezone`` setting every "today" is computed
in, UTC instants and local days, and checking a task's fields as typed
(:func:`normalise`).

**Time**: instants are stored in UTC ISO (``due_at``, ``remind_at``); every "today",
"this week", "overdue" and calendar day is computed in the ``timezone`` setting
(Europe/Moscow by default). A task at 23:30 Moscow time (20:30 UTC) is due today
in Moscow. ``now`` is a parameter everywhere, so tests fix the clock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records import settings
from clientplus_core.records.visibility import check_visible
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

PRIORITIES: dict[str, tuple[str, str]] = {"low": ("Низкий", "Low"),
                                          "normal": ("Обычный", "Normal"),
                                          "high": ("Высокий", "High")}
REPEATS: dict[str, tuple[str, str]] = {"": ("Не повторять", "Do not repeat"),
                                       "daily": ("Ежедневно", "Daily"),
                                       "weekly": ("Еженедельно", "Weekly"),
                                       "monthly": ("Ежемесячно", "Monthly")}
LABELS = {"title": "Название", "description": "Описание", "due_date": "Срок",
          "due_time": "Время", "remind_date": "Дата напоминания",
          "remind_time": "Время напоминания", "priority": "Приоритет",
          "assignee_id": "Исполнитель", "client_id": "Клиент", "sale_id": "Продажа",
          "repeat": "Повтор", "status": "Статус"}
END_OF_DAY = time(23, 59)
MIN_YEAR, MAX_YEARS_AHEAD = 2000, 10
DEFAULT_TZ = "Europe/Moscow"


# --- time ------------------------------------------------------------------------------


def timezone(store: Store) -> ZoneInfo:
    """The zone every "today" is computed in (setting ``timezone``)."""
    name = str(settings.get(store, "timezone") or DEFAULT_TZ)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(f"Настройка «timezone»: неизвестный часовой пояс «{name}»"
                        " (пример: Europe/Moscow)") from None


def set_timezone(store: Store, actor: Actor, name: str) -> str:
    """Change the ``timezone`` setting (admin), refusing a name the zone database
    does not know."""
    require(actor, "settings.write")
    name = str(name or "").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError({"timezone": f"Часовой пояс: «{name}» неизвестен"
                                           " (пример: Europe/Moscow)"}) from None
    settings.put(store, actor, "timezone", name)
    return name


RUSSIAN_ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg",
                 "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk",
                 "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka")


def utc_now(now: datetime | None) -> datetime:
    """``now`` in UTC (the current second if ``None``); a naive ``now`` is refused."""
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    if now.tzinfo is None:
        raise ValueError("now: нужно время с часовым поясом")
    return now.astimezone(UTC)


def utc_iso(moment: datetime) -> str:
    """A moment as UTC ISO text, to the second (how tasks store instants)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def from_iso(text: str) -> datetime:
    """A stored ISO instant as a UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


def local_day_bounds(day: date, tz: ZoneInfo) -> tuple[str, str]:
    """UTC ISO of local midnight at ``day`` and at the day after."""
    start = datetime.combine(day, time(0), tzinfo=tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    return utc_iso(start), utc_iso(end)


def local_today(store: Store, now: datetime | None = None) -> date:
    """Today's date in the configured zone."""
    return utc_now(now).astimezone(timezone(store)).date()


# --- parsing ---------------------------------------------------------------------------


def _parse_date(value: object, key: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day.year < MIN_YEAR or day.year > date.today().year + MAX_YEARS_AHEAD:
            raise ValueError(f"{LABELS[key]}: дата {day:%d.%m.%Y} вне разумных пределов")
        return day
    raise ValueError(f"{LABELS[key]}: «{text[:40]}» — не дата; нужна дата вида 31.12.2026")


def _parse_time(value: object, key: str) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    text = str(value).strip().replace(".", ":")
    for fmt in ("%H:%M", "%H:%M:%S", "%H"):
        try:
            return datetime.strptime(text, fmt).time().replace(second=0)
        except ValueError:
            continue
    raise ValueError(f"{LABELS[key]}: «{text[:20]}» — не время; нужно время вида 14:30")


def _opt_id(value: object, key: str) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise ValueError(f"{LABELS[key]}: «{value}» — не номер") from None


@dataclass
class _Values:
    title: str = ""
    description: str = ""
    due_at: str = ""
    remind_at: str | None = None
    priority: str = "normal"
    assignee_id: int = 0
    client_id: int | None = None
    sale_id: int | None = None
    repeat: str = ""
    repeat_day: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        return {"title": self.title, "description": self.description, "due_at": self.due_at,
                "remind_at": self.remind_at, "priority": self.priority,
                "assignee_id": self.assignee_id, "client_id": self.client_id,
                "sale_id": self.sale_id, "repeat": self.repeat, "repeat_day": self.repeat_day}


def _sees(conn: sqlite3.Connection, actor: Actor, client_id: int) -> bool:
    """Whether ``actor`` may see the live client ``client_id``."""
    try:
        check_visible(conn, actor, client_id)
    except NotFound:
        return False
    return True


def normalise(conn: sqlite3.Connection, store: Store, actor: Actor, data: Mapping[str, Any],
              before: Mapping[str, Any] | None) -> _Values:
    """Validate ``data`` (merged over ``before`` for an update); ValidationError names
    every bad field."""
    src: dict[str, Any] = dict(before or {})
    src.update(data)
    v = _Values()
    err = v.errors
    tz = timezone(store)

    v.title = clean(str(src.get("title") or ""), 200)
    if not v.title:
        err["title"] = f"{LABELS['title']}: обязательное поле"
    v.description = str(src.get("description") or "").strip()[:5000]

    due_day = due_tm = None
    try:
        due_day = _parse_date(src.get("due_date"), "due_date")
        if due_day is None:
            err["due_date"] = f"{LABELS['due_date']}: обязательное поле"
    except ValueError as exc:
        err["due_date"] = str(exc)
    try:
        due_tm = _parse_time(src.get("due_time"), "due_time")
    except ValueError as exc:
        err["due_time"] = str(exc)
    if due_day is not None:
        v.due_at = utc_iso(datetime.combine(due_day, due_tm or END_OF_DAY, tzinfo=tz))
    try:
        r_day = _parse_date(src.get("remind_date"), "remind_date")
        r_tm = _parse_time(src.get("remind_time"), "remind_time")
        if r_day is None and r_tm is not None:
            r_day = due_day
        if r_day is not None:
            v.remind_at = utc_iso(datetime.combine(r_day, r_tm or time(9, 0), tzinfo=tz))
    except ValueError as exc:
        key = "remind_time" if str(exc).startswith(LABELS["remind_time"]) else "remind_date"
        err[key] = str(exc)

    v.priority = str(src.get("priority") or "normal")
    if v.priority not in PRIORITIES:
        err["priority"] = f"{LABELS['priority']}: один из {', '.join(PRIORITIES)}"
    v.repeat = str(src.get("repeat") or "")
    if v.repeat not in REPEATS:
        err["repeat"] = f"{LABELS['repeat']}: один из daily, weekly, monthly"
    elif v.repeat == "monthly" and due_day is not None:
        if (before and before.get("repeat") == "monthly" and before.get("repeat_day")
                and before.get("due_date") == due_day.isoformat()):
            v.repeat_day = int(before["repeat_day"])  # 31st clamped to 30 Apr stays 31st
        else:
            v.repeat_day = due_day.day

    try:
        assignee = _opt_id(src.get("assignee_id"), "assignee_id") or actor.id
        row = conn.execute("SELECT id FROM users WHERE id = ? AND is_active = 1",
                           (assignee,)).fetchone()
        if row is None:
            err["assignee_id"] = f"{LABELS['assignee_id']}: пользователь №{assignee} не найден" \
                                 " или отключён"
        elif (assignee != actor.id and actor.role not in ("admin", "head")
              and (before is None or assignee != before.get("assignee_id"))):
            err["assignee_id"] = f"{LABELS['assignee_id']}: менеджер может назначать задачи" \
                                 " только себе"
        v.assignee_id = assignee
    except ValueError as exc:
        err["assignee_id"] = str(exc)

    try:
        v.client_id = _opt_id(src.get("client_id"), "client_id")
        v.sale_id = _opt_id(src.get("sale_id"), "sale_id")
    except ValueError as exc:
        err["client_id" if "Клиент" in str(exc) else "sale_id"] = str(exc)
    if v.sale_id is not None and "sale_id" not in err:
        sale = conn.execute("SELECT id, client_id, deleted_at FROM sales WHERE id = ?",
                            (v.sale_id,)).fetchone()
        if sale is None or sale["deleted_at"] is not None or not _sees(conn, actor,
                                                                       sale["client_id"]):
            # outside the scope reads as absent: nothing about the sale's client
            err["sale_id"] = f"{LABELS['sale_id']}: продажа №{v.sale_id} не найдена"
        elif v.client_id is not None and v.client_id != sale["client_id"]:
            err["sale_id"] = f"{LABELS['sale_id']}: продажа относится к другому клиенту"
        else:
            v.client_id = int(sale["client_id"])
    if v.client_id is not None and "client_id" not in err and not _sees(conn, actor,
                                                                      v.client_id):
        err["client_id"] = f"{LABELS['client_id']}: клиент №{v.client_id} не найден"
    if err:
        raise ValidationError(err)
    return v
