"""E-mail mailing commands of ``clientplus`` (registered by :func:`register` from
``cli.build_parser``)::

    clientplus mailing list [--json]
    clientplus mailing show ID [--json]
    clientplus mailing send ID [--resume]
    clientplus mailing test ID --to ADDRESS
    clientplus mailing unsubscribe "unsubscribe <code>"   (a reply's subject, or the code)
    clientplus mailing check-smtp

Every command takes ``--user LOGIN`` (default: the local administrator); a manager
sees and mails only their own mailings and clients.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clientplus_cli.common import print_json, store_actor


def _counts(c: dict[str, int]) -> str:
    return (f"всего {c['total']}: отправлено {c['sent']}, ошибок {c['failed']}, "
            f"пропущено {c['skipped']}, в очереди {c['queued'] + c['sending']}")


def cmd_list(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import mailing

    store, actor = store_actor(args)
    items = mailing.list_mailings(store, actor)
    if args.json:
        print_json(items)
        return 0
    for m in items:
        print(f"{m['id']}\t{mailing.STATUSES[m['status']][0]}\t{m['subject']}\t"
              f"{m['book_name']}\t{_counts(m['counts'])}")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import mailing

    store, actor = store_actor(args)
    m = mailing.get(store, actor, args.id)
    log = mailing.log(store, actor, args.id)
    if args.json:
        print_json(m | {"log": log})
        return 0
    print(f"Рассылка №{m['id']}: {m['subject']}")
    print(f"Статус: {mailing.STATUSES[m['status']][0]}; адресная книга: {m['book_name'] or '—'}")
    print(_counts(m["counts"]))
    if m["last_error"]:
        print(f"Последняя ошибка: {m['last_error']}")
    for row in mailing.log_rows(log):
        print("\t".join("" if v is None else str(v) for v in row))
    return 0


def cmd_send(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import mailing, sending

    store, actor = store_actor(args)

    def progress(done: int, total: int, rec: dict[str, Any]) -> None:
        if not args.quiet:
            print(f"[{done}/{total}] {rec['email']}: "
                  f"{mailing.RECIPIENT_STATUSES[rec['status']][0]}"
                  f"{' — ' + rec['detail'] if rec.get('detail') else ''}", flush=True)

    result = sending.send(store, actor, args.id, resume=args.resume, progress=progress)
    print(_counts(result))
    if result["interrupted"]:
        print(f"Рассылка прервана: {result['interrupted']}. Продолжить: "
              f"clientplus mailing send {args.id} --resume", file=sys.stderr)
        return 2
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import mailing

    store, actor = store_actor(args)
    print(mailing.test_send(store, actor, args.id, args.to))
    return 0


def cmd_unsubscribe(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import sending

    store, actor = store_actor(args)
    got = sending.unsubscribe(store, args.text, actor)
    print(f"Отказ от рассылки записан: {got['email']} (рассылка №{got['mailing_id']})")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from clientplus_core.outreach import smtp

    store, _actor = store_actor(args)
    print(smtp.check_connection(smtp.load_config(store)))
    return 0


def register(sub: Any) -> None:
    """Add ``mailing`` to the ``clientplus`` parser."""
    s = sub.add_parser("mailing", help="e-mail mailings: list, show, send, test")
    ssub = s.add_subparsers(dest="mailing_cmd", required=True)

    def add(name: str, func: Any, help_: str) -> argparse.ArgumentParser:
        p = ssub.add_parser(name, help=help_)
        p.add_argument("--user", default=argparse.SUPPRESS, help="act as this user")
        p.set_defaults(func=func)
        return p

    p = add("list", cmd_list, "mailings with status and counts")
    p.add_argument("--json", action="store_true")
    p = add("show", cmd_show, "a mailing and its per-recipient log")
    p.add_argument("id", type=int)
    p.add_argument("--json", action="store_true")
    p = add("send", cmd_send, "send a mailing (or continue an interrupted one with --resume)")
    p.add_argument("id", type=int)
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted mailing: only recipients not yet sent")
    p.add_argument("--quiet", action="store_true", help="no line per recipient")
    p = add("test", cmd_test, "send the message for the first recipient to ADDRESS")
    p.add_argument("id", type=int)
    p.add_argument("--to", required=True, metavar="ADDRESS")
    p = add("unsubscribe", cmd_unsubscribe,
            "record an opt-out from a reply's subject «unsubscribe CODE» (or the code)")
    p.add_argument("text")
    add("check-smtp", cmd_check, "connect to the configured SMTP server and log in")
