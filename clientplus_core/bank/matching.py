"""Which client paid, and for which sale: the matching rules of an incoming payment.

1. **Payer → client**: by ``ПлательщикИНН`` (and ``ПлательщикКПП`` when several
   clients share the INN, as a company's branches do); else by the payer's
   settlement account, as seen on an earlier payment of a known client or written
   on a client's card.
2. **Payment → sale**: by the invoice (or sale) numbers its purpose names
   (:mod:`.purpose`) among the client's sales; else the client's oldest unpaid
   invoiced sale whose remaining debt equals the amount.
3. Confident — one referenced sale whose debt covers the amount (a partial payment
   included), several referenced sales whose debts add up to the amount exactly, or
   the amount rule — gives the allocations to record. Anything else is left for a
   person, with the candidates ranked and a reason for each («Похоже на счёт № 15
   клиента ООО «Ромашка», остаток 12 000,00 ₽»).

:class:`Book` reads, in a few queries, everything the payments of one load need
(the payers' clients, their unpaid sales, the invoices named), so 10,000 payments
are matched without a query each; it follows the allocations made during the load,
so two payments never take the same debt twice.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from clientplus_core.bank import purpose as purpose_mod
from clientplus_core.base import formats
from clientplus_core.sales import money

CHUNK = 900
MAX_CANDIDATES = 6


class PaymentLike(Protocol):
    """What matching reads of a payment (a parsed document or a stored row)."""

    @property
    def payer_inn(self) -> str: ...
    @property
    def payer_kpp(self) -> str: ...
    @property
    def payer_account(self) -> str: ...
    @property
    def purpose(self) -> str: ...
    @property
    def amount_kop(self) -> int: ...


@dataclass
class Sale:
    """An unpaid (or named) sale as matching sees it."""

    id: int
    number: str
    client_id: int
    date: str
    total_kop: int
    paid_kop: int
    status_id: int
    is_invoiced: bool = False
    is_paid: bool = False
    is_lost: bool = False
    invoices: list[tuple[str, str]] = field(default_factory=list)  # (number, ISO date)

    @property
    def remaining_kop(self) -> int:
        return max(0, self.total_kop - self.paid_kop)

    def label(self) -> str:
        """«счёт № 15 от 03.02.2026» when an invoice was issued, else «продажа 2026-0015»."""
        if self.invoices:
            number, day = self.invoices[-1]
            return f"счёт № {number} от {formats.day(day)}"
        return f"продажа {self.number}"


@dataclass(frozen=True)
class Candidate:
    """A sale the payment may be for, with a score (higher first) and why."""

    sale_id: int
    sale_number: str
    client_id: int
    client_name: str
    remaining_kop: int
    score: int
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sale_id": self.sale_id, "sale_number": self.sale_number,
                "client_id": self.client_id, "client_name": self.client_name,
                "remaining_kop": self.remaining_kop, "score": self.score, "reason": self.reason}


@dataclass
class Match:
    """The outcome for one payment: the client, what to record (empty: review)."""

    client_id: int | None
    client_how: str
    allocations: list[tuple[int, int]]   # (sale id, kopecks)
    reason: str
    candidates: list[Candidate]

    @property
    def confident(self) -> bool:
        return bool(self.allocations)


def _chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    items = sorted(set(values))
    for k in range(0, len(items), CHUNK):
        yield items[k:k + CHUNK]


def _rub(kop: int) -> str:
    return formats.money(money.from_kop(kop))


class Book:
    """What the matching of ``payments`` reads, loaded at once from ``conn``."""

    def __init__(self, conn: sqlite3.Connection, payments: Sequence[PaymentLike],
                 sale_prefixes: Sequence[str] = (), client_ids: Iterable[int] = ()):
        self.conn = conn
        self.prefixes = [p for p in sale_prefixes if p]
        self.flags = {r["id"]: (bool(r["is_invoiced"]), bool(r["is_paid"]), bool(r["is_lost"]))
                      for r in conn.execute("SELECT id, is_invoiced, is_paid, is_lost"
                                            " FROM sale_statuses")}
        self.refs = {id(p): purpose_mod.extract(p.purpose, self.prefixes) for p in payments}
        self.clients: dict[int, dict[str, Any]] = {}
        self.by_inn: dict[str, list[int]] = {}
        self.by_account: dict[str, tuple[int, str]] = {}
        self.sales: dict[int, Sale] = {}
        self.open_by_client: dict[int, list[int]] = {}
        self.by_invoice: dict[str, list[tuple[str, int]]] = {}
        self.by_sale_number: dict[str, int] = {}
        self._load_clients({p.payer_inn for p in payments if p.payer_inn})
        unknown = [p.payer_account for p in payments
                   if p.payer_account and not self.by_inn.get(p.payer_inn)]
        self._load_accounts(unknown)
        for chunk in _chunks(client_ids):
            self._add_clients(self.conn.execute(
                "SELECT id, name, inn, kpp, owner_id FROM clients"
                f" WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        self._load_refs()
        self.load_sales_of(list(self.clients))

    # --- loading ------------------------------------------------------------------------

    def _add_clients(self, rows: Iterable[sqlite3.Row]) -> None:
        for r in rows:
            if r["id"] not in self.clients:
                self.clients[r["id"]] = dict(r)
                if r["inn"]:
                    self.by_inn.setdefault(r["inn"], []).append(r["id"])

    def _load_clients(self, inns: Iterable[str]) -> None:
        for chunk in _chunks(inns):
            self._add_clients(self.conn.execute(
                "SELECT id, name, inn, kpp, owner_id FROM clients WHERE deleted_at IS NULL"
                f" AND inn IN ({','.join('?' * len(chunk))}) ORDER BY id", chunk))

    def _load_accounts(self, accounts: Iterable[str]) -> None:
        accounts = [a for a in set(accounts) if a]
        for chunk in _chunks(accounts):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                    "SELECT c.account, c.id FROM clients c WHERE c.deleted_at IS NULL"
                    f" AND c.account IN ({marks}) ORDER BY c.id", chunk):
                self.by_account.setdefault(r[0], (int(r[1]), "по расчётному счёту в карточке"))
            for r in self.conn.execute(
                    "SELECT b.payer_account, b.client_id FROM bank_payments b"
                    " JOIN clients c ON c.id = b.client_id AND c.deleted_at IS NULL"
                    f" WHERE b.payer_account IN ({marks}) AND b.direction = 'in'"
                    " ORDER BY b.id", chunk):
                self.by_account[r[0]] = (int(r[1]), "по счёту плательщика из прошлых выписок")
        ids = {cid for cid, _ in self.by_account.values()}
        for chunk in _chunks(ids):
            self._add_clients(self.conn.execute(
                "SELECT id, name, inn, kpp, owner_id FROM clients"
                f" WHERE id IN ({','.join('?' * len(chunk))})", chunk))

    def _load_refs(self) -> None:
        numbers = {r.number for refs in self.refs.values() for r in refs if r.kind == "invoice"}
        sale_ids: set[int] = set()
        for chunk in _chunks(numbers):
            for r in self.conn.execute(
                    "SELECT number, date, sale_id FROM documents WHERE kind = 'invoice'"
                    f" AND number IN ({','.join('?' * len(chunk))})", chunk):
                self.by_invoice.setdefault(r[0], []).append((r[1], int(r[2])))
                sale_ids.add(int(r[2]))
        spellings = {s: r.number for refs in self.refs.values() for r in refs
                     if r.kind == "sale" for s in purpose_mod.sale_numbers(r.number,
                                                                             self.prefixes)}
        for chunk in _chunks(spellings):
            for r in self.conn.execute(
                    "SELECT id, number FROM sales WHERE deleted_at IS NULL"
                    f" AND number IN ({','.join('?' * len(chunk))})", chunk):
                self.by_sale_number[spellings[r[1]]] = int(r[0])
                sale_ids.add(int(r[0]))
        self._load_sales("s.id", sale_ids, only_open=False)
        missing = {s.client_id for s in self.sales.values()} - set(self.clients)
        for chunk in _chunks(missing):
            self._add_clients(self.conn.execute(
                "SELECT id, name, inn, kpp, owner_id FROM clients"
                f" WHERE id IN ({','.join('?' * len(chunk))})", chunk))

    def load_sales_of(self, client_ids: Iterable[int]) -> None:
        """Read the unpaid sales of these clients (e.g. one created during review)."""
        self._load_sales("s.client_id", client_ids, only_open=True)

    def _load_sales(self, column: str, ids: Iterable[int], only_open: bool) -> None:
        cond = " AND s.total_kop > s.paid_kop" if only_open else ""
        loaded: list[int] = []
        for chunk in _chunks(ids):
            for r in self.conn.execute(
                    "SELECT s.id, s.number, s.client_id, s.date, s.total_kop, s.paid_kop,"
                    f" s.status_id FROM sales s WHERE {column} IN ({','.join('?' * len(chunk))})"
                    f" AND s.deleted_at IS NULL{cond} ORDER BY s.date, s.id", chunk):
                if r["id"] in self.sales:
                    continue
                inv, paid, lost = self.flags.get(r["status_id"], (False, False, False))
                self.sales[r["id"]] = Sale(r["id"], r["number"], r["client_id"], r["date"],
                                           r["total_kop"], r["paid_kop"], r["status_id"],
                                           inv, paid, lost)
                loaded.append(r["id"])
                if r["total_kop"] > r["paid_kop"] and not lost:
                    self.open_by_client.setdefault(r["client_id"], []).append(r["id"])
        for chunk in _chunks(loaded):
            for r in self.conn.execute(
                    "SELECT sale_id, number, date FROM documents WHERE kind = 'invoice' AND"
                    f" sale_id IN ({','.join('?' * len(chunk))}) ORDER BY date, id", chunk):
                self.sales[r[0]].invoices.append((r[1], r[2]))
        for sale_ids in self.open_by_client.values():
            sale_ids.sort(key=lambda i: (self.sales[i].date, i))

    # --- matching -----------------------------------------------------------------------

    def client_for(self, p: PaymentLike) -> tuple[int | None, str, list[int]]:
        """``(client id or None, how it was found, the clients it might be)``."""
        ids = self.by_inn.get(p.payer_inn, []) if p.payer_inn else []
        if len(ids) == 1:
            return ids[0], "по ИНН", ids
        if len(ids) > 1:
            same = [i for i in ids if p.payer_kpp and self.clients[i]["kpp"] == p.payer_kpp]
            if len(same) == 1:
                return same[0], "по ИНН и КПП", ids
            return None, "", ids
        if p.payer_account and p.payer_account in self.by_account:
            cid, how = self.by_account[p.payer_account]
            return cid, how, [cid]
        return None, "", []

    def referenced(self, p: PaymentLike, day: str) -> list[Sale]:
        """The sales the purpose names (an invoice without a date, or whose date is
        not its own: the latest of that number issued on or before the payment's day)."""
        out: list[Sale] = []
        for ref in self.refs.get(id(p)) or purpose_mod.extract(p.purpose, self.prefixes):
            sid: int | None = None
            if ref.kind == "sale":
                sid = self.by_sale_number.get(ref.number)
            else:
                found = self.by_invoice.get(ref.number, [])
                if ref.date:
                    sid = next((s for d, s in found if d == ref.date), None)
                if sid is None:  # no date, or a date shared with the next number
                    earlier = sorted((d, s) for d, s in found if (not day or d <= day)
                                     and (not ref.date or d[:4] == ref.date[:4]))
                    sid = earlier[-1][1] if earlier else None
            if sid is not None and sid in self.sales and self.sales[sid] not in out:
                out.append(self.sales[sid])
        return out

    def match(self, p: PaymentLike, day: str = "", client_hint: int | None = None,
              rank: bool = False) -> Match:
        """Match one incoming payment (``day``: the day it arrived, ISO;
        ``client_hint``: the client a person already set, used when the payer's
        requisites find none). Candidates are ranked only for a payment left for
        review, or always with ``rank``."""
        amount = p.amount_kop
        client_id, how, maybe = self.client_for(p)
        if client_id is None and client_hint in self.clients:
            client_id, how, maybe = client_hint, "выбран вручную", [client_hint]
        named = self.referenced(p, day)
        live = [s for s in named if not s.is_lost and s.remaining_kop > 0]

        def candidates() -> list[Candidate]:  # the review's list, only when needed
            return self.candidates(p, client_id, maybe, named)

        def sure(allocations: list[tuple[int, int]], reason: str) -> Match:
            return Match(client_id, how, allocations, reason, candidates() if rank else [])

        if client_id is None:
            if maybe:
                reason = (f"несколько клиентов с ИНН {p.payer_inn}: выберите продажу нужного")
            elif p.payer_inn:
                reason = f"плательщик с ИНН {p.payer_inn} не найден среди клиентов"
            else:
                reason = "плательщик без ИНН не найден среди клиентов"
            return Match(None, "", [], reason, candidates())
        mine = [s for s in live if s.client_id == client_id]
        if len(mine) == 1 and amount <= mine[0].remaining_kop:
            part = "" if amount == mine[0].remaining_kop else " (частичная оплата)"
            return sure([(mine[0].id, amount)], f"{mine[0].label()} в назначении платежа{part}")
        if len(mine) > 1 and amount == sum(s.remaining_kop for s in mine):
            return sure([(s.id, s.remaining_kop) for s in mine],
                        "счета в назначении платежа: " + ", ".join(s.label() for s in mine))
        if mine:
            debt = sum(s.remaining_kop for s in mine)
            return Match(client_id, how, [], (
                f"сумма {_rub(amount)} не сходится с остатком {_rub(debt)} по счетам из"
                " назначения платежа"), candidates())
        if named and not live:
            return Match(client_id, how, [], "счёт из назначения платежа уже оплачен или"
                         " отменён", candidates())
        if named:
            return Match(client_id, how, [], "счёт из назначения платежа выставлен другому"
                         " клиенту", candidates())
        for sid in self.open_by_client.get(client_id, []):
            s = self.sales[sid]
            if s.is_invoiced and not s.is_paid and s.remaining_kop == amount:
                return sure([(s.id, amount)], f"остаток по {s.label()} равен сумме платежа")
        return Match(client_id, how, [], "у клиента нет выставленного счёта с таким остатком",
                     candidates())

    def candidates(self, p: PaymentLike, client_id: int | None, maybe: Sequence[int],
                   named: Sequence[Sale]) -> list[Candidate]:
        """Sales the payment may be for, best first."""
        amount = p.amount_kop
        scored: dict[int, tuple[int, str]] = {}
        for s in named:
            if s.is_lost or s.remaining_kop <= 0:
                continue
            same = client_id is None or s.client_id == client_id
            fits = amount <= s.remaining_kop
            scored[s.id] = (95 if same and fits else 85 if same else 70 if fits else 60,
                            "назван в назначении платежа")
        for cid in ([client_id] if client_id is not None else list(maybe)):
            for sid in self.open_by_client.get(cid, []):
                s = self.sales[sid]
                if sid in scored or s.remaining_kop <= 0:
                    continue
                if s.remaining_kop == amount:
                    score, why = 80, "остаток равен сумме платежа"
                elif s.remaining_kop > amount:
                    score, why = 50, "частичная оплата?"
                else:
                    score, why = 30, "остаток меньше платежа: разделите платёж"
                scored[sid] = (score + (5 if s.is_invoiced else 0), why)
        out = []
        for sid, (score, why) in scored.items():
            s = self.sales[sid]
            name = self.clients.get(s.client_id, {}).get("name", "?")
            out.append(Candidate(
                s.id, s.number, s.client_id, name, s.remaining_kop, score,
                f"Похоже на {s.label()} клиента {name}, остаток {_rub(s.remaining_kop)}"
                f" ({why})"))
        out.sort(key=lambda c: (-c.score, self.sales[c.sale_id].date, c.sale_id))
        return out[:MAX_CANDIDATES]

    def allocate(self, allocations: Iterable[tuple[int, int]]) -> None:
        """Follow what was recorded: the sales' paid amounts grow."""
        for sid, kop in allocations:
            if sid in self.sales:
                self.sales[sid].paid_kop += kop
