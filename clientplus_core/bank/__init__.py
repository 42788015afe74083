"""Bank statements: payments arrive by themselves (issue 15).

Every Russian online bank exports its statement in the text format 1C loads
(«Выписка → Экспорт → 1С», file ``kl_to_1c.txt``, ``1CClientBankExchange``). Loading
it records each incoming payment on its invoice, so a sale goes from «Счёт
выставлен» to «Оплачено» without anyone typing a sum.

Public API (what the page and the CLI call)::

    load(store, actor, files: [(name, bytes)], dry_run=False) -> LoadResult
        # .summary {received_count, received, matched_count, matched, review_count,
        #           review, ignored_count, duplicates_count, documents}
        # .items [Item: file, line, direction, state, number, date, amount_kop, payer_*,
        #         client_id/name, allocations, reason, candidates, payment_id]
        # .files [{name, statement_id, encoding, date_from, date_to, documents}]
    summary_xlsx(result, lang="ru") -> bytes             # the load's table as Excel
    list_statements(store, actor) -> list[dict]          # head / admin
    list_payments(store, actor, state=None, statement_id=None) -> list[dict]  # scoped
    review_items(store, actor, statement_id=None) -> list[dict]  # + ranked candidates
    confirm(store, actor, payment_id, sale_id=None) -> dict      # the best or this sale
    split(store, actor, payment_id, [(sale_id, amount), ...]) -> dict
    create_client(store, actor, payment_id, lookup_client=None) -> dict
    dismiss(store, actor, payment_id, reason="") -> dict
    StatementError                                      # .file, .line, str() names both

Modules: :mod:`.exchange` (the file format), :mod:`.purpose` (invoice numbers in a
payment's purpose), :mod:`.matching` (payer → client, payment → sale),
:mod:`.posting` (recording on sales through the sales' payment code),
:mod:`.imports` (the load, one transaction), :mod:`.review` (reading and resolving),
:mod:`.report` (Excel), :mod:`.generator` (realistic statements for tests and bench).

Undo: delete the payment on the sale card. The sale's status does not move back by
itself — set it by hand.
"""

from __future__ import annotations

from clientplus_core.bank.exchange import StatementError
from clientplus_core.bank.imports import DIRECTIONS, STATES, Item, LoadResult, load
from clientplus_core.bank.report import summary_xlsx
from clientplus_core.bank.review import (
    confirm,
    create_client,
    dismiss,
    list_payments,
    list_statements,
    review_items,
    split,
)

__all__ = [
    "DIRECTIONS",
    "STATES",
    "Item",
    "LoadResult",
    "StatementError",
    "confirm",
    "create_client",
    "dismiss",
    "list_payments",
    "list_statements",
    "load",
    "review_items",
    "split",
    "summary_xlsx",
]
