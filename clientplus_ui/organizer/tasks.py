"""The organizer's parts: the «Задачи» page (tabs Сегодня / Просрочено / Неделя /
По исполнителям / Календарь), a task list with its actions and Excel export, the
create / edit form, the «Задачи» tab of the client and sale cards, and the
reminder badge in the sidebar.

Session-state keys start with the ``prefix`` each part is given (``tasks.today``,
``ctasks.12`` …), so two lists on one page never share widgets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.organizer import task_time, tasks
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import card_tabs, confirm_action, flash, md_escape
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import client_picker, forget_zone, show_error, xlsx_download

MONTHS_RU = ("Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август",
             "Сентябрь", "Октябрь", "Ноябрь", "Декабрь")
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December")
WEEKDAYS = (("Пн", "Mon"), ("Вт", "Tue"), ("Ср", "Wed"), ("Чт", "Thu"), ("Пт", "Fri"),
            ("Сб", "Sat"), ("Вс", "Sun"))
PRIORITY_MARK = {"high": "●", "normal": "", "low": "○"}  # in every font: no emoji


def _label(pair: tuple[str, str]) -> str:
    return tr(*pair)


def _i() -> int:
    return 0 if lang() == "ru" else 1


# --- the form ----------------------------------------------------------------------------


def _gen(prefix: str) -> int:
    return int(st.session_state.get(f"{prefix}.gen", 0))


def task_form(store: Store, actor: Actor, prefix: str, task: Mapping[str, Any] | None = None,
              *, client_id: int | None = None, sale_id: int | None = None) -> bool:
    """Create (``task`` None) or edit a task; returns True once saved. A new task is
    pre-linked to ``client_id`` / ``sale_id`` (from a card)."""
    key = f"{prefix}.form.{task['id'] if task else 'new'}.{_gen(prefix)}"
    today = task_time.local_today(store)
    people = {p["id"]: p["name"] for p in tasks.assignees(store, actor)}
    if task and task["assignee_id"] not in people:
        people[task["assignee_id"]] = task.get("assignee_name") or str(task["assignee_id"])
    with st.form(key, clear_on_submit=False, border=True):
        title = st.text_input(tr("Название", "Title") + " *", value=task["title"] if task
                              else "", max_chars=200, key=f"{key}.title")
        description = st.text_area(tr("Описание", "Description"),
                                   value=task["description"] if task else "", height=80,
                                   key=f"{key}.description")
        c1, c2, c3, c4 = st.columns(4)
        due_date = c1.date_input(tr("Срок", "Due date") + " *", format="DD.MM.YYYY",
                                 value=date.fromisoformat(task["due_date"]) if task else today,
                                 key=f"{key}.due_date")
        due_time = c2.time_input(
            tr("Время (пусто — до конца дня)", "Time (empty: by the end of the day)"),
            value=datetime.strptime(task["due_time"], "%H:%M").time() if task else None,
            step=900, key=f"{key}.due_time")
        remind_date = c3.date_input(
            tr("Напомнить (дата)", "Remind on"), format="DD.MM.YYYY",
            value=date.fromisoformat(task["remind_date"]) if task and task["remind_date"]
            else None, key=f"{key}.remind_date")
        remind_time = c4.time_input(
            tr("Напомнить (время)", "Remind at"), step=900,
            value=datetime.strptime(task["remind_time"], "%H:%M").time()
            if task and task["remind_time"] else None, key=f"{key}.remind_time")
        c5, c6, c7 = st.columns(3)
        prios = list(tasks.PRIORITIES)
        priority = c5.selectbox(tr("Приоритет", "Priority"), prios,
                                index=prios.index(task["priority"]) if task else 1,
                                format_func=lambda p: _label(tasks.PRIORITIES[p]),
                                key=f"{key}.priority.{lang()}")
        ids = list(people)
        current = task["assignee_id"] if task else actor.id
        assignee = c6.selectbox(tr("Исполнитель", "Assignee"), ids,
                                index=ids.index(current) if current in ids else 0,
                                format_func=lambda i: people[i], key=f"{key}.assignee")
        reps = list(tasks.REPEATS)
        repeat = c7.selectbox(tr("Повтор", "Repeat"), reps,
                              index=reps.index(task["repeat"] or "") if task else 0,
                              format_func=lambda r: _label(tasks.REPEATS[r]),
                              key=f"{key}.repeat.{lang()}")
        linked = []
        if task and task.get("client_name"):
            linked.append(tr("клиент", "client") + f" «{task['client_name']}»")
        if task and task.get("sale_number"):
            linked.append(tr("продажа", "sale") + f" {task['sale_number']}")
        if linked:
            st.caption(md_escape(tr("Связь: ", "Linked to: ") + ", ".join(linked)))
        submitted = st.form_submit_button(
            tr("Сохранить задачу", "Save task") if task else tr("Создать задачу", "Create task"),
            type="primary", icon=":material/save:")
    if not submitted:
        return False
    data: dict[str, Any] = {"title": title, "description": description, "due_date": due_date,
                            "due_time": due_time, "remind_date": remind_date,
                            "remind_time": remind_time, "priority": priority,
                            "assignee_id": assignee, "repeat": repeat}
    try:
        if task:
            saved = tasks.update(store, actor, task["id"], data, task["version"])
            flash(tr(f"Задача «{saved['title']}» сохранена.", f"Task “{saved['title']}” saved."))
        else:
            data |= {"client_id": client_id, "sale_id": sale_id}
            saved = tasks.create(store, actor, data)
            flash(tr(f"Задача «{saved['title']}» создана: срок {saved['due_text']}.",
                     f"Task “{saved['title']}” created: due {saved['due_text']}."))
    except UserError as exc:
        show_error(exc)
        return False
    st.session_state[f"{prefix}.gen"] = _gen(prefix) + 1
    st.session_state.pop(f"{prefix}.editing", None)
    return True


# --- a list with actions -------------------------------------------------------------------


def _table(rows: Sequence[Mapping[str, Any]], key: str) -> None:
    heads, body = tasks.export_rows(rows, lang())
    if not body:
        return
    for r, line in zip(rows, body, strict=True):
        line[1] = f"{PRIORITY_MARK[r['priority']]} {line[1]}".strip()
        if r["overdue"]:
            line[0] = f"⚠ {line[0]}"
    cols = {h: [line[i] for line in body] for i, h in enumerate(heads)}
    st.dataframe(cols, hide_index=True, width="stretch", key=key)


def _act(store: Store, actor: Actor, row: Mapping[str, Any], status: str) -> None:
    try:
        out = tasks.set_status(store, actor, row["id"], status, row["version"])
    except UserError as exc:
        show_error(exc)
        return
    msg = {"done": tr("Задача выполнена", "Task done"),
           "cancelled": tr("Задача отменена", "Task cancelled"),
           "open": tr("Задача снова в работе", "Task reopened")}[status]
    if out.get("next"):
        msg += tr(f"; следующая — {out['next']['due_text']}",
                  f"; the next one is due {out['next']['due_text']}")
    flash(msg + ".")
    st.rerun()


def _delete(store: Store, actor: Actor, row: Mapping[str, Any]) -> None:
    try:
        tasks.delete(store, actor, row["id"], row["version"])
    except UserError as exc:
        show_error(exc)
        return
    flash(tr(f"Задача «{row['title']}» удалена.", f"Task “{row['title']}” deleted."))
    st.rerun()


def task_list(store: Store, actor: Actor, rows: Sequence[Mapping[str, Any]], prefix: str,
              empty: str, file_name: str = "tasks.xlsx") -> None:
    """The table, Excel export, and actions on one chosen task (done, cancel, reopen,
    edit, removal with confirmation)."""
    if not rows:
        st.info(empty)
        return
    _table(rows, key=f"{prefix}.table")
    xlsx_download(tr("Скачать Excel", "Download Excel"), tasks.to_xlsx(rows, lang()),
                  file_name, key=f"{prefix}.xlsx")
    if not can(actor, "task.write"):
        return
    by_id = {r["id"]: r for r in rows}
    picked = st.selectbox(tr("Задача", "Task"), list(by_id), key=f"{prefix}.pick",
                          format_func=lambda i: f"{by_id[i]['due_text']} — {by_id[i]['title']}")
    row = by_id.get(picked) if picked is not None else None
    if row is None:
        return
    cols = st.columns(4)
    if row["status"] == "open":
        if cols[0].button(tr("Выполнено", "Done"), key=f"{prefix}.done",
                          icon=":material/check_circle:", type="primary"):
            _act(store, actor, row, "done")
        if cols[1].button(tr("Отменить задачу", "Cancel task"), key=f"{prefix}.cancel",
                          icon=":material/block:"):
            _act(store, actor, row, "cancelled")
    elif cols[0].button(tr("Вернуть в работу", "Reopen"), key=f"{prefix}.reopen",
                        icon=":material/undo:"):
        _act(store, actor, row, "open")
    if cols[2].button(tr("Изменить", "Edit"), key=f"{prefix}.edit", icon=":material/edit:"):
        st.session_state[f"{prefix}.editing"] = row["id"]
    with cols[3]:
        confirm_action(tr("Удалить", "Delete"),
                       tr(f"Удалить задачу «{row['title']}»? Это нельзя отменить.",
                          f"Remove the task “{row['title']}”? This cannot be undone."),
                       tr("Да, удалить", "Yes, delete"), key=f"{prefix}.delete.{row['id']}",
                       on_confirm=lambda: _delete(store, actor, row))
    if st.session_state.get(f"{prefix}.editing") == row["id"]:
        st.markdown("**" + tr("Изменение задачи", "Edit task") + "**")
        if task_form(store, actor, prefix, row):
            st.rerun()


def new_task(store: Store, actor: Actor, prefix: str, *, client_id: int | None = None,
             sale_id: int | None = None) -> None:
    """«Новая задача» in an expander (pre-linked to a client or sale)."""
    if not can(actor, "task.write"):
        return
    # keyed: stays open while the client picker reruns the page with each search
    with st.expander(tr("Новая задача", "New task"), icon=":material/add_task:",
                     key=f"{prefix}.new_open"):
        if client_id is None and sale_id is None:  # the Tasks page: link a client if wanted
            client_id = client_picker(store, actor, f"{prefix}.client",
                                      label=tr("Клиент (необязательно)", "Client (optional)"))
        if task_form(store, actor, prefix, None, client_id=client_id, sale_id=sale_id):
            st.rerun()


# --- the page ----------------------------------------------------------------------------


def _view_tab(store: Store, actor: Actor, view: str, empty: str) -> None:
    try:
        rows = tasks.list_tasks(store, actor, view)
    except UserError as exc:
        show_error(exc)
        return
    if rows:
        st.caption(tr(f"Задач: {len(rows)}", f"Tasks: {len(rows)}"))
    task_list(store, actor, rows, f"tasks.{view}", empty, f"tasks-{view}.xlsx")


def _assignee_tab(store: Store, actor: Actor) -> None:
    try:
        summary = tasks.by_assignee(store, actor)
    except UserError as exc:
        show_error(exc)
        return
    if not summary:
        st.info(tr("Открытых задач нет.", "No open tasks."))
        return
    heads = [tr("Исполнитель", "Assignee"), tr("Открыто", "Open"), tr("На сегодня", "Today"),
             tr("Просрочено", "Overdue")]
    body = [[s["name"], s["open"], s["today"], s["overdue"]] for s in summary]
    st.dataframe({h: [r[i] for r in body] for i, h in enumerate(heads)}, hide_index=True,
                 width="stretch", key="tasks.assignees.table")
    from clientplus_core.clients.export import rows_to_xlsx

    xlsx_download(tr("Скачать Excel (сводка)", "Download Excel (summary)"),
                  rows_to_xlsx(heads, body), "tasks-by-assignee.xlsx",
                  key="tasks.assignees.xlsx")
    names = {s["assignee_id"]: s["name"] for s in summary}
    who = st.selectbox(tr("Задачи исполнителя", "Tasks of"), list(names),
                       format_func=lambda i: names[i], key="tasks.assignee.pick")
    rows = tasks.list_tasks(store, actor, "open", assignee_id=who)
    task_list(store, actor, rows, f"tasks.by.{who}", tr("Открытых задач нет.", "No open tasks."),
              "tasks-assignee.xlsx")


def _shift_month(delta: int) -> None:
    year, mon = st.session_state["tasks.cal.month"]
    total = year * 12 + mon - 1 + delta
    st.session_state["tasks.cal.month"] = (total // 12, total % 12 + 1)


def _calendar_tab(store: Store, actor: Actor) -> None:
    if "tasks.cal.month" not in st.session_state:
        today = task_time.local_today(store)
        st.session_state["tasks.cal.month"] = (today.year, today.month)
    year, mon = st.session_state["tasks.cal.month"]
    c1, c2, c3 = st.columns([1, 3, 1])
    c1.button(tr("Предыдущий месяц", "Previous month"), key="tasks.cal.prev",
              icon=":material/chevron_left:", on_click=_shift_month, args=(-1,))
    c2.markdown(f"### {(MONTHS_RU if lang() == 'ru' else MONTHS_EN)[mon - 1]} {year}")
    c3.button(tr("Следующий месяц", "Next month"), key="tasks.cal.next",
              icon=":material/chevron_right:", on_click=_shift_month, args=(1,))
    try:
        days = tasks.month(store, actor, year, mon)
        today = task_time.local_today(store)
    except UserError as exc:
        show_error(exc)
        return
    head = st.columns(7)
    for col, (ru, en) in zip(head, WEEKDAYS, strict=True):
        col.markdown(f"**{tr(ru, en)}**")
    for week in tasks.month_grid(year, mon):
        cols = st.columns(7, border=True)
        for col, day in zip(cols, week, strict=True):
            if day is None:
                col.markdown("&nbsp;")
                continue
            mark = f":blue-background[**{day.day}**]" if day == today else f"**{day.day}**"
            lines = [mark]
            for t in days.get(day, []):
                text = md_escape(f"{t['due_time']} {t['title']}")
                if t["status"] == "done":
                    text = f"~~{text}~~"
                elif t["overdue"]:
                    text = f":red[{text}]"
                lines.append(f"{PRIORITY_MARK[t['priority']]} {text}".strip())
            col.markdown("  \n".join(lines))
    month_rows = [t for day in sorted(days) for t in days[day]]
    if month_rows:
        xlsx_download(tr("Скачать Excel (месяц)", "Download Excel (month)"),
                      tasks.to_xlsx(month_rows, lang()), f"tasks-{year}-{mon:02d}.xlsx",
                      key="tasks.cal.xlsx")


def page(store: Store, actor: Actor) -> None:
    """The «Задачи» page body."""
    new_task(store, actor, "tasks.new")
    card_tabs([
        (tr("Сегодня", "Today"), lambda: _view_tab(
            store, actor, "today", tr("На сегодня задач нет.", "Nothing due today."))),
        (tr("Просрочено", "Overdue"), lambda: _view_tab(
            store, actor, "overdue", tr("Просроченных задач нет.", "Nothing overdue."))),
        (tr("Неделя", "Week"), lambda: _view_tab(
            store, actor, "week", tr("На этой неделе задач нет.", "Nothing due this week."))),
        (tr("По исполнителям", "By assignee"), lambda: _assignee_tab(store, actor)),
        (tr("Календарь", "Calendar"), lambda: _calendar_tab(store, actor)),
    ], key="tasks.tab")
    if can(actor, "settings.write"):
        timezone_setting(store, actor)


def timezone_setting(store: Store, actor: Actor) -> None:
    """The administrator's choice of the zone "today" is computed in."""
    current = str(settings.get(store, "timezone") or task_time.DEFAULT_TZ)
    zones = list(dict.fromkeys([*task_time.RUSSIAN_ZONES, current]))
    with st.expander(tr("Часовой пояс задач", "Time zone of tasks"), icon=":material/schedule:"):
        zone = st.selectbox(tr("Часовой пояс", "Time zone"), zones, index=zones.index(current),
                            key="tasks.tz")
        if st.button(tr("Сохранить часовой пояс", "Save time zone"), key="tasks.tz.save"):
            try:
                task_time.set_timezone(store, actor, zone)
            except UserError as exc:
                show_error(exc)
                return
            forget_zone()
            flash(tr(f"Часовой пояс: {zone}.", f"Time zone: {zone}."))
            st.rerun()


