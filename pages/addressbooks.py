"""Address books: lists of clients from criteria (live or snapshot), the e-mail
recipients preview with what is skipped and why, manual changes, and phone lists
for SMS gateways (Excel / CSV)."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import show_flash
from clientplus_ui.outreach import addressbooks as view

actor = guard()
store = get_store()

st.title(tr("Адресные книги", "Address books"))
st.caption(tr("Получатели — e-mail клиента и/или его контактов, без дублей, без отказавшихся и "
              "без адресов без согласия (см. «Согласия и отписки»).",
              "Recipients are the client's and/or contacts' e-mails, without duplicates, "
              "opt-outs or addresses without consent (see “Consent register”)."))
show_flash()
picked = view.book_list(store, actor)
view.create_form(store, actor)
if picked is not None:
    st.divider()
    view.book_view(store, actor, picked)
