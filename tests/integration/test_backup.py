"""Backups: a consistent snapshot plus every file, verified by SHA-256, restored intact."""

from __future__ import annotations

import hashlib
import io
import json
import sqlite3
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from clientplus_cli.main import main
from clientplus_core.base.errors import AccessDenied, UserError
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_core.maintenance import backup
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

TABLES = ("clients", "contacts", "files", "blobs", "links", "client_tags", "users")


def _dump(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(str(db_path))
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall() for t in TABLES}
    finally:
        conn.close()


def _blob_hashes(data_dir: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in (data_dir / "files").glob("??/*") if p.is_file()}


@pytest.fixture
def filled(store: Store, actor: Actor, make_client: Callable[..., dict[str, Any]]) -> Store:
    """A store with clients, contacts, files (one shared by two cards) and a link."""
    a = make_client(name="ООО «Ромашка»", inn="7707083893", tags=["опт", "VIP"])
    b = make_client(name="ИП Петров П.П.", kind="ip")
    contacts.create(store, actor, a["id"], {"name": "Иванов Иван", "mobile": "+79161234567",
                                             "email": "ivanov@example.com"})
    contacts.create(store, actor, b["id"], {"name": "Сидорова Анна", "post": "Бухгалтер"})
    files.upload(store, actor, a["id"], "Договор.txt",
                 io.BytesIO("Договор поставки металлопроката".encode()))
    files.upload(store, actor, b["id"], "копия.txt",
                 io.BytesIO("Договор поставки металлопроката".encode()))
    files.upload(store, actor, b["id"], "data.bin", io.BytesIO(bytes(range(256)) * 4000))
    files.add_link(store, actor, a["id"], "https://disk.yandex.ru/d/abc", "Папка клиента")
    assert text_jobs.wait(store, 60)   # the files' text is in before the backup
    return store


def test_round_trip_restores_every_row_and_file(filled: Store, actor: Actor,
                                                tmp_path: Path) -> None:
    out = tmp_path / "b" / "copy.zip"
    manifest = backup.create_backup(filled, actor, out)
    assert out.exists() and not list(out.parent.glob("*.tmp"))
    assert manifest["format"] == "clientplus-backup" and manifest["version"] == 1
    assert manifest["counts"] == {"clients": 2, "contacts": 2, "files": 3}
    paths = [m["path"] for m in manifest["members"]]
    assert paths[0] == "clientplus.db"
    assert sum(p.startswith("files/") for p in paths) == 2   # the same bytes stored once

    result = backup.verify_backup(out)
    assert result.ok, result.problems
    assert result.members == len(manifest["members"])

    target = tmp_path / "restored"
    counts = backup.restore_backup(out, target)
    assert counts["clients"] == 2 and counts["files"] == 3 and counts["blobs"] == 2
    assert _dump(target / "clientplus.db") == _dump(filled.db_path)
    assert _blob_hashes(target) == _blob_hashes(filled.data_dir.root)
    assert all(name == sha for name, sha in _blob_hashes(target).items())
    restored = open_store(target)
    with restored.read() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    data = files.read(restored, actor, 1)[1]
    assert data.decode() == "Договор поставки металлопроката"


def test_backup_is_recorded_in_the_audit_log(filled: Store, actor: Actor,
                                             tmp_path: Path) -> None:
    backup.create_backup(filled, actor, tmp_path / "x.zip")
    with filled.read() as conn:
        row = conn.execute("SELECT * FROM audit_log WHERE action = 'backup'").fetchone()
    assert row["actor_login"] == actor.login and "x.zip" in row["summary"]


def test_only_an_administrator_may_back_up(filled: Store, tmp_path: Path) -> None:
    manager = users.create(filled, "m1", "Менеджер", "manager")
    with pytest.raises(AccessDenied):
        backup.create_backup(filled, manager, tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()


def test_snapshot_taken_while_another_thread_writes_is_consistent(
        store: Store, actor: Actor, make_client: Callable[..., dict[str, Any]],
        tmp_path: Path) -> None:
    stop = threading.Event()
    created: list[int] = []
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            while not stop.is_set():
                created.append(make_client(notes="заметка " * 50)["id"])
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assert below
            errors.append(exc)

    for _ in range(30):
        make_client()
    t = threading.Thread(target=writer)
    t.start()
    try:
        while len(created) < 20:
            stop.wait(0.01)
        manifests = [backup.create_backup(store, actor, tmp_path / f"live{i}.zip")
                     for i in range(3)]
        n_during = len(created)
    finally:
        stop.set()
        t.join()
    assert not errors
    for i, manifest in enumerate(manifests):
        path = tmp_path / f"live{i}.zip"
        assert backup.verify_backup(path).ok
        target = tmp_path / f"restored{i}"
        counts = backup.restore_backup(path, target)
        assert counts["clients"] == manifest["counts"]["clients"]
        assert 30 + 20 <= counts["clients"] <= 30 + n_during + 1
        conn = sqlite3.connect(str(target / "clientplus.db"))
        try:
            # each create writes the client, its index row and its audit row in one
            # transaction: a consistent snapshot holds all three or none
            n = conn.execute("SELECT count(*) FROM clients").fetchone()[0]
            assert conn.execute("SELECT count(*) FROM search_index WHERE entity = 'client'"
                                ).fetchone()[0] == n
            assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'create'"
                                ).fetchone()[0] == n
        finally:
            conn.close()


