"""Segment and segmentation commands of ``clientplus`` (registered by
:func:`register` from ``cli.build_parser``)::

    clientplus segment save NAME --where FIELD=VALUE [--where ...]
    clientplus segment list [--json]
    clientplus segment delete NAME
    clientplus report segments --by FIELD[,FIELD] [--from DATE] [--to DATE]
                               [--where FIELD=VALUE ...] [--segment NAME] [--json | -o FILE.xlsx]

The ``report`` command is shared with the other reports (``cli_reports``): whichever
module registers first creates it, the other adds its subcommands to it through
:func:`report_subparsers`.
"""

from __future__ import annotations

import argparse
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from clientplus_cli.common import print_json, store_actor
from clientplus_core.base.errors import UserError


def report_subparsers(sub: Any) -> Any:
    """The sub-commands action of ``clientplus report``, creating ``report`` if no
    module has yet."""
    report = sub.choices.get("report")
    if report is None:
        report = sub.add_parser("report", help="reports: segments, funnel, revenue, …")
        return report.add_subparsers(dest="report_cmd", required=True)
    for action in report._actions:  # the existing sub-commands of `report`
        if isinstance(action, argparse._SubParsersAction):
            return action
    return report.add_subparsers(dest="report_cmd", required=True)


def cmd_segment_save(args: argparse.Namespace) -> int:
    from clientplus_core.analytics import segments

    store, actor = store_actor(args)
    seg = segments.save(store, actor, args.name, segments.parse_where(args.where or []))
    print(f"Сегмент «{seg['name']}» сохранён: {len(segments.client_ids(store, actor, seg['name']))}"
          " клиент(ов)")
    return 0


def cmd_segment_list(args: argparse.Namespace) -> int:
    from clientplus_core.analytics import segments

    store, actor = store_actor(args)
    items = segments.list_segments(store, actor)
    if args.json:
        print_json(items)
        return 0
    for s in items:
        cond = "; ".join(f"{k} = {', '.join(v)}" for k, v in s["where"].items())
        print(f"{s['name']}\t{cond}\t{s['owner_name']}")
    return 0


def cmd_segment_delete(args: argparse.Namespace) -> int:
    from clientplus_core.analytics import segments

    store, actor = store_actor(args)
    segments.delete(store, actor, args.name)
    print(f"Сегмент «{args.name}» удалён")
    return 0


def cmd_report_segments(args: argparse.Namespace) -> int:
    from clientplus_core.analytics import segments

    store, actor = store_actor(args)
    by = [b.strip() for b in (args.by or "").split(",") if b.strip()]
    where: dict[str, Any] = segments.parse_where(args.where or [])
    if args.segment:
        where = {**segments.get(store, actor, args.segment)["where"], **where}
    frame = segments.pivot(store, actor, by, where, args.date_from, args.date_to)
    if args.output:
        out = Path(args.output)
        if out.suffix.lower() != ".xlsx":
            raise UserError("файл отчёта должен быть .xlsx")
        out.write_bytes(segments.to_xlsx(store, frame, by))
        print(f"Сегментов: {frame.height} → {out}")
    elif args.json:
        print(json.dumps(frame.to_dicts(), ensure_ascii=False, indent=2,
                         default=lambda v: str(v) if isinstance(v, Decimal) else v))
    else:
        heads = segments.headers(store, by)
        print("\t".join(heads))
        for row in frame.iter_rows():
            print("\t".join("" if v is None else str(v) for v in row))
    return 0


def register(sub: Any) -> None:
    """Add ``segment`` and ``report segments`` to the ``clientplus`` parser."""
    s = sub.add_parser("segment", help="saved segments: save, list, delete")
    ssub = s.add_subparsers(dest="segment_cmd", required=True)
    p = ssub.add_parser("save", help="save a named filter over clients")
    p.add_argument("name")
    p.add_argument("--where", action="append", metavar="FIELD=VALUE",
                   help="condition (repeat; the same field twice means «one of»)")
    p.set_defaults(func=cmd_segment_save)
    p = ssub.add_parser("list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_segment_list)
    p = ssub.add_parser("delete")
    p.add_argument("name")
    p.set_defaults(func=cmd_segment_delete)

    r = report_subparsers(sub).add_parser(
        "segments", help="clients, sales, revenue and average deal by one or two dimensions")
    r.add_argument("--by", required=True, metavar="FIELD[,FIELD]")
    r.add_argument("--from", dest="date_from")
    r.add_argument("--to", dest="date_to")
    r.add_argument("--where", action="append", metavar="FIELD=VALUE")
    r.add_argument("--segment", help="a saved segment to narrow to")
    out = r.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument("-o", "--output", metavar="FILE.xlsx")
    r.set_defaults(func=cmd_report_segments)
