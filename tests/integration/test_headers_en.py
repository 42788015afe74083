"""Segmentation and the report builder in English: headers, Excel header row,
sheet title and totals label (``lang="en"``)."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from clientplus_core import sales
from clientplus_core.analytics import report_builder as rb
from clientplus_core.analytics import segments
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf


def _world(store, actor) -> None:
    cf.enable_preset(store, actor, "client", "industry")
    for name, ind, amount in (("А", "IT", 1000), ("Б", "Финансы", 500)):
        c = clients.create(store, actor, {"name": name, "extra": {"industry": ind}})
        s = sales.create(store, actor, {"client_id": c["id"], "lines": [
            {"name": "Услуга", "qty": 1, "price": amount, "vat_code": "none"}]})
        sales.add_payment(store, actor, s["id"], amount)


def test_segmentation_headers_and_excel_in_english(store, actor):
    _world(store, actor)
    frame = segments.pivot(store, actor, ["industry"])
    assert segments.headers(store, ["industry"], "en") == [
        "Industry", "Clients", "Sales", "Revenue, ₽", "Average deal, ₽"]
    ws = load_workbook(io.BytesIO(segments.to_xlsx(store, frame, ["industry"], "en"))).active
    assert [c.value for c in ws[1]] == ["Industry", "Clients", "Sales", "Revenue, ₽",
                                        "Average deal, ₽"]
    assert ws.title == "Segments"
    assert ws.cell(frame.height + 2, 1).value == "Total"
    assert ws.cell(frame.height + 2, 4).value == 1500


def test_builder_headers_and_excel_in_english(store, actor):
    _world(store, actor)
    spec = rb.ReportSpec("sales", ["client.industry", "status"], ["count", "sum:total"])
    assert rb.headers(store, spec, "en") == ["Industry", "Status", "Count", "Sum: Sale total"]
    frame = rb.run(store, actor, spec)
    data = rb.frame_to_xlsx(frame, rb.headers(store, spec, "en"), "Report",
                            [frame.columns[2], frame.columns[3]], "Total")
    ws = load_workbook(io.BytesIO(data)).active
    assert [c.value for c in ws[1]] == ["Industry", "Status", "Count", "Sum: Sale total"]
    assert ws.cell(frame.height + 2, 1).value == "Total"
    assert ws.cell(frame.height + 2, 4).value == 1500
