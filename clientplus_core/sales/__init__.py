"""Sales (deals / requests): the card, its specification and totals, statuses and the
log of every change, the payment schedule and actual payments, contact history,
files and links.

Public API (what the pages and the CLI call)::

    SaleFilter(query, statuses, owner_id, client_id, date_from, date_to,
               amount_min, amount_max, payment, closed, sort, descending)
    list_sales(store, actor, f=None, page=1, page_size=50) -> SalesPage
        # .rows, .total, .page, .page_size, .pages, .sums = {"total", "paid", "debt"}
    iter_sales(store, actor, f=None) -> Iterator[dict]            # every matching row
    export_sales(store, actor, f, out, fmt="xlsx") -> int; export_sales_bytes(...) -> bytes
    board(store, actor, f=None, per_status=20) -> list[dict]      # one column per status
    get(store, actor, sale_id) -> dict           # the sale as the edit form needs it (+version)
    get_card(store, actor, sale_id) -> dict      # everything the card shows, see below
    find_id(store, actor, number) -> int
    create(store, actor, data) -> dict
    update(store, actor, sale_id, data, version, base=None) -> dict
    set_status(store, actor, sale_id, status, reason="", note="") -> dict
    add_planned_payment(store, actor, sale_id, amount, date, note="") -> dict
    add_payment(store, actor, sale_id, amount, date=None, document="", note="",
                apply_suggestion=None) -> dict
    delete_payment(store, actor, payment_id) -> None
    add_contact_event(store, actor, data) -> dict     # data: sale_id or client_id, ...
    contact_history(store, actor, client_id=None, sale_id=None) -> list[dict]
    delete_contact_event(store, actor, event_id) -> None
    attach_file(store, actor, sale_id, name, data) -> dict
    list_files / add_link / list_links(store, actor, sale_id, ...)
    delete(store, actor, sale_id) / restore(...) / list_deleted(store, actor)
    new_sale_defaults(store, actor, client_id=None) -> dict   # date, VAT code, owner for a form
    preview_lines(store, lines, sale_date, vat_mode, discount) -> (lines, money.Totals)

``data`` for :func:`create` / :func:`update`: ``client_id`` (required), ``contact_id``,
``owner_id``, ``date``, ``title``, ``source``, ``expected_close``, ``vat_mode``
(``"included"`` | ``"on_top"``), ``discount`` (sale-level %), ``notes``, ``extra``
(dict: custom fields arrive later and are stored here), ``number`` (optional: else
allocated), ``prefix`` (optional, else the ``sale_number_prefix`` setting) and
``lines``: a list of dicts ``{catalogue_id?, name, sku?, unit, qty, price, discount,
vat_code}`` (numbers as Decimal, int, float or text like ``"1 500,50"``). A line
picked from the catalogue takes the item's name, unit, price and VAT unless given;
a line without ``vat_code`` gets the standard rate of the sale's date (22 % from
2026-01-01, 20 % before; "none" for a seller on УСН). Passing ``lines`` replaces
the whole specification.

Decisions:

- **Scope**: a sale is visible to whoever may see its client
  (:func:`access.client_scope`: head, admin and viewer see everything; a manager
  sees the clients they own or that are shared with them). One rule for the card,
  the register, search (which already scopes by client) and the export. A sale's
  owner must be able to see its client (checked on save), and when a client is
  handed over its open sales follow (``clients.OWNER_CASCADE``).
- **Optimistic locking**: ``version`` covers the card fields and the specification.
  Status changes and payments have their own operations and logs and do not bump
  it, so moving a sale on the board does not invalidate a colleague's open form.
- **Storage**: money in kopecks, quantities in thousandths (``qty_milli``),
  discounts in hundredths of a percent (``discount_bp``); totals (``subtotal_kop``,
  ``vat_kop``, ``total_kop``), ``paid_kop``, ``planned_kop`` and ``overdue_from`` (the
  due date of the first planned payment not covered by payments) are stored on the
  sale and recomputed on every change, so the register filters and sums them from
  covering indexes.
- **Numbering**: ``{prefix}{year}-{seq:04d}`` with ``seq`` per year of the sale's date,
  allocated inside the write transaction; numbers are unique (a manual number that
  is taken is refused).
- **Soft delete**: a deleted sale leaves lists and search; head and admin restore it.

Every write records an audit row (entity ``"sale"``, with the client's id so the
client's history shows it) and keeps the search index in step (entity ``"sale"``:
number, title, client, specification lines).
"""

from __future__ import annotations

import gc
import io
import json
import mimetypes
import sqlite3
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, BinaryIO

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import files
from clientplus_core.records import custom_fields, settings
from clientplus_core.records.conflicts import conflict
from clientplus_core.records.custom_fields import extra_conditions
from clientplus_core.records.paging import Page
from clientplus_core.records.validation import check_url
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales import catalogue, money, statuses
from clientplus_core.search import index as search
from clientplus_core.search.textextract import extract_text
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

CHANNELS = {"call": ("Звонок", "Call"), "meeting": ("Встреча", "Meeting"),
            "email": ("E-mail", "E-mail"), "messenger": ("Мессенджер", "Messenger"),
            "other": ("Другое", "Other")}
VAT_MODE_LABELS = {"included": ("НДС в сумме", "VAT included"),
                   "on_top": ("НДС сверху", "VAT on top")}
PAYMENT_STATES = ("paid", "unpaid", "overdue")
MIN_DATE = "2000-01-01"
LABELS = {"client_id": "Клиент", "contact_id": "Контактное лицо", "owner_id": "Ответственный",
          "date": "Дата", "title": "Название", "source": "Источник",
          "expected_close": "Ожидаемая дата закрытия", "vat_mode": "НДС", "discount": "Скидка",
          "notes": "Примечания", "number": "Номер", "prefix": "Префикс номера",
          "lines": "Спецификация"}
LINE_LABELS = {"name": "Наименование", "qty": "Количество", "price": "Цена",
               "discount": "Скидка", "vat_code": "НДС", "unit": "Ед.", "sku": "Артикул",
               "catalogue_id": "Позиция каталога", "amount": "Сумма"}
RowLike = sqlite3.Row | Mapping[str, Any]
_SALE_COLUMNS = ("number", "date", "client_id", "contact_id", "owner_id", "title", "source",
                 "expected_close", "vat_mode", "discount_bp", "notes", "extra")


def today() -> date:
    """The business date (local); a function so tests can move "today"."""
    return date.today()


# --- small parsers --------------------------------------------------------------------


def parse_date(value: object, label: str, required: bool = False) -> str | None:
    """A date as ISO ``YYYY-MM-DD`` from a date, ISO text or ``DD.MM.YYYY``."""
    if value in (None, ""):
        if required:
            raise ValueError(f"{label}: обязательное поле")
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()[:10]
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"):
        try:
            day = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if day.isoformat() < MIN_DATE or day > today() + timedelta(days=3660):
            raise ValueError(f"{label}: дата {day:%d.%m.%Y} вне разумных пределов")
        return day.isoformat()
    raise ValueError(f"{label}: дата вида 31.12.2026 или 2026-12-31")


def _parse_at(value: object) -> str:
    """A timestamp for the contact history (ISO, seconds, UTC offset kept)."""
    if value in (None, ""):
        return now_iso()
    if isinstance(value, datetime):
        at = value if value.tzinfo else value.replace(tzinfo=UTC)
        return at.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC).isoformat()
    text = str(value).strip()
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d.%m.%Y %H:%M",
                "%Y-%m-%d", "%d.%m.%Y"):
        try:
            at = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return (at if at.tzinfo else at.replace(tzinfo=UTC)).isoformat()
    raise ValueError("Дата и время: вида 31.12.2026 14:30")


def _percent_bp(value: object, label: str) -> int:
    if value in (None, ""):
        return 0
    d = money.parse_decimal(value, places=2, what=label)
    if d < 0:
        raise ValueError(f"{label}: не может быть отрицательной")
    if d > 100:
        raise ValueError(f"{label}: больше 100 %")
    return int(d * 100)


def _amount_kop(value: object, label: str = "Сумма") -> int:
    d = money.parse_decimal(value, places=2, what=label)
    if d <= 0:
        raise ValueError(f"{label}: должна быть больше нуля")
    if d > money.MAX_LINE_AMOUNT:
        raise ValueError(f"{label}: слишком большая")
    return money.to_kop(d)


def _opt_int(value: object) -> int | None:
    if value in (None, "", 0, "0"):
        return None
    return int(value)  # type: ignore[call-overload]


# --- normalisation --------------------------------------------------------------------


@dataclass
class _Ctx:
    """What validation needs from the database, read once per operation."""

    rates: dict[str, dict[str, Any]]
    tax_system: str
    items: dict[int, dict[str, Any]] = field(default_factory=dict)


def _context(conn: sqlite3.Connection, store: Store, lines: object) -> _Ctx:
    from clientplus_core.sales import company

    ctx = _Ctx(catalogue.rate_map(conn), company.get(store)["tax_system"])
    ids = set()
    for ln in lines if isinstance(lines, list) else []:
        if isinstance(ln, Mapping) and ln.get("catalogue_id") not in (None, ""):
            try:
                ids.add(int(ln["catalogue_id"]))
            except (TypeError, ValueError):
                pass
    if ids:
        ctx.items = {r["id"]: dict(r) for r in conn.execute(
            f"SELECT * FROM catalogue WHERE id IN ({','.join('?' * len(ids))})", sorted(ids))}
    return ctx



def preview_lines(store: Store, lines: object, sale_date: str | date | None = None,
                  vat_mode: str = "included",
                  discount: object = 0) -> tuple[list[dict[str, Any]], money.Totals]:
    """Validate and total a specification as the save path would, without saving (the
    card's live totals). Raises the same ValidationError as :func:`create`."""
    day = parse_date(sale_date or today(), "Дата", required=True) or today().isoformat()
    try:
        disc = _percent_bp(discount, "Скидка по сделке")
    except ValueError as exc:
        raise ValidationError({"discount": str(exc)}) from None
    with store.read() as conn:
        ctx = _context(conn, store, lines)
    return normalise_lines(lines, ctx, day, vat_mode, disc)


