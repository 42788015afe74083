"""Own company requisites (the seller in offers, invoices and contracts)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clientplus_core.clients import cards as clients
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

COMPANY_FIELDS = ("kind", "name", "full_name", "inn", "kpp", "ogrn", "okved", "legal_address",
                  "postal_address", "postal_index", "bik", "bank_name", "corr_account", "account",
                  "director_post", "director_name", "phone", "email", "website")


def get(store: Store) -> dict[str, Any]:
    """The stored requisites (empty strings where not filled)."""
    stored = settings.get(store, "company") or {}
    return {k: stored.get(k, "") for k in COMPANY_FIELDS} | {
        "tax_system": stored.get("tax_system", "osn")}


def save(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate with the same rules as a client card and store."""
    require(actor, "settings.company")
    values = clients.normalise({k: data.get(k, "") for k in COMPANY_FIELDS})
    out = {k: values[k] for k in COMPANY_FIELDS}
    tax = str(data.get("tax_system") or "osn")
    out["tax_system"] = tax if tax in ("osn", "usn") else "osn"
    settings.put(store, actor, "company", out)
    return out
