"""The «Реквизиты» tab: the client's form, save with duplicate and conflict
handling, deletion, and merging duplicates into this card."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import ConflictError, DuplicateWarning, UserError
from clientplus_core.clients import cards as clients
from clientplus_core.clients.fields import CLIENT_FIELDS, CLIENT_KINDS
from clientplus_core.records.validation import format_phone
from clientplus_core.sales import signatory
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor, can
from clientplus_ui import custom_inputs
from clientplus_ui.common import (
    Snapshot,
    client_field_label,
    confirm_action,
    conflict_notice,
    flash,
    gender_choice,
    kind_label,
    lkey,
    md_escape,
)
from clientplus_ui.i18n import tr
from clientplus_ui.requisites.widgets import (
    TRIGGERS,
    LookupPanel,
    forget_lookup,
    registry_status_notice,
)
from clientplus_ui.widgets import show_error

# Form layout: rows of (field, width) pairs; "kind", "tags", "notes" are special.
LAYOUT: tuple[tuple[str, ...], ...] = (
    ("name", "full_name"),
    ("inn", "kpp", "ogrn", "okved"),
    ("legal_address",),
    ("postal_address", "postal_index"),
    ("bik", "bank_name"),
    ("corr_account", "account"),
    ("director_post", "director_name"),
    ("director_post_gen", "director_name_gen", "basis", "director_gender"),
    ("phone", "email", "website"),
    ("source",),
)
_DONE = {f for row in LAYOUT for f in row} | {"kind", "tags", "notes"}
_GEN_HELP = ("Для договора («в лице …»). Пусто — склоняется автоматически (серым показано, как);"
             " впишите, только если склонение неверно.",
             "For contracts («в лице …»). Empty: declined automatically (shown in grey); type"
             " it only when the declension is wrong.")
_HELP = {"director_post_gen": _GEN_HELP, "director_name_gen": _GEN_HELP,
         "basis": ("«…, действующего на основании Устава». Пусто — «Устава» для юр. лица,"
                   " запись в ЕГРИП для ИП.",
                   "«…, acting on the basis of the Charter». Empty: «Устава» for a company,"
                   " the ЕГРИП record for a sole proprietor.")}
assert _DONE == {f.name for f in CLIENT_FIELDS}, "every client field must be on the form"


def snapshot(client_id: int | None) -> Snapshot:
    return Snapshot(f"cf.{client_id or 'new'}")


def _initial(base: dict[str, Any], name: str) -> str:
    value = base.get(name) or ""
    return format_phone(value) if name == "phone" else str(value)


def _fields(store: Store, actor: Actor, snap: Snapshot, base: dict[str, Any],
            panel: LookupPanel | None = None) -> dict[str, Any]:
    """The form's widgets; returns the typed values (as the core takes them).
    ``panel`` adds the «Заполнить по ИНН / БИК / индексу» buttons under their rows."""
    data: dict[str, Any] = {}
    c_kind, c_owner = st.columns(2)
    kinds = list(CLIENT_KINDS)
    data["kind"] = c_kind.selectbox(client_field_label("kind"), kinds, format_func=kind_label,
                                    index=kinds.index(base["kind"]) if base.get("kind") in kinds
                                    else 0,
                                    key=lkey(snap.key("kind")))
    # The owner of an existing client changes only through the «Доступ» section's
    # explicit hand-over (card_access), which confirms that sales and tasks move too.
    if can(actor, "client.assign_owner") and not base.get("id"):
        people = {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)
                  if u["is_active"] or u["id"] == base.get("owner_id")}
        ids = [0, *people]  # 0: nobody / me (not None: a None option shows a clear button)
        none_label = (tr("— не назначен —", "— nobody —") if base.get("id")
                      else tr("— я —", "— me —"))
        current = base.get("owner_id")
        owner = c_owner.selectbox(
            client_field_label("owner_id"), ids, key=lkey(snap.key("owner_id")),
            index=ids.index(current) if current in ids else 0,
            format_func=lambda i: people.get(i, "") if i else none_label)
        data["owner_id"] = owner or None
    automatic = signatory.automatic(base)
    for row in LAYOUT:
        cols = st.columns(len(row))
        for col, name in zip(cols, row, strict=True):
            if name == "director_gender":
                with col:
                    data[name] = gender_choice(client_field_label(name), base.get(name),
                                               signatory.signatory_gender(
                                                   {**base, "director_gender": ""}),
                                               snap.key(name))
                continue
            data[name] = col.text_input(client_field_label(name), value=_initial(base, name),
                                        key=snap.key(name), placeholder=automatic.get(name),
                                        help=tr(*_HELP[name]) if name in _HELP else None)
        for name in row:
            if panel is not None and name in TRIGGERS:
                panel.button(name)
    data["extra"] = custom_inputs.render(store, "client", base.get("extra"), snap.key)
    known = sorted(set(clients.all_tags(store, actor)) | set(base.get("tags") or []))
    data["tags"] = st.multiselect(client_field_label("tags"), known,
                                  default=base.get("tags") or [], accept_new_options=True,
                                  key=snap.key("tags"),
                                  placeholder=tr("Выберите или введите новую метку",
                                                 "Choose or type a new tag"))
    data["notes"] = st.text_area(client_field_label("notes"), value=base.get("notes") or "",
                                 key=snap.key("notes"), height=120)
    return data


def _save(store: Store, actor: Actor, snap: Snapshot, client_id: int | None,
          data: dict[str, Any], base: dict[str, Any], allow_duplicate: bool = False) -> None:
    try:
        if client_id is None:
            row = clients.create(store, actor, data, allow_duplicate=allow_duplicate)
            forget_lookup(snap.prefix)
            snap.reload()
            flash(tr(f"Клиент «{row['name']}» создан", f"Client “{row['name']}” created"))
            st.switch_page("pages/client.py", query_params={"id": str(row["id"])})
        row = clients.update(store, actor, client_id, data, base["version"], base=base)
    except DuplicateWarning as exc:
        snap.put("pending", {"data": data, "message": str(exc), "ids": exc.existing_ids})
        return
    except ConflictError as exc:
        snap.put("conflict", {"message": str(exc), "changes": exc.changes})
        return
    except UserError as exc:
        show_error(exc)
        return
    forget_lookup(snap.prefix)
    snap.reload(row)
    flash(tr("Сохранено", "Saved"))
    st.rerun()


def _pending_duplicate(store: Store, actor: Actor, snap: Snapshot, base: dict[str, Any]) -> None:
    pending = snap.get("pending")
    if not pending:
        return
    st.warning(md_escape(pending["message"]))
    for cid in pending["ids"]:
        # a button, not a link to this same page: the link kept ``?new=1`` beside the
        # id, so the first click showed the empty form again
        if st.button(tr(f"Открыть существующего (№{cid})", f"Open the existing one (#{cid})"),
                     key=f"cf.open_existing.{cid}", icon=":material/open_in_new:"):
            snap.drop("pending")
            st.switch_page("pages/client.py", query_params={"id": str(cid)})
    c1, c2 = st.columns(2)
    if c1.button(tr("Всё равно создать", "Create anyway"), key="cf.force", type="primary"):
        _save(store, actor, snap, None, pending["data"], base, allow_duplicate=True)
    if c2.button(tr("Отмена", "Cancel"), key="cf.force_cancel"):
        snap.drop("pending")
        st.rerun()


def render(store: Store, actor: Actor, client: dict[str, Any] | None) -> None:
    """The requisites form (``client`` None: a new client)."""
    client_id = client["id"] if client else None
    snap = snapshot(client_id)
    base = snap.base(client)
    writable = can(actor, "client.update" if client else "client.create")
    if client is not None:
        registry_status_notice(client)
    panel = LookupPanel(snap.prefix, lambda name: lkey(snap.key(name)) if name == "kind"
                        else snap.key(name), actor, writable)
    panel.prepare()
    panel.render(store, actor)
    # Enter does not submit: the first submit button is now «Заполнить по ИНН».
    with st.form(snap.key("form"), border=False, enter_to_submit=False):
        data = _fields(store, actor, snap, base, panel)
        submitted = st.form_submit_button(tr("Сохранить", "Save"), type="primary",
                                          icon=":material/save:", disabled=not writable)
    if submitted:
        snap.drop("pending")
        snap.drop("conflict")
        _save(store, actor, snap, client_id, data, base)
    panel.run(store, actor, data)
    conflict_notice(snap, client_field_label)
    if client is None:
        _pending_duplicate(store, actor, snap, base)
        return
    st.divider()
    duplicates(store, actor, client)
    if can(actor, "client.delete"):
        confirm_action(tr("Удалить клиента", "Remove client"),
                       tr(f"Удалить «{client['name']}»? Клиент исчезнет из списков и поиска "
                          "(администратор может восстановить).",
                          f"Remove “{client['name']}”? It disappears from lists and search "
                          "(an administrator can restore it)."),
                       tr("Да, удалить", "Yes, remove"), "cf.delete",
                       lambda: _delete(store, actor, client))


def _delete(store: Store, actor: Actor, client: dict[str, Any]) -> None:
    try:
        clients.delete(store, actor, client["id"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"Клиент «{client['name']}» удалён", f"Client “{client['name']}” removed"))
    st.switch_page("pages/clients.py")


def duplicates(store: Store, actor: Actor, client: dict[str, Any]) -> None:
    """Similar clients (same INN, phone or e-mail) and merging them into this card."""
    try:
        dups = clients.duplicates_of(store, actor, client["id"])
    except UserError as exc:
        show_error(exc)
        return
    title = tr(f"Дубликаты ({len(dups)})", f"Duplicates ({len(dups)})")
    with st.expander(title, expanded=False, icon=":material/content_copy:"):
        if not dups:
            st.write(tr("Похожих клиентов нет.", "No similar clients."))
            return
        for d in dups:
            c1, c2, c3 = st.columns([3, 2, 3], vertical_alignment="center")
            c1.page_link("pages/client.py", label=md_escape(f"№{d['id']} {d['name']}"),
                         query_params={"id": str(d["id"])})
            c2.text(tr("совпадает: ", "same: ") + ", ".join(d["reasons"]))
            with c3:
                if can(actor, "client.merge"):
                    confirm_action(
                        tr("Объединить в эту карточку", "Merge into this card"),
                        tr(f"Перенести контакты, файлы и историю «{d['name']}» в эту карточку, "
                           "заполнить пустые поля и удалить дубликат?",
                           f"Move contacts, files and history of “{d['name']}” here, fill "
                           "empty fields and remove the duplicate?"),
                        tr("Да, объединить", "Yes, merge"), f"cf.merge.{d['id']}",
                        lambda other=d: _merge(store, actor, client, other),
                        icon=":material/merge:")


def _merge(store: Store, actor: Actor, client: dict[str, Any], other: dict[str, Any]) -> None:
    try:
        row = clients.merge(store, actor, survivor_id=client["id"], other_id=other["id"])
    except UserError as exc:
        show_error(exc)
        return
    snapshot(client["id"]).reload(row)
    flash(tr(f"«{other['name']}» объединён с этой карточкой",
             f"“{other['name']}” merged into this card"))
    st.rerun()
