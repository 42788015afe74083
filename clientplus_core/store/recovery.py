"""What a crash (``kill -9``, a power cut) can leave behind, mended at the next start.

:func:`mend` runs from :func:`clientplus_core.store.startup.open_store`, so every
``clientplus`` command and the app's first page after a (re)start repair:

- **indexes** a bulk load dropped (``clientplus demo --sales`` drops the secondary
  indexes of the sales tables for speed and builds them again at the end): every
  index the schema expects — the list in ``schema_indexes``, written from a fresh
  build of the migrations whenever migrations are applied — that ``sqlite_master``
  lacks is created again; the bulk load's own note (``bulk_dropped_indexes``) is
  cleared and the search index's write buffer put back to SQLite's default;
- **backup leftovers**: the temporary copy of the database and the ``.tmp`` archive
  a backup writes before renaming it into place (:mod:`clientplus_core.maintenance.backup`).

Neither must touch the work of a process that is still running. A bulk load and a
backup each hold a shared ``flock`` on a lock file for their whole duration; the
mending takes the same lock exclusively *without waiting*, and when that fails (the
load or the backup is alive) leaves its files alone. The operating system drops the
lock of a killed process, so a leftover is recognised at once, with no guess by age.

Cheap when nothing is missing: three small queries on the connection that applied
the migrations and one listing of ``backups/`` (about 0.05 ms in all, measured).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from clientplus_core.store.config import DataDir
from clientplus_core.store.db import Store, connect, transaction

try:  # POSIX; elsewhere locks are not checked (a leftover is then only kept longer)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

BULK_LOCK = ".bulk-load.lock"       # in the data folder: a demo bulk load is running
BACKUP_LOCK = ".backup.lock"        # in backups/: a backup is being written
BACKUP_TMP_DIR_PREFIX = "clientplus-backup-"   # the database snapshot's folder
FTS_DEFAULT_HASHSIZE = 1024 * 1024  # SQLite's default FTS5 write buffer (bytes)

# ``.<archive name>.<random>.tmp``: the archive before it is renamed into place
_TMP_ARCHIVE = re.compile(r"^\..+\.[A-Za-z0-9_]+\.tmp$")


# -- locks ------------------------------------------------------------------------------------

def _open_lock(path: Path) -> IO[bytes]:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("a+b")


@contextmanager
def running(path: Path) -> Iterator[None]:
    """Hold a shared lock on ``path`` while the body runs: "this work is alive".
    Any number of such holders may overlap; :func:`none_running` sees them."""
    fh = _open_lock(path)
    try:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH)
        yield
    finally:
        fh.close()   # closing the file releases the lock


@contextmanager
def none_running(path: Path) -> Iterator[bool]:
    """Yield True, holding an exclusive lock on ``path``, when no :func:`running`
    holder is alive (in any process); yield False at once otherwise."""
    fh = _open_lock(path)
    try:
        if fcntl is None:
            yield True
            return
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        yield True
    finally:
        fh.close()


def bulk_lock_path(data_dir: DataDir) -> Path:
    return data_dir.root / BULK_LOCK


def backup_lock_path(data_dir: DataDir) -> Path:
    return data_dir.backups_dir / BACKUP_LOCK


# -- indexes ----------------------------------------------------------------------------------

def missing_indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(name, CREATE statement) of each expected index the database lacks (an index of
    a table that no longer exists is not expected)."""
    present = {str(r[0]) for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('index', 'table')")}
    return [(str(n), str(s)) for n, t, s in conn.execute(
        "SELECT name, tbl_name, sql FROM schema_indexes ORDER BY name")
        if n not in present and t in present]


# The quick check on every start (~20 µs): how many expected indexes sqlite_master lacks.
_LACKING = ("SELECT (SELECT count(*) FROM schema_indexes) - (SELECT count(*) FROM sqlite_master"
            " WHERE type = 'index' AND name IN (SELECT name FROM schema_indexes))")


def _bulk_leftovers(conn: sqlite3.Connection) -> bool:
    """Whether an interrupted bulk load left its marks (dropped-index note, the big
    search-index write buffer)."""
    if conn.execute("SELECT 1 FROM bulk_dropped_indexes LIMIT 1").fetchone():
        return True
    row = conn.execute("SELECT v FROM search_index_config WHERE k = 'hashsize'").fetchone()
    return row is not None and int(row[0]) != FTS_DEFAULT_HASHSIZE


def restore_indexes(store: Store, conn: sqlite3.Connection | None = None) -> list[str]:
    """Create every expected index the database lacks and undo the rest of an
    interrupted bulk load; nothing while a bulk load is running. Uses ``conn`` when
    given (outside a transaction), else a connection of its own. Returns the names
    of the indexes created."""
    own = conn is None
    conn = conn or connect(store.db_path)
    try:
        if not conn.execute(_LACKING).fetchone()[0] and not _bulk_leftovers(conn):
            return []
        if not missing_indexes(conn) and not _bulk_leftovers(conn):
            return []   # only indexes of tables dropped by hand: nothing to build
        with none_running(bulk_lock_path(store.data_dir)) as free:
            if not free:
                return []
            with transaction(conn):
                missing = missing_indexes(conn)
                for _name, sql in missing:
                    conn.execute(sql)
                conn.execute("DELETE FROM bulk_dropped_indexes")
                conn.execute("INSERT INTO search_index (search_index, rank)"
                             " VALUES ('hashsize', ?)", (FTS_DEFAULT_HASHSIZE,))
        return [name for name, _sql in missing]
    finally:
        if own:
            conn.close()


# -- backup leftovers -------------------------------------------------------------------------

def _is_backup_leftover(path: Path) -> bool:
    if path.name.startswith(BACKUP_TMP_DIR_PREFIX) and path.is_dir():
        return True
    return bool(_TMP_ARCHIVE.match(path.name)) and path.is_file()


def _remove(path: Path) -> bool:
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return False
    return True


def clean_backup_leftovers(data_dir: DataDir, extra: Path | None = None) -> list[Path]:
    """Remove what killed backups left in ``backups/`` (the snapshot folders
    ``clientplus-backup-*`` and ``.*.tmp`` archives) and, when given, the one
    ``extra`` archive's own ``.<name>.*.tmp`` files next to it; nothing while a
    backup is running. Returns what was removed."""
    folder = data_dir.backups_dir
    found: list[Path] = []
    if folder.is_dir():
        with os.scandir(folder) as it:
            found = [Path(e.path) for e in it if _is_backup_leftover(Path(e.path))]
    if extra is not None and extra.parent.resolve() != folder.resolve() \
            and extra.parent.is_dir():
        prefix = f".{extra.name}."
        found += [p for p in extra.parent.iterdir()
                  if p.name.startswith(prefix) and p.name.endswith(".tmp") and p.is_file()]
    if not found:
        return []
    with none_running(backup_lock_path(data_dir)) as free:
        if not free:
            return []
        return [p for p in found if _remove(p)]


# -- all of it --------------------------------------------------------------------------------

@dataclass
class Mended:
    """What :func:`mend` repaired (empty lists: nothing was left behind)."""

    indexes: list[str] = field(default_factory=list)
    backup_leftovers: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.indexes or self.backup_leftovers)


def mend(store: Store, conn: sqlite3.Connection | None = None) -> Mended:
    """Repair what an interrupted bulk load or backup left behind (see the module doc);
    ``conn``: an open connection to use (outside a transaction)."""
    return Mended(restore_indexes(store, conn), clean_backup_leftovers(store.data_dir))
