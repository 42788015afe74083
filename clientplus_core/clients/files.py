"""Attachments in a content-addressed store (``files/ab/abcdef…``) and cloud links.

The same bytes are stored once, whatever the file is called and however many
cards hold it. File names are sanitised so none can point outside the store
(the blob path is derived from the hash, never from the name).
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import sqlite3
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

from clientplus_core.base.errors import (
    DiskFullError,
    NotFound,
    ValidationError,
    is_disk_full,
)
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import text_jobs
from clientplus_core.records import settings
from clientplus_core.records.validation import check_url
from clientplus_core.records.visibility import check_visible
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

CHUNK = 1 << 20


def safe_name(name: str) -> str:
    """A file name with no directories, control characters (bidirectional overrides
    included, see :func:`~clientplus_core.base.textnorm.clean`) or reserved characters."""
    base = re.split(r"[\\/]", clean(name))[-1]
    base = re.sub(r'[\x00-\x1f<>:"|?*]', "_", base).strip().strip(".")
    if not base:
        base = "file"
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[: 200 - len(ext[:20])] + ext[:20]
    return base


def blob_path(store: Store, sha: str) -> Path:
    if not re.fullmatch(r"[0-9a-f]{64}", sha):
        raise ValueError("bad sha256")
    return store.data_dir.files_dir / sha[:2] / sha


def put_blob(store: Store, stream: BinaryIO, limit: int | None = None) -> tuple[str, int]:
    """Copy a stream into the store; returns (sha256, size). Refuses over ``limit`` bytes."""
    files_dir = store.data_dir.files_dir
    files_dir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    size = 0
    fd, tmp = tempfile.mkstemp(dir=files_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if limit is not None and size > limit:
                    raise ValidationError({"file": f"файл больше {limit // (1 << 20)} МБ"})
                h.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError({"file": "файл пустой (0 байт)"})
        sha = h.hexdigest()
        dest = blob_path(store, sha)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.exists():
            os.unlink(tmp)
        else:
            os.replace(tmp, dest)
        return sha, size
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)   # never a half-written blob
        if is_disk_full(exc) and not isinstance(exc, DiskFullError):
            raise DiskFullError("файл не сохранён") from exc
        raise


def index_file(conn: sqlite3.Connection, file_row: sqlite3.Row | dict[str, Any],
               text: str) -> None:
    search.index_row(conn, "file", file_row["id"], file_row["client_id"], file_row["name"],
                     [text])


def record_blob(conn: sqlite3.Connection, sha: str, size: int, ts: str) -> sqlite3.Row:
    """Record a stored blob inside a write (new bytes: text ``pending``, for
    :mod:`.text_jobs`; known bytes keep their text) and return its row."""
    conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, created_at)"
                 " VALUES (?, ?, 'pending', ?)", (sha, size, ts))
    return conn.execute("SELECT * FROM blobs WHERE sha256 = ?", (sha,)).fetchone()


def upload(store: Store, actor: Actor, client_id: int, name: str, stream: BinaryIO,
           size_hint: int | None = None) -> dict[str, Any]:
    """Attach a file to a client card. Returns at once: the text of new bytes is
    extracted for search in the background (``text_status`` ``pending`` until then)."""
    require(actor, "file.upload")
    limit = settings.upload_limit_bytes(store)
    fname = safe_name(name)
    if size_hint is not None and size_hint > limit:
        raise ValidationError({"file": f"«{fname}»: файл больше {limit // (1 << 20)} МБ"})
    with store.read() as conn:
        check_visible(conn, actor, client_id)
    try:
        sha, size = put_blob(store, stream, limit)
    except ValidationError as exc:
        raise ValidationError({"file": f"«{fname}»: {exc.errors['file']}"}) from None
    except DiskFullError as exc:
        raise DiskFullError(f"файл «{fname}» не сохранён") from exc
    mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
    ts = now_iso()
    with store.write() as conn:
        check_visible(conn, actor, client_id)
        blob = record_blob(conn, sha, size, ts)
        cur = conn.execute(
            "INSERT INTO files (client_id, sha256, name, size, mime, uploaded_by, created_at,"
            " updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (client_id, sha, fname, size, mime, actor.id, ts, ts))
        row = conn.execute("SELECT * FROM files WHERE id = ?", (cur.lastrowid,)).fetchone()
        index_file(conn, row, blob["text"])
        audit.record(conn, actor, "upload", "file", row["id"], client_id, fname,
                     {"size": size, "sha256": sha, "text": blob["text_status"]})
    if blob["text_status"] == "pending":
        text_jobs.start(store)
    return dict(row) | {"text_status": blob["text_status"], "text_reason": blob["text_reason"]}


def list_for_client(store: Store, actor: Actor, client_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        check_visible(conn, actor, client_id)
        return [dict(r) for r in conn.execute(
            "SELECT f.*, b.text_status, b.text_reason, u.full_name AS uploaded_by_name,"
            " u.login AS uploaded_by_login"
            " FROM files f JOIN blobs b ON b.sha256 = f.sha256"
            " LEFT JOIN users u ON u.id = f.uploaded_by"
            " WHERE f.client_id = ? AND f.deleted_at IS NULL ORDER BY f.created_at DESC, f.id DESC",
            (client_id,))]


def _get(conn: sqlite3.Connection, actor: Actor, file_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM files WHERE id = ? AND deleted_at IS NULL",
                       (file_id,)).fetchone()
    if row is None:
        raise NotFound(f"Файл №{file_id} не найден")
    check_visible(conn, actor, row["client_id"])
    return row


def read(store: Store, actor: Actor, file_id: int) -> tuple[dict[str, Any], bytes]:
    """A file's row and bytes (for download and preview)."""
    with store.read() as conn:
        row = _get(conn, actor, file_id)
    return dict(row), blob_path(store, row["sha256"]).read_bytes()


