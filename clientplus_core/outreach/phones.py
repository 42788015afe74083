"""Phone lists for SMS gateways and messengers, from the same address books (or a
saved segment).

The phones of the clients and of their contacts (work phone and mobile) are
normalised to E.164 (region RU, :mod:`clientplus_core.records.validation`), optionally only
mobiles (phonenumbers type MOBILE or FIXED_LINE_OR_MOBILE), deduplicated, and
without opt-outs or numbers with no consent (:mod:`clientplus_core.outreach.consent`; a
contact's ``consent_sms`` flag counts as consent). What is dropped is counted by
reason: «неверный номер», «не мобильный», «отказ», «нет согласия», «дубль».

The file layout is the one SMS gateways import: the phone first (digits with a
leading +), the name to address the person by, then personal fields — client,
contact, city (when the address names one), manager.

Two purposes (``purpose``): ``"sms"`` (the default) writes the bare E.164 number — an
SMS cannot reach an extension, so «+7 495 500-55-50 доб. 123» and «доб. 124» are one
number and the second is a «дубль»; ``"calls"`` (a call list for the operators) keeps
the extension in its own column ``ext`` after the phone (:data:`CALL_HEADERS`), and
two extensions of one number are two lines.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import phonenumbers

from clientplus_core.outreach import addressbooks
from clientplus_core.records import visibility
from clientplus_core.records.validation import EXT_SEP, split_phone
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, require

HEADERS = ["phone", "name", "client", "contact", "city", "manager"]
CALL_HEADERS = ["phone", "ext", "name", "client", "contact", "city", "manager"]
PURPOSES = ("sms", "calls")
REASONS = ("неверный номер", "не мобильный", "отказ", "нет согласия", "дубль")
_MOBILE = (phonenumbers.PhoneNumberType.MOBILE,
           phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)
_RU_E164 = re.compile(r"^\+7\d{10}$")
_CITY = re.compile(r"(?:^|[,\s])(?:г\.|г|город)\s*([А-ЯЁ][А-Яа-яЁё\-]+(?:[ \-][А-ЯЁ][а-яё\-]+)*)")
_FEDERAL = ("Москва", "Санкт-Петербург", "Севастополь")


@dataclass
class PhoneList:
    """Rows in :attr:`headers` order and the dropped numbers counted by reason."""

    rows: list[list[str]] = field(default_factory=list)
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_rows: list[list[str]] = field(default_factory=list)  # value, reason, client
    purpose: str = "sms"

    @property
    def headers(self) -> list[str]:
        """:data:`HEADERS` for an SMS list, :data:`CALL_HEADERS` for a call list."""
        return CALL_HEADERS if self.purpose == "calls" else HEADERS

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())


def city_of(address: str) -> str:
    """The city named in an address («…, г. Казань, ул. …» → «Казань»), or ""."""
    text = address or ""
    m = _CITY.search(text)
    if m:
        return m.group(1).strip()
    for city in _FEDERAL:
        if city.lower() in text.lower():
            return city
    return ""


class _Classifier:
    """E.164 + validity + mobile flag of raw stored phones. Numbers +7 and ten digits
    are classified once per prefix: in the RU numbering plan (phonenumbers metadata)
    validity and type depend only on the first three national digits, except the
    ranges 930… and 810… (six digits) and +7 7… (Kazakhstan, six digits kept to be
    safe) — so 100,000 numbers need about a thousand phonenumbers calls, not 100,000.
    A test compares the cache with phonenumbers on random numbers."""

    def __init__(self) -> None:
        self.prefix: dict[str, tuple[bool, bool, str]] = {}

    def classify(self, raw: str) -> tuple[str | None, bool]:
        """(E.164 or None when invalid, is mobile); an extension is not part of it
        (:func:`extension_of`)."""
        raw = split_phone(raw)[0] if EXT_SEP in (raw or "") else (raw or "").strip()
        if _RU_E164.match(raw):
            key = raw[:8] if raw[2] == "7" or raw[2:5] in ("930", "810") else raw[:5]
            hit = self.prefix.get(key)
            if hit is None:
                hit = self._full(raw)
                self.prefix[key] = hit
            valid, mobile, _ = hit
            return (raw if valid else None), mobile
        valid, mobile, e164 = self._full(raw)
        return (e164 if valid else None), mobile

    @staticmethod
    def _full(raw: str) -> tuple[bool, bool, str]:
        from clientplus_core.records.validation import parse_phone

        num = parse_phone(raw)
        if num is None or not phonenumbers.is_valid_number(num):
            return False, False, ""
        return (True, phonenumbers.number_type(num) in _MOBILE,
                phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164))


# candidates in list order: clients by id, the client's phone first, then each
# contact's mobile and work phone
_PHONE_CANDIDATES = """SELECT c.id, NULL, c.phone, 0, 0, trim(c.phone), e.status, e.date,
    e.source FROM temp.ab_ids t JOIN clients c ON c.id = t.id
    LEFT JOIN consents e ON e.channel = 'phone' AND e.value = trim(c.phone)
    WHERE c.phone <> ''
