"""Own company requisites (the seller in offers, invoices and contracts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clientplus_core.base.errors import ValidationError
from clientplus_core.base.textnorm import clean_line
from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

COMPANY_FIELDS = ("kind", "name", "full_name", "inn", "kpp", "ogrn", "okved", "legal_address",
                  "postal_address", "postal_index", "bik", "bank_name", "corr_account", "account",
                  "director_post", "director_name", "director_post_gen", "director_name_gen",
                  "basis", "accountant_name", "phone", "email", "website")
# fields of the company that a client card does not have: the chief accountant who signs
# invoices (empty: the director signs for the accountant too)
OWN_FIELDS = {"accountant_name": 300}
OWN_LABELS = {"accountant_name": "Главный бухгалтер"}


def get(store: Store) -> dict[str, Any]:
    """The stored requisites (empty strings where not filled; requisites saved before a
    field existed read it as empty)."""
    stored = settings.get(store, "company") or {}
    return {k: stored.get(k, "") for k in COMPANY_FIELDS} | {
        "tax_system": stored.get("tax_system", "osn")}


def save(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate with the same rules as a client card and store."""
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
    if errors:
        raise ValidationError(errors)
    out = {k: values[k] for k in COMPANY_FIELDS}
    tax = str(data.get("tax_system") or "osn")
    out["tax_system"] = tax if tax in ("osn", "usn") else "osn"
    settings.put(store, actor, "company", out)
    return out
