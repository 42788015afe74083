"""The catalogue of goods and services, and the VAT rates reference (rates are data).

Public API (what the pages call)::

    vat_rates(store, on=None, tax_system=None) -> list[dict]        # for a select box
    default_vat_code(on: date, tax_system="osn") -> str               # "22" / "20" / "none"
    list_items(store, actor, query="", active_only=True, kind=None, limit=500) -> list[dict]
    get(store, actor, item_id) -> dict
    create(store, actor, data) -> dict                                # catalogue.write
    update(store, actor, item_id, data, version) -> dict              # ConflictError if stale
    delete(store, actor, item_id) -> str          # "deleted", or "deactivated" when in use
    import_table(store, actor, data: bytes, filename, dry_run=False) -> dict
    export_xlsx(store, actor) -> bytes

Prices are integer kopecks in the database (``price_kop``) and ``Decimal`` roubles
in the dicts returned here (``price``). Reading needs ``sale.read`` (everyone);
writing needs ``catalogue.write`` (admin and head).

Excel import is all-or-nothing: every row is validated first; if any row is
wrong a :class:`ValidationError` names each bad row and field and nothing is
saved. Rows are matched to existing items by SKU (артикул), or by name when the
row has no SKU; matched items are updated, others created. The export has the
same columns, so an exported file imports back unchanged.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean, fold, like_contains
from clientplus_core.clients import sheets
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.records.conflicts import conflict
from clientplus_core.sales import money
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

KINDS = {"goods": ("Товар", "Goods"), "service": ("Услуга", "Service")}
UNITS = ("шт", "час", "усл", "кг", "т", "м", "м²", "м³", "л", "упак", "компл", "мес")
STANDARD_CODES = ("20", "22")

# --- VAT rates -------------------------------------------------------------------------


def _rate_rows(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(
        "SELECT code, label, rate, usn_only, valid_from, valid_to, sort, is_active"
        " FROM vat_rates ORDER BY sort, code")]


def rate_map(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Every VAT rate by code (``rate`` is an int percent, or None for без НДС)."""
    return {r["code"]: r for r in _rate_rows(conn)}


def vat_rates(store: Store, on: date | str | None = None,
              tax_system: str | None = None) -> list[dict[str, Any]]:
    """Active VAT rates in display order; with ``on``, only those valid on that date;
    with ``tax_system="osn"``, without the УСН-only rates (5 %, 7 %)."""
    with store.read() as conn:
        rows = [r for r in _rate_rows(conn) if r["is_active"]]
    day = str(on)[:10] if on else None
    out = []
    for r in rows:
        if day and ((r["valid_from"] and day < r["valid_from"])
                    or (r["valid_to"] and day > r["valid_to"])):
            continue
        if tax_system and tax_system != "usn" and r["usn_only"]:
            continue
        out.append(r)
    return out


def default_vat_code(on: date | str, tax_system: str = "osn") -> str:
    """The code of the standard rate on ``on``: ``"22"`` from 2026-01-01, ``"20"``
    before, ``"none"`` for a seller on УСН."""
    day = on if isinstance(on, date) else date.fromisoformat(str(on)[:10])
    rate = money.default_vat_rate(day, tax_system)
    return "none" if rate is None else str(rate)


def _fmt_day(iso: str) -> str:
    return f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}"


def check_vat_code(rates: Mapping[str, Mapping[str, Any]], code: str, on: str | None = None,
                   tax_system: str = "osn") -> str:
    """``code`` if it may be used on a document dated ``on`` by a seller with
    ``tax_system``; otherwise ``ValueError`` saying why."""
    r = rates.get(code)
    if r is None or not r["is_active"]:
        raise ValueError(f"ставка НДС «{code}» не найдена")
    if r["usn_only"] and tax_system != "usn":
        raise ValueError(f"ставка {r['label']} — только для УСН (в реквизитах своей компании"
                         " указана ОСН)")
    if on:
        if r["valid_from"] and on < r["valid_from"]:
            raise ValueError(f"ставка {r['label']} действует с {_fmt_day(r['valid_from'])}")
        if r["valid_to"] and on > r["valid_to"]:
            raise ValueError(f"ставка {r['label']} действует до {_fmt_day(r['valid_to'])}"
                             " включительно")
    return code


