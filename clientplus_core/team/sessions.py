"""Browser sessions that survive a reload: a random token in a cookie, its SHA-256 in
``web_sessions``.

How a browser gets its cookie. Signing in (:func:`create`) starts a session row
that has no token yet, only the SHA-256 of a one-time *claim code* that works for
:data:`CLAIM_SECONDS`. The app hands that code to the browser, which sends it back
to the server's own cookie route; :func:`claim` then draws the token
(``secrets.token_urlsafe(32)``), stores only its hash and answers it once, as an
HttpOnly cookie. So the token exists in clear only in that one HTTP answer and in
the browser's cookie jar: never in the database, the page, a log or a URL. The
cookie holds nothing else (no login, no role, no password).

A session ends when the user signs out (:func:`revoke`), after
``session_idle_minutes`` without use (checked by :func:`lookup` and :func:`check`,
which also note the use), and for all of a user's browsers at once
(:func:`revoke_all_for_user`) when the password changes or is reset and when the
user is deactivated. Ended rows stay :data:`KEEP_DAYS` days (for "why was I signed
out"), then go; so do rows unused for longer than any cookie lives.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

#: What a session look-up raises when the database cannot answer (no data folder yet,
#: a locked or damaged file, disk trouble): callers outside the core catch these.
STORE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, OSError)

COOKIE = "clientplus_session"
CLAIM_SECONDS = 60          # how long the one-time claim code works
TOUCH_SECONDS = 30          # "last seen" is written at most this often per session
KEEP_DAYS = 7               # ended or abandoned rows are purged after this
MAX_AGE_CAP = 30 * 86400    # the cookie's longest life (also when idle expiry is off)
REASONS = ("sign_out", "idle", "password", "deactivated")


@dataclass(frozen=True)
class NewSession:
    """A session just started: its row id, and the one-time code the browser
    exchanges for its cookie (:func:`claim`)."""

    id: int
    claim_code: str


@dataclass(frozen=True)
class Live:
    """A session in use: its row id, the user as stored now, and the interface
    language chosen in it ("" when none was)."""

    id: int
    actor: Actor
    lang: str = ""


def digest(secret: str) -> str:
    """The SHA-256 (hex) under which a token or claim code is stored."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _ts(moment: datetime) -> str:
    """A UTC timestamp that sorts as text (always the same width)."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def cookie_max_age(idle_minutes: int) -> int:
    """The cookie's Max-Age in seconds: the idle timeout, at most :data:`MAX_AGE_CAP`
    (and that cap when idle expiry is off)."""
    if idle_minutes <= 0:
        return MAX_AGE_CAP
    return min(idle_minutes * 60, MAX_AGE_CAP)


def create(store: Store, user_id: int, now: datetime | None = None) -> NewSession:
    """Start a session for a user who has just signed in; returns the claim code the
    browser collects its cookie with (within :data:`CLAIM_SECONDS`)."""
    now = now or datetime.now(UTC)
    code = secrets.token_urlsafe(32)
    with store.write() as conn:
        _purge(conn, now)
        cur = conn.execute(
            "INSERT INTO web_sessions (user_id, claim_hash, claim_until, created_at,"
            " last_seen_at) VALUES (?,?,?,?,?)",
            (user_id, digest(code), _ts(now + timedelta(seconds=CLAIM_SECONDS)), _ts(now),
             _ts(now)))
        return NewSession(int(cur.lastrowid or 0), code)


def claim(store: Store, code: str, now: datetime | None = None) -> str | None:
    """Exchange a claim code for the session's token (once; None when the code is
    unknown, used, expired, or its session ended). Only the token's hash is kept."""
    if not code or len(code) > 200:
        return None
    now = now or datetime.now(UTC)
    token = secrets.token_urlsafe(32)
    with store.write() as conn:
        cur = conn.execute(
            "UPDATE web_sessions SET token_hash = ?, claim_hash = NULL, claim_until = NULL,"
            " last_seen_at = ? WHERE claim_hash = ? AND claim_until >= ? AND ended_at IS NULL",
            (digest(token), _ts(now), digest(code), _ts(now)))
    return token if cur.rowcount == 1 else None


def lookup(store: Store, token: str, idle_minutes: int,
           now: datetime | None = None) -> Live | None:
    """The live session a cookie's token belongs to, with its user as stored now
    (None: unknown token, ended or idle session, deactivated user); notes the use."""
    if not token or len(token) > 200:
        return None
    return _live(store, "token_hash = ?", digest(token), idle_minutes, now)


def resolve(store: Store, token: str, idle_minutes: int,
            now: datetime | None = None) -> Actor | None:
    """Who a cookie's token signs in (see :func:`lookup`), or None."""
    live = lookup(store, token, idle_minutes, now)
    return live.actor if live else None


