"""Issue 15: bank statements in the 1C exchange format, each payment of them, and how
an incoming payment was split over sales (see :mod:`clientplus_core.bank`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import speed  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script


@migrations()
def m030_create_bank_statements(db: sqlite_utils.Database) -> None:
    """``bank_statements``: one row per loaded file (name, SHA-256, period, accounts,
    totals, who and when). ``bank_payments``: one row per document of a statement on
    the company's accounts, identified by ``dedup_key`` (own account, the bank
    document's number, date, amount and payer INN), so loading a file twice or
    overlapping periods adds nothing; its ``state`` is ``matched`` (recorded on
    sales), ``review`` (waits for a person), ``ignored`` (outgoing, or between own
    accounts) or ``dismissed``. ``bank_allocations``: the part of a payment recorded
    on one sale, with the sale payment it created."""
    run_script(db, """
CREATE TABLE bank_statements (
    id INTEGER PRIMARY KEY,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    encoding TEXT NOT NULL DEFAULT '',
    date_from TEXT NOT NULL DEFAULT '',
    date_to TEXT NOT NULL DEFAULT '',
    accounts TEXT NOT NULL DEFAULT '[]',
    documents INTEGER NOT NULL DEFAULT 0,
    received_kop INTEGER NOT NULL DEFAULT 0,
    matched INTEGER NOT NULL DEFAULT 0,
    review INTEGER NOT NULL DEFAULT 0,
    ignored INTEGER NOT NULL DEFAULT 0,
    duplicates INTEGER NOT NULL DEFAULT 0,
    loaded_by INTEGER REFERENCES users(id),
    loaded_at TEXT NOT NULL
);
CREATE INDEX ix_bank_statements_loaded ON bank_statements(loaded_at);
CREATE TABLE bank_payments (
    id INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL REFERENCES bank_statements(id),
    line INTEGER NOT NULL DEFAULT 0,
    dedup_key TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL CHECK (direction IN ('in', 'out', 'own')),
    own_account TEXT NOT NULL,
    doc_kind TEXT NOT NULL DEFAULT '',
    doc_number TEXT NOT NULL,
    doc_date TEXT NOT NULL,
    paid_on TEXT NOT NULL,
    amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),
    payer_name TEXT NOT NULL DEFAULT '',
    payer_inn TEXT NOT NULL DEFAULT '',
    payer_kpp TEXT NOT NULL DEFAULT '',
    payer_account TEXT NOT NULL DEFAULT '',
    payer_bik TEXT NOT NULL DEFAULT '',
    payer_bank TEXT NOT NULL DEFAULT '',
    payee_name TEXT NOT NULL DEFAULT '',
    payee_inn TEXT NOT NULL DEFAULT '',
    payee_account TEXT NOT NULL DEFAULT '',
    purpose TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN ('matched', 'review', 'ignored', 'dismissed')),
    reason TEXT NOT NULL DEFAULT '',
    client_id INTEGER REFERENCES clients(id),
    resolved_by INTEGER REFERENCES users(id),
    resolved_at TEXT,
    created_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX ix_bank_payments_statement ON bank_payments(statement_id, id);
CREATE INDEX ix_bank_payments_state ON bank_payments(state, id);
CREATE INDEX ix_bank_payments_client ON bank_payments(client_id, id) WHERE client_id IS NOT NULL;
CREATE INDEX ix_bank_payments_payer_account ON bank_payments(payer_account, id)
    WHERE payer_account <> '';
CREATE TABLE bank_allocations (
    id INTEGER PRIMARY KEY,
    bank_payment_id INTEGER NOT NULL REFERENCES bank_payments(id),
    sale_id INTEGER NOT NULL REFERENCES sales(id),
    sale_payment_id INTEGER REFERENCES sale_payments(id),
    amount_kop INTEGER NOT NULL CHECK (amount_kop > 0),
    created_at TEXT NOT NULL
);
CREATE INDEX ix_bank_allocations_payment ON bank_allocations(bank_payment_id);
CREATE INDEX ix_bank_allocations_sale ON bank_allocations(sale_id)
""")


@migrations()
def m031_add_document_number_index(db: sqlite_utils.Database) -> None:
    """Finding an invoice by the number and date a payment's purpose names («Оплата
    по счету № 15 от 03.02.2026») reads this index instead of every document."""
    run_script(db, """
CREATE INDEX ix_documents_number ON documents(kind, number, date)
""")
