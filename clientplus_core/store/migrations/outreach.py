"""Release 3 (outreach and organizer): address books and consent, mailings, tasks."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import sales  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m021_create_outreach_lists(db: sqlite_utils.Database) -> None:
    """Outreach lists (issue 7): the consent / opt-out register (one current entry
    per channel and normalised value; its history is in the audit log), address
    books (criteria as JSON, live or snapshot) and their members (manual include /
    exclude, and the frozen client ids of a snapshot). Plus the index the
    "interested in product X" criterion reads (sale lines by catalogue item)."""
    run_script(db, """
CREATE TABLE consents (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL CHECK (channel IN ('email', 'phone')),
    value TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('consent', 'optout')),
    date TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    client_id INTEGER REFERENCES clients(id),
    contact_id INTEGER REFERENCES contacts(id),
    recorded_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (channel, value)
);
CREATE INDEX ix_consents_status ON consents(status, channel, date);
CREATE INDEX ix_consents_client ON consents(client_id) WHERE client_id IS NOT NULL;
CREATE TABLE address_books (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'live' CHECK (kind IN ('live', 'snapshot')),
    criteria TEXT NOT NULL DEFAULT '{}',
    channels TEXT NOT NULL DEFAULT 'both' CHECK (channels IN ('client', 'contacts', 'both')),
    owner_id INTEGER REFERENCES users(id),
    snapshot_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (owner_id, name)
);
CREATE TABLE address_book_members (
    book_id INTEGER NOT NULL REFERENCES address_books(id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    mode TEXT NOT NULL CHECK (mode IN ('include', 'exclude', 'snapshot')),
    created_at TEXT NOT NULL,
    PRIMARY KEY (book_id, mode, client_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_sale_lines_catalogue ON sale_lines(catalogue_id, sale_id)
    WHERE catalogue_id IS NOT NULL
""")


@migrations()
def m022_create_mailings(db: sqlite_utils.Database) -> None:
    """E-mail mailings (issue 7): the mailing (address book, subject, bodies,
    status), one log row per recipient address (UNIQUE per mailing, so nobody is
    queued twice; status queued / sending / sent / failed / skipped with the
    server's answer or the reason) and its attachments (blobs in the
    content-addressed store)."""
    run_script(db, """
CREATE TABLE mailings (
    id INTEGER PRIMARY KEY,
    book_id INTEGER REFERENCES address_books(id),
    subject TEXT NOT NULL DEFAULT '',
    body_text TEXT NOT NULL DEFAULT '',
    body_html TEXT NOT NULL DEFAULT '',
    attach_invoice INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'sending', 'interrupted', 'done')),
    owner_id INTEGER REFERENCES users(id),
    sent_by INTEGER REFERENCES users(id),
    started_at TEXT,
    finished_at TEXT,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_mailings_owner ON mailings(owner_id, created_at);
CREATE TABLE mailing_recipients (
    id INTEGER PRIMARY KEY,
    mailing_id INTEGER NOT NULL REFERENCES mailings(id) ON DELETE CASCADE,
    client_id INTEGER REFERENCES clients(id),
    contact_id INTEGER REFERENCES contacts(id),
    sale_id INTEGER REFERENCES sales(id),
    email TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    detail TEXT NOT NULL DEFAULT '',
    token TEXT NOT NULL UNIQUE,
    message_id TEXT NOT NULL DEFAULT '',
    sent_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (mailing_id, email)
);
CREATE INDEX ix_mailing_recipients_status ON mailing_recipients(mailing_id, status, id);
CREATE TABLE mailing_attachments (
    id INTEGER PRIMARY KEY,
    mailing_id INTEGER NOT NULL REFERENCES mailings(id) ON DELETE CASCADE,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL DEFAULT 'application/octet-stream',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
)
""")


@migrations()
def m020_create_tasks(db: sqlite_utils.Database) -> None:
    """The organizer's tasks (clientplus_core/tasks.py): instants in UTC ISO, a
    repeating task's occurrences share ``series_id``. Indexes: the reminder badge
    and the digest (an assignee's open tasks by due time), the today / overdue /
    week / calendar views (open tasks by due time), the client and sale cards."""
    run_script(db, """
CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    due_at TEXT NOT NULL,
    remind_at TEXT,
    priority TEXT NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high')),
    assignee_id INTEGER NOT NULL REFERENCES users(id),
    client_id INTEGER REFERENCES clients(id),
    sale_id INTEGER REFERENCES sales(id),
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
    repeat TEXT NOT NULL DEFAULT '' CHECK (repeat IN ('', 'daily', 'weekly', 'monthly')),
    repeat_day INTEGER,
    series_id INTEGER,
    done_at TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    updated_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_tasks_open_assignee ON tasks(assignee_id, due_at) WHERE status = 'open';
CREATE INDEX ix_tasks_open_due ON tasks(due_at) WHERE status = 'open';
CREATE INDEX ix_tasks_due ON tasks(due_at, status);
CREATE INDEX ix_tasks_created_by ON tasks(created_by, due_at);
CREATE INDEX ix_tasks_client ON tasks(client_id, due_at) WHERE client_id IS NOT NULL;
CREATE INDEX ix_tasks_sale ON tasks(sale_id, due_at) WHERE sale_id IS NOT NULL;
CREATE INDEX ix_tasks_series ON tasks(series_id) WHERE series_id IS NOT NULL
""")
