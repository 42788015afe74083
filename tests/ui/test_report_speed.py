"""What a person waits for on the reports page and the dashboard: tabs that are not
open compute nothing, Excel files are built only when asked for, the dashboard
shows the largest debtors only, and a first build shows its progress."""

from __future__ import annotations

import io
import threading
from typing import Any

import openpyxl
import pytest
from streamlit.runtime.media_file_manager import MediaFileManager

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from tests import analytics_data

YEAR_2026 = {"from": "2026-01-01", "to": "2026-12-31"}


@pytest.fixture
def data(store):
    ids = analytics_data.build(store)
    yield ids
    analytics.close_all()


@pytest.fixture
def calls(monkeypatch) -> dict[str, list[str]]:
    """Records the slow reports run, the workbooks built and the download buttons
    whose file is made on click (name -> the function Streamlit calls then)."""
    seen: dict[str, Any] = {"reports": [], "xlsx": [], "deferred": {}}
    for name in ("stage_times", "forecast"):
        real = getattr(reports, name)

        def spy(*a: Any, _name: str = name, _real: Any = real, **k: Any) -> Any:
            seen["reports"].append(_name)
            return _real(*a, **k)

        monkeypatch.setattr(reports, name, spy)
    real_xlsx = reports.to_xlsx

    def xlsx(name: str, df: Any, lang: str = "ru") -> bytes:
        seen["xlsx"].append(name)
        return real_xlsx(name, df, lang)

    monkeypatch.setattr(reports, "to_xlsx", xlsx)
    real_add = MediaFileManager.add_deferred

    def add(self: MediaFileManager, fn: Any, mimetype: Any, coordinates: str,
            file_name: str | None = None, **kw: Any) -> str:
        seen["deferred"][file_name] = fn
        return real_add(self, fn, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MediaFileManager, "add_deferred", add)
    return seen


def test_the_funnel_tab_runs_neither_stage_times_nor_the_forecast_nor_any_excel(
        open_app, data, calls) -> None:
    at = open_app("pages/reports.py", **YEAR_2026)
    assert list(at.dataframe[0].value["Дошли до статуса"])[:2] == ["5", "4"]
    assert calls["reports"] == [] and calls["xlsx"] == []
    assert {"funnel.xlsx", "lost_reasons.xlsx"} <= set(calls["deferred"])
    # the button pressed: the browser asks for the file and Streamlit builds it now
    book = openpyxl.load_workbook(io.BytesIO(calls["deferred"]["funnel.xlsx"]()))
    assert calls["xlsx"] == ["funnel"]
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "Дошли до статуса" in cells
    at.session_state["rep.tabs"] = "Время на этапах"
    at.run()
    assert calls["reports"] == ["stage_times"]
    assert any("Время на этапах" in str(h.value) for h in at.subheader)


def test_the_dashboard_builds_no_excel_and_shows_the_largest_debtors(
        open_app, store, data, calls, make_client) -> None:
    admin = data["admin"]
    for n in range(1, 23):  # 22 more debtors, the n-th owing n × 100 ₽
        client = make_client(name=f"ООО «Должник {n}»")
        sale = sales.create(store, admin, {"client_id": client["id"], "date": "2026-03-02",
                                           "lines": [{"name": "Кабель", "qty": 1,
                                                      "price": n * 100, "vat_code": "none"}]})
        sales.set_status(store, admin, sale["id"], "invoiced")
    at = open_app("pages/dashboard.py", **YEAR_2026)
    assert calls["xlsx"] == [] and "debtors.xlsx" in calls["deferred"]
    table = next(d.value for d in at.dataframe if "Долг, ₽" in d.value.columns)
    assert len(table) == 20
    assert table.iloc[0]["Клиент"] == "ООО «Должник 22»"  # the largest debt first
    assert any("20 первых строк из 24" in c.value for c in at.caption)
    assert [b.label for b in at.button if b.key == "dash.debtors.all"] == ["Все должники"]


def test_a_first_build_shows_its_progress_and_the_page_computes_nothing(
        open_app, store, data, calls, monkeypatch) -> None:
    release = threading.Event()
    real_build = analytics.Engine.build

    def slow_build(self: analytics.Engine, method: str = "auto") -> dict[str, Any]:
        self.progress = (0.4, "sales")
        release.wait(60)
        return real_build(self, method)

    monkeypatch.setattr(analytics.Engine, "build", slow_build)
    monkeypatch.setattr(reports, "kpis", lambda *a, **k: pytest.fail("KPIs read too early"))
    try:
        at = open_app("pages/dashboard.py", **YEAR_2026)
        bars = at.get("progress")
        assert bars and "(40 %)" in bars[0].proto.text
        assert not at.metric
    finally:
        release.set()
        analytics.close_all()


def test_a_long_report_shows_its_first_rows_and_its_excel_file_has_them_all(
        open_app, data, calls, monkeypatch) -> None:
    from clientplus_ui.analytics import reports as report_widgets

    monkeypatch.setattr(report_widgets, "SCREEN_ROWS", 1)  # 1,000 in the app
    at = open_app("pages/reports.py", **YEAR_2026)
    at.session_state["rep.tabs"] = "Дебиторка"
    at.run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "Долг, ₽" in d.value.columns)
    assert len(table) == 1
    shown = [c.value for c in at.caption if "первых строк" in c.value]
    assert shown and shown[0].startswith("Показаны 1 первых строк из ")
    assert "все строки — в файле Excel" in shown[0]
    book = openpyxl.load_workbook(io.BytesIO(calls["deferred"]["debtors.xlsx"]()))
    body = [r for r in book.active.iter_rows(values_only=True)][1:]
    total = int(shown[0].split(" из ")[1].split(";")[0].replace("\xa0", "").replace(" ", ""))
    assert len([r for r in body if r[0] not in ("Итого", None)]) == total > 1
