"""Ordered schema migrations (``m0NN_verb_noun``), each applied in a transaction
and recorded in the database by sqlite-utils' :class:`Migrations`.

Never change a migration that has shipped: add a new one.

Each release's migrations live in a module of their own (:mod:`.foundation`,
:mod:`.sales`, :mod:`.outreach`) and register in the one :data:`~.registry.migrations` list;
each release module imports the one before it, so they register in release order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlite_utils

from clientplus_core.store.db import connect
from clientplus_core.store.migrations import foundation, outreach, sales  # noqa: F401
from clientplus_core.store.migrations.registry import migrations

if TYPE_CHECKING:
    from clientplus_core.store.db import Store

__all__ = ["applied", "apply", "migrations"]


def apply(store: Store) -> list[str]:
    """Apply pending migrations; return the names applied now."""
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
    conn = connect(store.db_path)
    try:
        return [m.name for m in migrations.applied(sqlite_utils.Database(conn))]
    finally:
        conn.close()
