"""Loading statements: every file of one load is read and checked first, then
everything is written in one transaction (or, for a dry run, computed and rolled
back), so a bad line loads nothing.

Only documents on the company's own accounts (Settings → Моя компания, the main
account and the extra ones) count: incoming ones are matched (:mod:`.matching`)
and recorded on sales (:mod:`.posting`) or left for review; outgoing ones and
transfers between own accounts are kept as ignored; documents on other accounts
are listed as ignored. A statement for an account the company does not have is
refused naming its line. A document already loaded (same own account, bank
document number, date, amount and payer INN) is a duplicate and adds nothing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from clientplus_core.bank import exchange
from clientplus_core.bank.matching import Book, Match
from clientplus_core.bank.posting import post
from clientplus_core.base import formats
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.records import settings
from clientplus_core.sales import company, money
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

STATES = {"matched": ("Разнесён автоматически", "Matched automatically"),
          "review": ("Ждёт разбора", "Waiting for review"),
          "ignored": ("Не учитывается", "Ignored"),
          "dismissed": ("Отклонён", "Dismissed"),
          "duplicate": ("Уже загружен", "Already loaded")}
DIRECTIONS = {"in": ("Поступление", "Incoming"), "out": ("Списание", "Outgoing"),
              "own": ("Между своими счетами", "Between own accounts"),
              "other": ("Не наш счёт", "Not our account")}
NO_ACCOUNTS = ("В настройках «Моя компания» нет расчётного счёта: укажите счёт (и другие"
               " счета компании), на который приходят оплаты, и загрузите выписку снова")


@dataclass
class Item:
    """One document of a load, as the summary lists it."""

    file: str
    statement: int
    line: int
    direction: str
    state: str
    number: str
    date: str
    paid_on: str
    amount_kop: int
    payer_name: str
    payer_inn: str
    payee_name: str
    purpose: str
    own_account: str = ""
    client_id: int | None = None
    client_name: str = ""
    allocations: list[dict[str, Any]] = field(default_factory=list)
    reason: str = ""
    candidates: list[dict[str, Any]] = field(default_factory=list)
    payment_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"amount": money.from_kop(self.amount_kop)}


@dataclass
class LoadResult:
    """What a load did (or, for a dry run, would do)."""

    dry_run: bool
    files: list[dict[str, Any]]
    items: list[Item]

    def _sum(self, state: str, direction: str | None = "in") -> tuple[int, int]:
        rows = [i for i in self.items if i.state == state
                and (direction is None or i.direction == direction)]
        return len(rows), sum(i.amount_kop for i in rows)

    @property
    def summary(self) -> dict[str, Any]:
        """Counts and sums: ``received`` (new incoming payments), ``matched``,
        ``review``, ``ignored`` (outgoing, own transfers, other accounts) and
        ``duplicates`` (loaded before); amounts as Decimal roubles."""
        matched, review = self._sum("matched"), self._sum("review")
        ignored, dup = self._sum("ignored", None), self._sum("duplicate", None)
        return {"received_count": matched[0] + review[0],
                "received": money.from_kop(matched[1] + review[1]),
                "matched_count": matched[0], "matched": money.from_kop(matched[1]),
                "review_count": review[0], "review": money.from_kop(review[1]),
                "ignored_count": ignored[0], "duplicates_count": dup[0],
                "documents": len(self.items)}

    def as_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "files": self.files, "summary": self.summary,
                "items": [i.as_dict() for i in self.items]}


class _Rollback(Exception):
    """Ends a dry run's transaction without committing."""


def _key(own: str, doc: exchange.Document) -> str:
    return "|".join((own, doc.number, doc.date, str(doc.amount_kop), doc.payer_inn))


def _check_accounts(st: exchange.Statement, own: set[str]) -> None:
    places = [*st.accounts, *((s.account, s.line) for s in st.sections)]
    for account, line in places:
        if account and account not in own:
            raise exchange.StatementError(
                f"счёт {account} не счёт компании: добавьте его в Настройки → Моя компания"
                " (или загрузите выписку своего счёта)", line, st.name)


def _direction(doc: exchange.Document, own: set[str], own_inn: str) -> tuple[str, str]:
    """(direction, own account): ``in``, ``out``, ``own`` (both sides ours) or ``other``."""
    to_us, from_us = doc.payee_account in own, doc.payer_account in own
    if to_us and (from_us or (own_inn and doc.payer_inn == own_inn)):
        return "own", doc.payee_account
    if to_us:
        return "in", doc.payee_account
    if from_us:
        return "out", doc.payer_account
    return "other", ""


