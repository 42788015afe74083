"""The mailings page's parts: the list, the editor (address book, subject, bodies,
field cheat-sheet, attachments), the preview, the test send, sending with a
progress bar (and «Продолжить» for an interrupted mailing), the per-recipient log
with its Excel export, and processing an unsubscribe reply."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.outreach import addressbooks, mail_templates, mailing, sending
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import confirm_action, flash, human_size, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_dt, kept_upload, show_error, xlsx_download

PICK = "mail.pick"
NEXT = "mail.next"  # set after the picker was drawn; applied on the next run
NEW = 0


def _status(code: str, table: dict[str, tuple[str, str]]) -> str:
    ru, en = table.get(code, (code, code))
    return ru if lang() == "ru" else en


def mailings_table(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """All mailings the actor sees, with status and counts, and an Excel export."""
    items = mailing.list_mailings(store, actor)
    if not items:
        st.info(tr("Рассылок пока нет — создайте первую ниже.",
                   "No mailings yet — create the first one below."))
        return items
    heads = ["№", tr("Тема", "Subject"), tr("Адресная книга", "Address book"),
             tr("Статус", "Status"), tr("Всего", "Total"), tr("Отправлено", "Sent"),
             tr("Ошибок", "Failed"), tr("Пропущено", "Skipped"), tr("Создана", "Created"),
             tr("Автор", "Author")]
    rows = [[m["id"], m["subject"], m["book_name"], _status(m["status"], mailing.STATUSES),
             m["counts"]["total"], m["counts"]["sent"], m["counts"]["failed"],
             m["counts"]["skipped"], fmt_dt(m["created_at"]), m["owner_name"]] for m in items]
    st.dataframe([dict(zip(heads, r, strict=True)) for r in rows], hide_index=True,
                 width="stretch", key="mail.table")
    from clientplus_core.clients.export import rows_to_xlsx

    xlsx_download(tr("Скачать Excel", "Download Excel"), rows_to_xlsx(heads, rows, "Рассылки"),
                  "рассылки.xlsx", key="mail.table.xlsx")
    return items


def choose(items: list[dict[str, Any]]) -> int:
    """The mailing to work on (``NEW`` for a new one)."""
    ids = [NEW, *[m["id"] for m in items]]
    by_id = {m["id"]: m for m in items}
    if NEXT in st.session_state:
        st.session_state[PICK] = st.session_state.pop(NEXT)
    if st.session_state.get(PICK) not in ids:
        st.session_state[NEXT] = NEW

    def label(i: int) -> str:
        if i == NEW:
            return tr("+ Новая рассылка", "+ New mailing")
        m = by_id[i]
        return f"№{i} · {m['subject']}"

    return int(st.selectbox(tr("Рассылка", "Mailing"), ids, key=PICK, format_func=label))


def cheat_sheet() -> None:
    with st.expander(tr("Поля для подстановки", "Personal fields")):
        st.markdown("\n".join(f"- `{code}` — {md_escape(text)}"
                              for code, text in mail_templates.field_help()))
        st.caption(tr("Пример: «Здравствуйте, {{ contact.first_name or client.name }}!». "
                      "Строка отписки добавляется в конец письма сама, если её нет.",
                      "Example: «Hello, {{ contact.first_name or client.name }}!». The "
                      "unsubscribe line is appended if the text lacks it."))


def editor(store: Store, actor: Actor, m: dict[str, Any] | None) -> None:
    """Create a mailing or edit a draft."""
    p = f"mail.{m['id'] if m else 'new'}.{m['version'] if m else 0}"
    books = addressbooks.list_books(store, actor)
    book_ids = [b["id"] for b in books]
    names = {b["id"]: b["name"] for b in books}
    if not books:
        st.warning(tr("Сначала создайте адресную книгу (страница «Адресные книги»).",
                      "Create an address book first (the «Address books» page)."))
        return
    current = m["book_id"] if m and m["book_id"] in book_ids else book_ids[0]
    book = st.selectbox(tr("Адресная книга", "Address book"), book_ids,
                        index=book_ids.index(current), key=f"{p}.book",
                        format_func=lambda i: names[i])
    subject = st.text_input(tr("Тема письма", "Subject"), value=m["subject"] if m else "",
                            key=f"{p}.subject",
                            placeholder=tr("Счёт для {{ client.name }}", "Invoice for …"))
    body = st.text_area(tr("Текст письма", "Message text"), value=m["body_text"] if m else "",
                        height=200, key=f"{p}.body_text")
    with st.expander(tr("HTML-версия (необязательно)", "HTML version (optional)")):
        html = st.text_area("HTML", value=m["body_html"] if m else "", height=150,
                            key=f"{p}.body_html",
                            help=tr("Простой HTML: <p>, <b>, <a>… Данные клиента экранируются.",
                                    "Simple HTML; client data is escaped."))
    invoice = st.checkbox(tr("Приложить счёт по продаже получателя", "Attach the recipient's "
                             "sale invoice"), value=bool(m and m["attach_invoice"]),
                          key=f"{p}.invoice",
                          help=tr("Для книг по продажам (например, «выставлен счёт, не "
                                  "оплачено»): последний счёт продажи или новый.",
                                  "For sale-based books: the sale's latest invoice or a new one."))
    cheat_sheet()
    data = {"book_id": book, "subject": subject, "body_text": body, "body_html": html,
            "attach_invoice": invoice}
    if st.button(tr("Сохранить рассылку", "Save mailing"), key=f"{p}.save", type="primary",
                 icon=":material/save:"):
        try:
            if m is None:
                saved = mailing.create(store, actor, data)
                st.session_state[NEXT] = saved["id"]
            else:
                saved = mailing.update(store, actor, m["id"], data, m["version"])
        except UserError as exc:
            show_error(exc)
            return
        flash(tr(f"Рассылка №{saved['id']} сохранена", f"Mailing #{saved['id']} saved"))
        st.rerun()


def attachments(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    st.markdown("**" + tr("Вложения", "Attachments") + "**")
    draft = m["status"] == "draft"
    for a in m["attachments"]:
        c1, c2 = st.columns([4, 1])
        c1.write(f"📎 {md_escape(a['name'])} ({human_size(a['size'])})")
        if draft and c2.button(tr("Убрать", "Remove"), key=f"mail.att.del.{a['id']}"):
            mailing.remove_attachment(store, actor, m["id"], a["id"])
            st.rerun()
    if not draft:
        return
    limit = mailing.attachment_limit(store)
    up = kept_upload(tr(f"Файл (до {human_size(limit)} на все вложения)",
                        f"File (up to {human_size(limit)} in total)"), f"mail.upload.{m['id']}")
    if up and st.button(tr("Прикрепить файл", "Attach file"), key=f"mail.attach.{m['id']}",
                        icon=":material/attach_file:"):
        try:
            mailing.add_attachment(store, actor, m["id"], up[0], up[1])
        except UserError as exc:
            show_error(exc)
            return
        st.session_state.pop(f"mail.upload.{m['id']}", None)
        flash(tr(f"Файл «{up[0]}» прикреплён", f"«{up[0]}» attached"))
        st.rerun()


def preview(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    """The message as a chosen recipient will get it."""
    try:
        recs = mailing.recipients(store, actor, m["id"])
    except UserError as exc:
        show_error(exc)
        return
    recs = [r for r in recs if "@" in r["email"] and r.get("status") != "skipped"]
    if not recs:
        st.warning(tr("В адресной книге нет получателей с e-mail.",
                      "The address book has no recipients with an e-mail."))
        return
    st.caption(tr(f"Получателей: {len(recs)}", f"Recipients: {len(recs)}"))
    idx = st.selectbox(tr("Предпросмотр для получателя", "Preview for recipient"),
                       range(len(recs)), key=f"mail.preview.{m['id']}",
                       format_func=lambda i: f"{recs[i]['email']} — {recs[i]['name']}")
    try:
        p = mailing.preview(store, actor, m["id"], recs[int(idx)])
    except UserError as exc:
        show_error(exc)
        return
    with st.container(border=True):
        st.markdown(f"**{tr('Кому', 'To')}:** {md_escape(p['name'])} <{md_escape(p['to'])}>  \n"
                    f"**{tr('Тема', 'Subject')}:** {md_escape(p['subject'])}")
        st.text(p["text"])
        if p["html"]:
            with st.expander(tr("HTML-версия", "HTML version")):
                st.html(p["html"])
        if p["attachments"]:
            st.caption(tr("Вложения: ", "Attachments: ") + ", ".join(p["attachments"]))


def test_send(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    from clientplus_core.team import users

    mine = next((u["email"] for u in users.list_users(store) if u["id"] == actor.id), "")
    c1, c2 = st.columns([3, 2], vertical_alignment="bottom")
    to = c1.text_input(tr("Адрес для теста", "Test address"), value=mine,
                       key=f"mail.test.to.{m['id']}")
    if c2.button(tr("Тестовое письмо себе", "Test e-mail to myself"),
                 key=f"mail.test.{m['id']}", icon=":material/outgoing_mail:"):
        try:
            with st.spinner(tr("Отправляем…", "Sending…")):
                st.success(mailing.test_send(store, actor, m["id"], to))
        except UserError as exc:
            show_error(exc)


def _run(store: Store, actor: Actor, m: dict[str, Any], resume: bool) -> None:
    bar = st.progress(0.0, text=tr("Подключаемся к почтовому серверу…", "Connecting…"))

    def progress(done: int, total: int, rec: dict[str, Any]) -> None:
        bar.progress(done / total if total else 1.0,
                     text=tr(f"Обработано {done} из {total}: {rec['email']}",
                             f"Processed {done} of {total}: {rec['email']}"))

    try:
        result = sending.send(store, actor, m["id"], resume=resume, progress=progress)
    except UserError as exc:
        bar.empty()
        show_error(exc)
        return
    summary = tr(f"Отправлено {result['sent']}, ошибок {result['failed']}, пропущено "
                 f"{result['skipped']}", f"Sent {result['sent']}, failed {result['failed']}, "
                 f"skipped {result['skipped']}")
    if result["interrupted"]:
        flash(tr(f"Рассылка прервана: {result['interrupted']}. {summary}. Нажмите «Продолжить».",
                 f"Interrupted: {result['interrupted']}. {summary}. Press «Continue»."),
              "warning")
    else:
        flash(tr(f"Рассылка отправлена. {summary}.", f"Mailing sent. {summary}."))
    st.rerun()


def send(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    """«Отправить» with a confirmation, or «Продолжить» for an interrupted mailing."""
    if not can(actor, "mailing.send"):
        return
    go = f"mail.go.{m['id']}"
    if m["status"] == "draft":
        confirm_action(tr("Отправить", "Send"),
                       tr("Отправить рассылку всем получателям адресной книги? Каждый получит "
                          "одно письмо. Не уходите со страницы до конца отправки; если она "
                          "прервётся, нажмите «Продолжить» — повторно никому не отправим.",
                          "Send the mailing to everyone in the address book? Stay on the page "
                          "until it finishes; if it stops, press «Continue»."),
                       tr("Да, отправить", "Yes, send"), f"mail.send.{m['id']}",
                       lambda: st.session_state.__setitem__(go, "send"), icon=":material/send:")
    elif m["status"] in ("sending", "interrupted"):
        if m["last_error"]:
            st.warning(tr("Рассылка прервана: ", "Interrupted: ") + md_escape(m["last_error"]))
        if st.button(tr("Продолжить", "Continue"), key=f"mail.resume.{m['id']}",
                     type="primary", icon=":material/play_arrow:"):
            st.session_state[go] = "resume"
    action = st.session_state.pop(go, None)
    if action:
        _run(store, actor, m, resume=action == "resume")


def log_table(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    rows = mailing.log(store, actor, m["id"])
    c = m["counts"]
    st.markdown(tr(f"**Журнал отправки** — всего {c['total']}: отправлено {c['sent']}, ошибок "
                   f"{c['failed']}, пропущено {c['skipped']}, в очереди "
                   f"{c['queued'] + c['sending']}",
                   f"**Send log** — total {c['total']}: sent {c['sent']}, failed {c['failed']}, "
                   f"skipped {c['skipped']}, queued {c['queued'] + c['sending']}"))
    if not rows:
        st.caption(tr("Рассылка ещё не отправлялась.", "Not sent yet."))
        return
    heads = ["№", tr("Адрес", "Address"), tr("Получатель", "Recipient"), tr("Клиент", "Client"),
             tr("Продажа", "Sale"), tr("Статус", "Status"),
             tr("Ответ сервера / причина", "Server answer / reason"), tr("Отправлено", "Sent at")]
    table = [[i, r["email"], r["name"], r["client_name"] or "", r["sale_number"] or "",
              _status(r["status"], mailing.RECIPIENT_STATUSES), r["detail"], fmt_dt(r["sent_at"])]
             for i, r in enumerate(rows, 1)]
    st.dataframe([dict(zip(heads, r, strict=True)) for r in table], hide_index=True,
                 width="stretch", key=f"mail.log.{m['id']}")
    xlsx_download(tr("Журнал в Excel", "Log to Excel"), mailing.export_log(store, actor, m["id"]),
                  f"рассылка-{m['id']}-журнал.xlsx", key=f"mail.log.xlsx.{m['id']}")


def manage(store: Store, actor: Actor, m: dict[str, Any]) -> None:
    """Copy (for a sent mailing) and removal with confirmation."""
    c1, c2 = st.columns(2)
    if m["status"] != "draft" and c1.button(tr("Создать копию", "Make a copy"),
                                            key=f"mail.copy.{m['id']}",
                                            icon=":material/content_copy:"):
        new = mailing.copy(store, actor, m["id"])
        st.session_state[NEXT] = new["id"]
        flash(tr(f"Создана копия: рассылка №{new['id']}", f"Copied: mailing #{new['id']}"))
        st.rerun()

    def delete() -> None:
        try:
            mailing.delete(store, actor, m["id"])
        except UserError as exc:
            show_error(exc)
            return
        st.session_state[NEXT] = NEW
        flash(tr(f"Рассылка №{m['id']} удалена", f"Mailing #{m['id']} deleted"))
        st.rerun()

    with c2:
        confirm_action(tr("Удалить рассылку", "Remove mailing"),
                       tr(f"Удалить рассылку №{m['id']} «{m['subject']}»?",
                          f"Remove mailing #{m['id']}?"),
                       tr("Да, удалить", "Yes, delete"), f"mail.delete.{m['id']}", delete)


def unsubscribe_box(store: Store, actor: Actor) -> None:
    """Record an opt-out from a reply «unsubscribe CODE»."""
    with st.expander(tr("Обработать отписку", "Process an unsubscribe reply")):
        st.caption(tr("Вставьте тему письма-ответа («unsubscribe …») или код отписки: адрес "
                      "попадёт в реестр отказов, и следующие рассылки его пропустят.",
                      "Paste the reply's subject («unsubscribe …») or the code."))
        text = st.text_input(tr("Тема письма или код", "Subject or code"), key="mail.unsub")
        if st.button(tr("Записать отказ", "Record opt-out"), key="mail.unsub.go"):
            try:
                got = sending.unsubscribe(store, text, actor)
            except UserError as exc:
                show_error(exc)
                return
            st.success(tr(f"Отказ от рассылки записан: {got['email']}",
                          f"Opt-out recorded: {got['email']}"))
