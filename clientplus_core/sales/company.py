"""Own company requisites (the seller in offers, invoices and contracts).

The main settlement account (``bik``, ``bank_name``, ``corr_account``, ``account``)
is the one printed on invoices; ``extra_accounts`` holds the company's other
settlement accounts (a list of ``{account, bik, bank_name, corr_account}``), which
bank statements may come from (:func:`own_accounts` lists them all)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clientplus_core.base.errors import ValidationError
from clientplus_core.base.textnorm import clean_line
from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.records.validation import check_account, check_bik, check_corr_account
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

COMPANY_FIELDS = ("kind", "name", "full_name", "inn", "kpp", "ogrn", "okved", "legal_address",
                  "postal_address", "postal_index", "bik", "bank_name", "corr_account", "account",
                  "director_post", "director_name", "director_post_gen", "director_name_gen",
                  "basis", "director_gender", "accountant_name", "phone", "email", "website")
# the fields of one settlement account (the main one and each of ``extra_accounts``)
ACCOUNT_FIELDS = ("account", "bik", "bank_name", "corr_account")
# fields of the company that a client card does not have: the chief accountant who signs
# invoices (empty: the director signs for the accountant too)
OWN_FIELDS = {"accountant_name": 300}
OWN_LABELS = {"accountant_name": "Главный бухгалтер"}


def get(store: Store) -> dict[str, Any]:
    """The stored requisites (empty strings where not filled; requisites saved before a
    field existed read it as empty)."""
    stored = settings.get(store, "company") or {}
    return {k: stored.get(k, "") for k in COMPANY_FIELDS} | {
        "tax_system": stored.get("tax_system", "osn"),
        "extra_accounts": list(stored.get("extra_accounts") or [])}


def own_accounts(store: Store) -> list[dict[str, str]]:
    """Every settlement account of the company: the main one first (when filled),
    then the extra ones; each ``{account, bik, bank_name, corr_account}``."""
    c = get(store)
    main = [{k: c[k] for k in ACCOUNT_FIELDS}] if c["account"] else []
    seen = {a["account"] for a in main}
    return main + [a for a in c["extra_accounts"]
                   if a.get("account") and a["account"] not in seen]


def check_extra_accounts(items: object) -> list[dict[str, str]]:
    """Validate the extra settlement accounts: each needs a BIK and a 20-digit account
    whose key matches that BIK; ValidationError naming the row otherwise."""
    if not isinstance(items, list):
        raise ValidationError({"extra_accounts": "Счета: ожидается список"})
    out: list[dict[str, str]] = []
    errors: dict[str, str] = {}
    for i, item in enumerate(items, start=1):
        row = item if isinstance(item, Mapping) else {}
        label = f"Счёт {i}"
        try:
            bik = check_bik(str(row.get("bik") or ""))
            if not bik:
                raise ValueError("укажите БИК банка")
            account = check_account(str(row.get("account") or ""), bik)
            if not account:
                raise ValueError("укажите расчётный счёт")
            corr = check_corr_account(str(row.get("corr_account") or ""), bik)
            out.append({"account": account, "bik": bik, "corr_account": corr,
                        "bank_name": clean_line(row.get("bank_name"), 300)})
        except ValueError as exc:
            errors[f"extra_accounts.{i}"] = f"{label}: {exc}"
    if len({a["account"] for a in out}) < len(out):
        errors["extra_accounts"] = "Счета: один и тот же счёт указан дважды"
    if errors:
        raise ValidationError(errors)
    return out


def save(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate with the same rules as a client card and store. ``extra_accounts``
    replaces the extra settlement accounts when given; otherwise they are kept."""
    require(actor, "settings.company")
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    try:
        values = clients.normalise({k: data.get(k, "") for k in COMPANY_FIELDS
                                    if k not in OWN_FIELDS})
    except ValidationError as exc:
        errors.update(exc.errors)
    for name, limit in OWN_FIELDS.items():
        try:
            values[name] = clean_line(data.get(name), limit)
        except ValueError as exc:
            errors[name] = f"{OWN_LABELS[name]}: {exc}"
    extra: list[dict[str, str]] = []
    if "extra_accounts" in data:
        try:
            extra = check_extra_accounts(data["extra_accounts"])
        except ValidationError as exc:
            errors.update(exc.errors)
    else:
        extra = get(store)["extra_accounts"]
    if errors:
        raise ValidationError(errors)
    out: dict[str, Any] = {k: values[k] for k in COMPANY_FIELDS}
    out["extra_accounts"] = [a for a in extra if a["account"] != out["account"]]
    tax = str(data.get("tax_system") or "osn")
    out["tax_system"] = tax if tax in ("osn", "usn") else "osn"
    settings.put(store, actor, "company", out)
    return out
