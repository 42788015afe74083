"""Opening the data folder: create it if needed and bring its schema up to date."""

from __future__ import annotations

from pathlib import Path

from clientplus_core.store import migrations
from clientplus_core.store.config import DataDir
from clientplus_core.store.db import Store


def open_store(data_dir: DataDir | str | Path | None = None, *, migrate: bool = True) -> Store:
    """Create the data folder if needed, apply pending migrations, return a Store."""
    store = Store(data_dir)
    store.data_dir.ensure()
    if migrate:
        migrations.apply(store)
    return store