def normalise_lines(raw_lines: object, ctx: _Ctx, sale_date: str, vat_mode: str,
                    discount_bp: int) -> tuple[list[dict[str, Any]], money.Totals]:
    """Validate specification lines; ValidationError keys are ``lines[N].field``
    (N from 1, as the user counts) and messages start with "Строка N"."""
    if raw_lines is None:
        raw_lines = []
    if not isinstance(raw_lines, list):
        raise ValidationError({"lines": "Спецификация: список строк"})
    if len(raw_lines) > money.MAX_LINES:
        raise ValidationError({"lines": f"Спецификация: не больше {money.MAX_LINES} строк"})
    errors: dict[str, str] = {}
    out: list[dict[str, Any]] = []
    inputs: list[money.Line] = []
    default_code = catalogue.default_vat_code(sale_date, ctx.tax_system)
    for n, raw in enumerate(raw_lines, start=1):
        if not isinstance(raw, Mapping):
            errors[f"lines[{n}]"] = f"Строка {n}: не строка спецификации"
            continue

        def err(fieldname: str, msg: str, n: int = n) -> None:
            errors[f"lines[{n}].{fieldname}"] = f"Строка {n}: {msg}"

        line: dict[str, Any] = {"pos": n, "catalogue_id": None}
        item: dict[str, Any] | None = None
        if raw.get("catalogue_id") not in (None, ""):
            try:
                item = ctx.items.get(int(raw["catalogue_id"]))
            except (TypeError, ValueError):
                item = None
            if item is None:
                err("catalogue_id", "позиция каталога не найдена")
            else:
                line["catalogue_id"] = item["id"]
        for name, limit, fallback in (("name", 500, item["name"] if item else ""),
                                      ("sku", 60, item["sku"] if item else ""),
                                      ("unit", 20, item["unit"] if item else "шт")):
            value = raw.get(name)
            try:
                line[name] = clean(value, limit) if value not in (None, "") else fallback
            except ValueError as exc:
                err(name, f"{LINE_LABELS[name]}: {exc}")
                line[name] = fallback
        if not line["name"]:
            err("name", "Наименование: обязательное поле")
        line["unit"] = line["unit"] or "шт"
        qty = price = disc = None
        try:
            raw_qty = raw.get("qty")
            qty = money.parse_decimal(1 if raw_qty in (None, "") else raw_qty, places=3,
                                      what="Количество")
            if qty <= 0:
                raise ValueError("Количество: должно быть больше нуля")
            if qty > money.MAX_QTY:
                raise ValueError("Количество: слишком большое (больше 1 000 000)")
            line["qty_milli"] = int(qty * 1000)
        except ValueError as exc:
            err("qty", str(exc))
            qty = None
        try:
            raw_price = raw.get("price")
            if raw_price in (None, ""):
                if item is None:
                    raise ValueError("Цена: обязательное поле")
                price = money.from_kop(item["price_kop"])
            else:
                price = money.parse_decimal(raw_price, places=2, what="Цена")
            if price < 0:
                raise ValueError("Цена: не может быть отрицательной")
            if price > money.MAX_PRICE:
                raise ValueError("Цена: слишком большая (больше 1 000 000 000 руб.)")
            line["price_kop"] = money.to_kop(price)
        except ValueError as exc:
            err("price", str(exc))
            price = None
        try:
            line["discount_bp"] = _percent_bp(raw.get("discount"), "Скидка")
            disc = Decimal(line["discount_bp"]) / 100
        except ValueError as exc:
            err("discount", str(exc))
        code = raw.get("vat_code")
        try:
            if code in (None, ""):
                code = item["vat_code"] if item else default_code
                if code in catalogue.STANDARD_CODES:
                    code = default_code if default_code != "none" else code
            else:
                code = catalogue.parse_vat(code, ctx.rates)
            line["vat_code"] = catalogue.check_vat_code(ctx.rates, str(code), sale_date,
                                                        ctx.tax_system)
        except ValueError as exc:
            err("vat_code", f"НДС: {exc}")
        if qty is not None and price is not None and disc is not None and "vat_code" in line:
            rate = ctx.rates[line["vat_code"]]["rate"]
            ln = money.Line(qty, price, disc, None if rate is None else Decimal(rate),
                            line["name"])
            amount = money.line_amount(ln.qty, ln.price, ln.discount)
            if amount > money.MAX_LINE_AMOUNT:
                err("amount", "сумма строки слишком большая")
            inputs.append(ln)
        out.append(line)
    if errors:
        raise ValidationError(errors)
    totals = money.compute(inputs, vat_mode, Decimal(discount_bp) / 100)
    for line, lt in zip(out, totals.lines, strict=True):
        line["amount_kop"] = money.to_kop(lt.amount)
        line["vat_kop"] = money.to_kop(lt.vat)
    return out, totals


def _normalise(conn: sqlite3.Connection, store: Store, actor: Actor, data: Mapping[str, Any],
               base: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[dict[str, Any]],
                                                        money.Totals]:
    """Validate the card and its lines; returns (sale values, lines, totals)."""
    merged: dict[str, Any] = dict(base or {})
    merged.update(data)
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    # client (must be visible to the actor)
    try:
        out["client_id"] = int(merged.get("client_id") or 0)
    except (TypeError, ValueError):
        out["client_id"] = 0
    if not out["client_id"]:
        raise ValidationError({"client_id": "Клиент: обязательное поле"})
    client = check_visible(conn, actor, out["client_id"])
    client_owner = client["owner_id"]
    for name, limit in (("title", 300), ("source", 200), ("notes", 20000)):
        try:
            out[name] = clean(merged.get(name), limit)
        except ValueError as exc:
            errors[name] = f"{LABELS[name]}: {exc}"
            out[name] = ""
    try:
        out["date"] = parse_date(merged.get("date") or today(), "Дата", required=True)
    except ValueError as exc:
        errors["date"] = str(exc)
        out["date"] = today().isoformat()
    try:
        out["expected_close"] = parse_date(merged.get("expected_close"),
                                           LABELS["expected_close"])
    except ValueError as exc:
        errors["expected_close"] = str(exc)
    mode = str(merged.get("vat_mode") or "included").strip()
    mode = {"в т.ч.": "included", "в том числе": "included", "включен": "included",
            "сверху": "on_top", "on top": "on_top"}.get(mode.lower(), mode)
    if mode not in money.VAT_MODES:
        errors["vat_mode"] = "НДС: «в сумме» (included) или «сверху» (on_top)"
        mode = "included"
    out["vat_mode"] = mode
    try:
        if "discount" in data or base is None:
            out["discount_bp"] = _percent_bp(merged.get("discount"), "Скидка по сделке")
        else:
            out["discount_bp"] = int(merged.get("discount_bp") or 0)
    except ValueError as exc:
        errors["discount"] = str(exc)
        out["discount_bp"] = 0
    # contact: an employee of this client
    try:
        contact_id = _opt_int(merged.get("contact_id"))
    except (TypeError, ValueError):
        contact_id = -1
    if contact_id is not None:
        row = conn.execute("SELECT id FROM contacts WHERE id = ? AND client_id = ?"
                           " AND deleted_at IS NULL", (contact_id, out["client_id"])).fetchone()
        if row is None:
            errors["contact_id"] = "Контактное лицо: это не сотрудник выбранного клиента"
    out["contact_id"] = contact_id
    # owner: managers own what they create; the owner must see the client
    try:
        owner = _opt_int(merged.get("owner_id"))
    except (TypeError, ValueError):
        owner = None
    if base is None and actor.role == "manager":
        owner = actor.id
    elif owner is None:
        owner = actor.id
        if actor.sees_everything and client["owner_id"] and conn.execute(
                "SELECT 1 FROM users WHERE id = ? AND is_active = 1 AND role IN"
                " ('admin', 'head', 'manager')", (client["owner_id"],)).fetchone():
            owner = client["owner_id"]          # the client's manager by default
    if base is not None and owner != base.get("owner_id") and actor.role == "manager":
        errors["owner_id"] = "Ответственный: сменить ответственного может руководитель"
    elif owner is not None and (base is None or owner != base.get("owner_id")):
        u = conn.execute("SELECT id, login, role, full_name FROM users WHERE id = ?"
                         " AND is_active = 1", (owner,)).fetchone()
        if u is None:
            errors["owner_id"] = "Ответственный: нет такого активного пользователя"
        elif u["role"] not in ("admin", "head", "manager"):
            errors["owner_id"] = "Ответственный: у пользователя нет права вести сделки"
        else:
            sql, args = client_scope(Actor(u["id"], u["login"], u["role"]), "c")
            if conn.execute(f"SELECT 1 FROM clients c WHERE c.id = ? AND {sql}",
                            [out["client_id"], *args]).fetchone() is None:
                errors["owner_id"] = (f"Ответственный: {u['full_name'] or u['login']} не видит"
                                      " этого клиента — сначала передайте или покажите клиента")
    out["owner_id"] = owner
    extra = merged.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except ValueError:
            extra = {}
    out["extra"] = extra if isinstance(extra, dict) else {}
    try:  # custom fields (issue 6): values checked against their definitions
        out["extra"] = custom_fields.check_extra(conn, "sale", out["extra"], "extra" in data,
                                                 (base or {}).get("extra"))
    except ValidationError as exc:
        errors.update(exc.errors)
    for key in ("number", "prefix"):
        try:
            out[key] = clean(data.get(key), 40) if key in data else (
                merged.get(key) or "" if key == "number" else "")
        except ValueError as exc:
            errors[key] = f"{LABELS[key]}: {exc}"
            out[key] = ""
    ctx = _context(conn, store, merged.get("lines"))
    lines: list[dict[str, Any]] = []
    totals = money.Totals(vat_mode=mode)
    try:
        lines, totals = normalise_lines(merged.get("lines") or [], ctx, out["date"],
                                        out["vat_mode"], out["discount_bp"])
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    out["client_owner_id"] = client_owner
    return out, lines, totals


# --- reading --------------------------------------------------------------------------


def _visible(conn: sqlite3.Connection, actor: Actor, sale_id: int,
             include_deleted: bool = False) -> sqlite3.Row:
    """The sale row if the actor may see its client (NotFound otherwise)."""
    row = conn.execute("SELECT * FROM sales WHERE id = ?", (sale_id,)).fetchone()
    if row is None or (row["deleted_at"] is not None and not include_deleted):
        raise NotFound(f"Сделка №{sale_id} не найдена")
    try:
        check_visible(conn, actor, row["client_id"])
    except NotFound:
        raise NotFound(f"Сделка №{sale_id} не найдена") from None
    return row