# --- the cards' tab -----------------------------------------------------------------------


def card_tab(store: Store, actor: Actor, *, client_id: int | None = None,
             sale_id: int | None = None) -> None:
    """The «Задачи» tab of a client or sale card: its tasks and a pre-linked new one."""
    prefix = f"ctasks.{client_id}" if sale_id is None else f"stasks.{sale_id}"
    new_task(store, actor, f"{prefix}.new", client_id=client_id, sale_id=sale_id)
    show = st.toggle(tr("Показать выполненные и отменённые", "Show done and cancelled"),
                     key=f"{prefix}.all")
    try:
        rows = tasks.list_tasks(store, actor, "all" if show else "open", client_id=client_id,
                                sale_id=sale_id)
    except UserError as exc:
        show_error(exc)
        return
    task_list(store, actor, rows, prefix, tr("Задач нет.", "No tasks."), "tasks.xlsx")


# --- the sidebar badge ---------------------------------------------------------------------


def reminder_badge(actor: Actor, store: Store | None = None) -> None:
    """The sidebar reminder: how many of the actor's tasks are due today or overdue,
    with the list (one indexed query)."""
    from clientplus_ui.context import get_store

    try:
        due = tasks.due_summary(store or get_store(), actor)
    except UserError as exc:
        st.sidebar.caption(md_escape(exc))
        return
    if not due.count:
        st.sidebar.caption(tr("Задач на сегодня нет", "Nothing due today"))
        return
    label = tr(f"Задачи: {due.count} к выполнению", f"Tasks: {due.count} due")
    if due.overdue:
        label += tr(f" (просрочено {due.overdue})", f" ({due.overdue} overdue)")
    with st.sidebar.expander(label, icon=":material/notifications_active:",
                             expanded=st.session_state.get("tasks.badge.seen") is None):
        for t in due.tasks[:10]:
            when = f":red[{t['due_text']}]" if t["overdue"] else t["due_text"]
            st.markdown(f"{when} — {md_escape(t['title'])}")
        if due.count > 10:
            st.caption(tr(f"…и ещё {due.count - 10}", f"…and {due.count - 10} more"))
        st.page_link("pages/tasks.py", label=tr("Открыть задачи", "Open tasks"),
                     icon=":material/task_alt:")
    st.session_state["tasks.badge.seen"] = True
