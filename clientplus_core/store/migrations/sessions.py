"""Issue 13 (daily use in a Russian office), section 1: a browser stays signed in
across reloads and new tabs through a server-side session whose random token the
browser keeps in a cookie (see :mod:`clientplus_core.team.sessions`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import office  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m028_create_web_sessions(db: sqlite_utils.Database) -> None:
    """One row per signed-in browser: the user, the SHA-256 of the cookie's token
    (the token itself is never stored; NULL until the browser has collected it), the
    SHA-256 of the one-time code the browser collects it with and until when that
    code works, when the session started and was last used, and when and why it
    ended (``sign_out``, ``idle``, ``password``, ``deactivated``); and the interface
    language chosen in it, so that a reload keeps it."""
    run_script(db, """
CREATE TABLE web_sessions (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT UNIQUE,
    claim_hash TEXT UNIQUE,
    claim_until TEXT,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    ended_at TEXT,
    end_reason TEXT NOT NULL DEFAULT '',
    lang TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_web_sessions_user ON web_sessions(user_id, ended_at);
CREATE INDEX ix_web_sessions_last_seen ON web_sessions(last_seen_at)
""")
