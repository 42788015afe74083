"""Sign-in: argon2 password hashes, lockout after repeated failures, password
changes and resets, and the rule for local single-user mode.

Lockout policy. Every failed sign-in is a row of ``sign_in_failures`` (the login as
typed, the source — the client's IP address, or ``local`` — and the time), so it
holds across browser sessions and server restarts. Within a sliding window of
:data:`LOCK_MINUTES` minutes a sign-in is refused, without checking the password,
when there were already

- :data:`MAX_FAILED` (5) failures for this login from this source: a stranger
  guessing a colleague's password locks only their own address out, and the real
  user, signing in from another address, is not locked out at all;
- :data:`SOURCE_MAX_FAILED` (20) failures from this source, whatever the logins
  (one address trying one password on many logins);
- :data:`LOGIN_MAX_FAILED` (20) failures for this login from all sources together
  (a guess spread over many addresses): only then is the real user locked out too,
  for at most :data:`LOCK_MINUTES` minutes after the last counted failure.

Refused attempts are not counted, so hammering a lock does not prolong it. A login
nobody has is counted and answered exactly like a real one (same texts, the same
password-hash work), so the answers never tell whether a login exists. A
successful sign-in clears that login's failures from that source; an
administrator's password reset clears all of the login's failures.
"""

from __future__ import annotations

import functools
import secrets
import sqlite3
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clientplus_core.base import formats
from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit, sessions
from clientplus_core.team.access import ROLES, Actor, require

MAX_FAILED = 5            # per login from one source
SOURCE_MAX_FAILED = 20    # per source, whatever the logins
LOGIN_MAX_FAILED = 20     # per login, all sources together
LOCK_MINUTES = 15         # the sliding window, and so the longest a lock lasts
LOCAL_SOURCE = "local"
WRONG = "Неверный логин или пароль"
DISABLED = "Учётная запись отключена — обратитесь к администратору"
# the refusals in English (the sign-in page in the English interface)
IN_ENGLISH = {WRONG: "Wrong login or password",
              DISABLED: "This account is disabled — ask the administrator"}
LOCKED = (f"Вход временно заблокирован: слишком много неудачных попыток. Попробуйте снова"
          f" через {LOCK_MINUTES} минут или обратитесь к администратору")
LOCKED_UNTIL = ("Вход временно заблокирован до {until} ({zone}): слишком много неудачных"
                " попыток. Попробуйте снова после этого времени или обратитесь к администратору",
                "Sign-in is blocked until {until} ({zone}) after too many failed attempts."
                " Try again after that time or ask the administrator")
MIN_PASSWORD = 8
LOOPBACK = ("127.0.0.1", "localhost", "::1")

_hasher = PasswordHasher()


class AuthError(UserError):
    """Wrong login or password, a locked or deactivated account."""


class LockedOut(AuthError):
    """Sign-in refused until ``until`` (an aware datetime) after too many failures."""

    def __init__(self, until: datetime, tz: ZoneInfo | str | None = None,
                 now: datetime | None = None):
        self.until = until
        super().__init__(locked_message(until, tz, "ru", now))


def locked_message(until: datetime, tz: ZoneInfo | str | None = None, lang: str = "ru",
                   now: datetime | None = None) -> str:
    """«Вход временно заблокирован до 12:45 (МСК): …» in the zone ``tz`` (the
    ``timezone`` setting), with the date when the lock ends on another day than ``now``."""
    z = tz if isinstance(tz, ZoneInfo) else formats.zone(tz)
    local = until.astimezone(z)
    today = (now or datetime.now(UTC)).astimezone(z).date()
    when = formats.clock(until, z) if local.date() == today else formats.moment(until, z)
    text = LOCKED_UNTIL[1] if lang == "en" else LOCKED_UNTIL[0]
    return text.format(until=when, zone=formats.zone_label(z, lang, until))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": f"Пароль: не короче {MIN_PASSWORD} символов"})


def _ts(moment: datetime) -> str:
    """A UTC timestamp that sorts as text (always the same width)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def locked_until(conn: sqlite3.Connection, login: str, source: str,
                 now: datetime) -> datetime | None:
    """When the sign-in of ``login`` from ``source`` opens again, or None when it is
    open now (the lockout policy is in the module docstring)."""
    since = _ts(now - timedelta(minutes=LOCK_MINUTES))
    until: datetime | None = None
    for cond, args, limit in (("login = ? AND source = ?", (login, source), MAX_FAILED),
                              ("source = ?", (source,), SOURCE_MAX_FAILED),
                              ("login = ?", (login,), LOGIN_MAX_FAILED)):
        row = conn.execute(f"SELECT at FROM sign_in_failures WHERE {cond} AND at > ?"
                           " ORDER BY at DESC LIMIT 1 OFFSET ?",
                           (*args, since, limit - 1)).fetchone()
        if row is not None:
            opens = datetime.fromisoformat(row[0]) + timedelta(minutes=LOCK_MINUTES)
            until = opens if until is None else max(until, opens)
    return until


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against when the login is unknown, so that such an answer
    takes as long as a wrong password for a real login."""
    return hash_password(secrets.token_urlsafe(16))


