"""The ``clientplus`` command: a thin layer over the same core functions as the pages.

Exit codes: 0 success, 1 user error (one line on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clientplus_cli.common import print_json
from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.search import index as search_mod
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users


def _store(args: argparse.Namespace) -> Store:
    return open_store(args.data_dir)


def cmd_init(args: argparse.Namespace) -> int:
    from clientplus_core.store.config import resolve_data_dir

    dd = resolve_data_dir(args.data_dir)
    is_new = not dd.db_path.exists()
    store = open_store(dd)
    users.ensure_local_admin(store)
    print(f"Data folder: {dd.root}")
    if is_new and args.demo_if_new:
        from clientplus_core import demo

        print(f"First start: generating demo data ({args.demo_clients} clients)…")
        stats = demo.generate(store, args.demo_clients, seed=42, with_files=True)
        sales = demo.generate_sales(store, args.demo_clients * 5, seed=42)
        print(f"Demo data: {stats}; sales: {sales.get('sales', 0)}")
        from clientplus_core.team import auth

        logins = [users.LOCAL_ADMIN_LOGIN] + [u[0] for u in demo.DEMO_USERS]
        passwords = auth.set_demo_passwords(store, logins)
        print("\nDemo users (passwords are shown only now; change them on the Profile page):")
        for login, pw in passwords.items():
            role = users.get_actor(store, login).role
            print(f"  {login:10} {role:8} {pw}")
        print("Lost them? clientplus user passwd LOGIN --password NEW\n")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from clientplus_core import demo

    store = _store(args)
    users.ensure_local_admin(store)
    stats = demo.generate(store, args.clients, seed=args.seed, with_files=not args.no_files)
    print(json.dumps(stats, ensure_ascii=False))
    return 0


def _actor(store: Store, args: argparse.Namespace) -> Any:
    login = getattr(args, "user", None)
    return users.get_actor(store, login) if login else users.ensure_local_admin(store)


def cmd_import(args: argparse.Namespace) -> int:
    from clientplus_core.clients import importer

    store = _store(args)
    actor = _actor(store, args)
    path = Path(args.file)
    if not path.exists():
        raise UserError(f"файл не найден: {path}")
    table = importer.read_table(path.read_bytes(), path.name)
    from clientplus_core.records import custom_fields

    mapping = importer.guess_mapping(table.headers, custom_fields.list_fields(store, "client"))
    report = importer.run_import(store, actor, table, mapping, dry_run=args.dry_run)
    if args.json:
        print_json(report.as_json())
    else:
        print(report.summary())
        for e in report.errors[:50]:
            print(f"  строка {e.row}: {e.field}: {e.message}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from clientplus_core.clients import export
    from clientplus_core.clients.cards import ClientFilter

    store = _store(args)
    actor = _actor(store, args)
    out = Path(args.output)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("xlsx", "csv"):
        raise UserError("файл выгрузки должен быть .xlsx или .csv")
    n = export.export_clients(store, actor, ClientFilter(query=args.query or ""), out, fmt)
    print(f"Выгружено клиентов: {n} → {out}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    store = _store(args)
    actor = _actor(store, args)
    hits = search_mod.search(store, actor, args.text, limit=args.limit)
    if args.json:
        print_json([h.as_json() for h in hits])
    else:
        for h in hits:
            print(f"{h.entity:8} {h.id:>7}  {h.title[:50]:50}  {h.snippet[:80]}")
        if not hits:
            print("Ничего не найдено")
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    from clientplus_core.maintenance import backup

    if args.backup_cmd == "create":
        store = _store(args)
        actor = _actor(store, args)
        manifest = backup.create_backup(store, actor, Path(args.output))
        print(f"Резервная копия: {args.output} ({len(manifest['members'])} файлов)")
    elif args.backup_cmd == "verify":
        result = backup.verify_backup(Path(args.file))
        if not result.ok:
            raise UserError("копия повреждена: " + "; ".join(result.problems[:5]))
        print(f"Копия в порядке: {result.members} файлов, суммы SHA-256 совпадают")
    elif args.backup_cmd == "restore":
        if not args.data_dir:
            raise UserError("укажите --data-dir: папку, куда восстановить")
        summary = backup.restore_backup(Path(args.file), Path(args.data_dir))
        print(f"Восстановлено в {args.data_dir}: {summary}")
    return 0


def _password(args: argparse.Namespace) -> str:
    import getpass
    import os

    pw = args.password or os.environ.get("CLIENTPLUS_PASSWORD", "")
    if not pw:
        if not sys.stdin.isatty():
            raise UserError("пароль: укажите --password или CLIENTPLUS_PASSWORD")
        pw = getpass.getpass("Пароль: ")
    return str(pw)


def cmd_user(args: argparse.Namespace) -> int:
    from clientplus_core.team import auth

    store = _store(args)
    if args.user_cmd == "list":
        rows = users.list_users(store)
        if args.json:
            print_json(rows)
        for u in rows if not args.json else []:
            state = "" if u["is_active"] else "  (отключён)"
            print(f"{u['id']:>4}  {u['login']:20} {u['role']:8} {u['full_name']}{state}")
        return 0
    if args.user_cmd == "add":
        # The first administrator may be created by whoever runs the CLI on the
        # server; after that only an administrator (--user) adds users.
        acting = None if not auth.has_passwords(store) else _actor(store, args)
        new = auth.add_user(store, acting, args.login, _password(args), args.role,
                            args.full_name or "")
        print(f"Пользователь {new.login} ({new.role}) создан")
        return 0
    actor = _actor(store, args)
    target = users.get_actor(store, args.login) if args.user_cmd != "activate" else None
    if args.user_cmd == "passwd":
        assert target is not None
        auth.reset_password(store, actor, target.id, _password(args))
        print(f"Пароль для {target.login} изменён; при входе его попросят сменить")
    elif args.user_cmd in ("deactivate", "activate"):
        uid = next((u["id"] for u in users.list_users(store) if u["login"] == args.login), None)
        if uid is None:
            raise UserError(f"пользователь «{args.login}» не найден")
        auth.set_active(store, actor, uid, args.user_cmd == "activate")
        print(f"{args.login}: {'включён' if args.user_cmd == 'activate' else 'отключён'}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clientplus", description="ClientPlus CRM")
    p.add_argument("--data-dir", help="data folder (default: $CLIENTPLUS_DATA or ./data)")
    p.add_argument("--user", help="act as this user (default: the local administrator)")
    sub = p.add_subparsers(dest="cmd", required=True)

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

    s = sub.add_parser("backup", help="create, verify or restore a backup .zip")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    bsub = s.add_subparsers(dest="backup_cmd", required=True)
    b = bsub.add_parser("create")
    b.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    b.add_argument("-o", "--output", required=True)
    b = bsub.add_parser("verify")
    b.add_argument("file")
    b = bsub.add_parser("restore")
    b.add_argument("file")
    b.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    s.set_defaults(func=cmd_backup)

    s = sub.add_parser("user", help="users: add, list, passwd, deactivate, activate")
    s.add_argument("--data-dir", dest="data_dir", default=argparse.SUPPRESS)
    usub = s.add_subparsers(dest="user_cmd", required=True)
    u = usub.add_parser("add", help="add a user (the first one needs no --user)")
    u.add_argument("login")
    u.add_argument("--role", choices=["admin", "head", "manager", "viewer"], default="manager")
    u.add_argument("--full-name", dest="full_name")
    u.add_argument("--password", help="else $CLIENTPLUS_PASSWORD, else asked")
    u = usub.add_parser("list")
    u.add_argument("--json", action="store_true")
    u = usub.add_parser("passwd", help="set a user's password (they change it at sign-in)")
    u.add_argument("login")
    u.add_argument("--password")
    for name in ("deactivate", "activate"):
        u = usub.add_parser(name)
        u.add_argument("login")
    s.set_defaults(func=cmd_user)

    from clientplus_cli.lookup import register as register_lookup
    register_lookup(sub)
    from clientplus_cli.sales import register as register_sales
    register_sales(sub)
    from clientplus_cli.reports import register as register_reports
    register_reports(sub)
    from clientplus_cli.segments import register as register_segments
    register_segments(sub)
    from clientplus_cli.tasks import register as register_tasks
    register_tasks(sub)
    from clientplus_cli.outreach import register as register_outreach
    register_outreach(sub)
    from clientplus_cli.mailing import register as register_mailing
    register_mailing(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except ValidationError as exc:
        print("Ошибка: " + "; ".join(exc.errors.values()), file=sys.stderr)
        return 1
    except UserError as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1
    except (OSError, ValueError) as exc:
        print(f"Ошибка: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
