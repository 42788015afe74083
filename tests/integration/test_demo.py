"""Demo data: valid requisites, realistic spread, searchable, deterministic."""

from __future__ import annotations

import hashlib
import random
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from clientplus_core import demo
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files
from clientplus_core.maintenance import reindex
from clientplus_core.records.validation import (
    check_account,
    check_corr_account,
    check_inn,
    check_ogrn,
    check_phone,
    ogrnip_is_valid,
)
from clientplus_core.search import index as search
from clientplus_core.search.textextract import extract_text
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)
N = 200


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, int]]:
    """One generated data folder shared by the read-only tests of this module."""
    store = open_store(tmp_path_factory.mktemp("demo") / "data")
    counts = demo.generate(store, N, seed=7, anchor=ANCHOR, chunk_size=70)
    return store, counts


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sql)]


# --- small public helpers ----------------------------------------------------------------

def test_generated_inns_ogrns_and_accounts_always_validate() -> None:
    rng = random.Random(1)
    for _ in range(500):
        assert check_inn(demo.make_valid_inn(rng, 10), "legal")
        assert check_inn(demo.make_valid_inn(rng, 12), "ip")
        assert check_ogrn(demo.make_ogrn(rng), "legal")
        ogrnip = demo.make_ogrnip(rng)
        assert ogrnip_is_valid(ogrnip) and check_ogrn(ogrnip, "ip")
        bank = rng.choice(demo.BANKS)
        assert check_corr_account(bank.corr_account, bank.bik)
        for kind in ("legal", "ip", "person"):
            assert check_account(demo.make_account(rng, bank.bik, kind), bank.bik)


def test_generated_phones_are_valid_russian_numbers() -> None:
    rng = random.Random(2)
    for _ in range(300):
        m = demo.make_mobile(rng)
        assert check_phone(m) == m
    for city in demo.CITIES:
        for _ in range(50):
            p = demo.make_landline(rng, city)
            assert check_phone(p) == p, (city.name, p)


# --- generated data ----------------------------------------------------------------------

def test_counts_match_what_is_stored(demo_store: tuple[Store, dict[str, int]]) -> None:
    store, counts = demo_store
    assert counts["clients"] == N
    with store.read() as conn:
        assert conn.execute("SELECT count(*) FROM clients").fetchone()[0] == N
        assert conn.execute("SELECT count(*) FROM contacts").fetchone()[0] == counts["contacts"]
        assert conn.execute("SELECT count(*) FROM files").fetchone()[0] == counts["files"]
        kinds = dict(conn.execute("SELECT kind, count(*) FROM clients GROUP BY kind").fetchall())
        demo_rows = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'demo'")
        assert demo_rows.fetchone()[0] == 1
    assert counts["contacts"] > 1.5 * N and counts["contacts"] < 2.5 * N
    assert counts["files"] > 0.1 * N
    assert kinds["legal"] > kinds["ip"] > kinds["person"] > 0


