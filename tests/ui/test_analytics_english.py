"""The analytics pages with English chosen (RU/EN switch): report tables, chart
titles and axes, segmentation and the report builder show English headers."""

from __future__ import annotations

import json

import pytest

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf
from tests import analytics_data

from .helpers import press

YEAR_2026 = {"from": "2026-01-01", "to": "2026-12-31"}
EN = {"ui.lang": "en"}


@pytest.fixture
def data(store):
    ids = analytics_data.build(store)
    yield ids
    analytics.close_all()


def frame_with(at, *columns: str):
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def chart_specs(at) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def test_the_reports_page_in_english(open_app, data):
    at = open_app("pages/reports.py", state=EN, **YEAR_2026)
    assert not at.exception
    funnel = frame_with(at, "Status", "Reached the status")
    assert list(funnel["Reached the status"]) == ["5", "4", "4", "3", "3", "3", "2", "1", "1"]
    assert "Дошли до статуса" not in funnel.columns
    debtors = frame_with(at, "Client", "Debt, ₽")
    assert "Over 90 days, ₽" in debtors.columns
    frame_with(at, "Week (from Monday)", "Expected, ₽")
    frame_with(at, "Client", "Manager", "Last contact", "Days without contact")
    specs = chart_specs(at)
    titles = [s["layout"].get("title", {}).get("text") for s in specs]
    assert "Sales funnel" in titles and "Receivables by age" in titles
    axes = {(s["layout"].get("xaxis", {}).get("title", {}).get("text"),
             s["layout"].get("yaxis", {}).get("title", {}).get("text")) for s in specs}
    assert ("Month", "Revenue, ₽") in axes
    assert ("Week (from Monday)", "Expected, ₽") in axes
    assert not any("Выручка" in str(a) or "Месяц" in str(a) for pair in axes for a in pair)


def test_the_reports_page_stays_russian_by_default(open_app, data):
    at = open_app("pages/reports.py", **YEAR_2026)
    frame_with(at, "Статус", "Дошли до статуса")
    titles = [s["layout"].get("title", {}).get("text") for s in chart_specs(at)]
    assert "Воронка продаж" in titles


def test_the_dashboard_in_english(open_app, data):
    at = open_app("pages/dashboard.py", state=EN, **YEAR_2026)
    assert not at.exception
    frame_with(at, "Group", "Count", "Revenue, ₽")
    frame_with(at, "Source", "Clients")
    titles = [s["layout"].get("title", {}).get("text") for s in chart_specs(at)]
    assert {"Sales funnel", "Receivables by age"} <= set(titles)


def _world(store, actor) -> None:
    cf.enable_preset(store, actor, "client", "industry")
    for name, ind, amount in (("А", "IT", 1000), ("Б", "Финансы", 500)):
        c = clients.create(store, actor, {"name": name, "extra": {"industry": ind}})
        s = sales.create(store, actor, {"client_id": c["id"], "lines": [
            {"name": "Услуга", "qty": 1, "price": amount, "vat_code": "none"}]})
        sales.add_payment(store, actor, s["id"], amount)


def test_segmentation_in_english(open_app, store, actor):
    _world(store, actor)
    at = open_app("pages/segments.py", state=EN)
    at.selectbox(key="seg.by1.en").select("industry").run()
    assert not at.exception
    table = frame_with(at, "Industry", "Clients", "Revenue, ₽")
    assert sorted(table["Industry"]) == ["IT", "Финансы"]
    spec = chart_specs(at)[0]
    assert spec["layout"]["xaxis"]["title"]["text"] == "Industry"


def test_the_builder_in_english(open_app, store, actor):
    _world(store, actor)
    at = open_app("pages/builder.py", state=EN)
    at.selectbox(key="rb.f.entity").select("sales").run()
    at.multiselect(key="rb.f.dims").select("client.industry")
    at.multiselect(key="rb.f.measures").select("sum:total")
    press(at, "Build")
    table = frame_with(at, "Industry", "Count", "Sum: Sale total")
    assert [(r["Industry"], r["Count"], r["Sum: Sale total"])
            for r in table.to_dict("records")] == [("IT", "1", "1,000.00"),
                                                   ("Финансы", "1", "500.00")]
    ops = at.selectbox(key="rb.f.op0")
    assert list(ops.options) == [
        "equals", "not equal", "greater than", "at least", "less than", "at most",
        "contains", "one of", "is empty", "is not empty"]
