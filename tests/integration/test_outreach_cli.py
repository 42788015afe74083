"""``clientplus phones export`` and ``clientplus addressbook …`` on a real data folder."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import openpyxl

from clientplus_cli.main import main
from clientplus_core.analytics import segments
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent
from clientplus_core.team import users


def _world(store, actor) -> None:
    m1 = users.create(store, "manager1", "Первый Пётр", "manager")
    for name, phone, owner in (("ООО «Сайт-1»", "+79161234501", m1.id),
                               ("ООО «Сайт-2»", "+74951234502", m1.id),
                               ("ООО «Сайт-3»", "+79161234503", actor.id)):
        c = clients.create(store, actor, {"name": name, "phone": phone, "source": "Сайт",
                                          "owner_id": owner}, allow_duplicate=True)
        consent.record(store, actor, {"channel": "phone", "value": phone})
        if name.endswith("1»"):
            contacts.create(store, actor, c["id"], {"name": "Иван", "mobile": phone,
                                                    "consent_sms": 1})
    consent.record_optout(store, actor, "phone", "+79161234503", "звонок")
    segments.save(store, actor, "С сайта", {"source": ["Сайт"]})


def test_phones_export_from_a_segment_prints_counts_and_writes_the_file(
        store, actor, capsys, tmp_path: Path) -> None:
    _world(store, actor)
    data = ["--data-dir", str(store.data_dir.root)]
    out = tmp_path / "sms.xlsx"
    assert main([*data, "phones", "export", "--segment", "С сайта", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Выгружено номеров: 2" in printed
    assert "Отброшено: 2 (отказ: 1, дубль: 1)" in printed
    ws = openpyxl.load_workbook(out).active
    assert [[c.value for c in r][:3] for r in ws.iter_rows()] == [
        ["phone", "name", "client"], ["+79161234501", "ООО «Сайт-1»", "ООО «Сайт-1»"],
        ["+74951234502", "ООО «Сайт-2»", "ООО «Сайт-2»"]]

    out = tmp_path / "sms.csv"
    assert main([*data, "phones", "export", "--segment", "С сайта", "-o", str(out),
                 "--mobile-only"]) == 0
    assert "не мобильный: 1" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig")), delimiter=";"))
    assert [r[0] for r in rows] == ["phone", "+79161234501"]


def test_a_manager_exports_only_their_clients(store, actor, capsys, tmp_path: Path) -> None:
    _world(store, actor)
    m1 = users.get_actor(store, "manager1")
    segments.save(store, m1, "Мой сайт", {"source": ["Сайт"]})
    out = tmp_path / "m1.csv"
    assert main(["--data-dir", str(store.data_dir.root), "phones", "export", "--segment",
                 "Мой сайт", "-o", str(out), "--user", "manager1"]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text("utf-8-sig")), delimiter=";"))
    assert {r[2] for r in rows[1:]} == {"ООО «Сайт-1»", "ООО «Сайт-2»"}


def test_books_list_show_and_export_and_bad_input(store, actor, capsys, tmp_path: Path) -> None:
    _world(store, actor)
    book = ab.create_book(store, actor, "Все", {"all_clients": True})
    data = ["--data-dir", str(store.data_dir.root)]
    assert main([*data, "addressbook", "list", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [(b["id"], b["name"], b["kind"]) for b in got] == [(book["id"], "Все", "live")]
    assert main([*data, "addressbook", "show", "Все", "--skipped"]) == 0
    assert "Получателей: 0" in capsys.readouterr().out   # nobody has an e-mail
    out = tmp_path / "book.xlsx"
    assert main([*data, "phones", "export", "--book", "Все", "-o", str(out)]) == 0
    assert "Выгружено номеров: 2" in capsys.readouterr().out
    assert main([*data, "phones", "export", "--book", "Нет такой", "-o", str(out)]) == 1
    assert "не найдена" in capsys.readouterr().err
    assert main([*data, "phones", "export", "--segment", "С сайта", "-o",
                 str(tmp_path / "x.txt")]) == 1
    assert ".xlsx или .csv" in capsys.readouterr().err


def test_phones_export_calls_keeps_extensions_and_sms_drops_them(store, actor,
                                                                 tmp_path: Path) -> None:
    cid = clients.create(store, actor, {"name": "ООО «Офис»",
                                        "phone": "+7 495 500-55-50 доб. 123"})["id"]
    contacts.create(store, actor, cid, {"name": "Петров", "phone": "+7 495 500-55-50 доб. 7"})
    consent.record(store, actor, {"channel": "phone", "value": "+74955005550"})
    ab.create_book(store, actor, "Офис", {"all_clients": True})
    data = ["--data-dir", str(store.data_dir.root)]
    calls, sms = tmp_path / "calls.csv", tmp_path / "sms.csv"
    assert main([*data, "phones", "export", "--book", "Офис", "--calls", "-o", str(calls)]) == 0
    assert main([*data, "phones", "export", "--book", "Офис", "-o", str(sms)]) == 0

    def rows(path: Path) -> list[list[str]]:
        return list(csv.reader(io.StringIO(path.read_text("utf-8-sig")), delimiter=";"))

    assert [r[:2] for r in rows(calls)] == [["phone", "ext"], ["+74955005550", "123"],
                                            ["+74955005550", "7"]]
    assert [r[0] for r in rows(sms)] == ["phone", "+74955005550"]
