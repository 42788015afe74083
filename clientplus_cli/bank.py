"""Bank statement commands of ``clientplus`` (registered by :func:`register` from
``cli.build_parser``)::

    clientplus bank import FILE [FILE ...] [--dry-run] [--json] [-o SUMMARY.xlsx]
    clientplus bank review [--json]            # payments waiting for review, with candidates
    clientplus bank confirm PAYMENT_ID [--sale NUMBER]
    clientplus bank dismiss PAYMENT_ID [--reason TEXT]
    clientplus bank accounts [--add ACCOUNT --bik BIK [--bank NAME]] [--remove ACCOUNT]

A file that is not a statement (or is cut short) is one line naming the file and the
line, and nothing is loaded.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clientplus_cli.common import print_json, store_actor
from clientplus_core.base import formats


def _count(n: int, one: str, few: str, many: str) -> str:
    form = one if n % 10 == 1 and n % 100 != 11 else (
        few if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else many)
    return f"{n} {form}"


def cmd_import(args: argparse.Namespace) -> int:
    from clientplus_core import bank
    from clientplus_core.sales import money

    store, actor = store_actor(args)
    files = [(Path(f).name, Path(f).read_bytes()) for f in args.files]
    result = bank.load(store, actor, files, dry_run=args.dry_run)
    if args.output:
        Path(args.output).write_bytes(bank.summary_xlsx(result))
    if args.json:
        print_json(result.as_json())
        return 0
    s = result.summary
    for f in result.files:
        period = f"{formats.day(f['date_from'])}–{formats.day(f['date_to'])}"
        docs = _count(f["documents"], "документ", "документа", "документов")
        print(f"{f['name']}: {period}, {docs} ({f['encoding']})")
    print(f"Поступило: {_count(s['received_count'], 'платёж', 'платежа', 'платежей')}"
          f" на {formats.money(s['received'])}")
    print(f"Разнесено автоматически: {s['matched_count']} на {formats.money(s['matched'])}")
    print(f"Ждут разбора: {s['review_count']} на {formats.money(s['review'])}")
    print(f"Не учитываются (списания, переводы между своими счетами, чужие счета):"
          f" {s['ignored_count']}")
    print(f"Уже загружены раньше: {s['duplicates_count']}")
    for i in result.items:
        if i.state == "review":
            print(f"  {i.file}, строка {i.line}: п/п № {i.number} от {formats.day(i.date)},"
                  f" {formats.money(money.from_kop(i.amount_kop))}, {i.payer_name}"
                  f" (ИНН {i.payer_inn or '—'}): {i.reason}")
    if args.dry_run:
        print("Пробная загрузка: ничего не записано.")
    if args.output:
        print(f"Сводка: {args.output}")
    return 0


def cmd_review(args: argparse.Namespace) -> int:
    from clientplus_core import bank

    store, actor = store_actor(args)
    items = bank.review_items(store, actor)
    if args.json:
        print_json(items)
        return 0
    if not items:
        print("Разбирать нечего: все платежи разнесены.")
    for d in items:
        print(f"#{d['id']} п/п № {d['doc_number']} от {formats.day(d['doc_date'])},"
              f" {formats.money(d['amount'])}, {d['payer_name']} (ИНН {d['payer_inn'] or '—'}):"
              f" {d['reason']}")
        for c in d["candidates"]:
            print(f"    {c['sale_number']}: {c['reason']}")
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from clientplus_core import bank, sales

    store, actor = store_actor(args)
    sale_id = sales.find_id(store, actor, args.sale) if args.sale else None
    done = bank.confirm(store, actor, args.payment_id, sale_id)
    print(f"Платёж № {done['doc_number']} разнесён: "
          + ", ".join(f"{a['sale_number']} — {formats.money(a['amount'])}"
                      for a in done["allocations"]))
    return 0


def cmd_dismiss(args: argparse.Namespace) -> int:
    from clientplus_core import bank

    store, actor = store_actor(args)
    done = bank.dismiss(store, actor, args.payment_id, args.reason or "")
    print(f"Платёж № {done['doc_number']} отклонён: {done['reason']}")
    return 0


def cmd_accounts(args: argparse.Namespace) -> int:
    from clientplus_core.sales import company

    store, actor = store_actor(args)
    if args.add or args.remove:
        extra: list[dict[str, Any]] = [a for a in company.get(store)["extra_accounts"]
                                       if a["account"] != (args.remove or "")]
        if args.add:
            extra.append({"account": args.add, "bik": args.bik or "",
                          "bank_name": args.bank or ""})
        company.save(store, actor, company.get(store) | {"extra_accounts": extra})
    for a in company.own_accounts(store):
        print(f"{a['account']}\tБИК {a['bik']}\t{a['bank_name']}")
    return 0


def register(sub: Any) -> None:
    """Add ``bank`` to the ``clientplus`` parser."""
    b = sub.add_parser("bank", help="bank statements (1C exchange format): import, review")
    bsub = b.add_subparsers(dest="bank_cmd", required=True)
    p = bsub.add_parser("import", help="load statement files (kl_to_1c.txt)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--dry-run", action="store_true", help="compute everything, write nothing")
    p.add_argument("--json", action="store_true")
    p.add_argument("-o", "--output", metavar="SUMMARY.xlsx", help="write the summary as Excel")
    p.set_defaults(func=cmd_import)
    p = bsub.add_parser("review", help="payments waiting for review, with candidates")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_review)
    p = bsub.add_parser("confirm", help="record a payment on its best (or this) sale")
    p.add_argument("payment_id", type=int)
    p.add_argument("--sale", metavar="NUMBER")
    p.set_defaults(func=cmd_confirm)
    p = bsub.add_parser("dismiss", help="leave a payment out")
    p.add_argument("payment_id", type=int)
    p.add_argument("--reason")
    p.set_defaults(func=cmd_dismiss)
    p = bsub.add_parser("accounts", help="the company's settlement accounts")
    p.add_argument("--add", metavar="ACCOUNT")
    p.add_argument("--bik")
    p.add_argument("--bank", metavar="NAME")
    p.add_argument("--remove", metavar="ACCOUNT")
    p.set_defaults(func=cmd_accounts)
