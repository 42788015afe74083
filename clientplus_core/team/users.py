"""Users of the CRM. Sign-in and roles in full arrive with the team issue; until
then the local single user is an administrator stored as a real row, so every
client has a real owner from day one."""

from __future__ import annotations

from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import ROLES, Actor

LOCAL_ADMIN_LOGIN = "admin"


def _actor(row: Any) -> Actor:
    return Actor(id=row["id"], login=row["login"], role=row["role"], full_name=row["full_name"])


def ensure_local_admin(store: Store) -> Actor:
    """The local administrator (created on first use)."""
    with store.write() as conn:
        row = conn.execute("SELECT * FROM users WHERE login = ?", (LOCAL_ADMIN_LOGIN,)).fetchone()
        if row is None:
            ts = now_iso()
            conn.execute("INSERT INTO users (login, full_name, role, created_at, updated_at)"
                         " VALUES (?,?,?,?,?)", (LOCAL_ADMIN_LOGIN, "Администратор", "admin",
                                                 ts, ts))
            row = conn.execute("SELECT * FROM users WHERE login = ?",
                               (LOCAL_ADMIN_LOGIN,)).fetchone()
    return _actor(row)


def get_actor(store: Store, login: str) -> Actor:
    """The active user with this login, as an Actor."""
    with store.read() as conn:
        row = conn.execute("SELECT * FROM users WHERE login = ? AND is_active = 1",
                           (login,)).fetchone()
    if row is None:
        raise NotFound(f"Пользователь «{login}» не найден")
    return _actor(row)


def create(store: Store, login: str, full_name: str = "", role: str = "manager",
           email: str = "") -> Actor:
    """Add a user (no password yet: sign-in arrives with the team issue)."""
    login = clean(login, 60)
    if not login:
        raise ValidationError({"login": "Логин: обязательное поле"})
    if role not in ROLES:
        raise ValidationError({"role": f"Роль: одна из {', '.join(ROLES)}"})
    ts = now_iso()
    with store.write() as conn:
        if conn.execute("SELECT 1 FROM users WHERE login = ?", (login,)).fetchone():
            raise ValidationError({"login": f"Логин «{login}» уже занят"})
        conn.execute("INSERT INTO users (login, full_name, role, email, created_at, updated_at)"
                     " VALUES (?,?,?,?,?,?)", (login, clean(full_name, 200), role, email, ts, ts))
    return get_actor(store, login)


def list_users(store: Store) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT id, login, full_name, role, email, is_active FROM users ORDER BY full_name")]


def get_actor_by_id(store: Store, user_id: int) -> Actor:
    """The active user with this id, as an Actor."""
    with store.read() as conn:
        row = conn.execute("SELECT * FROM users WHERE id = ? AND is_active = 1",
                           (user_id,)).fetchone()
    if row is None:
        raise NotFound(f"Пользователь №{user_id} не найден или отключён")
    return _actor(row)