def test_every_client_passes_validation_unchanged(demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    for row in _rows(store, "SELECT * FROM clients"):
        stored = clients.row_to_dict(row)
        normalised = clients.normalise(stored)
        for key, value in normalised.items():
            assert stored[key] == value, (row["id"], key, stored[key], value)
        kind = row["kind"]
        if kind == "legal":
            assert row["name"].startswith(("ООО «", "АО «"))
            assert len(row["inn"]) == 10 and len(row["ogrn"]) == 13 and row["kpp"]
        elif kind == "ip":
            assert row["name"].startswith("ИП ")
            assert len(row["inn"]) == 12 and len(row["ogrn"]) == 15 and not row["kpp"]
        assert check_inn(row["inn"], kind) == row["inn"]
        assert check_ogrn(row["ogrn"], kind) == row["ogrn"]
        assert check_account(row["account"], row["bik"]) == row["account"]
        assert check_corr_account(row["corr_account"], row["bik"]) == row["corr_account"]
        assert len(row["postal_index"]) == 6 and row["postal_index"] in row["legal_address"]
        assert check_phone(row["phone"]) == row["phone"]


def test_every_contact_passes_validation_unchanged(
        demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    for row in _rows(store, "SELECT * FROM contacts"):
        normalised = contacts.normalise(row)
        for key, value in normalised.items():
            assert row[key] == value, (row["id"], key, row[key], value)


def test_clients_are_spread_over_head_and_both_managers(
        demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    owners = {r["login"]: r["n"] for r in _rows(
        store, "SELECT u.login, count(*) AS n FROM clients c JOIN users u ON u.id = c.owner_id"
               " GROUP BY u.login")}
    assert set(owners) == {"head", "manager1", "manager2"}
    assert owners["manager1"] != owners["manager2"]
    assert users.get_actor(store, "head").role == "head"
    assert users.get_actor(store, "manager1").role == "manager"


def test_search_finds_a_client_by_middle_of_name_and_phone_tail(
        demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    admin = users.ensure_local_admin(store)
    row = _rows(store, "SELECT * FROM clients WHERE kind = 'legal'"
                       " ORDER BY id LIMIT 1 OFFSET 17")[0]
    core = row["name"].split("«", 1)[1].rstrip("»")
    middle = core[1:-1] if len(core) > 4 else core
    assert row["id"] in {h.client_id for h in search.search(store, admin, middle, limit=N)}
    tail = row["phone"][-4:]
    assert row["id"] in {h.client_id for h in search.search(store, admin, tail, limit=N)}


def test_a_manager_searches_only_their_own_share(
        demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    m1: Actor = users.get_actor(store, "manager1")
    visible = {r["id"] for r in _rows(
        store, f"SELECT id FROM clients WHERE owner_id = {m1.id} UNION"
               f" SELECT client_id FROM client_shares WHERE user_id = {m1.id}")}
    hits = search.search(store, m1, "ООО", limit=N)
    assert hits and {h.client_id for h in hits} <= visible


def test_search_index_equals_what_the_normal_write_path_builds(
        demo_store: tuple[Store, dict[str, int]], tmp_path: Path) -> None:
    store, _ = demo_store
    sql = "SELECT rowid, entity, entity_id, client_id, title, body FROM search_index ORDER BY rowid"
    with store.read() as conn:
        before = [tuple(r) for r in conn.execute(sql)]
        hashsize = conn.execute("SELECT v FROM search_index_config WHERE k = 'hashsize'")
        assert hashsize.fetchone()[0] == demo.FTS_DEFAULT_HASHSIZE
    reindex.rebuild(store)
    with store.read() as conn:
        after = [tuple(r) for r in conn.execute(sql)]
    assert before == after


def test_attachments_are_stored_by_hash_with_their_text(
        demo_store: tuple[Store, dict[str, int]]) -> None:
    store, _ = demo_store
    rows = _rows(store, "SELECT f.*, b.text, b.text_status, b.size AS bsize FROM files f"
                        " JOIN blobs b ON b.sha256 = f.sha256")
    assert {Path(r["name"]).suffix for r in rows} == {".txt", ".docx"}
    for r in rows:
        data = files.blob_path(store, r["sha256"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == r["sha256"]
        assert len(data) == r["size"] == r["bsize"]
        assert (r["text_status"], r["text"]) == extract_text(data, r["name"])
        assert any(p in r["text"] for p in demo.PRODUCTS)
        assert files.safe_name(r["name"]) == r["name"]
        number = Path(r["name"]).stem.split("№ ")[-1]
        assert f"№ {number} " in r["text"], (r["name"], r["text"][:80])   # the right document


def test_same_seed_gives_the_same_data(tmp_path: Path) -> None:
    def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
        store = open_store(path)
        demo.generate(store, 60, seed=3, anchor=ANCHOR, chunk_size=25)
        conn = sqlite3.connect(path / "clientplus.db")
        try:
            return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1").fetchall()
                    for t in ("clients", "contacts", "files", "blobs", "client_tags",
                              "client_shares", "search_index")}
        finally:
            conn.close()

    a, b = dump(tmp_path / "a"), dump(tmp_path / "b")
    assert a == b
    assert len(a["clients"]) == 60
    c = open_store(tmp_path / "c")
    demo.generate(c, 60, seed=4, anchor=ANCHOR)
    with c.read() as conn:
        assert [tuple(r) for r in conn.execute("SELECT * FROM clients ORDER BY 1")] != a["clients"]


def test_client_records_for_import_files_are_valid() -> None:
    records = list(demo.client_records(300, seed=11))
    assert len(records) == 300
    for r in records:
        contact = r.pop("contact")
        clients.normalise(r)
        if contact:
            contacts.normalise(contact)
    assert [r["inn"] for r in demo.client_records(5, seed=11)] == [r["inn"] for r in records[:5]]


def test_cli_demo_command_fills_a_data_folder(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from clientplus_cli.main import main

    assert main(["--data-dir", str(tmp_path / "d"), "demo", "--clients", "25",
                 "--no-files"]) == 0
    out = capsys.readouterr().out
    assert '"clients": 25' in out and '"files": 0' in out
