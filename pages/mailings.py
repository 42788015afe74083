"""E-mail mailings: the list with status and counts; create or edit a draft
(address book, subject, text / HTML with personal fields, attachments, the
recipient's invoice); preview for any recipient; a test e-mail to oneself; send
with a confirmation and a progress bar, continue an interrupted one; the
per-recipient log with an Excel export; process an unsubscribe reply."""

from __future__ import annotations

import streamlit as st

from clientplus_ui import get_store, guard, tr
from clientplus_ui.common import md_escape, show_flash
from clientplus_ui.outreach import mailings as view

actor = guard("mailing.manage")
store = get_store()

st.title(tr("Рассылки", "Mailings"))
st.caption(tr("Письма уходят через почтовый сервер из «Настройки → Почта», по одному "
              "каждому получателю; никто не получит одну рассылку дважды.",
              "Messages go through the server in «Settings → Mail», one per recipient."))
show_flash()
items = view.mailings_table(store, actor)
st.divider()
mid = view.choose(items)
current = next((m for m in items if m["id"] == mid), None)
if current is None:
    view.editor(store, actor, None)
else:
    from clientplus_core.outreach import mailing

    m = mailing.get(store, actor, mid)
    if m["status"] == "draft":
        view.editor(store, actor, m)
    else:
        st.markdown(f"**{tr('Тема', 'Subject')}:** {md_escape(m['subject'])}")
    view.attachments(store, actor, m)
    st.subheader(tr("Предпросмотр", "Preview"))
    view.preview(store, actor, m)
    view.test_send(store, actor, m)
    view.send(store, actor, m)
    view.log_table(store, actor, m)
    view.manage(store, actor, m)
st.divider()
view.unsubscribe_box(store, actor)
