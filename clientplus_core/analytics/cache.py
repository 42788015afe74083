"""Report results shared by everyone who asks the same question of the same data.

A team opens the same dashboard again and again: each view of it ran five reports on
the analytics copy (about a second of CPU at 1,000,000 sales), so ten people at once
queued behind each other on a small server. A result is kept under the question —
the data folder, who asks (their id and role: the scope), the report, its period and
options, the day — and the copy's change-log position (:attr:`Engine.seq`): any write
that reaches the copy moves the position, so a kept result is never older than what
the report itself would read. The newest :data:`MAX_ENTRIES` results are kept.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from clientplus_core.analytics import engine, reports
from clientplus_core.store.versioned import Kept

if TYPE_CHECKING:
    from clientplus_core.store.db import Store
    from clientplus_core.team.access import Actor

MAX_ENTRIES = 128

_KEPT = Kept(MAX_ENTRIES)


def _version(store: Store) -> int | None:
    """The copy's change-log position after a freshness check, or None while there is
    no copy yet (nothing is kept then)."""
    eng = engine.engine(store)
    if not eng.ready:
        return None
    eng.refresh(wait=False)
    return int(eng.seq)


def _key(store: Store, actor: Actor, *parts: Any) -> tuple[Any, ...] | None:
    seq = _version(store)
    if seq is None:
        return None
    return (str(store.db_path), actor.id, actor.role, seq, date.today(), *parts)


def run(store: Store, actor: Actor, name: str, p: reports.Period | None = None,
        **options: Any) -> Any:
    """:func:`reports.run`, kept until the data change (see the module docstring)."""
    key = _key(store, actor, "run", name, repr(p), tuple(sorted(options.items())))
    if key is None:
        return reports.run(store, actor, name, p, **options)
    return _KEPT.get(key, lambda: reports.run(store, actor, name, p, **options))


def kpis(store: Store, actor: Actor, p: reports.Period | None = None) -> dict[str, Any]:
    """:func:`reports.kpis`, kept until the data change (a copy of the dict is
    returned, so a caller's change never reaches the next one)."""
    key = _key(store, actor, "kpis", repr(p))
    if key is None:
        return reports.kpis(store, actor, p)
    return dict(_KEPT.get(key, lambda: reports.kpis(store, actor, p)))


def clear() -> None:
    """Forget every kept result (tests)."""
    _KEPT.clear()
