"""The sales commands of ``clientplus`` (registered by :func:`register` from
``cli.build_parser``)::

    clientplus demo --clients N --sales M [--seed S]
    clientplus export sales -o FILE.xlsx|.csv [--status S] [--from DATE] [--to DATE]
                            [--field KEY=VALUE | KEY>=VALUE | KEY<=VALUE | KEY~TEXT ...]
    clientplus doc SALE_NUMBER --template offer|invoice|contract|act|PATH.docx -o OUT.docx [--pdf]
        (a PATH.docx template: administrator only)
    clientplus sale show SALE_NUMBER [--json]

``demo`` and ``export`` already exist: ``register`` adds ``--sales`` to the first and
the ``sales`` choice (with its filters) to the second, keeping their behaviour for
clients unchanged.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from clientplus_cli.common import store_actor, store_of
from clientplus_core.base.errors import UserError


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    return str(value)




def cmd_demo(args: argparse.Namespace) -> int:
    """``demo --clients N [--sales M]``: clients as before, then M sales."""
    from clientplus_core import demo
    from clientplus_core.team import users

    store = store_of(args)
    users.ensure_local_admin(store)
    demo.restore_dropped_indexes(store)      # heal an interrupted earlier sales load
    stats: dict[str, int] = {}
    if args.clients:
        stats |= demo.generate(store, args.clients, seed=args.seed, with_files=not args.no_files)
    if args.sales:
        stats |= demo.generate_sales(store, args.sales, seed=args.seed)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


def _status_ids(store: Any, text: str) -> list[int]:
    from clientplus_core.sales import statuses

    with store.read() as conn:
        return [statuses.resolve(conn, part.strip())["id"]
                for part in text.split(",") if part.strip()]


def field_conditions(specs: list[str] | None) -> tuple[tuple[Any, ...], ...]:
    """``--field`` arguments as custom-field filter conditions: ``KEY=VALUE`` (equals;
    ``KEY=A|B`` any of), ``KEY>=VALUE`` / ``KEY<=VALUE`` (a number or date range),
    ``KEY~TEXT`` (contains)."""
    ops = {">=": "min", "<=": "max", "~": "contains", "=": "any"}
    out: list[tuple[Any, ...]] = []
    for spec in specs or []:
        m = re.match(r"^\s*([A-Za-z][A-Za-z0-9_]*)\s*(>=|<=|~|=)(.*)$", spec)
        if not m:
            raise UserError(f"--field «{spec}»: нужно KEY=VALUE, KEY>=VALUE, KEY<=VALUE"
                            " или KEY~TEXT")
        key, op, value = m.group(1).lower(), ops[m.group(2)], m.group(3).strip()
        if op == "any":
            out.append((key, op, tuple(v.strip() for v in value.split("|"))))
        else:
            out.append((key, op, value))
    return tuple(out)


def cmd_export(args: argparse.Namespace, clients_cmd: Any) -> int:
    if args.what != "sales":
        return int(clients_cmd(args))
    from clientplus_core import sales

    store, actor = store_actor(args)
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise UserError("файл выгрузки должен быть .xlsx или .csv")
    f = sales.SaleFilter(statuses=_status_ids(store, args.status or ""),
                         date_from=args.date_from, date_to=args.date_to,
                         extra=field_conditions(getattr(args, "field", None)))
    n = sales.export_sales(store, actor, f, out, fmt)
    print(f"Выгружено продаж: {n} → {out}")
    return 0


def cmd_doc(args: argparse.Namespace) -> int:
    from clientplus_core import sales
    from clientplus_core.base.errors import AccessDenied
    from clientplus_core.clients import text_jobs
    from clientplus_core.sales import documents
    from clientplus_core.team.access import can

    store, actor = store_actor(args)
    sale_id = sales.find_id(store, actor, args.number)
    template: str | bytes = args.template
    kind = None
    if args.template not in documents.KINDS:
        # a template file is not in the register: the administrator's alone (the file is
        # not even read for anyone else)
        if not can(actor, "templates.manage"):
            raise AccessDenied(documents.ADHOC_REFUSED)
        path = Path(args.template)
        if not path.exists():
            raise UserError(f"шаблон: укажите offer, invoice, contract, act или путь к .docx"
                            f" («{args.template}» не найден)")
        template = path.read_bytes()
        if not path.name.lower().endswith(".docx"):
            raise UserError(f"шаблон «{path.name}» должен быть файлом .docx")
        kind = "custom"
    name, data = documents.render(store, actor, sale_id, template, doc_date=args.date,
                                  kind=kind)
    text_jobs.wait(store)   # the document's text, read in the background, before we exit
    out = Path(args.output) if args.output else Path(name)
    out.write_bytes(data)
    print(f"{name} → {out}")
    if args.pdf:
        if not documents.pdf_available():
            print("PDF не создан: LibreOffice (soffice) не установлен на этом компьютере;"
                  " документ сохранён в .docx", file=sys.stderr)
            return 1
        pdf = out.with_suffix(".pdf")
        pdf.write_bytes(documents.to_pdf(data))
        print(f"PDF → {pdf}")
    return 0


def _card_json(card: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "number", "date", "title", "source", "expected_close", "vat_mode",
            "discount", "notes", "extra", "status_at", "lost_reason", "version", "created_at",
            "updated_at", "client", "contact", "owner", "status", "lines", "totals", "schedule",
            "payments", "balance", "suggested_status", "status_log", "contacts_history",
            "files", "links", "documents")
    out = {k: card.get(k) for k in keep}
    out["lines"] = [{k: ln[k] for k in ("pos", "name", "sku", "unit", "qty", "price", "discount",
                                        "vat_code", "vat_label", "amount", "vat", "catalogue_id")}
                    for ln in card["lines"]]
    return out


def cmd_sale(args: argparse.Namespace) -> int:
    from clientplus_core import sales
    from clientplus_core.sales import money

    store, actor = store_actor(args)
    card = sales.get_card(store, actor, sales.find_id(store, actor, args.number))
    if args.json:
        print(json.dumps(_card_json(card), ensure_ascii=False, indent=2, default=_json_default))
        return 0
    fa = money.format_amount
    t = card["totals"]
    print(f"Продажа № {card['number']} от {card['date']}: {card['title']}")
    print(f"Клиент: {card['client']['name']} (ИНН {card['client']['inn'] or '—'})")
    print(f"Статус: {card['status']['label']}; ответственный:"
          f" {(card['owner'] or {}).get('full_name', '—')}")
    for ln in card["lines"]:
        print(f"  {ln['pos']:>3}. {ln['name'][:50]:50} {money.format_qty(ln['qty']):>8}"
              f" {ln['unit']:5} × {fa(ln['price'], ' '):>14} = {fa(ln['amount'], ' '):>14}"
              f"  НДС {ln['vat_label']}")
    print(f"Итого: {fa(t['subtotal'], ' ')}")
    for v in t["vat_by_rate"]:
        print(("В том числе НДС " if t["vat_mode"] == "included" else "НДС ")
              + f"{v['label']}: {fa(v['amount'], ' ')}")
    if t["no_vat"]:
        print("Без налога (НДС)")
    print(f"Всего к оплате: {fa(t['total'], ' ')} ({t['words']})")
    b = card["balance"]
    print(f"Оплачено: {fa(b['paid'], ' ')}; осталось: {fa(b['remaining'], ' ')};"
          f" просрочено: {fa(b['overdue'], ' ')}")
    return 0


def register(sub: Any) -> None:
    """Add the sales commands to ``clientplus``'s subparsers."""
    demo_p = sub.choices.get("demo")
    if demo_p is not None:
        demo_p.add_argument("--sales", type=int, default=0,
                            help="also generate this many sales (with lines, payments, history)")
        demo_p.set_defaults(func=cmd_demo)

    export_p = sub.choices.get("export")
    if export_p is not None:
        for action in export_p._actions:
            if action.dest == "what" and action.choices is not None:
                action.choices = [*action.choices, "sales"]
        export_p.add_argument("--status", help="sales: status codes or names, comma-separated")
        export_p.add_argument("--from", dest="date_from", help="sales: from this date")
        export_p.add_argument("--to", dest="date_to", help="sales: up to this date")
        export_p.add_argument("--field", action="append", metavar="COND",
                              help="sales: a custom field filter KEY=VALUE (A|B any of),"
                                   " KEY>=VALUE, KEY<=VALUE or KEY~TEXT; repeatable")
        clients_cmd = export_p.get_default("func")
        export_p.set_defaults(func=lambda a: cmd_export(a, clients_cmd))

    s = sub.add_parser("doc", help="make a Word document of a sale")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("number", help="the sale's number")
    s.add_argument("--template", default="invoice",
                   help="offer, invoice, contract, act or the path of a .docx template"
                        " (a path: administrator only)")
    s.add_argument("-o", "--output", help="where to write the .docx (default: its name)")
    s.add_argument("--date", help="the document's date (default today)")
    s.add_argument("--pdf", action="store_true", help="also a PDF (needs LibreOffice)")
    s.set_defaults(func=cmd_doc)

    s = sub.add_parser("sale", help="sales: show a card")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    ssub = s.add_subparsers(dest="sale_cmd", required=True)
    show = ssub.add_parser("show", help="a sale's card, lines, totals, payments and history")
    show.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    show.add_argument("number")
    show.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_sale)
