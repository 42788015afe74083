"""The «Файлы и ссылки» tab: attachments (upload, download, preview, remove)
and links to cloud folders — of a client card or of a sale card (a :class:`Target`
says whose; a sale's files also show on its client's card)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_core.clients import files, text_jobs
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import Snapshot, confirm_action, flash, human_size, md_escape
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import fmt_dt, show_error

PDF_TYPE = "application/pdf"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")


@dataclass(frozen=True)
class Target:
    """Whose files and links the tab shows: the reads and writes it calls, the
    operation needed to add or remove a link, and a key part for its widgets."""

    key: str
    list_files: Callable[[], list[dict[str, Any]]]
    upload: Callable[[str, BinaryIO, int], dict[str, Any]]
    list_links: Callable[[], list[dict[str, Any]]]
    add_link: Callable[[str, str], dict[str, Any]]
    link_op: str


def client_target(store: Store, actor: Actor, client_id: int) -> Target:
    return Target(
        str(client_id), lambda: files.list_for_client(store, actor, client_id),
        lambda name, f, size: files.upload(store, actor, client_id, name, f, size_hint=size),
        lambda: files.list_links(store, actor, client_id),
        lambda url, title: files.add_link(store, actor, client_id, url, title), "client.update")


def sale_target(store: Store, actor: Actor, sale_id: int) -> Target:
    return Target(
        f"s{sale_id}", lambda: sales.list_files(store, actor, sale_id),
        lambda name, f, _size: sales.attach_file(store, actor, sale_id, name, f),
        lambda: sales.list_links(store, actor, sale_id),
        lambda url, title: sales.add_link(store, actor, sale_id, url, title), "sale.update")


def render(store: Store, actor: Actor, client_id: int) -> None:
    """The client card's tab."""
    render_for(store, actor, client_target(store, actor, client_id))


def render_for(store: Store, actor: Actor, target: Target) -> None:
    _uploader(actor, target)
    _files(store, actor, target)
    st.divider()
    _links(store, actor, target)


def _uploader(actor: Actor, target: Target) -> None:
    if not can(actor, "file.upload"):
        return
    snap = Snapshot(f"fu.{target.key}")
    for ok, message in snap.get("results", []):  # shown once, after the upload's rerun
        (st.success if ok else st.error)(md_escape(message))
    snap.drop("results")
    uploaded = st.file_uploader(tr("Прикрепить файлы", "Attach files"), accept_multiple_files=True,
                                key=snap.key("uploader"))
    if not uploaded:
        return
    results: list[tuple[bool, str]] = []
    for f in uploaded:
        try:
            row = target.upload(f.name, f, f.size)
        except UserError as exc:
            results.append((False, "; ".join(getattr(exc, "errors", {}).values()) or str(exc)))
            continue
        about = human_size(row["size"]) + ", " + _upload_text_status(row)
        results.append((True, tr(f"«{row['name']}» загружен ({about})",
                                 f"“{row['name']}” uploaded ({about})")))
    # A fresh uploader (new key) on the next run: the same files are never sent twice.
    snap.reload()
    snap.put("results", results)
    st.rerun()


def _upload_text_status(row: dict[str, Any]) -> str:
    status = row.get("text_status")
    if status == "pending":
        return tr("текст извлекается…", "extracting text…")
    if status in ("error", "too_large"):
        return row.get("text_reason") or tr("текст не извлечён", "text not extracted")
    return _text_status(status)


def _text_status(status: str | None) -> str:
    """The short word of the «Текст» column (the reason, if any, is shown under the row)."""
    return {"ok": tr("текст извлечён", "text extracted"),
            "pending": tr("извлекается…", "extracting…"),
            "too_large": tr("слишком большой", "too large"),
            "error": tr("не извлечён", "not extracted")}.get(status or "",
                                                             tr("нет текста", "no text"))


def _files(store: Store, actor: Actor, target: Target) -> None:
    try:
        rows = target.list_files()
    except UserError as exc:
        show_error(exc)
        return
    if any(r.get("text_status") == "pending" for r in rows):
        text_jobs.start(store)   # (a file left pending by a stopped server or the CLI)
        _live_files(store, actor, target)
    else:
        _file_table(store, actor, rows)


@st.fragment(run_every=2)
def _live_files(store: Store, actor: Actor, target: Target) -> None:
    """The list while some text is being extracted: redrawn every 2 s on its own, then
    once the last text is in, the page reruns so the redrawing stops."""
    try:
        rows = target.list_files()
    except UserError as exc:
        show_error(exc)
        return
    _file_table(store, actor, rows)
    if not any(r.get("text_status") == "pending" for r in rows):
        st.rerun()


