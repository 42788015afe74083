"""Custom fields on a card: one widget per active definition, by type.

:func:`render` is called inside a card's ``st.form``; it returns the card's new
``extra`` (values of the shown fields replaced, anything else kept), which the
core validates on save (``custom_fields.check_extra``) and reports by field label.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import streamlit as st

from clientplus_core.records import custom_fields as cf
from clientplus_core.store.db import Store
from clientplus_ui.common import md_escape
from clientplus_ui.i18n import lang, tr

_MIN_DATE = date(1900, 1, 1)
_MAX_DATE = date(2100, 12, 31)


def field_label(fd: cf.FieldDef) -> str:
    """The field's label in the UI language, made inert for markdown."""
    return md_escape(tr(fd.label_ru, fd.label_en or fd.label_ru)) + (" \\*" if fd.required
                                                                      else "")


def _widget(fd: cf.FieldDef, value: Any, key: str, disabled: bool) -> Any:
    label = field_label(fd)
    if fd.type == "number":
        num = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(num, int) or (num is None and fd.key == "headcount"):
            return st.number_input(label, value=num, step=1, key=key, disabled=disabled)
        return st.number_input(label, value=None if num is None else float(num), step=1.0,
                               format="%.2f", key=key, disabled=disabled)
    if fd.type == "date":
        try:
            day = date.fromisoformat(str(value)[:10]) if value else None
        except ValueError:
            day = None
        picked = st.date_input(label, value=day, min_value=_MIN_DATE, max_value=_MAX_DATE,
                               format="DD.MM.YYYY", key=key, disabled=disabled)
        if fd.key == "birth_date" and isinstance(picked, date):
            st.caption(tr(f"Возраст: {cf.age(picked.isoformat())}",
                          f"Age: {cf.age(picked.isoformat())}"))
        return picked.isoformat() if isinstance(picked, date) else None
    if fd.type == "select":
        options = list(fd.options)
        if value and value not in options:
            options.append(str(value))
        return st.selectbox(label, options, index=options.index(value) if value in options
                            else None, key=key, disabled=disabled,
                            placeholder=tr("— не указано —", "— not set —"))
    if fd.type == "multiselect":
        current = [v for v in (value or []) if isinstance(v, str)]
        options = list(dict.fromkeys([*fd.options, *current]))
        return st.multiselect(label, options, default=current, key=key, disabled=disabled,
                              placeholder=tr("— не указано —", "— not set —"))
    if fd.type == "bool":
        choices: list[bool | None] = [None, True, False]
        names = {None: tr("— не указано —", "— not set —"), True: tr("да", "yes"),
                 False: tr("нет", "no")}
        return st.selectbox(label, choices, index=choices.index(value) if value in choices
                            else 0, key=f"{key}.{lang()}", disabled=disabled,
                            format_func=lambda v: names[v])
    return st.text_input(label, value=str(value or ""), key=key, disabled=disabled)


def render(store: Store, entity: str, extra: dict[str, Any] | None,
           key: Callable[[str], str], disabled: bool = False) -> dict[str, Any]:
    """Widgets for the active custom fields of ``entity`` (two per row) under a
    «Доп. поля» heading; returns the new ``extra``. Nothing is shown when no
    field is defined."""
    out = dict(extra or {})
    defs = cf.list_fields(store, entity)
    if not defs:
        return out
    st.markdown("**" + tr("Доп. поля", "Custom fields") + "**")
    for i in range(0, len(defs), 2):
        cols = st.columns(2)
        for col, fd in zip(cols, defs[i:i + 2], strict=False):
            with col:
                out[fd.key] = _widget(fd, out.get(fd.key), key(f"x.{fd.key}"), disabled)
    return out


def show(store: Store, entity: str, extra: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value as text) for the filled custom fields, for read-only views."""
    values = extra or {}
    return [(tr(fd.label_ru, fd.label_en or fd.label_ru), cf.display(fd, values.get(fd.key)))
            for fd in cf.list_fields(store, entity) if values.get(fd.key) not in (None, "", [])]