def _line_dicts(conn: sqlite3.Connection, sale_id: int,
                rates: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in conn.execute("SELECT * FROM sale_lines WHERE sale_id = ? ORDER BY pos, id",
                          (sale_id,)):
        d = dict(r)
        rate = rates.get(d["vat_code"], {})
        d["qty"] = Decimal(d["qty_milli"]) / 1000
        d["price"] = money.from_kop(d["price_kop"])
        d["discount"] = Decimal(d["discount_bp"]) / 100
        d["amount"] = money.from_kop(d["amount_kop"])
        d["vat"] = money.from_kop(d["vat_kop"])
        d["vat_rate"] = rate.get("rate")
        d["vat_label"] = rate.get("label", d["vat_code"])
        out.append(d)
    return out


def _form_dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["extra"] = json.loads(d.get("extra") or "{}")
    d["discount"] = Decimal(d["discount_bp"]) / 100
    d["lines"] = [{k: ln[k] for k in ("catalogue_id", "name", "sku", "unit", "qty", "price",
                                      "discount", "vat_code", "amount", "vat")}
                  for ln in _line_dicts(conn, row["id"], catalogue.rate_map(conn))]
    return d


def get(store: Store, actor: Actor, sale_id: int) -> dict[str, Any]:
    """The sale as the edit form needs it (fields, ``lines`` as input dicts, ``version``)."""
    require(actor, "sale.read")
    with store.read() as conn:
        return _form_dict(conn, _visible(conn, actor, sale_id))


def find_id(store: Store, actor: Actor, number: str) -> int:
    """The id of the visible sale with this number (or an id given as digits)."""
    require(actor, "sale.read")
    with store.read() as conn:
        row = conn.execute("SELECT id FROM sales WHERE number = ? AND deleted_at IS NULL",
                           (number.strip(),)).fetchone()
        if row is None and number.strip().isdigit():
            row = conn.execute("SELECT id FROM sales WHERE id = ? AND deleted_at IS NULL",
                               (int(number),)).fetchone()
        if row is None:
            raise NotFound(f"Сделка «{number}» не найдена")
        _visible(conn, actor, row["id"])
        return int(row["id"])


def _balance(sale: RowLike, plans: Sequence[Mapping[str, Any]],
             on: date) -> dict[str, Any]:
    total, paid = int(sale["total_kop"]), int(sale["paid_kop"])
    due = sum(int(p["amount_kop"]) for p in plans if p["date"] < on.isoformat())
    overdue = max(0, due - paid)
    return {"total": money.from_kop(total), "paid": money.from_kop(paid),
            "remaining": money.from_kop(max(0, total - paid)),
            "planned": money.from_kop(sum(int(p["amount_kop"]) for p in plans)),
            "overdue": money.from_kop(overdue), "overdue_from": sale["overdue_from"],
            "is_overdue": overdue > 0, "is_paid": total > 0 and paid >= total}


def _totals_dict(sale: RowLike, lines: Sequence[Mapping[str, Any]],
                 rates: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    by_code: dict[str, int] = {}
    for ln in lines:
        if ln["vat_rate"] is not None:
            by_code[ln["vat_code"]] = by_code.get(ln["vat_code"], 0) + int(ln["vat_kop"])
    vat_lines = [{"code": c, "label": rates[c]["label"], "rate": rates[c]["rate"],
                  "amount": money.from_kop(v)}
                 for c, v in sorted(by_code.items(), key=lambda kv: -(rates[kv[0]]["rate"] or 0))]
    total = money.from_kop(sale["total_kop"])
    vat_total = money.from_kop(sale["vat_kop"])
    return {"vat_mode": sale["vat_mode"], "subtotal": money.from_kop(sale["subtotal_kop"]),
            "vat_by_rate": vat_lines, "vat_total": vat_total, "total": total,
            "without_vat": total - vat_total, "no_vat": not vat_lines,
            "discount": Decimal(sale["discount_bp"]) / 100,
            "words": money.amount_in_words(total)}


def _payments(conn: sqlite3.Connection, sale_id: int, kind: str) -> list[dict[str, Any]]:
    out = []
    for r in conn.execute(
            "SELECT p.*, u.full_name AS created_by_name FROM sale_payments p"
            " LEFT JOIN users u ON u.id = p.created_by"
            " WHERE p.sale_id = ? AND p.kind = ? AND p.deleted_at IS NULL ORDER BY p.date, p.id",
            (sale_id, kind)):
        d = dict(r)
        d["amount"] = money.from_kop(d["amount_kop"])
        out.append(d)
    return out


def suggest_status(conn: sqlite3.Connection, sale: RowLike) -> dict[str, Any] | None:
    """The status the payments suggest: "paid" (the first active status flagged
    ``is_paid``) when fully paid, "partly paid" when paid in part; None when the
    current status already says as much (or the sale is lost)."""
    all_statuses = statuses.by_id(conn)
    current = all_statuses.get(sale["status_id"])
    if current is None or current["is_lost"]:
        return None
    total, paid = int(sale["total_kop"]), int(sale["paid_kop"])
    if total > 0 and paid >= total:
        if current["is_paid"]:
            return None
        return next((s for s in sorted(all_statuses.values(), key=lambda s: (s["sort"], s["id"]))
                     if s["is_paid"] and s["is_active"] and not s["is_lost"]), None)
    if paid > 0:
        partly = next((s for s in all_statuses.values()
                       if s["code"] == "partly_paid" and s["is_active"]), None)
        if partly is None or current["is_paid"] or current["sort"] >= partly["sort"]:
            return None
        return partly
    return None


def get_card(store: Store, actor: Actor, sale_id: int) -> dict[str, Any]:
    """Everything the sale card shows, in one read:

    the sale's fields (``number``, ``date``, ``title``, ``version`` …), ``client``
    (id, name, INN, KPP), ``contact``, ``owner``, ``status`` (with flags),
    ``lines`` (Decimal ``qty``/``price``/``discount``/``amount``/``vat``, ``vat_label``),
    ``totals`` (``subtotal``, ``vat_by_rate`` [{label, amount}], ``vat_total``, ``total``,
    ``without_vat``, ``no_vat``, ``words``), ``schedule`` (planned payments),
    ``payments`` (actual ones), ``balance`` (``paid``, ``remaining``, ``planned``,
    ``overdue``, ``is_overdue``), ``suggested_status``, ``status_log`` (from, to, who,
    when), ``contacts_history``, ``files``, ``links``, ``documents``.
    """
    require(actor, "sale.read")
    with store.read() as conn:
        row = _visible(conn, actor, sale_id)
        rates = catalogue.rate_map(conn)
        st = statuses.by_id(conn)
        card = dict(row)
        card["extra"] = json.loads(card.get("extra") or "{}")
        card["discount"] = Decimal(card["discount_bp"]) / 100
        client = conn.execute("SELECT id, kind, name, full_name, inn, kpp, owner_id FROM clients"
                              " WHERE id = ?", (row["client_id"],)).fetchone()
        card["client"] = dict(client)
        contact = (conn.execute("SELECT id, name, post, phone, mobile, email FROM contacts"
                                " WHERE id = ?", (row["contact_id"],)).fetchone()
                   if row["contact_id"] else None)
        card["contact"] = dict(contact) if contact else None
        owner = (conn.execute("SELECT id, login, full_name, email FROM users WHERE id = ?",
                              (row["owner_id"],)).fetchone() if row["owner_id"] else None)
        card["owner"] = dict(owner) if owner else None
        card["status"] = st.get(row["status_id"])
        card["vat_mode_label"] = VAT_MODE_LABELS[row["vat_mode"]][0]
        card["lines"] = _line_dicts(conn, sale_id, rates)
        card["totals"] = _totals_dict(row, card["lines"], rates)
        card["schedule"] = _payments(conn, sale_id, "plan")
        card["payments"] = _payments(conn, sale_id, "fact")
        card["balance"] = _balance(row, card["schedule"], today())
        card["suggested_status"] = suggest_status(conn, row)
        card["status_log"] = [dict(r) for r in conn.execute(
            "SELECT l.id, l.at, l.from_status_id, f.label AS from_label, l.to_status_id,"
            " t.label AS to_label, l.actor_id, u.full_name AS actor_name, u.login AS actor_login,"
            " l.note FROM sale_status_log l"
            " LEFT JOIN sale_statuses f ON f.id = l.from_status_id"
            " JOIN sale_statuses t ON t.id = l.to_status_id"
            " LEFT JOIN users u ON u.id = l.actor_id WHERE l.sale_id = ? ORDER BY l.id",
            (sale_id,))]
        card["contacts_history"] = _history(conn, "i.sale_id = ?", [sale_id], 200)
        card["files"] = [dict(r) for r in conn.execute(
            "SELECT f.id, f.name, f.size, f.mime, f.created_at, u.full_name AS uploaded_by_name"
            " FROM files f LEFT JOIN users u ON u.id = f.uploaded_by"
            " WHERE f.sale_id = ? AND f.deleted_at IS NULL ORDER BY f.id DESC", (sale_id,))]
        card["links"] = [dict(r) for r in conn.execute(
            "SELECT id, title, url, created_at FROM links WHERE sale_id = ?"
            " AND deleted_at IS NULL ORDER BY id", (sale_id,))]
        card["documents"] = [dict(r) for r in conn.execute(
            "SELECT d.id, d.kind, d.number, d.date, d.file_id, d.created_at, f.name AS file_name"
            " FROM documents d LEFT JOIN files f ON f.id = d.file_id WHERE d.sale_id = ?"
            " ORDER BY d.id DESC", (sale_id,))]
    return card


# --- the register -----------------------------------------------------------------------


@dataclass
class SaleFilter:
    """The register's filters; the same object drives the page, the board and the export.

    ``payment``: ``"paid"`` (fully paid), ``"unpaid"`` (something left to pay) or
    ``"overdue"`` (a planned payment is past due and not covered). Amounts are the
    total to pay, in roubles. ``closed``: True closed only, False open only.
    """

    query: str = ""
    statuses: Sequence[int] = ()
    owner_id: int | None = None
    client_id: int | None = None
    date_from: str | date | None = None
    date_to: str | date | None = None
    amount_min: Decimal | int | str | None = None
    amount_max: Decimal | int | str | None = None
    payment: str | None = None
    closed: bool | None = None
    sort: str = "date"
    descending: bool = True
    # sale custom fields (issue 6): ((key, value), …) or ((key, op, value), …), ops as
    # in :func:`clients.extra_conditions` (eq, any, min, max, contains)
    extra: tuple[tuple[Any, ...], ...] = ()


SORTABLE = {"date": "s.date", "number": "s.number", "total": "s.total_kop",
            "updated_at": "s.updated_at", "expected_close": "s.expected_close"}


@dataclass
class SalesPage(Page):
    """A page of the register plus the sums of everything the filter matches."""

    sums: dict[str, Decimal] = field(default_factory=dict)


_LIVE_CLIENT = "s.client_id NOT IN (SELECT id FROM clients WHERE deleted_at IS NOT NULL)"


def scope_arms(actor: Actor, deleted_clients: bool = True) -> list[tuple[str, str, list[object]]]:
    """The sales ``actor`` may see, as one or two named SQL conditions whose results do
    not overlap (a query runs once per condition and adds up): ``"all"`` for head,
    admin and viewer; for a manager ``"own"`` (sales of the clients they own: the
    indexed ``client_owner_id``) and ``"shared"`` (clients shared with them). Sales of
    deleted clients are left out (``deleted_clients=False``: there are none, so the
    per-row check is skipped)."""
    live = _LIVE_CLIENT if deleted_clients else "1"
    if actor.sees_everything:
        return [("all", live, [])]
    return [("own", f"s.client_owner_id = ? AND {live}", [actor.id]),
            ("shared", "s.client_id IN (SELECT client_id FROM client_shares WHERE user_id = ?)"
             f" AND s.client_owner_id IS NOT ? AND {live}", [actor.id, actor.id])]


@dataclass
class _Arm:
    """One scope arm of a register query: the condition, its parameters and the
    indexes that answer the count (``count_from``) and the page (``page_from``)."""

    where: str
    args: list[object]
    count_from: str
    page_from: str
    by_ids: bool = False
    one_pass: bool = False


def _sources(f: SaleFilter, arm: str, by_ids: bool) -> tuple[str, str]:
    """``FROM`` clauses naming the covering index for the count and for the page.

    SQLite has no statistics for a freshly generated table and would guess; the
    register's filters map to its indexes by a fixed rule instead: the leading
    columns are the equality filters (client's owner for a manager, sale owner,
    one status), then the date, so a page in date order reads only its rows."""
    if arm == "shared" or f.client_id:
        return ("sales s INDEXED BY ix_sales_client",) * 2
    if by_ids:
        # a text search: driven by the matching ids, each looked up in the narrow
        # id-leading covering index (its pages are few and read in order)
        return ("sales s INDEXED BY ix_sales_reg_id",) * 2
    if f.payment == "overdue":
        return ("sales s INDEXED BY ix_sales_reg_overdue",) * 2
    one_status = len(f.statuses) == 1 and f.closed is None
    statuses = bool(f.statuses) or f.closed is not None
    if arm == "own":
        plain, by_status = "ix_sales_reg_scope", "ix_sales_reg_scope_status"
    elif f.owner_id:
        plain, by_status = "ix_sales_reg_owner", "ix_sales_reg_owner_status"
    else:
        plain, by_status = "ix_sales_reg_date", "ix_sales_reg_status"
    count_ix = by_status if statuses else plain
    page_ix = by_status if one_status or (statuses and f.sort != "date") else plain
    return f"sales s INDEXED BY {count_ix}", f"sales s INDEXED BY {page_ix}"


def _where(conn: sqlite3.Connection, actor: Actor, f: SaleFilter) -> list[_Arm]:
    """The filter as SQL conditions on ``sales s``, one per scope arm."""
    where: list[str] = ["s.deleted_at IS NULL"]
    args: list[object] = []
    if f.statuses:
        ids = [int(s) for s in f.statuses]
        where.append(f"s.status_id IN ({','.join('?' * len(ids))})")
        args += ids
    if f.owner_id:
        where.append("s.owner_id = ?")
        args.append(int(f.owner_id))
    if f.client_id:
        where.append("s.client_id = ?")
        args.append(int(f.client_id))
    for day, op, label in ((f.date_from, ">=", "Период с"), (f.date_to, "<=", "Период по")):
        if day:
            try:
                where.append(f"s.date {op} ?")
                args.append(parse_date(day, label))
            except ValueError as exc:
                raise ValidationError({"date": str(exc)}) from None
    bounds: dict[str, int] = {}
    for value, key in ((f.amount_min, "amount_min"), (f.amount_max, "amount_max")):
        if value not in (None, ""):
            try:
                bounds[key] = money.to_kop(money.parse_decimal(value, what="Сумма"))
            except ValueError as exc:
                raise ValidationError({key: str(exc)}) from None
    if len(bounds) == 2:  # one BETWEEN is one comparison less per row than two
        where.append("s.total_kop BETWEEN ? AND ?")
        args += [bounds["amount_min"], bounds["amount_max"]]
    elif bounds:
        where.append("s.total_kop >= ?" if "amount_min" in bounds else "s.total_kop <= ?")
        args += list(bounds.values())
    if f.payment:
        if f.payment == "paid":
            where.append("s.total_kop > 0 AND s.paid_kop >= s.total_kop")
        elif f.payment == "unpaid":
            where.append("s.paid_kop < s.total_kop")
        elif f.payment == "overdue":
            where.append("s.overdue_from < ?")
            args.append(today().isoformat())
        else:
            raise ValidationError({"payment": "Оплата: paid, unpaid или overdue"})
    if f.closed is not None:
        # "IN" either way, so a status-leading index can seek each status
        where.append("s.status_id IN (SELECT id FROM sale_statuses WHERE is_closed = ?)")
        args.append(1 if f.closed else 0)
    if f.extra:
        # custom fields: json_extract on the row the index led to (only when asked for:
        # without such a filter the register stays on its covering indexes)
        extra_where, extra_args = extra_conditions(conn, "sale", "s", f.extra)
        where += extra_where
        args += extra_args
    terms = search.normalise_query(f.query)
    if terms:
        match = search.fts_query(terms)
        if match:
            # the sale's own entry (number, title, client, lines) or the text of its files;
            # entries are told apart by their rowid range (reading the entity column
            # would fetch every matching row's content: 5x slower)
            (sale_lo, sale_hi), (file_lo, file_hi) = map(search.rowid_range, ("sale", "file"))
            # kept inside SQL: SQLite collects the ids itself (bringing tens of thousands
            # into Python and back costs more than the full-text lookup)
            where.append(
                "s.id IN (SELECT rowid - ? FROM search_index WHERE search_index MATCH ?"
                " AND rowid > ? AND rowid < ? UNION ALL SELECT f.sale_id FROM files f WHERE"
                " f.id IN (SELECT rowid - ? FROM search_index WHERE search_index MATCH ?"
                " AND rowid > ? AND rowid < ?) AND f.sale_id IS NOT NULL"
                " AND f.deleted_at IS NULL)")
            args += [sale_lo, match, sale_lo, sale_hi, file_lo, match, file_lo, file_hi]
        else:
            like = f"%{f.query.strip()}%"
            ids = [r[0] for r in _plain(conn).execute(
                "SELECT id FROM sales WHERE (number LIKE ? OR title LIKE ?)"
                " AND deleted_at IS NULL", (like, like))]
            where.append("s.id IN (SELECT value FROM json_each(?))")
            args.append(json.dumps(sorted(ids)))
    common = " AND ".join(where)
    # the partial index ix_clients_deleted answers this at once
    deleted = conn.execute("SELECT 1 FROM clients WHERE deleted_at IS NOT NULL LIMIT 1"
                           ).fetchone() is not None
    arms = scope_arms(actor, deleted)
    if terms:
        # driven by the matching ids through the id index, whatever the scope: the
        # scope arms (which exist to pick an index each) become one condition, so the
        # text is looked up once; one pass (sorted in Python) when another filter
        # leaves few of the matches, else a count and a page
        scope = " OR ".join(f"({cond})" for _name, cond, _a in arms)
        one_pass = len(where) > 2
        return [_Arm(f"{common} AND ({scope})", [*args, *(x for a in arms for x in a[2])],
                     *_sources(f, "all", True), True, one_pass)]
    return [_Arm(f"{common} AND {cond}", [*args, *arm_args], *_sources(f, name, False))
            for name, cond, arm_args in arms]


def _plain(conn: sqlite3.Connection) -> sqlite3.Cursor:
    """A cursor returning plain tuples: building a ``sqlite3.Row`` per row costs more
    than the query itself when tens of thousands of ids come back."""
    cur = conn.cursor()
    cur.row_factory = None
    return cur


def _unindexed(arms: list[_Arm]) -> list[_Arm]:
    return [_Arm(a.where, a.args, "sales s", "sales s", a.by_ids, a.one_pass) for a in arms]


def _fallback(fn: Any) -> Any:
    """Retry a register query without naming indexes if one is missing (a demo load
    in progress drops them for speed): slower, never wrong."""
    def run(conn: sqlite3.Connection, arms: list[_Arm], *args: Any) -> Any:
        try:
            return fn(conn, arms, *args)
        except sqlite3.OperationalError as exc:
            if "no such index" not in str(exc):
                raise
            return fn(conn, _unindexed(arms), *args)
    return run


@_fallback
def _count_sums(conn: sqlite3.Connection, arms: list[_Arm]) -> tuple[int, int, int]:
    """(count, Σ total, Σ paid) of the sales matching ``arms``."""
    sql = " UNION ALL ".join(
        f"SELECT count(*) AS n, coalesce(sum(s.total_kop), 0) AS t,"
        f" coalesce(sum(s.paid_kop), 0) AS p FROM {a.count_from} WHERE {a.where}"
        for a in arms)
    row = conn.execute(f"SELECT sum(n), sum(t), sum(p) FROM ({sql})",
                       [x for a in arms for x in a.args]).fetchone()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


@_fallback
def _matched_page(conn: sqlite3.Connection, arms: list[_Arm], col: str, descending: bool,
                  limit: int, offset: int) -> tuple[tuple[int, int, int], list[int]]:
    """For a text search (a bounded set of matching ids): the count, the sums and one
    page in a single pass over the matches, sorted here, instead of reading them
    twice (once to count, once to order)."""
    sql = " UNION ALL ".join(f"SELECT {col}, s.id, s.total_kop, s.paid_kop FROM {a.page_from}"
                             f" WHERE {a.where}" for a in arms)
    # tens of thousands of small tuples, no reference cycles: a collection of the
    # whole heap triggered halfway would cost more than the query (seen as p95 spikes)
    collecting = gc.isenabled()
    gc.disable()
    try:
        found = _plain(conn).execute(sql, [x for a in arms for x in a.args]).fetchall()
        # SQLite's order: NULL first ascending, last descending; ties by id the same way
        found.sort(key=lambda r: (r[0] is not None, r[0] if r[0] is not None else 0, r[1]),
                   reverse=descending)
    finally:
        if collecting:
            gc.enable()
    sums = (len(found), sum(r[2] for r in found), sum(r[3] for r in found))
    return sums, [r[1] for r in found[offset:offset + limit]]


@_fallback
def _ids(conn: sqlite3.Connection, arms: list[_Arm], col: str,
         descending: bool, limit: int | None = None, offset: int = 0) -> list[int]:
    """Sale ids in register order; with two arms SQLite merges the two ordered index
    scans (a compound SELECT with ORDER BY), so a page still reads only its rows."""
    d = " DESC" if descending else ""
    args = [x for a in arms for x in a.args]
    page = ""
    if limit is not None:
        page = " LIMIT ? OFFSET ?"
        args += [limit, offset]
    if len(arms) == 1:
        a = arms[0]
        sql = f"SELECT s.id FROM {a.page_from} WHERE {a.where} ORDER BY {col}{d}, s.id{d}{page}"
    else:
        sql = " UNION ALL ".join(f"SELECT s.id AS id, {col} AS k FROM {a.page_from}"
                                 f" WHERE {a.where}" for a in arms) + f" ORDER BY k{d}, id{d}{page}"
    return [r[0] for r in conn.execute(sql, args)]


_LIST_COLUMNS = (
    "s.id, s.number, s.date, s.client_id, c.name AS client_name, s.contact_id, s.title,"
    " s.status_id, st.label AS status_label, st.code AS status_code, st.is_closed, st.is_lost,"
    " s.owner_id, u.full_name AS owner_name, s.expected_close, s.source, s.vat_mode,"
    " s.subtotal_kop, s.vat_kop, s.total_kop, s.paid_kop, s.overdue_from, s.updated_at,"
    " s.version, s.extra")


def _list_row(r: sqlite3.Row, on: str) -> dict[str, Any]:
    d = dict(r)
    d["total"] = money.from_kop(d["total_kop"])
    d["paid"] = money.from_kop(d["paid_kop"])
    d["debt"] = money.from_kop(max(0, d["total_kop"] - d["paid_kop"]))
    d["is_overdue"] = bool(d["overdue_from"] and d["overdue_from"] < on)
    try:
        extra = json.loads(d.get("extra") or "{}")
    except ValueError:
        extra = {}
    d["extra"] = extra if isinstance(extra, dict) else {}
    return d


def _rows_by_ids(conn: sqlite3.Connection, ids: list[int]) -> list[dict[str, Any]]:
    on = today().isoformat()
    by_id = {r["id"]: r for r in conn.execute(
        f"SELECT {_LIST_COLUMNS} FROM sales s JOIN clients c ON c.id = s.client_id"
        " JOIN sale_statuses st ON st.id = s.status_id LEFT JOIN users u ON u.id = s.owner_id"
        f" WHERE s.id IN ({','.join('?' * len(ids)) or 'NULL'})", ids)}
    return [_list_row(by_id[i], on) for i in ids if i in by_id]


def list_sales(store: Store, actor: Actor, f: SaleFilter | None = None, page: int = 1,
               page_size: int = 50) -> SalesPage:
    """One page of the register, filtered and sorted, with the count and the sums
    (total, paid, debt) of everything the filter matches (the totals row)."""
    require(actor, "sale.read")
    f = f or SaleFilter()
    col = SORTABLE.get(f.sort, SORTABLE["date"])
    page = max(1, int(page))
    with store.read() as conn:
        arms = _where(conn, actor, f)
        offset = (page - 1) * page_size
        if arms[0].one_pass:
            (n, total, paid), ids = _matched_page(conn, arms, col, f.descending, page_size,
                                                  offset)
        else:
            n, total, paid = _count_sums(conn, arms)
            ids = _ids(conn, arms, col, f.descending, page_size, offset)
        rows = _rows_by_ids(conn, ids)
    sums = {"total": money.from_kop(total), "paid": money.from_kop(paid),
            "debt": money.from_kop(total - paid)}
    return SalesPage(rows, int(n), page, page_size, sums)


def iter_sales(store: Store, actor: Actor, f: SaleFilter | None = None,
               batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Every sale matching the filter, in register order (for the export)."""
    require(actor, "sale.export")
    f = f or SaleFilter()
    col = SORTABLE.get(f.sort, SORTABLE["date"])
    with store.read() as conn:
        ids = _ids(conn, _where(conn, actor, f), col, f.descending)
        for i in range(0, len(ids), batch):
            yield from _rows_by_ids(conn, ids[i:i + batch])


EXPORT_COLUMNS: tuple[tuple[str, str, float], ...] = (
    ("Номер", "number", 14), ("Дата", "date", 11), ("Клиент", "client_name", 36),
    ("Название", "title", 36), ("Статус", "status_label", 22),
    ("Ответственный", "owner_name", 24), ("Сумма", "total", 14), ("В т.ч. НДС", "vat", 12),
    ("Оплачено", "paid", 14), ("Долг", "debt", 14), ("Просрочено", "is_overdue", 11),
    ("Ожидаемая дата", "expected_close", 14), ("Источник", "source", 18))


def extra_cell(fd: custom_fields.FieldDef, value: Any) -> object:
    """A custom field's value as an export cell: a number stays a number, a date
    becomes a date cell, the rest the text the card shows."""
    if value is None or value == "" or value == []:
        return None
    if fd.type == "number" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    if fd.type == "date":
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            pass
    return custom_fields.display(fd, value)


def _export_rows(store: Store, actor: Actor, f: SaleFilter,
                 custom: Sequence[custom_fields.FieldDef] = ()) -> Iterator[list[object]]:
    for r in iter_sales(store, actor, f):
        r["vat"] = money.from_kop(r["vat_kop"])
        r["date"] = date.fromisoformat(r["date"])
        r["expected_close"] = date.fromisoformat(r["expected_close"]) if r["expected_close"] \
            else None
        yield [*(r[key] for _h, key, _w in EXPORT_COLUMNS),
               *(extra_cell(fd, r["extra"].get(fd.key)) for fd in custom)]


def export_sales(store: Store, actor: Actor, f: SaleFilter | None, out: Any,
                 fmt: str = "xlsx") -> int:
    """Write the sales the filter shows to ``out`` (a path or a binary stream) as .xlsx
    or .csv (texts never become formulas); returns the number of sales. A path is
    written through a temporary file, so a failed export leaves nothing behind."""

    from clientplus_core.clients import export

    require(actor, "sale.export")
    fmt = (fmt or "").lower().lstrip(".")
    if fmt not in export.FORMATS:
        raise UserError(f"Формат выгрузки «{fmt}» не поддерживается: .xlsx или .csv")
    f = f or SaleFilter()
    # every active sale custom field, one column each after the standard ones
    custom = custom_fields.list_fields(store, "sale")
    headers = [*(h for h, _k, _w in EXPORT_COLUMNS), *(fd.label_ru for fd in custom)]
    widths = [*(w for _h, _k, w in EXPORT_COLUMNS),
              *(float(min(max(len(fd.label_ru) + 3, 12), 40)) for fd in custom)]
    rows = _export_rows(store, actor, f, custom)

    def write(stream: Any) -> int:
        if fmt == "xlsx":
            return export._write_xlsx(stream, headers, rows, widths, "Сделки")
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        try:
            return export.rows_to_csv(text, headers, rows)
        finally:
            text.flush()
            text.detach()

    count = export.write_output(out, write)
    with store.write() as conn:
        audit.record(conn, actor, "export", "sale", summary=f"Выгрузка сделок ({fmt}): {count}",
                     changes={"rows": count, "format": fmt, "statuses": list(f.statuses),
                              "date_from": str(f.date_from or ""),
                              "date_to": str(f.date_to or "")})
    return count


def export_sales_bytes(store: Store, actor: Actor, f: SaleFilter | None,
                       fmt: str = "xlsx") -> bytes:
    """:func:`export_sales` into memory, for a download button."""
    buf = io.BytesIO()
    export_sales(store, actor, f, buf, fmt)
    return buf.getvalue()


def board(store: Store, actor: Actor, f: SaleFilter | None = None,
          per_status: int = 20) -> list[dict[str, Any]]:
    """The board: one column per active status (in order) with its count, sum and
    the newest ``per_status`` sales; ``f.statuses`` is ignored."""
    require(actor, "sale.read")
    f = f or SaleFilter()
    out: list[dict[str, Any]] = []
    with store.read() as conn:
        for st in statuses.by_id(conn).values():
            if not st["is_active"]:
                continue
            sf = SaleFilter(**{**f.__dict__, "statuses": [st["id"]]})
            arms = _where(conn, actor, sf)
            n, total, _paid = _count_sums(conn, arms)
            ids = _ids(conn, arms, "s.date", True, per_status)
            out.append({"status": st, "count": int(n), "total": money.from_kop(total),
                        "rows": _rows_by_ids(conn, ids)})
    out.sort(key=lambda c: (c["status"]["sort"], c["status"]["id"]))
    return out


# --- writing ----------------------------------------------------------------------------


def index_sale(conn: sqlite3.Connection, sale_id: int) -> None:
    """(Re)index a sale for search: number and title, client, specification lines."""
    row = conn.execute("SELECT s.id, s.number, s.title, s.client_id, s.source, s.notes,"
                       " s.deleted_at, c.name AS client_name FROM sales s"
                       " JOIN clients c ON c.id = s.client_id WHERE s.id = ?",
                       (sale_id,)).fetchone()
    if row is None or row["deleted_at"] is not None:
        search.unindex(conn, "sale", sale_id)
        return
    lines = [f"{r['name']} {r['sku']}".strip() for r in conn.execute(
        "SELECT name, sku FROM sale_lines WHERE sale_id = ? ORDER BY pos", (sale_id,))]
    title, body = search_entry(row["number"], row["title"], row["client_name"], lines,
                               row["source"], row["notes"])
    search.index_row(conn, "sale", sale_id, row["client_id"], title, body,
                     hidden=[number_digits(row["number"])])


def search_entry(number: str, title: str, client_name: str, line_names: Sequence[str],
                 source: str = "", notes: str = "") -> tuple[str, list[str]]:
    """The (title, body) a sale is indexed with (shared with the bulk demo loader)."""
    return (f"{number} {title}".strip(),
            [client_name, "\n".join(line_names), source, (notes or "")[:2000]])


def number_digits(number: str) -> str:
    """The digits of a sale number: search reads a typed ``2026-0001`` as digits (like a
    phone), so they are indexed as a hidden token."""
    return "".join(ch for ch in number if ch.isdigit())


def reindex_all(conn: sqlite3.Connection) -> int:
    """Index every live sale (used by maintenance.reindex.rebuild)."""
    n = 0
    for (sid,) in conn.execute("SELECT id FROM sales WHERE deleted_at IS NULL").fetchall():
        index_sale(conn, sid)
        n += 1
    return n


def _allocate_number(conn: sqlite3.Connection, store: Store, sale_date: str,
                     prefix: str | None) -> str:
    year = int(sale_date[:4])
    if prefix is None or prefix == "":
        prefix = str(settings.get(store, "sale_number_prefix") or "")
    row = conn.execute("SELECT last_no FROM sale_counters WHERE year = ?", (year,)).fetchone()
    seq = (row["last_no"] if row else 0) + 1
    while True:
        number = f"{prefix}{year}-{seq:04d}"
        if conn.execute("SELECT 1 FROM sales WHERE number = ?", (number,)).fetchone() is None:
            break
        seq += 1
    conn.execute("INSERT INTO sale_counters (year, last_no) VALUES (?, ?) ON CONFLICT(year)"
                 " DO UPDATE SET last_no = excluded.last_no", (year, seq))
    return number


def _write_lines(conn: sqlite3.Connection, sale_id: int, lines: list[dict[str, Any]]) -> None:
    conn.execute("DELETE FROM sale_lines WHERE sale_id = ?", (sale_id,))
    conn.executemany(
        "INSERT INTO sale_lines (sale_id, pos, catalogue_id, name, sku, unit, qty_milli,"
        " price_kop, discount_bp, vat_code, amount_kop, vat_kop) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        [(sale_id, ln["pos"], ln["catalogue_id"], ln["name"], ln["sku"], ln["unit"],
          ln["qty_milli"], ln["price_kop"], ln["discount_bp"], ln["vat_code"], ln["amount_kop"],
          ln["vat_kop"]) for ln in lines])


def _totals_columns(totals: money.Totals) -> dict[str, int]:
    return {"subtotal_kop": money.to_kop(totals.subtotal),
            "vat_kop": money.to_kop(totals.vat_total), "total_kop": money.to_kop(totals.total)}


def _line_summary(lines: Sequence[Mapping[str, Any]]) -> list[str]:
    return [f"{ln['name']}: {money.format_qty(Decimal(ln['qty_milli']) / 1000)} × "
            f"{money.format_amount(money.from_kop(ln['price_kop']), ' ')}"
            + (f" −{Decimal(ln['discount_bp']) / 100}%" if ln["discount_bp"] else "")
            + f" НДС {ln['vat_code']}" for ln in lines]


def _first_status(conn: sqlite3.Connection) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM sale_statuses WHERE is_active = 1 AND is_lost = 0"
                       " ORDER BY sort, id LIMIT 1").fetchone()
    if row is None:
        raise UserError("Нет ни одного рабочего статуса сделок — проверьте настройки")
    return dict(row)


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Create a sale (with its lines) in the first status; returns :func:`get`'s dict."""
    require(actor, "sale.create")
    with store.write() as conn:
        values, lines, totals = _normalise(conn, store, actor, data, None)
        if values["number"]:
            if conn.execute("SELECT 1 FROM sales WHERE number = ?",
                            (values["number"],)).fetchone():
                raise ValidationError({"number": f"Номер «{values['number']}» уже занят"})
            number = values["number"]
        else:
            number = _allocate_number(conn, store, values["date"], values["prefix"] or None)
        status = _first_status(conn)
        if data.get("status_id"):
            status = statuses.resolve(conn, int(data["status_id"]))
        ts = now_iso()
        row = {k: values[k] for k in _SALE_COLUMNS if k != "number"} | {
            "number": number, "extra": json.dumps(values["extra"], ensure_ascii=False),
            "client_owner_id": values["client_owner_id"], "status_id": status["id"],
            "status_at": ts, **_totals_columns(totals),
            "created_by": actor.id, "updated_by": actor.id, "created_at": ts, "updated_at": ts,
            "version": 1}
        cur = conn.execute(f"INSERT INTO sales ({', '.join(row)}) VALUES"
                           f" ({', '.join('?' * len(row))})", list(row.values()))
        sale_id = int(cur.lastrowid or 0)
        _write_lines(conn, sale_id, lines)
        conn.execute("INSERT INTO sale_status_log (sale_id, from_status_id, to_status_id,"
                     " actor_id, at) VALUES (?,?,?,?,?)", (sale_id, None, status["id"],
                                                            actor.id, ts))
        index_sale(conn, sale_id)
        audit.record(conn, actor, "create", "sale", sale_id, values["client_id"],
                     f"{number} {values['title']}".strip(),
                     {"total": str(totals.total), "lines": _line_summary(lines)})
        return _form_dict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                             (sale_id,)).fetchone())


def update(store: Store, actor: Actor, sale_id: int, data: Mapping[str, Any], version: int,
           base: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Save the card as edited from ``version``; ConflictError (who, when, what
    changed) if someone saved first. ``lines`` in ``data`` replaces the specification;
    without it the stored lines are kept (and re-totalled if the discount, VAT mode
    or date changed)."""
    require(actor, "sale.update")
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        if row["version"] != version:
            raise conflict(conn, row, base, "sale")
        before = _form_dict(conn, row)
        merged_in = dict(data)
        if "lines" not in merged_in:
            merged_in["lines"] = [
                {"catalogue_id": ln["catalogue_id"], "name": ln["name"], "sku": ln["sku"],
                 "unit": ln["unit"], "qty": ln["qty"], "price": ln["price"],
                 "discount": ln["discount"], "vat_code": ln["vat_code"]}
                for ln in before["lines"]]
        values, lines, totals = _normalise(conn, store, actor, merged_in, before)
        if values["client_id"] != row["client_id"]:
            raise ValidationError({"client_id": "Клиент: сделку нельзя перенести к другому"
                                                " клиенту — создайте новую"})
        number = values["number"] or row["number"]
        if number != row["number"] and conn.execute(
                "SELECT 1 FROM sales WHERE number = ? AND id <> ?", (number, sale_id)).fetchone():
            raise ValidationError({"number": f"Номер «{number}» уже занят"})
        cols = _totals_columns(totals)
        if cols["total_kop"] < row["paid_kop"]:
            raise ValidationError({"lines": "Спецификация: сумма сделки "
                                   f"{money.format_amount(totals.total, ' ')} меньше уже"
                                   " оплаченной "
                                   f"{money.format_amount(money.from_kop(row['paid_kop']), ' ')}"})
        if cols["total_kop"] < row["planned_kop"]:
            raise ValidationError({"lines": "Спецификация: сумма сделки меньше запланированных"
                                   " платежей — сначала измените график"})
        new = {k: values[k] for k in _SALE_COLUMNS if k != "number"} | {"number": number}
        after_lines = _line_summary(lines)
        before_lines = _line_summary([
            {"name": ln["name"], "qty_milli": int(ln["qty"] * 1000),
             "price_kop": money.to_kop(ln["price"]), "discount_bp": int(ln["discount"] * 100),
             "vat_code": ln["vat_code"]} for ln in before["lines"]])
        changes = audit.diff({k: before[k] for k in new}, new)
        if before_lines != after_lines:
            changes["lines"] = [before_lines, after_lines]
        if cols["total_kop"] != row["total_kop"]:
            changes["total"] = [str(money.from_kop(row["total_kop"])), str(totals.total)]
        if not changes:
            return before
        sets = new | cols | {"extra": json.dumps(values["extra"], ensure_ascii=False),
                             "updated_at": now_iso(), "updated_by": actor.id,
                             "version": version + 1}
        cur = conn.execute(f"UPDATE sales SET {', '.join(f'{k} = ?' for k in sets)}"
                           " WHERE id = ? AND version = ?", [*sets.values(), sale_id, version])
        if cur.rowcount != 1:
            raise conflict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                               (sale_id,)).fetchone(), base, "sale")
        _write_lines(conn, sale_id, lines)
        _recalc_payments(conn, sale_id)
        index_sale(conn, sale_id)
        audit.record(conn, actor, "update", "sale", sale_id, row["client_id"],
                     f"{number} {values['title']}".strip(), changes)
        return _form_dict(conn, conn.execute("SELECT * FROM sales WHERE id = ?",
                                             (sale_id,)).fetchone())


def _set_status(conn: sqlite3.Connection, actor: Actor, row: sqlite3.Row | Mapping[str, Any],
                status: Mapping[str, Any], reason: str, note: str) -> None:
    ts = now_iso()
    conn.execute("UPDATE sales SET status_id = ?, status_at = ?, lost_reason = ?,"
                 " updated_at = ?, updated_by = ? WHERE id = ?",
                 (status["id"], ts, reason if status["is_lost"] else "", ts, actor.id, row["id"]))
    conn.execute("INSERT INTO sale_status_log (sale_id, from_status_id, to_status_id, actor_id,"
                 " at, note) VALUES (?,?,?,?,?,?)",
                 (row["id"], row["status_id"], status["id"], actor.id, ts,
                  reason if status["is_lost"] else note))
    old = conn.execute("SELECT label FROM sale_statuses WHERE id = ?",
                       (row["status_id"],)).fetchone()
    audit.record(conn, actor, "status", "sale", row["id"], row["client_id"],
                 f"{row['number']}: {old['label'] if old else '?'} → {status['label']}",
                 {"status_id": [row["status_id"], status["id"]],
                  **({"lost_reason": reason} if status["is_lost"] else {})})


def set_status(store: Store, actor: Actor, sale_id: int, status: int | str, *,
               reason: str = "", note: str = "") -> dict[str, Any]:
    """Move a sale to ``status`` (id, code or label); logged with who and when.
    A "lost" status needs a ``reason``. Returns the new status."""
    require(actor, "sale.update")
    errors: dict[str, str] = {}
    try:
        reason = clean(reason, 500)
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"reason": f"Причина: {exc}"}) from None
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        target = statuses.resolve(conn, status)
        if not target["is_active"]:
            errors["status"] = f"Статус «{target['label']}» отключён"
        if target["is_lost"] and not reason:
            errors["reason"] = "Причина: укажите, почему сделка проиграна или отменена"
        if errors:
            raise ValidationError(errors)
        if target["id"] != row["status_id"]:
            _set_status(conn, actor, row, target, reason, note)
        return target


def next_status(store: Store, actor: Actor, sale_id: int) -> dict[str, Any] | None:
    """The next active, non-lost status after the sale's current one (board "→")."""
    require(actor, "sale.read")
    with store.read() as conn:
        row = _visible(conn, actor, sale_id)
        ordered = [s for s in statuses.by_id(conn).values() if s["is_active"] and not s["is_lost"]]
        ordered.sort(key=lambda s: (s["sort"], s["id"]))
        ids = [s["id"] for s in ordered]
        if row["status_id"] not in ids:
            return None
        i = ids.index(row["status_id"])
        return ordered[i + 1] if i + 1 < len(ordered) else None


# --- payments ---------------------------------------------------------------------------


def overdue_from(plans: Sequence[tuple[str, int]], paid_kop: int) -> str | None:
    """The due date of the first planned payment not covered by ``paid_kop``
    (plans as (date, kopecks), any order); None when payments cover the plan."""
    cumulative = 0
    for day, amount in sorted(plans):
        cumulative += amount
        if cumulative > paid_kop:
            return day
    return None


def _recalc_payments(conn: sqlite3.Connection, sale_id: int) -> None:
    plans = [(r[0], int(r[1])) for r in conn.execute(
        "SELECT date, amount_kop FROM sale_payments WHERE sale_id = ? AND kind = 'plan'"
        " AND deleted_at IS NULL", (sale_id,))]
    paid = int(conn.execute("SELECT coalesce(sum(amount_kop), 0) FROM sale_payments WHERE"
                            " sale_id = ? AND kind = 'fact' AND deleted_at IS NULL",
                            (sale_id,)).fetchone()[0])
    conn.execute("UPDATE sales SET paid_kop = ?, planned_kop = ?, overdue_from = ? WHERE id = ?",
                 (paid, sum(a for _, a in plans), overdue_from(plans, paid), sale_id))


def _payment_input(amount: object, day: object, label: str,
                   default_today: bool) -> tuple[int, str]:
    errors: dict[str, str] = {}
    kop = 0
    iso = ""
    try:
        kop = _amount_kop(amount, "Сумма")
    except ValueError as exc:
        errors["amount"] = str(exc)
    try:
        iso = parse_date(day or (today() if default_today else None), label,
                         required=True) or ""
    except ValueError as exc:
        errors["date"] = str(exc)
    if errors:
        raise ValidationError(errors)
    return kop, iso


def add_planned_payment(store: Store, actor: Actor, sale_id: int, amount: object, date: object,
                        note: str = "") -> dict[str, Any]:
    """Add a planned payment (date, amount, note). The plan may not exceed the sale's
    total."""
    require(actor, "sale.update")
    kop, day = _payment_input(amount, date, "Дата платежа", False)
    try:
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"note": f"Примечание: {exc}"}) from None
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        if row["planned_kop"] + kop > row["total_kop"]:
            left = money.format_amount(money.from_kop(row["total_kop"] - row["planned_kop"]), " ")
            raise ValidationError({"amount": f"Сумма: план платежей больше суммы сделки"
                                             f" (можно запланировать ещё {left})"})
        pid = _insert_payment(conn, actor, row, "plan", kop, day, "", note)
        audit.record(conn, actor, "payment_plan", "sale", sale_id, row["client_id"],
                     f"{row['number']}: план {money.format_amount(money.from_kop(kop), ' ')}"
                     f" на {day}", {"payment_id": pid, "amount": str(money.from_kop(kop)),
                                    "date": day})
        return _payment_row(conn, pid)


