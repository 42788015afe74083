"""The specification editor of a sale and its totals.

Lines are edited in an ``st.data_editor`` inside the card's form, as text (so
«1 500,50» and «2,5» can be typed); the core parses, validates and totals them.
Money is never computed here with floats: the totals shown come from the saved
sale (``sales.get_card``) or, for «Пересчитать», from the core's own line
normalisation run without saving (:func:`preview`).

The editor's rows live in session state under the card snapshot (``spec.rows``),
so typed lines survive a refused save; a catalogue pick fills the row's name,
unit, price and VAT on «Пересчитать» (and on save the core does the same).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base import formats
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.sales import catalogue, company, money
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.common import Snapshot
from clientplus_ui.i18n import lang, tr
from clientplus_ui.sales.common import qty_text, rub

COLUMNS = ("item", "name", "qty", "unit", "price", "discount", "vat", "amount")
# pixel widths (fit a wide page; the browser test clicks cells by these)
WIDTHS = {"item": 160, "name": 225, "qty": 75, "unit": 55, "price": 95, "discount": 95,
          "vat": 85, "amount": 100}


class Choices:
    """Catalogue items and VAT rates as the editor's select options (label <-> id/code)."""

    def __init__(self, store: Store, actor: Actor, on: str | None, keep: Sequence[int] = ()):
        tax = company.get(store)["tax_system"]
        self.rates = catalogue.vat_rates(store, on, tax)
        all_rates = {r["code"]: r for r in catalogue.vat_rates(store)}
        self.rate_label = {code: r["label"] for code, r in all_rates.items()}
        self.rate_code = {r["label"]: code for code, r in all_rates.items()}
        self.default_code = catalogue.default_vat_code(on or sales.today(), tax)
        items = catalogue.list_items(store, actor, active_only=True, limit=1000)
        known = {i["id"] for i in items}
        for item_id in keep:  # a line may refer to an item switched off since
            if item_id and item_id not in known:
                try:
                    items.append(catalogue.get(store, actor, item_id))
                except UserError:
                    pass
        self.items = {i["id"]: i for i in items}
        self.item_label: dict[int, str] = {}
        seen: set[str] = set()
        for i in items:
            label = i["name"] + (f" [{i['sku']}]" if i["sku"] else "")
            if label in seen:
                label += f" №{i['id']}"
            seen.add(label)
            self.item_label[i["id"]] = label
        self.item_id = {v: k for k, v in self.item_label.items()}

    def vat_options(self) -> list[str]:
        return [r["label"] for r in self.rates]


def rows_from_lines(lines: Sequence[Mapping[str, Any]], ch: Choices) -> list[dict[str, Any]]:
    """Stored lines (Decimal values) -> editor rows (text)."""
    return [{
        "item": ch.item_label.get(ln.get("catalogue_id") or 0),
        "name": ln.get("name") or "",
        "qty": qty_text(ln["qty"]),
        "unit": ln.get("unit") or "",
        "price": rub(ln["price"], sign=False),
        "discount": qty_text(ln["discount"]) if ln.get("discount") else "",
        "vat": ch.rate_label.get(ln.get("vat_code") or "", ln.get("vat_code") or ""),
        "amount": rub(ln["amount"], sign=False) if ln.get("amount") is not None else "",
    } for ln in lines]


# how English groups thousands: «12,000.00», «1,500» (a lone «349,90» is a decimal comma)
_EN_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?")


def plain(text: object, language: str) -> str:
    """A number typed or shown in ``language`` as the core reads it: English
    thousands commas dropped («12,000.00» -> «12000.00»); other text as it is."""
    value = str(text or "").strip()
    return value.replace(",", "") if language == "en" and _EN_GROUPED.fullmatch(value) \
        else value


def relocalise(rows: Sequence[Mapping[str, Any]], was: str) -> list[dict[str, Any]]:
    """Rows shown in language ``was`` with their prices and amounts written as the
    current language does (after the RU/EN switch); text that is no plain amount with
    at most two decimals stays as typed, so the core still names what is wrong."""
    out = []
    for row in rows:
        row = dict(row)
        for col in ("price", "amount"):
            d = formats.to_decimal(plain(row.get(col), was))
            if d is not None and d == round(d, 2):
                row[col] = rub(d, sign=False)
        out.append(row)
    return out


def _blank(row: Mapping[str, Any]) -> bool:
    return not any(str(row.get(c) or "").strip() for c in COLUMNS if c not in ("vat", "amount"))


def lines_from_rows(rows: Sequence[Mapping[str, Any]], ch: Choices) -> list[dict[str, Any]]:
    """Editor rows -> the ``lines`` the core takes (empty rows dropped, text kept as
    typed so the core names what is wrong)."""
    out = []
    for row in rows:
        if _blank(row):
            continue
        vat = str(row.get("vat") or "").strip()
        out.append({
            "catalogue_id": ch.item_id.get(row.get("item") or ""),
            "name": str(row.get("name") or "").strip(),
            "qty": plain(row.get("qty"), lang()),
            "unit": str(row.get("unit") or "").strip(),
            "price": plain(row.get("price"), lang()),
            "discount": plain(row.get("discount"), lang()),
            "vat_code": ch.rate_code.get(vat, vat),
        })
    return out


