"""Administration widgets: users, the audit trail, the bin of deleted clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from clientplus_core import sales
from clientplus_core.base.errors import UserError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import files
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.store.db import Store
from clientplus_core.team import access, audit, auth, users
from clientplus_core.team.access import ROLES, Actor, can
from clientplus_ui import audit_text
from clientplus_ui.common import confirm_action, kind_label
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_dt, show_error, xlsx_download


def role_label(role: str) -> str:
    return access.role_label(role, lang())


def action_label(action: str) -> str:
    return audit_text.action_label(action)


def users_table(store: Store) -> list[dict[str, Any]]:
    rows = users.list_users(store)
    st.dataframe([{tr("Логин", "Login"): u["login"], tr("Имя", "Name"): u["full_name"],
                   tr("Роль", "Role"): role_label(u["role"]), "E-mail": u["email"],
                   tr("Активен", "Active"): bool(u["is_active"])} for u in rows],
                 hide_index=True, width="stretch")
    return rows


def add_user_form(store: Store, actor: Actor) -> None:
    with st.form("users.add", clear_on_submit=False):
        st.subheader(tr("Новый пользователь", "New user"))
        c1, c2 = st.columns(2)
        login = c1.text_input(tr("Логин", "Login"), key="users.add.login")
        name = c2.text_input(tr("Имя", "Name"), key="users.add.name")
        role = c1.selectbox(tr("Роль", "Role"), ROLES, index=2, format_func=role_label,
                            key="users.add.role")
        password = c2.text_input(tr("Временный пароль (не короче 8 символов)",
                                    "Temporary password (8+ characters)"), type="password",
                                 key="users.add.password")
        submitted = st.form_submit_button(tr("Добавить", "Add"), type="primary")
    if submitted:
        try:
            new = auth.add_user(store, actor, login, password, role, name)
            auth.force_password_change(store, actor, new.id)
        except UserError as exc:
            show_error(exc)
            return
        st.success(tr(f"Пользователь {new.login} добавлен; при первом входе он сменит пароль",
                      f"User {new.login} added; they will change the password at first sign-in"))


def user_actions(store: Store, actor: Actor, rows: list[dict[str, Any]]) -> None:
    st.subheader(tr("Действия", "Actions"))
    logins = [u["login"] for u in rows]
    login = st.selectbox(tr("Пользователь", "User"), logins, key="users.pick")
    target = next((u for u in rows if u["login"] == login), None)
    if target is None:
        return
    c1, c2, c3 = st.columns(3)
    if c1.button(tr("Сбросить пароль", "Reset password"), key="users.reset"):
        try:
            temp = auth.reset_password(store, actor, target["id"])
            st.session_state["users.temp"] = (target["login"], temp)
        except UserError as exc:
            show_error(exc)
    if target["is_active"]:
        with c2:
            confirm_action(tr("Отключить", "Deactivate"),
                           tr(f"Отключить {target['login']}? Войти он больше не сможет.",
                              f"Deactivate {target['login']}? They will not be able to sign in."),
                           tr("Да, отключить", "Yes, deactivate"), "users.deactivate",
                           lambda: _set_active(store, actor, target["id"], False),
                           icon=":material/block:")
    elif c2.button(tr("Включить", "Activate"), key="users.activate"):
        _set_active(store, actor, target["id"], True)
    if c3.button(tr("Потребовать смену пароля", "Force password change"), key="users.force"):
        auth.force_password_change(store, actor, target["id"])
        st.success(tr("При следующем входе пароль нужно будет сменить",
                      "The password must be changed at the next sign-in"))
    temp = st.session_state.pop("users.temp", None)
    if temp:
        st.info(tr(f"Временный пароль для {temp[0]}: ", f"Temporary password for {temp[0]}: ")
                + f"`{temp[1]}`" + tr(" — передайте его лично; он показан один раз.",
                                      " — hand it over in person; it is shown once."))


def _set_active(store: Store, actor: Actor, user_id: int, active: bool) -> None:
    try:
        auth.set_active(store, actor, user_id, active)
    except UserError as exc:
        show_error(exc)
        return
    st.rerun()


def audit_view(store: Store, actor: Actor) -> None:
    """Filters, the table and an Excel export of the audit trail (read-only)."""
    c1, c2, c3, c4 = st.columns(4)
    logins = [""] + [u["login"] for u in users.list_users(store)]
    login = c1.selectbox(tr("Кто", "Who"), logins, key="audit.login",
                         format_func=lambda v: v or tr("все", "all"))
    actions = [""] + audit.actions(store)
    action = c2.selectbox(tr("Действие", "Action"), actions, key="audit.action",
                          format_func=lambda v: action_label(v) if v else tr("все", "all"))
    d_from = c3.date_input(tr("С", "From"), value=None, key="audit.from", format="DD.MM.YYYY")
    d_to = c4.date_input(tr("По", "To"), value=None, key="audit.to", format="DD.MM.YYYY")
    text = st.text_input(tr("Текст", "Text"), key="audit.text")
    rows = audit.query(store, actor, login=login or None, action=action or None,
                       date_from=d_from.isoformat() if d_from else None,
                       date_to=d_to.isoformat() if d_to else None, text=text or None)
    people = users.list_users(store)
    names = {u["id"]: u["full_name"] or u["login"] for u in people}
    logins = {u["id"]: u["login"] for u in people}
    headers = [tr("Когда", "When"), tr("Кто", "Who"), tr("Действие", "Action"),
               tr("Объект", "Object"), tr("Что произошло", "What happened")]
    labels = audit_text.status_rows(store)
    table = [[fmt_dt(r["at"]), r["actor_login"] if r["actor_login"] != "system"
              else tr("система", "system"), action_label(r["action"]),
              audit_text.object_label(r, logins), audit_text.sentence(r, names, labels)]
             for r in rows]
    st.caption(tr(f"Записей: {len(rows)} (последние 1000)", f"Entries: {len(rows)} (last 1000)"))
    audit_text.show([dict(zip(headers, row, strict=True)) for row in table])
    if table:
        xlsx_download(tr("Скачать Excel", "Download Excel"), rows_to_xlsx(headers, table),
                      "audit.xlsx", "audit.xlsx")


def _bin_row(label: str, deleted_at: str, key: str, restore: Callable[[], None]) -> None:
    c1, c2, c3 = st.columns([5, 2, 1])
    c1.text(label)
    c2.text(tr("удалён ", "deleted ") + fmt_dt(deleted_at))
    if c3.button(tr("Восстановить", "Restore"), key=key):
        try:
            restore()
        except UserError as exc:
            show_error(exc)
        else:
            st.rerun()


def bin_view(store: Store, actor: Actor) -> None:
    """Deleted clients, sales and files, with a restore button each."""
    rows = clients.list_deleted(store, actor)
    deleted_files = files.list_deleted(store, actor)
    deleted_sales = sales.list_deleted(store, actor) if can(actor, "sale.restore") else []
    if not rows and not deleted_files and not deleted_sales:
        st.info(tr("Корзина пуста", "The bin is empty"))
        return
    if deleted_sales:
        st.subheader(tr("Продажи", "Sales"))
    for s in deleted_sales:
        _bin_row(f"№{s['number']} · {s['client_name']} · {s['title'] or ''}".rstrip(" ·"),
                 s["deleted_at"], f"bin.sale.{s['id']}",
                 lambda sid=s["id"]: sales.restore(store, actor, sid))
    if deleted_files:
        st.subheader(tr("Файлы", "Files"))
    for f in deleted_files:
        _bin_row(f"{f['name']} · {f['client_name']}", f["deleted_at"], f"bin.file.{f['id']}",
                 lambda fid=f["id"]: files.restore(store, actor, fid))
    if rows:
        st.subheader(tr("Клиенты", "Clients"))
    for r in rows:
        _bin_row(f"№{r['id']} · {kind_label(r['kind'])} · {r['name']}", r["deleted_at"],
                 f"bin.restore.{r['id']}", lambda cid=r["id"]: clients.restore(store, actor, cid))
