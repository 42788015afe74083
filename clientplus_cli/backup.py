"""``clientplus backup create|verify|restore``: backup .zip files of the data folder
(thin over :mod:`clientplus_core.maintenance.backup`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from clientplus_cli.common import store_actor
from clientplus_core.base.errors import UserError


def cmd_backup(args: argparse.Namespace) -> int:
    from clientplus_core.maintenance import backup

    if args.backup_cmd == "create":
        store, actor = store_actor(args)
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


def register(sub: Any) -> None:
    """Add ``backup create|verify|restore`` to the ``clientplus`` subparsers."""
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