def parse_files(files: Sequence[tuple[str, bytes]]) -> list[exchange.Statement]:
    """Read every file (StatementError naming the file and line on the first bad one)."""
    if not files:
        raise UserError("Не выбран ни один файл выписки")
    return [exchange.parse(data, name) for name, data in files]


def load(store: Store, actor: Actor, files: Sequence[tuple[str, bytes]], *,
         dry_run: bool = False) -> LoadResult:
    """Load statement files (``(name, bytes)``): parse and check all, then match and
    record in one transaction; ``dry_run`` computes everything and writes nothing."""
    require(actor, "bank.import")
    accounts = company.own_accounts(store)
    if not accounts:
        raise ValidationError({"accounts": NO_ACCOUNTS})
    own = {a["account"] for a in accounts}
    own_inn = company.get(store)["inn"]
    prefixes = [str(settings.get(store, "sale_number_prefix") or "")]
    statements = parse_files(files)
    for st in statements:
        _check_accounts(st, own)
    hashes = {id(st): hashlib.sha256(data).hexdigest() for (_, data), st
              in zip(files, statements, strict=True)}
    result = LoadResult(dry_run, [], [])
    try:
        with store.write() as conn:
            big = sum(len(st.documents) for st in statements) > 1000
            if big:
                # thousands of payments touch pages all over the sales indexes: a page
                # cache of 256 MB for this load keeps them in hand (back to SQLite's
                # default after, as the connection goes back to the pool)
                conn.execute("PRAGMA cache_size = -262144")
            try:
                _load(conn, actor, statements, hashes, own, own_inn, prefixes, result)
            finally:
                if big:
                    conn.execute("PRAGMA cache_size = -2000")
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    return result


def _load(conn: sqlite3.Connection, actor: Actor, statements: list[exchange.Statement],
          hashes: dict[int, str], own: set[str], own_inn: str, prefixes: list[str],
          result: LoadResult) -> None:
    plan: list[tuple[exchange.Statement, exchange.Document, str, str, str]] = []
    for st in statements:
        for doc in st.documents:
            direction, account = _direction(doc, own, own_inn)
            plan.append((st, doc, direction, account, _key(account, doc) if account else ""))
    keys = [k for *_, k in plan if k]
    seen: set[str] = set()
    for k in range(0, len(keys), 900):
        chunk = keys[k:k + 900]
        seen.update(r[0] for r in conn.execute(
            "SELECT dedup_key FROM bank_payments WHERE dedup_key IN"
            f" ({','.join('?' * len(chunk))})", chunk))
    incoming = [doc for _, doc, d, _, key in plan if d == "in" and key not in seen]
    book = Book(conn, incoming, prefixes)
    sids: dict[int, int] = {}
    for st in statements:
        sids[id(st)] = int(conn.execute(
            "INSERT INTO bank_statements (file_name, sha256, encoding, date_from, date_to,"
            " accounts, loaded_by, loaded_at) VALUES (?,?,?,?,?,?,?,?)",
            (st.name, hashes[id(st)], st.encoding, st.date_from, st.date_to,
             json.dumps(sorted({a for a, _ in st.accounts} | {s.account for s in st.sections})),
             actor.id, now_iso())).lastrowid or 0)
    for st, doc, direction, account, key in plan:
        item = Item(st.name, sids[id(st)], doc.line, direction, "ignored", doc.number, doc.date,
                    doc.paid_on, doc.amount_kop, doc.payer_name, doc.payer_inn, doc.payee_name,
                    doc.purpose, account)
        result.items.append(item)
        if not key:
            item.reason = "документ не по счёту компании"
            continue
        if key in seen:
            item.state, item.reason = "duplicate", "этот платёж уже загружен"
            continue
        seen.add(key)
        if direction != "in":
            item.reason = ("исходящий платёж" if direction == "out"
                           else "перевод между своими счетами")
            item.payment_id = _insert(conn, sids[id(st)], doc, direction, account, key,
                                      "ignored", item.reason, None)
            continue
        _incoming(conn, actor, book, st.name, sids[id(st)], doc, account, key, item)
    for st in statements:
        _finish_statement(conn, actor, st, sids[id(st)], result.items)
    result.files = [{"name": st.name, "statement_id": sids[id(st)], "encoding": st.encoding,
                     "date_from": st.date_from, "date_to": st.date_to,
                     "documents": len(st.documents)} for st in statements]


