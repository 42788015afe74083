"""``clientplus segment …`` and ``clientplus report segments`` on a real data folder."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl

from clientplus_cli.main import main
from clientplus_core.clients import cards as clients
from clientplus_core.records import custom_fields as cf


def test_segment_commands_and_the_segments_report(store, actor, capsys, tmp_path: Path) -> None:
    cf.enable_preset(store, actor, "client", "industry")
    cf.enable_preset(store, actor, "client", "sector")
    for name, ind, sec in (("А", "IT", "Бюджетный"), ("Б", "IT", "Коммерческий"),
                           ("В", "Финансы", "Бюджетный")):
        clients.create(store, actor, {"name": name, "extra": {"industry": ind, "sector": sec}})
    data = ["--data-dir", str(store.data_dir.root)]
    assert main([*data, "segment", "save", "Бюджет", "--where", "sector=Бюджетный"]) == 0
    assert "2 клиент" in capsys.readouterr().out
    assert main([*data, "segment", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["where"] == {"sector": ["Бюджетный"]}
    assert main([*data, "report", "segments", "--by", "industry,sector", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {(r["industry"], r["sector"], r["clients"]) for r in rows} == {
        ("IT", "Бюджетный", 1), ("IT", "Коммерческий", 1), ("Финансы", "Бюджетный", 1)}
    out = tmp_path / "seg.xlsx"
    assert main([*data, "report", "segments", "--by", "industry", "--segment", "Бюджет",
                 "-o", str(out)]) == 0
    ws = openpyxl.load_workbook(out).active
    assert [c.value for c in ws[1]] == ["Отрасль", "Клиентов", "Продаж", "Выручка, ₽",
                                        "Средняя продажа, ₽"]
    assert [[c.value for c in r] for r in ws.iter_rows(min_row=2)] == [
        ["IT", 1, 0, 0, 0], ["Финансы", 1, 0, 0, 0], ["Итого", 2, 0, 0, None]]
    assert ws.freeze_panes == "A2"
    assert main([*data, "report", "segments", "--by", "planet"]) == 1
    assert "Разрез «planet» не найден" in capsys.readouterr().err
