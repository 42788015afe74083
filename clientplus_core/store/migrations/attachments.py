"""Issue 11 (safe on a shared server), section 3: an attachment's text is extracted off
the request, and a file over a cap is kept with the reason its text was not read
(:mod:`clientplus_core.clients.text_jobs`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import hardening  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations

BLOBS = """CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    text_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (text_status IN ('pending', 'ok', 'none', 'error', 'too_large')),
    text TEXT NOT NULL DEFAULT '',
    text_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
)"""


@migrations()
def m026_add_blob_text_reason(db: sqlite_utils.Database) -> None:
    """``blobs.text_status`` may also be ``too_large`` (over the size, time or memory
    cap), and ``blobs.text_reason`` says in Russian why a text was not extracted.
    ``pending`` (already allowed) now means "queued for the background extraction".

    SQLite cannot change a CHECK in place, so the table is rebuilt: its rows are kept
    aside, the table dropped and made anew, the rows put back. Files, documents and
    mail attachments reference ``blobs``; with foreign keys deferred to the commit, the
    rows are all back before anyone checks."""
    db.execute("PRAGMA defer_foreign_keys = ON")
    db.execute("CREATE TEMP TABLE blobs_before_m026 AS SELECT * FROM blobs")
    db.execute("DROP TABLE blobs")
    db.execute(BLOBS)
    db.execute("INSERT INTO blobs (sha256, size, text_status, text, created_at)"
               " SELECT sha256, size, text_status, text, created_at FROM blobs_before_m026")
    db.execute("DROP TABLE temp.blobs_before_m026")
