"""Settings for sales: the statuses (labels, order, flags; administrator), sale
numbering and the automatic status by payment, and the document templates
(upload / replace a .docx per kind, download the current and the shipped one).

An uploaded template is kept in ``st.session_state[template_upload_key(kind)]`` as
``(filename, bytes)`` (tests set it directly: AppTest cannot drive an uploader).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.base.sandbox import megabytes
from clientplus_core.records import settings
from clientplus_core.sales import documents, statuses
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import status_label
from clientplus_ui.widgets import fmt_dt, kept_upload, show_error

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FLAG_LABELS = {"is_invoiced": ("Счёт", "Invoiced"), "is_paid": ("Оплата", "Paid"),
               "is_shipped": ("Отгрузка", "Shipped"), "is_closed": ("Закрыта", "Closed"),
               "is_lost": ("Проиграна", "Lost"), "is_active": ("Вкл.", "On")}
FLAG_HELP = {"is_invoiced": ("Счёт выставлен", "An invoice was issued"),
             "is_paid": ("Оплачено полностью", "Fully paid"),
             "is_shipped": ("Отгружено / услуга оказана", "Shipped / delivered"),
             "is_closed": ("Работа по продаже закончена", "No more work expected"),
             "is_lost": ("Проиграна или отменена: нужна причина", "Lost or cancelled: a reason "
                         "is required"),
             "is_active": ("Статус используется (виден в списках и на доске)",
                           "The status is in use (lists and the board)")}
EDIT_COLUMNS = ("label", "label_en", "sort", *FLAG_LABELS)


# ---- statuses -------------------------------------------------------------------------

def statuses_section(store: Store, actor: Actor) -> None:
    editable = can(actor, "statuses.manage")
    st.caption(tr("Отчёты и доска читают флаги, а не названия. «Проиграна» требует причину и "
                  "закрывает продажу. Порядок — по возрастанию числа.",
                  "Reports and the board read the flags, not the labels. “Lost” needs a reason "
                  "and closes the sale. Order: ascending number."))
    if not editable:
        st.info(tr("Статусы меняет только администратор.",
                   "Only an administrator can change the statuses."))
    rows = statuses.list_statuses(store, include_inactive=True)
    gen = int(st.session_state.get("set.statuses.gen", 0))
    view = [{c: (bool(r[c]) if c in FLAG_LABELS else r[c]) for c in EDIT_COLUMNS} for r in rows]
    with st.form(f"set.statuses.form.{gen}", border=False):
        edited = st.data_editor(
            view, key=f"set.statuses.{gen}", hide_index=True, width="stretch",
            disabled=not editable, num_rows="fixed", column_config={
                "label": st.column_config.TextColumn(tr("Название", "Label"), width=190),
                "label_en": st.column_config.TextColumn(tr("Название (англ.)", "Label (EN)"),
                                                        width=130),
                "sort": st.column_config.NumberColumn(tr("Порядок", "Order"), step=1,
                                                      format="%d", width=80),
                **{f: st.column_config.CheckboxColumn(tr(*lbl), width=90, help=tr(*FLAG_HELP[f]))
                   for f, lbl in FLAG_LABELS.items()}})
        save = st.form_submit_button(tr("Сохранить статусы", "Save statuses"), type="primary",
                                     disabled=not editable)
    if save:
        _save_statuses(store, actor, rows, list(edited))
    if editable:
        _new_status(store, actor)
        _sale_settings(store, actor)


def _save_statuses(store: Store, actor: Actor, rows: list[dict[str, Any]],
                   edited: list[dict[str, Any]]) -> None:
    changed = 0
    for row, new in zip(rows, edited, strict=True):
        data = {c: new[c] for c in EDIT_COLUMNS}
        if all((bool(row[c]) if c in FLAG_LABELS else row[c]) == data[c] for c in EDIT_COLUMNS):
            continue
        try:
            statuses.update(store, actor, row["id"], data, row["version"])
        except UserError as exc:
            st.error(md_escape(f"«{row['label']}»: ") + md_escape(
                "; ".join(getattr(exc, "errors", {}).values()) or str(exc)))
            return  # the rows after it are not saved: fix and save again
        changed += 1
    st.session_state["set.statuses.gen"] = int(st.session_state.get("set.statuses.gen", 0)) + 1
    st.session_state["set.statuses.done"] = changed
    st.rerun()


def _new_status(store: Store, actor: Actor) -> None:
    done = st.session_state.pop("set.statuses.done", None)
    if done is not None:
        st.success(tr(f"Сохранено статусов: {done}", f"Statuses saved: {done}"))
    with st.expander(tr("Добавить статус", "Add a status"), icon=":material/add:"):
        with st.form("set.statuses.new", clear_on_submit=True):
            c1, c2 = st.columns(2)
            label = c1.text_input(tr("Название", "Label"), key="set.statuses.new.label")
            label_en = c2.text_input(tr("Название (англ.)", "Label (EN)"),
                                     key="set.statuses.new.label_en")
            flags = st.columns(len(FLAG_LABELS) - 1)
            values = {f: col.checkbox(tr(*FLAG_HELP[f]).split(":")[0],
                                      key=f"set.statuses.new.{f}")
                      for col, f in zip(flags, [f for f in FLAG_LABELS if f != "is_active"],
                                        strict=True)}
            go = st.form_submit_button(tr("Добавить", "Add"))
    if go:
        try:
            row = statuses.create(store, actor, {"label": label, "label_en": label_en, **values})
        except UserError as exc:
            show_error(exc)
            return
        st.session_state["set.statuses.gen"] = int(st.session_state.get("set.statuses.gen", 0)) + 1
        st.success(tr(f"Статус «{row['label']}» добавлен в конец списка",
                      f"Status “{status_label(row)}” added at the end"))


def _sale_settings(store: Store, actor: Actor) -> None:
    if not can(actor, "settings.write"):
        return
    st.markdown("**" + tr("Нумерация и оплаты", "Numbering and payments") + "**")
    with st.form("set.sales", border=False):
        c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
        prefix = c1.text_input(tr("Префикс номера продажи", "Sale number prefix"),
                               value=settings.get(store, "sale_number_prefix") or "",
                               key="set.sales.prefix", placeholder="ПР-",
                               help=tr("Номер: префикс, год и порядковый номер: ПР-2026-0001",
                                       "Number: prefix, year and sequence: ПР-2026-0001"))
        auto = c2.checkbox(tr("Менять статус по оплате автоматически («Частично оплачено», "
                              "«Оплачено»)", "Set the status by payments automatically"),
                           value=bool(settings.get(store, "sale_auto_status")),
                           key="set.sales.auto")
        go = st.form_submit_button(tr("Сохранить", "Save"))
    if go:
        try:
            settings.put(store, actor, "sale_number_prefix", (prefix or "").strip()[:20])
            settings.put(store, actor, "sale_auto_status", bool(auto))
        except UserError as exc:
            show_error(exc)
            return
        st.success(tr("Сохранено.", "Saved."))


# ---- document templates -----------------------------------------------------------------

def template_upload_key(kind: str) -> str:
    return f"set.tpl.{kind}.upload"


def templates_section(store: Store, actor: Actor) -> None:
    editable = can(actor, "templates.manage")
    st.caption(tr("Шаблон — документ Word (.docx) с тегами {{ … }} как в docxtpl. Шаблон с "
                  "неизвестными переменными, ошибкой в тегах или служебными именами "
                  "(начинающимися с «_») не принимается; документ — не больше "
                  f"{megabytes(documents.MAX_DOCUMENT_BYTES)}.",
                  "A template is a Word (.docx) file with docxtpl {{ … }} tags. A template with "
                  "unknown variables, broken tags or private names (starting with “_”) is "
                  "refused; a document is at most "
                  f"{documents.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB."))
    try:
        uploaded = documents.list_templates(store, actor)
    except UserError as exc:
        show_error(exc)
        return
    for kind, title in documents.KINDS.items():
        with st.container(border=True):
            _template_kind(store, actor, kind, title,
                           [t for t in uploaded if t["kind"] == kind], editable)
    with st.expander(tr("Доступные переменные", "Available variables"),
                     icon=":material/data_object:"):
        for name, fields in documents.available_variables().items():
            st.markdown(f"**{name}** — " + ", ".join(
                f"`{name}.{f}` ({md_escape(d)})" if name not in ("lines", "schedule")
                else f"`{f}` ({md_escape(d)})" for f, d in fields.items()))
        st.caption(tr("Строки таблицы: {%tr for l in lines %} … {{ l.name }} … {%tr endfor %}",
                      "Table rows: {%tr for l in lines %} … {{ l.name }} … {%tr endfor %}"))


def _template_kind(store: Store, actor: Actor, kind: str, title: str,
                   mine: list[dict[str, Any]], editable: bool) -> None:
    current = next((t for t in mine if t["is_default"]), None)
    message = st.session_state.pop(f"set.tpl.{kind}.msg", None)
    if message:
        st.success(md_escape(message))
    c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="center")
    c1.markdown(f"**{md_escape(title)}**")
    if current:
        c1.caption(md_escape(tr(f"Используется загруженный: {current['name']} "
                                f"({fmt_dt(current['created_at'])})",
                                f"Uploaded template in use: {current['name']}")))
        c2.download_button(tr("Скачать текущий", "Download current"),
                           data=lambda: documents.template_bytes(store, actor, current["id"])[1],
                           file_name=current["name"], mime=DOCX_MIME,
                           key=f"set.tpl.{kind}.current", icon=":material/download:",
                           on_click="ignore")
    else:
        c1.caption(tr("Используется стандартный шаблон", "The shipped template is in use"))
    c3.download_button(tr("Скачать стандартный", "Download the shipped one"),
                       data=lambda: documents.default_template(kind), file_name=f"{kind}.docx",
                       mime=DOCX_MIME, key=f"set.tpl.{kind}.default",
                       icon=":material/download:", on_click="ignore")
    if not editable:
        return
    key = template_upload_key(kind)
    u1, u2 = st.columns([3, 2], vertical_alignment="bottom")
    upload = kept_upload(tr("Свой шаблон (.docx)", "Your template (.docx)"), key, container=u1)
    if upload and u2.button(tr(f"Загрузить «{upload[0]}»", f"Upload “{upload[0]}”"),
                            key=f"set.tpl.{kind}.go", type="primary",
                            icon=":material/upload_file:"):
        try:
            row = documents.upload_template(store, actor, kind, upload[0], upload[1])
        except UserError as exc:
            show_error(exc)
            return
        st.session_state.pop(key, None)
        st.session_state[f"set.tpl.{kind}.msg"] = tr(
            f"Шаблон «{row['name']}» загружен и используется",
            f"Template “{row['name']}” uploaded and in use")
        st.rerun()
    if current and u2.button(tr("Вернуть стандартный", "Back to the shipped one"),
                             key=f"set.tpl.{kind}.reset", icon=":material/undo:"):
        try:
            documents.set_default_template(store, actor, current["id"], False)
        except UserError as exc:
            show_error(exc)
            return
        st.rerun()
