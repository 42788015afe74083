"""Report results kept for everyone who asks the same question of the same data
(clientplus_core.analytics.cache): a second view costs no report run, a write that
reaches the copy is in the next answer, and one user's scope never answers another's."""

from __future__ import annotations

from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.analytics import cache, reports
from clientplus_core.analytics import engine as analytics
from clientplus_core.store.db import Store
from tests import analytics_data


@pytest.fixture
def data(store: Store) -> Any:
    ids = analytics_data.build(store)
    analytics.refresh(store)
    yield ids
    analytics.close_all()
    cache.clear()


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The report runs that really happen (not answered from what is kept)."""
    seen: list[str] = []
    real_run, real_kpis = reports.run, reports.kpis

    def run(store: Store, actor: Any, name: str, *a: Any, **k: Any) -> Any:
        seen.append(name)
        return real_run(store, actor, name, *a, **k)

    def kpis(store: Store, actor: Any, *a: Any, **k: Any) -> Any:
        seen.append("kpis")
        return real_kpis(store, actor, *a, **k)

    monkeypatch.setattr(reports, "run", run)
    monkeypatch.setattr(reports, "kpis", kpis)
    return seen


def test_the_same_question_twice_runs_the_report_once(store, data, runs) -> None:
    admin = data["admin"]
    first = cache.run(store, admin, "funnel", reports.Period())
    again = cache.run(store, admin, "funnel", reports.Period())
    assert runs == ["funnel"]
    assert again.to_dicts() == first.to_dicts()
    k1 = cache.kpis(store, admin, reports.Period())
    k1["won"] = -1  # a caller's change never reaches the next caller
    assert cache.kpis(store, admin, reports.Period())["won"] != -1
    assert runs == ["funnel", "kpis"]
    cache.run(store, admin, "revenue", reports.Period(), by="manager")
    cache.run(store, admin, "revenue", reports.Period(), by="month")
    assert runs.count("revenue") == 2  # other options: another question


def test_a_write_is_in_the_next_answer(store, data, runs) -> None:
    admin = data["admin"]
    before = cache.kpis(store, admin, reports.Period())
    sale = sales.create(store, admin, {"client_id": data["c3"], "date": "2026-03-20",
                                       "lines": [{"name": "Кабель", "qty": 1,
                                                  "price": "1500", "vat_code": "none"}]})
    sales.set_status(store, admin, sale["id"], "invoiced")
    analytics.refresh(store, force=True)
    after = cache.kpis(store, admin, reports.Period())
    assert runs == ["kpis", "kpis"]
    assert after["debt"] > before["debt"]
    assert after == reports.kpis(store, admin, reports.Period()) | {"as_of": after["as_of"]}


def test_one_users_scope_never_answers_anothers(store, data) -> None:
    admin, m1, m2 = data["admin"], data["m1"], data["m2"]
    shown = {who.login: cache.run(store, who, "top_clients", reports.Period()).to_dicts()
             for who in (admin, m1, m2)}
    for who in (admin, m1, m2):
        assert shown[who.login] == reports.run(store, who, "top_clients",
                                               reports.Period()).to_dicts()
    assert shown["m1"] != shown["m2"]
