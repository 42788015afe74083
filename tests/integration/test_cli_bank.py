"""``clientplus bank``: import (with --dry-run, --json, -o), review, confirm, dismiss,
accounts; a bad file is one line naming the file and the line."""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from clientplus_cli.main import main
from clientplus_core import sales
from clientplus_core.bank import generator as g
from clientplus_core.clients import cards as clients
from clientplus_core.sales import company, documents
from clientplus_core.store.startup import open_store
from clientplus_core.team import users


@pytest.fixture
def setup(tmp_path: Path) -> tuple[str, Path, str]:
    """A data folder with an invoiced sale, and a statement paying it plus one
    payment from a stranger; returns (data dir, statement path, sale number)."""
    rng = random.Random(7)
    store = open_store(tmp_path / "data")
    admin = users.ensure_local_admin(store)
    own = g.party(rng, "ООО «Продавец»", "7707083893", "770701001", g.BANKS[0])
    company.save(store, admin, {"name": own.name, "inn": own.inn, "kpp": own.kpp,
                                "bik": own.bik, "account": own.account})
    payer = g.party(rng, "ООО «Ромашка»", "7736207543")
    c = clients.create(store, admin, {"name": payer.name, "inn": payer.inn},
                       allow_duplicate=True)
    s = sales.create(store, admin, {"client_id": c["id"], "date": "2026-11-02",
                                    "lines": [{"name": "Услуга", "qty": 1, "price": 1500}]})
    sales.set_status(store, admin, s["id"], "invoiced")
    documents.render(store, admin, s["id"], "invoice", doc_date="2026-11-02")
    data = g.render([own], [
        g.Payment("1", date(2026, 11, 5), 150000, payer, own, "Оплата по счету № 1 от 02.11.2026"),
        g.Payment("2", date(2026, 11, 5), 4200, g.party(rng, "ООО «Кто-то»"), own, "Оплата")])
    path = tmp_path / "kl_to_1c.txt"
    path.write_bytes(data)
    return str(tmp_path / "data"), path, s["number"]


def test_import_prints_the_summary_and_the_waiting_payment(setup, capsys) -> None:
    data_dir, path, number = setup
    assert main(["--data-dir", data_dir, "bank", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert "Поступило: 2 платежа на 1 542,00 ₽" in out
    assert "Разнесено автоматически: 1 на 1 500,00 ₽" in out
    assert "Ждут разбора: 1 на 42,00 ₽" in out
    assert "п/п № 2 от 05.11.2026, 42,00 ₽, ООО «Кто-то»" in out
    store = open_store(data_dir)
    sale = sales.get_card(store, users.ensure_local_admin(store), sales.find_id(
        store, users.ensure_local_admin(store), number))
    assert sale["status"]["code"] == "paid"
    assert main(["--data-dir", data_dir, "bank", "import", str(path)]) == 0
    assert "Уже загружены раньше: 2" in capsys.readouterr().out


def test_a_dry_run_as_json_writes_nothing_and_the_summary_goes_to_excel(setup, capsys,
                                                                       tmp_path) -> None:
    data_dir, path, _ = setup
    out_xlsx = tmp_path / "сводка.xlsx"
    assert main(["--data-dir", data_dir, "bank", "import", str(path), "--dry-run", "--json",
                 "-o", str(out_xlsx)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["dry_run"] is True
    assert result["summary"]["matched_count"] == 1 and result["summary"]["review"] == "42.00"
    rows = list(openpyxl.load_workbook(out_xlsx).active.iter_rows(values_only=True))
    assert [r[3] for r in rows[1:3]] == ["Разнесён автоматически", "Ждёт разбора"]
    assert main(["--data-dir", data_dir, "bank", "review", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_review_then_dismiss_from_the_command_line(setup, capsys) -> None:
    data_dir, path, _ = setup
    main(["--data-dir", data_dir, "bank", "import", str(path)])
    capsys.readouterr()
    assert main(["--data-dir", data_dir, "bank", "review"]) == 0
    line = capsys.readouterr().out.splitlines()[0]
    assert "ООО «Кто-то»" in line and "не найден среди клиентов" in line
    pid = line.split()[0].lstrip("#")
    assert main(["--data-dir", data_dir, "bank", "dismiss", pid, "--reason", "ошибка"]) == 0
    assert "отклонён: ошибка" in capsys.readouterr().out
    assert main(["--data-dir", data_dir, "bank", "review"]) == 0
    assert "Разбирать нечего" in capsys.readouterr().out


def test_a_truncated_file_is_one_line_naming_it_and_nothing_is_loaded(setup, capsys) -> None:
    data_dir, path, _ = setup
    text = path.read_bytes()
    path.write_bytes(text[: text.rindex("КонецФайла".encode("cp1251"))])
    assert main(["--data-dir", data_dir, "bank", "import", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("Ошибка: Файл kl_to_1c.txt, строка ")
    assert "файл обрезан: нет строки КонецФайла" in err
    assert main(["--data-dir", data_dir, "bank", "review", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_accounts_adds_an_extra_account_and_refuses_a_wrong_key(setup, capsys) -> None:
    data_dir, _, _ = setup
    extra = g.account(random.Random(1), "044525187")
    assert main(["--data-dir", data_dir, "bank", "accounts", "--add", extra,
                 "--bik", "044525187", "--bank", "Банк ВТБ (ПАО)"]) == 0
    assert extra in capsys.readouterr().out
    wrong = extra[:-1] + str((int(extra[-1]) + 1) % 10)
    assert main(["--data-dir", data_dir, "bank", "accounts", "--add", wrong,
                 "--bik", "044525187"]) == 1
    assert "не сходится с БИК" in capsys.readouterr().err
