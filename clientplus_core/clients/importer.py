"""Import clients (and one contact per row) from an .xlsx or .csv file.

Three steps, each usable on its own by the CLI and the import page:

1. :func:`clientplus_core.clients.sheets.read_table` turns the uploaded bytes
   into a :class:`~clientplus_core.clients.sheets.Table` (headers and data rows,
   with the spreadsheet row number of every row).
2. :func:`clientplus_core.clients.import_mapping.guess_mapping` proposes which
   column goes to which field, from the labels and synonyms in
   :mod:`clientplus_core.clients.fields`; the page lets the user correct it.
3. :func:`run_import` validates every row, finds duplicates and writes all good
   rows in ONE transaction, returning an :class:`ImportReport`.

Decisions worth knowing:

- **Formulas are never evaluated.** A formula cell in an .xlsx imports the value
  the file saved with it (what Excel showed when it was saved). A formula without
  a saved value (a file written by a program, not by Excel) keeps the formula's
  text as plain text in a free-text field such as «Примечания» and is listed in
  :attr:`ImportReport.warnings` — the row is imported, nothing is lost; in a field
  that needs a real value (name, type, INN and other numbers, e-mail — see
  :data:`clientplus_core.clients.sheets.FORMULA_TEXT_REFUSED`) it is a row error.
  In a CSV there are no formulas: a text starting with ``=`` is ordinary text and
  is stored as typed (exports neutralise it, see
  :mod:`clientplus_core.clients.export`).
- **The client's type** comes from a mapped «Тип» column; without one (or with
  the cell empty) it is inferred (:func:`clientplus_core.clients.cards.infer_kind`):
  a 12-digit INN is an ИП when the name starts with «ИП» / «Индивидуальный
  предприниматель» or an OGRNIP is given, else a person; a 10-digit INN a company.
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

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from clientplus_core.base.errors import DiskFullError, UserError, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.clients.duplicates import foreign_duplicate_message
from clientplus_core.clients.fields import CLIENT_KINDS
from clientplus_core.clients.import_mapping import (
    CONTACT_PREFIX,
    CUSTOM_PREFIX,
    label,
    norm_header,
    resolve_target,
    targets,
)
from clientplus_core.clients.sheets import Table, convert_cell, formula_warning
from clientplus_core.records import custom_fields
from clientplus_core.records.validation import check_email, check_inn, check_phone
from clientplus_core.store.db import Store
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

__all__ = [
    "DUPLICATE_MODES",
    "ImportReport",
    "RowError",
    "run_import",
]

DUPLICATE_MODES = ("update", "skip", "create")
PROGRESS_EVERY = 200


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
    """What an import did (or, in a dry run, would do). ``warnings`` name cells
    imported other than as a value (a formula's text): their rows are imported."""

    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    @property
    def error_rows(self) -> int:
        """How many rows had at least one error (and were not imported)."""
        return len({e.row for e in self.errors})

    def as_json(self) -> dict[str, Any]:
        """The documented, stable JSON shape of a report; ``warnings`` (same shape as
        ``errors``) only when there are any."""
        out: dict[str, Any] = {
            "created": self.created, "updated": self.updated, "skipped": self.skipped,
            "errors": [{"row": e.row, "field": e.field, "message": e.message}
                       for e in self.errors]}
        if self.warnings:
            out["warnings"] = [{"row": e.row, "field": e.field, "message": e.message}
                               for e in self.warnings]
        return out

    def summary(self) -> str:
        """One Russian line for the page and the CLI."""
        return (f"Создано: {self.created}, обновлено: {self.updated}, "
                f"пропущено: {self.skipped}, строк с ошибками: {self.error_rows}"
                + (f", предупреждений: {len(self.warnings)}" if self.warnings else ""))


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


def _find_existing(conn: sqlite3.Connection, inn: str, email: str, phone: str,
                   scope: tuple[str, list[object]] = ("1 = 1", [])
                   ) -> tuple[str, sqlite3.Row] | None:
    """The live client matching the INN or, without INN, the e-mail, then the phone;
    of several, one in ``scope`` (the importer's client scope, alias ``c``) first.

    Queries repeat ``<> ''`` so SQLite can use the partial indexes."""
    cond, args = scope
    live = f"c.deleted_at IS NULL ORDER BY ({cond}) DESC, c.id LIMIT 1"
    if inn:
        row = conn.execute(f"SELECT * FROM clients c WHERE c.inn = ? AND c.inn <> '' AND {live}",
                           (inn, *args)).fetchone()
        return ("inn", row) if row else None
    if email:
        row = conn.execute("SELECT * FROM clients c WHERE c.email = ? COLLATE NOCASE"
                           f" AND c.email <> '' AND {live}", (email, *args)).fetchone()
        if row:
            return "email", row
    if phone:
        row = conn.execute(f"SELECT * FROM clients c WHERE c.phone = ? AND c.phone <> '' AND"
                           f" {live}", (phone, *args)).fetchone()
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
        errors.setdefault(name, f"{label(name)}: {exc}")
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
            warning = formula_warning(value, target)
            if warning:
                self.report.warnings.append(RowError(number, target, warning))
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
            found = _find_existing(self.conn, inn, "" if inn else email, "" if inn else phone,
                                   (self.scope_sql, self.scope_args))

        if found and self.on_duplicate == "skip":
            self.report.skipped += 1
            return
        existing = found[1] if found and self.on_duplicate == "update" else None

        if existing is not None:
            assert found is not None
            if not self.visible(existing["id"]):
                # the match is outside the actor's scope: say so, never its name or number
                self.fail(number, {found[0]: foreign_duplicate_message(
                    self.conn, [_DUP_REASON[found[0]]])})
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
    except DiskFullError as exc:  # rolled back whole: say so plainly
        raise DiskFullError("импорт не выполнен, ни одна строка не записана") from exc
    if progress is not None:
        progress(total, total)
    return report
