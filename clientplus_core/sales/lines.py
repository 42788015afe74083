"""The sale's card and specification as entered, validated and totalled: the
specification lines (:func:`normalise_lines`, :func:`preview_lines` for the card's
live totals) and the whole card before it is saved (:func:`normalise`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from clientplus_core.base.errors import ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.records import custom_fields
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales import catalogue, money
from clientplus_core.sales.common import opt_int, parse_date, percent_bp, today
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, client_scope

LABELS = {"client_id": "Клиент", "contact_id": "Контактное лицо", "owner_id": "Ответственный",
          "date": "Дата", "title": "Название", "source": "Источник",
          "expected_close": "Ожидаемая дата закрытия", "vat_mode": "НДС", "discount": "Скидка",
          "notes": "Примечания", "number": "Номер", "prefix": "Префикс номера",
          "lines": "Спецификация", "discount_bp": "Скидка", "total": "Сумма",
          "status_id": "Статус", "lost_reason": "Причина проигрыша", "extra": "Доп. поля"}
# The same fields in English (the history in the English interface)
LABELS_EN = {"client_id": "Client", "contact_id": "Contact person", "owner_id": "Owner",
             "date": "Date", "title": "Title", "source": "Source",
             "expected_close": "Expected close date", "vat_mode": "VAT", "discount": "Discount",
             "notes": "Notes", "number": "Number", "prefix": "Number prefix",
             "lines": "Specification", "discount_bp": "Discount", "total": "Total",
             "status_id": "Status", "lost_reason": "Reason lost", "extra": "Custom fields"}
LINE_LABELS = {"name": "Наименование", "qty": "Количество", "price": "Цена",
               "discount": "Скидка", "vat_code": "НДС", "unit": "Ед.", "sku": "Артикул",
               "catalogue_id": "Позиция каталога", "amount": "Сумма"}


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
        disc = percent_bp(discount, "Скидка на продажу")
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
            line["discount_bp"] = percent_bp(raw.get("discount"), "Скидка")
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


def normalise(conn: sqlite3.Connection, store: Store, actor: Actor, data: Mapping[str, Any],
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
            out["discount_bp"] = percent_bp(merged.get("discount"), "Скидка на продажу")
        else:
            out["discount_bp"] = int(merged.get("discount_bp") or 0)
    except ValueError as exc:
        errors["discount"] = str(exc)
        out["discount_bp"] = 0
    # contact: an employee of this client
    try:
        contact_id = opt_int(merged.get("contact_id"))
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
        owner = opt_int(merged.get("owner_id"))
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
            errors["owner_id"] = "Ответственный: у пользователя нет права вести продажи"
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
