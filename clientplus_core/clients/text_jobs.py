"""Text extraction of attachments, off the request.

An upload (client card, sale, generated document) stores the file and records its
blob with ``text_status = 'pending'``, then calls :func:`start`: one background
thread per data folder takes the pending blobs one at a time, extracts each in a
capped child process (:func:`clientplus_core.search.textextract.extract_isolated`:
unpacked size, time, memory), writes the result (``ok`` / ``none`` / ``error`` /
``too_large`` with a reason) and indexes the text of every live file holding that
blob. One file at a time, so a burst of uploads costs at most one child process.

Nothing is lost on a restart: a blob stays ``pending`` until its result is written,
and the app calls :func:`start` when it opens the data folder, so files left
``pending`` by a stopped server (or by the command line) are picked up then.
:func:`run_pending` does the same work in the caller's thread (tests, the demo).

This module does not import :mod:`.files` (which imports it): a blob's path and a
file's index entry are made here the same way as there.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from clientplus_core.search import index as search
from clientplus_core.search.textextract import NOT_READ, Extracted, extract, extract_isolated
from clientplus_core.store.db import Store

__all__ = ["pending", "record", "run_pending", "start", "wait"]

log = logging.getLogger(__name__)


def _blob_path(store: Store, sha: str) -> Path:
    return store.data_dir.files_dir / sha[:2] / sha


def pending(store: Store) -> list[tuple[str, str]]:
    """``(sha256, file name)`` of the blobs waiting for their text, oldest first. The
    name (which tells the format) is that of the first file stored with those bytes."""
    with store.read() as conn:
        return [(r[0], r[1] or "") for r in conn.execute(
            "SELECT b.sha256, (SELECT f.name FROM files f WHERE f.sha256 = b.sha256"
            " ORDER BY f.id LIMIT 1) FROM blobs b WHERE b.text_status = 'pending'"
            " ORDER BY b.created_at, b.sha256")]


def record(store: Store, sha: str, result: Extracted) -> bool:
    """Write a blob's result and index the text of its live files; False when the blob
    was no longer pending (another worker wrote it first)."""
    with store.write() as conn:
        cur = conn.execute("UPDATE blobs SET text_status = ?, text = ?, text_reason = ?"
                           " WHERE sha256 = ? AND text_status = 'pending'",
                           (result.status, result.text, result.reason, sha))
        if not cur.rowcount:
            return False
        for f in conn.execute("SELECT id, client_id, name FROM files WHERE sha256 = ?"
                              " AND deleted_at IS NULL", (sha,)).fetchall():
            search.index_row(conn, "file", f["id"], f["client_id"], f["name"], [result.text])
        return True


def _extract(store: Store, sha: str, name: str, isolated: bool) -> Extracted:
    path = _blob_path(store, sha)
    if not path.exists():
        return Extracted("error", "", f"{NOT_READ}: файл не найден в хранилище")
    if isolated:
        return extract_isolated(path, name)
    return extract(path.read_bytes(), name)


def run_pending(store: Store, *, isolated: bool = True) -> int:
    """Extract every pending blob in this thread (new ones arriving meanwhile too);
    returns how many results were written. ``isolated=False`` reads in this process,
    without the time and memory caps (for files the app made itself)."""
    done = 0
    tried: set[str] = set()
    while batch := [(sha, name) for sha, name in pending(store) if sha not in tried]:
        for sha, name in batch:
            tried.add(sha)
            done += record(store, sha, _extract(store, sha, name, isolated))
    return done


@dataclass
class _Worker:
    thread: threading.Thread | None = None
    again: bool = False
    idle: threading.Event = field(default_factory=threading.Event)


_LOCK = threading.Lock()
_WORKERS: dict[str, _Worker] = {}   # data folder's database -> its running worker


def start(store: Store) -> threading.Thread:
    """Make sure a background worker is extracting this data folder's pending blobs
    (starts one, or tells the running one to look again); returns its thread."""
    key = str(store.db_path)
    with _LOCK:
        worker = _WORKERS.get(key)
        if worker is not None and worker.thread is not None:
            worker.again = True
            return worker.thread
        worker = _WORKERS[key] = _Worker()
        worker.thread = threading.Thread(target=_drain, args=(store, key, worker),
                                         name="clientplus-text-extraction", daemon=True)
        worker.thread.start()
        return worker.thread


def _drain(store: Store, key: str, worker: _Worker) -> None:
    try:
        while True:
            with _LOCK:
                worker.again = False
            run_pending(store)
            with _LOCK:
                if not worker.again:
                    del _WORKERS[key]
                    return
    except Exception as exc:  # noqa: BLE001 - a background task must not die loudly
        log.warning("text extraction stopped: %s (pending files wait for the next start)",
                    exc)
        with _LOCK:
            _WORKERS.pop(key, None)
    finally:
        worker.idle.set()


def wait(store: Store, timeout: float | None = None) -> bool:
    """Wait until this data folder's background worker has nothing left to do;
    False if it was still busy after ``timeout`` seconds."""
    with _LOCK:
        worker = _WORKERS.get(str(store.db_path))
    return worker is None or worker.idle.wait(timeout)