def fill_from_catalogue(rows: list[dict[str, Any]], before: Sequence[Mapping[str, Any]],
                        ch: Choices) -> list[dict[str, Any]]:
    """A row whose catalogue pick is new takes the item's name, unit, price and VAT
    (a row keeps what the user typed when the pick did not change)."""
    out = []
    for n, row in enumerate(rows):
        row = dict(row)
        item = ch.items.get(ch.item_id.get(row.get("item") or "", 0))
        old = before[n].get("item") if n < len(before) else None
        if item is not None and (row.get("item") != old or not row.get("name")):
            row.update(name=item["name"], unit=item["unit"],
                       price=rub(item["price"], sign=False),
                       vat=ch.rate_label.get(item["vat_code"], row.get("vat")))
            if not row.get("qty"):
                row["qty"] = "1"
        if not row.get("vat") and not _blank(row):
            row["vat"] = ch.rate_label.get(ch.default_code, "")
        out.append(row)
    return out


def editor(snap: Snapshot, rows: list[dict[str, Any]], ch: Choices,
           disabled: bool) -> list[dict[str, Any]]:
    """The lines editor (inside the card's form); returns the rows as edited."""
    key = snap.key(f"spec{snap.get('spec.gen', 0)}")
    blank = dict.fromkeys(COLUMNS, "") | {"item": None, "vat": ch.rate_label.get(ch.default_code)}
    data = [blank | r for r in rows] or [blank]
    w = WIDTHS
    edited = st.data_editor(
        data, key=key, num_rows="dynamic", hide_index=True, width="stretch", placeholder="",
        disabled=True if disabled else ["amount"], column_order=COLUMNS,
        column_config={
            "item": st.column_config.SelectboxColumn(
                tr("Из каталога", "From catalogue"), options=list(ch.item_id), width=w["item"],
                help=tr("Выберите позицию — наименование, цена и НДС подставятся",
                        "Pick an item: its name, price and VAT are filled in")),
            "name": st.column_config.TextColumn(tr("Наименование", "Name"), width=w["name"]),
            "qty": st.column_config.TextColumn(tr("Кол-во", "Qty"), width=w["qty"]),
            "unit": st.column_config.TextColumn(tr("Ед.", "Unit"), width=w["unit"]),
            "price": st.column_config.TextColumn(tr("Цена", "Price"), width=w["price"]),
            "discount": st.column_config.TextColumn(tr("Скидка, %", "Disc., %"),
                                                    width=w["discount"]),
            "vat": st.column_config.SelectboxColumn(tr("НДС", "VAT"), options=ch.vat_options(),
                                                    width=w["vat"]),
            "amount": st.column_config.TextColumn(tr("Сумма", "Amount"), width=w["amount"]),
        })
    return [dict(r) for r in edited] if isinstance(edited, list) else \
        edited.to_dict("records")  # a DataFrame when the data was one


def preview(store: Store, actor: Actor, data: Mapping[str, Any]) -> tuple[list[dict[str, Any]],
                                                                         dict[str, Any]]:
    """Validate and total the lines exactly as a save would, writing nothing:
    (lines with ``amount``, totals shaped like ``get_card()["totals"]``).
    ValidationError names each bad line, as on save.

    Uses :func:`sales.preview_lines` (the save path's own validation and
    arithmetic)."""
    errors: dict[str, str] = {}
    day = data.get("date") or sales.today().isoformat()
    try:
        discount = money.parse_decimal(data.get("discount") or 0, places=2,
                                       what="Скидка на продажу")
        if discount < 0:
            raise ValueError("Скидка на продажу: не может быть отрицательной")
        if discount > 100:
            raise ValueError("Скидка на продажу: больше 100 %")
    except ValueError as exc:
        errors["discount"] = str(exc)
        discount = Decimal(0)
    rates = {r["code"]: r for r in catalogue.vat_rates(store)}
    try:
        out, totals = sales.preview_lines(store, list(data.get("lines") or []), str(day),
                                          str(data.get("vat_mode")), discount)
    except ValidationError as exc:
        raise ValidationError(errors | exc.errors) from None
    if errors:
        raise ValidationError(errors)
    label = {r["rate"]: r["label"] for r in rates.values() if r["rate"] is not None}
    shaped = {"vat_mode": totals.vat_mode, "subtotal": totals.subtotal,
              "vat_by_rate": [{"label": label.get(int(rate), f"{rate} %"), "amount": amount}
                              for rate, amount in totals.vat_by_rate.items()],
              "vat_total": totals.vat_total, "total": totals.total,
              "without_vat": totals.without_vat, "no_vat": totals.no_vat,
              "discount": discount, "words": totals.words()}
    for ln in out:
        ln["amount"] = money.from_kop(ln["amount_kop"])
        ln["qty"] = Decimal(ln["qty_milli"]) / 1000
        ln["price"] = money.from_kop(ln["price_kop"])
        ln["discount"] = Decimal(ln["discount_bp"]) / 100
    return out, shaped


def totals_view(totals: Mapping[str, Any], note: str = "") -> None:
    """Without VAT, VAT by rate, total and the total in words."""
    c1, c2, c3 = st.columns(3)
    c1.metric(tr("Без НДС", "Without VAT"), rub(totals["without_vat"]))
    c2.metric(tr("НДС", "VAT"), rub(totals["vat_total"]) if not totals["no_vat"]
              else tr("без НДС", "no VAT"))
    c3.metric(tr("Всего к оплате", "Total to pay"), rub(totals["total"]))
    included = totals["vat_mode"] == "included"
    parts = [(tr("В т.ч. НДС ", "incl. VAT ") if included else tr("НДС ", "VAT "))
             + f"{v['label']}: {rub(v['amount'])}" for v in totals["vat_by_rate"]]
    if totals["no_vat"]:
        parts = [tr("Без налога (НДС)", "No VAT")]
    if totals.get("discount"):
        parts.append(tr("скидка на продажу ", "sale discount ")
                     + f"{qty_text(totals['discount'])} %")
    st.caption(" · ".join([*parts, totals["words"]]) + (f" — {note}" if note else ""))
