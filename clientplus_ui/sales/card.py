"""The sale card's main form: number, date, client, contact person, owner, title,
expected close, source, VAT mode, sale discount, the specification and notes.

«Пересчитать» shows the core's totals for what is typed without saving;
«Сохранить» creates or updates the sale (optimistic locking: a stale save shows
who changed what, with a reload button, and overwrites nothing). A refused save
keeps everything typed, lines included.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import ConflictError, UserError
from clientplus_core.clients import contacts
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui import custom_inputs
from clientplus_ui.common import Snapshot, confirm_action, conflict_notice, flash, lkey, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.sales.common import (
    SALE_FIELDS,
    VAT_MODES,
    day,
    qty_text,
    rub,
    sale_field_label,
    sale_owners,
    status_label,
    to_date,
)
from clientplus_ui.sales.spec import (
    Choices,
    editor,
    fill_from_catalogue,
    lines_from_rows,
    preview,
    relocalise,
    rows_from_lines,
    totals_view,
)
from clientplus_ui.widgets import show_error

NEW_CLIENT_KEY = "sf.new.client"


def snapshot(sale_id: int | None) -> Snapshot:
    return Snapshot(f"sf.{sale_id or 'new'}")


def _fields(store: Store, actor: Actor, snap: Snapshot, base: dict[str, Any], client_id: int,
            writable: bool) -> dict[str, Any]:
    """The card's fields (inside the form); returns the typed values."""
    off = not writable
    c1, c2, c3 = st.columns(3)
    number = c1.text_input(sale_field_label("number"), value=base.get("number") or "",
                           key=snap.key("number"), disabled=off,
                           placeholder=tr("присвоится автоматически", "assigned automatically"))
    date = c2.date_input(sale_field_label("date"), value=to_date(base.get("date")) or
                         sales.today(), format="DD.MM.YYYY", key=snap.key("date"), disabled=off)
    owners = sale_owners(store)
    if base.get("owner_id") and base["owner_id"] not in owners:
        owners[base["owner_id"]] = f"№{base['owner_id']}"
    owner = c3.selectbox(sale_field_label("owner_id"), list(owners),
                         index=list(owners).index(base["owner_id"]) if base.get("owner_id")
                         in owners else None, format_func=lambda i: owners.get(i, ""),
                         key=snap.key("owner_id"),
                         disabled=off or not actor.sees_everything,
                         help=tr("Сменить ответственного может руководитель",
                                 "The head can change the owner"))
    c4, c5 = st.columns([2, 1])
    title = c4.text_input(sale_field_label("title"), value=base.get("title") or "",
                          key=snap.key("title"), disabled=off,
                          placeholder=tr("Поставка бумаги, консультация…", "What is sold"))
    source = c5.text_input(sale_field_label("source"), value=base.get("source") or "",
                           key=snap.key("source"), disabled=off,
                           placeholder=tr("сайт, звонок, рекомендация…", "website, call…"))
    people = {p["id"]: p["name"] + (f" ({p['post']})" if p["post"] else "")
              for p in contacts.list_for_client(store, actor, client_id)}
    c6, c7, c8, c9 = st.columns([2, 1, 1, 1])
    contact = c6.selectbox(sale_field_label("contact_id"), [0, *people],
                           index=[0, *people].index(base.get("contact_id") or 0)
                           if (base.get("contact_id") or 0) in [0, *people] else 0,
                           format_func=lambda i: people.get(i, "—"),
                           key=snap.key("contact_id"), disabled=off)
    close = c7.date_input(sale_field_label("expected_close"),
                          value=to_date(base.get("expected_close")), format="DD.MM.YYYY",
                          key=snap.key("expected_close"), disabled=off)
    modes = {m: tr(*v) for m, v in VAT_MODES.items()}  # labels fixed now, not at call time
    mode = c8.selectbox(sale_field_label("vat_mode"), list(modes),
                        index=list(modes).index(base.get("vat_mode") or "included"),
                        format_func=modes.__getitem__, key=lkey(snap.key("vat_mode")),
                        disabled=off)
    discount = c9.text_input(sale_field_label("discount"),
                             value=_percent(base.get("discount")), key=snap.key("discount"),
                             disabled=off, placeholder="0")
    return {"client_id": client_id, "number": number.strip(),
            "date": date.isoformat() if isinstance(date, dt.date) else "",
            "owner_id": owner, "title": title, "source": source, "contact_id": contact or None,
            "expected_close": close.isoformat() if isinstance(close, dt.date) else "",
            "vat_mode": mode, "discount": discount.strip()}


def _percent(value: Any) -> str:
    return qty_text(value) if value else ""


