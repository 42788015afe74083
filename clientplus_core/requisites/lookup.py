"""Requisites lookup: a client card from its INN/OGRN, a bank from its BIK,
addresses from a postal index.

The online source is DaData (:mod:`clientplus_core.requisites.dadata`). Every answer is
cached in ``lookup_cache`` with the time it was fetched, so a repeated lookup is
served from the database (and works offline); ``fresh=True`` asks the service
again. Requests are counted per Moscow day in ``lookup_usage`` against the daily
limit, and only answered requests are counted: a failure writes nothing at all.

Inputs are cleaned (spaces, dashes, a leading «ИНН»/«БИК» label) and checked
(INN/OGRN check digits, BIK format) before any request is sent.

The batch re-check of every client is in
:mod:`clientplus_core.requisites.refresh`; it uses this module's cache and
usage helpers.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from clientplus_core.base.errors import UserError
from clientplus_core.base.textnorm import clean, fold
from clientplus_core.clients.fields import CLIENT_FIELDS
from clientplus_core.records.validation import (
    check_bik,
    check_corr_account,
    check_inn,
    check_kpp,
    check_ogrn,
    check_okved,
    check_postal_index,
)
from clientplus_core.requisites.dadata import (
    LimitReached,
    NoToken,
    ServiceError,
    Transport,
    default_client,
    load_config,
)
from clientplus_core.requisites.registry import (
    MOSCOW,
    STATUS_LABELS,
    status_label,
    status_warning,
)
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, require

PARTY, BANK, POSTAL = "party", "bank", "postal"
PARTY_COUNT = 20  # head office plus up to 19 branches in one answer

_MAX_LEN = {f.name: f.max_len for f in CLIENT_FIELDS}
_LABEL = re.compile(r"^\s*(ИНН|ОГРНИП|ОГРН|БИК|ИНДЕКС|INN|OGRNIP|OGRN|BIK|BIC)\s*[:№#]?\s*",
                    re.IGNORECASE)
_SEPARATORS = re.compile(r"[\s\-_./\\]")
_NON_WORD = re.compile(r"[^\w]+")


class BadQuery(UserError):
    """What was typed is not an INN/OGRN/BIK/index; nothing was sent."""


class NothingFound(UserError):
    """The register has no such INN/OGRN/BIK/index."""


# ---- input ------------------------------------------------------------------

def _digits_only(value: object, what: str) -> str:
    s = _LABEL.sub("", str(value or "").strip())
    s = _SEPARATORS.sub("", s)
    if not s:
        raise BadQuery(f"введите {what}")
    if not s.isdigit():
        raise BadQuery(f"{what}: только цифры (буквы и знаки не допускаются)")
    return s


def clean_party_query(value: object) -> str:
    """An INN (10/12 digits) or OGRN/OGRNIP (13/15) with valid check digits."""
    s = _digits_only(value, "ИНН или ОГРН")
    try:
        if len(s) in (10, 12):
            return check_inn(s)
        if len(s) in (13, 15):
            return check_ogrn(s)
    except ValueError as exc:
        raise BadQuery(str(exc)) from None
    raise BadQuery(f"ИНН — 10 или 12 цифр, ОГРН — 13, ОГРНИП — 15 (введено {len(s)})")


def clean_bik(value: object) -> str:
    """A BIK: 9 digits starting with 04."""
    try:
        return check_bik(_digits_only(value, "БИК"))
    except ValueError as exc:
        raise BadQuery(str(exc)) from None


def clean_index(value: object) -> str:
    """A Russian postal index: 6 digits."""
    try:
        return check_postal_index(_digits_only(value, "почтовый индекс"))
    except ValueError as exc:
        raise BadQuery(str(exc)) from None


# ---- results ----------------------------------------------------------------

@dataclass
class Branch:
    """A branch (or the head office) offered for choice on the card."""

    kpp: str
    name: str
    address: str
    is_head: bool = False


@dataclass
class PartyResult:
    """A company or entrepreneur as the register knows it, in our field names."""

    query: str
    fields: dict[str, str]
    status: str
    registration_date: str  # ISO date or ""
    liquidation_date: str   # ISO date or ""
    branches: list[Branch]  # head office first, then branches; [] when there are none
    fetched_at: str
    from_cache: bool

    @property
    def kind(self) -> str:
        return self.fields.get("kind", "legal")

    @property
    def status_label_ru(self) -> str:
        return status_label(self.status, self.kind, "ru")

    @property
    def warning(self) -> str | None:
        """A one-line Russian warning for a company that is not simply active."""
        return status_warning(self.status, self.kind, self.liquidation_date, "ru")

    def fields_for_branch(self, kpp: str) -> dict[str, str]:
        """The card's fields with a branch chosen: its KPP and its address as the
        postal address (the legal address stays the head office's)."""
        out = dict(self.fields)
        for b in self.branches:
            if b.kpp == kpp and not b.is_head:
                out["kpp"] = b.kpp
                out["postal_address"] = b.address
        return out

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(kind=self.kind, status_label=self.status_label_ru, warning=self.warning)
        return d


@dataclass
class BankResult:
    """A bank by its BIK."""

    bik: str
    bank_name: str
    corr_account: str
    city: str
    swift: str
    status: str
    fetched_at: str
    from_cache: bool

    @property
    def fields(self) -> dict[str, str]:
        """What goes into the card: BIK, «bank, city» and the correspondent account."""
        name = self.bank_name
        if self.city and fold(self.city) not in fold(name):
            name = f"{name}, г. {self.city}"
        return {"bik": self.bik, "bank_name": _fit("bank_name", name),
                "corr_account": self.corr_account}

    @property
    def warning(self) -> str | None:
        if self.status and self.status != "ACTIVE":
            return f"Внимание: банк {STATUS_LABELS.get(self.status, (self.status,))[0]}"
        return None

    def as_json(self) -> dict[str, Any]:
        return asdict(self) | {"fields": self.fields, "warning": self.warning}


@dataclass
class AddressSuggestion:
    """One address for a postal index."""

    value: str
    region: str = ""
    city: str = ""
    street: str = ""
    postal_code: str = ""


@dataclass
class PostalResult:
    index: str
    items: list[AddressSuggestion]
    fetched_at: str
    from_cache: bool

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# ---- mapping DaData's documented shapes to our fields -------------------------

def _s(value: object) -> str:
    """A service value as clean single-line text ("" for null / non-text)."""
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return clean(str(value).replace("\n", " "))


def _fit(name: str, value: str) -> str:
    limit = _MAX_LEN.get(name)
    return value[:limit] if limit else value


def _get(obj: object, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def _checked(fn: Callable[[str], str], value: str) -> str:
    """``fn(value)`` or ``""`` when the register's value fails our own check."""
    try:
        return fn(value)
    except ValueError:
        return ""


def _ms_date(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    try:
        return datetime.fromtimestamp(value / 1000, UTC).date().isoformat()
    except (OverflowError, OSError, ValueError):
        return ""


def _address(addr: object) -> tuple[str, str]:
    """(``"index, address"``, index) from a DaData address object."""
    value = _s(_get(addr, "value")) or _s(_get(addr, "unrestricted_value"))
    index = _checked(check_postal_index, _s(_get(addr, "data", "postal_code")))
    if not index:
        m = re.match(r"^(\d{6}),\s*", _s(_get(addr, "unrestricted_value")))
        index = m.group(1) if m else ""
    if index and value and not value.startswith(index):
        value = f"{index}, {value}"
    return value, index


def map_party(suggestion: Mapping[str, Any]) -> dict[str, str]:
    """One ``findById/party`` suggestion -> client fields (values that fail our own
    checks are left empty rather than stored wrong)."""
    data = suggestion.get("data") if isinstance(suggestion.get("data"), dict) else {}
    kind = "ip" if _get(data, "type") == "INDIVIDUAL" else "legal"
    name = _s(_get(data, "name", "short_with_opf")) or _s(suggestion.get("value"))
    full = _s(_get(data, "name", "full_with_opf")) or name
    address, index = _address(_get(data, "address"))
    if kind == "ip":
        fio = " ".join(p for p in (_s(_get(data, "fio", k)) for k in
                                   ("surname", "name", "patronymic")) if p)
        post, director = "Индивидуальный предприниматель", fio or _s(_get(data, "name", "full"))
    else:
        post = _s(_get(data, "management", "post"))
        director = _s(_get(data, "management", "name"))
        if post and post.isupper():
            post = post.capitalize()
    out = {
        "kind": kind,
        "name": name,
        "full_name": full,
        "inn": _checked(lambda v: check_inn(v, kind), _s(_get(data, "inn"))),
        "kpp": _checked(check_kpp, _s(_get(data, "kpp"))) if kind == "legal" else "",
        "ogrn": _checked(lambda v: check_ogrn(v, kind), _s(_get(data, "ogrn"))),
        "okved": _checked(check_okved, _s(_get(data, "okved"))),
        "legal_address": address,
        "postal_index": index,
        "director_post": post,
        "director_name": director,
    }
    return {k: _fit(k, v) for k, v in out.items()}


def suggestions(payload: object) -> list[dict[str, Any]]:
    """The ``suggestions`` list of an answer; a wrong shape is a service error."""
    items = payload.get("suggestions") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ServiceError("DaData вернул непонятный ответ")
    return items


def _head(items: list[dict[str, Any]]) -> dict[str, Any]:
    """The head office: an active MAIN, else any MAIN, else the first answer."""
    mains = [i for i in items if _get(i, "data", "branch_type") in ("MAIN", None)]
    active = [i for i in mains if _get(i, "data", "state", "status") == "ACTIVE"]
    return (active or mains or items)[0]


def head_status(items: list[dict[str, Any]]) -> str:
    """The head office's status code in a non-empty party answer ("" when not given)."""
    return _s(_get(_head(items), "data", "state", "status"))


def party_result(query: str, items: list[dict[str, Any]], fetched_at: str,
                 from_cache: bool) -> PartyResult:
    """A ``findById/party`` answer (head office and branches) as a :class:`PartyResult`."""
    head = _head(items)
    fields = map_party(head)
    state = _get(head, "data", "state") or {}
    branches: list[Branch] = []
    for item in items:
        if item is head or _get(item, "data", "branch_type") != "BRANCH":
            continue
        kpp = _checked(check_kpp, _s(_get(item, "data", "kpp")))
        if kpp and kpp not in {b.kpp for b in branches}:
            address, _ = _address(_get(item, "data", "address"))
            branches.append(Branch(kpp, _s(item.get("value")),
                                   _fit("postal_address", address)))
    if branches:
        branches.insert(0, Branch(fields["kpp"], fields["name"], fields["legal_address"],
                                  is_head=True))
    return PartyResult(
        query=query, fields=fields, status=_s(_get(state, "status")) or "ACTIVE",
        registration_date=_ms_date(_get(state, "registration_date")),
        liquidation_date=_ms_date(_get(state, "liquidation_date")),
        branches=branches, fetched_at=fetched_at, from_cache=from_cache)


def _bank_result(bik: str, item: dict[str, Any], fetched_at: str,
                 from_cache: bool) -> BankResult:
    data = item.get("data") if isinstance(item.get("data"), dict) else {}
    found_bik = _checked(check_bik, _s(_get(data, "bic"))) or bik
    city = _s(_get(data, "address", "data", "city"))
    if not city:
        m = re.search(r"\bг\.?\s+([^,]+)", _s(_get(data, "address", "value")))
        city = m.group(1).strip() if m else ""
    return BankResult(
        bik=found_bik,
        bank_name=_s(_get(data, "name", "payment")) or _s(item.get("value")),
        corr_account=_checked(lambda v: check_corr_account(v, found_bik),
                              _s(_get(data, "correspondent_account"))),
        city=city, swift=_s(_get(data, "swift")),
        status=_s(_get(data, "state", "status")) or "ACTIVE",
        fetched_at=fetched_at, from_cache=from_cache)


def _postal_result(index: str, answer: Mapping[str, Any], fetched_at: str,
                   from_cache: bool) -> PostalResult:
    items: list[AddressSuggestion] = []
    seen: set[str] = set()
    for unit in answer.get("postal_unit") or []:
        value = _s(_get(unit, "data", "address_str")) or _s(_get(unit, "value"))
        if value and value not in seen:
            seen.add(value)
            items.append(AddressSuggestion(value=value, postal_code=index))
    for sug in answer.get("address") or []:
        data = _get(sug, "data") or {}
        code = _s(_get(data, "postal_code"))
        value = _s(_get(sug, "value"))
        if not value or value in seen or (code and code != index):
            continue
        seen.add(value)
        items.append(AddressSuggestion(
            value=value, region=_s(_get(data, "region_with_type")),
            city=_s(_get(data, "city_with_type")) or _s(_get(data, "settlement_with_type")),
            street=_s(_get(data, "street_with_type")), postal_code=code or index))
    return PostalResult(index, items, fetched_at, from_cache)


# ---- comparing with what the user typed --------------------------------------

def same_value(a: object, b: object) -> bool:
    """Equal up to case, ё/е, quotes, punctuation and spacing
    (``ООО «Ромашка»`` = ``ООО "РОМАШКА"``; ``г. Москва`` = ``г Москва``)."""
    def norm(v: object) -> str:
        return " ".join(_NON_WORD.sub(" ", fold(str(v or ""))).split())
    return norm(a) == norm(b)


def pending_changes(current: Mapping[str, Any],
                    found: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """Fields the user already filled that the found data would change:
    ``[(field, old, new)]`` — the card shows them side by side and asks."""
    out: list[tuple[str, str, str]] = []
    for name, new in found.items():
        old = str(current.get(name) or "").strip()
        if new and old and not same_value(old, new):
            out.append((name, old, new))
    return out


def empty_fills(current: Mapping[str, Any], found: Mapping[str, str]) -> dict[str, str]:
    """Found values for the fields the user left empty (filled without asking)."""
    return {k: v for k, v in found.items() if v and not str(current.get(k) or "").strip()}


# ---- cache and usage ----------------------------------------------------------

def moscow_day(now: datetime | None = None) -> str:
    """DaData's day (its limits reset at midnight Moscow time)."""
    return (now or datetime.now(UTC)).astimezone(MOSCOW).date().isoformat()


def cache_get(conn: sqlite3.Connection, kind: str, key: str) -> tuple[Any, str] | None:
    """The cached answer and its fetch time, or None (nothing cached, or unreadable)."""
    row = conn.execute("SELECT response, fetched_at FROM lookup_cache WHERE kind = ? AND key = ?",
                       (kind, key)).fetchone()
    if row is None:
        return None
    try:
        return json.loads(row["response"]), row["fetched_at"]
    except ValueError:
        return None


def _used_today(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT requests FROM lookup_usage WHERE day = ?",
                       (moscow_day(),)).fetchone()
    return int(row["requests"]) if row else 0


def record_answer(conn: sqlite3.Connection, kind: str, key: str, answer: Any, requests: int,
                  fetched_at: str) -> None:
    """Store an answer (``None``: do not cache) and count the requests it took."""
    if answer is not None:
        conn.execute("INSERT INTO lookup_cache (kind, key, response, fetched_at) VALUES (?,?,?,?)"
                     " ON CONFLICT(kind, key) DO UPDATE SET response = excluded.response,"
                     " fetched_at = excluded.fetched_at",
                     (kind, key, json.dumps(answer, ensure_ascii=False), fetched_at))
    if requests:
        conn.execute("INSERT INTO lookup_usage (day, requests) VALUES (?, ?) ON CONFLICT(day)"
                     " DO UPDATE SET requests = requests + excluded.requests",
                     (moscow_day(), requests))


def transport_for(client: Transport | None) -> Transport:
    """``client``, else the configured DaData client; :class:`NoToken` without a token."""
    if client is not None:
        return client
    found = default_client()
    if found is None:
        raise NoToken()
    return found


def ask(store: Store, client: Transport, method: str, payload: dict[str, Any]) -> Any:
    """One request, refused beforehand when today's limit is used up."""
    with store.read() as conn:
        if _used_today(conn) >= client.daily_limit:
            raise LimitReached("дневной лимит запросов DaData исчерпан")
    return client.post(method, payload)


@dataclass
class ServiceInfo:
    """For the pages: is a token set, and how much of today's limit is used."""

    has_token: bool
    base_url: str
    used_today: int
    daily_limit: int


def service_info(store: Store, actor: Actor) -> ServiceInfo:
    require(actor, "lookup.use")
    config = load_config()
    with store.read() as conn:
        used = _used_today(conn)
    return ServiceInfo(config.has_token, config.base_url, used, config.daily_limit)


# ---- the three lookups -------------------------------------------------------

def find_party(store: Store, actor: Actor, inn_or_ogrn: object, *, fresh: bool = False,
               client: Transport | None = None) -> PartyResult:
    """A company or entrepreneur by INN or OGRN/OGRNIP (cache first unless ``fresh``).

    Raises :class:`BadQuery` before any request for a wrong number,
    :class:`NothingFound` when the register has none, :class:`NoToken` when offline
    with nothing cached, :class:`ServiceError` (one line) when DaData fails."""
    require(actor, "lookup.use")
    query = clean_party_query(inn_or_ogrn)
    if not fresh:
        with store.read() as conn:
            cached = cache_get(conn, PARTY, query)
        if cached and isinstance(cached[0], list) and cached[0]:
            return party_result(query, cached[0], cached[1], True)
    transport = transport_for(client)
    items = suggestions(ask(store, transport, "findById/party",
                              {"query": query, "count": PARTY_COUNT}))
    fetched = now_iso()
    with store.write() as conn:
        record_answer(conn, PARTY, query, items or None, 1, fetched)
    if not items:
        raise NothingFound(f"по номеру {query} в ЕГРЮЛ/ЕГРИП ничего не найдено")
    return party_result(query, items, fetched, False)


def find_bank(store: Store, actor: Actor, bik: object, *, fresh: bool = False,
              client: Transport | None = None) -> BankResult:
    """A bank by its BIK: name, correspondent account, city, SWIFT."""
    require(actor, "lookup.use")
    key = clean_bik(bik)
    if not fresh:
        with store.read() as conn:
            cached = cache_get(conn, BANK, key)
        if cached and isinstance(cached[0], list) and cached[0]:
            return _bank_result(key, cached[0][0], cached[1], True)
    transport = transport_for(client)
    items = suggestions(ask(store, transport, "findById/bank", {"query": key}))
    fetched = now_iso()
    with store.write() as conn:
        record_answer(conn, BANK, key, items[:1] or None, 1, fetched)
    if not items:
        raise NothingFound(f"банк с БИК {key} не найден")
    return _bank_result(key, items[0], fetched, False)


def postal_suggestions(store: Store, actor: Actor, index: object, *, fresh: bool = False,
                       client: Transport | None = None) -> PostalResult:
    """Addresses for a postal index: the post office's own address, then address
    suggestions with that index (region, city, street) to pick from."""
    require(actor, "lookup.use")
    key = clean_index(index)
    if not fresh:
        with store.read() as conn:
            cached = cache_get(conn, POSTAL, key)
        if cached and isinstance(cached[0], dict):
            result = _postal_result(key, cached[0], cached[1], True)
            if result.items:
                return result
    transport = transport_for(client)
    units = suggestions(ask(store, transport, "findById/postal_unit", {"query": key}))
    addresses = suggestions(ask(store, transport, "suggest/address",
                                  {"query": key, "count": 20}))
    answer = {"postal_unit": units, "address": addresses}
    fetched = now_iso()
    result = _postal_result(key, answer, fetched, False)
    with store.write() as conn:
        record_answer(conn, POSTAL, key, answer if result.items else None, 2, fetched)
    if not result.items:
        raise NothingFound(f"по индексу {key} адресов не найдено")
    return result