def parse_vat(text: object, rates: Mapping[str, Mapping[str, Any]]) -> str:
    """``"22 %"``, ``"22"``, ``0.22``, ``"без НДС"``, ``"none"`` -> a rate code."""
    raw = fold(str(text if text is not None else "")).replace("%", "").replace("ндс", "")
    raw = raw.replace("(усн)", "").strip()
    if raw in ("", "без", "без налога", "none", "-", "—", "нет"):
        return "none"
    if raw in rates:
        return raw
    try:
        value = money.parse_decimal(raw)
    except ValueError:
        raise ValueError(f"ставка НДС «{text}» не найдена") from None
    if 0 < value < 1:
        value *= 100
    code = str(int(value)) if value == value.to_integral_value() else str(value)
    if code not in rates:
        raise ValueError(f"ставка НДС «{text}» не найдена")
    return code


# --- items -----------------------------------------------------------------------------

_FIELDS = ("name", "sku", "unit", "price", "vat_code", "kind", "is_active", "notes")
_LIMITS = {"name": 500, "sku": 60, "unit": 20, "notes": 2000}
LABELS = {"name": "Наименование", "sku": "Артикул", "unit": "Ед.", "price": "Цена",
          "vat_code": "НДС", "kind": "Вид", "is_active": "Активен", "notes": "Примечание"}


def _flag(v: object) -> int:
    if isinstance(v, str):
        return 0 if fold(v.strip()) in ("0", "нет", "no", "false", "н", "-", "") else 1
    return 1 if v else 0


