"""``clientplus report`` (registered by :func:`register` from ``cli.build_parser``)::

    clientplus report funnel|revenue|debtors|forecast|growth|sources|top_clients|
                      no_contact|lost_reasons|stage_times
        [--from DATE] [--to DATE] [--by month|manager|product|client]
        [--basis paid|invoiced] [--manager LOGIN] [--days N] [--weeks N]
        [--json | -o FILE.xlsx]

Without ``--json`` or ``-o`` the table is printed as text. The numbers are the
same as on the reports page (same functions, same scope: ``--user`` acts as that
user). Prints "данные на HH:MM:SS" (the time of the snapshot) to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from clientplus_cli.common import store_actor
from clientplus_core.base.errors import UserError


def register(sub: Any) -> None:
    """Add the ``report`` command to the ``clientplus`` subparsers."""
    from clientplus_core.analytics.reports import REVENUE_BY, TITLES

    report = sub.choices.get("report")
    if report is None:
        report = sub.add_parser("report", help="analytics reports: funnel, revenue, debtors …")
    action = next((a for a in report._actions if isinstance(a, argparse._SubParsersAction)),
                  None)
    if action is None:  # shared with cli_segments: whoever registers first creates it
        action = report.add_subparsers(dest="report_cmd", required=True)
    for name, title in TITLES.items():
        s = action.add_parser(name, help=title)
        s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
        s.add_argument("--from", dest="date_from", help="period start (YYYY-MM-DD or DD.MM.YYYY)")
        s.add_argument("--to", dest="date_to", help="period end, inclusive")
        s.add_argument("--by", default="month", help=f"revenue grouping: {', '.join(REVENUE_BY)}")
        s.add_argument("--basis", default="paid", choices=["paid", "invoiced"],
                       help="revenue by payments received or by invoices issued")
        s.add_argument("--manager", help="only this manager's sales (login)")
        s.add_argument("--days", type=int, default=30, help="no_contact: days without contact")
        s.add_argument("--weeks", type=int, default=8, help="forecast: weeks ahead")
        out = s.add_mutually_exclusive_group()
        out.add_argument("--json", action="store_true")
        out.add_argument("-o", "--output", help="write an .xlsx file")
        s.set_defaults(func=cmd_report, name=name)


def _json_default(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else str(value)


def cmd_report(args: argparse.Namespace) -> int:
    from clientplus_core.analytics import engine as analytics
    from clientplus_core.analytics import reports
    from clientplus_core.team import users

    store, actor = store_actor(args)
    manager_id = None
    if args.manager:
        manager_id = users.get_actor(store, args.manager).id
    by = args.by.split(",")[0].strip()
    p = reports.Period(reports.parse_day(args.date_from, "--from"),
                       reports.parse_day(args.date_to, "--to"), manager_id)
    df = reports.run(store, actor, args.name, p, by=by, basis=args.basis, days=args.days,
                     weeks=args.weeks)
    print(f"данные на {analytics.as_of_label(analytics.as_of(store))}", file=sys.stderr)
    if args.output:
        if not args.output.lower().endswith(".xlsx"):
            raise UserError("-o: нужен файл .xlsx")
        Path(args.output).write_bytes(reports.to_xlsx(args.name, df))
        print(f"{args.output}: {df.height} строк")
    elif args.json:
        print(json.dumps(df.to_dicts(), ensure_ascii=False, default=_json_default, indent=1))
    else:
        headers, body = reports.table_rows(args.name, df)
        print("\t".join(headers))
        for row in body:
            print("\t".join("" if v is None else str(v) for v in row))
    return 0
