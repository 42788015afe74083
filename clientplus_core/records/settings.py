"""Settings stored in the database (JSON values), with documented defaults."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

from clientplus_core.base import formats
from clientplus_core.base.errors import ValidationError
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, require

LANGUAGES = ("ru", "en")
DEFAULTS: dict[str, tuple[Any, str]] = {
    "upload_limit_mb": (200, "Largest file a user may attach, in megabytes."),
    "company": ({}, "Own company requisites (the seller in documents)."),
    "language": ("ru", "Default interface language: ru or en."),
    "session_idle_minutes": (60, "Sign a browser session out after this many idle minutes"
                                 " (0: never)."),
    "sale_number_prefix": ("", "Prefix of new sale numbers (e.g. \"ПР-\"); the sale's year and"
                               " a per-year sequence follow: ПР-2026-0001."),
    "sale_auto_status": (False, "Move a sale to \"partly paid\" / \"paid\" automatically when a"
                               " payment is recorded (otherwise the status is only suggested)."),
    "smtp": ({"host": "", "port": 465, "security": "ssl", "login": "", "from_name": "",
              "from_address": "", "reply_to": "", "timeout": 30},
             "Outgoing mail server: host, port, security (ssl | starttls | none), login,"
             " from_name, from_address, reply_to, timeout (s). The password is never stored"
             " here: env CLIENTPLUS_SMTP_PASSWORD or .streamlit/secrets.toml [smtp] password."),
    "mail_rate_per_minute": (60, "Mailings send at most this many messages a minute"
                                 " (0: no limit)."),
    "timezone": ("Europe/Moscow", "Time zone (IANA name, e.g. Europe/Moscow, Asia/Yekaterinburg)"
                                  " in which every time is shown (histories, uploads, backups,"
                                  " the audit trail) and tasks' \"today\", \"this week\" and"
                                  " \"overdue\" are computed; times are stored in UTC."),
    "first_start": ({}, "Written by `clientplus init --demo-if-new`: the demo fill planned for"
                        " a new data folder and the steps done (clients, sales, passwords,"
                        " finished), so that a rerun completes an interrupted first start."
                        " Not meant to be edited."),
}


def get(store: Store, key: str) -> Any:
    """A setting's value, or its default."""
    with store.read() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return json.loads(row["value"]) if row else DEFAULTS[key][0]


def put(store: Store, actor: Actor, key: str, value: Any) -> None:
    """Change a setting (admin)."""
    from clientplus_core.team import audit

    require(actor, "settings.write")
    if key not in DEFAULTS:
        raise KeyError(key)
    if key == "language" and value not in LANGUAGES:
        raise ValidationError({"language": "Язык интерфейса: ru или en"})
    if key == "timezone" and (not isinstance(value, str) or not value.strip()
                              or formats.zone(value).key != value.strip()):
        raise ValidationError({"timezone": f"Часовой пояс: неизвестное имя «{value}»"
                                           " (например, Europe/Moscow)"})
    with store.write() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at, updated_by) VALUES (?,?,?,?)"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                     " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                     (key, json.dumps(value, ensure_ascii=False), now_iso(), actor.id))
        audit.record(conn, actor, "settings", "settings", None, None, key)


def zone(store: Store) -> ZoneInfo:
    """The zone every time is shown in (setting ``timezone``; Moscow when the stored
    name is unknown, so showing a time never fails)."""
    return formats.zone(get(store, "timezone"))


def language(store: Store) -> str:
    """The interface language of a browser that has not chosen one (setting
    ``language``): ``"ru"`` or ``"en"``; Russian for anything else."""
    value = get(store, "language")
    return value if value in LANGUAGES else "ru"


def upload_limit_bytes(store: Store) -> int:
    return int(get(store, "upload_limit_mb")) * 1024 * 1024
