"""A crash leaves nothing behind that the next start does not mend (issue 11, section 4):
a bulk load killed with its indexes dropped, a backup killed halfway, a first start
killed before the passwords, a full disk during an import or an upload, and an audit
trail that the database itself keeps append-only.

``kill -9`` is real here: a child process runs the work and sends itself SIGKILL at a
chosen point, so nothing of Python's clean-up (``finally``, ``atexit``) runs."""

from __future__ import annotations

import errno
import io
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from clientplus_cli.main import main
from clientplus_core import demo, sales
from clientplus_core.base.errors import DiskFullError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import files, importer
from clientplus_core.clients.import_mapping import guess_mapping
from clientplus_core.clients.sheets import read_table
from clientplus_core.maintenance import backup
from clientplus_core.store import db as store_db
from clientplus_core.store import migrations, recovery
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import audit, auth, users
from clientplus_core.team.access import Actor

ROOT = Path(__file__).resolve().parents[2]


def run_until_killed(script: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` in a child Python that is expected to SIGKILL itself."""
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300,
                          env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    return proc


def index_names(db_path: Path) -> set[str]:
    conn = sqlite3.connect(str(db_path))
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'"
                                           " AND sql IS NOT NULL")}
    finally:
        conn.close()


def expected_index_names() -> set[str]:
    """The indexes a freshly created database has."""
    return {name for name, _table, _sql in migrations.expected_indexes()}


def scalar(store: Store, sql: str) -> Any:
    with store.read() as conn:
        return conn.execute(sql).fetchone()[0]


# -- 1. a bulk load killed with its indexes dropped --------------------------------------------

KILL_DURING_SALES_LOAD = """
    import os, signal
    from datetime import UTC, datetime
    from clientplus_core import demo
    from clientplus_core.store.startup import open_store

    store = open_store({data!r})
    anchor = datetime(2026, 3, 1, tzinfo=UTC)
    demo.generate(store, 20, seed=3, anchor=anchor, with_files=False)

    def progress(done, total):
        if done >= 20:  # two chunks are in, the secondary indexes are still dropped
            os.kill(os.getpid(), signal.SIGKILL)

    demo.generate_sales(store, 60, seed=3, anchor=anchor, chunk_size=10, progress=progress)
"""


def test_a_sales_load_killed_halfway_gets_every_index_back_at_the_next_start(tmp_path: Path):
    data = tmp_path / "data"
    run_until_killed(KILL_DURING_SALES_LOAD.format(data=str(data)))
    lost = expected_index_names() - index_names(data / "clientplus.db")
    assert {"ix_sales_reg_date", "ix_sale_lines_sale", "ix_interactions_client"} <= lost
    assert len(lost) >= 15

    store = open_store(data)   # the next start: `clientplus …` or the app's first page

    assert index_names(data / "clientplus.db") >= expected_index_names()
    assert scalar(store, "SELECT count(*) FROM bulk_dropped_indexes") == 0
    assert scalar(store, "SELECT v FROM search_index_config WHERE k = 'hashsize'") \
        == demo.FTS_DEFAULT_HASHSIZE
    # the two chunks that were written are whole, and a new load continues the numbering
    admin = users.ensure_local_admin(store)
    assert sales.list_sales(store, admin).total == 20
    demo.generate_sales(store, 15, seed=4)
    assert scalar(store, "SELECT count(DISTINCT number) FROM sales") == 35


def test_a_start_while_a_bulk_load_runs_leaves_its_dropped_indexes_alone(store: Store):
    from clientplus_core.demo import sales as demo_sales

    lock = recovery.bulk_lock_path(store.data_dir)
    with recovery.running(lock):                      # a load is alive (in any process)
        with store.write() as conn:
            dropped = demo_sales._drop_secondary_indexes(conn, demo_sales._BULK_TABLES)
        open_store(store.data_dir.root)
        assert not {name for name, _sql in dropped} & index_names(store.db_path)
    open_store(store.data_dir.root)                    # the load is gone: mended
    assert index_names(store.db_path) >= expected_index_names()


# -- 2. a backup killed halfway ----------------------------------------------------------------

KILL_DURING_BACKUP = """
    import os, signal
    from clientplus_core.maintenance import backup
    from clientplus_core.store.startup import open_store
    from clientplus_core.team import users

    store = open_store({data!r})
    admin = users.ensure_local_admin(store)
    real_add = backup._add_file

    def add_then_die(zf, name, path, compress):
        entry = real_add(zf, name, path, compress)
        os.kill(os.getpid(), signal.SIGKILL)   # the database is in the .tmp archive

    backup._add_file = add_then_die
    backup.create_backup(store, admin, backup.default_backup_path(store))
"""


def backup_leftovers(backups: Path) -> list[str]:
    return sorted(p.name for p in backups.iterdir()
                  if p.name.startswith("clientplus-backup-") or p.suffix == ".tmp")


@pytest.fixture
def killed_backup(store: Store, actor: Actor, make_client: Any) -> Path:
    """A data folder whose backup was killed halfway; one earlier good backup."""
    make_client(name="ООО «Сохранный»")
    backup.create_backup(store, actor, store.data_dir.backups_dir / "good.zip")
    (store.data_dir.backups_dir / "notes.txt").write_text("не трогать")
    run_until_killed(KILL_DURING_BACKUP.format(data=str(store.data_dir.root)))
    backups = store.data_dir.backups_dir
    left = backup_leftovers(backups)
    assert any(n.endswith(".tmp") for n in left), left
    assert any((backups / n / "clientplus.db").is_file() for n in left), left
    return backups


def test_the_next_start_removes_what_a_killed_backup_left(store: Store, killed_backup: Path):
    open_store(store.data_dir.root)
    assert backup_leftovers(killed_backup) == []
    assert sorted(p.name for p in killed_backup.iterdir()
                  if not p.name.startswith(".")) == ["good.zip", "notes.txt"]
    assert backup.verify_backup(killed_backup / "good.zip").ok


def test_the_next_backup_removes_what_a_killed_backup_left(store: Store, actor: Actor,
                                                           killed_backup: Path):
    backup.create_backup(store, actor, killed_backup / "next.zip")
    assert backup_leftovers(killed_backup) == []
    assert backup.verify_backup(killed_backup / "next.zip").ok


def test_a_backup_still_running_keeps_its_temporary_files(store: Store, killed_backup: Path):
    with recovery.running(recovery.backup_lock_path(store.data_dir)):
        open_store(store.data_dir.root)
        assert backup_leftovers(killed_backup) != []


def test_a_backup_elsewhere_cleans_its_own_tmp_archive_next_to_it(store: Store, actor: Actor,
                                                                  tmp_path: Path):
    out = tmp_path / "usb" / "copy.zip"
    out.parent.mkdir()
    stale = out.parent / ".copy.zip.k2j4h5g6.tmp"
    stale.write_bytes(b"PK half an archive")
    other = out.parent / ".other.zip.abcd1234.tmp"   # not this archive's: left alone
    other.write_bytes(b"x")
    backup.create_backup(store, actor, out)
    assert not stale.exists() and other.exists() and backup.verify_backup(out).ok


# -- 3. the first start killed before the passwords ---------------------------------------------

def init(data: Path, clients_n: int = 8) -> int:
    return main(["init", "--data-dir", str(data), "--demo-if-new",
                 "--demo-clients", str(clients_n)])


def assert_first_start_complete(data: Path, out: str, clients_n: int = 8) -> None:
    store = open_store(data)
    for login in [users.LOCAL_ADMIN_LOGIN] + [u[0] for u in demo.DEMO_USERS]:
        assert f"  {login} " in out, out
        assert auth.has_passwords(store)
        with store.read() as conn:
            assert conn.execute("SELECT password_hash FROM users WHERE login = ?",
                                (login,)).fetchone()[0], login
    assert scalar(store, "SELECT count(*) FROM clients") == clients_n
    assert scalar(store, "SELECT count(*) FROM sales") == clients_n * 5
    assert scalar(store, "SELECT count(DISTINCT number) FROM sales") == clients_n * 5
    assert scalar(store, "SELECT count(*) FROM tasks") > 0
    assert scalar(store, "SELECT count(*) FROM mailings") == 1
    assert index_names(data / "clientplus.db") >= expected_index_names()


def test_a_first_start_that_failed_before_the_passwords_is_completed_by_the_rerun(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "data"

    def killed(*_args: Any, **_kw: Any) -> dict[str, str]:
        raise KeyboardInterrupt   # as if the process died right before the passwords

    monkeypatch.setattr(auth, "set_demo_passwords", killed)
    with pytest.raises(KeyboardInterrupt):
        init(data)
    monkeypatch.undo()
    store = open_store(data)
    assert not auth.has_passwords(store)
    capsys.readouterr()

    assert init(data) == 0
    out = capsys.readouterr().out
    assert "Completing the interrupted first start" in out
    assert_first_start_complete(data, out)

    assert init(data) == 0                               # finished: never touched again
    assert "Demo users" not in capsys.readouterr().out


KILL_DURING_INIT_SALES = """
    import os, signal
    from clientplus_cli.main import main
    from clientplus_core.demo import sales as demo_sales

    real = demo_sales._SalesGenerator.sales

    def chunks_then_die(self, n, base_ids, chunk_size):
        for i, chunk in enumerate(real(self, n, base_ids, 7)):
            if i == 3:
                os.kill(os.getpid(), signal.SIGKILL)
            yield chunk

    demo_sales._SalesGenerator.sales = chunks_then_die
    main(["init", "--data-dir", {data!r}, "--demo-if-new", "--demo-clients", "8"])
"""


def test_a_first_start_killed_in_the_sales_load_is_completed_by_the_rerun(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "data"
    run_until_killed(KILL_DURING_INIT_SALES.format(data=str(data)))
    conn = sqlite3.connect(str(data / "clientplus.db"))
    try:
        assert conn.execute("SELECT count(*) FROM sales").fetchone()[0] == 21
        assert conn.execute("SELECT count(*) FROM users WHERE password_hash IS NOT NULL"
                            ).fetchone()[0] == 0
    finally:
        conn.close()

    assert init(data) == 0
    assert_first_start_complete(data, capsys.readouterr().out)


def test_an_existing_folder_without_a_first_start_is_never_filled(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    data = tmp_path / "data"
    assert main(["init", "--data-dir", str(data)]) == 0
    assert init(data) == 0
    assert "Demo users" not in capsys.readouterr().out
    assert scalar(open_store(data), "SELECT count(*) FROM clients") == 0


# -- 4. a full disk -----------------------------------------------------------------------------

@pytest.fixture
def nearly_full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every new connection may grow the database by a few pages only: SQLite then
    answers "database or disk is full" (SQLITE_FULL), as on a full disk."""
    real = store_db.connect

    def tight(path: Path | str) -> sqlite3.Connection:
        conn = real(path)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 6}")
        return conn

    monkeypatch.setattr(store_db, "connect", tight)
    store_db.close_pool()  # connections opened before the disk "filled up" go


def import_rows(n: int) -> bytes:
    lines = ["Наименование;Примечания"]
    lines += [f"ООО «Импорт {i}»;{'примечание ' * 150}" for i in range(n)]
    return "\n".join(lines).encode("utf-8")


def test_a_full_disk_during_an_import_says_so_and_writes_nothing(
        store: Store, actor: Actor, make_client: Any, monkeypatch: pytest.MonkeyPatch,
        nearly_full_disk: None):
    make_client(name="ООО «Было до импорта»")
    table = read_table(import_rows(300), "clients.csv")
    mapping = guess_mapping(table.headers)
    with pytest.raises(DiskFullError) as err:
        importer.run_import(store, actor, table, mapping)
    assert str(err.value).startswith("Недостаточно места на диске")
    assert "импорт не выполнен" in str(err.value)
    names = [c["name"] for c in clients.iter_clients(store, actor)]
    assert names == ["ООО «Было до импорта»"]
    assert not any(e["action"] == "import" for e in audit.query(store, actor))

    monkeypatch.undo()                                # space freed: the same import works
    store_db.close_pool()
    report = importer.run_import(store, actor, table, mapping)
    assert report.created == 300


def test_a_full_disk_while_saving_a_card_says_so(store: Store, actor: Actor,
                                                 nearly_full_disk: None):
    with pytest.raises(DiskFullError, match="^Недостаточно места на диске"):
        clients.create(store, actor, {"kind": "legal", "name": "ООО «Длинное»",
                                      "notes": "текст " * 3_000})
    assert list(clients.iter_clients(store, actor)) == []


class _FullDisk(io.BufferedWriter):
    """A file on a disk that fills up after ``room`` bytes (OSError 28)."""

    room = 3 << 20

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > self.room:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return super().write(data)


def test_a_full_disk_during_an_upload_says_so_and_leaves_no_half_written_blob(
        store: Store, actor: Actor, make_client: Any, monkeypatch: pytest.MonkeyPatch):
    client = make_client()
    real_fdopen = os.fdopen

    def fdopen(fd: int, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "w" in mode:
            return _FullDisk(io.FileIO(fd, "w"))
        return real_fdopen(fd, mode, *args, **kwargs)

    monkeypatch.setattr(files.os, "fdopen", fdopen)
    with pytest.raises(DiskFullError) as err:
        files.upload(store, actor, client["id"], "скан договора.pdf",
                     io.BytesIO(os.urandom(5 << 20)))
    assert str(err.value).startswith("Недостаточно места на диске")
    assert "«скан договора.pdf» не сохранён" in str(err.value)
    assert [p for p in store.data_dir.files_dir.rglob("*") if p.is_file()] == []
    assert files.list_for_client(store, actor, client["id"]) == []

    monkeypatch.undo()
    row = files.upload(store, actor, client["id"], "скан договора.pdf", io.BytesIO(b"%PDF-1.4"))
    assert row["size"] == 8


def test_a_full_disk_during_a_backup_says_so_and_leaves_no_partial_archive(
        store: Store, actor: Actor, make_client: Any, monkeypatch: pytest.MonkeyPatch):
    make_client()

    def full(*_args: Any, **_kw: Any) -> Any:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(backup, "_add_file", full)
    out = store.data_dir.backups_dir / "full.zip"
    with pytest.raises(DiskFullError, match="^Недостаточно места на диске.*«full.zip»"):
        backup.create_backup(store, actor, out)
    assert not out.exists() and backup_leftovers(store.data_dir.backups_dir) == []


# -- 5. the audit trail is append-only in the database ------------------------------------------

def test_the_audit_log_refuses_update_and_delete_even_from_plain_sql(
        store: Store, make_client: Any):
    make_client(name="ООО «Аудит»")
    conn = sqlite3.connect(str(store.db_path))
    try:
        before = conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()
        assert before
        for sql in ("UPDATE audit_log SET summary = 'подделка'",
                    "UPDATE audit_log SET client_id = NULL WHERE id = 1",
                    "DELETE FROM audit_log",
                    "DELETE FROM audit_log WHERE id = 1"):
            with pytest.raises(sqlite3.DatabaseError, match="только дополняется"):
                conn.execute(sql)
            conn.rollback()
        assert conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall() == before
        conn.execute("INSERT INTO audit_log (at, action) VALUES ('2026-01-01', 'test')")
        conn.commit()
    finally:
        conn.close()


def test_a_merge_keeps_the_other_cards_history_on_the_survivor_without_rewriting_it(
        store: Store, actor: Actor, make_client: Any):
    keep = make_client(name="Ромашка")
    other = make_client(name="Ромашка (дубль)")
    third = make_client(name="Ромашка (ещё дубль)")
    clients.update(store, actor, other["id"], {"notes": "правка дубля"}, other["version"])
    clients.merge(store, actor, other["id"], third["id"])     # a chain: third -> other -> keep
    clients.merge(store, actor, keep["id"], other["id"])
    history = clients.history(store, actor, keep["id"])
    assert sum(h["action"] == "create" for h in history) == 3
    assert any(h["action"] == "update" and "правка дубля" in str(h["diff"]) for h in history)
    assert sum(h["action"] == "merge" for h in history) == 2
