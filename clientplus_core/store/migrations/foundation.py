"""Release 1 (the foundation): clients, contacts, files, users, audit, search; the
registry's indexes, the requisites look-up cache, custom fields."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m001_create_core(db: sqlite_utils.Database) -> None:
    run_script(db, """
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL UNIQUE COLLATE NOCASE,
    full_name TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT 'manager'
        CHECK (role IN ('admin', 'head', 'manager', 'viewer')),
    password_hash TEXT,
    is_active INTEGER NOT NULL DEFAULT 1,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL DEFAULT 'legal' CHECK (kind IN ('legal', 'ip', 'person')),
    name TEXT NOT NULL,
    full_name TEXT NOT NULL DEFAULT '',
    inn TEXT NOT NULL DEFAULT '',
    kpp TEXT NOT NULL DEFAULT '',
    ogrn TEXT NOT NULL DEFAULT '',
    okved TEXT NOT NULL DEFAULT '',
    legal_address TEXT NOT NULL DEFAULT '',
    postal_address TEXT NOT NULL DEFAULT '',
    postal_index TEXT NOT NULL DEFAULT '',
    bik TEXT NOT NULL DEFAULT '',
    bank_name TEXT NOT NULL DEFAULT '',
    corr_account TEXT NOT NULL DEFAULT '',
    account TEXT NOT NULL DEFAULT '',
    director_post TEXT NOT NULL DEFAULT '',
    director_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    website TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    notes TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    owner_id INTEGER REFERENCES users(id),
    created_by INTEGER REFERENCES users(id),
    updated_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_clients_inn ON clients(inn) WHERE inn <> '';
CREATE INDEX ix_clients_phone ON clients(phone) WHERE phone <> '';
CREATE INDEX ix_clients_email ON clients(email COLLATE NOCASE) WHERE email <> '';
CREATE INDEX ix_clients_owner ON clients(owner_id, name);
CREATE INDEX ix_clients_created ON clients(created_at);
CREATE INDEX ix_clients_name ON clients(name COLLATE NOCASE);
CREATE INDEX ix_clients_kind ON clients(kind, name);
CREATE INDEX ix_clients_updated ON clients(updated_at);
CREATE TABLE client_tags (
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (tag, client_id)
) WITHOUT ROWID;
CREATE INDEX ix_client_tags_client ON client_tags(client_id);
CREATE TABLE client_shares (
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (user_id, client_id)
) WITHOUT ROWID;
CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    name TEXT NOT NULL,
    post TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    mobile TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    messenger TEXT NOT NULL DEFAULT '',
    birthday TEXT NOT NULL DEFAULT '',
    consent_email INTEGER NOT NULL DEFAULT 0,
    consent_sms INTEGER NOT NULL DEFAULT 0,
    notes TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_contacts_client ON contacts(client_id);
CREATE INDEX ix_contacts_phone ON contacts(phone) WHERE phone <> '';
CREATE INDEX ix_contacts_mobile ON contacts(mobile) WHERE mobile <> '';
CREATE INDEX ix_contacts_email ON contacts(email COLLATE NOCASE) WHERE email <> '';
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    text_status TEXT NOT NULL DEFAULT 'pending'
        CHECK (text_status IN ('pending', 'ok', 'none', 'error')),
    text TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    sale_id INTEGER,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mime TEXT NOT NULL DEFAULT 'application/octet-stream',
    uploaded_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_files_client ON files(client_id);
CREATE INDEX ix_files_sha ON files(sha256);
CREATE TABLE links (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    sale_id INTEGER,
    title TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_links_client ON links(client_id);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor_login TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    entity TEXT NOT NULL DEFAULT '',
    entity_id INTEGER,
    client_id INTEGER,
    summary TEXT NOT NULL DEFAULT '',
    diff TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX ix_audit_client ON audit_log(client_id, id);
CREATE INDEX ix_audit_entity ON audit_log(entity, entity_id, id);
CREATE INDEX ix_audit_at ON audit_log(at);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by INTEGER
);
CREATE VIRTUAL TABLE search_index USING fts5(
    entity UNINDEXED, entity_id UNINDEXED, client_id UNINDEXED, title, body,
    tokenize = 'trigram'
)
""")


@migrations()
def m002_add_registry_indexes(db: sqlite_utils.Database) -> None:
    """Covering indexes for the registry: each filter/sort pair is answered (and
    counted) from an index that also holds owner, kind and deletion, so a page of
    50 out of 100,000 clients never reads the wide table rows it skips."""
    run_script(db, """