def _insert_payment(conn: sqlite3.Connection, actor: Actor, row: RowLike, kind: str,
                    kop: int, day: str, document: str, note: str) -> int:
    cur = conn.execute("INSERT INTO sale_payments (sale_id, kind, date, amount_kop, document,"
                       " note, created_by, created_at) VALUES (?,?,?,?,?,?,?,?)",
                       (row["id"], kind, day, kop, document, note, actor.id, now_iso()))
    _recalc_payments(conn, row["id"])
    return int(cur.lastrowid or 0)


def _payment_row(conn: sqlite3.Connection, pid: int) -> dict[str, Any]:
    d = dict(conn.execute("SELECT * FROM sale_payments WHERE id = ?", (pid,)).fetchone())
    d["amount"] = money.from_kop(d["amount_kop"])
    return d


def add_payment(store: Store, actor: Actor, sale_id: int, amount: object, date: object = None,
                document: str = "", note: str = "",
                apply_suggestion: bool | None = None) -> dict[str, Any]:
    """Record a payment received (date, amount, payment document). A payment larger
    than the debt is refused. Returns ``{"payment", "balance", "suggested_status",
    "status_changed"}``: when the sale becomes partly or fully paid the matching
    status is suggested, and applied when ``apply_suggestion`` (default: the
    ``sale_auto_status`` setting)."""
    require(actor, "sale.update")
    kop, day = _payment_input(amount, date, "Дата оплаты", True)
    try:
        document = clean(document, 200)
        note = clean(note, 500)
    except ValueError as exc:
        raise ValidationError({"document": f"Документ: {exc}"}) from None
    if day > (today() + timedelta(days=1)).isoformat():
        raise ValidationError({"date": "Дата оплаты: оплата не может быть в будущем"})
    if apply_suggestion is None:
        apply_suggestion = bool(settings.get(store, "sale_auto_status"))
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        st = statuses.by_id(conn).get(row["status_id"])
        if st and st["is_lost"]:
            raise ValidationError({"amount": "Сделка проиграна или отменена — оплату не принять"})
        debt = row["total_kop"] - row["paid_kop"]
        if kop > debt:
            raise ValidationError({"amount": "Сумма: платёж "
                                   f"{money.format_amount(money.from_kop(kop), ' ')} больше долга "
                                   f"{money.format_amount(money.from_kop(max(debt, 0)), ' ')}"})
        pid = _insert_payment(conn, actor, row, "fact", kop, day, document, note)
        audit.record(conn, actor, "payment", "sale", sale_id, row["client_id"],
                     f"{row['number']}: оплата {money.format_amount(money.from_kop(kop), ' ')}"
                     f" от {day}", {"payment_id": pid, "amount": str(money.from_kop(kop)),
                                    "date": day, "document": document})
        fresh = conn.execute("SELECT * FROM sales WHERE id = ?", (sale_id,)).fetchone()
        suggestion = suggest_status(conn, fresh)
        changed = False
        if suggestion and apply_suggestion:
            _set_status(conn, actor, fresh, suggestion, "", "по оплате")
            changed = True
        plans = _payments(conn, sale_id, "plan")
        return {"payment": _payment_row(conn, pid), "balance": _balance(fresh, plans, today()),
                "suggested_status": suggestion, "status_changed": changed}


