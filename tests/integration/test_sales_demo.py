"""Demo sales: consistent totals and payments, valid references, the same search
entries as the normal write path, deterministic by seed."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from clientplus_core import demo, sales
from clientplus_core.demo import sales as demo_sales
from clientplus_core.sales import money
from clientplus_core.search import index as search
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

ANCHOR = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, dict[str, int]]:
    store = open_store(tmp_path_factory.mktemp("sales-demo") / "data")
    demo.generate(store, 150, seed=11, anchor=ANCHOR, with_files=False)
    counts = demo.generate_sales(store, 900, seed=11, anchor=ANCHOR, chunk_size=250)
    return store, counts


def _rows(store: Store, sql: str) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(r) for r in conn.execute(sql)]


def test_counts_match_what_is_stored_and_references_are_valid(demo_store):
    store, counts = demo_store
    assert counts["sales"] == 900
    with store.read() as conn:
        for table, key in (("sales", "sales"), ("sale_lines", "sale_lines"),
                           ("sale_payments", "payments"), ("sale_status_log", "status_log"),
                           ("interactions", "contact_events")):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == counts[key]
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert 2.5 < counts["sale_lines"] / counts["sales"] < 3.5
        ratio = counts["payments"] / counts["sales"]
        assert ratio > 1.5 and ratio < 2.5


def test_every_total_is_what_the_money_rules_give(demo_store):
    store, _ = demo_store
    lines: dict[int, list[dict[str, Any]]] = {}
    for ln in _rows(store, "SELECT l.*, r.rate FROM sale_lines l JOIN vat_rates r"
                           " ON r.code = l.vat_code ORDER BY sale_id, pos"):
        lines.setdefault(ln["sale_id"], []).append(ln)
    for s in _rows(store, "SELECT * FROM sales"):
        t = money.compute([money.Line(D(ln["qty_milli"]) / 1000, money.from_kop(ln["price_kop"]),
                                      D(ln["discount_bp"]) / 100,
                                      None if ln["rate"] is None else D(ln["rate"]))
                           for ln in lines[s["id"]]], s["vat_mode"], D(s["discount_bp"]) / 100)
        assert [money.to_kop(x.amount) for x in t.lines] == [ln["amount_kop"]
                                                             for ln in lines[s["id"]]]
        assert (money.to_kop(t.subtotal), money.to_kop(t.vat_total), money.to_kop(t.total)) == (
            s["subtotal_kop"], s["vat_kop"], s["total_kop"])


def test_payments_statuses_and_dates_are_consistent(demo_store):
    store, _ = demo_store
    paid = {r["sale_id"]: r["s"] for r in _rows(
        store, "SELECT sale_id, sum(amount_kop) AS s FROM sale_payments WHERE kind = 'fact'"
               " GROUP BY sale_id")}
    plans: dict[int, list[tuple[str, int]]] = {}
    for p in _rows(store, "SELECT sale_id, date, amount_kop FROM sale_payments"
                          " WHERE kind = 'plan'"):
        plans.setdefault(p["sale_id"], []).append((p["date"], p["amount_kop"]))
    codes = {r["id"]: r["code"] for r in _rows(store, "SELECT id, code FROM sale_statuses")}
    seen_codes = set()
    for s in _rows(store, "SELECT * FROM sales"):
        seen_codes.add(codes[s["status_id"]])
        assert s["paid_kop"] == paid.get(s["id"], 0) <= s["total_kop"]
        assert s["planned_kop"] == sum(a for _, a in plans.get(s["id"], []))
        assert s["overdue_from"] == sales.overdue_from(plans.get(s["id"], []), s["paid_kop"])
        assert s["date"] <= ANCHOR.date().isoformat() and s["created_at"] <= ANCHOR.isoformat()
        if codes[s["status_id"]] == "paid":
            assert s["paid_kop"] == s["total_kop"]
        if codes[s["status_id"]] == "lost":
            assert s["lost_reason"]
        vat_years = {ln["vat_code"] for ln in _rows(
            store, f"SELECT vat_code FROM sale_lines WHERE sale_id = {s['id']}")}
        assert ("22" not in vat_years) if s["date"] < "2026" else ("20" not in vat_years)
    assert seen_codes >= {"lead", "invoiced", "paid", "shipped", "lost"}
    numbers = [r["number"] for r in _rows(store, "SELECT number FROM sales ORDER BY id")]
    assert len(set(numbers)) == len(numbers)


def test_the_status_log_ends_in_the_current_status(demo_store):
    store, _ = demo_store
    last = {r["sale_id"]: r["to_status_id"] for r in _rows(
        store, "SELECT sale_id, to_status_id FROM sale_status_log ORDER BY id")}
    for s in _rows(store, "SELECT id, status_id FROM sales"):
        assert last[s["id"]] == s["status_id"]


def test_the_search_index_equals_what_the_normal_write_path_builds(demo_store):
    store, _ = demo_store
    sql = ("SELECT rowid, entity, entity_id, client_id, title, body FROM search_index"
           " WHERE entity = 'sale' ORDER BY rowid")
    with store.read() as conn:
        before = [tuple(r) for r in conn.execute(sql)]
    with store.write() as conn:
        sales.reindex_all(conn)
    with store.read() as conn:
        assert [tuple(r) for r in conn.execute(sql)] == before
    admin = users.ensure_local_admin(store)
    number = _rows(store, "SELECT number FROM sales LIMIT 1")[0]["number"]
    assert search.search(store, admin, number, entities=("sale",))[0].title.startswith(number)


def test_demo_cards_open_and_documents_render(demo_store):
    from clientplus_core.sales import documents

    store, _ = demo_store
    admin = users.ensure_local_admin(store)
    sid = _rows(store, "SELECT id FROM sales ORDER BY id DESC LIMIT 1")[0]["id"]
    card = sales.get_card(store, admin, sid)
    assert card["lines"] and card["client"]["name"]
    _, data = documents.render(store, admin, sid, "invoice", attach=False)
    assert data[:2] == b"PK"


def test_the_demo_makes_a_few_real_documents_on_sales_at_their_stage(demo_store):
    store, counts = demo_store
    docs = _rows(store, "SELECT d.kind, d.number, d.date, d.file_id, s.date AS sale_date,"
                        " st.code, f.name, f.sale_id, b.text_status FROM documents d"
                        " JOIN sales s ON s.id = d.sale_id JOIN sale_statuses st ON"
                        " st.id = s.status_id JOIN files f ON f.id = d.file_id"
                        " JOIN blobs b ON b.sha256 = f.sha256 ORDER BY d.id")
    assert counts["documents"] == len(docs) == 12
    stage = {"offer": "offer_sent", "contract": "contract", "invoice": "invoiced",
             "act": "shipped"}
    assert sorted({d["kind"] for d in docs}) == sorted(stage)
    for d in docs:
        assert d["code"] == stage[d["kind"]] and d["date"] == d["sale_date"]
        assert d["name"].endswith(".docx") and d["text_status"] == "ok"
    invoices = [d for d in docs if d["kind"] == "invoice"]
    # numbered 1, 2, 3 … of their year in date order
    assert [d["date"] for d in invoices] == sorted(d["date"] for d in invoices)
    # the search finds a document by its text
    admin = users.ensure_local_admin(store)
    hits = search.search(store, admin, "Счёт на оплату", entities=("file",))
    assert {h.id for h in hits} >= {d["file_id"] for d in invoices}
    # and a second run adds none
    assert demo.generate_documents(store) == 0


def test_same_seed_gives_the_same_sales(tmp_path: Path):
    def dump(path: Path) -> list[tuple[Any, ...]]:
        store = open_store(path)
        demo.generate(store, 30, seed=5, anchor=ANCHOR, with_files=False)
        demo.generate_sales(store, 80, seed=5, anchor=ANCHOR, chunk_size=30)
        with store.read() as conn:
            return [tuple(r) for r in conn.execute(
                "SELECT s.number, s.total_kop, s.status_id, l.name, l.amount_kop FROM sales s"
                " JOIN sale_lines l ON l.sale_id = s.id ORDER BY s.id, l.pos")]

    assert dump(tmp_path / "a") == dump(tmp_path / "b")


def test_the_bulk_load_leaves_every_index_as_it_found_it(tmp_path: Path):
    store = open_store(tmp_path / "data")
    demo.generate(store, 20, seed=2, anchor=ANCHOR, with_files=False)
    sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
    with store.read() as conn:
        before = conn.execute(sql).fetchall()
    demo.generate_sales(store, 30, seed=2, anchor=ANCHOR)
    with store.read() as conn:
        assert conn.execute(sql).fetchall() == before
        assert conn.execute("SELECT count(*) FROM bulk_dropped_indexes").fetchone()[0] == 0


def test_an_interrupted_bulk_load_is_healed_and_the_register_still_answers(tmp_path: Path):
    store = open_store(tmp_path / "data")
    demo.generate(store, 20, seed=2, anchor=ANCHOR, with_files=False)
    demo.generate_sales(store, 30, seed=2, anchor=ANCHOR)
    with store.write() as conn:                       # as if killed in the middle of a load
        demo_sales._drop_secondary_indexes(conn, demo_sales._BULK_TABLES)
    admin = users.ensure_local_admin(store)
    assert sales.list_sales(store, admin, sales.SaleFilter(statuses=[1])).total >= 0
    assert sales.list_sales(store, admin).total == 30
    assert demo.restore_dropped_indexes(store) > 5
    with store.read() as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master"
                                            " WHERE type = 'index'")}
    assert {"ix_sales_reg_date", "ix_sale_lines_sale", "ix_interactions_client"} <= names


def test_the_demo_ships_a_payment_reminder_over_invoiced_unpaid_clients(demo_store):
    from clientplus_core import sales
    from clientplus_core.outreach import addressbooks, mailing
    from clientplus_core.team import users

    store, counts = demo_store
    admin = users.ensure_local_admin(store)
    assert counts["mailings"] == 1
    [book] = addressbooks.list_books(store, admin)
    recipients, _skipped = addressbooks.email_recipients(store, admin, book["id"])
    assert recipients, "the demo has invoiced, unpaid clients with consent"
    [m] = mailing.list_mailings(store, admin)
    # the template renders for clients' own addresses and for contacts alike
    kinds = {r.contact_id is None: r for r in recipients}
    for rec in kinds.values():
        shown = mailing.preview(store, admin, m["id"], rec)
        assert "задолженность" in shown["text"] and "₽" in shown["text"]
        assert rec.sale_id is not None  # a sale-based book names the sale
        assert shown["subject"].endswith(sales.get(store, admin, rec.sale_id)["number"])
    assert demo.generate_outreach(store) == 0  # not twice
