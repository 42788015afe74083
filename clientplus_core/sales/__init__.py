"""Sales (deals / requests): the card, its specification and totals, statuses and the
log of every change, the payment schedule and actual payments, contact history,
files and links.

Public API (what the pages and the CLI call)::

    SaleFilter(query, statuses, owner_id, client_id, date_from, date_to,
               amount_min, amount_max, payment, closed, sort, descending)
    list_sales(store, actor, f=None, page=1, page_size=50) -> SalesPage
        # .rows, .total, .page, .page_size, .pages, .sums = {"total", "paid", "debt"}
    iter_sales(store, actor, f=None) -> Iterator[dict]            # every matching row
    export_sales(store, actor, f, out, fmt="xlsx") -> int; export_sales_bytes(...) -> bytes
    board(store, actor, f=None, per_status=20) -> list[dict]      # one column per status
    get(store, actor, sale_id) -> dict           # the sale as the edit form needs it (+version)
    get_card(store, actor, sale_id) -> dict      # everything the card shows, see below
    find_id(store, actor, number) -> int
    create(store, actor, data) -> dict
    update(store, actor, sale_id, data, version, base=None) -> dict
    set_status(store, actor, sale_id, status, reason="", note="") -> dict
    add_planned_payment(store, actor, sale_id, amount, date, note="") -> dict
    add_payment(store, actor, sale_id, amount, date=None, document="", note="",
                apply_suggestion=None) -> dict
    delete_payment(store, actor, payment_id) -> None
    add_contact_event(store, actor, data) -> dict     # data: sale_id or client_id, ...
    contact_history(store, actor, client_id=None, sale_id=None) -> list[dict]
    change_history(store, actor, sale_id) -> list[dict]  # the sale's audit entries
    delete_contact_event(store, actor, event_id) -> None
    attach_file(store, actor, sale_id, name, data) -> dict
    list_files / add_link / list_links(store, actor, sale_id, ...)
    delete(store, actor, sale_id) / restore(...) / list_deleted(store, actor)
    new_sale_defaults(store, actor, client_id=None) -> dict   # date, VAT code, owner for a form
    preview_lines(store, lines, sale_date, vat_mode, discount) -> (lines, money.Totals)

``data`` for :func:`create` / :func:`update`: ``client_id`` (required), ``contact_id``,
``owner_id``, ``date``, ``title``, ``source``, ``expected_close``, ``vat_mode``
(``"included"`` | ``"on_top"``), ``discount`` (sale-level %), ``notes``, ``extra``
(dict: custom fields arrive later and are stored here), ``number`` (optional: else
allocated), ``prefix`` (optional, else the ``sale_number_prefix`` setting) and
``lines``: a list of dicts ``{catalogue_id?, name, sku?, unit, qty, price, discount,
vat_code}`` (numbers as Decimal, int, float or text like ``"1 500,50"``). A line
picked from the catalogue takes the item's name, unit, price and VAT unless given;
a line without ``vat_code`` gets the standard rate of the sale's date (22 % from
2026-01-01, 20 % before; "none" for a seller on УСН). Passing ``lines`` replaces
the whole specification.

Decisions:

- **Scope**: a sale is visible to whoever may see its client
  (:func:`access.client_scope`: head, admin and viewer see everything; a manager
  sees the clients they own or that are shared with them). One rule for the card,
  the register, search (which already scopes by client) and the export. A sale's
  owner must be able to see its client (checked on save), and when a client is
  handed over its open sales follow (``clients.OWNER_CASCADE``).
- **Optimistic locking**: ``version`` covers the card fields and the specification.
  Status changes and payments have their own operations and logs and do not bump
  it, so moving a sale on the board does not invalidate a colleague's open form.
- **Storage**: money in kopecks, quantities in thousandths (``qty_milli``),
  discounts in hundredths of a percent (``discount_bp``); totals (``subtotal_kop``,
  ``vat_kop``, ``total_kop``), ``paid_kop``, ``planned_kop`` and ``overdue_from`` (the
  due date of the first planned payment not covered by payments) are stored on the
  sale and recomputed on every change, so the register filters and sums them from
  covering indexes.
- **Numbering**: ``{prefix}{year}-{seq:04d}`` with ``seq`` per year of the sale's date,
  allocated inside the write transaction; numbers are unique (a manual number that
  is taken is refused).
- **Soft delete**: a deleted sale leaves lists and search; head and admin restore it.

Every write records an audit row (entity ``"sale"``, with the client's id so the
client's history shows it) and keeps the search index in step (entity ``"sale"``:
number, title, client, specification lines).

The code lives in the package's modules, re-exported here: :mod:`.common` (business
date, small parsers, the visibility check), :mod:`.lines` (validation and totals),
:mod:`.card` (reading), :mod:`.register` (the register, export and board),
:mod:`.writing` (create, update, status, numbering, search index), :mod:`.payments`,
:mod:`.history` (contact history), :mod:`.attachments` (files and links) and
:mod:`.bin` (delete and restore).
"""

from __future__ import annotations

from clientplus_core.sales.attachments import (
    add_link,
    attach_file,
    list_files,
    list_links,
)
from clientplus_core.sales.bin import delete, list_deleted, restore
from clientplus_core.sales.card import VAT_MODE_LABELS, find_id, get, get_card
from clientplus_core.sales.common import parse_date, today
from clientplus_core.sales.history import (
    add_contact_event,
    change_history,
    contact_history,
    delete_contact_event,
)
from clientplus_core.sales.lines import preview_lines
from clientplus_core.sales.payments import (
    add_payment,
    add_planned_payment,
    delete_payment,
    overdue_from,
)
from clientplus_core.sales.register import (
    SaleFilter,
    SalesPage,
    board,
    export_sales,
    export_sales_bytes,
    iter_sales,
    list_sales,
)
from clientplus_core.sales.writing import (
    create,
    index_sale,
    new_sale_defaults,
    next_status,
    number_digits,
    reindex_all,
    search_entry,
    set_status,
    update,
)

__all__ = [
    "VAT_MODE_LABELS",
    "SaleFilter",
    "SalesPage",
    "add_contact_event",
    "add_link",
    "add_payment",
    "add_planned_payment",
    "attach_file",
    "board",
    "change_history",
    "contact_history",
    "create",
    "delete",
    "delete_contact_event",
    "delete_payment",
    "export_sales",
    "export_sales_bytes",
    "find_id",
    "get",
    "get_card",
    "index_sale",
    "iter_sales",
    "list_deleted",
    "list_files",
    "list_links",
    "list_sales",
    "new_sale_defaults",
    "next_status",
    "number_digits",
    "overdue_from",
    "parse_date",
    "preview_lines",
    "reindex_all",
    "restore",
    "search_entry",
    "set_status",
    "today",
    "update",
]
