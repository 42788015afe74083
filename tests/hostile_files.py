"""Hostile files for the tests and ``bench/bench_hostile.py`` (issue 11, part 3): small
zips that unpack to huge XML, an XML entity bomb, a spreadsheet with thousands of
columns. Each builder streams its XML into the zip, so making even a big one needs
little memory."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
CONTENT_TYPES_DOCX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>')
RELS_DOCX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>')

CONTENT_TYPES_XLSX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
RELS_XLSX = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
SHEET_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
              '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              '<sheetData>')
SHEET_TAIL = "</sheetData></worksheet>"

# A billion laughs: ten levels of ten references, 10^9 "lol"s if anything expands it.
LAUGHS_DTD = ('<!DOCTYPE lolz [<!ENTITY lol "lol">'
              + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">'
                        .replace("&lol0;", "&lol;") for i in range(1, 10))
              + "]>")


def _zip(parts: dict[str, str | Iterator[bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, body in parts.items():
            if isinstance(body, str):
                z.writestr(name, body)
                continue
            with z.open(name, "w", force_zip64=True) as out:
                for chunk in body:
                    out.write(chunk)
    return buf.getvalue()


def _repeat(head: str, unit: str, count: int, tail: str) -> Iterator[bytes]:
    yield head.encode()
    block = unit.encode() * 10_000
    full, rest = divmod(count, 10_000)
    for _ in range(full):
        yield block
    yield unit.encode() * rest
    yield tail.encode()


def docx(body_xml: str, doctype: str = "") -> bytes:
    """A minimal Word file whose body is ``body_xml`` (``<w:p>…</w:p>`` elements)."""
    doc = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n' + doctype
           + f'<w:document xmlns:w="{W_NS}"><w:body>{body_xml}</w:body></w:document>')
    return _zip({"[Content_Types].xml": CONTENT_TYPES_DOCX, "_rels/.rels": RELS_DOCX,
                 "word/document.xml": doc})


def empty_paragraphs_docx(count: int, text: str = "") -> bytes:
    """A Word file of ``count`` empty paragraphs (a few words of ``text`` first):
    8,000,000 make a 47 KB file that unpacks to 48 MB of XML."""
    head = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:document xmlns:w="{W_NS}"><w:body>'
            + (f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>" if text else ""))
    return _zip({"[Content_Types].xml": CONTENT_TYPES_DOCX, "_rels/.rels": RELS_DOCX,
                 "word/document.xml": _repeat(head, "<w:p/>", count,
                                              "</w:body></w:document>")})


def laughs_docx() -> bytes:
    """A Word file whose paragraph text is a billion-laughs entity."""
    return docx("<w:p><w:r><w:t>&lol9;</w:t></w:r></w:p>", LAUGHS_DTD)


def xlsx(sheet: str | Iterator[bytes]) -> bytes:
    """A minimal one-sheet workbook with the sheet XML given."""
    return _zip({"[Content_Types].xml": CONTENT_TYPES_XLSX, "_rels/.rels": RELS_XLSX,
                 "xl/workbook.xml": WORKBOOK, "xl/_rels/workbook.xml.rels": WORKBOOK_RELS,
                 "xl/worksheets/sheet1.xml": sheet})


def bomb_xlsx(megabytes: int) -> bytes:
    """A workbook whose one sheet unpacks to ``megabytes`` MB of XML (rows of numbers):
    256 make a file of about 260 KB."""
    row = "<row>" + "<c><v>1</v></c>" * 60 + "</row>"
    head = SHEET_HEAD + ('<row><c t="inlineStr"><is><t>Наименование</t></is></c>'
                         '<c t="inlineStr"><is><t>ИНН</t></is></c></row>')
    count = megabytes * (1 << 20) // len(row.encode())
    return xlsx(_repeat(head, row, count, SHEET_TAIL))


def laughs_xlsx() -> bytes:
    """A workbook whose header cell is a billion-laughs entity."""
    return xlsx(SHEET_HEAD.replace("?>\n", "?>\n" + LAUGHS_DTD)
                + '<row><c t="inlineStr"><is><t>&lol9;</t></is></c></row>' + SHEET_TAIL)


def wide_csv(columns: int) -> bytes:
    """A CSV file whose header names ``columns`` columns («Показатель 1» …), then one row."""
    head = ";".join(f"Показатель {i} клиента" for i in range(1, columns + 1))
    row = ";".join(str(i) for i in range(1, columns + 1))
    return (head + "\n" + row + "\n").encode()
