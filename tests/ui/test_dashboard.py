"""The dashboard and the reports page with AppTest, on the hand-made data set
(tests/analytics_data.py; the default period is this year, which holds it all)."""

from __future__ import annotations

import pytest

from clientplus_core.analytics import engine as analytics
from tests import analytics_data

from .helpers import shown

# The data set is dated 2026: every page is opened on that year's period.
YEAR_2026 = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def data(store):
    ids = analytics_data.build(store)
    yield ids
    analytics.close_all()


TAB_LABELS = ["Воронка", "Время на этапах", "Выручка", "Дебиторка", "Ожидаемые оплаты",
              "Клиентская база", "Топ клиентов", "Без контакта"]


def open_tab(at, label: str):
    """Click a report tab (the tabs keep the open one's label in «rep.tabs»)."""
    at.session_state["rep.tabs"] = label
    return at.run()


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_the_dashboard_shows_the_numbers_of_the_period(open_app, data):
    at = open_app("pages/dashboard.py", **YEAR_2026)
    assert metric(at, "Новые клиенты") == "3"
    assert metric(at, "Продаж открыто") == "5"
    assert metric(at, "Выиграно") == "1"
    assert metric(at, "Проиграно") == "1"
    assert metric(at, "Выручка (оплаты)") == "2 000,00 ₽"
    assert metric(at, "Дебиторская задолженность") == "4 000,00 ₽"
    tile = next(m for m in at.metric if m.label == "Дебиторская задолженность")
    assert "по выставленным счетам" in tile.help
    assert "Данные на" in shown(at)
    assert len(at.get("plotly_chart")) == 4


def test_the_head_picks_a_manager(open_app, data):
    at = open_app("pages/dashboard.py", **YEAR_2026)
    at.selectbox(key="dash.manager.ru").select(data["m2"].id).run()
    assert metric(at, "Продаж открыто") == "2"
    assert metric(at, "Выручка (оплаты)") == "0,00 ₽"


def test_a_manager_sees_only_their_own(open_app, data):
    at = open_app("pages/dashboard.py", actor=data["m1"], **YEAR_2026)
    assert metric(at, "Продаж открыто") == "3"
    assert "Только ваши продажи и клиенты" in shown(at)
    assert not [s for s in at.selectbox if s.key == "dash.manager.ru"]


def test_the_reports_page_has_every_report_with_excel(open_app, data):
    at = open_app("pages/reports.py", **YEAR_2026)
    assert not at.exception
    funnel = at.dataframe[0].value
    assert list(funnel["Дошли до статуса"]) == ["5", "4", "4", "3", "3", "3", "2", "1", "1"]
    keys = set()
    for tab in TAB_LABELS:  # only the open tab is drawn: open each in turn
        keys |= {b.key for b in open_tab(at, tab).get("download_button")}
    assert {"rep.funnel.xlsx", "rep.revenue.xlsx", "rep.debtors.xlsx", "rep.forecast.xlsx",
            "rep.growth.xlsx", "rep.top.xlsx", "rep.nocontact.xlsx"} <= keys


def test_revenue_by_product_on_invoices(open_app, data):
    at = open_tab(open_app("pages/reports.py", **YEAR_2026), "Выручка")
    at.selectbox(key="rep.rev.by.ru").select("product").run()
    at.radio(key="rep.rev.basis.ru").set_value("invoiced").run()
    table = next(d.value for d in at.dataframe if "Группа" in d.value.columns)
    assert list(table["Группа"]) == ["Монтаж", "Кабель"]
    assert list(table["Выручка, ₽"]) == ["3 600,00", "2 400,00"]  # s1 600+400, s3 2000, s4 3000


def test_the_funnel_narrows_to_a_product(open_app, data):
    at = open_app("pages/reports.py", **YEAR_2026)
    at.selectbox(key="rep.product.ru").select(2).run()  # «Кабель»: s1, s3, s5
    funnel = at.dataframe[0].value
    assert list(funnel["Дошли до статуса"])[:2] == ["3", "2"]


def test_big_amounts_are_shortened_with_the_exact_figure_in_the_tooltip(open_app, store,
                                                                         data):
    from clientplus_core import sales
    from clientplus_core.clients import cards as clients

    admin = data["admin"]
    c = clients.create(store, admin, {"name": "ООО «Крупный»"}, allow_duplicate=True)
    s = sales.create(store, admin, {"client_id": c["id"], "date": "2026-03-10",
                                    "lines": [{"name": "Линия", "qty": 1,
                                               "price": "194676554.32"}]})
    sales.add_payment(store, admin, s["id"], "194676554.32", "2026-03-11")
    analytics.refresh(store)
    at = open_app("pages/dashboard.py", **YEAR_2026)
    m = next(m for m in at.metric if m.label == "Выручка (оплаты)")
    assert m.value == "194,7 млн ₽"   # 194 676 554,32 + the data set's 2 000,00
    assert m.proto.help == "194 678 554,32 ₽"