def authenticate(store: Store, login: str, password: str, source: str | None = None,
                 now: datetime | None = None, tz: ZoneInfo | str | None = None) -> Actor:
    """Check a login and password typed from ``source`` (the client's IP address;
    None or "" is ``local``); count failures and lock as the module docstring says.

    The answer never says whether the login exists. The password hash is checked
    outside the write transaction (it takes tens of milliseconds, and a stranger
    hammering the form must not hold up everyone's writes); the lock is checked
    again inside it, so attempts sent in parallel cannot slip past it. Failures are
    committed (the failure row, the audit row) before the error is raised. A lock
    raises :class:`LockedOut`, which says until when in the zone ``tz`` (the
    ``timezone`` setting; Moscow by default).
    """
    login = clean(login)[:100]
    source = clean(source)[:64] or LOCAL_SOURCE
    now = now or datetime.now(UTC)
    with store.read() as conn:
        row = conn.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
        locked = locked_until(conn, login, source, now) is not None
    user_id = row["id"] if row is not None else None
    stored = row["password_hash"] if row is not None else None
    # an unknown login is checked against a throwaway hash: same work, same answer
    right = not locked and _verify(stored or _dummy_hash(), password) and bool(stored)
    failure: str | None = None
    until: datetime | None = None
    actor: Actor | None = None
    with store.write() as conn:
        if locked or (right and locked_until(conn, login, source, now) is not None):
            audit.record(conn, None, "sign_in_locked", "user", user_id, None,
                         f"{login[:60]} ({source})")
            until = locked_until(conn, login, source, now)
            failure = LOCKED
        elif not right or row is None:
            conn.execute("DELETE FROM sign_in_failures WHERE at <= ?",
                         (_ts(now - timedelta(minutes=LOCK_MINUTES)),))
            conn.execute("INSERT INTO sign_in_failures (login, source, at) VALUES (?,?,?)",
                         (login, source, _ts(now)))
            audit.record(conn, None, "sign_in_failed", "user", user_id, None,
                         f"{login[:60]} ({source})")
            until = locked_until(conn, login, source, now)
            failure = LOCKED if until else WRONG
        elif not row["is_active"]:
            failure = DISABLED
        else:
            conn.execute("DELETE FROM sign_in_failures WHERE login = ? AND source = ?",
                         (login, source))
            if _hasher.check_needs_rehash(row["password_hash"]):
                conn.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                             (hash_password(password), row["id"]))
            actor = Actor(row["id"], row["login"], row["role"], row["full_name"])
            audit.record(conn, actor, "sign_in", "user", row["id"], None, login)
    if failure == LOCKED and until is not None:
        raise LockedOut(until, tz, now)
    if failure or actor is None:
        raise AuthError(failure or WRONG)
    return actor


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password or ""))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def must_change_password(store: Store, user_id: int) -> bool:
    with store.read() as conn:
        row = conn.execute("SELECT must_change_password FROM users WHERE id = ?",
                           (user_id,)).fetchone()
    return bool(row and row[0])


def change_password(store: Store, actor: Actor, old: str, new: str) -> None:
    """A user changes their own password (the old one is required)."""
    check_password_strength(new)
    with store.write() as conn:
        row = conn.execute("SELECT password_hash FROM users WHERE id = ?", (actor.id,)).fetchone()
        if row is None:
            raise NotFound("Пользователь не найден")
        if row["password_hash"] and not _verify(row["password_hash"], old):
            raise ValidationError({"old_password": "Текущий пароль: неверный"})
        conn.execute("UPDATE users SET password_hash = ?, must_change_password = 0,"
                     " updated_at = ?, version = version + 1 WHERE id = ?",
                     (hash_password(new), now_iso(), actor.id))
        audit.record(conn, actor, "password_change", "user", actor.id, None, actor.login)
        # every browser signed in with the old password is signed out (the UI starts a
        # new session for the tab the change was made in)
        sessions.revoke_all_for_user(conn, actor.id, "password")


