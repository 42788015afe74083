"""The first start of a new data folder (``clientplus init --demo-if-new``, run by
``make run``), resumable: a crash or ``kill -9`` halfway is completed by the next run.

The plan and the steps done so far are kept in the database (setting
``first_start``), written before the first step and after each one: ``clients``
(the demo clients with contacts and files), ``sales`` (sales with their history,
then tasks, an address book with a draft mailing and a few documents) and, last,
``passwords`` (fresh passwords for the demo users, shown once). A run that finds
the plan unfinished does only what is missing: the clients and sales still lacking
(their counts against the plan), the extras that are still empty, and new
passwords. A folder that was not new when first opened, or whose first start
finished, is never touched.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from clientplus_core.demo.clients import generate
from clientplus_core.demo.extras import generate_documents, generate_outreach, generate_tasks
from clientplus_core.demo.sales import generate_sales
from clientplus_core.demo.words import DEMO_USERS
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import auth, users

KEY = "first_start"   # the settings row that holds the plan


@dataclass
class Plan:
    """What the first start fills in, and the steps already done."""

    clients: int
    sales: int
    seed: int = 42
    done: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return "finished" in self.done


def _save(store: Store, plan: Plan) -> None:
    value = json.dumps({"clients": plan.clients, "sales": plan.sales, "seed": plan.seed,
                        "done": plan.done})
    with store.write() as conn:
        conn.execute("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)"
                     " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
                     " updated_at = excluded.updated_at", (KEY, value, now_iso()))


def load(store: Store) -> Plan | None:
    """The first start's plan, or None when this folder never had one."""
    with store.read() as conn:
        row = conn.execute("SELECT value FROM settings WHERE key = ?", (KEY,)).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return Plan(int(data["clients"]), int(data["sales"]), int(data.get("seed", 42)),
                [str(s) for s in data.get("done", [])])


def begin(store: Store, n_clients: int, seed: int = 42) -> Plan:
    """Record the plan of a new folder's first start (``n_clients`` clients, five
    sales each) before anything is generated."""
    plan = Plan(n_clients, n_clients * 5, seed)
    _save(store, plan)
    return plan


def unfinished(store: Store) -> Plan | None:
    """The plan of a first start that was interrupted, or None."""
    plan = load(store)
    return plan if plan is not None and not plan.finished else None


def _count(store: Store, table: str) -> int:
    with store.read() as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def fill(store: Store, plan: Plan) -> dict[str, int]:
    """Generate what the plan still lacks (each step marked done when it ends);
    returns counts added by this run."""
    added = {"clients": 0, "sales": 0}
    if "clients" not in plan.done:
        have = _count(store, "clients")
        if have < plan.clients:
            # a resumed run continues with other people and companies than the first
            added["clients"] = generate(store, plan.clients - have, seed=plan.seed + have,
                                        with_files=True)["clients"]
        plan.done.append("clients")
        _save(store, plan)
    if "sales" not in plan.done:
        have = _count(store, "sales")
        if have < plan.sales:
            added["sales"] = generate_sales(store, plan.sales - have,
                                            seed=plan.seed + have)["sales"]
        # each only while still empty: completes what a crash in the extras left out
        generate_tasks(store, seed=plan.seed)
        generate_outreach(store)
        generate_documents(store)
        plan.done.append("sales")
        _save(store, plan)
    return added


def logins() -> list[str]:
    """Who gets a password at the first start: the local administrator and the demo users."""
    return [users.LOCAL_ADMIN_LOGIN] + [u[0] for u in DEMO_USERS]


def set_passwords(store: Store) -> dict[str, str]:
    """Fresh passwords for :func:`logins` (login -> password, to show once). The step
    counts as done only after :func:`finish`, once they were shown: a run killed in
    between gives new ones next time."""
    return auth.set_demo_passwords(store, logins())


def finish(store: Store, plan: Plan) -> None:
    """Mark the first start finished (after its passwords were shown)."""
    plan.done += [s for s in ("passwords", "finished") if s not in plan.done]
    _save(store, plan)
