"""``clientplus lookup inn|bik|index|refresh``: the requisites lookup from the
command line, thin over :mod:`clientplus_core.requisites.lookup` and
:mod:`clientplus_core.requisites.refresh`.

``refresh`` prints the summary and writes the changes only with ``--apply``;
Ctrl+C stops it after the current client (it resumes from there next time).
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

from clientplus_cli.common import print_json, store_actor
from clientplus_core.requisites import lookup, refresh, registry

_FIELD_LABELS = {
    "kind": "Тип", "name": "Наименование", "full_name": "Полное наименование", "inn": "ИНН",
    "kpp": "КПП", "ogrn": "ОГРН", "okved": "ОКВЭД", "legal_address": "Юридический адрес",
    "postal_index": "Индекс", "director_post": "Должность руководителя",
    "director_name": "Руководитель", "bik": "БИК", "bank_name": "Банк",
    "corr_account": "Корр. счёт", "postal_address": "Почтовый адрес",
}


KINDS = {"legal": "юридическое лицо", "ip": "индивидуальный предприниматель",
         "person": "физическое лицо"}


def _value(name: str, value: object) -> str:
    """A field as a person reads it: the kind in words, not its code."""
    return KINDS.get(str(value), str(value)) if name == "kind" else str(value)


def _source(fetched_at: str, from_cache: bool) -> str:
    return (f"данные от {registry.fetched_date(fetched_at)}"
            + (" (из сохранённых)" if from_cache else ""))


def cmd_inn(args: argparse.Namespace) -> int:
    store, actor = store_actor(args)
    found = lookup.find_party(store, actor, args.inn, fresh=args.fresh)
    if args.json:
        print_json(found.as_json())
        return 0
    for name, value in found.fields.items():
        if value:
            print(f"{_FIELD_LABELS.get(name, name):24} {_value(name, value)}")
    print(f"{'Статус':24} {found.status_label_ru}")
    if found.registration_date:
        print(f"{'Дата регистрации':24} {registry.format_date(found.registration_date)}")
    for b in found.branches[1:]:
        print(f"{'Филиал':24} КПП {b.kpp}, {b.address}")
    if found.warning:
        print(found.warning)
    print(_source(found.fetched_at, found.from_cache))
    return 0


def cmd_bik(args: argparse.Namespace) -> int:
    store, actor = store_actor(args)
    bank = lookup.find_bank(store, actor, args.bik, fresh=args.fresh)
    if args.json:
        print_json(bank.as_json())
        return 0
    for name, value in bank.fields.items():
        print(f"{_FIELD_LABELS[name]:24} {value}")
    if bank.swift:
        print(f"{'SWIFT':24} {bank.swift}")
    if bank.warning:
        print(bank.warning)
    print(_source(bank.fetched_at, bank.from_cache))
    return 0


def cmd_index(args: argparse.Namespace) -> int:
    store, actor = store_actor(args)
    result = lookup.postal_suggestions(store, actor, args.index, fresh=args.fresh)
    if args.json:
        print_json(result.as_json())
        return 0
    for item in result.items:
        print(f"{result.index}, {item.value}")
    print(_source(result.fetched_at, result.from_cache))
    return 0


def _print_report(report: refresh.RefreshReport) -> None:
    print(f"Проверено клиентов: {report.checked} из {report.total}; "
          f"запросов к DaData: {report.requested}")
    for c in report.changed:
        print(f"  №{c.client_id} {c.name}: {_FIELD_LABELS.get(c.field, c.field)}: "
              f"«{c.old}» → «{c.new}»")
    for f in report.liquidated:
        print(f"  ! №{f.client_id} {f.name} (ИНН {f.inn}): {f.status_label}")
    print(f"Изменения: {report.changed_clients} клиентов; "
          f"ликвидированные и не найденные: {len(report.liquidated)}")
    if report.stopped_reason == "limit":
        print("Дневной лимит запросов исчерпан — завтра проверка продолжится с того же места.")
    elif report.stopped_reason == "stop":
        print("Остановлено — в следующий раз проверка продолжится с того же места.")
    elif report.stopped_reason == "error":
        print(f"Остановлено: {report.error}. Проверка продолжится с того же места.")
    if report.applied or report.skipped:
        print(f"Обновлено клиентов: {report.applied}")
    for cid, why in report.skipped:
        print(f"  пропущен №{cid}: {why}")
    if report.changed and not report.applied and not report.skipped:
        print("Чтобы записать изменения, повторите с --apply.")


def cmd_refresh(args: argparse.Namespace) -> int:
    scope = (f"segment:{args.segment}" if args.segment
             else f"tag:{args.tag}" if args.tag else "all")
    store, actor = store_actor(args)
    stop = {"asked": False}

    def on_sigint(signum: int, frame: Any) -> None:
        stop["asked"] = True

    def progress(done: int, total: int) -> None:
        if not args.json and sys.stderr.isatty():
            print(f"\r{done}/{total}", end="", file=sys.stderr, flush=True)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        report = refresh.refresh(store, actor, scope, apply=args.apply, restart=args.restart,
                                 progress=progress, should_stop=lambda: stop["asked"])
    finally:
        signal.signal(signal.SIGINT, previous)
        if not args.json and sys.stderr.isatty():
            print(file=sys.stderr)
    if args.json:
        print_json(report.as_json())
    else:
        _print_report(report)
    return 0


def register(subparsers: Any) -> None:
    """Add ``lookup inn|bik|index|refresh`` to the ``clientplus`` parser."""
    s = subparsers.add_parser("lookup", help="requisites from DaData: by INN, BIK, index; "
                                             "re-check all clients")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    sub = s.add_subparsers(dest="lookup_cmd", required=True)
    for name, arg, func, help_text in (
            ("inn", "inn", cmd_inn, "a company or entrepreneur by INN or OGRN"),
            ("bik", "bik", cmd_bik, "a bank by BIK"),
            ("index", "index", cmd_index, "addresses for a postal index")):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
        p.add_argument(arg)
        p.add_argument("--json", action="store_true")
        p.add_argument("--fresh", action="store_true", help="ask DaData even if cached")
        p.set_defaults(func=func)
    p = sub.add_parser("refresh", help="re-check every client with an INN (head, admin)")
    p.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="all clients with an INN (default)")
    which.add_argument("--segment", metavar="NAME", help="a saved segment")
    which.add_argument("--tag", metavar="TAG", help="clients with this tag")
    p.add_argument("--apply", action="store_true", help="write the changes found")
    p.add_argument("--restart", action="store_true", help="start over instead of resuming")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_refresh)
