"""Search over everything, attached files' text included; the file store."""

from __future__ import annotations

import io

import pytest
from docx import Document
from openpyxl import Workbook

from clientplus_core.base.errors import ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_core.maintenance import reindex
from clientplus_core.search import index as search


def _docx(text: str) -> bytes:
    d = Document()
    d.add_paragraph(text)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _xlsx(text: str) -> bytes:
    wb = Workbook()
    wb.active.append(["Позиция", text])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _pdf(text: str) -> bytes:
    # A minimal one-page PDF with a Latin text run (pypdf extracts it).
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length " + str(len(content)).encode() + b" >>stream\n" + content
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + o + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(f"trailer << /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF"
              .encode())
    return out.getvalue()


@pytest.mark.parametrize("name, data, word", [
    ("offer.docx", _docx("Поставка ёлочных гирлянд"), "елочных"),
    ("price.xlsx", _xlsx("Гирлянда светодиодная"), "светодиод"),
    ("scan.pdf", _pdf("Quarterly invoice for Zephyrine"), "zephyrine"),
    ("note.txt", "Договор аренды склада".encode("cp1251"), "аренды"),
    ("list.csv", "Наименование;Цена\nКартофель;10".encode(), "картоф"),
])
def test_text_inside_attached_files_is_found(store, actor, make_client, name, data, word):
    c = make_client()
    f = files.upload(store, actor, c["id"], name, io.BytesIO(data))
    assert f["text_status"] == "pending", "the upload returns before the text is read"
    assert text_jobs.wait(store, 60)
    assert files.list_for_client(store, actor, c["id"])[0]["text_status"] == "ok"
    hits = search.search(store, actor, word)
    assert [(h.entity, h.id, h.client_id) for h in hits] == [("file", f["id"], c["id"])]
    assert hits[0].spans, "the hit is highlighted"


def test_a_broken_file_is_kept_with_no_text(store, actor, make_client):
    c = make_client()
    f = files.upload(store, actor, c["id"], "broken.pdf", io.BytesIO(b"%PDF-1.4 garbage"))
    assert text_jobs.wait(store, 60)
    assert files.list_for_client(store, actor, c["id"])[0]["text_status"] in ("error", "none")
    assert files.read(store, actor, f["id"])[1] == b"%PDF-1.4 garbage"


def test_the_same_bytes_are_stored_once(store, actor, make_client):
    a, b = make_client(), make_client()
    f1 = files.upload(store, actor, a["id"], "a.txt", io.BytesIO(b"same bytes"))
    f2 = files.upload(store, actor, b["id"], "b.txt", io.BytesIO(b"same bytes"))
    assert f1["sha256"] == f2["sha256"]
    blobs = [p for p in store.data_dir.files_dir.rglob("*") if p.is_file()]
    assert len(blobs) == 1 and blobs[0].name == f1["sha256"]


def test_a_path_in_the_file_name_cannot_escape_the_store(store, actor, make_client):
    c = make_client()
    f = files.upload(store, actor, c["id"], "../../etc/passwd", io.BytesIO(b"x"))
    assert f["name"] == "passwd"
    assert files.safe_name("..\\..\\win.ini") == "win.ini"
    assert files.safe_name("..") == "file"


def test_an_empty_or_too_big_file_is_refused_naming_it(store, actor, make_client):
    c = make_client()
    with pytest.raises(ValidationError, match="empty.txt.*пустой"):
        files.upload(store, actor, c["id"], "empty.txt", io.BytesIO(b""))
    with pytest.raises(ValidationError, match="big.bin.*больше"):
        files.upload(store, actor, c["id"], "big.bin", io.BytesIO(b""), size_hint=2 << 30)
    assert files.list_for_client(store, actor, c["id"]) == []
    assert not [p for p in store.data_dir.files_dir.rglob("*") if p.is_file()]


def test_substring_case_and_yo_insensitive_search(store, actor, make_client):
    c = make_client(name="ООО «Зелёный Берег»", inn="7707083893", phone="+79161234567",
                    email="office@bereg.ru", notes="Любит скидки")
    contacts.create(store, actor, c["id"], {"name": "Семён Ёжиков", "mobile": "+79037654321"})
    for q in ("ЗЕЛЕН", "лёный бер", "708389", "4567", "8 (916) 123-45-67", "+7 916 1234567",
              "bereg", "скидк", "ежик", "7654321"):
        assert {h.client_id for h in search.search(store, actor, q)} == {c["id"]}, q
    contact_hit = search.search(store, actor, "ЁЖИК")[0]
    assert contact_hit.title == "Семён Ёжиков"
    assert contact_hit.snippet[slice(*contact_hit.spans[0])] == "Ёжик"


def test_links_are_searchable(store, actor, make_client):
    c = make_client()
    files.add_link(store, actor, c["id"], "https://disk.yandex.ru/d/Proekt42", "Проект")
    assert [h.entity for h in search.search(store, actor, "proekt42")] == ["link"]


def test_a_deleted_file_is_not_found_any_more(store, actor, make_client):
    c = make_client()
    f = files.upload(store, actor, c["id"], "x.txt", io.BytesIO("уникальнослово".encode()))
    assert text_jobs.wait(store, 60)
    assert search.search(store, actor, "уникальнослово")
    files.delete(store, actor, f["id"])
    assert search.search(store, actor, "уникальнослово") == []


def test_rebuilding_the_index_gives_the_same_results(store, actor, make_client):
    c = make_client(name="Перестройка")
    files.upload(store, actor, c["id"], "x.txt", io.BytesIO("внутритекст".encode()))
    assert text_jobs.wait(store, 60)
    before = [h.as_json() for h in search.search(store, actor, "внутритекст")]
    reindex.rebuild(store)
    assert [h.as_json() for h in search.search(store, actor, "внутритекст")] == before
    assert clients.list_clients(store, actor, clients.ClientFilter(query="перестр")).total == 1


def test_a_deleted_file_can_be_restored_by_the_head_with_its_text(store, actor, make_client):
    c = make_client()
    f = files.upload(store, actor, c["id"], "x.txt", io.BytesIO("возвращённый".encode()))
    assert text_jobs.wait(store, 60)
    files.delete(store, actor, f["id"])
    assert [d["id"] for d in files.list_deleted(store, actor)] == [f["id"]]
    files.restore(store, actor, f["id"])
    assert [h.id for h in search.search(store, actor, "возвращенный")] == [f["id"]]
    assert files.list_deleted(store, actor) == []


def test_the_client_registry_text_filter_reads_cards_contacts_files_and_links_not_sales(
        store, actor, make_client):
    from clientplus_core import sales

    c = make_client(name="ООО «Гранит»")
    contacts.create(store, actor, c["id"], {"name": "Кузнецова Мария"})
    other = make_client(name="ООО «Базальт»")
    sales.create(store, actor, {"client_id": other["id"], "title": "Поставка гранитной крошки",
                                "lines": [{"name": "Гранитная крошка", "qty": 1,
                                           "price": "1000", "vat_code": "22"}]})
    names = lambda q: {r["name"] for r in clients.list_clients(  # noqa: E731
        store, actor, clients.ClientFilter(query=q)).rows}
    assert names("гранит") == {"ООО «Гранит»"}          # not the buyer of «гранитная крошка»
    assert names("кузнецова") == {"ООО «Гранит»"}       # a contact
    # the sales register and the global search still find the sale by its lines
    assert sales.list_sales(store, actor, sales.SaleFilter(query="крошка")).total == 1
    assert [h.entity for h in search.search(store, actor, "крошка")] == ["sale"]
