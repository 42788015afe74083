"""Requisites lookup: a client card from its INN/OGRN, a bank from its BIK,
addresses from a postal index — and the batch re-check of every client.

The online source is DaData (:mod:`clientplus_core.requisites.dadata`). Every answer is
cached in ``lookup_cache`` with the time it was fetched, so a repeated lookup is
served from the database (and works offline); ``fresh=True`` asks the service
again. Requests are counted per Moscow day in ``lookup_usage`` against the daily
limit, and only answered requests are counted: a failure writes nothing at all.

Inputs are cleaned (spaces, dashes, a leading «ИНН»/«БИК» label) and checked
(INN/OGRN check digits, BIK format) before any request is sent.

The batch :func:`refresh` (head and admin) walks the clients with an INN in id
order, remembers in ``lookup_refresh`` how far it got, stops at the daily limit
or on request and resumes from there on the next call. Its summary compares each
checked client with the cached registry data, so it is complete across days and
interruptions; changes are written (through :func:`clients.update`, hence with
history and audit) only by :func:`apply_changes` or ``refresh(apply=True)``.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from clientplus_core.base.errors import UserError
from clientplus_core.base.textnorm import clean, fold
from clientplus_core.clients import cards as clients
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
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

PARTY, BANK, POSTAL = "party", "bank", "postal"
MOSCOW = timezone(timedelta(hours=3))
PARTY_COUNT = 20  # head office plus up to 19 branches in one answer

# DaData's state.status -> (ru, en) for a company and for an entrepreneur.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "ACTIVE": ("действующая", "active"),
    "LIQUIDATING": ("ликвидируется", "being liquidated"),
    "LIQUIDATED": ("ликвидирована", "liquidated"),
    "BANKRUPT": ("банкротство", "bankrupt"),
    "REORGANIZING": ("реорганизуется", "being reorganised"),
    "NOT_FOUND": ("не найдена в реестре", "not found in the register"),
}
IP_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "ACTIVE": ("действующий ИП", "active"),
    "LIQUIDATED": ("деятельность прекращена", "ceased trading"),
    "BANKRUPT": ("банкротство", "bankrupt"),
    "NOT_FOUND": ("не найден в реестре", "not found in the register"),
}
WARN_STATUSES = ("LIQUIDATING", "LIQUIDATED", "BANKRUPT", "REORGANIZING", "NOT_FOUND")

# Fields the batch refresh keeps in step with the register.
REFRESH_FIELDS = ("name", "full_name", "kpp", "legal_address", "director_post", "director_name")

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


def status_label(status: str, kind: str = "legal", lang: str = "ru") -> str:
    """«ликвидирована», «деятельность прекращена», … for a stored status code."""
    labels = IP_STATUS_LABELS if kind == "ip" else STATUS_LABELS
    ru, en = labels.get(status) or STATUS_LABELS.get(status) or (status, status)
    return ru if lang == "ru" else en


def status_warning(status: str, kind: str = "legal", date: str = "",
                   lang: str = "ru") -> str | None:
    """A one-line warning for a status worth one (``None`` for an active company)."""
    if status not in WARN_STATUSES:
        return None
    when = f" {format_date(date)}" if date and status in ("LIQUIDATED",) else ""
    label = status_label(status, kind, lang)
    if lang == "ru":
        who = "ИП" if kind == "ip" else "организация"
        return f"Внимание: {who} — {label}{when}. Проверьте, прежде чем заключать сделку."
    who = "the entrepreneur" if kind == "ip" else "the company"
    return f"Warning: {who} is {label}{when}. Check before doing business."


def format_date(iso: str) -> str:
    """``2024-03-05…`` -> ``05.03.2024``."""
    s = str(iso or "")
    return f"{s[8:10]}.{s[5:7]}.{s[0:4]}" if len(s) >= 10 else s


def fetched_date(fetched_at: str) -> str:
    """The Moscow date (ДД.ММ.ГГГГ) of a stored UTC timestamp."""
    try:
        return datetime.fromisoformat(fetched_at).astimezone(MOSCOW).strftime("%d.%m.%Y")
    except ValueError:
        return format_date(fetched_at)


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


def _suggestions(payload: object) -> list[dict[str, Any]]:
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


def _party_result(query: str, items: list[dict[str, Any]], fetched_at: str,
                  from_cache: bool) -> PartyResult:
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


def _cache_get(conn: sqlite3.Connection, kind: str, key: str) -> tuple[Any, str] | None:
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


def _record(conn: sqlite3.Connection, kind: str, key: str, answer: Any, requests: int,
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


def _transport(client: Transport | None) -> Transport:
    if client is not None:
        return client
    found = default_client()
    if found is None:
        raise NoToken()
    return found


def _ask(store: Store, client: Transport, method: str, payload: dict[str, Any]) -> Any:
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
            cached = _cache_get(conn, PARTY, query)
        if cached and isinstance(cached[0], list) and cached[0]:
            return _party_result(query, cached[0], cached[1], True)
    transport = _transport(client)
    items = _suggestions(_ask(store, transport, "findById/party",
                              {"query": query, "count": PARTY_COUNT}))
    fetched = now_iso()
    with store.write() as conn:
        _record(conn, PARTY, query, items or None, 1, fetched)
    if not items:
        raise NothingFound(f"по номеру {query} в ЕГРЮЛ/ЕГРИП ничего не найдено")
    return _party_result(query, items, fetched, False)


def find_bank(store: Store, actor: Actor, bik: object, *, fresh: bool = False,
              client: Transport | None = None) -> BankResult:
    """A bank by its BIK: name, correspondent account, city, SWIFT."""
    require(actor, "lookup.use")
    key = clean_bik(bik)
    if not fresh:
        with store.read() as conn:
            cached = _cache_get(conn, BANK, key)
        if cached and isinstance(cached[0], list) and cached[0]:
            return _bank_result(key, cached[0][0], cached[1], True)
    transport = _transport(client)
    items = _suggestions(_ask(store, transport, "findById/bank", {"query": key}))
    fetched = now_iso()
    with store.write() as conn:
        _record(conn, BANK, key, items[:1] or None, 1, fetched)
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
            cached = _cache_get(conn, POSTAL, key)
        if cached and isinstance(cached[0], dict):
            result = _postal_result(key, cached[0], cached[1], True)
            if result.items:
                return result
    transport = _transport(client)
    units = _suggestions(_ask(store, transport, "findById/postal_unit", {"query": key}))
    addresses = _suggestions(_ask(store, transport, "suggest/address",
                                  {"query": key, "count": 20}))
    answer = {"postal_unit": units, "address": addresses}
    fetched = now_iso()
    result = _postal_result(key, answer, fetched, False)
    with store.write() as conn:
        _record(conn, POSTAL, key, answer if result.items else None, 2, fetched)
    if not result.items:
        raise NothingFound(f"по индексу {key} адресов не найдено")
    return result


# ---- batch refresh -----------------------------------------------------------

@dataclass
class Change:
    client_id: int
    name: str
    field: str
    old: str
    new: str
    version: int


@dataclass
class Flag:
    """A client whose company is liquidated (or liquidating, bankrupt, …)."""

    client_id: int
    name: str
    inn: str
    status: str
    status_label: str
    kind: str = "legal"


@dataclass
class RefreshReport:
    run_id: int
    scope: str
    total: int                       # clients with an INN in the scope
    checked: int                     # checked so far in this run (across days)
    requested: int = 0               # requests sent by this call
    changed: list[Change] = field(default_factory=list)
    liquidated: list[Flag] = field(default_factory=list)
    stopped_reason: str | None = None  # "limit" | "stop" | "error" | None (finished)
    error: str = ""
    finished: bool = False
    started_at: str = ""
    applied: int = 0                 # clients updated by apply
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (client id, why)

    @property
    def changed_clients(self) -> int:
        return len({c.client_id for c in self.changed})

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "scope": self.scope, "total": self.total,
            "checked": self.checked, "requested": self.requested,
            "changed": [asdict(c) for c in self.changed],
            "liquidated": [asdict(f) for f in self.liquidated],
            "stopped_reason": self.stopped_reason, "error": self.error,
            "finished": self.finished, "started_at": self.started_at,
            "applied": self.applied,
            "skipped": [{"client_id": cid, "message": m} for cid, m in self.skipped],
        }




def parse_scope(scope: str) -> tuple[str, str | None]:
    """``"all"``, ``"tag:NAME"`` or ``"segment:NAME"`` (a saved segment) ->
    (canonical scope, tag)."""
    s = (scope or "all").strip()
    if s == "all":
        return "all", None
    if s.startswith("tag:") and clean(s[4:]):
        tag = clean(s[4:])
        return f"tag:{tag}", tag
    if s.startswith("segment:") and clean(s[8:]):
        return f"segment:{clean(s[8:])}", None
    raise UserError("область проверки: all, tag:МЕТКА или segment:СЕГМЕНТ")


def _segment_ids(store: Store, actor: Actor, canonical: str) -> list[int] | None:
    """The clients of a saved segment (``segment:NAME`` scopes), else None."""
    if not canonical.startswith("segment:"):
        return None
    from clientplus_core.analytics import segments

    return segments.client_ids(store, actor, canonical[len("segment:"):])


def _scope_sql(actor: Actor, tag: str | None,
               ids: list[int] | None = None) -> tuple[str, list[object]]:
    scope_sql, args = client_scope(actor, "c")
    where = ["c.deleted_at IS NULL", "c.inn <> ''", "c.kind IN ('legal', 'ip')", scope_sql]
    if tag:
        where.append("c.id IN (SELECT client_id FROM client_tags WHERE tag = ?)")
        args = [*args, tag]
    if ids is not None:
        where.append("c.id IN (SELECT value FROM json_each(?))")
        args = [*args, json.dumps(ids)]
    return " AND ".join(where), args


def _open_run(store: Store, actor: Actor, scope: str, restart: bool) -> sqlite3.Row:
    """The unfinished run of this scope to resume, or a new one."""
    with store.write() as conn:
        row = conn.execute("SELECT * FROM lookup_refresh WHERE scope = ? AND finished_at IS NULL"
                           " ORDER BY id DESC LIMIT 1", (scope,)).fetchone()
        if row is not None and restart:
            conn.execute("UPDATE lookup_refresh SET finished_at = ? WHERE id = ?",
                         (now_iso(), row["id"]))
            row = None
        if row is None:
            ts = now_iso()
            cur = conn.execute("INSERT INTO lookup_refresh (scope, started_at, updated_at,"
                               " started_by) VALUES (?,?,?,?)", (scope, ts, ts, actor.id))
            row = conn.execute("SELECT * FROM lookup_refresh WHERE id = ?",
                               (cur.lastrowid,)).fetchone()
        return row


def _mark_checked(conn: sqlite3.Connection, actor: Actor, client: Mapping[str, Any],
                  status: str, run_id: int) -> None:
    old = client["registry_status"] or ""
    conn.execute("UPDATE clients SET registry_status = ?, registry_checked_at = ? WHERE id = ?",
                 (status, now_iso(), client["id"]))
    if old != status and not (old == "" and status == "ACTIVE"):
        audit.record(conn, actor, "registry_status", "client", client["id"], client["id"],
                     f"{client['name']}: {status_label(status, client['kind'])}",
                     {"registry_status": [old, status]})
    conn.execute("UPDATE lookup_refresh SET last_client_id = ?, checked = checked + 1,"
                 " updated_at = ? WHERE id = ?", (client["id"], now_iso(), run_id))


def refresh(store: Store, actor: Actor, scope: str = "all", *,
            progress: Callable[[int, int], None] | None = None,
            should_stop: Callable[[], bool] | None = None, apply: bool = False,
            restart: bool = False, reuse_hours: float = 12,
            client: Transport | None = None) -> RefreshReport:
    """Re-check every client with an INN in ``scope`` against the register (head, admin).

    Resumes the scope's unfinished run from its last client (``restart`` starts
    over). Stops when today's limit is used up (``stopped_reason="limit"``), when
    ``should_stop()`` says so (``"stop"``) or when DaData fails (``"error"``);
    each checked client is saved at once, so an interruption loses nothing. An
    answer fetched less than ``reuse_hours`` ago is reused without a request.
    Writes the registry status of each client and, only with ``apply``, the
    changed names, addresses and directors (see :func:`apply_changes`)."""
    require(actor, "lookup.refresh")
    canonical, tag = parse_scope(scope)
    transport = _transport(client)
    run = _open_run(store, actor, canonical, restart)
    where, args = _scope_sql(actor, tag, _segment_ids(store, actor, canonical))
    with store.read() as conn:
        total = conn.execute(f"SELECT count(*) FROM clients c WHERE {where}", args).fetchone()[0]
        todo = conn.execute(f"SELECT c.id, c.name, c.inn, c.kind, c.registry_status"
                            f" FROM clients c WHERE {where} AND c.id > ? ORDER BY c.id",
                            [*args, run["last_client_id"]]).fetchall()
    reuse_after = (datetime.now(UTC) - timedelta(hours=reuse_hours)).replace(
        microsecond=0).isoformat()
    done, requested = int(run["checked"]), 0
    reason: str | None = None
    error = ""
    if progress:
        progress(done, total)
    for row in todo:
        if should_stop and should_stop():
            reason = "stop"
            break
        with store.read() as conn:
            cached = _cache_get(conn, PARTY, row["inn"])
        items: list[dict[str, Any]] | None = None
        if cached and isinstance(cached[0], list) and cached[0] and cached[1] >= reuse_after:
            items = cached[0]
        fetched = False
        if items is None:
            try:
                items = _suggestions(_ask(store, transport, "findById/party",
                                          {"query": row["inn"], "count": PARTY_COUNT}))
            except LimitReached:
                reason = "limit"
                break
            except ServiceError as exc:
                reason, error = "error", str(exc)
                break
            fetched = True
            requested += 1
        status = (_s(_get(_head(items), "data", "state", "status")) or "ACTIVE") if items \
            else "NOT_FOUND"
        with store.write() as conn:
            if fetched:
                _record(conn, PARTY, row["inn"], items or None, 1, now_iso())
            _mark_checked(conn, actor, row, status, run["id"])
        done += 1
        if progress:
            progress(done, total)
    finished = reason is None
    if finished:
        with store.write() as conn:
            conn.execute("UPDATE lookup_refresh SET finished_at = ?, updated_at = ? WHERE id = ?",
                         (now_iso(), now_iso(), run["id"]))
    report = _summary(store, actor, run["id"], tag)
    report.requested, report.stopped_reason, report.error = requested, reason, error
    with store.write() as conn:
        conn.execute("UPDATE lookup_refresh SET changed = ? WHERE id = ?",
                     (report.changed_clients, run["id"]))
    if apply:
        apply_changes(store, actor, report)
    return report


def _summary(store: Store, actor: Actor, run_id: int, tag: str | None) -> RefreshReport:
    """What the run found: changes for every client it checked, and flagged ones."""
    with store.read() as conn:
        run_scope = conn.execute("SELECT scope FROM lookup_refresh WHERE id = ?",
                                 (run_id,)).fetchone()
    where, args = _scope_sql(actor, tag,
                             _segment_ids(store, actor, run_scope[0] if run_scope else ""))
    with store.read() as conn:
        run = conn.execute("SELECT * FROM lookup_refresh WHERE id = ?", (run_id,)).fetchone()
        total = conn.execute(f"SELECT count(*) FROM clients c WHERE {where}", args).fetchone()[0]
        rows = conn.execute(
            f"SELECT c.*, lc.response FROM clients c LEFT JOIN lookup_cache lc"
            f" ON lc.kind = 'party' AND lc.key = c.inn"
            f" WHERE {where} AND c.registry_checked_at >= ? ORDER BY c.id",
            [*args, run["started_at"]]).fetchall()
        report = RefreshReport(run_id=run_id, scope=run["scope"], total=int(total),
                               checked=int(run["checked"]), finished=bool(run["finished_at"]),
                               started_at=run["started_at"])
        for r in rows:
            status = r["registry_status"] or ""
            if status in WARN_STATUSES:
                report.liquidated.append(Flag(r["id"], r["name"], r["inn"], status,
                                              status_label(status, r["kind"]), r["kind"]))
            try:
                items = json.loads(r["response"]) if r["response"] else []
            except ValueError:
                items = []
            if not isinstance(items, list) or not items or status == "NOT_FOUND":
                continue
            found = _party_result(r["inn"], items, "", True)
            branch_kpps = {b.kpp for b in found.branches}
            for name in REFRESH_FIELDS:
                new, old = found.fields.get(name, ""), r[name] or ""
                if name == "kpp" and old in branch_kpps:
                    continue  # a branch the user chose on purpose
                if new and not same_value(old, new):
                    report.changed.append(Change(r["id"], r["name"], name, old, new,
                                                 int(r["version"])))
    return report


def last_run(store: Store, actor: Actor, scope: str = "all") -> RefreshReport | None:
    """The summary of the latest run of ``scope`` (for the page after a reload or a
    stop, and to say where a resumed run will continue); ``None`` if never run."""
    require(actor, "lookup.refresh")
    canonical, tag = parse_scope(scope)
    with store.read() as conn:
        row = conn.execute("SELECT id, finished_at FROM lookup_refresh WHERE scope = ?"
                           " ORDER BY id DESC LIMIT 1", (canonical,)).fetchone()
    if row is None:
        return None
    return _summary(store, actor, row["id"], tag)


def apply_changes(store: Store, actor: Actor, report: RefreshReport,
                  only: Iterable[int] | None = None) -> RefreshReport:
    """Write the report's changes (``only`` these client ids, if given) through
    :func:`clients.update`, one client at a time: history and audit record each.
    A client edited since the check is skipped (named in ``report.skipped``)."""
    require(actor, "lookup.refresh")
    wanted = set(only) if only is not None else None
    by_client: dict[int, list[Change]] = {}
    for c in report.changed:
        if wanted is None or c.client_id in wanted:
            by_client.setdefault(c.client_id, []).append(c)
    for cid, changes in by_client.items():
        try:
            clients.update(store, actor, cid, {c.field: c.new for c in changes},
                           changes[0].version)
        except UserError as exc:
            report.skipped.append((cid, f"{changes[0].name}: {exc}"))
        else:
            report.applied += 1
    return report
