"""Import clients (and one contact per row) from an .xlsx or .csv file.

Three steps, each usable on its own by the CLI and the import page:

1. :func:`read_table` turns the uploaded bytes into a :class:`Table` (headers and
   data rows, with the spreadsheet row number of every row).
2. :func:`guess_mapping` proposes which column goes to which field, from the
   labels and synonyms in :mod:`clientplus_core.clients.fields`; the page lets the user
   correct it.
3. :func:`run_import` validates every row, finds duplicates and writes all good
   rows in ONE transaction, returning an :class:`ImportReport`.

Decisions worth knowing:

- **Formulas are never evaluated or trusted.** A formula cell in an .xlsx (read
  with ``data_only=False``, so the cached result is never used) is reported as a
  row error naming its field ("replace the formula with a value"); the other
  cells of that row are not imported either. In a CSV there are no formulas: a
  text starting with ``=`` is ordinary text and is stored as typed (exports
  neutralise it, see :mod:`clientplus_core.clients.export`).
- **Atomicity.** All writes happen inside one ``store.write()`` transaction; each
  row runs in a SAVEPOINT, so a row refused at write time (a ``UserError``) is
  rolled back alone, while any other exception (disk error, bug) propagates and
  rolls back the whole import: the database is exactly as before.
- **Dry run** does everything, writes included, then rolls back, so its report is
  the one a real run would give (duplicates within the file included).
- **Duplicates**: a row's INN, or without an INN its e-mail, then its phone, is
  looked up among live clients (indexed columns). ``on_duplicate`` decides:
  ``"update"`` fills the existing card with the row's non-empty fields (tags are
  added to the existing ones), ``"skip"`` leaves it, ``"create"`` creates a new
  card anyway. Rows earlier in the same file count, since they are already
  written inside the transaction.
- **Row errors** name the field by its target name (``"inn"``, ``"name"``,
  ``"contact.email"``); one :class:`RowError` per bad field.
"""

from __future__ import annotations

import csv
import io
import math
import re
import sqlite3
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.base.textnorm import fold
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.clients.fields import CLIENT_FIELDS, CLIENT_KINDS, CONTACT_FIELDS, FieldSpec
from clientplus_core.records import custom_fields
from clientplus_core.records.validation import check_email, check_inn, check_phone
from clientplus_core.store.db import Store
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

__all__ = [
    "CONTACT_PREFIX",
    "CUSTOM_PREFIX",
    "DUPLICATE_MODES",
    "FormulaCell",
    "ImportReport",
    "RowError",
    "Table",
    "guess_mapping",
    "read_table",
    "run_import",
    "targets",
]

CONTACT_PREFIX = "contact."
CUSTOM_PREFIX = "extra."  # custom client fields (issue 6): "extra.<key>"
DUPLICATE_MODES = ("update", "skip", "create")
PROGRESS_EVERY = 200
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
        return "", (f"{_label(target)}: в ячейке формула «{str(value)[:60]}» — формулы не "
                    "вычисляются, замените её значением")
    if (target in _DIGIT_TARGETS and isinstance(value, float) and math.isfinite(value)
            and abs(value) >= 10 ** _EXCEL_DIGITS):
        return "", (f"{_label(target)}: число длиннее 15 цифр искажено Excel — задайте "
                    "столбцу текстовый формат и введите значение заново")
    text = _cell_text(value)
    if target in _DIGIT_TARGETS:
        text = _digit_string(text)
    return text, None


# ---------------------------------------------------------------------------
# Mapping


def targets(custom: Sequence[Any] = ()) -> dict[str, str]:
    """Every import target -> its Russian label (client fields, then ``contact.*``,
    then ``extra.<key>`` for the ``custom`` field definitions given)."""
    out = {f.name: f.ru for f in CLIENT_FIELDS}
    out.update({CONTACT_PREFIX + f.name: f"Контакт: {f.ru}" for f in CONTACT_FIELDS})
    out.update({CUSTOM_PREFIX + d.key: d.label_ru for d in custom})
    return out


def resolve_target(target: str, custom: Sequence[Any] = ()) -> str | None:
    """The import target ``target`` names: a known target as it is, or a custom
    field given by its key or its Russian / English label, with or without the
    ``extra.`` prefix, case- and ``ё``-insensitively (``"industry"``,
    ``"extra.Отрасль"``, ``"ОТРАСЛЬ"`` → ``"extra.industry"``); None when nothing fits."""
    if target in targets(custom):
        return target
    name = target[len(CUSTOM_PREFIX):] if target.startswith(CUSTOM_PREFIX) else target
    wanted = norm_header(name)
    if not wanted:
        return None
    for d in custom:
        if wanted in {norm_header(n) for n in (d.key, d.label_ru, d.label_en) if n}:
            return CUSTOM_PREFIX + d.key
    return None


