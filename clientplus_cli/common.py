"""Helpers shared by the ``clientplus`` sub-command modules."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor


def store_actor(args: argparse.Namespace) -> tuple[Store, Actor]:
    """The store of ``--data-dir`` and the acting user: ``--user LOGIN``, else the
    local administrator."""
    from clientplus_core.store.startup import open_store
    from clientplus_core.team import users

    store = open_store(args.data_dir)
    login = getattr(args, "user", None)
    actor = users.get_actor(store, login) if login else users.ensure_local_admin(store)
    return store, actor


def print_json(obj: Any) -> None:
    """``--json`` output: UTF-8 as is, indented, dates and decimals as strings."""
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
