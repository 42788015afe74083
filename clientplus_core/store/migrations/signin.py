"""Issue 11 (safe on a shared server): sign-in failures counted per login and per
source, so that a stranger cannot lock a real user out (see
:mod:`clientplus_core.team.auth`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import outreach  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m023_create_sign_in_failures(db: sqlite_utils.Database) -> None:
    """One row per failed sign-in: the login as typed (known or not, so that an
    unknown login is treated exactly like a real one), the source (the client's IP
    address, or ``local``) and when. Rows older than the lock window are pruned on
    the next failure; the old per-user counter (``users.failed_attempts``,
    ``users.locked_until``) is no longer read."""
    run_script(db, """
CREATE TABLE sign_in_failures (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX ix_sign_in_failures_login ON sign_in_failures(login, at);
CREATE INDEX ix_sign_in_failures_source ON sign_in_failures(source, at);
CREATE INDEX ix_sign_in_failures_at ON sign_in_failures(at)
""")
