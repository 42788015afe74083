"""No lost updates: 8 processes each make 500 random edits of shared records
through the core. Every accepted write is in the database and in the audit
trail, every refused one was reported to its writer as a conflict, and SQLite's
"database is locked" never reaches a user."""

from __future__ import annotations

import multiprocessing as mp
import random
from collections import defaultdict
from pathlib import Path

from clientplus_core.base.errors import ConflictError
from clientplus_core.clients import cards as clients
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

PROCS = 8
EDITS = 500
RECORDS = 12


def _worker(data_dir: str, login: str, seed: int, ids: list[int]) -> dict:
    store = Store(data_dir)
    actor = users.get_actor(store, login)
    rng = random.Random(seed)
    accepted, refused, errors = [], 0, []
    for i in range(EDITS):
        cid = rng.choice(ids)
        try:
            row = clients.get(store, actor, cid)
            token = f"{login}-{i}"
            new = clients.update(store, actor, cid, {"notes": token}, row["version"], base=row)
            accepted.append((cid, token, new["version"]))
        except ConflictError:
            refused += 1
        except Exception as exc:  # noqa: BLE001 - anything else is a failure to report
            errors.append(f"{type(exc).__name__}: {exc}")
    return {"accepted": accepted, "refused": refused, "errors": errors}


def test_parallel_writers_lose_no_update(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    admin = users.ensure_local_admin(store)
    logins = []
    for p in range(PROCS):
        users.create(store, f"w{p}", f"Писатель {p}", "head")
        logins.append(f"w{p}")
    ids = [clients.create(store, admin, {"name": f"Общий {i}"})["id"] for i in range(RECORDS)]

    ctx = mp.get_context("spawn")
    with ctx.Pool(PROCS) as pool:
        results = pool.starmap(_worker, [(str(store.data_dir.root), logins[p], p, ids)
                                         for p in range(PROCS)])

    assert [e for r in results for e in r["errors"]] == []
    accepted = [a for r in results for a in r["accepted"]]
    refused = sum(r["refused"] for r in results)
    assert len(accepted) + refused == PROCS * EDITS

    by_client: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for cid, token, version in accepted:
        by_client[cid].append((version, token))
    with store.read() as conn:
        for cid in ids:
            writes = sorted(by_client[cid])
            # every accepted write produced the next version: none overwrote another
            assert [v for v, _ in writes] == list(range(2, len(writes) + 2))
            row = conn.execute("SELECT notes, version FROM clients WHERE id = ?",
                               (cid,)).fetchone()
            assert row["version"] == len(writes) + 1
            if writes:
                assert row["notes"] == writes[-1][1]
            logged = [r[0] for r in conn.execute(
                "SELECT json_extract(diff, '$.notes[1]') FROM audit_log WHERE entity = 'client'"
                " AND entity_id = ? AND action = 'update' ORDER BY id", (cid,))]
            assert logged == [t for _, t in writes]
