"""Reading spreadsheets and CSV files into a :class:`Table`, and turning cell
values into the text to import (:func:`convert_cell`).

Used by the client import (:mod:`clientplus_core.clients.importer`), the
catalogue import and the consent import. Formula cells of an .xlsx are never
evaluated: they come back as :class:`FormulaCell` holding the formula's text and
the value the file saved for it (Excel and LibreOffice keep the last result);
:func:`convert_cell` imports that saved value, and without one keeps the formula's
text as plain text in a free-text field (:func:`formula_warning` says so) and
refuses it in a field that needs a real value (:data:`FORMULA_TEXT_REFUSED`).

An uploaded file is untrusted, so reading is bounded: an .xlsx is refused before
anything is unpacked when a part would unpack to more than :data:`XLSX_MAX_PART`
(the sheet) or all parts to more than :data:`XLSX_MAX_UNPACKED`, or when a part
declares XML entities (:mod:`clientplus_core.base.safezip`); the sheet is then read
in a child process (``python -m clientplus_core.clients.sheets``) capped at
:data:`XLSX_MEMORY_MB` of memory and :data:`XLSX_TIME_LIMIT_S` seconds, because
calamine builds the whole rectangle from A1 to the farthest filled cell — a 2 KB file
with one value in XFD1048576 asks for 512 GB and would abort the server. Any file
with more than :data:`MAX_COLUMNS` filled columns is refused too.
"""

from __future__ import annotations

import csv
import io
import math
import os
import pickle
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from clientplus_core.base.errors import UserError
from clientplus_core.base.safezip import MB, ZipRefused, check_no_dtd, check_sizes
from clientplus_core.clients.import_mapping import label

__all__ = [
    "CSV_EXTENSIONS",
    "MAX_COLUMNS",
    "XLSX_EXTENSIONS",
    "XLSX_MAX_PART",
    "XLSX_MAX_UNPACKED",
    "XLSX_MEMORY_MB",
    "XLSX_TIME_LIMIT_S",
    "FormulaCell",
    "Table",
    "convert_cell",
    "detect_delimiter",
    "formula_warning",
    "read_table",
]

XLSX_EXTENSIONS = (".xlsx", ".xlsm")
CSV_EXTENSIONS = (".csv", ".tsv", ".txt")

MAX_COLUMNS = 200               # filled columns of a file to import
XLSX_MAX_PART = 100 * MB        # one part of an .xlsx (the sheet) unpacked
XLSX_MAX_UNPACKED = 200 * MB    # all parts of an .xlsx unpacked
XLSX_MEMORY_MB = 1024           # address space of the child process reading the sheet
XLSX_TIME_LIMIT_S = 60
_MODULE = "clientplus_core.clients.sheets"
_ROOT = PurePath(__file__).parents[2]   # the folder holding clientplus_core
_EXIT_USER_ERROR, _EXIT_MEMORY = 2, 3
_FIX = "Сохраните в файле только нужные столбцы и строки или выгрузите таблицу в .csv"

# Targets whose values are digit strings: Excel numbers such as 7707083893.0 or
# 7.707083893E9 (also typed as text in a CSV) are turned back into "7707083893".
_DIGIT_TARGETS = frozenset({"inn", "kpp", "ogrn", "bik", "account", "corr_account",
                            "postal_index", "phone", "contact.phone", "contact.mobile"})
# Excel keeps 15 significant digits: a longer number stored as a number is damaged.
_EXCEL_DIGITS = 15
_FLOATISH = re.compile(r"^\d+(?:[.,]\d+)?(?:[eE][+]?\d+)?$")


# A formula without a saved value cannot stand in for these: its text is no name,
# type, number or address, so such a cell stays a row error.
FORMULA_TEXT_REFUSED = _DIGIT_TARGETS | {"name", "kind", "email", "contact.name",
                                         "contact.email"}


