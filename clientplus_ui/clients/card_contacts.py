"""The «Контакты» tab: the client's people — list, add, edit, remove."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from clientplus_core.base.errors import ConflictError, UserError
from clientplus_core.clients import contacts
from clientplus_core.records.validation import format_phone
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import (
    Snapshot,
    confirm_action,
    conflict_notice,
    contact_field_label,
    flash,
    md_escape,
    short,
)
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error

TEXT_ROWS = (("name", "post"), ("phone", "mobile"), ("email", "messenger"))


def _birthday(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _form(snap: Snapshot, base: dict[str, Any], submit_label: str,
          writable: bool) -> dict[str, Any] | None:
    """A contact form; returns the typed values when submitted."""
    with st.form(snap.key("form"), border=True):
        data: dict[str, Any] = {}
        for row in TEXT_ROWS:
            for col, name in zip(st.columns(len(row)), row, strict=True):
                value = base.get(name) or ""
                if name in ("phone", "mobile"):
                    value = format_phone(value)
                data[name] = col.text_input(contact_field_label(name), value=value,
                                            key=snap.key(name))
        c1, c2, c3 = st.columns(3)
        born = c1.date_input(contact_field_label("birthday"), value=_birthday(base.get("birthday")),
                             min_value=dt.date(1900, 1, 1), max_value=dt.date.today(),
                             format="DD.MM.YYYY", key=snap.key("birthday"))
        data["birthday"] = born.isoformat() if isinstance(born, dt.date) else ""
        data["consent_email"] = c2.checkbox(contact_field_label("consent_email"),
                                            value=bool(base.get("consent_email")),
                                            key=snap.key("consent_email"))
        data["consent_sms"] = c3.checkbox(contact_field_label("consent_sms"),
                                          value=bool(base.get("consent_sms")),
                                          key=snap.key("consent_sms"))
        data["notes"] = st.text_area(contact_field_label("notes"), value=base.get("notes") or "",
                                     key=snap.key("notes"), height=80)
        if st.form_submit_button(submit_label, type="primary", disabled=not writable):
            return data
    return None


def _table(rows: list[dict[str, Any]], client_id: int) -> dict[str, Any] | None:
    """The contacts table; returns the contact the user selected."""
    view = [{
        tr("ФИО", "Name"): r["name"],
        tr("Должность", "Post"): r["post"],
        tr("Телефон", "Phone"): format_phone(r["phone"]),
        tr("Мобильный", "Mobile"): format_phone(r["mobile"]),
        "E-mail": r["email"],
        tr("Мессенджер", "Messenger"): r["messenger"],
        tr("День рождения", "Birthday"): (f"{r['birthday'][8:10]}.{r['birthday'][5:7]}."
                                          f"{r['birthday'][:4]}" if r["birthday"] else ""),
        tr("Согласия", "Consents"): ", ".join(
            n for n, on in (("e-mail", r["consent_email"]), ("SMS", r["consent_sms"])) if on),
        tr("Примечания", "Notes"): short(r["notes"], 80),
    } for r in rows]
    event = st.dataframe(view, key=Snapshot(f"ct.list.{client_id}").key("table"), on_select="rerun",
                         selection_mode="single-row", hide_index=True, width="stretch")
    picked = event.selection.rows if event is not None else []
    return rows[picked[0]] if picked and picked[0] < len(rows) else None


def render(store: Store, actor: Actor, client_id: int) -> None:
    writable = can(actor, "client.update")
    try:
        rows = contacts.list_for_client(store, actor, client_id)
    except UserError as exc:
        show_error(exc)
        return
    if rows:
        st.caption(tr("Выберите строку, чтобы изменить или удалить контакт.",
                      "Click a row to edit or remove the contact."))
        selected = _table(rows, client_id)
        if selected is not None:
            _edit(store, actor, selected, writable)
    else:
        st.info(tr("Контактов пока нет.", "No contacts yet."))
    with st.expander(tr("Добавить контакт", "Add a contact"), expanded=not rows,
                     icon=":material/person_add:"):
        snap = Snapshot(f"ct.new.{client_id}")
        data = _form(snap, {}, tr("Добавить", "Add"), writable)
        if data is not None:
            try:
                row = contacts.create(store, actor, client_id, data)
            except UserError as exc:
                show_error(exc)
                return
            snap.reload()
            flash(tr(f"Контакт «{row['name']}» добавлен", f"Contact “{row['name']}” added"))
            st.rerun()


def _edit(store: Store, actor: Actor, contact: dict[str, Any], writable: bool) -> None:
    snap = Snapshot(f"ct.{contact['id']}")
    base = snap.base(contact)
    st.subheader(md_escape(tr("Контакт: ", "Contact: ") + base["name"]))
    data = _form(snap, base, tr("Сохранить контакт", "Save contact"), writable)
    if data is not None:
        snap.drop("conflict")
        try:
            row = contacts.update(store, actor, contact["id"], data, base["version"], base=base)
        except ConflictError as exc:
            snap.put("conflict", {"message": str(exc), "changes": exc.changes})
        except UserError as exc:
            show_error(exc)
        else:
            snap.reload(row)
            flash(tr("Контакт сохранён", "Contact saved"))
            st.rerun()
    conflict_notice(snap, contact_field_label)
    if writable:
        confirm_action(tr("Удалить контакт", "Remove contact"),
                       tr(f"Удалить контакт «{base['name']}»?", f"Remove “{base['name']}”?"),
                       tr("Да, удалить", "Yes, remove"), snap.key("delete"),
                       lambda: _delete(store, actor, contact))


def _delete(store: Store, actor: Actor, contact: dict[str, Any]) -> None:
    try:
        contacts.delete(store, actor, contact["id"])
    except UserError as exc:
        show_error(exc)
        return
    Snapshot(f"ct.list.{contact['client_id']}").reload()
    flash(tr(f"Контакт «{contact['name']}» удалён", f"Contact “{contact['name']}” removed"))
    st.rerun()