def reset_password(store: Store, actor: Actor, user_id: int, new: str | None = None) -> str:
    """Admin sets a (temporary) password; the user must change it at next sign-in.
    Returns the password (generated when not given) to hand over in person."""
    require(actor, "users.manage")
    new = new or secrets.token_urlsafe(9)
    check_password_strength(new)
    with store.write() as conn:
        row = conn.execute("SELECT login FROM users WHERE id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFound(f"Пользователь №{user_id} не найден")
        conn.execute("UPDATE users SET password_hash = ?, must_change_password = 1,"
                     " failed_attempts = 0, locked_until = NULL, updated_at = ?,"
                     " version = version + 1 WHERE id = ?",
                     (hash_password(new), now_iso(), user_id))
        conn.execute("DELETE FROM sign_in_failures WHERE login = ?", (row["login"],))
        sessions.revoke_all_for_user(conn, user_id, "password")
        audit.record(conn, actor, "password_reset", "user", user_id, None, row["login"])
    return new


def set_active(store: Store, actor: Actor, user_id: int, active: bool) -> None:
    """Deactivate (or re-activate) a user; an admin cannot deactivate themself."""
    require(actor, "users.manage")
    if user_id == actor.id and not active:
        raise ValidationError({"is_active": "Нельзя отключить самого себя"})
    with store.write() as conn:
        conn.execute("UPDATE users SET is_active = ?, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (1 if active else 0, now_iso(), user_id))
        if not active:
            sessions.revoke_all_for_user(conn, user_id, "deactivated")
        audit.record(conn, actor, "user_activate" if active else "user_deactivate", "user",
                     user_id)


def force_password_change(store: Store, actor: Actor, user_id: int) -> None:
    require(actor, "users.manage")
    with store.write() as conn:
        conn.execute("UPDATE users SET must_change_password = 1 WHERE id = ?", (user_id,))
        audit.record(conn, actor, "password_force_change", "user", user_id)


def add_user(store: Store, actor: Actor | None, login: str, password: str, role: str = "manager",
             full_name: str = "", email: str = "") -> Actor:
    """Create a user with a password. ``actor`` None is the bootstrap case (creating
    the first administrator when nobody has a password yet)."""
    if actor is None:
        if has_passwords(store):
            raise UserError("Администратор уже создан — войдите под ним")
    else:
        require(actor, "users.manage")
    login = clean(login, 60)
    errors: dict[str, str] = {}
    if not login:
        errors["login"] = "Логин: обязательное поле"
    if role not in ROLES:
        errors["role"] = f"Роль: одна из {', '.join(ROLES)}"
    if len(password or "") < MIN_PASSWORD:
        errors["password"] = f"Пароль: не короче {MIN_PASSWORD} символов"
    if errors:
        raise ValidationError(errors)
    ts = now_iso()
    with store.write() as conn:
        row = conn.execute("SELECT id, password_hash FROM users WHERE login = ?",
                           (login,)).fetchone()
        if row is not None and row["password_hash"]:
            raise ValidationError({"login": f"Логин «{login}» уже занят"})
        if row is None:
            cur = conn.execute(
                "INSERT INTO users (login, full_name, role, email, password_hash, created_at,"
                " updated_at) VALUES (?,?,?,?,?,?,?)",
                (login, clean(full_name, 200), role, email, hash_password(password), ts, ts))
            uid = int(cur.lastrowid or 0)
        else:
            uid = row["id"]
            conn.execute("UPDATE users SET password_hash = ?, role = ?, full_name ="
                         " COALESCE(NULLIF(?, ''), full_name), updated_at = ? WHERE id = ?",
                         (hash_password(password), role, clean(full_name, 200), ts, uid))
        new = Actor(uid, login, role, clean(full_name, 200))
        audit.record(conn, actor or new, "user_create", "user", uid, None, f"{login} ({role})")
        return new


def has_passwords(store: Store) -> bool:
    """Whether any active user can sign in with a password."""
    with store.read() as conn:
        return conn.execute("SELECT 1 FROM users WHERE password_hash IS NOT NULL"
                            " AND is_active = 1 LIMIT 1").fetchone() is not None


def single_user_mode(store: Store, server_address: str | None) -> bool:
    """Skip sign-in only on a loopback-only server where nobody has a password yet."""
    return (server_address or "").strip() in LOOPBACK and not has_passwords(store)


def session_expired(last_seen: datetime, idle_minutes: int, now: datetime | None = None) -> bool:
    """Whether an idle session has run past its limit."""
    now = now or datetime.now(UTC)
    return idle_minutes > 0 and now - last_seen > timedelta(minutes=idle_minutes)


def set_demo_passwords(store: Store, logins: list[str]) -> dict[str, str]:
    """Give the demo users fresh random passwords (printed once by ``make run``,
    never stored in clear or shown in the app). Returns login -> password."""
    out: dict[str, str] = {}
    with store.write() as conn:
        for login in logins:
            pw = secrets.token_urlsafe(9)
            cur = conn.execute("UPDATE users SET password_hash = ?, updated_at = ? WHERE login = ?",
                               (hash_password(pw), now_iso(), login))
            if cur.rowcount:
                out[login] = pw
                audit.record(conn, None, "password_reset", "user", None, None, login)
    return out
