"""Ordered schema migrations (``m0NN_verb_noun``), each applied in a transaction
and recorded in the database by sqlite-utils' :class:`Migrations`.

Never change a migration that has shipped: add a new one.

Each release's migrations live in a module of their own (:mod:`.foundation`,
:mod:`.sales`, :mod:`.outreach`) and register in the one :data:`~.registry.migrations` list;
each release module imports the one before it, so they register in release order.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import TYPE_CHECKING

import sqlite_utils

from clientplus_core.store.db import connect, transaction
from clientplus_core.store.migrations import (  # noqa: F401
    attachments,
    bank,
    foundation,
    hardening,
    office,
    outreach,
    sales,
    sessions,
    signatory,
    signin,
    speed,
)
from clientplus_core.store.migrations.registry import migrations

if TYPE_CHECKING:
    from clientplus_core.store.db import Store

__all__ = ["applied", "apply", "expected_indexes", "migrations", "record_expected_indexes"]


def apply(store: Store, conn: sqlite3.Connection | None = None) -> list[str]:
    """Apply pending migrations; return the names applied now. After any, the list
    of indexes the schema expects (``schema_indexes``) is written again. Uses ``conn``
    when given (outside a transaction), else a connection of its own."""
    own = conn is None
    conn = conn or connect(store.db_path)
    try:
        db = sqlite_utils.Database(conn)
        pending = [m.name for m in migrations.pending(db)]
        if pending:
            migrations.apply(db)
            with transaction(conn):
                record_expected_indexes(conn)
        return pending
    finally:
        if own:
            conn.close()


@cache
def expected_indexes() -> tuple[tuple[str, str, str], ...]:
    """(name, table, CREATE statement) of every explicit index that the registered
    migrations build, read from a fresh in-memory database (built once per process,
    ~25 ms, and only when migrations were applied)."""
    mem = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrations.apply(sqlite_utils.Database(mem))
        return tuple((str(n), str(t), str(s)) for n, t, s in mem.execute(
            "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'"
            " AND sql IS NOT NULL ORDER BY name"))
    finally:
        mem.close()


def record_expected_indexes(conn: sqlite3.Connection) -> int:
    """Rewrite ``schema_indexes`` from :func:`expected_indexes` (inside the caller's
    transaction); returns how many indexes the schema expects."""
    rows = expected_indexes()
    conn.execute("DELETE FROM schema_indexes")
    conn.executemany("INSERT INTO schema_indexes (name, tbl_name, sql) VALUES (?, ?, ?)", rows)
    return len(rows)


def applied(store: Store) -> list[str]:
    """Names of the migrations recorded in the database, in order."""
    conn = connect(store.db_path)
    try:
        return [m.name for m in migrations.applied(sqlite_utils.Database(conn))]
    finally:
        conn.close()
