"""``clientplus init`` and ``clientplus demo``: create the data folder, fill it with
demo data (thin over :mod:`clientplus_core.demo`)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clientplus_cli.common import store_of
from clientplus_core.store.startup import open_store
from clientplus_core.team import users


def cmd_init(args: argparse.Namespace) -> int:
    """Create the data folder; with ``--demo-if-new`` fill a new one with demo data and
    print the demo users' passwords, or complete a first start that was interrupted
    (:mod:`clientplus_core.demo.first_start`)."""
    from clientplus_core.store.config import resolve_data_dir

    dd = resolve_data_dir(args.data_dir)
    is_new = not dd.db_path.exists()
    store = open_store(dd)
    plan = None
    if args.demo_if_new:
        from clientplus_core.demo import first_start

        # the plan is written at once, so that a run killed from here on is resumed
        plan = (first_start.begin(store, args.demo_clients) if is_new
                else first_start.unfinished(store))
    users.ensure_local_admin(store)
    print(f"Data folder: {dd.root}")
    if plan is not None:
        if is_new:
            print(f"First start: generating demo data ({plan.clients} clients)…")
        else:
            print(f"Completing the interrupted first start (done: {', '.join(plan.done) or '—'})…")
        added = first_start.fill(store, plan)
        print(f"Demo data: {added['clients']} clients and {added['sales']} sales added")
        passwords = first_start.set_passwords(store)
        print("\nDemo users (passwords are shown only now; change them on the Profile page):")
        for login, pw in passwords.items():
            role = users.get_actor(store, login).role
            print(f"  {login:10} {role:8} {pw}")
        print("Lost them? clientplus user passwd LOGIN --password NEW\n")
        first_start.finish(store, plan)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from clientplus_core import demo

    store = store_of(args)
    users.ensure_local_admin(store)
    stats = demo.generate(store, args.clients, seed=args.seed, with_files=not args.no_files)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


def register(sub: Any) -> None:
    """Add ``init`` and ``demo`` to the ``clientplus`` subparsers."""
    s = sub.add_parser("init", help="create an empty data folder and database")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("--demo-if-new", action="store_true",
                   help="fill a newly created data folder with demo data")
    s.add_argument("--demo-clients", type=int, default=300)
    s.set_defaults(func=cmd_init)

    s = sub.add_parser("demo", help="generate realistic demo data")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.add_argument("--clients", type=int, default=300)
    s.add_argument("--seed", type=int, default=42)
    s.add_argument("--no-files", action="store_true", help="skip generated attachments")
    s.set_defaults(func=cmd_demo)
