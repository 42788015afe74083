"""The one list every migration registers in, and a helper to run a multi-statement script."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("clientplus")


def run_script(db: sqlite_utils.Database, script: str) -> None:
    """Execute a multi-statement script without ``executescript`` (which commits)."""
    for stmt in script.split(";\n"):
        if stmt.strip():
            db.execute(stmt)