def _label(target: str) -> str:
    if target.startswith(CONTACT_PREFIX):
        for f in CONTACT_FIELDS:
            if CONTACT_PREFIX + f.name == target:
                return f"Контакт: {f.ru}"
    for f in CLIENT_FIELDS:
        if f.name == target:
            return f.ru
    return target


_PUNCT = re.compile(r"[^\w\s-]|_")
_JOINERS = re.compile(r"(?<=\w)-(?=\w)")


def norm_header(text: str) -> str:
    """Header text for matching: lower case, ``ё`` = ``е``, punctuation dropped,
    ``e-mail`` = ``email``, single spaces."""
    s = fold(text or "")
    s = _JOINERS.sub("", s)
    s = _PUNCT.sub(" ", s).replace("-", " ")
    s = " ".join(s.split())
    return re.sub(r"\be mail\b", "email", s)


# Words that make a header about the contact person ("Телефон контакта").
_CONTACT_MARKERS = frozenset({"контакт", "контакта", "контакту", "контактом", "контакте",
                              "контактное", "контактного", "контактному", "контактным",
                              "contact", "contacts"})
_PERSON_WORDS = frozenset({"лицо", "лица", "лицу", "лицом", "person"})
_CONTACT_EXTRA: dict[str, tuple[str, ...]] = {
    "name": ("имя", "фио", "name", "представитель"),
    "email": ("email", "почта", "e mail"),
    "phone": ("телефон", "тел", "phone"),
}


def _tok_match(a: str, b: str) -> bool:
    """Tokens equal, or the same word in another case ending (телефон / телефона)."""
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 4:
        return False
    k = short - 1
    return a[:k] == b[:k] and abs(len(a) - len(b)) <= 3


def _score(header: list[str], phrase: list[str], exact: int) -> int:
    """How well ``header`` tokens match ``phrase`` tokens (0 = not at all)."""
    if not phrase or not header:
        return 0
    if header == phrase:
        return exact
    if len(header) == len(phrase) and all(_tok_match(a, b) for a, b in zip(header, phrase,
                                                                            strict=True)):
        return exact - 15
    n = len(phrase)
    if n < len(header) and len("".join(phrase)) >= 3:
        for i in range(len(header) - n + 1):
            if all(_tok_match(header[i + j], phrase[j]) for j in range(n)):
                return min(40 + 5 * n, 60)
    return 0


def _phrases(spec: FieldSpec, extra: tuple[str, ...] = ()) -> list[tuple[list[str], bool]]:
    """(tokens, is_label) for a field's name, labels and synonyms."""
    out: list[tuple[list[str], bool]] = []
    for text, is_label in ((spec.ru, True), (spec.en, True), (spec.name, True),
                           *((s, False) for s in (*spec.synonyms, *extra))):
        tokens = norm_header(text).split()
        if tokens and (tokens, is_label) not in out:
            out.append((tokens, is_label))
    return out


def _candidates(header: str) -> list[tuple[int, str]]:
    """(score, target) pairs for one header."""
    tokens = norm_header(header).split()
    found: list[tuple[int, str]] = []
    for spec in CLIENT_FIELDS:
        best = max((_score(tokens, p, 100 if is_label else 90)
                    for p, is_label in _phrases(spec)), default=0)
        if best:
            found.append((best, spec.name))
    marked = any(t in _CONTACT_MARKERS for t in tokens)
    rest = [t for t in tokens if t not in _CONTACT_MARKERS and not (marked and t in _PERSON_WORDS)]
    for spec in CONTACT_FIELDS:
        target = CONTACT_PREFIX + spec.name
        phrases = _phrases(spec, _CONTACT_EXTRA.get(spec.name, ()))
        if marked:
            if not rest:
                best = 95 if spec.name == "name" else 0
            else:
                best = max((_score(rest, p, 95 if is_label else 88) for p, is_label in phrases),
                           default=0)
        else:
            # Without "контакт" in the header only an exact label or synonym counts,
            # and below any client field's match.
            best = max((60 if is_label else 55 for p, is_label in phrases if p == tokens),
                       default=0)
        if best:
            found.append((best, target))
    return found


_FALLBACK_MARGIN = 30


