"""Plain text from attachments (PDF, DOCX, XLSX, TXT/CSV) with no external binaries.

A broken, encrypted or unknown file yields ``("none", "")`` or ``("error", "")``;
it never raises, so the file itself is always kept.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path

log = logging.getLogger(__name__)
MAX_TEXT = 2_000_000


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace")


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return ""
        except Exception:  # noqa: BLE001 - encrypted with a password: no text
            return ""
    parts = []
    for page in reader.pages:
        parts.append(page.extract_text() or "")
        if sum(map(len, parts)) > MAX_TEXT:
            break
    return "\n".join(parts)


def _docx(data: bytes) -> str:
    import docx

    d = docx.Document(io.BytesIO(data))
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append("\t".join(c.text for c in row.cells))
    return "\n".join(parts)


def _xlsx(data: bytes) -> str:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: list[str] = []
    size = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            line = "\t".join(str(v) for v in row if v is not None)
            if line:
                parts.append(line)
                size += len(line)
            if size > MAX_TEXT:
                break
    wb.close()
    return "\n".join(parts)


EXTRACTORS = {".pdf": _pdf, ".docx": _docx, ".xlsx": _xlsx, ".xlsm": _xlsx,
              ".txt": _decode, ".csv": _decode, ".md": _decode, ".tsv": _decode}


def extract_text(data: bytes, filename: str) -> tuple[str, str]:
    """``(status, text)``: status is ``ok``, ``none`` (no text / unsupported) or ``error``."""
    fn = EXTRACTORS.get(Path(filename).suffix.lower())
    if fn is None:
        return "none", ""
    try:
        text = fn(data)
    except Exception as exc:  # noqa: BLE001 - any broken file must not stop an upload
        log.info("no text from %s: %s", filename, exc)
        return "error", ""
    text = (text or "").replace("\x00", "").strip()[:MAX_TEXT]
    return ("ok", text) if text else ("none", "")
