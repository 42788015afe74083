"""Address-book criteria: checking and describing them, and evaluating them to the
ids of the matching clients (:func:`evaluate`).

Criteria (a dict; all given ones are combined with AND):

- ``segment``: name of a saved segment (:func:`segments.client_ids`);
- ``invoiced_unpaid``: a live sale whose status has ``is_invoiced`` and not
  ``is_paid`` / ``is_lost`` (flags, never names) and ``paid_kop < total_kop``;
- ``overdue_days``: N — a live, not lost sale whose first uncovered planned payment
  (``sales.overdue_from``) is more than N days in the past;
- ``product_id``: catalogue item X — a live, not lost sale with X in its lines that
  never reached a paid status (neither now nor in its status log);
- ``owner_id``: the client's responsible manager;
- ``no_contact_days``: N — no interaction (call, meeting, letter …) in the last N days;
- ``birthday_month``: a contact's birthday (or a person client's custom field
  ``birth_date``) falls in the current month;
- ``all_clients``: every client (otherwise a book without criteria holds only its
  manual additions).

Everything is evaluated with set-based SQL inside the acting user's scope
(:func:`access.client_scope`): a manager's book never yields another manager's client,
whoever created the book.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from clientplus_core.base.errors import ValidationError
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, client_scope, require

CRITERIA: dict[str, tuple[str, str]] = {
    "segment": ("Сегмент", "Segment"),
    "invoiced_unpaid": ("Выставлен счёт, не оплачено", "Invoiced, not paid"),
    "overdue_days": ("Просрочка оплаты больше N дней", "Payment overdue more than N days"),
    "product_id": ("Интересовался товаром (не оплачено)", "Interested in product (not paid)"),
    "owner_id": ("Клиенты менеджера", "Clients of manager"),
    "no_contact_days": ("Нет контакта N дней", "No contact for N days"),
    "birthday_month": ("День рождения в этом месяце", "Birthday this month"),
    "all_clients": ("Все клиенты", "All clients"),
}
SALE_CRITERIA = ("invoiced_unpaid", "overdue_days", "product_id")


def today() -> date:
    """The business date; a function so tests can move "today"."""
    from clientplus_core import sales

    return sales.today()


# --- criteria ------------------------------------------------------------------------------


def _int(value: object, label: str, minimum: int = 0) -> int:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationError({label: f"{CRITERIA[label][0]}: целое число"}) from None
    if n < minimum:
        raise ValidationError({label: f"{CRITERIA[label][0]}: не меньше {minimum}"})
    return n


def normalise_criteria(criteria: Mapping[str, Any] | None) -> dict[str, Any]:
    """Keep the known criteria with valid values; ``ValidationError`` names a bad one."""
    out: dict[str, Any] = {}
    for key, value in (criteria or {}).items():
        if key not in CRITERIA:
            raise ValidationError({key: f"Неизвестное условие «{key}»"})
        if value in (None, "", False, [], {}):
            continue
        if key in ("invoiced_unpaid", "birthday_month", "all_clients"):
            out[key] = True
        elif key == "segment":
            out[key] = " ".join(str(value).split())
        elif key in ("product_id", "owner_id"):
            out[key] = _int(value, key, 1)
        else:
            out[key] = _int(value, key, 0)
    return out


def describe(criteria: Mapping[str, Any], names: Mapping[str, Mapping[int, str]] | None = None
             ) -> str:
    """A one-line Russian description of the criteria (for lists and exports)."""
    names = names or {}
    parts = []
    for key, value in criteria.items():
        label = CRITERIA.get(key, (key,))[0]
        if key in ("invoiced_unpaid", "birthday_month", "all_clients"):
            parts.append(label)
        elif key in ("overdue_days", "no_contact_days"):
            parts.append(label.replace("N", str(value)))
        elif key in ("product_id", "owner_id"):
            parts.append(f"{label}: {names.get(key, {}).get(value, f'№{value}')}")
        else:
            parts.append(f"{label}: {value}")
    return " И ".join(parts) or "только вручную добавленные"


_SALE_LIVE = "s.deleted_at IS NULL"
_INVOICED = ("s.status_id IN (SELECT id FROM sale_statuses WHERE is_invoiced = 1 AND is_paid = 0"
             " AND is_lost = 0) AND s.paid_kop < s.total_kop")
_NOT_LOST = "s.status_id IN (SELECT id FROM sale_statuses WHERE is_lost = 0)"
_NOT_PAID = "s.status_id IN (SELECT id FROM sale_statuses WHERE is_paid = 0 AND is_lost = 0)"
_NEVER_PAID = ("NOT EXISTS (SELECT 1 FROM sale_status_log g JOIN sale_statuses gs ON"
               " gs.id = g.to_status_id WHERE g.sale_id = s.id AND gs.is_paid = 1)")


def sale_condition(key: str, value: Any, day: date) -> tuple[str, str, list[object]]:
    """(FROM, WHERE, args) selecting the sales matching a sale-based criterion."""
    if key == "invoiced_unpaid":
        return "sales s", f"{_SALE_LIVE} AND {_INVOICED}", []
    if key == "overdue_days":
        cutoff = (day - timedelta(days=int(value))).isoformat()
        return ("sales s", f"{_SALE_LIVE} AND s.overdue_from IS NOT NULL AND s.overdue_from < ?"
                f" AND {_NOT_LOST}", [cutoff])
    if key == "product_id":
        return ("sale_lines l JOIN sales s ON s.id = l.sale_id",
                f"l.catalogue_id = ? AND {_SALE_LIVE} AND {_NOT_PAID} AND {_NEVER_PAID}",
                [int(value)])
    raise KeyError(key)


# a birthday in a month ("MM"): a live contact's (alias k), a person client's (alias c);
# the criterion and the recipients of a birthday book (:func:`only_celebrants`) share them
CONTACT_BIRTHDAY = "k.deleted_at IS NULL AND substr(k.birthday, 6, 2) = ?"
PERSON_BIRTHDAY = ("c.kind = 'person' AND substr(json_extract(c.extra, '$.birth_date'), 6, 2)"
                    " = ?")


def _conditions(criteria: Mapping[str, Any], day: date) -> list[tuple[str, list[object]]]:
    """SQL conditions on ``clients c`` for every criterion but ``segment``."""
    out: list[tuple[str, list[object]]] = []
    for key, value in criteria.items():
        if key in SALE_CRITERIA:
            src, where, args = sale_condition(key, value, day)
            out.append((f"c.id IN (SELECT s.client_id FROM {src} WHERE {where})", args))
        elif key == "owner_id":
            out.append(("c.owner_id = ?", [int(value)]))
        elif key == "no_contact_days":
            cutoff = (day - timedelta(days=int(value))).isoformat()
            out.append(("NOT EXISTS (SELECT 1 FROM interactions i WHERE i.client_id = c.id"
                        " AND i.deleted_at IS NULL AND i.at >= ?)", [cutoff]))
        elif key == "birthday_month":
            month = f"{day.month:02d}"
            out.append((f"(EXISTS (SELECT 1 FROM contacts k WHERE k.client_id = c.id AND"
                        f" {CONTACT_BIRTHDAY}) OR ({PERSON_BIRTHDAY}))", [month, month]))
    return out


def evaluate(store: Store, actor: Actor, criteria: Mapping[str, Any],
             day: date | None = None) -> list[int]:
    """Ids of the clients (in the actor's scope) matching ``criteria`` now, sorted.
    Empty criteria match nobody (``all_clients`` matches everybody)."""
    require(actor, "client.read")
    crit = normalise_criteria(criteria)
    if not crit:
        return []
    day = day or today()
    seg_ids: set[int] | None = None
    if "segment" in crit:
        from clientplus_core.analytics import segments

        seg_ids = set(segments.client_ids(store, actor, crit["segment"]))
        if not seg_ids:
            return []
    scope, args = client_scope(actor)
    where, params = ["c.deleted_at IS NULL", scope], list(args)
    for sql, a in _conditions(crit, day):
        where.append(sql)
        params += a
    with store.read() as conn:
        ids = [r[0] for r in conn.execute(
            f"SELECT c.id FROM clients c WHERE {' AND '.join(where)} ORDER BY c.id", params)]
    if seg_ids is not None:
        ids = [i for i in ids if i in seg_ids]
    return ids