def normalise(data: Mapping[str, Any], rates: Mapping[str, Mapping[str, Any]],
              base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Validate an item; ValidationError names each bad field."""
    merged: dict[str, Any] = dict(base or {})
    merged.update({k: v for k, v in data.items() if k in (*_FIELDS, "price_kop")})
    if "price" not in data and "price_kop" in merged and "price" not in merged:
        merged["price"] = money.from_kop(merged["price_kop"])
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for name, limit in _LIMITS.items():
        try:
            out[name] = clean(merged.get(name), limit)
        except ValueError as exc:
            errors[name] = f"{LABELS[name]}: {exc}"
            out[name] = ""
    if not out["name"] and "name" not in errors:
        errors["name"] = "Наименование: обязательное поле"
    out["unit"] = out["unit"] or "шт"
    try:
        price = money.parse_decimal(merged.get("price", 0) if merged.get("price") not in
                                    (None, "") else 0, places=2, what="Цена")
        if price < 0:
            raise ValueError("Цена: не может быть отрицательной")
        if price > money.MAX_PRICE:
            raise ValueError("Цена: слишком большая (больше 1 000 000 000 руб.)")
        out["price_kop"] = money.to_kop(price)
    except ValueError as exc:
        errors["price"] = str(exc)
        out["price_kop"] = 0
    kind = fold(clean(merged.get("kind") or "goods"))
    kind = {"товар": "goods", "товары": "goods", "услуга": "service", "услуги": "service",
            "работа": "service"}.get(kind, kind)
    if kind not in KINDS:
        errors["kind"] = "Вид: товар или услуга"
    out["kind"] = kind
    code = merged.get("vat_code")
    try:
        code = parse_vat(code, rates) if code not in (None, "") else "22"
        r = rates[code]
        if not r["is_active"]:
            raise ValueError(f"ставка НДС «{code}» не найдена")
        out["vat_code"] = code
    except ValueError as exc:
        errors["vat_code"] = f"НДС: {exc}"
    out["is_active"] = _flag(merged.get("is_active", 1))
    if errors:
        raise ValidationError(errors)
    return out


def _to_dict(row: sqlite3.Row | Mapping[str, Any]) -> dict[str, Any]:
    d = dict(row)
    d["price"] = money.from_kop(d["price_kop"])
    return d


def list_items(store: Store, actor: Actor, query: str = "", active_only: bool = True,
               kind: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Items by name; ``query`` matches name or SKU (case-insensitive substring)."""
    require(actor, "sale.read")
    where, args = ["1 = 1"], []
    if active_only:
        where.append("is_active = 1")
    if kind:
        where.append("kind = ?")
        args.append(kind)
    if query.strip():
        where.append("(name LIKE ? ESCAPE '\\' OR sku LIKE ? ESCAPE '\\')")
        args += [like_contains(query.strip())] * 2
    with store.read() as conn:
        rows = conn.execute(f"SELECT * FROM catalogue WHERE {' AND '.join(where)}"
                            " ORDER BY name COLLATE NOCASE, id LIMIT ?", [*args, limit])
        return [_to_dict(r) for r in rows]


def _get(conn: sqlite3.Connection, item_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM catalogue WHERE id = ?", (item_id,)).fetchone()
    if row is None:
        raise NotFound(f"Позиция каталога №{item_id} не найдена")
    return row


def get(store: Store, actor: Actor, item_id: int) -> dict[str, Any]:
    require(actor, "sale.read")
    with store.read() as conn:
        return _to_dict(_get(conn, item_id))


def _check_sku(conn: sqlite3.Connection, sku: str, exclude: int | None = None) -> None:
    if not sku:
        return
    other = conn.execute("SELECT id, name FROM catalogue WHERE sku = ? COLLATE NOCASE"
                         " AND id IS NOT ?", (sku, exclude)).fetchone()
    if other:
        raise ValidationError({"sku": f"Артикул «{sku}» уже есть у позиции «{other['name']}»"})


def _insert(conn: sqlite3.Connection, actor: Actor, values: Mapping[str, Any]) -> int:
    ts = now_iso()
    row = dict(values) | {"created_by": actor.id, "updated_by": actor.id, "created_at": ts,
                          "updated_at": ts}
    cur = conn.execute(f"INSERT INTO catalogue ({', '.join(row)}) VALUES"
                       f" ({', '.join('?' * len(row))})", list(row.values()))
    return int(cur.lastrowid or 0)


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Add an item (admin, head)."""
    require(actor, "catalogue.write")
    with store.write() as conn:
        values = normalise(data, rate_map(conn))
        _check_sku(conn, values["sku"])
        item_id = _insert(conn, actor, values)
        audit.record(conn, actor, "create", "catalogue", item_id, None, values["name"])
        return _to_dict(_get(conn, item_id))


def update(store: Store, actor: Actor, item_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Save changes made to ``version``; ConflictError if someone saved first."""
    require(actor, "catalogue.write")
    with store.write() as conn:
        row = _get(conn, item_id)
        if row["version"] != version:
            raise conflict(conn, row, None, "catalogue")
        before = dict(row)
        values = normalise(data, rate_map(conn), before)
        _check_sku(conn, values["sku"], item_id)
        changes = audit.diff(before, values)
        if not changes:
            return _to_dict(row)
        sets = values | {"updated_at": now_iso(), "updated_by": actor.id, "version": version + 1}
        conn.execute(f"UPDATE catalogue SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                     [*sets.values(), item_id])
        audit.record(conn, actor, "update", "catalogue", item_id, None, values["name"], changes)
        return _to_dict(_get(conn, item_id))


def delete(store: Store, actor: Actor, item_id: int) -> str:
    """Delete an unused item; an item some sale line refers to is deactivated instead
    (so old sales keep their link). Returns ``"deleted"`` or ``"deactivated"``."""
    require(actor, "catalogue.write")
    with store.write() as conn:
        row = _get(conn, item_id)
        used = conn.execute("SELECT 1 FROM sale_lines WHERE catalogue_id = ? LIMIT 1",
                            (item_id,)).fetchone()
        if used:
            conn.execute("UPDATE catalogue SET is_active = 0, updated_at = ?, updated_by = ?,"
                         " version = version + 1 WHERE id = ?", (now_iso(), actor.id, item_id))
            audit.record(conn, actor, "deactivate", "catalogue", item_id, None, row["name"])
            return "deactivated"
        conn.execute("DELETE FROM catalogue WHERE id = ?", (item_id,))
        audit.record(conn, actor, "delete", "catalogue", item_id, None, row["name"],
                     {k: row[k] for k in row.keys()})
        return "deleted"


# --- Excel -----------------------------------------------------------------------------

_HEADERS = {
    "name": ("наименование", "название", "товар", "услуга", "name", "товар/услуга",
             "номенклатура"),
    "sku": ("артикул", "sku", "код", "code", "арт."),
    "unit": ("ед.", "ед", "единица", "ед. изм.", "ед.изм.", "единица измерения", "unit"),
    "price": ("цена", "цена, руб.", "цена, руб", "price", "стоимость"),
    "vat_code": ("ндс", "ставка ндс", "vat", "ндс, %"),
    "kind": ("вид", "тип", "kind", "type"),
    "is_active": ("активен", "активна", "active", "в продаже"),
    "notes": ("примечание", "примечания", "комментарий", "notes"),
}


def _map_headers(headers: list[str]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i, h in enumerate(headers):
        key = " ".join(fold(str(h or "")).split())
        for target, names in _HEADERS.items():
            if key in names and target not in out.values():
                out[i] = target
                break
    return out


def import_table(store: Store, actor: Actor, data: bytes, filename: str,
                 dry_run: bool = False) -> dict[str, int]:
    """Import items from .xlsx/.csv (columns as in :func:`export_xlsx`). All rows are
    checked first; any error -> ValidationError naming ``row N: field`` and nothing
    is saved. Returns ``{"created": n, "updated": n, "rows": n}``."""
    require(actor, "catalogue.write")
    table = sheets.read_table(data, filename)
    mapping = _map_headers(table.headers)
    if "name" not in mapping.values():
        raise ValidationError({"file": "нет столбца «Наименование»"})
    counts = {"created": 0, "updated": 0, "rows": 0}
    try:
        with store.write() as conn:
            _import_rows(conn, actor, table, mapping, counts)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return counts


class _DryRun(Exception):
    """Raised inside the transaction of a dry run so that it rolls back."""


def _import_rows(conn: sqlite3.Connection, actor: Actor, table: sheets.Table,
                 mapping: dict[int, str], counts: dict[str, int]) -> None:
    rates = rate_map(conn)
    errors: dict[str, str] = {}
    parsed: list[tuple[int, dict[str, Any]]] = []
    for idx, raw in enumerate(table.rows):
        rowno = table.row_number(idx)
        values = {target: sheets.convert_cell(raw[i] if i < len(raw) else None, "notes")[0]
                  for i, target in mapping.items()}
        try:
            parsed.append((rowno, normalise(values, rates)))
        except ValidationError as exc:
            for field, msg in exc.errors.items():
                errors[f"row {rowno}: {field}"] = f"строка {rowno}: {msg}"
    if errors:
        raise ValidationError(errors)
    for _rowno, values in parsed:
        if values["sku"]:
            existing = conn.execute("SELECT * FROM catalogue WHERE sku = ? COLLATE NOCASE",
                                    (values["sku"],)).fetchone()
        else:
            existing = conn.execute("SELECT * FROM catalogue WHERE name = ? COLLATE NOCASE"
                                    " AND sku = '' ORDER BY id LIMIT 1",
                                    (values["name"],)).fetchone()
        if existing is None:
            _insert(conn, actor, values)
            counts["created"] += 1
            continue
        if audit.diff(dict(existing), values):
            sets = values | {"updated_at": now_iso(), "updated_by": actor.id,
                             "version": existing["version"] + 1}
            conn.execute(f"UPDATE catalogue SET {', '.join(f'{k} = ?' for k in sets)}"
                         " WHERE id = ?", [*sets.values(), existing["id"]])
            counts["updated"] += 1
    counts["rows"] = len(parsed)
    audit.record(conn, actor, "import", "catalogue", None, None,
                 f"Импорт каталога: создано {counts['created']}, обновлено {counts['updated']}",
                 counts)


def export_xlsx(store: Store, actor: Actor) -> bytes:
    """The whole catalogue (active and inactive) as .xlsx, importable back."""
    require(actor, "sale.read")
    with store.read() as conn:
        rates = rate_map(conn)
        rows = conn.execute("SELECT * FROM catalogue ORDER BY name COLLATE NOCASE, id").fetchall()
    headers = [LABELS[f] for f in _FIELDS]
    return rows_to_xlsx(headers, [
        [r["name"], r["sku"], r["unit"], money.from_kop(r["price_kop"]),
         rates[r["vat_code"]]["label"] if r["vat_code"] in rates else r["vat_code"],
         KINDS[r["kind"]][0], "да" if r["is_active"] else "нет", r["notes"]]
        for r in rows], sheet="Каталог")


def price_of(item: Mapping[str, Any]) -> Decimal:
    return money.from_kop(item["price_kop"])