def _insert(conn: sqlite3.Connection, statement_id: int, doc: exchange.Document,
            direction: str, account: str, key: str, state: str, reason: str,
            client_id: int | None, resolved_by: int | None = None) -> int:
    ts = now_iso()
    cur = conn.execute(
        "INSERT INTO bank_payments (statement_id, line, dedup_key, direction, own_account,"
        " doc_kind, doc_number, doc_date, paid_on, amount_kop, payer_name, payer_inn, payer_kpp,"
        " payer_account, payer_bik, payer_bank, payee_name, payee_inn, payee_account, purpose,"
        " state, reason, client_id, resolved_by, resolved_at, created_at) VALUES"
        " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (statement_id, doc.line, key, direction, account, doc.kind[:100], doc.number, doc.date,
         doc.paid_on, doc.amount_kop, doc.payer_name, doc.payer_inn, doc.payer_kpp,
         doc.payer_account, doc.payer_bik, doc.payer_bank, doc.payee_name, doc.payee_inn,
         doc.payee_account, doc.purpose, state, reason[:500], client_id, resolved_by,
         ts if resolved_by else None, ts))
    return int(cur.lastrowid or 0)


def _incoming(conn: sqlite3.Connection, actor: Actor, book: Book, statement: str,
              statement_id: int, doc: exchange.Document, account: str, key: str,
              item: Item) -> None:
    m: Match = book.match(doc, doc.paid_on)
    item.client_id = m.client_id
    item.client_name = book.clients.get(m.client_id, {}).get("name", "") if m.client_id else ""
    item.candidates = [c.as_dict() for c in m.candidates]
    how = f"клиент найден {m.client_how}; " if m.client_how else ""
    item.reason = how + m.reason
    if m.confident:  # stored as matched at once; set back to review if a sale refuses
        client = book.sales[m.allocations[0][0]].client_id
        item.payment_id = _insert(conn, statement_id, doc, "in", account, key, "matched",
                                  item.reason, client, actor.id)
        bp = {"id": item.payment_id, "doc_number": doc.number, "doc_date": doc.date,
              "paid_on": doc.paid_on, "purpose": doc.purpose, "payer_name": doc.payer_name}
        conn.execute("SAVEPOINT bank_post")  # a refused second part undoes the first
        try:
            post(conn, actor, bp, m.allocations, statement, item.reason, mark=False)
            conn.execute("RELEASE bank_post")
        except UserError as exc:  # refused by the sale (lost, debt): a person decides
            conn.execute("ROLLBACK TO bank_post")
            conn.execute("RELEASE bank_post")
            item.reason = str(exc)
            conn.execute("UPDATE bank_payments SET state = 'review', reason = ?,"
                         " resolved_by = NULL, resolved_at = NULL WHERE id = ?",
                         (item.reason[:500], item.payment_id))
        else:
            book.allocate(m.allocations)
            item.state = "matched"
            item.allocations = [{"sale_id": sid, "sale_number": book.sales[sid].number,
                                 "amount_kop": kop} for sid, kop in m.allocations]
            return
    else:
        item.payment_id = _insert(conn, statement_id, doc, "in", account, key, "review",
                                  item.reason, m.client_id)
    item.state = "review"


def _finish_statement(conn: sqlite3.Connection, actor: Actor, st: exchange.Statement,
                      sid: int, items: list[Item]) -> None:
    mine = [i for i in items if i.statement == sid]
    count = {s: sum(1 for i in mine if i.state == s)
             for s in ("matched", "review", "ignored", "duplicate")}
    received = sum(i.amount_kop for i in mine if i.direction == "in"
                   and i.state in ("matched", "review"))
    conn.execute("UPDATE bank_statements SET documents = ?, received_kop = ?, matched = ?,"
                 " review = ?, ignored = ?, duplicates = ? WHERE id = ?",
                 (len(mine), received, count["matched"], count["review"], count["ignored"],
                  count["duplicate"], sid))
    audit.record(conn, actor, "bank_import", "bank_statement", sid, None,
                 f"Выписка {st.name}: поступило {formats.money(money.from_kop(received))},"
                 f" разнесено {count['matched']}, на разбор {count['review']}",
                 {"file": st.name, "period": [st.date_from, st.date_to], **count})
