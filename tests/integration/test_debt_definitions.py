"""One definition of each debt figure (clientplus_core.sales.debt): the register's
«Не оплачено по продажам» and «Дебиторская задолженность по выставленным счетам»,
the dashboard's receivables and the debtors report agree on the same sales."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from clientplus_core import sales
from clientplus_core.analytics import engine as analytics
from clientplus_core.analytics import reports
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor


def test_unpaid_and_receivables_are_defined_once_and_agree_everywhere(
        store: Store, actor: Actor, make_client: Any, make_sale: Any) -> None:
    client = make_client(name="ООО «Должник»")
    never_invoiced = make_sale(client["id"], "1000")        # unpaid, not receivable
    invoiced = make_sale(client["id"], "20000")             # both, 15 000 left
    paid = make_sale(client["id"], "300")                   # paid: owes nothing
    lost = make_sale(client["id"], "400000")                # lost: owes nothing
    sales.set_status(store, actor, invoiced["id"], "invoiced")
    sales.add_payment(store, actor, invoiced["id"], "5000", "2026-03-05")
    sales.set_status(store, actor, paid["id"], "invoiced")
    sales.add_payment(store, actor, paid["id"], "300", "2026-03-05")
    sales.set_status(store, actor, lost["id"], "lost", reason="Дорого")

    page = sales.list_sales(store, actor)
    assert page.sums["unpaid"] == D("16000.00")       # 1 000 + 15 000; not the lost 400 000
    assert page.sums["receivable"] == D("15000.00")   # only the invoiced one
    by_id = {r["id"]: r for r in page.rows}
    assert by_id[lost["id"]]["debt"] == 0
    assert by_id[never_invoiced["id"]]["debt"] == D("1000.00")

    analytics.refresh(store)
    assert reports.kpis(store, actor)["debt"] == page.sums["receivable"]
    debtors = reports.run(store, actor, "debtors")
    assert sum(debtors["debt"].to_list(), D(0)) == page.sums["receivable"]
