"""Issue 11 (safe on a shared server), section 4: the audit trail append-only in the
database itself, and the list of indexes the schema expects, so that the next start
rebuilds any index a crashed bulk load left dropped (:mod:`clientplus_core.store.recovery`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import signin  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script

AUDIT_READ_ONLY = "журнал действий только дополняется: изменять и удалять записи нельзя"


@migrations()
def m024_protect_audit_log(db: sqlite_utils.Database) -> None:
    """Triggers refuse every UPDATE and DELETE on ``audit_log`` (``RAISE(ABORT)``:
    the statement fails, the caller's transaction rolls back). The app only ever
    inserts; a merge of two clients no longer re-points the other card's history
    (the history query follows merges instead). A future migration that must rebuild
    the table drops these triggers first and creates them again."""
    for op in ("UPDATE", "DELETE"):
        db.execute(f"""CREATE TRIGGER tr_audit_log_no_{op.lower()} BEFORE {op} ON audit_log
BEGIN
    SELECT RAISE(ABORT, '{AUDIT_READ_ONLY}');
END""")


@migrations()
def m025_create_schema_indexes(db: sqlite_utils.Database) -> None:
    """``schema_indexes``: every explicit index the migrations build (name, table,
    CREATE statement). Rewritten from a fresh in-memory build whenever migrations are
    applied; each start compares it with ``sqlite_master`` and creates what is missing."""
    run_script(db, """
CREATE TABLE schema_indexes (
    name TEXT PRIMARY KEY,
    tbl_name TEXT NOT NULL,
    sql TEXT NOT NULL
) WITHOUT ROWID
""")