def _file_table(store: Store, actor: Actor, rows: list[dict[str, Any]]) -> None:
    if not rows:
        st.info(tr("Файлов пока нет.", "No files yet."))
        return
    widths = [3.6, 1, 1.8, 2.4, 1.6, 0.8, 1, 0.8]
    head = st.columns(widths)
    titles = [tr("Файл", "File"), tr("Размер", "Size"), tr("Загружен", "Uploaded"),
              tr("Кто", "By"), tr("Текст", "Text")]
    for col, title in zip(head, titles, strict=False):
        col.caption(title)
    for row in rows:
        _file_row(store, actor, row, widths)


def _file_row(store: Store, actor: Actor, row: dict[str, Any], widths: list[float]) -> None:
    c = st.columns(widths, vertical_alignment="center")
    c[0].text(row["name"])
    c[1].text(human_size(row["size"]))
    c[2].text(fmt_dt(row["created_at"]))
    c[3].text(row.get("uploaded_by_name") or row.get("uploaded_by_login") or "")
    c[4].text(_text_status(row.get("text_status")))
    if row.get("text_reason") and row.get("text_status") in ("error", "too_large"):
        st.caption(md_escape(row["text_reason"]))
    fid = row["id"]
    # icon-only buttons (the columns are narrow); the data is read only when clicked
    c[5].download_button("", data=lambda: files.read(store, actor, fid)[1],
                         file_name=row["name"], mime=row["mime"], key=f"fd.{fid}",
                         icon=":material/download:", on_click="ignore",
                         help=tr("Скачать", "Download"))
    show = False
    if row["mime"] in IMAGE_TYPES or row["mime"] == PDF_TYPE:
        shown_key = f"fp.open.{fid}"
        show = bool(st.session_state.get(shown_key))
        c[6].button("", key=f"fp.{fid}", help=tr("Просмотр", "Preview"),
                    icon=":material/visibility_off:" if show else ":material/visibility:",
                    on_click=_flip, args=(shown_key,))
    if can(actor, "file.delete"):
        with c[7]:
            confirm_action("", tr(f"Удалить файл «{row['name']}» из карточки?",
                                  f"Remove “{row['name']}” from the card?"),
                           tr("Да, удалить", "Yes, remove"), f"fx.{fid}",
                           lambda: _delete(store, actor, row))
    if show:
        try:
            data = files.read(store, actor, fid)[1]
            if row["mime"] == PDF_TYPE:
                st.pdf(data, height=600)
            else:
                st.image(data, caption=row["name"], width=480)
        except (UserError, OSError) as exc:
            show_error(exc)
        except Exception as exc:  # noqa: BLE001 - a broken PDF must not break the card
            st.warning(tr("Не удалось показать файл — скачайте его.",
                          "Cannot preview this file — download it.") + f" ({type(exc).__name__})")


def _flip(key: str) -> None:
    st.session_state[key] = not st.session_state.get(key)


def _delete(store: Store, actor: Actor, row: dict[str, Any]) -> None:
    try:
        files.delete(store, actor, row["id"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"Файл «{row['name']}» удалён", f"File “{row['name']}” removed"))
    st.rerun()


def _links(store: Store, actor: Actor, target: Target) -> None:
    st.subheader(tr("Ссылки", "Links"))
    try:
        links = target.list_links()
    except UserError as exc:
        show_error(exc)
        return
    if not links:
        st.caption(tr("Ссылок пока нет (Яндекс.Диск, Google Drive, папка на сервере…).",
                      "No links yet (Yandex Disk, Google Drive, a server folder…)."))
    for link in links:
        c1, c2, c3 = st.columns([5, 1, 1], vertical_alignment="center")
        c1.text(link["title"] or link["url"])
        if link["title"]:
            c1.caption(md_escape(link["url"]))
        c2.link_button(tr("Открыть", "Open"), link["url"], icon=":material/open_in_new:")
        if can(actor, target.link_op):
            with c3:
                confirm_action("", tr("Удалить ссылку?", "Remove the link?"),
                               tr("Да, удалить", "Yes, remove"), f"lx.{link['id']}",
                               lambda lk=link: _delete_link(store, actor, lk))
    if can(actor, target.link_op):
        _link_form(target)


def _link_form(target: Target) -> None:
    snap = Snapshot(f"lf.{target.key}")
    with st.form(snap.key("form"), border=True):
        c1, c2 = st.columns([2, 3])
        title = c1.text_input(tr("Название", "Title"), key=snap.key("title"),
                              placeholder=tr("Договоры на Яндекс.Диске", "Contracts on Drive"))
        url = c2.text_input(tr("Ссылка", "URL"), key=snap.key("url"), placeholder="https://…")
        submitted = st.form_submit_button(tr("Добавить ссылку", "Add link"), icon=":material/link:")
    if submitted:
        try:
            target.add_link(url, title)
        except UserError as exc:
            show_error(exc)
            return
        snap.reload()
        flash(tr("Ссылка добавлена", "Link added"))
        st.rerun()


def _delete_link(store: Store, actor: Actor, link: dict[str, Any]) -> None:
    try:
        files.delete_link(store, actor, link["id"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr("Ссылка удалена", "Link removed"))
    st.rerun()
