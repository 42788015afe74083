"""The address-book page's parts: the list of books, the criteria form (create and
edit), the recipients preview with the skipped list, manual additions and
removals, and the «Телефоны: SMS и обзвон» section with its downloads."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.analytics import segments
from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.clients.cards import ClientFilter
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import phones
from clientplus_core.outreach.criteria import CRITERIA
from clientplus_core.sales import catalogue
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import confirm_action, flash, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import show_error, xlsx_download

CSV_MIME = "text/csv"
SECTIONS = {"recipients": ("Получатели", "Recipients"), "phones": ("Телефоны: SMS и обзвон",
                                                                   "Phones: SMS and calls"),
            "manual": ("Добавить / убрать вручную", "Add / remove by hand"),
            "edit": ("Условия", "Criteria")}


def _t(pair: tuple[str, str]) -> str:
    return pair[0] if lang() == "ru" else pair[1]


def _names(store: Store, actor: Actor) -> dict[str, dict[int, str]]:
    owners = {u["id"]: u["full_name"] or u["login"] for u in users.list_users(store)
              if u["is_active"] and u["role"] in ("admin", "head", "manager")}
    items = {i["id"]: i["name"] for i in catalogue.list_items(store, actor, limit=500)} \
        if can(actor, "sale.read") else {}
    return {"owner_id": owners, "product_id": items}


def book_list(store: Store, actor: Actor) -> int | None:
    """The books with their criteria; returns the id of the book picked to open."""
    books = ab.list_books(store, actor)
    if not books:
        st.info(tr("Адресных книг пока нет — создайте первую ниже.",
                   "No address books yet — create the first one below."))
        return None
    names = _names(store, actor)
    kind = {k: _t(v) for k, v in ab.KINDS.items()}
    chans = {k: _t(v) for k, v in ab.CHANNELS.items()}
    heads = [tr("Название", "Name"), tr("Вид", "Kind"), tr("Условия", "Criteria"),
             tr("Адреса", "Addresses"), tr("Добавлено вручную", "Added by hand"),
             tr("Убрано вручную", "Removed by hand"), tr("Автор", "Owner")]
    rows = [[b["name"], kind[b["kind"]], ab.describe(b["criteria"], names), chans[b["channels"]],
             b["counts"]["included"], b["counts"]["excluded"], b["owner"]] for b in books]
    st.dataframe([dict(zip(heads, r, strict=True)) for r in rows], hide_index=True,
                 width="stretch", key="ab.list")
    from clientplus_core.clients.export import rows_to_xlsx

    xlsx_download(tr("Скачать список книг (Excel)", "Download the list (Excel)"),
                  rows_to_xlsx(heads, rows, sheet="Книги"), "address-books.xlsx",
                  key="ab.list.xlsx")
    by_id = {b["id"]: b for b in books}
    picked = st.selectbox(tr("Открыть книгу", "Open a book"), list(by_id), index=None,
                          key="ab.pick", placeholder=tr("Выберите книгу", "Choose a book"),
                          format_func=lambda i: by_id[i]["name"])
    return int(picked) if picked is not None else None


def criteria_inputs(store: Store, actor: Actor, prefix: str,
                    current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The criteria widgets (inside a form); returns the criteria dict."""
    cur = current or {}
    names = _names(store, actor)
    crit: dict[str, Any] = {}
    c1, c2 = st.columns(2)
    segs = [s["name"] for s in segments.list_segments(store, actor)]
    if cur.get("segment") and cur["segment"] not in segs:
        segs.append(cur["segment"])
    seg = c1.selectbox(tr("Сегмент", "Segment"), ["", *segs], key=f"{prefix}.segment",
                       index=(segs.index(cur["segment"]) + 1) if cur.get("segment") else 0,
                       format_func=lambda s: s or tr("— любой —", "— any —"))
    if seg:
        crit["segment"] = seg
    owners = names["owner_id"]
    owner = c2.selectbox(tr("Клиенты менеджера", "Clients of manager"), [0, *owners],
                         key=f"{prefix}.owner",
                         index=([0, *owners].index(cur["owner_id"])
                                if cur.get("owner_id") in owners else 0),
                         format_func=lambda i: owners.get(i, tr("— любого —", "— any —")))
    if owner:
        crit["owner_id"] = owner
    items = names["product_id"]
    product = st.selectbox(
        tr("Интересовался товаром (продажа с ним не дошла до оплаты)",
           "Interested in a product (its sale never reached paid)"), [0, *items],
        key=f"{prefix}.product",
        index=[0, *items].index(cur["product_id"]) if cur.get("product_id") in items else 0,
        format_func=lambda i: items.get(i, tr("— не важно —", "— any —")))
    if product:
        crit["product_id"] = product
    c3, c4, c5 = st.columns(3)
    if c3.checkbox(_t(CRITERIA["invoiced_unpaid"]), value=bool(cur.get("invoiced_unpaid")),
                   key=f"{prefix}.invoiced"):
        crit["invoiced_unpaid"] = True
    if c4.checkbox(_t(CRITERIA["birthday_month"]), value=bool(cur.get("birthday_month")),
                   key=f"{prefix}.birthday",
                   help=tr("Письма и номера — только самих именинников (контакта или клиента-"
                           "физлица), не их коллег.",
                           "Mail and phone numbers of the celebrants only (the contact or the "
                           "person client), not of their colleagues.")):
        crit["birthday_month"] = True
    if c5.checkbox(_t(CRITERIA["all_clients"]), value=bool(cur.get("all_clients")),
                   key=f"{prefix}.all"):
        crit["all_clients"] = True
    c6, c7 = st.columns(2)
    on = c6.checkbox(tr("Просрочка оплаты больше, дней", "Payment overdue more than, days"),
                     value="overdue_days" in cur, key=f"{prefix}.overdue.on")
    days = c6.number_input(tr("Дней просрочки", "Days overdue"), min_value=0, step=1,
                           value=int(cur.get("overdue_days", 30)), key=f"{prefix}.overdue")
    if on:
        crit["overdue_days"] = int(days)
    on = c7.checkbox(tr("Нет контакта, дней", "No contact for, days"),
                     value="no_contact_days" in cur, key=f"{prefix}.nocontact.on")
    days = c7.number_input(tr("Дней без контакта", "Days without contact"), min_value=0, step=1,
                           value=int(cur.get("no_contact_days", 90)), key=f"{prefix}.nocontact")
    if on:
        crit["no_contact_days"] = int(days)
    return crit


