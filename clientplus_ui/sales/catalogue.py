"""The catalogue page's pieces: search, the list, the item form (add / edit /
remove), import from Excel or CSV (checked first, all or nothing) and export.

The chosen import file is kept in ``st.session_state[IMPORT_KEY]`` as
``(filename, bytes)`` (tests set it directly: AppTest cannot drive an uploader).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from clientplus_core.base.errors import ConflictError, UserError
from clientplus_core.sales import catalogue, company
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import Snapshot, confirm_action, conflict_notice, flash, lkey, md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import rub
from clientplus_ui.widgets import XLSX_MIME, kept_upload, show_error

IMPORT_KEY = "cat.import.upload"
FIELDS = {"name": ("Наименование", "Name"), "sku": ("Артикул", "SKU"), "unit": ("Ед.", "Unit"),
          "price": ("Цена", "Price"), "vat_code": ("НДС по умолчанию", "Default VAT"),
          "kind": ("Вид", "Kind"), "is_active": ("Активна", "Active"),
          "notes": ("Примечание", "Note"), "price_kop": ("Цена", "Price")}


def field_label(name: str) -> str:
    return tr(*FIELDS[name]) if name in FIELDS else name


def search_bar(store: Store, actor: Actor) -> list[dict[str, Any]]:
    c1, c2, c3 = st.columns([4, 2, 2], vertical_alignment="bottom")
    query = c1.text_input(tr("Поиск", "Search"), key="cat.query", type="search", live=True,
                          placeholder=tr("Наименование или артикул", "Name or SKU"))
    kinds = {"": tr("Товары и услуги", "Goods and services"),
             **{k: tr(*v) for k, v in catalogue.KINDS.items()}}
    kind = c2.selectbox(tr("Вид", "Kind"), list(kinds), format_func=kinds.__getitem__,
                        key=lkey("cat.kind"))
    inactive = c3.toggle(tr("Показывать неактивные", "Show inactive"), key="cat.inactive")
    try:
        return catalogue.list_items(store, actor, query or "", active_only=not inactive,
                                    kind=kind or None, limit=1000)
    except UserError as exc:
        show_error(exc)
        return []


def table(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The list; returns the item the user selected."""
    st.caption(tr(f"Позиций: {len(items)}", f"Items: {len(items)}")
               + (tr(" (показаны первые 1000)", " (first 1000 shown)")
                  if len(items) >= 1000 else ""))
    if not items:
        st.info(tr("В каталоге пока ничего нет — добавьте позицию или импортируйте Excel.",
                   "The catalogue is empty: add an item or import an Excel file."))
        return None
    view = [{
        field_label("name"): i["name"], field_label("sku"): i["sku"],
        field_label("unit"): i["unit"], field_label("price"): rub(i["price"], sign=False),
        field_label("vat_code"): i["vat_code"] if i["vat_code"] == "none" else f"{i['vat_code']} %",
        field_label("kind"): tr(*catalogue.KINDS.get(i["kind"], (i["kind"], i["kind"]))),
        field_label("is_active"): bool(i["is_active"]),
    } for i in items]
    event = st.dataframe(view, key="cat.table", on_select="rerun", selection_mode="single-row",
                         hide_index=True, width="stretch", column_config={
                             field_label("name"): st.column_config.TextColumn(width="large"),
                             field_label("price"): st.column_config.TextColumn(
                                 alignment="right")})
    picked = event.selection.rows if event is not None else []
    return items[picked[0]] if picked and picked[0] < len(items) else None


def _form(store: Store, snap: Snapshot, base: dict[str, Any], submit: str,
          writable: bool) -> dict[str, Any] | None:
    rates = catalogue.vat_rates(store, dt.date.today(), company.get(store)["tax_system"])
    codes = [r["code"] for r in rates]
    if base.get("vat_code") and base["vat_code"] not in codes:
        codes.append(base["vat_code"])
    labels = {r["code"]: r["label"] for r in catalogue.vat_rates(store)}
    off = not writable
    with st.form(snap.key("form"), border=True):
        c1, c2 = st.columns([3, 1])
        name = c1.text_input(field_label("name"), value=base.get("name") or "",
                             key=snap.key("name"), disabled=off)
        sku = c2.text_input(field_label("sku"), value=base.get("sku") or "", key=snap.key("sku"),
                            disabled=off)
        c3, c4, c5, c6 = st.columns(4)
        units = list(catalogue.UNITS)
        unit_now = base.get("unit") or "шт"
        if unit_now not in units:
            units.append(unit_now)
        unit = c3.selectbox(field_label("unit"), units, index=units.index(unit_now),
                            accept_new_options=True, key=snap.key("unit"), disabled=off)
        price = c4.text_input(field_label("price"),
                              value=rub(base["price"], sign=False) if "price" in base else "",
                              key=snap.key("price"), disabled=off, placeholder="0,00")
        vat = c5.selectbox(field_label("vat_code"), codes,
                           index=codes.index(base.get("vat_code") or codes[0]),
                           format_func=lambda c: labels.get(c, c), key=snap.key("vat"),
                           disabled=off)
        kinds = {k: tr(*v) for k, v in catalogue.KINDS.items()}
        kind = c6.selectbox(field_label("kind"), list(kinds),
                            index=list(kinds).index(base.get("kind") or "goods"),
                            format_func=kinds.__getitem__,
                            key=lkey(snap.key("kind")), disabled=off)
        notes = st.text_input(field_label("notes"), value=base.get("notes") or "",
                              key=snap.key("notes"), disabled=off)
        active = st.checkbox(field_label("is_active"), value=bool(base.get("is_active", 1)),
                             key=snap.key("active"), disabled=off)
        if st.form_submit_button(submit, type="primary", disabled=off):
            return {"name": name, "sku": sku, "unit": unit or "", "price": price,
                    "vat_code": vat, "kind": kind, "is_active": active, "notes": notes}
    return None


