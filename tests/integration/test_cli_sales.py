"""The sales commands of ``clientplus``: sale show, doc, export sales, demo --sales."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import docx
import pytest

from clientplus_cli.main import main
from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company, documents
from clientplus_core.store.startup import open_store
from clientplus_core.team import users


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    store = open_store(tmp_path / "data")
    admin = users.ensure_local_admin(store)
    company.save(store, admin, {"name": "ООО «Продавец»", "inn": "7707083893",
                                "kpp": "770701001", "bik": "044525225",
                                "bank_name": "ПАО Сбербанк",
                                "corr_account": "30101810400000000225"})
    c = clients.create(store, admin, {"name": "ООО «Покупатель»", "inn": "7736207543"},
                       allow_duplicate=True)
    for day, title in (("2026-01-15", "Январская"), ("2026-02-15", "Февральская")):
        sales.create(store, admin, {"client_id": c["id"], "date": day, "title": title,
                                    "lines": [{"name": "Консультация", "qty": 3,
                                               "price": 1500, "vat_code": "22"}]})
    return str(tmp_path / "data")


def test_sale_show_json_prints_the_card_with_lines_totals_and_history(data_dir, capsys):
    assert main(["--data-dir", data_dir, "sale", "show", "2026-0001", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["number"] == "2026-0001" and card["client"]["name"] == "ООО «Покупатель»"
    assert card["lines"][0]["amount"] == "4500.00"
    assert card["totals"]["total"] == "4500.00"
    assert card["totals"]["words"] == "Четыре тысячи пятьсот рублей 00 копеек"
    assert card["balance"]["remaining"] == "4500.00"
    assert card["status_log"][0]["to_label"] == "Предварительная заявка"


def test_sale_show_prints_a_readable_card_and_an_unknown_number_is_one_line(data_dir, capsys):
    assert main(["--data-dir", data_dir, "sale", "show", "2026-0002"]) == 0
    out = capsys.readouterr().out
    assert "Февральская" in out and "В том числе НДС 22 %: 811,48" in out
    assert main(["--data-dir", data_dir, "sale", "show", "9999-0001"]) == 1
    assert capsys.readouterr().err.strip() == "Ошибка: Продажа «9999-0001» не найдена"


def test_doc_writes_the_invoice_and_saves_it_to_the_sale(data_dir, tmp_path, capsys):
    out = tmp_path / "счёт.docx"
    assert main(["--data-dir", data_dir, "doc", "2026-0001", "--template", "invoice",
                 "-o", str(out)]) == 0
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "Счёт на оплату № 1" in text and "Четыре тысячи пятьсот рублей 00 копеек" in text
    store = open_store(data_dir)
    card = sales.get_card(store, users.ensure_local_admin(store), 1)
    assert card["documents"][0]["kind"] == "invoice"


def test_doc_takes_a_template_path_and_refuses_a_bad_one(data_dir, tmp_path, capsys):
    d = docx.Document()
    d.add_paragraph("Для {{ buyer.name }}: {{ totals.words }}")
    tpl = tmp_path / "мой.docx"
    d.save(str(tpl))
    out = tmp_path / "out.docx"
    assert main(["--data-dir", data_dir, "doc", "2026-0002", "--template", str(tpl),
                 "-o", str(out)]) == 0
    assert "Для ООО «Покупатель»: Четыре тысячи" in docx.Document(str(out)).paragraphs[0].text
    d.add_paragraph("{{ client.fax }}")
    d.save(str(tpl))
    capsys.readouterr()
    assert main(["--data-dir", data_dir, "doc", "2026-0002", "--template", str(tpl),
                 "-o", str(out)]) == 1
    assert "неизвестные переменные: client" in capsys.readouterr().err


def test_doc_pdf_says_clearly_when_libreoffice_is_missing(data_dir, tmp_path, capsys):
    out = tmp_path / "акт.docx"
    code = main(["--data-dir", data_dir, "doc", "2026-0001", "--template", "act", "-o",
                 str(out), "--pdf"])
    assert out.exists()
    if documents.pdf_available():
        assert code == 0 and out.with_suffix(".pdf").read_bytes()[:4] == b"%PDF"
    else:
        assert code == 1 and "LibreOffice" in capsys.readouterr().err


def test_export_sales_with_status_and_period(data_dir, tmp_path, capsys):
    out = tmp_path / "sales.csv"
    assert main(["--data-dir", data_dir, "export", "sales", "-o", str(out), "--status", "lead",
                 "--from", "2026-02-01", "--to", "2026-02-28"]) == 0
    assert "Выгружено продаж: 1" in capsys.readouterr().out
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert rows[0][:2] == ["Номер", "Дата"] and rows[1][0] == "2026-0002" and len(rows) == 2
    xlsx = tmp_path / "sales.xlsx"
    assert main(["--data-dir", data_dir, "export", "sales", "-o", str(xlsx)]) == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    assert main(["--data-dir", data_dir, "export", "sales", "-o", str(xlsx),
                 "--status", "нет такого"]) == 1


def test_export_clients_still_works(data_dir, tmp_path):
    out = tmp_path / "clients.csv"
    assert main(["--data-dir", data_dir, "export", "clients", "-o", str(out)]) == 0
    assert "ООО «Покупатель»" in out.read_text(encoding="utf-8-sig")


def test_demo_with_sales_generates_cards_that_show(tmp_path, capsys):
    data = str(tmp_path / "demo")
    assert main(["--data-dir", data, "demo", "--clients", "40", "--sales", "120", "--seed", "3",
                 "--no-files"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["clients"] == 40 and stats["sales"] == 120 and stats["sale_lines"] > 120
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    number = sales.list_sales(store, admin).rows[0]["number"]
    assert main(["--data-dir", data, "sale", "show", number, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["number"] == number