def create_form(store: Store, actor: Actor) -> None:
    """A new book: name, live or snapshot, whose addresses, criteria (AND)."""
    if not can(actor, "addressbook.manage"):
        return
    with st.expander(tr("Создать адресную книгу", "Create an address book"),
                     icon=":material/add:", expanded=not ab.list_books(store, actor)):
        with st.form("ab.create", enter_to_submit=False):
            name = st.text_input(tr("Название книги", "Book name"), key="ab.new.name")
            c1, c2 = st.columns(2)
            kind = c1.radio(tr("Вид", "Kind"), list(ab.KINDS), key="ab.new.kind",
                            horizontal=True, format_func=lambda k: _t(ab.KINDS[k]))
            channels = c2.selectbox(tr("Адреса", "Addresses"), list(ab.CHANNELS),
                                    key="ab.new.channels",
                                    format_func=lambda k: _t(ab.CHANNELS[k]))
            st.markdown(tr("**Условия** (выполняются все выбранные)",
                           "**Criteria** (all chosen ones apply)"))
            crit = criteria_inputs(store, actor, "ab.new")
            c3, c4 = st.columns(2)
            ok = c3.form_submit_button(tr("Создать книгу", "Create book"), type="primary",
                                       icon=":material/contact_mail:")
            look = c4.form_submit_button(tr("Предпросмотр", "Preview"),
                                         icon=":material/visibility:")
        if look:
            _preview(store, actor, crit, channels)
        if ok:
            try:
                book = ab.create_book(store, actor, name, crit, kind, channels)
            except UserError as exc:
                show_error(exc)
                return
            st.session_state["ab.pick"] = book["id"]
            flash(tr(f"Книга «{md_escape(book['name'])}» создана",
                     f"Book “{md_escape(book['name'])}” created"))
            st.rerun()


