"""The ``clientplus`` command: a thin layer over the same core functions as the pages.

This module only builds the parser from each command group's ``register(sub)`` and
dispatches; the commands live in one module per group (:mod:`clientplus_cli.data`,
:mod:`~clientplus_cli.clients`, :mod:`~clientplus_cli.backup`, :mod:`~clientplus_cli.team`,
:mod:`~clientplus_cli.lookup`, :mod:`~clientplus_cli.sales`, …).

Exit codes: 0 success, 1 user error (one line on stderr, no traceback), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from clientplus_cli import (
    backup,
    bank,
    clients,
    data,
    lookup,
    mailing,
    outreach,
    reports,
    sales,
    segments,
    tasks,
    team,
)
from clientplus_core.base.errors import UserError, ValidationError

# Registration order is the order of ``--help``; ``sales`` extends ``demo`` and
# ``export``, so it comes after them, and ``reports`` creates ``report`` before
# ``segments`` adds to it.
GROUPS = (data, clients, backup, team, lookup, sales, reports, segments, tasks, outreach,
          mailing, bank)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="clientplus", description="ClientPlus CRM")
    p.add_argument("--data-dir", help="data folder (default: $CLIENTPLUS_DATA or ./data)")
    p.add_argument("--user", help="act as this user (default: the local administrator)")
    sub = p.add_subparsers(dest="cmd", required=True)
    for group in GROUPS:
        group.register(sub)
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
