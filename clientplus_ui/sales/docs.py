"""The «Документы» tab: «КП», «Счёт», «Договор», «Акт» → a Word file from the
template (numbered and saved to the sale's files, or a draft), downloadable at
once; PDF too when LibreOffice is installed (the button is hidden otherwise)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients import files
from clientplus_core.sales import documents
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.i18n import tr
from clientplus_ui.sales.common import day
from clientplus_ui.widgets import show_error

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BUTTONS = {"offer": ("КП", "Offer"), "invoice": ("Счёт", "Invoice"),
           "contract": ("Договор", "Contract"), "act": ("Акт", "Act")}
KIND_NAMES = {"offer": ("Коммерческое предложение", "Commercial offer"),
              "invoice": ("Счёт на оплату", "Invoice"), "contract": ("Договор", "Contract"),
              "act": ("Акт", "Act"), "custom": ("Документ", "Document")}


def last_key(sale_id: int) -> str:
    """Session key of the document just made: ``(kind, filename, bytes)``."""
    return f"sd.{sale_id}.last"


def render(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    sid = card["id"]
    if can(actor, "document.generate"):
        attach = st.toggle(tr("С номером — сохранить в файлы продажи",
                              "Numbered — save to the sale's files"), value=True,
                           key=f"sd.{sid}.attach",
                           help=tr("Выключите, чтобы получить черновик без номера",
                                   "Switch off for an unnumbered draft"))
        cols = st.columns(len(BUTTONS))
        for col, (kind, label) in zip(cols, BUTTONS.items(), strict=True):
            if col.button(tr(*label), key=f"sd.{sid}.{kind}", icon=":material/description:",
                          width="stretch", help=tr(*KIND_NAMES[kind])):
                _make(store, actor, sid, kind, attach)
        _last(sid)
    _history(store, actor, card)


def _make(store: Store, actor: Actor, sale_id: int, kind: str, attach: bool) -> None:
    try:
        with st.spinner(tr("Готовим документ…", "Preparing the document…")):
            name, data = documents.render(store, actor, sale_id, kind, attach=attach)
    except UserError as exc:
        show_error(exc)
        return
    st.session_state[last_key(sale_id)] = (kind, name, data)
    st.session_state.pop(f"sd.{sale_id}.pdf", None)
    if attach:
        st.rerun()  # the card shows the new file and document at once


def _last(sale_id: int) -> None:
    made = st.session_state.get(last_key(sale_id))
    if not made:
        return
    kind, name, data = made
    with st.container(border=True):
        st.success(tr(f"Готово: {name}", f"Ready: {name}"), icon=":material/task:")
        c1, c2, _ = st.columns([2, 2, 3])
        c1.download_button(tr("Скачать .docx", "Download .docx"), data, file_name=name,
                           mime=DOCX_MIME, key=f"sd.{sale_id}.dl", icon=":material/download:",
                           on_click="ignore", type="primary")
        if documents.pdf_available():
            pdf = st.session_state.get(f"sd.{sale_id}.pdf")
            if pdf is None:
                if c2.button(tr("Сделать PDF", "Make a PDF"), key=f"sd.{sale_id}.mkpdf",
                             icon=":material/picture_as_pdf:"):
                    try:
                        with st.spinner(tr("Преобразуем в PDF…", "Converting to PDF…")):
                            st.session_state[f"sd.{sale_id}.pdf"] = documents.to_pdf(data)
                    except UserError as exc:
                        show_error(exc)
                        return
                    st.rerun()
            else:
                c2.download_button(tr("Скачать PDF", "Download PDF"), pdf,
                                   file_name=name.rsplit(".", 1)[0] + ".pdf",
                                   mime="application/pdf", key=f"sd.{sale_id}.pdfdl",
                                   icon=":material/download:", on_click="ignore")


def _history(store: Store, actor: Actor, card: dict[str, Any]) -> None:
    docs = card.get("documents") or []
    st.markdown("**" + tr("Выданные документы", "Documents issued") + "**")
    if not docs:
        st.caption(tr("Документов пока нет.", "No documents yet."))
        return
    for d in docs:
        c1, c2 = st.columns([5, 1], vertical_alignment="center")
        c1.text(f"{tr(*KIND_NAMES.get(d['kind'], KIND_NAMES['custom']))} № {d['number']} "
                + tr("от ", "of ") + day(d["date"]))
        if d.get("file_id"):
            fid = d["file_id"]
            c2.download_button("", data=lambda fid=fid: files.read(store, actor, fid)[1],
                               file_name=d.get("file_name") or f"{d['kind']}.docx",
                               mime=DOCX_MIME, key=f"sd.file.{d['id']}",
                               icon=":material/download:", on_click="ignore",
                               help=tr("Скачать", "Download"))