def _preview(store: Store, actor: Actor, crit: dict[str, Any], channels: str) -> None:
    """Recipients of the criteria as typed, before the book is saved."""
    try:
        recipients, skipped = ab.preview(store, actor, crit, channels)
    except UserError as exc:
        show_error(exc)
        return
    st.markdown(tr(f"**Предпросмотр: получателей {len(recipients)}**, пропущено адресов: "
                   f"{len(skipped)}", f"**Preview: {len(recipients)} recipients**, "
                   f"skipped: {len(skipped)}"))
    if recipients:
        heads = [tr("E-mail", "E-mail"), tr("Имя", "Name"), tr("Клиент", "Client")]
        st.dataframe([dict(zip(heads, r[:3], strict=True))
                      for r in ab.recipient_rows(store, recipients[:200])],
                     hide_index=True, width="stretch", key="ab.new.preview")


def book_view(store: Store, actor: Actor, book_id: int) -> None:
    """One book: header, the section switch and the chosen section."""
    try:
        book = ab.get_book(store, actor, book_id)
    except UserError as exc:
        show_error(exc)
        return
    st.subheader(book["name"])
    names = _names(store, actor)
    frozen = str(book["snapshot_at"] or "")[:16].replace("T", " ")
    st.caption(f"{_t(ab.KINDS[book['kind']])} · {_t(ab.CHANNELS[book['channels']])} · "
               f"{md_escape(ab.describe(book['criteria'], names))}"
               + (f" · {tr('снимок от', 'snapshot of')} {frozen} UTC" if frozen else ""))
    section = st.radio(tr("Раздел", "Section"), list(SECTIONS), horizontal=True,
                       key="ab.section", format_func=lambda s: _t(SECTIONS[s]),
                       label_visibility="collapsed")
    if section == "recipients":
        recipients_section(store, actor, book)
    elif section == "phones":
        phones_section(store, actor, book)
    elif section == "manual":
        manual_section(store, actor, book)
    else:
        edit_section(store, actor, book)


def recipients_section(store: Store, actor: Actor, book: dict[str, Any]) -> None:
    """Preview: e-mails with client names, and the skipped addresses with reasons."""
    try:
        recipients, skipped = ab.email_recipients(store, actor, book["id"])
    except UserError as exc:
        show_error(exc)
        return
    n_clients = len({r.client_id for r in recipients})
    st.markdown(tr(f"**Получателей: {len(recipients)}** (клиентов: {n_clients}); "
                   f"пропущено адресов: {len(skipped)}",
                   f"**Recipients: {len(recipients)}** (clients: {n_clients}); "
                   f"skipped: {len(skipped)}"))
    if book["kind"] == "snapshot" and can(actor, "addressbook.manage"):
        if st.button(tr("Обновить снимок", "Refresh snapshot"), key="ab.refresh",
                     icon=":material/refresh:"):
            n = ab.refresh_snapshot(store, actor, book["id"])
            flash(tr(f"Снимок обновлён: клиентов {n}", f"Snapshot refreshed: {n} clients"))
            st.rerun()
    heads = [tr("E-mail", "E-mail"), tr("Имя", "Name"), tr("Клиент", "Client"),
             tr("Клиент №", "Client #"), tr("Контакт №", "Contact #"), tr("Продажа №", "Sale #")]
    if recipients:
        rows = ab.recipient_rows(store, recipients)
        st.dataframe([dict(zip(heads, r, strict=True)) for r in rows[:2000]], hide_index=True,
                     width="stretch", key="ab.recipients")
        if len(rows) > 2000:
            st.caption(tr(f"Показаны первые 2000 из {len(rows)} — все в файле Excel.",
                          f"First 2000 of {len(rows)} shown — all in the Excel file."))
        from clientplus_core.clients.export import rows_to_xlsx

        xlsx_download(tr("Скачать получателей (Excel)", "Download recipients (Excel)"),
                      rows_to_xlsx(ab.RECIPIENT_HEADERS, rows, sheet="Получатели"),
                      f"recipients-{book['id']}.xlsx", key="ab.recipients.xlsx")
    else:
        st.info(tr("В книге нет ни одного адреса, которому можно писать.",
                   "The book has no address that may be written to."))
    if skipped:
        st.markdown(tr("**Пропущены**", "**Skipped**"))
        sheads = [tr("Адрес", "Address"), tr("Причина", "Reason"), tr("Клиент", "Client"),
                  tr("Клиент №", "Client #"), tr("Контакт №", "Contact #")]
        srows = ab.skipped_rows(store, skipped)
        st.dataframe([dict(zip(sheads, r, strict=True)) for r in srows[:2000]],
                     hide_index=True, width="stretch", key="ab.skipped")
        xlsx_download(tr("Скачать пропущенных (Excel)", "Download skipped (Excel)"),
                      ab.skipped_xlsx(store, skipped), f"skipped-{book['id']}.xlsx",
                      key="ab.skipped.xlsx")