def guess_mapping(headers: list[str], custom: Sequence[Any] = ()) -> dict[str, str | None]:
    """Propose a target field for each header (None when nothing fits).

    Targets are client field names and ``contact.<field>``. Matching uses the
    fields' Russian and English labels and synonyms, case-insensitively with
    ``ё`` = ``е`` and punctuation ignored. Each target is used at most once: the
    best-scoring (header, target) pair wins, earlier columns winning ties. Contact
    columns guessed without the word "контакт" are kept only when a contact name
    column was found too (otherwise every such row would miss a contact name). A
    header never falls back to a candidate far weaker than its best one.
    """
    scored: list[tuple[int, int, str, bool]] = []
    for i, h in enumerate(headers):
        marked = any(t in _CONTACT_MARKERS for t in norm_header(h).split())
        found = _candidates(h)
        best = max((score for score, _t in found), default=0)
        # A header whose good match is taken does not fall back to a far weaker one
        # ("ИНН клиента" must not become the name because it contains "клиент").
        scored += [(score, i, target, marked) for score, target in found
                   if score >= best - _FALLBACK_MARGIN]
    scored.sort(key=lambda s: (-s[0], s[1]))
    mapping: dict[str, str | None] = {h: None for h in headers}
    by_index: dict[int, tuple[str, bool]] = {}
    used: set[str] = set()
    for _s, i, target, marked in scored:
        if i in by_index or target in used:
            continue
        by_index[i] = (target, marked)
        used.add(target)
    has_contact_name = (CONTACT_PREFIX + "name") in used
    for i, (target, marked) in by_index.items():
        if target.startswith(CONTACT_PREFIX) and not marked and not has_contact_name:
            continue
        if mapping.get(headers[i]) is None:
            mapping[headers[i]] = target
    # custom fields: a still unmapped header equal to a field's label or key
    names: dict[str, str] = {norm_header(n): CUSTOM_PREFIX + d.key for d in custom
                             for n in (d.label_ru, d.label_en, d.key) if n}
    for h in headers:
        custom_target = names.get(norm_header(h))
        if mapping[h] is None and custom_target and custom_target not in mapping.values():
            mapping[h] = custom_target
    return mapping


# ---------------------------------------------------------------------------
# Import


@dataclass
class RowError:
    """One bad field of one row. ``row`` is the spreadsheet row number."""

    row: int
    field: str
    message: str


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        """How many rows had at least one error (and were not imported)."""
        return len({e.row for e in self.errors})

    def as_json(self) -> dict[str, Any]:
        """The documented, stable JSON shape of a report."""
        return {"created": self.created, "updated": self.updated, "skipped": self.skipped,
                "errors": [{"row": e.row, "field": e.field, "message": e.message}
                           for e in self.errors]}

    def summary(self) -> str:
        """One Russian line for the page and the CLI."""
        return (f"Создано: {self.created}, обновлено: {self.updated}, "
                f"пропущено: {self.skipped}, строк с ошибками: {self.error_rows}")


class _DryRun(Exception):
    """Raised inside the write transaction of a dry run to roll it back."""


_KIND_WORDS: dict[str, str] = {
    **{norm_header(ru): k for k, (ru, _en) in CLIENT_KINDS.items()},
    **{norm_header(en): k for k, (_ru, en) in CLIENT_KINDS.items()},
    **{k: k for k in CLIENT_KINDS},
    "юридическое лицо": "legal", "юр лицо": "legal", "юл": "legal", "организация": "legal",
    "ооо": "legal", "ао": "legal", "legal entity": "legal",
    "индивидуальный предприниматель": "ip", "ип": "ip", "entrepreneur": "ip",
    "физическое лицо": "person", "физ лицо": "person", "фл": "person", "individual": "person",
}


def _kind(text: str) -> str:
    return _KIND_WORDS.get(norm_header(text), text)


def _validate_mapping(table: Table, mapping: Mapping[str, str | None],
                      custom: Sequence[Any] = ()) -> list[tuple[int, str]]:
    known = targets(custom)
    columns: list[tuple[int, str]] = []
    first_header: dict[str, str] = {}
    for i, header in enumerate(table.headers):
        given = mapping.get(header)
        if not given:
            continue
        target = resolve_target(str(given), custom)
        if target is None:
            raise UserError(f"Неизвестное поле «{given}» для столбца «{header}»")
        if target in first_header:
            raise UserError(f"Столбцы «{first_header[target]}» и «{header}» сопоставлены "
                            f"одному полю «{known[target]}»: оставьте один")
        first_header[target] = header
        columns.append((i, target))
    if not columns:
        raise UserError("Ни один столбец не сопоставлен полям клиента: укажите хотя бы "
                        "«Наименование»")
    return columns