DROP INDEX IF EXISTS ix_clients_owner;
DROP INDEX IF EXISTS ix_clients_created;
DROP INDEX IF EXISTS ix_clients_name;
DROP INDEX IF EXISTS ix_clients_kind;
DROP INDEX IF EXISTS ix_clients_updated;
CREATE INDEX ix_reg_name ON clients(name COLLATE NOCASE, id, owner_id, kind, deleted_at);
CREATE INDEX ix_reg_kind_name ON clients(kind, name COLLATE NOCASE, id, owner_id, deleted_at);
CREATE INDEX ix_reg_owner_name ON clients(owner_id, name COLLATE NOCASE, id, kind, deleted_at);
CREATE INDEX ix_reg_owner_created ON clients(owner_id, created_at, id, kind, deleted_at);
CREATE INDEX ix_reg_kind_created ON clients(kind, created_at, id, owner_id, deleted_at);
CREATE INDEX ix_reg_kind_inn ON clients(kind, inn, id, owner_id, deleted_at);
CREATE INDEX ix_reg_created ON clients(created_at, id, owner_id, kind, deleted_at);
CREATE INDEX ix_reg_updated ON clients(updated_at, id, owner_id, kind, deleted_at);
CREATE INDEX ix_reg_inn ON clients(inn, id, owner_id, kind, deleted_at)
""")


@migrations()
def m003_create_lookup_cache(db: sqlite_utils.Database) -> None:
    """Requisites lookup (DaData): answers cached with their date, requests counted
    per day against the service's limit, and where a batch refresh stopped."""
    run_script(db, """
CREATE TABLE lookup_cache (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    response TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE lookup_usage (
    day TEXT PRIMARY KEY,
    requests INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE lookup_refresh (
    id INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    last_client_id INTEGER NOT NULL DEFAULT 0,
    checked INTEGER NOT NULL DEFAULT 0,
    changed INTEGER NOT NULL DEFAULT 0,
    finished_at TEXT,
    started_by INTEGER REFERENCES users(id)
);
ALTER TABLE clients ADD COLUMN registry_status TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN registry_checked_at TEXT
""")


@migrations()
def m011_create_custom_fields(db: sqlite_utils.Database) -> None:
    """Custom field definitions (values live in the ``extra`` JSON column of the
    entity), saved segments (named filters) and saved report-builder reports.
    Registered here, before :func:`apply`; depends on ``users`` only."""
    run_script(db, """
CREATE TABLE custom_fields (
    id INTEGER PRIMARY KEY,
    entity TEXT NOT NULL CHECK (entity IN ('client', 'sale')),
    key TEXT NOT NULL,
    label_ru TEXT NOT NULL,
    label_en TEXT NOT NULL DEFAULT '',
    type TEXT NOT NULL CHECK (type IN ('text', 'number', 'date', 'select', 'multiselect',
                                       'bool')),
    options TEXT NOT NULL DEFAULT '[]',
    required INTEGER NOT NULL DEFAULT 0,
    sort INTEGER NOT NULL DEFAULT 100,
    active INTEGER NOT NULL DEFAULT 1,
    preset TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    UNIQUE (entity, key)
);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    entity TEXT NOT NULL DEFAULT 'client',
    definition TEXT NOT NULL DEFAULT '{}',
    owner_id INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, name)
);
CREATE TABLE saved_reports (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    definition TEXT NOT NULL DEFAULT '{}',
    owner_id INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (owner_id, name)
)
""")