class FormulaCell(str):
    """The text of a formula cell read from an .xlsx (``"=1+1"``), never evaluated;
    ``cached`` is the result the file saved with it, ``None`` when it has none."""

    cached: object = None

    def __new__(cls, text: str, cached: object = None) -> FormulaCell:
        cell = super().__new__(cls, text)
        cell.cached = None if _is_blank(cached) else cached
        return cell


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
    """The first sheet's rows, numbered as in Excel: the zip is checked here, then
    read by :func:`read_xlsx_rows` in a capped child process."""
    if not data.startswith(b"PK\x03\x04"):
        raise UserError("Файл не является книгой Excel (.xlsx): возможно, у него просто "
                        "изменено расширение. Сохраните таблицу в Excel как .xlsx или .csv")
    check_workbook(data)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    try:
        proc = subprocess.run([sys.executable, "-m", _MODULE, "--memory-mb",
                               str(XLSX_MEMORY_MB)], input=data, capture_output=True,
                              timeout=XLSX_TIME_LIMIT_S, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise UserError(f"Книга Excel не прочитана за {XLSX_TIME_LIMIT_S} с: она слишком "
                        f"велика. {_FIX}") from None
    if proc.returncode == _EXIT_USER_ERROR:
        raise UserError(proc.stdout.decode("utf-8", "replace"))
    if proc.returncode == _EXIT_MEMORY or proc.returncode < 0:
        raise UserError(f"Книга Excel слишком велика: на её чтение не хватило {XLSX_MEMORY_MB}"
                        " МБ памяти (возможно, что-то записано в ячейку далеко за пределами "
                        f"таблицы). {_FIX}")
    if proc.returncode != 0:
        raise UserError("Не удалось прочитать книгу Excel: файл повреждён или это не .xlsx")
    rows: list[tuple[int, list[object]]] = pickle.loads(proc.stdout)  # noqa: S301 - our child
    return rows


def check_workbook(data: bytes) -> None:
    """Refuse (:class:`UserError`) an .xlsx whose parts would unpack to more than the
    limits, or that declares XML entities — before anything is unpacked."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            check_sizes(z, max_total=XLSX_MAX_UNPACKED, max_part=XLSX_MAX_PART)
            check_no_dtd(z)
    except ZipRefused as exc:
        if exc.too_large:
            raise UserError(f"Книга Excel слишком велика: {exc.reason}. {_FIX}") from None
        raise UserError(f"Книга Excel не прочитана: {exc.reason}. Откройте файл в Excel и "
                        "сохраните его заново") from None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError("Не удалось прочитать книгу Excel: файл повреждён или это не .xlsx "
                        f"({type(exc).__name__})") from None


def read_xlsx_rows(data: bytes) -> list[tuple[int, list[object]]]:
    """The first sheet's rows, in this process (the child's work). Values come from
    calamine (a Rust reader, ~8x faster than openpyxl on a 10,000-row list; its XML
    reader expands no entity, an undeclared one is an error); formula cells, which
    calamine would hand over as their cached results, are found in the sheet's XML
    and returned as :class:`FormulaCell` (with calamine's value as its ``cached``
    result) so a formula is always known as one."""
    import python_calamine

    try:
        wb = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        if not wb.sheet_names:
            raise UserError("В книге Excel нет листов")
        rows = wb.get_sheet_by_index(0).to_python(skip_empty_area=False)
        formulas = _formula_cells(data)
    except (UserError, MemoryError):
        raise
    except Exception as exc:  # noqa: BLE001 - calamine/zip raise many kinds on broken files
        raise UserError("Не удалось прочитать книгу Excel: файл повреждён или это не .xlsx "
                        f"({type(exc).__name__})") from None
    out: list[tuple[int, list[object]]] = []
    for number in range(1, max(len(rows), max(formulas, default=0)) + 1):
        values: list[object] = list(rows[number - 1]) if number <= len(rows) else []
        for col, text in formulas.get(number, {}).items():
            values.extend([None] * (col + 1 - len(values)))
            values[col] = FormulaCell(text, values[col])
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
    if width > MAX_COLUMNS:
        raise UserError(f"В файле {width} столбцов — больше, чем можно сопоставить (не больше "
                        f"{MAX_COLUMNS}). Оставьте в файле только нужные столбцы")
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
    """The text to import for ``value`` going to ``target``, and an error or None.

    A formula cell gives the value saved with it; without one, its text (a warning,
    :func:`formula_warning`), or an error in a field of :data:`FORMULA_TEXT_REFUSED`."""
    if isinstance(value, FormulaCell):
        if value.cached is None:
            if target in FORMULA_TEXT_REFUSED:
                return "", (f"{label(target)}: в ячейке формула «{str(value)[:60]}» без "
                            "сохранённого значения — формулы не вычисляются, замените её "
                            "значением")
            return str(value), None
        value = value.cached
    if (target in _DIGIT_TARGETS and isinstance(value, float) and math.isfinite(value)
            and abs(value) >= 10 ** _EXCEL_DIGITS):
        return "", (f"{label(target)}: число длиннее 15 цифр искажено Excel — задайте "
                    "столбцу текстовый формат и введите значение заново")
    text = _cell_text(value)
    if target in _DIGIT_TARGETS:
        text = _digit_string(text)
    return text, None


def formula_warning(value: object, target: str) -> str | None:
    """The warning for a formula cell whose text is imported as plain text (no saved
    value), or ``None``."""
    if (isinstance(value, FormulaCell) and value.cached is None
            and target not in FORMULA_TEXT_REFUSED):
        return (f"{label(target)}: в ячейке формула «{str(value)[:60]}» без сохранённого "
                "значения — записан её текст, формула не вычислялась")
    return None


# ---------------------------------------------------------------------------
# The child process


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX: no cap
        return
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb * MB, memory_mb * MB))


def main(argv: list[str] | None = None) -> int:
    """``python -m clientplus_core.clients.sheets [--memory-mb N] < book.xlsx``: the
    rows of :func:`read_xlsx_rows` pickled to stdout; exit 2 with the message on
    stdout for a :class:`UserError`, exit 3 when memory ran out."""
    import argparse

    parser = argparse.ArgumentParser(prog=_MODULE)
    parser.add_argument("--memory-mb", type=int, default=XLSX_MEMORY_MB)
    args = parser.parse_args(argv)
    _limit_memory(args.memory_mb)
    try:
        out = pickle.dumps(read_xlsx_rows(sys.stdin.buffer.read()))
    except UserError as exc:
        sys.stdout.write(str(exc))
        return _EXIT_USER_ERROR
    except MemoryError:
        return _EXIT_MEMORY
    sys.stdout.buffer.write(out)
    return 0


if __name__ == "__main__":
    # through the package, so that FormulaCell pickles as clientplus_core.clients.sheets's
    from clientplus_core.clients import sheets

    sys.exit(sheets.main())