def _find_existing(conn: sqlite3.Connection, inn: str, email: str,
                   phone: str) -> tuple[str, sqlite3.Row] | None:
    """The live client matching the INN or, without INN, the e-mail, then the phone.

    Queries repeat ``<> ''`` so SQLite can use the partial indexes."""
    live = "deleted_at IS NULL ORDER BY id LIMIT 1"
    if inn:
        row = conn.execute(f"SELECT * FROM clients WHERE inn = ? AND inn <> '' AND {live}",
                           (inn,)).fetchone()
        return ("inn", row) if row else None
    if email:
        row = conn.execute("SELECT * FROM clients WHERE email = ? COLLATE NOCASE"
                           f" AND email <> '' AND {live}", (email,)).fetchone()
        if row:
            return "email", row
    if phone:
        row = conn.execute(f"SELECT * FROM clients WHERE phone = ? AND phone <> '' AND {live}",
                           (phone,)).fetchone()
        if row:
            return "phone", row
    return None


def _key(raw: Mapping[str, str], name: str, check: Callable[[str], str],
         errors: dict[str, str]) -> str:
    value = raw.get(name, "")
    if not value:
        return ""
    try:
        return check(value)
    except ValueError as exc:
        errors.setdefault(name, f"{_label(name)}: {exc}")
        return ""


_DUP_REASON = {"inn": "ИНН", "email": "e-mail", "phone": "телефон"}


class _Importer:
    """State of one import run (kept out of the public API)."""

    def __init__(self, store: Store, actor: Actor, conn: sqlite3.Connection,
                 on_duplicate: str, report: ImportReport):
        self.store = store
        self.actor = actor
        self.conn = conn
        self.on_duplicate = on_duplicate
        self.report = report
        self.scope_sql, self.scope_args = client_scope(actor, "c")

    def fail(self, row: int, errors: Mapping[str, str]) -> None:
        for name, message in errors.items():
            self.report.errors.append(RowError(row, name, message))

    def visible(self, client_id: int) -> bool:
        return self.conn.execute(
            f"SELECT 1 FROM clients c WHERE c.id = ? AND {self.scope_sql}",
            [client_id, *self.scope_args]).fetchone() is not None

    def row(self, number: int, cells: list[tuple[str, object]]) -> None:
        client_raw: dict[str, Any] = {}
        contact_raw: dict[str, str] = {}
        extra_raw: dict[str, str] = {}
        cell_errors: dict[str, str] = {}
        for target, value in cells:
            text, error = convert_cell(value, target)
            if error:
                cell_errors[target] = error
            elif text:
                if target.startswith(CONTACT_PREFIX):
                    contact_raw[target[len(CONTACT_PREFIX):]] = text
                elif target.startswith(CUSTOM_PREFIX):
                    extra_raw[target[len(CUSTOM_PREFIX):]] = text
                else:
                    client_raw[target] = text
        if extra_raw:  # checked by type when the client is saved (custom_fields)
            client_raw["extra"] = extra_raw
        if not client_raw and not cell_errors and not any(
                contact_raw.get(k) for k in contacts.TEXT):
            self.report.skipped += 1  # nothing to import in the mapped columns
            return
        if "kind" in client_raw:
            client_raw["kind"] = _kind(client_raw["kind"])
        has_contact = any(contact_raw.get(k) for k in contacts.TEXT)

        # Validate as a new client first: its normalised INN, e-mail and phone are
        # the duplicate keys. Only a refused row needs the keys checked one by one.
        errors: dict[str, str] = {}
        key_errors: dict[str, str] = {}
        try:
            values = clients.normalise(client_raw)
            inn, email, phone = values["inn"], values["email"], values["phone"]
        except ValidationError as exc:
            errors = dict(exc.errors)
            inn = _key(client_raw, "inn", check_inn, key_errors)
            email = _key(client_raw, "email", check_email, key_errors)
            phone = _key(client_raw, "phone", check_phone, key_errors)
        found = None
        if "inn" not in key_errors:
            found = _find_existing(self.conn, inn, "" if inn else email, "" if inn else phone)

        if found and self.on_duplicate == "skip":
            self.report.skipped += 1
            return
        existing = found[1] if found and self.on_duplicate == "update" else None

        if existing is not None:
            assert found is not None
            if not self.visible(existing["id"]):
                reason = _DUP_REASON[found[0]]
                self.fail(number, {found[0]: f"клиент с таким значением поля «{reason}» уже "
                                             "есть, но он закреплён за другим сотрудником"})
                return
            base = clients.row_to_dict(existing)
            if extra_raw:
                client_raw["extra"] = {**base["extra"], **extra_raw}
            if "tags" in client_raw:
                new_tags = clients.parse_tags(client_raw["tags"])
                client_raw["tags"] = ", ".join(
                    base["tags"] + [t for t in new_tags if t not in base["tags"]])
            # An update is checked against the stored card (the name may be omitted).
            errors = {}
            try:
                clients.normalise(client_raw, base)
            except ValidationError as exc:
                errors = dict(exc.errors)
        for name, message in key_errors.items():
            errors.setdefault(name, message)
        contact_values: dict[str, Any] | None = None
        if has_contact:
            try:
                contact_values = contacts.normalise(contact_raw)
            except ValidationError as exc:
                errors.update({CONTACT_PREFIX + k: v for k, v in exc.errors.items()})
        errors.update(cell_errors)
        if errors:
            self.fail(number, dict(sorted(errors.items(), key=lambda kv: _field_order(kv[0]))))
            return

        conn = self.conn
        prefix = ""
        conn.execute("SAVEPOINT import_row")
        try:
            if existing is not None:
                saved = clients.update(self.store, self.actor, existing["id"], client_raw,
                                       existing["version"], conn=conn)
            else:
                saved = clients.create(self.store, self.actor, values, allow_duplicate=True,
                                       conn=conn, normalised=True)
            if has_contact and not (existing is not None and self._has_contact(
                    saved["id"], contact_raw.get("name", ""))):
                prefix = CONTACT_PREFIX
                contacts.create(self.store, self.actor, saved["id"], contact_values or contact_raw,
                                conn=conn, normalised=contact_values is not None)
        except ValidationError as exc:
            conn.execute("ROLLBACK TO import_row")
            conn.execute("RELEASE import_row")
            self.fail(number, {prefix + k: v for k, v in exc.errors.items()})
            return
        except UserError as exc:
            conn.execute("ROLLBACK TO import_row")
            conn.execute("RELEASE import_row")
            self.fail(number, {found[0] if found else "": str(exc)})
            return
        conn.execute("RELEASE import_row")
        if existing is not None:
            self.report.updated += 1
        else:
            self.report.created += 1

    def _has_contact(self, client_id: int, name: str) -> bool:
        """Whether the client already has a live contact of that name (re-import)."""
        return self.conn.execute(
            "SELECT 1 FROM contacts WHERE client_id = ? AND name = ? COLLATE NOCASE"
            " AND deleted_at IS NULL LIMIT 1", (client_id, name.strip())).fetchone() is not None


