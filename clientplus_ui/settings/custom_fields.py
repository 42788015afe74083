"""Settings → «Доп. поля»: switch ready-made fields on, define your own, hide
fields (their stored values are kept). Only an administrator may change them."""

from __future__ import annotations

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.records import custom_fields as cf
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import flash, md_escape, show_flash
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error

ENTITY_LABELS = {"client": ("Клиенты", "Clients"), "sale": ("Продажи", "Sales")}
PRESET_GROUPS = {"company": ("Для компаний", "For companies"),
                 "person": ("Для физических лиц", "For persons"),
                 "sale": ("Для продаж: персональные условия", "For sales: personal terms")}


def _type_label(t: str) -> str:
    return tr(*cf.TYPES[t])


def _presets(store: Store, actor: Actor, writable: bool) -> None:
    st.subheader(tr("Готовые поля", "Ready-made fields"))
    current = {(f.entity, f.key): f for e in cf.ENTITIES
               for f in cf.list_fields(store, e, active_only=False)}
    for group, (ru, en) in PRESET_GROUPS.items():
        st.markdown("**" + tr(ru, en) + "**")
        for (entity, key), p in cf.PRESETS.items():
            if p.preset != group:
                continue
            on = bool(current.get((entity, key)) and current[(entity, key)].active)
            new = st.checkbox(f"{tr(p.label_ru, p.label_en)} ({_type_label(p.type)})", value=on,
                              key=f"cfs.preset.{entity}.{key}", disabled=not writable)
            if new != on:
                try:
                    cf.enable_preset(store, actor, entity, key, new)
                except UserError as exc:
                    show_error(exc)
                    return
                flash(tr("Поле включено", "Field switched on") if new
                      else tr("Поле скрыто (значения сохранены)", "Field hidden (values kept)"))
                st.rerun()


def _form(store: Store, actor: Actor) -> None:
    st.subheader(tr("Новое поле или изменение", "New field or change"))
    with st.form("cfs.form", clear_on_submit=False, enter_to_submit=False):
        c1, c2, c3 = st.columns(3)
        entity = c1.selectbox(tr("Где", "Where"), list(cf.ENTITIES), key="cfs.entity",
                              format_func=lambda e: tr(*ENTITY_LABELS[e]))
        key = c2.text_input(tr("Ключ (латиницей)", "Key (latin)"), key="cfs.key",
                            help=tr("Например: vip_level. Ключ существующего поля — изменить его",
                                    "E.g. vip_level. An existing field's key edits it"))
        ftype = c3.selectbox(tr("Тип", "Type"), list(cf.TYPES), key="cfs.type",
                             format_func=_type_label)
        c1, c2 = st.columns(2)
        label_ru = c1.text_input(tr("Название", "Label (Russian)"), key="cfs.label_ru")
        label_en = c2.text_input(tr("Название по-английски", "Label (English)"),
                                 key="cfs.label_en")
        options = st.text_area(tr("Варианты (каждый с новой строки) — для выбора из списка",
                                  "Options (one per line) — for select fields"),
                               key="cfs.options", height=100)
        c1, c2 = st.columns(2)
        required = c1.checkbox(tr("Обязательное", "Required"), key="cfs.required")
        order = c2.number_input(tr("Порядок", "Order"), min_value=0, max_value=10_000, value=100,
                                step=10, key="cfs.sort")
        submitted = st.form_submit_button(tr("Сохранить поле", "Save field"), type="primary",
                                          icon=":material/save:")
    if submitted:
        try:
            fd = cf.define(store, actor, {
                "entity": entity, "key": key, "type": ftype, "label_ru": label_ru,
                "label_en": label_en, "options": options.splitlines(), "required": required,
                "sort": order})
        except UserError as exc:
            show_error(exc)
            return
        label = md_escape(fd.label_ru)
        flash(tr(f"Поле «{label}» сохранено", f"Field “{label}” saved"))
        st.rerun()


def _table(store: Store, actor: Actor, writable: bool) -> None:
    st.subheader(tr("Поля", "Fields"))
    for entity in cf.ENTITIES:
        defs = cf.list_fields(store, entity, active_only=False)
        st.markdown("**" + tr(*ENTITY_LABELS[entity]) + "**")
        if not defs:
            st.caption(tr("Полей нет", "No fields"))
            continue
        st.dataframe([{tr("Ключ", "Key"): f.key, tr("Название", "Label"): f.label_ru,
                       tr("Тип", "Type"): _type_label(f.type),
                       tr("Варианты", "Options"): ", ".join(f.options),
                       tr("Обязательное", "Required"): f.required,
                       tr("Порядок", "Order"): f.sort, tr("Показано", "Shown"): f.active}
                      for f in defs], hide_index=True, width="stretch")
        if writable:
            for f in defs:
                if not f.preset:
                    label = (tr("Скрыть", "Hide") if f.active else tr("Показать", "Show"))
                    if st.button(f"{label}: {md_escape(f.label_ru)}",
                                 key=f"cfs.toggle.{entity}.{f.key}"):
                        cf.set_active(store, actor, entity, f.key, not f.active)
                        st.rerun()


def section(store: Store, actor: Actor) -> None:
    """The «Доп. поля» tab."""
    show_flash()
    writable = can(actor, "fields.manage")
    if not writable:
        st.info(tr("Поля настраивает администратор.", "Fields are set up by an administrator."))
    _presets(store, actor, writable)
    st.divider()
    if writable:
        _form(store, actor)
        st.divider()
    _table(store, actor, writable)
