"""Issue 13, point 7: the demo data carries the custom fields the product is known
for, filled for every demo client, so segmentation and the dashboard's segment filter
show real groups on the first start."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from clientplus_core import demo
from clientplus_core.analytics import segments
from clientplus_core.demo import first_start
from clientplus_core.records import custom_fields as cf
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

COMPANY = {"headcount", "industry", "sector"}
PERSON = {"gender", "birth_date", "education"}


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    store = open_store(tmp_path_factory.mktemp("demo-fields") / "data")
    demo.generate(store, 300, seed=11, with_files=False,
                  anchor=datetime(2026, 3, 1, tzinfo=UTC), chunk_size=120)
    return store


def test_the_demo_switches_the_known_fields_on(demo_store):
    keys = {fd.key for fd in cf.list_fields(demo_store, "client")}
    assert keys >= COMPANY | PERSON


def test_every_demo_client_has_the_fields_of_its_kind_and_they_validate(demo_store):
    defs = cf.list_fields(demo_store, "client")
    with demo_store.read() as conn:
        rows = conn.execute("SELECT kind, extra FROM clients").fetchall()
    assert len(rows) == 300
    for r in rows:
        extra = json.loads(r["extra"])
        wanted = {"legal": COMPANY, "ip": COMPANY | PERSON, "person": PERSON}[r["kind"]]
        assert set(extra) == wanted, (r["kind"], extra)
        # the stored form is what the card itself would store
        assert cf.validate_values(defs, extra) == extra


@pytest.mark.parametrize("by", [["industry"], ["headcount"], ["sector"], ["gender"], ["age"],
                                ["education"]])
def test_segmentation_shows_real_groups(demo_store, by):
    admin = users.ensure_local_admin(demo_store)
    frame = segments.pivot(demo_store, admin, by, engine="sqlite")
    groups = {g: n for g, n in zip(frame[by[0]].to_list(), frame["clients"].to_list(),
                                   strict=True) if g != cf.NO_VALUE}
    assert len(groups) >= 2 and all(n > 0 for n in groups.values()), groups


def test_the_segment_filter_offers_saved_segments_with_clients(demo_store):
    admin = users.ensure_local_admin(demo_store)
    saved = [s["name"] for s in segments.list_segments(demo_store, admin)]
    assert len(saved) >= 3
    for name in saved:
        assert segments.client_ids(demo_store, admin, name, engine="sqlite"), name


def test_the_first_start_fills_them_too(tmp_path):
    store = open_store(tmp_path / "data")
    plan = first_start.begin(store, 20)
    plan.sales = 0   # the clients step is what carries the fields
    first_start.fill(store, plan)
    with store.read() as conn:
        extras = [json.loads(r[0]) for r in conn.execute("SELECT extra FROM clients")]
    assert len(extras) == 20 and all(extras)