def delete(store: Store, actor: Actor, file_id: int) -> None:
    """Soft-delete a file from a card (the blob stays for restore and other cards)."""
    require(actor, "file.delete")
    with store.write() as conn:
        row = _get(conn, actor, file_id)
        conn.execute("UPDATE files SET deleted_at = ?, version = version + 1 WHERE id = ?",
                     (now_iso(), file_id))
        search.unindex(conn, "file", file_id)
        audit.record(conn, actor, "delete", "file", file_id, row["client_id"], row["name"])


def add_link(store: Store, actor: Actor, client_id: int, url: str,
             title: str = "") -> dict[str, Any]:
    """Attach a link to a cloud folder (Яндекс.Диск, Google Drive, …)."""
    require(actor, "client.update")
    errors: dict[str, str] = {}
    try:
        url = check_url(url)
        if not url:
            errors["url"] = "Ссылка: обязательное поле"
    except ValueError as exc:
        errors["url"] = f"Ссылка: {exc}"
    try:
        title = clean(title, 300)
    except ValueError as exc:
        errors["title"] = f"Название: {exc}"
    if errors:
        raise ValidationError(errors)
    ts = now_iso()
    with store.write() as conn:
        check_visible(conn, actor, client_id)
        cur = conn.execute("INSERT INTO links (client_id, title, url, created_by, created_at,"
                           " updated_at) VALUES (?,?,?,?,?,?)",
                           (client_id, title, url, actor.id, ts, ts))
        row = conn.execute("SELECT * FROM links WHERE id = ?", (cur.lastrowid,)).fetchone()
        search.index_row(conn, "link", row["id"], client_id, title or url, [url])
        audit.record(conn, actor, "create", "link", row["id"], client_id, title or url)
        return dict(row)


def list_links(store: Store, actor: Actor, client_id: int) -> list[dict[str, Any]]:
    with store.read() as conn:
        check_visible(conn, actor, client_id)
        return [dict(r) for r in conn.execute(
            "SELECT * FROM links WHERE client_id = ? AND deleted_at IS NULL ORDER BY id",
            (client_id,))]


def delete_link(store: Store, actor: Actor, link_id: int) -> None:
    """Remove a link from a card (whoever may edit the card)."""
    require(actor, "client.update")
    with store.write() as conn:
        row = conn.execute("SELECT * FROM links WHERE id = ? AND deleted_at IS NULL",
                           (link_id,)).fetchone()
        if row is None:
            raise NotFound(f"Ссылка №{link_id} не найдена")
        check_visible(conn, actor, row["client_id"])
        conn.execute("UPDATE links SET deleted_at = ? WHERE id = ?", (now_iso(), link_id))
        search.unindex(conn, "link", link_id)
        audit.record(conn, actor, "delete", "link", link_id, row["client_id"], row["url"])


def move_all(conn: sqlite3.Connection, from_client: int, to_client: int) -> int:
    """Move files and links of one client to another (merge); returns how many."""
    n = 0
    for table, entity in (("files", "file"), ("links", "link")):
        ids = [r[0] for r in conn.execute(f"SELECT id FROM {table} WHERE client_id = ?",
                                          (from_client,))]
        conn.execute(f"UPDATE {table} SET client_id = ? WHERE client_id = ?",
                     (to_client, from_client))
        for i in ids:
            search.set_client_id(conn, entity, i, to_client)
        n += len(ids)
    return n


def reindex_all(conn: sqlite3.Connection) -> int:
    """Index every live file and link (used by maintenance.reindex.rebuild)."""
    n = 0
    for r in conn.execute("SELECT f.id, f.client_id, f.name, b.text FROM files f JOIN blobs b"
                          " ON b.sha256 = f.sha256 WHERE f.deleted_at IS NULL"):
        index_file(conn, r, r["text"])
        n += 1
    for r in conn.execute("SELECT * FROM links WHERE deleted_at IS NULL"):
        search.index_row(conn, "link", r["id"], r["client_id"], r["title"] or r["url"], [r["url"]])
        n += 1
    return n


def list_deleted(store: Store, actor: Actor, limit: int = 500) -> list[dict[str, Any]]:
    """Soft-deleted files of live clients, newest deletion first (head and admin)."""
    require(actor, "client.restore")
    with store.read() as conn:
        return [dict(r) for r in conn.execute(
            "SELECT f.id, f.name, f.size, f.deleted_at, f.client_id, c.name AS client_name"
            " FROM files f JOIN clients c ON c.id = f.client_id"
            " WHERE f.deleted_at IS NOT NULL AND c.deleted_at IS NULL"
            " ORDER BY f.deleted_at DESC LIMIT ?", (limit,))]


def restore(store: Store, actor: Actor, file_id: int) -> None:
    """Bring a deleted file back to its card (the blob was kept)."""
    require(actor, "client.restore")
    with store.write() as conn:
        row = conn.execute("SELECT f.*, b.text FROM files f JOIN blobs b ON b.sha256 = f.sha256"
                           " WHERE f.id = ? AND f.deleted_at IS NOT NULL", (file_id,)).fetchone()
        if row is None:
            raise NotFound(f"Удалённый файл №{file_id} не найден")
        check_visible(conn, actor, row["client_id"])
        conn.execute("UPDATE files SET deleted_at = NULL, version = version + 1 WHERE id = ?",
                     (file_id,))
        index_file(conn, row, row["text"])
        audit.record(conn, actor, "restore", "file", file_id, row["client_id"], row["name"])