def delete_payment(store: Store, actor: Actor, payment_id: int) -> None:
    """Remove a planned or actual payment (kept in the table, marked deleted)."""
    require(actor, "sale.update")
    with store.write() as conn:
        p = conn.execute("SELECT * FROM sale_payments WHERE id = ? AND deleted_at IS NULL",
                         (payment_id,)).fetchone()
        if p is None:
            raise NotFound(f"Платёж №{payment_id} не найден")
        row = _visible(conn, actor, p["sale_id"])
        conn.execute("UPDATE sale_payments SET deleted_at = ? WHERE id = ?", (now_iso(),
                                                                              payment_id))
        _recalc_payments(conn, row["id"])
        audit.record(conn, actor, "payment_delete", "sale", row["id"], row["client_id"],
                     f"{row['number']}: удалён платёж"
                     f" {money.format_amount(money.from_kop(p['amount_kop']), ' ')} от {p['date']}",
                     {"payment_id": payment_id, "kind": p["kind"],
                      "amount": str(money.from_kop(p["amount_kop"])), "date": p["date"]})


# --- contact history --------------------------------------------------------------------


def _history(conn: sqlite3.Connection, where: str, args: list[object],
             limit: int) -> list[dict[str, Any]]:
    return [dict(r) | {"channel_label": CHANNELS.get(r["channel"], (r["channel"],))[0]}
            for r in conn.execute(
                "SELECT i.id, i.client_id, i.sale_id, s.number AS sale_number, i.contact_id,"
                " t.name AS contact_name, i.at, i.channel, i.subject, i.outcome, i.user_id,"
                " u.full_name AS user_name, i.created_at, i.version FROM interactions i"
                " LEFT JOIN sales s ON s.id = i.sale_id"
                " LEFT JOIN contacts t ON t.id = i.contact_id"
                " LEFT JOIN users u ON u.id = i.user_id"
                f" WHERE {where} AND i.deleted_at IS NULL ORDER BY i.at DESC, i.id DESC LIMIT ?",
                [*args, limit])]


