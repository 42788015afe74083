"""Organizer commands of ``clientplus`` (registered by :func:`register` from
``cli.build_parser``)::

    clientplus remind [--dry-run]          # cron: e-mail each user their due and overdue tasks
    clientplus task list [--view today|overdue|week|open|all] [--json]
    clientplus task add TITLE --due DATE [--time HH:MM] [--client ID] [--sale ID]
                        [--priority low|normal|high] [--repeat daily|weekly|monthly]
                        [--assignee LOGIN] [--description TEXT]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from clientplus_cli.common import store_actor


def cmd_remind(args: argparse.Namespace) -> int:
    from clientplus_core.organizer import reminders

    store, actor = store_actor(args)
    results = reminders.remind(store, actor, dry_run=args.dry_run)
    if not results:
        print("Напоминать некому: ни у кого с адресом e-mail нет задач на сегодня"
              " и просроченных.")
        return 0
    failed = 0
    for r in results:
        if args.dry_run:
            print(f"Кому: {r.digest.name} <{r.digest.email}>\nТема: {r.subject}\n\n{r.text}"
                  + "-" * 60)
        elif r.sent:
            print(f"Отправлено: {r.digest.email} ({len(r.digest.overdue) + len(r.digest.today)}"
                  " задач)")
        else:
            failed += 1
            print(f"Не отправлено: {r.error}")
    if args.dry_run:
        print(f"Пробный запуск: писем {len(results)}, ничего не отправлено.")
    else:
        print(f"Готово: отправлено {len(results) - failed} из {len(results)}.")
    return 1 if failed else 0


def cmd_task_list(args: argparse.Namespace) -> int:
    from clientplus_core.organizer import tasks

    store, actor = store_actor(args)
    rows = tasks.list_tasks(store, actor, args.view)
    if args.json:
        keep = ("id", "title", "due_at", "due_text", "priority", "status", "assignee_name",
                "client_id", "client_name", "sale_id", "sale_number", "repeat", "overdue")
        print(json.dumps([{k: r.get(k) for k in keep} for r in rows], ensure_ascii=False,
                         indent=2))
        return 0
    for r in rows:
        flag = "!" if r["overdue"] else " "
        link = f" · {r['client_name']}" if r.get("client_name") else ""
        print(f"{flag} #{r['id']:<5} {r['due_text']}  {r['title']}  [{r['assignee_name']}]{link}")
    print(f"Задач: {len(rows)}")
    return 0


def cmd_task_add(args: argparse.Namespace) -> int:
    from clientplus_core.organizer import tasks
    from clientplus_core.team import users

    store, actor = store_actor(args)
    data: dict[str, Any] = {"title": args.title, "due_date": args.due, "due_time": args.time,
                            "client_id": args.client, "sale_id": args.sale,
                            "priority": args.priority, "repeat": args.repeat or "",
                            "description": args.description or ""}
    if args.assignee:
        data["assignee_id"] = users.get_actor(store, args.assignee).id
    t = tasks.create(store, actor, data)
    print(f"Задача #{t['id']} «{t['title']}»: срок {t['due_text']}, исполнитель"
          f" {t['assignee_name']}")
    return 0


def register(sub: Any) -> None:
    """Add ``remind`` and ``task`` to the ``clientplus`` parser."""
    r = sub.add_parser("remind", help="e-mail each user a digest of their due and overdue tasks")
    r.add_argument("--dry-run", action="store_true",
                   help="print the digests instead of sending them")
    r.set_defaults(func=cmd_remind)

    t = sub.add_parser("task", help="tasks: list, add")
    tsub = t.add_subparsers(dest="task_cmd", required=True)
    p = tsub.add_parser("list")
    p.add_argument("--view", choices=["today", "overdue", "week", "open", "all"], default="open")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_task_list)
    p = tsub.add_parser("add")
    p.add_argument("title")
    p.add_argument("--due", required=True, metavar="DATE", help="31.12.2026 or 2026-12-31")
    p.add_argument("--time", metavar="HH:MM", help="default: by the end of the day")
    p.add_argument("--client", type=int, metavar="ID")
    p.add_argument("--sale", type=int, metavar="ID")
    p.add_argument("--priority", choices=["low", "normal", "high"], default="normal")
    p.add_argument("--repeat", choices=["daily", "weekly", "monthly"])
    p.add_argument("--assignee", metavar="LOGIN")
    p.add_argument("--description")
    p.set_defaults(func=cmd_task_add)

