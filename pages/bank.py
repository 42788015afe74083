"""Bank statement: load the 1C exchange file (head / admin), resolve the payments that
did not match on their own, and see the payments (a manager: those of their clients).

The tabs live in :mod:`clientplus_ui.bank`; the core in :mod:`clientplus_core.bank`.
"""

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.bank import page
from clientplus_ui.common import show_flash

actor = guard("sale.read")
store = get_store()

st.title(tr("Банковская выписка", "Bank statement"))
show_flash()
page(store, actor)
