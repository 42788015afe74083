"""Files and links attached to a sale (also listed on the client's card)."""

from __future__ import annotations

import io
import mimetypes
import sqlite3
from typing import Any, BinaryIO

from clientplus_core.base.errors import ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import files, text_jobs
from clientplus_core.records import settings
from clientplus_core.records.validation import check_url
from clientplus_core.sales.common import visible
from clientplus_core.search import index as search
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

# --- files and links --------------------------------------------------------------------


def attach_file(store: Store, actor: Actor, sale_id: int, name: str,
                data: bytes | BinaryIO) -> dict[str, Any]:
    """Attach a file to a sale (also listed on the client's card). Returns at once: its
    text is extracted for search in the background, as on the client card."""
    require(actor, "file.upload")
    fname = files.safe_name(name)
    with store.read() as conn:
        visible(conn, actor, sale_id)
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    sha, size = files.put_blob(store, stream, settings.upload_limit_bytes(store))
    with store.write() as conn:
        frow = attach(conn, actor, sale_id, fname, sha, size)
    if frow["text_status"] == "pending":
        text_jobs.start(store)
    return frow


def attach(conn: sqlite3.Connection, actor: Actor, sale_id: int, fname: str, sha: str,
           size: int) -> dict[str, Any]:
    """Record a stored blob as a file of the sale (index its text if known, audit) inside
    a write. New bytes come back with ``text_status`` ``pending``: the caller starts
    :func:`clientplus_core.clients.text_jobs.start` after the write."""
    row = visible(conn, actor, sale_id)
    ts = now_iso()
    mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
    blob = files.record_blob(conn, sha, size, ts)
    cur = conn.execute(
        "INSERT INTO files (client_id, sale_id, sha256, name, size, mime, uploaded_by,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (row["client_id"], sale_id, sha, fname, size, mime, actor.id, ts, ts))
    frow = conn.execute("SELECT * FROM files WHERE id = ?", (cur.lastrowid,)).fetchone()
    files.index_file(conn, frow, blob["text"])
    audit.record(conn, actor, "upload", "file", frow["id"], row["client_id"],
                 f"{row['number']}: {fname}", {"size": size, "sha256": sha, "sale_id": sale_id})
    return dict(frow) | {"text_status": blob["text_status"], "text_reason": blob["text_reason"]}


def list_files(store: Store, actor: Actor, sale_id: int) -> list[dict[str, Any]]:
    require(actor, "sale.read")
    with store.read() as conn:
        visible(conn, actor, sale_id)
        return [dict(r) for r in conn.execute(
            "SELECT f.*, b.text_status, b.text_reason, u.full_name AS uploaded_by_name"
            " FROM files f"
            " JOIN blobs b ON b.sha256 = f.sha256 LEFT JOIN users u ON u.id = f.uploaded_by"
            " WHERE f.sale_id = ? AND f.deleted_at IS NULL ORDER BY f.id DESC", (sale_id,))]


def add_link(store: Store, actor: Actor, sale_id: int, url: str,
             title: str = "") -> dict[str, Any]:
    """Attach a link (cloud folder, …) to a sale."""
    require(actor, "sale.update")
    try:
        url = check_url(url)
        title = clean(title, 300)
    except ValueError as exc:
        raise ValidationError({"url": f"Ссылка: {exc}"}) from None
    if not url:
        raise ValidationError({"url": "Ссылка: обязательное поле"})
    with store.write() as conn:
        row = visible(conn, actor, sale_id)
        ts = now_iso()
        cur = conn.execute("INSERT INTO links (client_id, sale_id, title, url, created_by,"
                           " created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                           (row["client_id"], sale_id, title, url, actor.id, ts, ts))
        link = conn.execute("SELECT * FROM links WHERE id = ?", (cur.lastrowid,)).fetchone()
        search.index_row(conn, "link", link["id"], row["client_id"], title or url, [url])
        audit.record(conn, actor, "create", "link", link["id"], row["client_id"],
                     f"{row['number']}: {title or url}")
        return dict(link)


def list_links(store: Store, actor: Actor, sale_id: int) -> list[dict[str, Any]]:
    require(actor, "sale.read")
    with store.read() as conn:
        visible(conn, actor, sale_id)
        return [dict(r) for r in conn.execute(
            "SELECT * FROM links WHERE sale_id = ? AND deleted_at IS NULL ORDER BY id",
            (sale_id,))]
