"""The registers' counts (and the sales register's sums) are kept while the data is
unchanged (clientplus_core.store.versioned) and are right again after any write,
including one made outside the app."""

from __future__ import annotations

import sqlite3
from decimal import Decimal as D
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.sales import register
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor


def test_counts_are_computed_once_per_state_of_the_data(
        store: Store, actor: Actor, make_client: Any, make_sale: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    client = make_client()
    first = make_sale(client["id"], "1000")
    calls = []
    real = register._count_sums
    monkeypatch.setattr(register, "_count_sums",
                        lambda conn, arms: calls.append(1) or real(conn, arms))

    assert sales.list_sales(store, actor).total == 1
    assert sales.list_sales(store, actor).total == 1
    assert sales.list_sales(store, actor, page=1, page_size=10).total == 1
    assert len(calls) == 1  # asked three times, counted once

    make_sale(client["id"], "500")  # the app writes
    page = sales.list_sales(store, actor)
    assert page.total == 2 and page.sums["total"] == D("1500.00")

    conn = sqlite3.connect(store.db_path)  # a plain sqlite3 session writes
    conn.execute("UPDATE sales SET total_kop = total_kop + 100 WHERE id = ?", (first["id"],))
    conn.commit()
    conn.close()
    assert sales.list_sales(store, actor).sums["total"] == D("1501.00")
    assert len(calls) == 3


def test_each_filter_and_each_person_has_its_own_answer(
        store: Store, actor: Actor, make_client: Any, make_sale: Any) -> None:
    client = make_client()
    a = make_sale(client["id"], "1000")
    make_sale(client["id"], "2000")
    sales.set_status(store, actor, a["id"], "invoiced")
    everything = sales.list_sales(store, actor)
    status_id = sales.get(store, actor, a["id"])["status_id"]
    invoiced = sales.list_sales(store, actor, sales.SaleFilter(statuses=[status_id]))
    assert (everything.total, invoiced.total) == (2, 1)
    assert invoiced.sums["total"] == D("1000.00")


def test_the_client_count_follows_every_write(store: Store, actor: Actor, make_client: Any,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_client(name="ООО «Первый»")
    make_client(name="ООО «Второй»", tags="опт")
    assert clients.list_clients(store, actor).total == 2
    make_client(name="ООО «Третий»")
    assert clients.list_clients(store, actor).total == 3
    conn = sqlite3.connect(store.db_path)
    conn.execute("UPDATE clients SET deleted_at = '2026-01-01T00:00:00+00:00' WHERE id = ?",
                 (first["id"],))
    conn.commit()
    conn.close()
    assert clients.list_clients(store, actor).total == 2
    assert clients.list_clients(store, actor, clients.ClientFilter(tag="опт")).total == 1
