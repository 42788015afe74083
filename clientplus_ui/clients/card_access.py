"""The «Доступ» section under the client's requisites: who is responsible for the
client (handed over explicitly, with a confirmation) and which colleagues it is
shared with.

Session keys: ``ca.<client id>.…`` (the owner select and the sharing form carry the
current owner in their key, so a hand-over gives them fresh defaults).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor, can
from clientplus_ui.clients.form import snapshot
from clientplus_ui.common import confirm_action, flash, lkey
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error


def _name(u: dict[str, Any]) -> str:
    name = u["full_name"] or u["login"]
    if not u["is_active"]:
        name += tr(" (отключён)", " (deactivated)")
    return str(name)


def can_share(actor: Actor, client: dict[str, Any]) -> bool:
    """The owner, the head or the administrator may choose whom to share with
    (the same rule :func:`clientplus_core.clients.cards.share` enforces)."""
    return can(actor, "client.update") and (actor.sees_everything
                                            or client.get("owner_id") == actor.id)


def render(store: Store, actor: Actor, client: dict[str, Any]) -> None:
    """Owner and sharing of an existing client."""
    people = {u["id"]: u for u in users.list_users(store)}
    st.subheader(tr("Доступ", "Access"))
    owner_section(store, actor, client, people)
    share_section(store, actor, client, people)


def _owner_name(people: dict[int, dict[str, Any]], owner_id: int | None) -> str:
    if owner_id is not None and owner_id in people:
        return _name(people[owner_id])
    return tr("— не назначен —", "— nobody —")


def owner_section(store: Store, actor: Actor, client: dict[str, Any],
                  people: dict[int, dict[str, Any]]) -> None:
    cid, owner = client["id"], client.get("owner_id")
    label = tr("Ответственный", "Owner")
    if not can(actor, "client.assign_owner"):
        st.text(f"{label}: {_owner_name(people, owner)}")
        return
    ids = [i for i, u in people.items() if u["is_active"] or i == owner]
    if owner is not None and owner not in ids:
        ids.insert(0, owner)
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    picked = c1.selectbox(label, ids, index=ids.index(owner) if owner in ids else None,
                          format_func=lambda i: _owner_name(people, i),
                          key=lkey(f"ca.{cid}.owner.{owner}"),
                          placeholder=tr("Выберите сотрудника", "Choose a colleague"))
    if picked is None or picked == owner:
        c2.caption(tr("Чтобы передать клиента, выберите другого сотрудника.",
                      "To hand the client over, choose another colleague."))
        return
    new_name = _owner_name(people, picked)
    with c2:
        confirm_action(
            tr("Передать клиента", "Hand over the client"),
            tr(f"Передать «{client['name']}» сотруднику {new_name}? Вместе с клиентом ему "
               "перейдут продажи и открытые задачи этого клиента.",
               f"Hand “{client['name']}” over to {new_name}? The client's sales and open "
               "tasks move to them too."),
            tr("Да, передать", "Yes, hand over"), f"ca.{cid}.reassign",
            lambda: _reassign(store, actor, client, picked, new_name),
            icon=":material/swap_horiz:")


def _reassign(store: Store, actor: Actor, client: dict[str, Any], new_owner_id: int,
              new_name: str) -> None:
    try:
        row = clients.reassign_owner(store, actor, client["id"], new_owner_id)
    except UserError as exc:
        show_error(exc)
        return
    # The client's version moved on: the requisites form must start from the new row,
    # or its next save would be reported as a conflict with this hand-over.
    snapshot(client["id"]).reload(row)
    flash(tr(f"Ответственный теперь {new_name}", f"The owner is now {new_name}"))
    st.rerun()


def share_section(store: Store, actor: Actor, client: dict[str, Any],
                  people: dict[int, dict[str, Any]]) -> None:
    cid, owner = client["id"], client.get("owner_id")
    label = tr("Доступ коллегам", "Shared with colleagues")
    try:
        shared = [u for u in clients.shared_with(store, actor, cid) if u != owner]
    except UserError as exc:
        show_error(exc)
        return
    if not can_share(actor, client):
        names = ", ".join(_owner_name(people, u) for u in shared)
        st.text(f"{label}: {names or tr('ни с кем', 'nobody')}")
        return
    options = [i for i, u in people.items() if u["is_active"] and i != owner]
    options += [i for i in shared if i not in options]
    with st.form(f"ca.{cid}.share_form.{owner}", border=False):
        picked = st.multiselect(label, options, default=shared, key=lkey(f"ca.{cid}.share.{owner}"),
                                format_func=lambda i: _owner_name(people, i),
                                placeholder=tr("Сотрудники, которые тоже видят клиента",
                                               "Colleagues who also see this client"),
                                help=tr("Менеджеры видят только своих клиентов и тех, кем с ними "
                                        "поделились.",
                                        "Managers see only their own clients and those shared "
                                        "with them."))
        submitted = st.form_submit_button(tr("Сохранить доступ", "Save access"),
                                          icon=":material/share:")
    if submitted:
        try:
            saved = clients.share(store, actor, cid, list(picked))
        except UserError as exc:
            show_error(exc)
            return
        st.success(tr(f"Доступ сохранён: коллег — {len(saved)}",
                      f"Access saved: {len(saved)} colleague(s)"))
