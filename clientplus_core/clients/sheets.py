"""Reading spreadsheets and CSV files into a :class:`Table`, and turning cell
values into the text to import (:func:`convert_cell`).

Used by the client import (:mod:`clientplus_core.clients.importer`), the
catalogue import and the consent import. Formula cells of an .xlsx are never
evaluated: they come back as :class:`FormulaCell` and :func:`convert_cell`
reports them as an error.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from clientplus_core.base.errors import UserError
from clientplus_core.clients.import_mapping import label

__all__ = [
    "CSV_EXTENSIONS",
    "XLSX_EXTENSIONS",
    "FormulaCell",
    "Table",
    "convert_cell",
    "detect_delimiter",
    "read_table",
]

XLSX_EXTENSIONS = (".xlsx", ".xlsm")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")

# Targets whose values are digit strings: Excel numbers such as 7707083893.0 or
# 7.707083893E9 (also typed as text in a CSV) are turned back into "7707083893".
_DIGIT_TARGETS = frozenset({"inn", "kpp", "ogrn", "bik", "account", "corr_account",
                            "postal_index", "phone", "contact.phone", "contact.mobile"})
# Excel keeps 15 significant digits: a longer number stored as a number is damaged.
_EXCEL_DIGITS = 15
_FLOATISH = re.compile(r"^\d+(?:[.,]\d+)?(?:[eE][+]?\d+)?$")


class FormulaCell(str):
    """The text of a formula cell read from an .xlsx. Never evaluated: importing a
    mapped formula cell is a row error."""


@dataclass
class Table:
    """A sheet read from a file: headers and data rows (fully empty rows dropped).

    ``numbers`` holds each row's spreadsheet row number (the header is row 1 in a
    usual file, the first data row row 2); when empty, rows are numbered from 2.
    """

    headers: list[str]
    rows: list[list[object]]
    numbers: list[int] = field(default_factory=list)

    def row_number(self, index: int) -> int:
        """The spreadsheet row number of ``rows[index]``."""
        if index < len(self.numbers):
            return self.numbers[index]
        return index + 2


# ---------------------------------------------------------------------------
# Reading files


def read_table(data: bytes, filename: str) -> Table:
    """Read an .xlsx (first sheet) or a .csv into a :class:`Table`.

    Raises :class:`UserError` with a Russian message for an empty file, an
    unsupported extension, a file that is not what its extension says, or a file
    without a header row.
    """
    ext = PurePath(filename or "").suffix.lower()
    if ext not in XLSX_EXTENSIONS + CSV_EXTENSIONS:
        shown = ext or "без расширения"
        raise UserError(f"Формат файла ({shown}) не поддерживается: загрузите .xlsx или .csv"
                        + (" (старый .xls сохраните в Excel как .xlsx)" if ext == ".xls" else ""))
    if not data or not data.strip():
        raise UserError("Файл пустой")
    raw_rows = _read_xlsx(data) if ext in XLSX_EXTENSIONS else _read_csv(data)
    return _to_table(raw_rows)


def _read_xlsx(data: bytes) -> Iterable[tuple[int, list[object]]]:
    """The first sheet's rows, numbered as in Excel. Values come from calamine (a
    Rust reader, ~8x faster than openpyxl on a 10,000-row list); formula cells,
    which calamine would hand over as their cached results, are found in the
    sheet's XML and returned as :class:`FormulaCell` so they are never trusted."""
    if not data.startswith(b"PK\x03\x04"):
        raise UserError("Файл не является книгой Excel (.xlsx): возможно, у него просто "
                        "изменено расширение. Сохраните таблицу в Excel как .xlsx или .csv")
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not wb.sheet_names:
            raise UserError("В книге Excel нет листов")
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        formulas = _formula_cells(data)
    except UserError:
        raise
    except Exception as exc:  # noqa: BLE001 - calamine/zip raise many kinds on broken files
        raise UserError("Не удалось прочитать книгу Excel: файл повреждён или это не .xlsx "
                        f"({type(exc).__name__})") from None
    out: list[tuple[int, list[object]]] = []
    for number in range(1, max(len(rows), max(formulas, default=0)) + 1):
        values: list[object] = list(rows[number - 1]) if number <= len(rows) else []
        for col, text in formulas.get(number, {}).items():
            values.extend([None] * (col + 1 - len(values)))
            values[col] = FormulaCell(text)
        out.append((number, values))
    return out


_CELL_WITH_FORMULA = re.compile(
    rb'<c\b[^>]*\br="([A-Z]+)(\d+)"[^>]*>(?:(?!</c>).){0,200}?<f\b([^>]*?)(?:/>|>(.*?)</f>)', re.S)


