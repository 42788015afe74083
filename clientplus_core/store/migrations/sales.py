"""Release 2 (sales and documents): the catalogue, sales and their logs, documents,
and the indexes analytics and the sales register read."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import foundation  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m004_create_catalogue(db: sqlite_utils.Database) -> None:
    """VAT rates as data (valid-from/to dates: 20 % until 2025-12-31, 22 % from
    2026-01-01; 5 % and 7 % only for a seller on УСН) and the catalogue of goods and
    services. Prices are integer kopecks."""
    run_script(db, """
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
    run_script(db, """
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
    run_script(db, """
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
    run_script(db, """
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
    run_script(db, """
DROP INDEX IF EXISTS ix_sales_client;
CREATE INDEX ix_sales_client ON sales(client_id, date, id, status_id, owner_id,
    client_owner_id, total_kop, paid_kop, overdue_from, deleted_at)
""")


@migrations()
def m013_add_sales_id_index(db: sqlite_utils.Database) -> None:
    """A narrow covering index led by the sale id: the register's text filter resolves
    the text to a set of sale ids and reads each one's date, scope and sums here
    rather than from the wide table rows (2-3x faster for a common word)."""
    run_script(db, """
CREATE INDEX IF NOT EXISTS ix_sales_reg_id ON sales(id, date, status_id, owner_id,
    client_owner_id, client_id, total_kop, paid_kop, overdue_from) WHERE deleted_at IS NULL
""")
