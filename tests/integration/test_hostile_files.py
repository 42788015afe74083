"""Hostile files cannot stall or exhaust the server (issue 11, part 3): attachments'
text is read off the request under size, time and memory caps; imports refuse zip
bombs, entity bombs, far-away cells and thousands of columns before reading them.

The hostile files are built in memory by :mod:`tests.hostile_files`; the tests assert
what the user sees (the status, the reason, the refusal), never how long it took."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from clientplus_core.base import safezip
from clientplus_core.base.errors import UserError
from clientplus_core.clients import files, import_mapping, sheets, text_jobs
from clientplus_core.search import index as search
from clientplus_core.search import textextract
from clientplus_core.store.db import connect
from clientplus_core.store.migrations import migrations
from tests import hostile_files as hostile

# 5,300,000 empty paragraphs: a 47 KB .docx that took 59 s and 1.7 GB to read before
EMPTY_PARAGRAPHS = 5_300_000


def _uploaded(store, actor, client_id, name, data):
    """Upload through the core as the card does; wait for the background text."""
    f = files.upload(store, actor, client_id, name, io.BytesIO(data))
    assert f["text_status"] == "pending", "the upload returns before the text is read"
    assert text_jobs.wait(store, 120)
    [row] = [r for r in files.list_for_client(store, actor, client_id) if r["id"] == f["id"]]
    return row


# --- attachments ------------------------------------------------------------------------


def test_a_docx_of_empty_paragraphs_is_kept_and_marked_too_large(store, actor, make_client):
    c = make_client()
    data = hostile.empty_paragraphs_docx(EMPTY_PARAGRAPHS)
    row = _uploaded(store, actor, c["id"], "пустышка.docx", data)
    assert row["text_status"] == "too_large"
    assert row["text_reason"].startswith("текст не извлечён: файл слишком большой")
    assert "word/document.xml" in row["text_reason"]
    assert files.read(store, actor, row["id"])[1] == data, "the file itself is kept"
    assert [h.id for h in search.search(store, actor, "пустышка")] == [row["id"]], \
        "found by its name"


def test_a_billion_laughs_docx_is_refused_before_parsing(store, actor, make_client):
    c = make_client()
    row = _uploaded(store, actor, c["id"], "смех.docx", hostile.laughs_docx())
    assert row["text_status"] == "error"
    assert "XML-сущности" in row["text_reason"]
    assert "lol" not in (search.search(store, actor, "смех")[0].snippet or "")


def test_an_xlsx_attachment_over_the_unpacked_cap_is_marked_too_large(store, actor,
                                                                     make_client):
    c = make_client()
    row = _uploaded(store, actor, c["id"], "выгрузка.xlsx", hostile.bomb_xlsx(60))
    assert row["text_status"] == "too_large"
    assert "слишком большой" in row["text_reason"]


def test_the_unpacked_size_cap_counts_all_parts(monkeypatch):
    # ordinary text, compressed only ~3 times: refused by the total, not by the ratio
    words = " ".join(f"слово{i}" for i in range(200_000))
    data = hostile.docx(f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>")
    assert textextract.extract(data, "a.docx").status == "ok"
    monkeypatch.setattr(textextract, "MAX_UNPACKED", safezip.MB)
    result = textextract.extract(data, "a.docx")
    assert result.status == "too_large"
    assert "предел — 1 МБ" in result.reason


def test_the_child_process_is_stopped_by_its_memory_and_time_caps(tmp_path):
    big = tmp_path / "big.txt"
    big.write_bytes(("слово " * 10_000_000).encode())     # 110 MB of text
    capped = textextract.extract_isolated(big, "big.txt", memory_mb=150)
    assert capped.status == "too_large" and "150 МБ памяти" in capped.reason
    assert textextract.extract_isolated(big, "big.txt").status == "ok"
    slow = textextract.extract_isolated(big, "big.txt", time_limit=0.001)
    assert slow.status == "too_large" and "не уложился" in slow.reason


def test_a_file_name_cannot_pass_options_to_the_child(tmp_path):
    path = tmp_path / "x"
    path.write_bytes("текст".encode())
    assert textextract.extract_isolated(path, "--memory-mb.txt").text == "текст"


def test_word_text_is_read_with_tables_tabs_and_breaks():
    import docx

    d = docx.Document()
    d.add_paragraph("Поставка\tкабеля")
    t = d.add_table(rows=2, cols=2)
    t.cell(0, 0).text = "Позиция"
    t.cell(0, 1).text = "Цена"
    t.cell(1, 0).text = "ВВГнг"
    run = d.add_paragraph("Строка один").add_run()
    run.add_break()
    run.add_text("строка два")
    buf = io.BytesIO()
    d.save(buf)
    result = textextract.extract(buf.getvalue(), "a.docx")
    assert result.status == "ok"
    assert result.text.split("\n") == ["Поставка\tкабеля", "Позиция\tЦена", "ВВГнг\t",
                                       "Строка один", "строка два"]   # in document order


def test_files_left_pending_by_a_stopped_server_are_read_at_the_next_start(
        store, actor, make_client):
    c = make_client()
    f = _uploaded(store, actor, c["id"], "заметка.txt", "Редкоеслово внутри".encode())
    with store.write() as conn:   # as if the server had stopped before the extraction
        conn.execute("UPDATE blobs SET text_status = 'pending', text = ''")
        conn.execute("DELETE FROM search_index WHERE entity = 'file'")
    assert search.search(store, actor, "редкоеслово") == []
    text_jobs.start(store)        # what the app does when it opens the data folder
    assert text_jobs.wait(store, 60)
    assert [h.id for h in search.search(store, actor, "редкоеслово")] == [f["id"]]


def test_a_file_deleted_before_its_text_is_read_stays_out_of_the_search(
        store, actor, make_client, monkeypatch):
    c = make_client()
    monkeypatch.setattr(text_jobs, "start", lambda store: None)   # the worker is slow today
    row = files.upload(store, actor, c["id"], "черновик.txt", io.BytesIO("Тайнослово".encode()))
    files.delete(store, actor, row["id"])
    assert text_jobs.run_pending(store) == 1
    assert search.search(store, actor, "тайнослово") == []
    files.restore(store, actor, row["id"])
    assert [h.id for h in search.search(store, actor, "тайнослово")] == [row["id"]]


def test_a_word_template_with_an_entity_bomb_or_a_zip_bomb_is_refused(store, actor):
    from clientplus_core.base.errors import ValidationError
    from clientplus_core.sales import documents

    with pytest.raises(ValidationError, match="смех.docx.*XML-сущности"):
        documents.upload_template(store, actor, "invoice", "смех.docx", hostile.laughs_docx())
    with pytest.raises(ValidationError, match="пустышка.docx.*сжата"):
        documents.upload_template(store, actor, "invoice", "пустышка.docx",
                                  hostile.empty_paragraphs_docx(EMPTY_PARAGRAPHS))
    assert documents.list_templates(store, actor) == []


# --- imports ----------------------------------------------------------------------------


def test_an_xlsx_whose_sheet_unpacks_past_100_mb_is_refused_before_reading():
    data = hostile.bomb_xlsx(101)
    assert len(data) < 400_000
    with pytest.raises(UserError, match=r"слишком велика.*sheet1\.xml.*предел — 100 МБ"):
        sheets.read_table(data, "клиенты.xlsx")


def test_a_billion_laughs_xlsx_import_is_refused_naming_the_cause():
    with pytest.raises(UserError, match="XML-сущности"):
        sheets.read_table(hostile.laughs_xlsx(), "клиенты.xlsx")


def test_a_tiny_xlsx_with_a_far_away_cell_is_refused_and_the_server_lives():
    # calamine would build the whole A1:XFD1048576 rectangle (512 GB) and abort
    data = hostile.xlsx(hostile.SHEET_HEAD + '<row r="1"><c r="A1" t="inlineStr"><is><t>'
                        'Наименование</t></is></c></row><row r="1048576"><c r="XFD1048576">'
                        '<v>1</v></c></row>' + hostile.SHEET_TAIL)
    assert len(data) < 2_000
    with pytest.raises(UserError, match="не хватило 1024 МБ памяти"):
        sheets.read_table(data, "клиенты.xlsx")


def test_a_csv_with_8000_named_columns_is_refused_naming_the_limit():
    with pytest.raises(UserError, match="8000 столбцов.*не больше 200"):
        sheets.read_table(hostile.wide_csv(8000), "клиенты.csv")
    assert len(sheets.read_table(hostile.wide_csv(200), "клиенты.csv").headers) == 200


def test_an_ordinary_xlsx_is_still_read_with_its_formula_cells():
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["Наименование", "ИНН", "Итог"])
    wb.active.append(["ООО «Ромашка»", "7707083893", "=1+1"])
    buf = io.BytesIO()
    wb.save(buf)
    table = sheets.read_table(buf.getvalue(), "клиенты.xlsx")
    assert table.headers == ["Наименование", "ИНН", "Итог"]
    assert table.rows[0][:2] == ["ООО «Ромашка»", "7707083893"]
    assert isinstance(table.rows[0][2], sheets.FormulaCell)


def test_mapping_work_per_column_does_not_grow_with_the_columns(monkeypatch):
    calls = {"n": 0}
    real = import_mapping.norm_header

    def counting(text: str) -> str:
        calls["n"] += 1
        return real(text)

    monkeypatch.setattr(import_mapping, "norm_header", counting)
    import_mapping.guess_mapping(["ИНН", "Телефон"])       # the field phrases, once
    counts = []
    for n in (100, 200):
        calls["n"] = 0
        import_mapping.guess_mapping([f"Показатель {i} клиента" for i in range(n)])
        counts.append(calls["n"])
    assert counts[1] - counts[0] <= 3 * 100, counts


# --- the schema -------------------------------------------------------------------------


def test_the_upgrade_keeps_every_blob_and_allows_too_large(tmp_path: Path):
    conn = connect(tmp_path / "old.db")
    db = sqlite_utils.Database(conn)
    migrations.apply(db, stop_before="m026_add_blob_text_reason")
    ts = "2026-01-01T00:00:00Z"
    conn.execute("INSERT INTO users (login, full_name, role, created_at, updated_at)"
                 " VALUES ('a', 'A', 'admin', ?, ?)", (ts, ts))
    conn.execute("INSERT INTO clients (kind, name, owner_id, created_at, updated_at)"
                 " VALUES ('legal', 'К', 1, ?, ?)", (ts, ts))
    conn.execute("INSERT INTO blobs (sha256, size, text_status, text, created_at)"
                 " VALUES ('ab', 3, 'ok', 'текст', ?)", (ts,))
    conn.execute("INSERT INTO files (client_id, sha256, name, size, created_at, updated_at)"
                 " VALUES (1, 'ab', 'a.txt', 3, ?, ?)", (ts, ts))
    migrations.apply(db)
    assert [tuple(r) for r in conn.execute("SELECT sha256, text_status, text, text_reason"
                                           " FROM blobs")] \
        == [("ab", "ok", "текст", "")]
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    conn.execute("UPDATE blobs SET text_status = 'too_large'")
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute("INSERT INTO files (client_id, sha256, name, size, created_at,"
                     " updated_at) VALUES (1, 'zz', 'b.txt', 3, ?, ?)", (ts, ts))
    conn.close()
