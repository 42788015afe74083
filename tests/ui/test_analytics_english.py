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
    specs = chart_specs(at)

    def tab(label: str):  # only the open tab is drawn: open the page on another one
        opened = open_app("pages/reports.py", state={**EN, "rep.tabs": label}, **YEAR_2026)
        specs.extend(chart_specs(opened))
        return opened

    debtors = frame_with(tab("Receivables"), "Client", "Debt, ₽")
    assert "Over 90 days, ₽" in debtors.columns
    frame_with(tab("Forecast"), "Week (from Monday)", "Expected, ₽")
    frame_with(tab("No contact"), "Client", "Manager", "Last contact", "Days without contact")
    tab("Revenue")
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


def _revenue_chart(at) -> dict:
    return next(s for s in chart_specs(at)
                if s["layout"].get("xaxis", {}).get("title", {}).get("text") in ("Месяц",
                                                                                   "Month"))


def test_the_revenue_chart_names_months_as_a_person_reads_them(open_app, data):
    """Not «2026-01»: «янв 2026» in Russian, «Jan 2026» in English, on the axis (the
    bars' categories), in the tooltip (it shows the category) and in the table."""
    ru = _revenue_chart(open_app("pages/dashboard.py", **YEAR_2026))
    assert ru["data"][0]["x"][:2] == ["янв 2026", "фев 2026"]
    assert "%{x}" in ru["data"][0]["hovertemplate"]
    at = open_app("pages/dashboard.py", state=EN, **YEAR_2026)
    en = _revenue_chart(at)
    assert en["data"][0]["x"][:2] == ["Jan 2026", "Feb 2026"]
    assert not any("2026-0" in str(v) for t in en["data"] for v in t["x"])
    assert list(frame_with(at, "Group", "Revenue, ₽")["Group"])[:2] == ["Jan 2026", "Feb 2026"]


def test_the_manager_picker_speaks_the_chosen_language(open_app, data):
    """The picker's «all» entry follows the RU/EN switch (a keyed select box keeps the
    labels of its first render in the browser, so its key changes with the language)."""
    at = open_app("pages/dashboard.py", **YEAR_2026)
    assert at.selectbox(key="dash.manager.ru").options[0] == "Все менеджеры"
    at.session_state["ui.lang"] = "en"
    at.run()
    picker = next(s for s in at.selectbox if s.label == "Manager")
    assert picker.options[0] == "All managers"
    assert picker.key != "dash.manager.ru"


def test_the_funnel_names_the_statuses_in_english(open_app, data):
    """The funnel chart and table use each status's English label, not «Предварительная
    заявка» in the English interface."""
    at = open_app("pages/dashboard.py", state=EN, **YEAR_2026)
    funnel = frame_with(at, "Status", "Reached the status")
    assert list(funnel["Status"])[:2] == ["Lead", "Offer prepared"]
    chart = next(s for s in chart_specs(at) if s["data"][0]["type"] == "funnel")
    assert chart["data"][0]["y"][0] == "Lead"
    ru = frame_with(open_app("pages/dashboard.py", **YEAR_2026), "Статус", "Дошли до статуса")
    assert list(ru["Статус"])[0] == "Предварительная заявка"