def check(store: Store, session_id: int, idle_minutes: int,
          now: datetime | None = None) -> Live | None:
    """The same as :func:`lookup`, by the session's id (for a browser tab that started
    the session itself and so never read its cookie)."""
    return _live(store, "id = ?", int(session_id), idle_minutes, now)


def _live(store: Store, cond: str, key: object, idle_minutes: int,
          now: datetime | None) -> Live | None:
    now = now or datetime.now(UTC)
    with store.read() as conn:
        row = conn.execute(
            "SELECT s.id, s.last_seen_at, s.ended_at, s.lang, u.login, u.role, u.full_name,"
            " u.id AS uid, u.is_active FROM web_sessions s JOIN users u ON u.id = s.user_id"
            f" WHERE s.{cond}",
            (key,)).fetchone()
    if row is None or row["ended_at"] is not None:
        return None
    last = datetime.fromisoformat(row["last_seen_at"])
    reason = ""
    if not row["is_active"]:
        reason = "deactivated"
    elif idle_minutes > 0 and now - last > timedelta(minutes=idle_minutes):
        reason = "idle"
    if reason:
        with store.write() as conn:
            _end(conn, "id = ?", (row["id"],), reason, now)
        return None
    if now - last >= timedelta(seconds=TOUCH_SECONDS):
        with store.write() as conn:
            conn.execute("UPDATE web_sessions SET last_seen_at = ? WHERE id = ?"
                         " AND ended_at IS NULL", (_ts(now), row["id"]))
    return Live(int(row["id"]), Actor(int(row["uid"]), row["login"], row["role"],
                                      row["full_name"]), str(row["lang"] or ""))


def set_lang(store: Store, session_id: int, lang: str) -> None:
    """Remember the interface language chosen in a session (``ru`` or ``en``), so
    that the browser's next tab or reload opens in it."""
    if lang in ("ru", "en"):
        with store.write() as conn:
            conn.execute("UPDATE web_sessions SET lang = ? WHERE id = ?", (lang, session_id))


def end_reason(store: Store, *, session_id: int | None = None,
               token: str | None = None) -> str:
    """Why a session ended (one of :data:`REASONS`), or "" when it did not, or is
    unknown."""
    cond, key = ("id = ?", session_id) if session_id is not None else (
        "token_hash = ?", digest(token or ""))
    with store.read() as conn:
        row = conn.execute(f"SELECT end_reason FROM web_sessions WHERE {cond}",
                           (key,)).fetchone()
    return str(row[0]) if row else ""


def claimed(store: Store, session_id: int) -> bool:
    """Whether the browser has collected this session's cookie, or can no longer
    (the code expired or the session ended): nothing left to hand over."""
    with store.read() as conn:
        row = conn.execute("SELECT claim_until, ended_at FROM web_sessions WHERE id = ?",
                           (session_id,)).fetchone()
    return (row is None or row["claim_until"] is None or row["ended_at"] is not None
            or row["claim_until"] < _ts(datetime.now(UTC)))


def revoke(store: Store, session_id: int, reason: str = "sign_out") -> None:
    """End one session (signing out): its cookie signs nobody in any more."""
    with store.write() as conn:
        _end(conn, "id = ?", (int(session_id),), reason, datetime.now(UTC))


def revoke_token(store: Store, token: str, reason: str = "sign_out") -> None:
    """End the session a cookie's token belongs to (if any)."""
    if token and len(token) <= 200:
        with store.write() as conn:
            _end(conn, "token_hash = ?", (digest(token),), reason, datetime.now(UTC))


def revoke_all_for_user(conn: sqlite3.Connection, user_id: int, reason: str) -> int:
    """End every session of a user inside the caller's write transaction (password
    changed or reset, user deactivated); returns how many were live."""
    return _end(conn, "user_id = ?", (int(user_id),), reason, datetime.now(UTC))


def _end(conn: sqlite3.Connection, cond: str, args: tuple[object, ...], reason: str,
         now: datetime) -> int:
    cur = conn.execute(
        "UPDATE web_sessions SET ended_at = ?, end_reason = ?, claim_hash = NULL,"
        f" claim_until = NULL WHERE {cond} AND ended_at IS NULL",
        (_ts(now), reason if reason in REASONS else "sign_out", *args))
    return int(cur.rowcount)


def _purge(conn: sqlite3.Connection, now: datetime) -> None:
    """Drop rows ended more than :data:`KEEP_DAYS` days ago, and rows unused for longer
    than any cookie lives (:data:`MAX_AGE_CAP`)."""
    conn.execute("DELETE FROM web_sessions WHERE (ended_at IS NOT NULL AND ended_at < ?)"
                 " OR last_seen_at < ?", (_ts(now - timedelta(days=KEEP_DAYS)),
                                          _ts(now - timedelta(seconds=MAX_AGE_CAP))))