def phones_section(store: Store, actor: Actor, book: dict[str, Any]) -> None:
    """«Телефоны: SMS и обзвон»: a list for SMS (bare E.164) or for calls (extensions
    kept), mobile-only switch, drops by reason, downloads."""
    if not can(actor, "phones.export"):
        st.info(tr("Выгрузка телефонов недоступна вашей роли.",
                   "Your role may not export phone lists."))
        return
    purpose = st.radio(tr("Список", "List"), phones.PURPOSES, horizontal=True,
                       key="ab.phones.purpose",
                       format_func=lambda p: tr("для SMS (без добавочных)",
                                                "for SMS (no extensions)") if p == "sms"
                       else tr("для обзвона (с добавочными)", "for calls (with extensions)"))
    mobile = st.toggle(tr("Только мобильные", "Mobiles only"), key="ab.phones.mobile")
    try:
        result = phones.for_book(store, actor, book["id"], mobile_only=mobile,
                                 purpose=purpose)
    except UserError as exc:
        show_error(exc)
        return
    st.markdown(tr(f"**Номеров: {len(result.rows)}**; отброшено: {result.dropped_total}",
                   f"**Numbers: {len(result.rows)}**; dropped: {result.dropped_total}"))
    summary = phones.dropped_summary(result)
    if summary:
        st.dataframe([{tr("Причина", "Reason"): r, tr("Номеров", "Numbers"): n}
                      for r, n in summary], hide_index=True, key="ab.phones.dropped")
    if result.rows:
        st.dataframe([dict(zip(result.headers, r, strict=True)) for r in result.rows[:500]],
                     hide_index=True, width="stretch", key="ab.phones.table")
        c1, c2 = st.columns(2)
        what = tr("для SMS", "for SMS") if purpose == "sms" else tr("для обзвона", "for calls")
        stem = "sms" if purpose == "sms" else "calls"
        with c1:
            xlsx_download(tr(f"Скачать {what} (Excel)", f"Download {what} (Excel)"),
                          phones.to_xlsx(result), f"{stem}-{book['id']}.xlsx",
                          key="ab.phones.xlsx")
        c2.download_button(tr(f"Скачать {what} (CSV)", f"Download {what} (CSV)"),
                           phones.to_csv(result), file_name=f"{stem}-{book['id']}.csv",
                           mime=CSV_MIME, key="ab.phones.csv", icon=":material/download:")
    if result.dropped_rows:
        with st.expander(tr("Отброшенные номера", "Dropped numbers")):
            st.dataframe([{tr("Номер", "Number"): r[0], tr("Причина", "Reason"): r[1],
                           tr("Клиент", "Client"): r[2], tr("Контакт", "Contact"): r[3]}
                          for r in result.dropped_rows[:2000]], hide_index=True,
                         width="stretch", key="ab.phones.dropped_rows")