def edit_form(store: Store, actor: Actor, item: dict[str, Any]) -> None:
    writable = can(actor, "catalogue.write")
    snap = Snapshot(f"cat.{item['id']}")
    base = snap.base(item)
    st.subheader(md_escape(base["name"]))
    data = _form(store, snap, base, tr("Сохранить", "Save"), writable)
    if data is not None:
        snap.drop("conflict")
        try:
            row = catalogue.update(store, actor, item["id"], data, base["version"])
        except ConflictError as exc:
            snap.put("conflict", {"message": str(exc), "changes": {
                k: v for k, v in exc.changes.items() if k in FIELDS}})
        except UserError as exc:
            show_error(exc)
        else:
            snap.reload(row)
            flash(tr("Позиция сохранена", "Item saved"))
            st.rerun()
    conflict_notice(snap, field_label)
    if writable:
        confirm_action(tr("Удалить позицию", "Remove the item"),
                       tr(f"Удалить «{base['name']}»? Позиция, которая есть в продажах, "
                          "станет неактивной.",
                          f"Remove “{base['name']}”? An item used in sales is switched off "
                          "instead."), tr("Да, удалить", "Yes, remove"), snap.key("delete"),
                       lambda: _delete(store, actor, item))


def _delete(store: Store, actor: Actor, item: dict[str, Any]) -> None:
    try:
        result = catalogue.delete(store, actor, item["id"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"«{item['name']}» удалена", f"“{item['name']}” removed") if result == "deleted"
          else tr(f"«{item['name']}» есть в продажах — сделана неактивной",
                  f"“{item['name']}” is used in sales: switched off"))
    st.session_state.pop("cat.table", None)
    st.rerun()


def add_form(store: Store, actor: Actor) -> None:
    if not can(actor, "catalogue.write"):
        return
    snap = Snapshot("cat.new")
    with st.expander(tr("Добавить позицию", "Add an item"), icon=":material/add:"):
        data = _form(store, snap, {}, tr("Добавить", "Add"), True)
    if data is not None:
        try:
            row = catalogue.create(store, actor, data)
        except UserError as exc:
            show_error(exc)
            return
        snap.reload()
        flash(tr(f"«{row['name']}» добавлена", f"“{row['name']}” added"))
        st.rerun()


def import_export(store: Store, actor: Actor) -> None:
    """Excel / CSV import (check, then import) and the export of the whole catalogue."""
    c1, c2 = st.columns([3, 1])
    c2.download_button(tr("Скачать каталог (Excel)", "Download catalogue (Excel)"),
                       data=lambda: catalogue.export_xlsx(store, actor),
                       file_name=f"catalogue-{dt.date.today().isoformat()}.xlsx",
                       mime=XLSX_MIME, key="cat.export", icon=":material/download:",
                       on_click="ignore")
    if not can(actor, "catalogue.write"):
        return
    with c1:
        st.markdown("**" + tr("Импорт из Excel или CSV", "Import from Excel or CSV") + "**")
        st.caption(tr("Столбцы: Наименование, Артикул, Ед., Цена, НДС, Вид, Активен, Примечание "
                      "(как в выгрузке). Позиции с тем же артикулом обновляются.",
                      "Columns as in the export. Items with the same SKU are updated."))
        upload = kept_upload(tr("Файл каталога", "Catalogue file"), IMPORT_KEY, ["xlsx", "csv"])
    if not upload:
        return
    b1, b2, _ = st.columns([1, 1, 3])
    check = b1.button(tr("Проверить (без записи)", "Check (writes nothing)"),
                      key="cat.import.check")
    run = b2.button(tr("Импортировать", "Import"), key="cat.import.run", type="primary")
    if check or run:
        try:
            counts = catalogue.import_table(store, actor, upload[1], upload[0], dry_run=check)
        except UserError as exc:
            show_error(exc)
            return
        text = tr(f"создано {counts['created']}, обновлено {counts['updated']}, "
                  f"строк {counts['rows']}",
                  f"created {counts['created']}, updated {counts['updated']}, "
                  f"rows {counts['rows']}")
        if check:
            st.info(tr("Проверка пройдена (ничего не записано): будет ", "Check passed "
                       "(nothing written): would be ") + text)
        else:
            st.session_state.pop(IMPORT_KEY, None)
            flash(tr("Импорт выполнен: ", "Imported: ") + text)
            st.rerun()