def _formula_cells(data: bytes) -> dict[int, dict[int, str]]:
    """Row number -> {0-based column: formula text} for the first sheet's formula cells."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = _first_sheet_path(z)
        xml = z.read(sheet) if sheet in z.namelist() else b""
    out: dict[int, dict[int, str]] = {}
    if b"<f" not in xml:
        return out
    from html import unescape

    for m in _CELL_WITH_FORMULA.finditer(xml):
        col = 0
        for ch in m.group(1):
            col = col * 26 + (ch - 64)
        text = "=" + unescape((m.group(4) or b"").decode("utf-8", "replace"))
        out.setdefault(int(m.group(2)), {})[col - 1] = text
    return out


def _first_sheet_path(z: zipfile.ZipFile) -> str:
    """The zip path of the workbook's first sheet (usually xl/worksheets/sheet1.xml)."""
    try:
        wb = z.read("xl/workbook.xml")
        rels = z.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return "xl/worksheets/sheet1.xml"
    m = re.search(rb'<sheet\b[^>]*\br:id="([^"]+)"', wb) or re.search(
        rb'<sheet\b[^>]*\bid="([^"]+)"', wb)
    if not m:
        return "xl/worksheets/sheet1.xml"
    rid = re.escape(m.group(1))
    t = re.search(rb'<Relationship\b[^>]*\bId="' + rid + rb'"[^>]*\bTarget="([^"]+)"', rels) \
        or re.search(rb'<Relationship\b[^>]*\bTarget="([^"]+)"[^>]*\bId="' + rid + rb'"', rels)
    if not t:
        return "xl/worksheets/sheet1.xml"
    target = t.group(1).decode()
    return target.lstrip("/") if target.startswith("/") else "xl/" + target


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def _first_record(text: str, delimiter: str) -> list[str]:
    try:
        for rec in csv.reader(io.StringIO(text), delimiter=delimiter):
            if any(c.strip() for c in rec):
                return rec
    except csv.Error:
        return []
    return []


def detect_delimiter(text: str) -> str:
    """``;``, ``,`` or tab: the one splitting the header line into most columns
    (``csv.Sniffer`` breaks ties); ``;`` when the file has a single column."""
    sample = text[:64_000]
    counts = {d: len(_first_record(sample, d)) for d in (";", ",", "\t")}
    best = max(counts.values())
    if best <= 1:
        return ";"
    tied = [d for d, n in counts.items() if n == best]
    if len(tied) > 1:
        try:
            sniffed = csv.Sniffer().sniff(sample, delimiters=";,\t").delimiter
        except csv.Error:
            sniffed = ""
        return sniffed if sniffed in tied else tied[0]
    return tied[0]


def _read_csv(data: bytes) -> Iterable[tuple[int, list[object]]]:
    text = _decode(data).replace("\x00", "")
    delimiter = detect_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out: list[tuple[int, list[object]]] = []
    try:
        # Excel shows one row per record, so the n-th record is row n even when a
        # quoted cell spans several physical lines.
        for number, rec in enumerate(reader, start=1):
            out.append((number, list(rec)))
    except csv.Error as exc:
        raise UserError(f"Не удалось разобрать CSV (строка {reader.line_num}): {exc}") from None
    return out


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _looks_numeric(value: object) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float, Decimal, date, datetime, time)):
        return True
    return isinstance(value, str) and bool(re.fullmatch(r"[\d\s+().,:/\-]+", value.strip()))


def _to_table(raw_rows: Iterable[tuple[int, list[object]]]) -> Table:
    rows = [(n, r) for n, r in raw_rows if not all(_is_blank(v) for v in r)]
    if not rows:
        raise UserError("В файле нет ни одной заполненной строки")
    header_number, header = rows[0]
    filled = [v for v in header if not _is_blank(v)]
    if all(_looks_numeric(v) for v in filled):
        raise UserError(f"В строке {header_number} нет заголовков столбцов: первая заполненная "
                        "строка должна содержать названия столбцов (например «Наименование», "
                        "«ИНН»)")
    width = max(_last_filled(r) for _n, r in rows) + 1
    headers: list[str] = []
    seen: dict[str, int] = {}
    for i in range(width):
        value = header[i] if i < len(header) else None
        name = " ".join(_cell_text(value).split()) or f"Столбец {i + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        headers.append(name)
    data = [r[:width] + [None] * (width - len(r)) for _n, r in rows[1:]]
    return Table(headers, data, [n for n, _r in rows[1:]])


def _last_filled(row: list[object]) -> int:
    for i in range(len(row) - 1, -1, -1):
        if not _is_blank(row[i]):
            return i
    return -1


# ---------------------------------------------------------------------------
# Cell values


def _cell_text(value: object) -> str:
    """A cell as text: integral floats without ``.0``, dates as ISO, stripped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    return str(value).strip()


def _digit_string(text: str) -> str:
    """``"7707083893.0"``, ``"7.707083893E9"``, ``"7,707083893E+09"`` -> ``"7707083893"``."""
    if not _FLOATISH.match(text) or text.isdigit():
        return text
    try:
        number = Decimal(text.replace(",", "."))
    except InvalidOperation:
        return text
    if number != number.to_integral_value():
        return text
    return str(int(number))


def convert_cell(value: object, target: str) -> tuple[str, str | None]:
    """The text to import for ``value`` going to ``target``, and an error or None."""
    if isinstance(value, FormulaCell):
        return "", (f"{label(target)}: в ячейке формула «{str(value)[:60]}» — формулы не "
                    "вычисляются, замените её значением")
    if (target in _DIGIT_TARGETS and isinstance(value, float) and math.isfinite(value)
            and abs(value) >= 10 ** _EXCEL_DIGITS):
        return "", (f"{label(target)}: число длиннее 15 цифр искажено Excel — задайте "
                    "столбцу текстовый формат и введите значение заново")
    text = _cell_text(value)
    if target in _DIGIT_TARGETS:
        text = _digit_string(text)
    return text, None