def manual_section(store: Store, actor: Actor, book: dict[str, Any]) -> None:
    """Find clients by name and add them to / remove them from the book by hand."""
    if not can(actor, "addressbook.manage"):
        return
    q = st.text_input(tr("Найти клиента", "Find a client"), key="ab.manual.q",
                      placeholder=tr("Наименование, ИНН, телефон…", "Name, INN, phone…"))
    if q.strip():
        found = clients.list_clients(store, actor, ClientFilter(query=q.strip()), 1, 30).rows
        opts = {c["id"]: c["name"] for c in found}
        picked = st.multiselect(tr("Клиенты", "Clients"), list(opts), key="ab.manual.pick",
                                format_func=lambda i: opts.get(i, str(i)),
                                placeholder=tr("Выберите…", "Choose…"))
        c1, c2 = st.columns(2)
        if c1.button(tr("Добавить в книгу", "Add to book"), key="ab.manual.add",
                     disabled=not picked, icon=":material/person_add:"):
            n = ab.add_clients(store, actor, book["id"], picked)
            flash(tr(f"Добавлено вручную: {n}", f"Added by hand: {n}"))
            st.rerun()
        if c2.button(tr("Убрать из книги", "Remove from book"), key="ab.manual.remove",
                     disabled=not picked, icon=":material/person_remove:"):
            n = ab.remove_clients(store, actor, book["id"], picked)
            flash(tr(f"Убрано вручную: {n}", f"Removed by hand: {n}"))
            st.rerun()
    members = ab.manual_members(store, actor, book["id"])
    if members:
        mode = {"include": tr("добавлен", "added"), "exclude": tr("убран", "removed")}
        st.dataframe([{tr("Клиент", "Client"): m["name"], tr("Отметка", "Mark"): mode[m["mode"]]}
                      for m in members], hide_index=True, width="stretch", key="ab.manual.list")
        by_id = {m["client_id"]: m["name"] for m in members}
        clear = st.multiselect(tr("Снять ручную отметку", "Clear the manual mark"), list(by_id),
                               key="ab.manual.clear", format_func=lambda i: by_id.get(i, str(i)),
                               placeholder=tr("Выберите…", "Choose…"))
        if st.button(tr("Снять отметку", "Clear mark"), key="ab.manual.clear.go",
                     disabled=not clear):
            ab.set_manual(store, actor, book["id"], clear, "clear")
            flash(tr("Ручные отметки сняты", "Manual marks cleared"))
            st.rerun()
    else:
        st.caption(tr("Ручных изменений нет: книга = условия.",
                      "No manual changes: the book is its criteria."))


def edit_section(store: Store, actor: Actor, book: dict[str, Any]) -> None:
    """Change the name, criteria or addresses; remove the book (with a confirmation)."""
    if not can(actor, "addressbook.manage"):
        st.caption(md_escape(ab.describe(book["criteria"], _names(store, actor))))
        return
    prefix = f"ab.edit.{book['id']}.{book['version']}"
    with st.form(prefix, enter_to_submit=False):
        name = st.text_input(tr("Название книги", "Book name"), value=book["name"],
                             key=f"{prefix}.name")
        channels = st.selectbox(tr("Адреса", "Addresses"), list(ab.CHANNELS),
                                index=list(ab.CHANNELS).index(book["channels"]),
                                key=f"{prefix}.channels",
                                format_func=lambda k: _t(ab.CHANNELS[k]))
        crit = criteria_inputs(store, actor, prefix, book["criteria"])
        ok = st.form_submit_button(tr("Сохранить условия", "Save criteria"), type="primary")
    if book["kind"] == "snapshot":
        st.caption(tr("Книга-снимок: новые условия применятся после «Обновить снимок».",
                      "A snapshot: new criteria apply after “Refresh snapshot”."))
    if ok:
        try:
            ab.update_book(store, actor, book["id"], version=book["version"], name=name,
                           criteria=crit, channels=channels)
        except UserError as exc:
            show_error(exc)
            return
        flash(tr("Книга сохранена", "Book saved"))
        st.rerun()

    def remove() -> None:
        try:
            ab.delete_book(store, actor, book["id"])
        except UserError as exc:
            show_error(exc)
            return
        st.session_state.pop("ab.pick", None)
        flash(tr(f"Книга «{md_escape(book['name'])}» удалена", "Book deleted"))
        st.rerun()

    confirm_action(tr("Удалить книгу", "Remove book"),
                   tr(f"Удалить адресную книгу «{book['name']}»? Клиенты не пострадают.",
                      f"Remove the address book “{book['name']}”? Clients are not touched."),
                   tr("Да, удалить", "Yes, delete"), "ab.delete", remove)
