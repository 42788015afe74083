"""Global search results: each hit with its kind, the highlighted match and a
link to the client's card."""

from __future__ import annotations

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.search.index import Hit
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from clientplus_ui.common import md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import highlight

BADGE = ("font-size:.75em;color:#555;border:1px solid #ccc;border-radius:4px;"
         "padding:1px 6px;margin-right:6px")
QUERY_KEY = "sp.q"
SEEN_KEY = "sp.seen_param"
ENTITY_LABELS = {"client": ("Клиент", "Client"), "contact": ("Контакт", "Contact"),
                 "file": ("Файл", "File"), "link": ("Ссылка", "Link"), "sale": ("Продажа", "Sale")}


def query_box() -> str:
    """The search input, prefilled from ``?q=`` (also when the sidebar box sends a
    new query while this page is open); typing updates the address."""
    param = st.query_params.get("q", "")
    if st.session_state.get(SEEN_KEY) != param:
        st.session_state[SEEN_KEY] = param
        st.session_state[QUERY_KEY] = param
    q = st.text_input(tr("Что ищем", "Search for"), key=QUERY_KEY, type="search",
                      placeholder=tr("Клиент, ИНН, телефон, e-mail, текст файла…",
                                     "Client, INN, phone, e-mail, file text…"))
    q = (q or "").strip()
    if q != param:
        st.session_state[SEEN_KEY] = q
        st.query_params["q"] = q
    return q


def _client_names(store: Store, actor: Actor, hits: list[Hit]) -> dict[int, str]:
    """Names of the clients the hits belong to (client hits carry it as title)."""
    names = {h.client_id: h.title for h in hits if h.entity == "client"}
    for cid in {h.client_id for h in hits} - set(names):
        try:
            names[cid] = clients.get(store, actor, cid)["name"]
        except UserError:
            names[cid] = f"№{cid}"
    return names


def render(store: Store, actor: Actor, hits: list[Hit]) -> None:
    names = _client_names(store, actor, hits)
    for hit in hits:
        with st.container(border=True):
            c1, c2 = st.columns([5, 2], vertical_alignment="center")
            with c1:
                kind = tr(*ENTITY_LABELS.get(hit.entity, (hit.entity, hit.entity)))
                title_spans = ([] if hit.snippet != hit.title else hit.spans)
                st.html(f'<div><span style="{BADGE}">{kind}</span> '
                        f'<b>{highlight(hit.title, title_spans)}</b></div>')
                if hit.snippet and hit.snippet != hit.title:
                    st.html(f'<div style="color:#555">{highlight(hit.snippet, hit.spans)}</div>')
            if hit.entity == "sale":
                c2.page_link("pages/sale.py", label=tr("Открыть продажу", "Open the sale"),
                             icon=":material/receipt_long:", query_params={"id": str(hit.id)})
                continue
            label = (tr("Открыть карточку", "Open the card") if hit.entity == "client"
                     else names.get(hit.client_id, ""))
            c2.page_link("pages/client.py", label=md_escape(label), icon=":material/badge:",
                         query_params={"id": str(hit.client_id)})
