"""The analytics engine: a DuckDB columnar copy of the CRM, kept in step with SQLite.

SQLite stays the operational store. Reports do not scan it: they read
``<data>/analytics.duckdb``, a columnar copy of the tables reports need, which this
module builds once and then keeps in step incrementally.

Design (measured on this machine class, 2 shared cores; ``bench/bench.py --only
analytics``; 100,000 clients, 1,000,000 sales, 3.0 M lines, 2.0 M payments, 3.5 M
status-log rows, 1.1 M contact events):

* a refresh after one write ≈ 10–30 ms (issue 14; it was 0.3–2 s when every refresh
  re-derived the whole log and repeated itself for a minute); with nothing changed
  a check costs one read of one SQLite row;
* reports on the copy, with the derived columns below: funnel for a year ≈ 50 ms
  (SQLite ≈ 5.9 s), debtors ≈ 0.23 s (SQLite ≈ 3.4 s), all dashboard KPIs ≈ 0.2 s
  (SQLite ≈ 1.9 s).
* **Full build** (first use, or when the copy is missing/corrupt): each table read
  through :mod:`sqlite3` in steps into polars frames and committed on its own (1M
  sales: ≈ 32 s, peak under 1 GB). DuckDB's SQLite scanner (≈ 9 s) only on request:
  its second SQLite library drops this process's WAL-index locks.
* **Incremental refresh** (:func:`refresh`): SQLite triggers number every written
  row of the copied tables in ``analytics_changes`` (migration ``m029``); the copy
  keeps the number it applied last (``seq``) and reads only the entries after it,
  with the rows they name, in one short *read* transaction (WAL: writers are never
  blocked) — nothing missed, nothing read twice, hard deletes included. Every
  changed sale is replaced whole (row, lines, payments, status log) and only its
  derived columns are computed again; a changed client re-derives its own sales;
  a changed reference table is reloaded. All of it is applied to DuckDB in ONE
  transaction, so a reader never sees half a refresh. A demo bulk load, or a log
  trimmed past the copy, builds anew.
* **Freshness**: a read checks the log's head (one row of ``sqlite_sequence``) at
  most every :data:`MAX_AGE_S` and applies what is new; the app's background
  thread (:func:`warm_up`) does the same every :data:`POLL_S`, so readers usually
  find nothing to do. Only one thread refreshes at a time; the others read the
  last committed copy. :func:`as_of` gives the time shown ("данные на HH:MM:SS").
* **First build in the background**: :func:`status` starts it in the engine's own
  thread (one per process, whoever asks) and reports its progress; pages show a
  progress bar meanwhile instead of waiting.
* **Consistency**: a report's queries run in one DuckDB transaction over one
  cursor (:func:`snapshot`), i.e. on one MVCC snapshot: no torn reads even while
  a refresh commits.
* **Derived columns** (:func:`.sync.derive`, per changed sale): the furthest stage a
  sale reached, its first invoice day and a ``live`` flag on the sale, and the
  sale's scope columns on its lines, payments and log rows, so that the funnel,
  debtors and revenue are single scans with no join to the 3.5 M-row log.
* **Scope** is applied in one place, :func:`scoped_ctes`: every report query
  reads the views ``sales``, ``sale_lines``, ``payments``, ``status_log``,
  ``clients``, ``interactions`` (plus ``statuses``, ``users``, ``catalogue``)
  which hold only what the actor may see (a manager: sales of the clients they
  own or that are shared with them; deleted rows and sales of deleted clients
  are left out for everybody).

Public API for other modules (segments, the report builder)::

    df = analytics.query(store, actor, "SELECT c.source, count(*) AS n FROM clients c"
                         " WHERE c.kind = ? GROUP BY 1", ["legal"])

``query(store, actor, sql, params)`` runs ONE read-only SELECT over the scoped
views listed above (names exactly as above; the physical ``a_*`` tables must not
be named) with bound ``?`` parameters and returns a polars DataFrame. The SQL must
come from code (whitelisted identifiers); user values go only into ``params``.
Columns of the views: see :data:`VIEW_COLUMNS`. Money is in kopecks (``*_kop``
integers); ``extra`` is the JSON text of custom fields (``json_extract_string``).
The copied tables, reading changes, applying them, derived columns: :mod:`.sync`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from clientplus_core.analytics import sync
from clientplus_core.analytics.sync import TABLES
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

log = logging.getLogger(__name__)

MAX_AGE_S = 0.25  # a read checks the change log at most this often (one tiny query)
POLL_S = 1.0  # the app's background thread checks the change log this often
MEMORY_LIMIT = "700MB"
COPY_NAME = "analytics.duckdb"
SCHEMA_VERSION = 4

VIEW_COLUMNS: dict[str, tuple[str, ...]] = {
    "sales": (*TABLES["a_sales"][1], "live", "top_sort", "invoiced_on"),
    "sale_lines": (*TABLES["a_sale_lines"][1], "live", "client_id", "client_owner_id",
                   "owner_id"),
    "payments": (*TABLES["a_payments"][1], "live", "client_id", "client_owner_id", "owner_id"),
    "status_log": (*TABLES["a_status_log"][1], "live", "client_id", "client_owner_id",
                   "owner_id"),
    "clients": TABLES["a_clients"][1], "interactions": TABLES["a_interactions"][1],
    "statuses": TABLES["a_statuses"][1], "users": TABLES["a_users"][1],
    "catalogue": TABLES["a_catalogue"][1],
}
# share of a full build's time spent deriving columns after the copy (measured at 1 M
# sales); the copying itself is shared by the tables' sizes
DERIVE_SHARE = 0.5


def extension_path() -> Path | None:
    """The sqlite_scanner extension shipped in the ``duckdb-extension-sqlite-scanner``
    wheel (version matched to duckdb), or None when it is not installed."""
    try:
        import duckdb_extension_sqlite_scanner as ext
    except ImportError:
        return None
    base = Path(ext.__file__).parent
    found = sorted(base.rglob("sqlite_scanner.duckdb_extension"))
    for p in found:
        if f"v{duckdb.__version__}" in p.parts:
            return p
    return found[0] if found else None


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


@dataclass(frozen=True)
class BuildStatus:
    """How far the copy is: ``ready`` (reports can read it), else the share of the
    first build done (0–1), the table being copied and the error of a failed build."""

    ready: bool
    progress: float = 0.0
    step: str = ""
    error: str = ""


@dataclass
class Engine:
    """One DuckDB copy for one data folder: the cached connection plus refresh state.
    Keep one per process (:func:`engine`); take a cursor per run."""

    sqlite_path: Path
    duck_path: Path | None
    con: duckdb.DuckDBPyConnection
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked_at: float = 0.0  # time.monotonic() of the last completed check or refresh
    stats: dict[str, Any] = field(default_factory=dict)
    seq: int = -1  # the last change-log entry applied (-1: not read yet)
    as_of_now: str = ""  # UTC time of the last check that found the copy in step
    progress: tuple[float, str] = (0.0, "")
    error: str = ""
    ready: bool = False
    _builder: threading.Thread | None = None
    _poller: threading.Thread | None = None
    _stop: threading.Event = field(default_factory=threading.Event)

    def meta(self, cur: duckdb.DuckDBPyConnection, key: str) -> str | None:
        row = cur.execute("SELECT value FROM a_meta WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    # --- building ----------------------------------------------------------------------

    def _has_copy(self) -> bool:
        row = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'a_meta'"
        ).fetchone()
        if not row or not row[0]:
            return False
        cur = self.con.cursor()
        try:
            if self.meta(cur, "schema") != str(SCHEMA_VERSION):
                return False
            seq = self.meta(cur, "seq")
            if seq is None:
                return False
            self.seq = int(seq)
            return True
        finally:
            cur.close()

    def _sizes(self) -> dict[str, int]:
        """Rough row counts of the copied tables (their largest id), for progress."""
        conn = sync.sqlite_reader(self.sqlite_path)
        try:
            return {name: int(conn.execute(
                f"SELECT {'coalesce(max(id), 0)' if 'id' in cols else 'count(*)'} FROM {src}"
            ).fetchone()[0]) + 1 for name, (src, cols) in TABLES.items()}
        finally:
            conn.close()

    def build(self, method: str = "auto") -> dict[str, Any]:
        """Create the copy from scratch (``method``: "scanner", or "polars" = "auto":
        the scanner's second SQLite library drops this process's WAL-index locks and a
        later opener truncates the index under its readers: SIGBUS), then catch up with
        what changed meanwhile. :attr:`progress` follows it (share done, table)."""
        t0 = time.perf_counter()
        started = _now()
        ext = extension_path()
        use_scanner = method == "scanner"
        sizes = self._sizes()
        total = sum(sizes.values()) / (1 - DERIVE_SHARE)
        done = 0
        cur = self.con.cursor()
        attached = False
        conn = sync.sqlite_reader(self.sqlite_path)
        try:
            # the change log's head BEFORE the copy is read: whatever is logged after
            # it is applied again on top (each sale whole), so a copy read table by
            # table while the app writes still ends consistent
            head = sync.log_head(conn)
            if use_scanner:
                if ext is None:
                    raise RuntimeError("sqlite_scanner extension is not installed")
                cur.execute(f"LOAD '{ext}'")
                cur.execute(f"ATTACH '{self.sqlite_path}' AS crm (TYPE sqlite, READ_ONLY)")
                attached = True
            else:
                conn.execute("BEGIN")  # one snapshot: the head is exact
                head = sync.log_head(conn)
            # a table per commit (one transaction over all held a 1M-sale copy in memory:
            # 2.2 GB); readers wait while not ready; an empty a_meta names no copy
            self.ready = False
            cur.execute("BEGIN TRANSACTION")
            cur.execute("CREATE OR REPLACE TABLE a_meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
            for name, (src, cols) in TABLES.items():
                self.progress = (done / total, src)
                if use_scanner:
                    sel = ", ".join(f'CAST("{c}" AS {sync.duck_type(c)}) AS "{c}"' for c in cols)
                    cur.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT {sel} FROM crm.{src}")
                else:
                    sync.copy_table(conn, cur, name, src)
                cur.execute("COMMIT")
                cur.execute("BEGIN TRANSACTION")
                done += sizes[name]
            if not use_scanner:
                conn.execute("COMMIT")
            self.progress = (done / total, "derive")
            sync.add_derived(cur)
            sync.derive(cur, None)
            sync.set_meta(cur, {"statuses": sync.statuses_sig(cur), "schema": str(SCHEMA_VERSION),
                                "seq": str(head), "as_of": started,
                                "built_with": "scanner" if use_scanner else "polars"})
            cur.execute("COMMIT")
            self.seq = head
        except BaseException:
            with contextlib.suppress(Exception):
                cur.execute("ROLLBACK")
            raise
        finally:
            conn.close()
            if attached:
                with contextlib.suppress(Exception):
                    cur.execute("DETACH crm")
            cur.close()
        self.stats["build_s"] = time.perf_counter() - t0
        self.stats["built_with"] = "scanner" if use_scanner else "polars"
        self.ready = True
        self.progress = (1.0, "")
        self._refresh(allow_rebuild=False)  # catch up with writes made during the build
        return dict(self.stats)

    def _build_checked(self) -> None:
        try:
            self.build()
        except duckdb.Error as exc:
            # DuckDB's SQLite reader can hit "disk I/O error" when the app
            # checkpoints the WAL mid-scan; Python's sqlite3 reads it in one
            # snapshot instead (slower, always consistent).
            if "I/O error" not in str(exc):
                raise
            log.warning("analytics: scanner build failed (%s); using polars", exc)
            self.build(method="polars")

    # --- refreshing ------------------------------------------------------------------

    def refresh(self, *, force: bool = False, wait: bool = False) -> bool:
        """Bring the copy in step with SQLite (build it when there is none). Returns
        False when another thread is at it and ``wait`` is false (the caller reads
        the last copy)."""
        if not force and self.ready and time.monotonic() - self.checked_at < MAX_AGE_S:
            return True
        if not self.lock.acquire(blocking=wait):
            return False
        try:
            if not self.ready:
                self.ready = self._has_copy()
            if not self.ready:
                self.error = ""
                try:
                    self._build_checked()
                except Exception as exc:
                    self.error = str(exc) or type(exc).__name__
                    raise
            elif force or time.monotonic() - self.checked_at >= MAX_AGE_S:
                self._refresh()
            return True
        finally:
            self.lock.release()

    def _refresh(self, *, allow_rebuild: bool = True) -> None:
        """Apply what the change log holds after :attr:`seq`. When nothing was logged
        this is one read of one row of ``sqlite_sequence``."""
        t0 = time.perf_counter()
        started = _now()
        conn = sync.sqlite_reader(self.sqlite_path)
        try:
            if sync.log_head(conn) == self.seq:  # nothing changed: the cheap check
                self.checked_at = time.monotonic()
                self.as_of_now = started
                self.stats["check_s"] = time.perf_counter() - t0
                return
            conn.execute("BEGIN")  # one read snapshot (WAL: writers are not blocked)
            changes = sync.read_changes(conn, self.seq)
            conn.execute("COMMIT")
        finally:
            conn.close()
        if changes.rebuild and allow_rebuild:
            log.info("analytics: the change log asks for a new copy; building")
            self.ready = False
            self._build_checked()
            return
        cur = self.con.cursor()
        try:
            cur.execute("BEGIN TRANSACTION")
            try:
                derive_ids = sync.apply(cur, changes)
                sig = sync.statuses_sig(cur) if changes.small else None
                if sig is not None and sig != self.meta(cur, "statuses"):
                    sync.derive(cur, None)  # flags or order changed: derive all again
                    sync.set_meta(cur, {"statuses": sig})
                else:
                    sync.derive(cur, derive_ids)
                sync.set_meta(cur, {"seq": str(changes.head), "as_of": started})
                cur.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(Exception):
                    cur.execute("ROLLBACK")
                raise
        finally:
            cur.close()
        self.seq = changes.head
        self.as_of_now = started
        self.checked_at = time.monotonic()
        self.stats["refresh_s"] = time.perf_counter() - t0
        self.stats["changed_sales"] = len(changes.sale_ids)

    # --- in the background -----------------------------------------------------------

    def status(self) -> BuildStatus:
        """Where the copy is (never waits)."""
        if self.ready:
            return BuildStatus(True, 1.0)
        share, step = self.progress
        return BuildStatus(False, min(max(share, 0.0), 1.0), step, self.error)

    def start(self, *, poll: bool = False) -> threading.Thread:
        """Build (or bring up to date) the copy in a background thread of this engine,
        one per process whoever asks; with ``poll``, also keep it in step every
        :data:`POLL_S` seconds afterwards, so that readers find nothing to do."""
        with _ENGINES_LOCK:
            if self._builder is None or not (self._builder.is_alive() or self.ready
                                             or self.error):
                self.error = ""
                self._builder = threading.Thread(target=self._build_in_background,
                                                 name="clientplus-analytics-build", daemon=True)
                self._builder.start()
            if poll and self._poller is None:
                self._poller = threading.Thread(target=self._poll,
                                                name="clientplus-analytics-poll", daemon=True)
                self._poller.start()
            return self._builder

    def retry(self) -> None:
        """Forget a failed build so that :meth:`start` tries again."""
        if not self.ready and self._builder is not None and not self._builder.is_alive():
            self.error = ""
            self._builder = None

    def _build_in_background(self) -> None:
        try:
            self.refresh(force=True, wait=True)
        except Exception as exc:  # noqa: BLE001 - a background task must not die loudly
            log.warning("analytics: background build failed: %s", exc)

    def _poll(self) -> None:
        while not self._stop.wait(POLL_S):
            if self.ready:
                with contextlib.suppress(Exception):
                    self.refresh(wait=False)

    def stop(self) -> None:
        """Stop the background threads (tests, shutdown)."""
        self._stop.set()
        for thread in (self._poller, self._builder):
            if thread is not None and thread is not threading.current_thread():
                thread.join(timeout=30)


# --- the engine per data folder ----------------------------------------------------------

_ENGINES: dict[str, Engine] = {}
_ENGINES_LOCK = threading.RLock()


def engine(store: Store) -> Engine:
    """The engine of ``store``'s data folder (one per process, created on first use).
    The copy lives in ``<data>/analytics.duckdb``; when another process holds that
    file (DuckDB allows one writer process), this process keeps its own in-memory
    copy instead."""
    key = str(store.db_path)
    with _ENGINES_LOCK:
        eng = _ENGINES.get(key)
        if eng is None:
            duck_path: Path | None = store.data_dir.root / COPY_NAME
            try:
                con = duckdb.connect(str(duck_path))
            except duckdb.Error as exc:  # locked by another process, or unreadable
                log.info("analytics: %s not usable (%s); using an in-memory copy", duck_path, exc)
                duck_path = None
                con = duckdb.connect(":memory:")
            con.execute("SET preserve_insertion_order = false")
            # keep the app process under its memory budget (a build spills to disk)
            con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
            eng = Engine(store.db_path, duck_path, con)
            _ENGINES[key] = eng
    return eng


def close_all() -> None:
    """Stop and close every engine of this process (tests, shutdown)."""
    with _ENGINES_LOCK:
        engines = list(_ENGINES.values())
        _ENGINES.clear()
    for eng in engines:
        eng.stop()
        with contextlib.suppress(Exception):
            eng.con.close()


def refresh(store: Store, *, force: bool = True) -> dict[str, Any]:
    """Refresh the copy now (waiting for a refresh already running); returns stats."""
    eng = engine(store)
    eng.refresh(force=force, wait=True)
    return dict(eng.stats)


def status(store: Store, wait_s: float = 0.0) -> BuildStatus:
    """Whether reports can read the copy now; when not, starts building it in the
    engine's background thread (once per process), waits for it at most ``wait_s``
    (a small database is built by then) and says how far it is. A page shows this
    as a progress bar instead of waiting for a big build."""
    eng = engine(store)
    if not eng.ready and eng.lock.acquire(blocking=False):
        try:  # a copy left by an earlier run is ready at once
            eng.ready = eng._has_copy()
        finally:
            eng.lock.release()
    if not eng.ready:
        eng.start().join(wait_s)
    return eng.status()


def warm_up(store: Store) -> threading.Thread | None:
    """Build (or bring up to date) the copy in a background thread, so that the first
    report of a freshly started app does not wait for a build of a big database,
    then keep it in step every :data:`POLL_S` s. Off when
    ``CLIENTPLUS_ANALYTICS_WARMUP=0``. Errors are logged (and shown by
    :func:`status`). Returns the build thread."""
    if os.environ.get("CLIENTPLUS_ANALYTICS_WARMUP", "1") == "0":
        return None
    return engine(store).start(poll=True)


def _ensure(store: Store) -> Engine:
    """The engine, with a copy to read: waits for a build (its own or the background
    thread's) when there is no copy yet; otherwise refreshes unless another thread
    is refreshing (then the last committed copy is read)."""
    eng = engine(store)
    if not eng.ready:
        eng.refresh(force=True, wait=True)
    else:
        eng.refresh(wait=False)
    return eng


# --- scope: the one place ----------------------------------------------------------------


def scoped_ctes(actor: Actor) -> tuple[str, list[object]]:
    """``WITH`` clause defining the views a report reads, restricted to what
    ``actor`` may see. Returns (sql, parameters) — parameters come first in the
    final statement. Deleted sales, sales of deleted clients and their rows are
    left out for everybody (the derived ``live`` flag)."""
    params: list[object] = []
    if actor.sees_everything:
        own = ""
        client_scope = "deleted_at IS NULL"
    else:
        own = (" AND (client_owner_id = ?"
               " OR client_id IN (SELECT client_id FROM a_shares WHERE user_id = ?))")
        client_scope = ("deleted_at IS NULL AND (owner_id = ?"
                        " OR id IN (SELECT client_id FROM a_shares WHERE user_id = ?))")
    mine = [] if actor.sees_everything else [actor.id, actor.id]
    ctes = [f"sales AS NOT MATERIALIZED (SELECT * FROM a_sales WHERE live{own})",
            f"sale_lines AS NOT MATERIALIZED (SELECT * FROM a_sale_lines WHERE live{own})",
            "payments AS NOT MATERIALIZED (SELECT * FROM a_payments"
            f" WHERE live AND deleted_at IS NULL{own})",
            f"status_log AS NOT MATERIALIZED (SELECT * FROM a_status_log WHERE live{own})",
            f"clients AS NOT MATERIALIZED (SELECT * FROM a_clients WHERE {client_scope})"]
    params += mine * 5
    ctes.append("interactions AS NOT MATERIALIZED (SELECT * FROM a_interactions"
                " WHERE deleted_at IS NULL AND client_id IN (SELECT id FROM clients))")
    ctes.append("statuses AS NOT MATERIALIZED (SELECT * FROM a_statuses)")
    ctes.append("users AS NOT MATERIALIZED (SELECT * FROM a_users)")
    ctes.append("catalogue AS NOT MATERIALIZED (SELECT * FROM a_catalogue)")
    return "WITH " + ",\n".join(ctes) + "\n", params


class Snapshot:
    """Several queries on one consistent state of the copy, for one actor."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, actor: Actor, as_of: str):
        self._cur = cur
        self.actor = actor
        self.as_of = as_of

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        """Run one SELECT over the scoped views; returns a polars frame."""
        _check_select(sql)
        ctes, scope_params = scoped_ctes(self.actor)
        body = sql.strip()
        if body[:4].upper() == "WITH":  # merge the caller's own CTEs into ours
            text = ctes.rstrip() + ",\n" + body[4:]
        else:
            text = ctes + body
        return self._cur.execute(text, [*scope_params, *params]).pl()


def _check_select(sql: str) -> None:
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if head not in ("SELECT", "WITH") or ";" in sql.rstrip().rstrip(";"):
        raise ValueError("analytics.query: only one SELECT statement is allowed")
    if "a_" in sql and any(f"a_{t}" in sql for t in ("sales", "clients", "payments", "meta",
                                                       "sale_lines", "status_log", "shares")):
        raise ValueError("analytics.query: read the scoped views, not the a_* tables")


@contextlib.contextmanager
def snapshot(store: Store, actor: Actor) -> Iterator[Snapshot]:
    """A consistent, scoped, fresh (≤ :data:`MAX_AGE_S` old) view of the copy."""
    require(actor, "report.read")
    eng = _ensure(store)
    cur = eng.con.cursor()
    try:
        cur.execute("BEGIN TRANSACTION")
        while not eng.ready:  # a new copy is being built: wait for it, then read it whole
            cur.execute("ROLLBACK")
            eng.refresh(force=True, wait=True)
            cur.execute("BEGIN TRANSACTION")
        seq, when = eng.meta(cur, "seq"), eng.meta(cur, "as_of") or ""
        if seq == str(eng.seq) and eng.as_of_now > when:  # checked since: still in step
            when = eng.as_of_now
        yield Snapshot(cur, actor, when)
        cur.execute("COMMIT")
    finally:
        cur.close()


def query(store: Store, actor: Actor, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
    """Run one whitelisted SELECT over the scoped views of the analytics copy with
    bound parameters; see the module docstring."""
    with snapshot(store, actor) as snap:
        return snap.query(sql, params)


def as_of(store: Store) -> str:
    """UTC ISO time of the SQLite snapshot the copy reflects ('' before the first build)."""
    eng = engine(store)
    if eng.as_of_now:
        return eng.as_of_now
    cur = eng.con.cursor()
    try:
        try:
            return eng.meta(cur, "as_of") or ""
        except duckdb.Error:
            return ""
    finally:
        cur.close()


def as_of_label(value: str) -> str:
    """"HH:MM:SS" (local time) of an ``as_of`` value, "—" when empty."""
    if not value:
        return "—"
    return datetime.fromisoformat(value).astimezone().strftime("%H:%M:%S")
