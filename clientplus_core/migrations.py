"""Ordered schema migrations (``m0NN_verb_noun``), each applied in a transaction
and recorded in the database by sqlite-utils' :class:`Migrations`.

Never change a migration that has shipped: add a new one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlite_utils
from sqlite_utils.migrations import Migrations

if TYPE_CHECKING:
    from .db import Store

migrations = Migrations("clientplus")


def _run(db: sqlite_utils.Database, script: str) -> None:
    """Execute a multi-statement script without ``executescript`` (which commits)."""
    for stmt in script.split(";\n"):
        if stmt.strip():
            db.execute(stmt)


@migrations()
def m001_create_core(db: sqlite_utils.Database) -> None:
    _run(db, """
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
    _run(db, """
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
    _run(db, """
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
    _run(db, """
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


def apply(store: Store) -> list[str]:
    """Apply pending migrations; return the names applied now."""
    from .db import connect

    conn = connect(store.db_path)
    try:
        db = sqlite_utils.Database(conn)
        pending = [m.name for m in migrations.pending(db)]
        if pending:
            migrations.apply(db)
        return pending
    finally:
        conn.close()


def applied(store: Store) -> list[str]:
    """Names of the migrations recorded in the database, in order."""
    from .db import connect

    conn = connect(store.db_path)
    try:
        return [m.name for m in migrations.applied(sqlite_utils.Database(conn))]
    finally:
        conn.close()


# --- sales and documents (issue 5) -------------------------------------------------------


@migrations()
def m004_create_catalogue(db: sqlite_utils.Database) -> None:
    """VAT rates as data (valid-from/to dates: 20 % until 2025-12-31, 22 % from
    2026-01-01; 5 % and 7 % only for a seller on УСН) and the catalogue of goods and
    services. Prices are integer kopecks."""
    _run(db, """
CREATE TABLE vat_rates (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    rate INTEGER,
    usn_only INTEGER NOT NULL DEFAULT 0,
    valid_from TEXT,
    valid_to TEXT,
    sort INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1
);
INSERT INTO vat_rates (code, label, rate, usn_only, valid_from, valid_to, sort) VALUES
    ('22', '22 %', 22, 0, '2026-01-01', NULL, 10),
    ('20', '20 %', 20, 0, NULL, '2025-12-31', 20),
    ('10', '10 %', 10, 0, NULL, NULL, 30),
    ('0', '0 %', 0, 0, NULL, NULL, 40),
    ('none', 'Без НДС', NULL, 0, NULL, NULL, 50),
    ('5', '5 % (УСН)', 5, 1, '2025-01-01', NULL, 60),
    ('7', '7 % (УСН)', 7, 1, '2025-01-01', NULL, 70);
CREATE TABLE catalogue (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    sku TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT 'шт',
    price_kop INTEGER NOT NULL DEFAULT 0 CHECK (price_kop >= 0),
    vat_code TEXT NOT NULL DEFAULT '22' REFERENCES vat_rates(code),
    kind TEXT NOT NULL DEFAULT 'goods' CHECK (kind IN ('goods', 'service')),
    is_active INTEGER NOT NULL DEFAULT 1,
    notes TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    updated_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX ux_catalogue_sku ON catalogue(sku COLLATE NOCASE) WHERE sku <> '';
CREATE INDEX ix_catalogue_name ON catalogue(is_active, name COLLATE NOCASE)
""")


@migrations()
def m005_create_sales(db: sqlite_utils.Database) -> None:
    """Sales with their specification, statuses (reference table with flags) and
    the log of every status change, payments (planned and actual) and the contact
    history. Money in kopecks, quantities in thousandths, discounts in hundredths
    of a percent. Totals are stored on the sale (recomputed on every change) so the
    register filters and sums them from covering indexes.

    ``client_owner_id`` repeats the owner of the sale's client, kept right by
    triggers (a sale is inserted, a client changes hands, a sale moves to another
    client in a merge): a manager's scope is "clients I own", so their register
    reads one covering index instead of joining 100,000 clients.

    The register indexes (``ix_sales_reg_*``) are partial (live sales) and covering:
    each pair of filters the register offers is answered, counted and summed from
    one of them, which :func:`clientplus_core.sales.list_sales` names explicitly."""
    _run(db, """
CREATE TABLE sale_statuses (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    label_en TEXT NOT NULL DEFAULT '',
    sort INTEGER NOT NULL,
    is_invoiced INTEGER NOT NULL DEFAULT 0,
    is_paid INTEGER NOT NULL DEFAULT 0,
    is_shipped INTEGER NOT NULL DEFAULT 0,
    is_closed INTEGER NOT NULL DEFAULT 0,
    is_lost INTEGER NOT NULL DEFAULT 0,
    is_active INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1
);
INSERT INTO sale_statuses (id, code, label, label_en, sort, is_invoiced, is_paid, is_shipped,
                           is_closed, is_lost) VALUES
    (1, 'lead', 'Предварительная заявка', 'Lead', 10, 0, 0, 0, 0, 0),
    (2, 'offer_ready', 'КП подготовлено', 'Offer prepared', 20, 0, 0, 0, 0, 0),
    (3, 'offer_sent', 'КП отправлено', 'Offer sent', 30, 0, 0, 0, 0, 0),
    (4, 'negotiation', 'Согласование', 'Negotiation', 40, 0, 0, 0, 0, 0),
    (5, 'contract', 'Договор заключён', 'Contract signed', 50, 0, 0, 0, 0, 0),
    (6, 'invoiced', 'Счёт выставлен', 'Invoiced', 60, 1, 0, 0, 0, 0),
    (7, 'partly_paid', 'Частично оплачено', 'Partly paid', 70, 1, 0, 0, 0, 0),
    (8, 'paid', 'Оплачено', 'Paid', 80, 1, 1, 0, 0, 0),
    (9, 'shipped', 'Отгружено / услуга оказана', 'Shipped / delivered', 90, 1, 1, 1, 1, 0),
    (10, 'lost', 'Проиграна / отменена', 'Lost / cancelled', 100, 0, 0, 0, 1, 1);
CREATE TABLE sale_counters (
    year INTEGER PRIMARY KEY,
    last_no INTEGER NOT NULL
);
CREATE TABLE sales (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    date TEXT NOT NULL,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    contact_id INTEGER REFERENCES contacts(id),
    owner_id INTEGER REFERENCES users(id),
    client_owner_id INTEGER,
    status_id INTEGER NOT NULL REFERENCES sale_statuses(id),
    status_at TEXT NOT NULL,
    lost_reason TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    expected_close TEXT,
    vat_mode TEXT NOT NULL DEFAULT 'included' CHECK (vat_mode IN ('included', 'on_top')),
    discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    subtotal_kop INTEGER NOT NULL DEFAULT 0,
    vat_kop INTEGER NOT NULL DEFAULT 0,
    total_kop INTEGER NOT NULL DEFAULT 0,
    paid_kop INTEGER NOT NULL DEFAULT 0,
    planned_kop INTEGER NOT NULL DEFAULT 0,
    overdue_from TEXT,
    notes TEXT NOT NULL DEFAULT '',
    extra TEXT NOT NULL DEFAULT '{}',
    created_by INTEGER REFERENCES users(id),
    updated_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_sales_reg_date ON sales(date, id, status_id, owner_id, client_owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_status ON sales(status_id, date, id, owner_id, client_owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_owner ON sales(owner_id, date, id, status_id, client_owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_owner_status ON sales(owner_id, status_id, date, id, client_owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_scope ON sales(client_owner_id, date, id, status_id, owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_scope_status ON sales(client_owner_id, status_id, date, id, owner_id,
    client_id, total_kop, paid_kop, overdue_from, deleted_at) WHERE deleted_at IS NULL;
CREATE INDEX ix_sales_reg_overdue ON sales(overdue_from, date, id, status_id, owner_id,
    client_owner_id, client_id, total_kop, paid_kop, deleted_at)
    WHERE overdue_from IS NOT NULL AND deleted_at IS NULL;
CREATE INDEX ix_sales_client ON sales(client_id, date);
CREATE INDEX ix_sales_deleted ON sales(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TABLE sale_lines (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    pos INTEGER NOT NULL,
    catalogue_id INTEGER REFERENCES catalogue(id),
    name TEXT NOT NULL,
    sku TEXT NOT NULL DEFAULT '',
    unit TEXT NOT NULL DEFAULT 'шт',
    qty_milli INTEGER NOT NULL CHECK (qty_milli > 0),
    price_kop INTEGER NOT NULL CHECK (price_kop >= 0),
    discount_bp INTEGER NOT NULL DEFAULT 0 CHECK (discount_bp BETWEEN 0 AND 10000),
    vat_code TEXT NOT NULL REFERENCES vat_rates(code),
    amount_kop INTEGER NOT NULL,
    vat_kop INTEGER NOT NULL
);
CREATE INDEX ix_sale_lines_sale ON sale_lines(sale_id, pos);
CREATE TABLE sale_status_log (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    from_status_id INTEGER REFERENCES sale_statuses(id),
    to_status_id INTEGER NOT NULL REFERENCES sale_statuses(id),
    actor_id INTEGER REFERENCES users(id),
    at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ix_sale_status_log_sale ON sale_status_log(sale_id, id);
CREATE TABLE sale_payments (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    kind TEXT NOT NULL CHECK (kind IN ('plan', 'fact')),
    date TEXT NOT NULL,
    amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),
    document TEXT NOT NULL DEFAULT '',
    note TEXT NOT NULL DEFAULT '',
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    deleted_at TEXT
);
CREATE INDEX ix_sale_payments_sale ON sale_payments(sale_id, kind, date);
CREATE TABLE interactions (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    sale_id INTEGER REFERENCES sales(id),
    contact_id INTEGER REFERENCES contacts(id),
    at TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('call', 'meeting', 'email', 'messenger', 'other')),
    subject TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL DEFAULT '',
    user_id INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_interactions_client ON interactions(client_id, at);
CREATE INDEX ix_interactions_sale ON interactions(sale_id, at) WHERE sale_id IS NOT NULL;
CREATE INDEX ix_files_sale ON files(sale_id) WHERE sale_id IS NOT NULL;
CREATE INDEX ix_links_sale ON links(sale_id) WHERE sale_id IS NOT NULL;
CREATE INDEX ix_clients_deleted ON clients(deleted_at) WHERE deleted_at IS NOT NULL;
CREATE TABLE bulk_dropped_indexes (
    name TEXT PRIMARY KEY,
    sql TEXT NOT NULL
)
""")
    # triggers hold ";" inside BEGIN … END, so each is executed whole
    for trigger in _SALES_TRIGGERS:
        db.execute(trigger)


_SALES_TRIGGERS = (
    """CREATE TRIGGER tr_sales_client_owner_on_insert AFTER INSERT ON sales
WHEN NEW.client_owner_id IS NOT (SELECT owner_id FROM clients WHERE id = NEW.client_id)
BEGIN
    UPDATE sales SET client_owner_id = (SELECT owner_id FROM clients WHERE id = NEW.client_id)
    WHERE id = NEW.id;
END""",
    """CREATE TRIGGER tr_sales_client_owner_on_move AFTER UPDATE OF client_id ON sales
WHEN NEW.client_id IS NOT OLD.client_id
BEGIN
    UPDATE sales SET client_owner_id = (SELECT owner_id FROM clients WHERE id = NEW.client_id)
    WHERE id = NEW.id;
END""",
    """CREATE TRIGGER tr_clients_owner_to_sales AFTER UPDATE OF owner_id ON clients
WHEN NEW.owner_id IS NOT OLD.owner_id
BEGIN
    UPDATE sales SET client_owner_id = NEW.owner_id WHERE client_id = NEW.id;
END""",
)


@migrations()
def m006_create_documents(db: sqlite_utils.Database) -> None:
    """Uploaded .docx templates (bytes in the content-addressed blob store, so
    backups carry them) and the register of generated documents with their own
    number per kind and year."""
    _run(db, """
CREATE TABLE doc_templates (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    variables TEXT NOT NULL DEFAULT '[]',
    is_default INTEGER NOT NULL DEFAULT 0,
    uploaded_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_doc_templates_kind ON doc_templates(kind, id);
CREATE TABLE doc_counters (
    kind TEXT NOT NULL,
    year INTEGER NOT NULL,
    last_no INTEGER NOT NULL,
    PRIMARY KEY (kind, year)
) WITHOUT ROWID;
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    kind TEXT NOT NULL,
    number TEXT NOT NULL,
    date TEXT NOT NULL,
    template_id INTEGER REFERENCES doc_templates(id),
    file_id INTEGER REFERENCES files(id),
    total_kop INTEGER NOT NULL DEFAULT 0,
    created_by INTEGER REFERENCES users(id),
    created_at TEXT NOT NULL
);
CREATE INDEX ix_documents_sale ON documents(sale_id, id)
""")


@migrations()
def m010_add_analytics_indexes(db: sqlite_utils.Database) -> None:
    """Indexes the analytics engine's incremental refresh reads ("what changed
    since T"): without them every refresh would scan the big tables. Depends on
    the sales tables (m005); registered at the end of the
    file, after the sales migrations it depends on."""
    _run(db, """
CREATE INDEX IF NOT EXISTS ix_sales_updated ON sales(updated_at);
CREATE INDEX IF NOT EXISTS ix_sale_payments_created ON sale_payments(created_at);
CREATE INDEX IF NOT EXISTS ix_sale_payments_deleted ON sale_payments(deleted_at)
    WHERE deleted_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_sale_status_log_at ON sale_status_log(at);
CREATE INDEX IF NOT EXISTS ix_interactions_updated ON interactions(updated_at)
""")


@migrations()
def m012_widen_sales_client_index(db: sqlite_utils.Database) -> None:
    """The client card's «Продажи» tab and the client-scoped sales list read their
    columns straight from this index (a covering index) instead of the table."""
    _run(db, """
DROP INDEX IF EXISTS ix_sales_client;
CREATE INDEX ix_sales_client ON sales(client_id, date, id, status_id, owner_id,
    client_owner_id, total_kop, paid_kop, overdue_from, deleted_at)
""")


@migrations()
def m013_add_sales_id_index(db: sqlite_utils.Database) -> None:
    """A narrow covering index led by the sale id: the register's text filter resolves
    the text to a set of sale ids and reads each one's date, scope and sums here
    rather than from the wide table rows (2-3x faster for a common word)."""
    _run(db, """
CREATE INDEX IF NOT EXISTS ix_sales_reg_id ON sales(id, date, status_id, owner_id,
    client_owner_id, client_id, total_kop, paid_kop, overdue_from) WHERE deleted_at IS NULL
""")


@migrations()
def m021_create_outreach_lists(db: sqlite_utils.Database) -> None:
    """Outreach lists (issue 7): the consent / opt-out register (one current entry
    per channel and normalised value; its history is in the audit log), address
    books (criteria as JSON, live or snapshot) and their members (manual include /
    exclude, and the frozen client ids of a snapshot). Plus the index the
    "interested in product X" criterion reads (sale lines by catalogue item)."""
    _run(db, """
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
    _run(db, """
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
    _run(db, """
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
