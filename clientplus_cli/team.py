"""``clientplus user add|list|passwd|deactivate|activate``: the team's users and their
passwords (thin over :mod:`clientplus_core.team`)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from clientplus_cli.common import actor_of, print_json, store_of
from clientplus_core.base.errors import UserError
from clientplus_core.team import users
from clientplus_core.team.access import role_label


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

    store = store_of(args)
    if args.user_cmd == "list":
        rows = users.list_users(store)
        if args.json:
            print_json(rows)
        for u in rows if not args.json else []:
            state = "" if u["is_active"] else "  (отключён)"
            role = role_label(u["role"])
            print(f"{u['id']:>4}  {u['login']:20} {role:13} {u['full_name']}{state}")
        return 0
    if args.user_cmd == "add":
        # The first administrator may be created by whoever runs the CLI on the
        # server; after that only an administrator (--user) adds users.
        acting = None if not auth.has_passwords(store) else actor_of(store, args)
        new = auth.add_user(store, acting, args.login, _password(args), args.role,
                            args.full_name or "")
        print(f"Пользователь {new.login} ({role_label(new.role)}) создан")
        return 0
    actor = actor_of(store, args)
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


def register(sub: Any) -> None:
    """Add ``user add|list|passwd|deactivate|activate`` to the ``clientplus`` subparsers."""
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