def add_contact_event(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Log a contact: ``sale_id`` or ``client_id``, ``at`` (default now), ``contact_id``
    (the client's employee), ``channel`` (call, meeting, email, messenger, other),
    ``subject``, ``outcome``, ``user_id`` (who of us; default the actor)."""
    require(actor, "sale.update")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit, label in (("subject", 300, "Тема"), ("outcome", 5000, "Результат")):
        try:
            values[name] = clean(data.get(name), limit)
        except ValueError as exc:
            errors[name] = f"{label}: {exc}"
    if not errors and not values["subject"] and not values["outcome"]:
        errors["subject"] = "Тема: заполните тему или результат"
    channel = str(data.get("channel") or "call")
    if channel not in CHANNELS:
        channel = next((k for k, v in CHANNELS.items() if channel.lower() in
                        (v[0].lower(), v[1].lower())), channel)
    if channel not in CHANNELS:
        errors["channel"] = "Канал: звонок, встреча, e-mail, мессенджер или другое"
    try:
        values["at"] = _parse_at(data.get("at"))
    except ValueError as exc:
        errors["at"] = str(exc)
    if errors:
        raise ValidationError(errors)
    with store.write() as conn:
        sale = None
        if data.get("sale_id"):
            sale = _visible(conn, actor, int(data["sale_id"]))
            client_id = sale["client_id"]
        elif data.get("client_id"):
            client_id = int(data["client_id"])
            check_visible(conn, actor, client_id)
        else:
            raise ValidationError({"client_id": "Клиент: укажите клиента или сделку"})
        contact_id = _opt_int(data.get("contact_id"))
        if contact_id is not None and conn.execute(
                "SELECT 1 FROM contacts WHERE id = ? AND client_id = ? AND deleted_at IS NULL",
                (contact_id, client_id)).fetchone() is None:
            raise ValidationError({"contact_id": "Контактное лицо: это не сотрудник клиента"})
        user_id = _opt_int(data.get("user_id")) or actor.id
        ts = now_iso()
        cur = conn.execute(
            "INSERT INTO interactions (client_id, sale_id, contact_id, at, channel, subject,"
            " outcome, user_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (client_id, sale["id"] if sale else None, contact_id, values["at"], channel,
             values["subject"], values["outcome"], user_id, ts, ts))
        eid = int(cur.lastrowid or 0)
        audit.record(conn, actor, "contact_event", "sale" if sale else "client",
                     sale["id"] if sale else client_id, client_id,
                     f"{CHANNELS[channel][0]}: {values['subject'] or values['outcome']}"[:200])
        return _history(conn, "i.id = ?", [eid], 1)[0]


def contact_history(store: Store, actor: Actor, client_id: int | None = None,
                    sale_id: int | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Contacts logged for a sale, or for a client (all its sales included), newest first."""
    require(actor, "sale.read")
    with store.read() as conn:
        if sale_id is not None:
            _visible(conn, actor, sale_id)
            return _history(conn, "i.sale_id = ?", [sale_id], limit)
        if client_id is None:
            raise ValidationError({"client_id": "Клиент: укажите клиента или сделку"})
        check_visible(conn, actor, client_id)
        return _history(conn, "i.client_id = ?", [client_id], limit)


def delete_contact_event(store: Store, actor: Actor, event_id: int) -> None:
    require(actor, "sale.update")
    with store.write() as conn:
        row = conn.execute("SELECT * FROM interactions WHERE id = ? AND deleted_at IS NULL",
                           (event_id,)).fetchone()
        if row is None:
            raise NotFound(f"Запись №{event_id} не найдена")
        check_visible(conn, actor, row["client_id"])
        conn.execute("UPDATE interactions SET deleted_at = ?, version = version + 1 WHERE id = ?",
                     (now_iso(), event_id))
        audit.record(conn, actor, "contact_event_delete", "client", row["client_id"],
                     row["client_id"], row["subject"] or row["outcome"][:100])


# --- files and links --------------------------------------------------------------------


def attach_file(store: Store, actor: Actor, sale_id: int, name: str,
                data: bytes | BinaryIO) -> dict[str, Any]:
    """Attach a file to a sale (also listed on the client's card); its text is
    extracted for search, as on the client card."""
    require(actor, "file.upload")
    fname = files.safe_name(name)
    with store.read() as conn:
        _visible(conn, actor, sale_id)
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray)) else data
    sha, size = files.put_blob(store, stream, settings.upload_limit_bytes(store))
    with store.read() as conn:
        known = conn.execute("SELECT text_status, text FROM blobs WHERE sha256 = ?",
                             (sha,)).fetchone()
    if known:
        status, text = known["text_status"], known["text"]
    else:
        status, text = extract_text(files.blob_path(store, sha).read_bytes(), fname)
    with store.write() as conn:
        return _attach(conn, actor, sale_id, fname, sha, size, status, text)


