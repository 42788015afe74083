"""Issue 14 (speed as the user feels it): a change log the analytics copy reads to
refresh exactly what changed, in the size of the change (see
:mod:`clientplus_core.analytics.engine`)."""

from __future__ import annotations

import sqlite_utils

from clientplus_core.store.migrations import sessions  # noqa: F401  (its migrations come first)
from clientplus_core.store.migrations.registry import migrations, run_script

# table -> (kind logged, the row id logged): a sale's own rows log the sale's id, so
# that the copy replaces the sale whole; the small reference tables log 0 (reloaded whole)
_LOGGED: dict[str, tuple[str, str]] = {
    "sales": ("sale", "id"), "sale_lines": ("sale", "sale_id"),
    "sale_payments": ("sale", "sale_id"), "sale_status_log": ("sale", "sale_id"),
    "clients": ("client", "id"), "interactions": ("interaction", "id"),
    "sale_statuses": ("a_statuses", "0"), "users": ("a_users", "0"),
    "client_shares": ("a_shares", "0"), "catalogue": ("a_catalogue", "0"),
}
# entries kept: an older copy that fell further behind than this builds anew
KEEP = 100_000


def _trigger(table: str, event: str, kind: str, col: str) -> str:
    rows = {"INSERT": ["NEW"], "DELETE": ["OLD"], "UPDATE": ["NEW"]}[event]
    ref = col if col == "0" else f"{rows[0]}.{col}"
    moved = ""
    if event == "UPDATE" and col != "0" and col != "id":  # a row moved to another sale
        moved = (f"INSERT INTO analytics_changes (kind, row_id) SELECT '{kind}', OLD.{col}"
                 f" WHERE OLD.{col} IS NOT NEW.{col};\n")
    return (f"CREATE TRIGGER tr_analytics_{table}_{event.lower()} AFTER {event} ON {table}\n"
            "WHEN NOT EXISTS (SELECT 1 FROM bulk_dropped_indexes)\nBEGIN\n"
            f"INSERT INTO analytics_changes (kind, row_id) VALUES ('{kind}', {ref});\n"
            f"{moved}END")


@migrations()
def m029_log_analytics_changes(db: sqlite_utils.Database) -> None:
    """``analytics_changes``: one row per written row of the tables the analytics copy
    holds (kind ``sale`` for a sale and its lines, payments and status log, ``client``,
    ``interaction``, or a reference table's name), numbered by ``seq`` in commit order
    (SQLite has one writer at a time; AUTOINCREMENT never reuses a number). The copy
    remembers the last ``seq`` it applied and reads only what came after it: nothing
    missed, nothing read twice. Filled by triggers, so every writer (the app, the
    CLI, a plain ``sqlite3`` session) is covered; a demo bulk load (while
    ``bulk_dropped_indexes`` holds its note) logs one ``rebuild`` at its start and
    one at its end instead of millions of rows. Every 10,000th entry trims the log to
    its last :data:`KEEP` entries."""
    run_script(db, """
CREATE TABLE analytics_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    row_id INTEGER NOT NULL
)
""")
    triggers = [
        "CREATE TRIGGER tr_analytics_changes_trim AFTER INSERT ON analytics_changes\n"
        f"WHEN NEW.seq % 10000 = 0\nBEGIN\nDELETE FROM analytics_changes"
        f" WHERE seq <= NEW.seq - {KEEP};\nEND"]
    triggers += [_trigger(t, e, kind, col) for t, (kind, col) in _LOGGED.items()
                for e in ("INSERT", "UPDATE", "DELETE")]
    for event in ("INSERT", "DELETE"):
        triggers.append(
            f"CREATE TRIGGER tr_analytics_bulk_{event.lower()} AFTER {event}"
            " ON bulk_dropped_indexes\nBEGIN\n"
            "INSERT INTO analytics_changes (kind, row_id) VALUES ('rebuild', 0);\nEND")
    for trigger in triggers:  # ";" inside BEGIN … END: each is executed whole
        db.execute(trigger)
