"""Backups: one .zip holding a consistent database snapshot, every stored file and a
manifest of SHA-256 sums; verification that never raises; restore into an empty folder.

The database is copied with SQLite's online backup API from a read transaction, so
the snapshot is consistent even while the app keeps writing; the live file is
never copied byte by byte. Blobs are streamed into the archive (a 2 GB attachment
is never read into memory), and the archive is written to a temporary file and
renamed only when complete, so a crash leaves no half-written backup behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from clientplus_core import __version__
from clientplus_core.base.errors import DiskFullError, UserError, is_disk_full
from clientplus_core.store import recovery
from clientplus_core.store.config import DataDir
from clientplus_core.store.db import Store, connect, now_iso
from clientplus_core.store.startup import open_store
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

FORMAT = "clientplus-backup"
VERSION = 1
DB_MEMBER = "clientplus.db"
MANIFEST = "manifest.json"
FILES_PREFIX = "files/"
CHUNK = 1 << 20
_BLOB_MEMBER = re.compile(r"^files/([0-9a-f]{2})/([0-9a-f]{64})$")
_SHA = re.compile(r"^[0-9a-f]{64}$")


def default_backup_path(store: Store) -> Path:
    """``<data>/backups/clientplus-YYYYmmdd-HHMMSS.zip`` (local time)."""
    return store.data_dir.backups_dir / f"clientplus-{datetime.now():%Y%m%d-%H%M%S}.zip"


def _copy_hashing(src: IO[bytes], dst: IO[bytes] | None) -> tuple[str, int]:
    """Stream ``src`` into ``dst`` (if given); return (sha256, size)."""
    h = hashlib.sha256()
    size = 0
    while chunk := src.read(CHUNK):
        h.update(chunk)
        size += len(chunk)
        if dst is not None:
            dst.write(chunk)
    return h.hexdigest(), size


def _snapshot(store: Store, dest: Path) -> dict[str, int]:
    """Copy the live database into ``dest`` with the online backup API; return counts."""
    src = connect(store.db_path)
    dst = sqlite3.connect(str(dest))
    try:
        src.backup(dst)   # pages=-1: one step, inside one read transaction -> consistent
    finally:
        dst.close()
        src.close()
    conn = sqlite3.connect(str(dest))
    try:
        # a self-contained single file: no -wal/-shm needed to read it
        conn.execute("PRAGMA journal_mode = DELETE")
        return _counts(conn)
    finally:
        conn.close()


def _counts(conn: sqlite3.Connection) -> dict[str, int]:
    q = {"clients": "SELECT count(*) FROM clients WHERE deleted_at IS NULL",
         "contacts": "SELECT count(*) FROM contacts WHERE deleted_at IS NULL",
         "files": "SELECT count(*) FROM files WHERE deleted_at IS NULL"}
    return {k: int(conn.execute(sql).fetchone()[0]) for k, sql in q.items()}


def _blob_files(data_dir: DataDir) -> Iterator[tuple[str, Path]]:
    """(member name, path) of every blob in the content-addressed store, sorted."""
    root = data_dir.files_dir
    if not root.is_dir():
        return
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and len(p.name) == 2):
        for f in sorted(sub.iterdir()):
            if f.is_file() and _SHA.match(f.name) and f.name[:2] == sub.name:
                yield f"{FILES_PREFIX}{sub.name}/{f.name}", f


def _add_file(zf: zipfile.ZipFile, name: str, path: Path, compress: int) -> dict[str, Any]:
    info = zipfile.ZipInfo.from_file(path, name)
    info.compress_type = compress
    size_on_disk = path.stat().st_size
    with path.open("rb") as src, zf.open(info, "w",
                                         force_zip64=size_on_disk > 0x7FFF0000) as dst:
        sha, size = _copy_hashing(src, dst)
    return {"path": name, "size": size, "sha256": sha}


def create_backup(store: Store, actor: Actor, out: Path) -> dict[str, Any]:
    """Write a backup .zip to ``out`` (admin only); return its manifest. What killed
    backups left behind is removed first; a full disk is a :class:`DiskFullError`."""
    require(actor, "backup")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    recovery.clean_backup_leftovers(store.data_dir, out)
    try:
        with recovery.running(recovery.backup_lock_path(store.data_dir)):
            manifest, members, counts = _write_backup(store, out)
    except (OSError, sqlite3.Error) as exc:
        if is_disk_full(exc):
            raise DiskFullError(f"резервная копия «{out.name}» не создана") from exc
        raise
    with store.write() as wconn:
        audit.record(wconn, actor, "backup", "backup", None, None,
                     f"{out.name}: {len(members)} файлов", {"path": str(out), **counts})
    return manifest


def _write_backup(store: Store, out: Path) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                    dict[str, int]]:
    """The archive itself: (manifest, members, counts). Its temporary files (the
    snapshot folder, the ``.tmp`` archive) are the ones
    :func:`~clientplus_core.store.recovery.clean_backup_leftovers` knows."""
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix=recovery.BACKUP_TMP_DIR_PREFIX,
                                     dir=store.data_dir.backups_dir
                                     if store.data_dir.backups_dir.is_dir() else None) as tmp:
        snap = Path(tmp) / DB_MEMBER
        counts = _snapshot(store, snap)
        conn = sqlite3.connect(str(snap))
        try:
            referenced = {r[0] for r in conn.execute("SELECT sha256 FROM blobs")}
        finally:
            conn.close()
        fd, tmp_zip = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        os.close(fd)
        try:
            members: list[dict[str, Any]] = []
            with zipfile.ZipFile(tmp_zip, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
                members.append(_add_file(zf, DB_MEMBER, snap, zipfile.ZIP_DEFLATED))
                present: set[str] = set()
                for name, path in _blob_files(store.data_dir):
                    entry = _add_file(zf, name, path, zipfile.ZIP_STORED)
                    if entry["sha256"] != path.name:
                        warnings.append(f"{name}: содержимое не совпадает с именем (повреждён)")
                    members.append(entry)
                    present.add(path.name)
                for sha in sorted(referenced - present):
                    warnings.append(f"files/{sha[:2]}/{sha}: файл отсутствует в хранилище")
                manifest: dict[str, Any] = {
                    "format": FORMAT, "version": VERSION, "created_at": now_iso(),
                    "app_version": __version__, "members": members, "counts": counts,
                }
                if warnings:
                    manifest["warnings"] = warnings
                zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
            os.replace(tmp_zip, out)
        except BaseException:
            if os.path.exists(tmp_zip):
                os.unlink(tmp_zip)
            raise
    return manifest, members, counts


@dataclass
class VerifyResult:
    """Outcome of :func:`verify_backup`; ``problems`` are Russian, one line each."""

    ok: bool
    members: int
    problems: list[str] = field(default_factory=list)
    manifest: dict[str, Any] = field(default_factory=dict)


def unsafe_member(name: str) -> bool:
    """Whether a zip member name could escape the folder it is extracted into
    (absolute path, drive letter, backslash, ``..`` component)."""
    if not name or "\x00" in name or "\\" in name or name.startswith("/"):
        return True
    if re.match(r"^[A-Za-z]:", name):
        return True
    return ".." in name.split("/")


def verify_backup(path: Path) -> VerifyResult:
    """Check a backup against its manifest: every member present with the right SHA-256,
    nothing extra, no unsafe paths. Never raises for a damaged file."""
    problems: list[str] = []
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            bad = [n for n in names if unsafe_member(n)]
            problems += [f"{n}: недопустимый путь в архиве" for n in bad]
            if MANIFEST not in names:
                problems.append(f"нет {MANIFEST}: это не резервная копия ClientPlus")
                return VerifyResult(False, 0, problems)
            try:
                manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
                entries = list(manifest["members"])
                if manifest.get("format") != FORMAT:
                    problems.append(f"{MANIFEST}: неизвестный формат")
                if int(manifest.get("version", 0)) > VERSION:
                    problems.append(f"{MANIFEST}: копия сделана более новой версией программы")
            except Exception as exc:  # noqa: BLE001 - any damage is a problem, not a crash
                problems.append(f"{MANIFEST}: не читается ({exc.__class__.__name__})")
                return VerifyResult(False, 0, problems)
            listed: set[str] = set()
            checked = 0
            for entry in entries:
                try:
                    name, sha, size = str(entry["path"]), str(entry["sha256"]), int(entry["size"])
                except (KeyError, TypeError, ValueError):
                    problems.append(f"{MANIFEST}: неверная запись {str(entry)[:80]}")
                    continue
                listed.add(name)
                if name in bad:
                    continue
                if name not in names:
                    problems.append(f"{name}: отсутствует в архиве")
                    continue
                if name != DB_MEMBER and not _BLOB_MEMBER.match(name):
                    problems.append(f"{name}: неожиданный файл в копии")
                    continue
                try:
                    with zf.open(name) as src:
                        got_sha, got_size = _copy_hashing(src, None)
                except Exception as exc:  # noqa: BLE001 - CRC error, truncated data, …
                    problems.append(f"{name}: повреждён ({exc.__class__.__name__})")
                    continue
                if got_sha != sha or got_size != size:
                    problems.append(f"{name}: сумма SHA-256 не совпадает с манифестом")
                    continue
                m = _BLOB_MEMBER.match(name)
                if m and (m.group(2) != sha or m.group(1) != sha[:2]):
                    problems.append(f"{name}: имя файла не совпадает с его суммой SHA-256")
                    continue
                checked += 1
            if DB_MEMBER not in listed:
                problems.append(f"{DB_MEMBER}: нет базы данных в копии")
            extra = sorted(set(names) - listed - {MANIFEST} - set(bad))
            problems += [f"{n}: лишний файл, не указан в манифесте" for n in extra]
            return VerifyResult(not problems, checked, problems, manifest)
    except zipfile.BadZipFile as exc:
        return VerifyResult(False, 0, [f"{Path(path).name}: не zip-архив или повреждён ({exc})"])
    except OSError as exc:
        return VerifyResult(False, 0, [f"{Path(path).name}: не читается ({exc.strerror or exc})"])
    except Exception as exc:  # noqa: BLE001 - never raise for a corrupt file
        return VerifyResult(False, 0, [f"{Path(path).name}: повреждён ({exc.__class__.__name__})"])


def _safe_target(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if unsafe_member(name) or not target.is_relative_to(root.resolve()):
        raise UserError(f"недопустимый путь в архиве: {name}")
    return target


def restore_backup(path: Path, data_dir: Path) -> dict[str, Any]:
    """Restore a verified backup into ``data_dir`` (which must be empty or absent).

    The archive is extracted next to the target and moved into place only after the
    database passed ``PRAGMA integrity_check``; then migrations are applied.
    """
    path, data_dir = Path(path), Path(data_dir)
    result = verify_backup(path)
    if not result.ok:
        raise UserError("копия повреждена: " + "; ".join(result.problems[:5]))
    if data_dir.exists():
        if not data_dir.is_dir() or any(data_dir.iterdir()):
            raise UserError(f"папка не пуста: {data_dir}")
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{data_dir.name}.restore-", dir=data_dir.parent))
    try:
        with zipfile.ZipFile(path) as zf:
            for entry in result.manifest["members"]:
                name = entry["path"]
                target = _safe_target(staging, name)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(name) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, CHUNK)
        conn = sqlite3.connect(str(staging / DB_MEMBER))
        try:
            check = [r[0] for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
        if check != ["ok"]:
            raise UserError("база данных в копии повреждена: " + "; ".join(check[:3]))
        if data_dir.exists():
            data_dir.rmdir()
        os.replace(staging, data_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    store = open_store(data_dir)
    with store.read() as conn2:
        counts = _counts(conn2)
        counts["blobs"] = int(conn2.execute("SELECT count(*) FROM blobs").fetchone()[0])
    return counts