def _attach(conn: sqlite3.Connection, actor: Actor, sale_id: int, fname: str, sha: str,
            size: int, status: str, text: str) -> dict[str, Any]:
    row = _visible(conn, actor, sale_id)
    ts = now_iso()
    mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
    conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, text, created_at)"
                 " VALUES (?,?,?,?,?)", (sha, size, status, text, ts))
    cur = conn.execute(
        "INSERT INTO files (client_id, sale_id, sha256, name, size, mime, uploaded_by,"
        " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (row["client_id"], sale_id, sha, fname, size, mime, actor.id, ts, ts))
    frow = conn.execute("SELECT * FROM files WHERE id = ?", (cur.lastrowid,)).fetchone()
    files.index_file(conn, frow, text)
    audit.record(conn, actor, "upload", "file", frow["id"], row["client_id"],
                 f"{row['number']}: {fname}", {"size": size, "sha256": sha, "sale_id": sale_id})
    return dict(frow) | {"text_status": status}


def list_files(store: Store, actor: Actor, sale_id: int) -> list[dict[str, Any]]:
    require(actor, "sale.read")
    with store.read() as conn:
        _visible(conn, actor, sale_id)
        return [dict(r) for r in conn.execute(
            "SELECT f.*, b.text_status, u.full_name AS uploaded_by_name FROM files f"
            " JOIN blobs b ON b.sha256 = f.sha256 LEFT JOIN users u ON u.id = f.uploaded_by"
            " WHERE f.sale_id = ? AND f.deleted_at IS NULL ORDER BY f.id DESC", (sale_id,))]


def add_link(store: Store, actor: Actor, sale_id: int, url: str,
             title: str = "") -> dict[str, Any]:
    """Attach a link (cloud folder, …) to a sale."""
    require(actor, "sale.update")
    try:
        url = check_url(url)
        title = clean(title, 300)
    except ValueError as exc:
        raise ValidationError({"url": f"Ссылка: {exc}"}) from None
    if not url:
        raise ValidationError({"url": "Ссылка: обязательное поле"})
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        ts = now_iso()
        cur = conn.execute("INSERT INTO links (client_id, sale_id, title, url, created_by,"
                           " created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                           (row["client_id"], sale_id, title, url, actor.id, ts, ts))
        link = conn.execute("SELECT * FROM links WHERE id = ?", (cur.lastrowid,)).fetchone()
        search.index_row(conn, "link", link["id"], row["client_id"], title or url, [url])
        audit.record(conn, actor, "create", "link", link["id"], row["client_id"],
                     f"{row['number']}: {title or url}")
        return dict(link)


def list_links(store: Store, actor: Actor, sale_id: int) -> list[dict[str, Any]]:
    require(actor, "sale.read")
    with store.read() as conn:
        _visible(conn, actor, sale_id)
        return [dict(r) for r in conn.execute(
            "SELECT * FROM links WHERE sale_id = ? AND deleted_at IS NULL ORDER BY id",
            (sale_id,))]


# --- delete / restore -------------------------------------------------------------------


def delete(store: Store, actor: Actor, sale_id: int) -> None:
    """Soft-delete a sale (head and admin can restore it); it leaves lists and search."""
    require(actor, "sale.delete")
    with store.write() as conn:
        row = _visible(conn, actor, sale_id)
        ts = now_iso()
        conn.execute("UPDATE sales SET deleted_at = ?, updated_at = ?, updated_by = ?,"
                     " version = version + 1 WHERE id = ?", (ts, ts, actor.id, sale_id))
        search.unindex(conn, "sale", sale_id)
        audit.record(conn, actor, "delete", "sale", sale_id, row["client_id"],
                     f"{row['number']} {row['title']}".strip())


def restore(store: Store, actor: Actor, sale_id: int) -> None:
    """Undo a soft delete (head and admin)."""
    require(actor, "sale.restore")
    with store.write() as conn:
        row = _visible(conn, actor, sale_id, include_deleted=True)
        if row["deleted_at"] is None:
            return
        conn.execute("UPDATE sales SET deleted_at = NULL, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), sale_id))
        index_sale(conn, sale_id)
        audit.record(conn, actor, "restore", "sale", sale_id, row["client_id"],
                     f"{row['number']} {row['title']}".strip())


def list_deleted(store: Store, actor: Actor, limit: int = 500) -> list[dict[str, Any]]:
    """Soft-deleted sales of live clients, newest deletion first (head and admin)."""
    require(actor, "sale.restore")
    with store.read() as conn:
        return [dict(r) | {"total": money.from_kop(r["total_kop"])} for r in conn.execute(
            "SELECT s.id, s.number, s.title, s.date, s.total_kop, s.deleted_at, s.client_id,"
            " c.name AS client_name FROM sales s JOIN clients c ON c.id = s.client_id"
            " WHERE s.deleted_at IS NOT NULL AND c.deleted_at IS NULL"
            " ORDER BY s.deleted_at DESC LIMIT ?", (limit,))]


def new_sale_defaults(store: Store, actor: Actor, client_id: int | None = None) -> dict[str, Any]:
    """Defaults for an empty sale form: today's date, the standard VAT code for it,
    the VAT rates allowed, the owner and the first status."""
    from clientplus_core.sales import company

    tax = company.get(store)["tax_system"]
    day = today()
    owner = actor.id
    if client_id and actor.sees_everything:
        with store.read() as conn:
            row = check_visible(conn, actor, client_id)
            owner = row["owner_id"] or actor.id
    with store.read() as conn:
        first = _first_status(conn)
    return {"date": day.isoformat(), "vat_mode": "included", "discount": Decimal(0),
            "vat_code": catalogue.default_vat_code(day, tax), "owner_id": owner,
            "client_id": client_id, "status": first, "tax_system": tax,
            "vat_rates": catalogue.vat_rates(store, day, tax)}
