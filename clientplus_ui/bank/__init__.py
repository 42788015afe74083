"""The bank statement page (issue 15): load the 1C exchange file, resolve what did
not match on its own, and read the payments.

Loading and the review list are the head's and the administrator's
(``bank.import``); everyone may read the payments, a manager only those of the
clients they see (the core scopes :func:`clientplus_core.bank.list_payments`).
Only the open tab computes anything; Excel files are built when asked for.

Modules: :mod:`.common` (labels, the Excel button), :mod:`.upload` (the uploader,
a dry run, the load's summary), :mod:`.review` (the review list and its actions),
:mod:`.results` (the payments and the loaded statements).
"""

from __future__ import annotations

import streamlit as st

from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.bank import results, review, upload
from clientplus_ui.common import card_tabs
from clientplus_ui.i18n import tr

TAB_KEY = "bank.tab"


def page(store: Store, actor: Actor) -> None:
    """The page body: three tabs for the head and the administrator, the payments
    alone for everyone else."""
    if not can(actor, "bank.import"):
        st.caption(tr("Платежи ваших клиентов из загруженных банковских выписок. Выписки"
                      " загружает руководитель или администратор.",
                      "Payments of your clients from the loaded bank statements. A head or"
                      " an administrator loads the statements."))
        results.section(store, actor)
        return
    card_tabs([(tr("Загрузка", "Load"), lambda: upload.section(store, actor)),
               (tr("Разбор", "Review"), lambda: review.section(store, actor)),
               (tr("Платежи", "Payments"), lambda: results.section(store, actor))], TAB_KEY)
