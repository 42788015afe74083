"""Helpers shared by the ``clientplus`` sub-command modules."""

from __future__ import annotations

import argparse
import json
from typing import Any

from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor


def store_of(args: argparse.Namespace) -> Store:
    """The store of ``--data-dir`` (default: ``$CLIENTPLUS_DATA`` or ``./data``)."""
    from clientplus_core.store.startup import open_store

    return open_store(args.data_dir)


def actor_of(store: Store, args: argparse.Namespace) -> Actor:
    """The acting user: ``--user LOGIN``, else the local administrator."""
    from clientplus_core.team import users

    login = getattr(args, "user", None)
    return users.get_actor(store, login) if login else users.ensure_local_admin(store)


def store_actor(args: argparse.Namespace) -> tuple[Store, Actor]:
    """The store of ``--data-dir`` and the acting user: ``--user LOGIN``, else the
    local administrator."""
    store = store_of(args)
    return store, actor_of(store, args)


def print_json(obj: Any) -> None:
    """``--json`` output: UTF-8 as is, indented, dates and decimals as strings."""
    print(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