def _rewrite(src: Path, dst: Path, change: Callable[[str, bytes], bytes | None]) -> None:
    """Copy a zip member by member; ``change`` may return new bytes (or None to drop)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = change(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)


def test_a_changed_member_fails_verification_naming_it(filled: Store, actor: Actor,
                                                       tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    manifest = backup.create_backup(filled, actor, good)
    victim = next(m["path"] for m in manifest["members"] if m["path"].startswith("files/"))
    bad = tmp_path / "bad.zip"
    _rewrite(good, bad, lambda n, d: d + b"!" if n == victim else d)
    result = backup.verify_backup(bad)
    assert not result.ok
    assert any(victim in p for p in result.problems)
    with pytest.raises(UserError, match="повреждена"):
        backup.restore_backup(bad, tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_flipped_bytes_inside_the_archive_are_reported_not_raised(
        filled: Store, actor: Actor, tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    backup.create_backup(filled, actor, good)
    raw = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("files/")
                    and i.file_size > 10_000)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra) + 100
    raw[start:start + 8] = b"\x00" * 8
    bad = tmp_path / "flipped.zip"
    bad.write_bytes(bytes(raw))
    result = backup.verify_backup(bad)
    assert not result.ok and any(info.filename in p for p in result.problems)


def test_missing_extra_and_unlisted_members_are_reported(filled: Store, actor: Actor,
                                                         tmp_path: Path) -> None:
    good = tmp_path / "good.zip"
    manifest = backup.create_backup(filled, actor, good)
    victim = manifest["members"][1]["path"]
    bad = tmp_path / "bad.zip"

    def change(name: str, data: bytes) -> bytes | None:
        return None if name == victim else data

    _rewrite(good, bad, change)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr("files/zz/extra", b"x")
    problems = backup.verify_backup(bad).problems
    assert any(victim in p and "отсутствует" in p for p in problems)
    assert any("files/zz/extra" in p and "лишний" in p for p in problems)


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_garbage_is_reported_not_raised(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "x.zip"
    p.write_bytes(content)
    result = backup.verify_backup(p)
    assert not result.ok and result.problems


def test_zip_without_manifest_is_not_a_backup(tmp_path: Path) -> None:
    p = tmp_path / "x.zip"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("clientplus.db", b"")
    result = backup.verify_backup(p)
    assert not result.ok and "manifest.json" in result.problems[0]
    assert not backup.verify_backup(tmp_path / "absent.zip").ok


def test_restore_refuses_a_folder_that_is_not_empty(filled: Store, actor: Actor,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "copy.zip"
    backup.create_backup(filled, actor, out)
    target = tmp_path / "busy"
    target.mkdir()
    (target / "note.txt").write_text("keep me")
    with pytest.raises(UserError, match="папка не пуста"):
        backup.restore_backup(out, target)
    assert [p.name for p in target.iterdir()] == ["note.txt"]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert backup.restore_backup(out, empty)["clients"] == 2


@pytest.mark.parametrize("evil", ["../evil", "files/../../evil", "/tmp/evil", "C:/evil",
                                  "files\\..\\evil"])
def test_members_escaping_the_folder_are_refused(filled: Store, actor: Actor, tmp_path: Path,
                                                 evil: str) -> None:
    good = tmp_path / "good.zip"
    backup.create_backup(filled, actor, good)
    bad = tmp_path / "evil.zip"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        manifest = json.loads(zin.read("manifest.json"))
        manifest["members"].append({"path": evil, "size": 4,
                                    "sha256": hashlib.sha256(b"evil").hexdigest()})
        for info in zin.infolist():
            if info.filename != "manifest.json":
                zout.writestr(info, zin.read(info))
        zout.writestr(evil, b"evil")
        zout.writestr("manifest.json", json.dumps(manifest))
    result = backup.verify_backup(bad)
    assert not result.ok and any(evil in p for p in result.problems)
    target = tmp_path / "deep" / "restore"
    with pytest.raises(UserError):
        backup.restore_backup(bad, target)
    assert not (tmp_path / "evil").exists() and not (tmp_path / "deep" / "evil").exists()
    assert not target.exists()


def test_default_path_is_in_the_backups_folder(store: Store) -> None:
    p = backup.default_backup_path(store)
    assert p.parent == store.data_dir.backups_dir
    assert p.name.startswith("clientplus-") and p.suffix == ".zip" and len(p.stem) == 26


def test_cli_round_trip_and_exit_codes(filled: Store, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    src = str(filled.data_dir.root)
    out = tmp_path / "cli.zip"
    assert main(["--data-dir", src, "backup", "create", "-o", str(out)]) == 0
    assert out.exists()
    assert main(["backup", "verify", str(out)]) == 0
    assert "в порядке" in capsys.readouterr().out

    target = tmp_path / "cli-restored"
    assert main(["--data-dir", str(target), "backup", "restore", str(out)]) == 0
    assert _dump(target / "clientplus.db")["clients"] == _dump(filled.db_path)["clients"]

    capsys.readouterr()
    assert main(["--data-dir", str(target), "backup", "restore", str(out)]) == 1
    err = capsys.readouterr().err
    assert "папка не пуста" in err and err.count("\n") == 1

    bad = tmp_path / "bad.zip"
    _rewrite(out, bad, lambda n, d: d + b"x" if n == "clientplus.db" else d)
    assert main(["backup", "verify", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "clientplus.db" in err and err.count("\n") == 1 and "Traceback" not in err