_ORDER = {t: i for i, t in enumerate(targets())}


def _field_order(name: str) -> int:
    return _ORDER.get(name, len(_ORDER))


def run_import(store: Store, actor: Actor, table: Table, mapping: Mapping[str, str | None], *,
               dry_run: bool = False, on_duplicate: str = "update",
               progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Import ``table`` using ``mapping`` (header -> target or None); see the module
    docstring for duplicates, formulas, atomicity and dry runs.

    Bad rows become :class:`RowError` entries and do not stop the good ones; a row
    with nothing in its mapped columns counts as skipped. Any unexpected exception
    (including one raised by ``progress``) propagates and leaves the database
    untouched.
    """
    require(actor, "client.import")
    if on_duplicate not in DUPLICATE_MODES:
        raise UserError(f"Неизвестный режим для дубликатов: {on_duplicate}")
    columns = _validate_mapping(table, mapping, custom_fields.list_fields(store, "client"))
    total = len(table.rows)
    report = ImportReport()
    try:
        with store.write() as conn:
            importer = _Importer(store, actor, conn, on_duplicate, report)
            for index, row in enumerate(table.rows):
                cells = [(target, row[i] if i < len(row) else None) for i, target in columns]
                importer.row(table.row_number(index), cells)
                if progress is not None and (index + 1) % PROGRESS_EVERY == 0:
                    progress(index + 1, total)
            audit.record(conn, actor, "import", "client", summary=report.summary(),
                         changes={"created": report.created, "updated": report.updated,
                                  "skipped": report.skipped, "error_rows": report.error_rows,
                                  "rows": total, "on_duplicate": on_duplicate})
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    if progress is not None:
        progress(total, total)
    return report
