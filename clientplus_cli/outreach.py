"""Outreach-list commands of ``clientplus`` (registered by :func:`register` from
``cli.build_parser``)::

    clientplus phones export (--segment NAME | --book NAME) -o FILE.xlsx|.csv
                             [--mobile-only] [--calls] [--user LOGIN]
    clientplus addressbook list [--json]
    clientplus addressbook show NAME [--skipped]

``phones export`` prints how many phones were written and how many were dropped,
by reason (неверный номер / не мобильный / отказ / нет согласия / дубль).
``--calls`` writes a call list: extensions («доб. 123») kept in a column ``ext``;
without it the list is for SMS (bare numbers, extensions dropped).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clientplus_cli.common import print_json, store_actor
from clientplus_core.base.errors import UserError


def cmd_phones_export(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import addressbooks, phones

    out = Path(args.output)
    if out.suffix.lower() not in (".xlsx", ".csv"):
        raise UserError("файл списка телефонов должен быть .xlsx или .csv")
    if bool(args.segment) == bool(args.book):
        raise UserError("укажите одно из: --segment НАЗВАНИЕ или --book НАЗВАНИЕ")
    store, actor = store_actor(args)
    purpose = "calls" if getattr(args, "calls", False) else "sms"
    if args.segment:
        result = phones.for_segment(store, actor, args.segment, args.mobile_only, purpose)
    else:
        book = addressbooks.find_book(store, actor, args.book)
        result = phones.for_book(store, actor, book["id"], args.mobile_only, purpose)
    n = phones.write(result, out)
    print(f"Выгружено номеров: {n} → {out}")
    summary = phones.dropped_summary(result)
    print(f"Отброшено: {result.dropped_total}"
          + (" (" + ", ".join(f"{r}: {c}" for r, c in summary) + ")" if summary else ""))
    return 0


def cmd_addressbook_list(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import addressbooks

    store, actor = store_actor(args)
    books = addressbooks.list_books(store, actor)
    if args.json:
        print_json(books)
        return 0
    for b in books:
        print(f"{b['id']}\t{b['name']}\t{b['kind']}\t{b['channels']}\t"
              f"{addressbooks.describe(b['criteria'])}\t{b['owner']}")
    return 0


def cmd_addressbook_show(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import addressbooks

    store, actor = store_actor(args)
    book = addressbooks.find_book(store, actor, args.name)
    recipients, skipped = addressbooks.email_recipients(store, actor, book["id"])
    for r in recipients:
        print(f"{r.email}\t{r.name}\t{r.client_id}")
    if args.skipped:
        for s in skipped:
            print(f"# {s.value}\t{s.reason}\t{s.client_id}")
    print(f"Получателей: {len(recipients)}; пропущено: {len(skipped)}")
    return 0


def register(sub: Any) -> None:
    """Add ``phones`` and ``addressbook`` to the ``clientplus`` parser."""
    s = sub.add_parser("phones", help="phone lists for SMS gateways")
    ssub = s.add_subparsers(dest="phones_cmd", required=True)
    p = ssub.add_parser("export", help="export the phones of a segment or address book")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--segment", help="a saved segment")
    src.add_argument("--book", help="an address book")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx|FILE.csv")
    p.add_argument("--mobile-only", action="store_true", help="only mobile numbers")
    p.add_argument("--calls", action="store_true",
                   help="a call list: keep extensions (column ext); default: for SMS")
    p.add_argument("--user", default=argparse.SUPPRESS,
                   help="act as this user (default: the local administrator)")
    p.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_phones_export)

    a = sub.add_parser("addressbook", help="address books: list, show")
    asub = a.add_subparsers(dest="addressbook_cmd", required=True)
    p = asub.add_parser("list")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user", default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_addressbook_list)
    p = asub.add_parser("show", help="the book's e-mail recipients")
    p.add_argument("name")
    p.add_argument("--skipped", action="store_true", help="also list skipped addresses")
    p.add_argument("--user", default=argparse.SUPPRESS)
    p.set_defaults(func=cmd_addressbook_show)