def render(store: Store, actor: Actor, card: dict[str, Any] | None,
           client_id: int | None) -> None:
    """The form of ``card`` (None: a new sale of ``client_id``)."""
    sale_id = card["id"] if card else None
    snap = snapshot(sale_id)
    fresh = snap.key("title") not in st.session_state
    base = snap.base(card, probe="title")
    if fresh:
        st.session_state.pop(snap.key("rows"), None)
        snap.drop("preview")
    if client_id is None:
        return
    if card is None:  # a new sale: today, the standard VAT mode, the client's owner
        try:
            d = sales.new_sale_defaults(store, actor, client_id)
        except UserError as exc:
            show_error(exc)
            return
        base = {k: d[k] for k in ("client_id", "owner_id", "date", "vat_mode")}
    writable = can(actor, "sale.update" if card else "sale.create")
    ch = Choices(store, actor, base.get("date") or sales.today().isoformat(),
                 [ln.get("catalogue_id") or 0 for ln in base.get("lines") or []])
    rows_key = snap.key("rows")
    if rows_key not in st.session_state:
        st.session_state[rows_key] = rows_from_lines(base.get("lines") or [], ch)
        snap.put("rows.lang", lang())
    elif snap.get("rows.lang", lang()) != lang():  # RU ⇄ EN: amounts as the language writes
        st.session_state[rows_key] = relocalise(st.session_state[rows_key], snap.get("rows.lang"))
        snap.put("rows.lang", lang())
    with st.form(snap.key("form"), border=False, enter_to_submit=False):
        data = _fields(store, actor, snap, base, client_id, writable)
        st.markdown("**" + tr("Спецификация", "Specification") + "**")
        rows = editor(snap, st.session_state[rows_key], ch, disabled=not writable)
        data["notes"] = st.text_area(sale_field_label("notes"), value=base.get("notes") or "",
                                     key=snap.key("notes"), height=80, disabled=not writable)
        data["extra"] = custom_inputs.render(store, "sale", base.get("extra"), snap.key,
                                             disabled=not writable)
        c1, c2, _ = st.columns([1, 1, 4])
        again = c1.form_submit_button(tr("Пересчитать", "Recalculate"), icon=":material/calculate:",
                                      disabled=not writable, width="stretch")
        save = c2.form_submit_button(tr("Сохранить", "Save"), type="primary", width="stretch",
                                     icon=":material/save:", disabled=not writable)
    if again:
        _recalculate(store, actor, snap, data, rows, ch)
    if save:
        data["lines"] = lines_from_rows(rows, ch)
        _save(store, actor, snap, card, data, base)
    conflict_notice(snap, sale_field_label)
    shown = snap.get("preview")
    if shown:
        totals_view(shown, tr("предварительный расчёт, не сохранено", "preview, not saved"))
    elif card is not None:
        totals_view(card["totals"])


def _recalculate(store: Store, actor: Actor, snap: Snapshot, data: dict[str, Any],
                 rows: list[dict[str, Any]], ch: Choices) -> None:
    filled = fill_from_catalogue(rows, st.session_state[snap.key("rows")], ch)
    data["lines"] = lines_from_rows(filled, ch)
    try:
        lines, totals = preview(store, actor, data)
    except UserError as exc:
        show_error(exc)
        return
    amounts = iter(lines)
    for row in filled:
        if any(str(row.get(c) or "").strip() for c in ("item", "name", "qty", "price")):
            row["amount"] = rub(next(amounts)["amount"], sign=False)
    st.session_state[snap.key("rows")] = filled
    snap.put("spec.gen", int(snap.get("spec.gen", 0)) + 1)
    snap.put("preview", totals)
    st.rerun()


def _save(store: Store, actor: Actor, snap: Snapshot, card: dict[str, Any] | None,
          data: dict[str, Any], base: dict[str, Any]) -> None:
    snap.drop("conflict")
    try:
        if card is None:
            row = sales.create(store, actor, data)
            snap.reload()
            st.session_state.pop(NEW_CLIENT_KEY, None)
            flash(tr(f"Продажа № {row['number']} создана", f"Sale No. {row['number']} created"))
            st.switch_page("pages/sale.py", query_params={"id": str(row["id"])})
        data.pop("client_id", None)
        if not actor.sees_everything:
            data.pop("owner_id", None)
        sales.update(store, actor, card["id"], data, base["version"], base=base)
    except ConflictError as exc:
        snap.put("conflict", {"message": str(exc), "changes": {
            k: v for k, v in exc.changes.items() if k in SALE_FIELDS}})
        return
    except UserError as exc:
        show_error(exc)
        return
    snap.reload()
    flash(tr("Сохранено", "Saved"))
    st.rerun()


def delete_button(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    if not can(actor, "sale.delete"):
        return
    confirm_action(tr("Удалить продажу", "Remove the sale"),
                   tr(f"Удалить продажу № {card['number']}? Она исчезнет из списков и поиска "
                      "(руководитель может восстановить).",
                      f"Remove sale No. {card['number']}? It leaves lists and search "
                      "(the head can restore it)."),
                   tr("Да, удалить", "Yes, remove"), f"sf.{card['id']}.delete",
                   lambda: _delete(store, actor, card))


def _delete(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    try:
        sales.delete(store, actor, card["id"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"Продажа № {card['number']} удалена", f"Sale No. {card['number']} removed"))
    st.switch_page("pages/sales.py")


def header(card: dict[str, Any]) -> None:
    """Title, client link, status and the money at a glance."""
    st.title(md_escape(tr(f"Продажа № {card['number']}", f"Sale No. {card['number']}")))
    c1, c2 = st.columns([3, 2], vertical_alignment="center")
    c1.page_link("pages/client.py", label=md_escape(card["client"]["name"]),
                 icon=":material/badge:", query_params={"id": str(card["client_id"])})
    c2.caption(md_escape(" · ".join(p for p in (
        tr("от ", "of ") + day(card["date"]), status_label(card["status"]),
        card["title"] or "") if p)))
    bal = card["balance"]
    m = st.columns(4)
    m[0].metric(tr("Сумма", "Total"), rub(card["totals"]["total"]))
    m[1].metric(tr("Оплачено", "Paid"), rub(bal["paid"]))
    m[2].metric(tr("Осталось оплатить", "Remaining"), rub(bal["remaining"]))
    m[3].metric(tr("Просрочено", "Overdue"), rub(bal["overdue"]),
                delta=tr("есть просрочка", "overdue") if bal["is_overdue"] else None,
                delta_color="inverse")
