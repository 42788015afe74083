"""Small pieces shared by the sales pages: money and date formatting, status and
field labels, the people who may own a sale."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from clientplus_core.base import formats
from clientplus_core.sales import money
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_ui.i18n import lang, tr

SALE_ROLES = ("admin", "head", "manager")
SALE_FIELDS = {
    "number": ("Номер", "Number"), "date": ("Дата", "Date"), "client_id": ("Клиент", "Client"),
    "contact_id": ("Контактное лицо", "Contact person"), "owner_id": ("Ответственный", "Owner"),
    "title": ("Название", "Title"), "source": ("Источник", "Source"),
    "expected_close": ("Ожидаемая дата закрытия", "Expected close"),
    "vat_mode": ("НДС", "VAT"), "discount": ("Скидка на продажу, %", "Sale discount, %"),
    "discount_bp": ("Скидка на продажу", "Sale discount"), "notes": ("Дополнительно", "Notes"),
    "lines": ("Спецификация", "Specification"), "total_kop": ("Сумма", "Total"),
    "prefix": ("Префикс номера", "Number prefix"), "extra": ("Доп. поля", "Custom fields"),
}
VAT_MODES = {"included": ("НДС в сумме", "VAT included"), "on_top": ("НДС сверху", "VAT on top")}


def sale_field_label(name: str) -> str:
    return tr(*SALE_FIELDS[name]) if name in SALE_FIELDS else name


def rub(amount: Decimal | int | str | None, sign: bool = True) -> str:
    """``Decimal("6826.84")`` -> «6 826,84 ₽» (EN «6,826.84 ₽»; formatted by the core,
    never via float; nothing reads as zero)."""
    return formats.money(amount if formats.to_decimal(amount) is not None else 0, lang(),
                         sign=sign)


def qty_text(qty: Decimal | int | str | None) -> str:
    return money.format_qty(Decimal(qty or 0))


def day(iso: object) -> str:
    """``2026-03-01`` -> ``01.03.2026`` (empty for nothing)."""
    return formats.day(iso, lang())


def to_date(iso: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(iso)[:10]) if iso else None
    except ValueError:
        return None


def status_label(status: dict[str, Any] | None) -> str:
    if not status:
        return ""
    return tr(status["label"], status.get("label_en") or status["label"])


def sale_owners(store: Store) -> dict[int, str]:
    """Active users who may own a sale: id -> name."""
    return {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)
            if u["is_active"] and u["role"] in SALE_ROLES}


def user_names(store: Store) -> dict[int, str]:
    return {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)}
