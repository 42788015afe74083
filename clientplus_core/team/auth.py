"""Sign-in: argon2 password hashes, lockout after repeated failures, password
changes and resets, and the rule for local single-user mode.

The lockout is stored in the ``users`` row, so it holds across browser sessions
and server restarts.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import ROLES, Actor, require

MAX_FAILED = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 8
LOOPBACK = ("127.0.0.1", "localhost", "::1")

_hasher = PasswordHasher()


class AuthError(UserError):
    """Wrong login or password, a locked or deactivated account."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError({"password": f"Пароль: не короче {MIN_PASSWORD} символов"})


def _parse(ts: str | None) -> datetime | None:
    return datetime.fromisoformat(ts) if ts else None


def authenticate(store: Store, login: str, password: str) -> Actor:
    """Check a login and password; count failures and lock after five of them.

    The message never says whether the login exists. Failures are committed
    (counter, lock, audit row) before the error is raised.
    """
    login = (login or "").strip()
    now = datetime.now(UTC)
    failure: str | None = None
    actor: Actor | None = None
    with store.write() as conn:
        row = conn.execute("SELECT * FROM users WHERE login = ?", (login,)).fetchone()
        locked = _parse(row["locked_until"]) if row is not None else None
        if row is None or not row["password_hash"]:
            audit.record(conn, None, "sign_in_failed", "user", None, None, login[:60])
            failure = "Неверный логин или пароль"
        elif locked and locked > now:
            audit.record(conn, None, "sign_in_locked", "user", row["id"], None, login)
            failure = (f"Вход заблокирован до {locked.strftime('%H:%M')} (UTC) после "
                       f"{MAX_FAILED} неудачных попыток")
        elif not _verify(row["password_hash"], password):
            failed = (0 if locked else row["failed_attempts"]) + 1
            until = (now + timedelta(minutes=LOCK_MINUTES)).replace(microsecond=0).isoformat() \
                if failed >= MAX_FAILED else None
            conn.execute("UPDATE users SET failed_attempts = ?, locked_until = ? WHERE id = ?",
                         (0 if until else failed, until, row["id"]))
            audit.record(conn, None, "sign_in_failed", "user", row["id"], None, login)
            failure = (f"Вход заблокирован на {LOCK_MINUTES} минут после {MAX_FAILED}"
                       " неудачных попыток") if until else "Неверный логин или пароль"
        elif not row["is_active"]:
            failure = "Учётная запись отключена — обратитесь к администратору"
        else:
            updates = "failed_attempts = 0, locked_until = NULL"
            args: list[object] = []
            if _hasher.check_needs_rehash(row["password_hash"]):
                updates += ", password_hash = ?"
                args.append(hash_password(password))
            conn.execute(f"UPDATE users SET {updates} WHERE id = ?", [*args, row["id"]])
            actor = Actor(row["id"], row["login"], row["role"], row["full_name"])
            audit.record(conn, actor, "sign_in", "user", row["id"], None, login)
    if failure or actor is None:
        raise AuthError(failure or "Неверный логин или пароль")
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
        new = Actor(uid, login, role, full_name)
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