UNION ALL
SELECT k.client_id, k.id, k.mobile, k.consent_sms, 1, trim(k.mobile), e.status, e.date,
    e.source FROM temp.ab_ids t JOIN contacts k ON k.client_id = t.id
    LEFT JOIN consents e ON e.channel = 'phone' AND e.value = trim(k.mobile)
    WHERE k.deleted_at IS NULL AND k.mobile <> ''
UNION ALL
SELECT k.client_id, k.id, k.phone, k.consent_sms, 2, trim(k.phone), e.status, e.date,
    e.source FROM temp.ab_ids t JOIN contacts k ON k.client_id = t.id
    LEFT JOIN consents e ON e.channel = 'phone' AND e.value = trim(k.phone)
    WHERE k.deleted_at IS NULL AND k.phone <> ''
ORDER BY 1, 5, 2"""


def extension_of(raw: str) -> str:
    """The extension of a stored phone (``+74955005550;ext=123`` → ``123``), or ""."""
    return split_phone(raw)[1] if EXT_SEP in (raw or "") else ""


def _check_purpose(purpose: str) -> None:
    if purpose not in PURPOSES:
        raise ValueError(f"назначение списка «{purpose}»: sms или calls")


def build(store: Store, client_ids: list[int], mobile_only: bool = False,
          birthday: str | None = None, purpose: str = "sms") -> PhoneList:
    """The phone list of the clients ``client_ids`` (already in the actor's scope);
    ``birthday`` ("MM"): a birthday book's month (only the celebrants' numbers);
    ``purpose``: ``"sms"`` (bare numbers) or ``"calls"`` (extensions kept)."""
    _check_purpose(purpose)
    out = PhoneList(purpose=purpose)
    with store.read() as conn:
        addressbooks.load_ids(conn, client_ids)
        cands = addressbooks.tuples(conn, _PHONE_CANDIDATES)
        if birthday:
            cands = addressbooks.only_celebrants(conn, cands, birthday)
        clients = {r[0]: r[1:] for r in addressbooks.tuples(
            conn, "SELECT c.id, c.name, c.legal_address, c.postal_address,"
            " coalesce(nullif(u.full_name, ''), u.login, '') FROM temp.ab_ids t"
            " JOIN clients c ON c.id = t.id LEFT JOIN users u ON u.id = c.owner_id")}
        names = dict(addressbooks.tuples(
            conn, "SELECT k.id, k.name FROM temp.ab_ids t JOIN contacts k ON k.client_id ="
            " t.id WHERE k.deleted_at IS NULL"))
        clf = _Classifier()
        classified = [clf.classify(c[2]) for c in cands]
        entries = addressbooks.entries_from_join(conn, "phone", [e for e, _ in classified],
                                                 cands, 5, 6)
    flagged = {e164 for (e164, _), cand in zip(classified, cands, strict=True)
               if e164 and cand[3]}
    seen: set[str] = set()
    cities: dict[int, str] = {}
    calls = purpose == "calls"
    for (e164, mobile), (cid, kid, raw, *_rest) in zip(classified, cands, strict=True):
        reason = ""
        entry = entries.get(e164) if e164 else None
        ext = extension_of(raw) if calls else ""
        key = f"{e164}{EXT_SEP}{ext}" if ext else e164
        if e164 is None:
            reason = "неверный номер"
        elif mobile_only and not mobile:
            reason = "не мобильный"
        elif entry is not None and entry[0] == "optout":
            reason = "отказ"
        elif entry is None and e164 not in flagged:
            reason = "нет согласия"
        elif key in seen:
            reason = "дубль"
        name, legal, postal, manager = clients[cid]
        contact_name = names.get(kid, "") if kid else ""
        if reason:
            out.dropped[reason] += 1
            out.dropped_rows.append([e164 or raw, reason, name, contact_name])
            continue
        assert e164 is not None and key is not None
        seen.add(key)
        city = cities.get(cid)
        if city is None:
            city = cities[cid] = city_of(legal) or city_of(postal)
        out.rows.append([e164, *([ext] if calls else []), contact_name or name, name,
                         contact_name, city, manager or ""])
    return out


def for_book(store: Store, actor: Actor, book_id: int, mobile_only: bool = False,
             purpose: str = "sms") -> PhoneList:
    require(actor, "phones.export")
    _check_purpose(purpose)
    book = addressbooks.get_book(store, actor, book_id)
    return build(store, addressbooks.client_ids(store, actor, book), mobile_only,
                 addressbooks.birthday_month(book["criteria"]), purpose)


def for_segment(store: Store, actor: Actor, segment: str, mobile_only: bool = False,
                purpose: str = "sms") -> PhoneList:
    from clientplus_core.analytics import segments

    require(actor, "phones.export")
    _check_purpose(purpose)
    return build(store, segments.client_ids(store, actor, segment), mobile_only,
                 purpose=purpose)


def for_clients(store: Store, actor: Actor, ids: Iterable[int], mobile_only: bool = False,
                purpose: str = "sms") -> PhoneList:
    """A phone list of given clients, narrowed to the actor's scope."""
    require(actor, "phones.export")
    _check_purpose(purpose)
    with store.read() as conn:
        visible = visibility.visible_clients(conn, actor, ids)
    return build(store, visible, mobile_only, purpose=purpose)


