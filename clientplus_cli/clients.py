"""``clientplus import``, ``export`` and ``search``: clients in and out of .xlsx/.csv
files, and the search over everything (thin over :mod:`clientplus_core.clients` and
:mod:`clientplus_core.search`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clientplus_cli.common import print_json, store_actor
from clientplus_core.base.errors import UserError
from clientplus_core.search import index as search_mod


def cmd_import(args: argparse.Namespace) -> int:
    from clientplus_core.clients import import_mapping, importer, sheets

    store, actor = store_actor(args)
    path = Path(args.file)
    if not path.exists():
        raise UserError(f"файл не найден: {path}")
    table = sheets.read_table(path.read_bytes(), path.name)
    from clientplus_core.records import custom_fields

    mapping = import_mapping.guess_mapping(table.headers,
                                           custom_fields.list_fields(store, "client"))
    report = importer.run_import(store, actor, table, mapping, dry_run=args.dry_run)
    if args.json:
        print_json(report.as_json())
    else:
        print(report.summary())
        for e in report.errors[:50]:
            print(f"  строка {e.row}: {e.field}: {e.message}")
        for e in report.warnings[:50]:
            print(f"  предупреждение, строка {e.row}: {e.field}: {e.message}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from clientplus_core.clients import export
    from clientplus_core.clients.cards import ClientFilter

    store, actor = store_actor(args)
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise UserError("файл выгрузки должен быть .xlsx или .csv")
    n = export.export_clients(store, actor, ClientFilter(query=args.query or ""), out, fmt)
    print(f"Выгружено клиентов: {n} → {out}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    store, actor = store_actor(args)
    hits = search_mod.search(store, actor, args.text, limit=args.limit)
    if args.json:
        print_json([h.as_json() for h in hits])
    else:
        for h in hits:
            print(f"{h.entity:8} {h.id:>7}  {h.title[:50]:50}  {h.snippet[:80]}")
        if not hits:
            print("Ничего не найдено")
    return 0


def register(sub: Any) -> None:
    """Add ``import``, ``export`` and ``search`` to the ``clientplus`` subparsers."""
    s = sub.add_parser("import", help="import clients and contacts from .xlsx or .csv")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("what", choices=["clients"])
    s.add_argument("file")
    s.add_argument("--dry-run", action="store_true")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("export", help="export clients to .xlsx or .csv")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("what", choices=["clients"])
    s.add_argument("-o", "--output", required=True)
    s.add_argument("--query", default="")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("search", help="search everything")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("text")
    s.add_argument("--limit", type=int, default=20)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)
