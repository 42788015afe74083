"""Opening the data folder: create it if needed and bring its schema up to date."""

from __future__ import annotations

from pathlib import Path

from clientplus_core.store import migrations, recovery
from clientplus_core.store.config import DataDir
from clientplus_core.store.db import Store, connect


def open_store(data_dir: DataDir | str | Path | None = None, *, migrate: bool = True) -> Store:
    """Create the data folder if needed, apply pending migrations, mend what a crash
    left behind (:func:`clientplus_core.store.recovery.mend`: dropped indexes,
    backup leftovers), return a Store."""
    store = Store(data_dir)
    store.data_dir.ensure()
    if migrate:
        conn = connect(store.db_path)   # one connection for both: this runs on every start
        try:
            migrations.apply(store, conn)
            recovery.mend(store, conn)
        finally:
            conn.close()
    return store