def to_xlsx(phones: PhoneList) -> bytes:
    from clientplus_core.clients.export import rows_to_xlsx

    return rows_to_xlsx(phones.headers, phones.rows,
                        sheet="Звонки" if phones.purpose == "calls" else "SMS")


def to_csv(phones: PhoneList) -> bytes:
    """CSV as gateways read it: UTF-8 with BOM, ``;`` delimiter, header row. The
    phone is written as is (a validated ``+7…``: digits only, it cannot be a
    formula); every other cell is neutralised like all exports
    (:func:`export.safe_cell`)."""
    import csv

    from clientplus_core.clients.export import safe_cell

    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(phones.headers)
    for row in phones.rows:
        writer.writerow([row[0], *(safe_cell(v, "csv") for v in row[1:])])
    return ("\ufeff" + text.getvalue()).encode("utf-8")


def write(phones: PhoneList, out: str | Path | IO[bytes], fmt: str | None = None) -> int:
    """Write the list to a path (format from its extension, or ``fmt``) or a binary
    stream; returns the number of phones written."""
    from clientplus_core.clients.export import write_output

    if fmt is None:
        fmt = Path(str(out)).suffix.lower().lstrip(".") if isinstance(out, (str, Path)) else "xlsx"
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"формат «{fmt}»: .xlsx или .csv")
    data = to_xlsx(phones) if fmt == "xlsx" else to_csv(phones)

    def put(stream: IO[bytes]) -> int:
        stream.write(data)
        return len(phones.rows)

    return write_output(out, put)


def dropped_summary(phones: PhoneList) -> list[tuple[str, int]]:
    """(reason, count) in the fixed order of :data:`REASONS`, only non-zero ones."""
    return [(r, phones.dropped[r]) for r in REASONS if phones.dropped.get(r)]
