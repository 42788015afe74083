"""The «Задачи» page, the cards' «Задачи» tab and the sidebar reminder, driven with
AppTest through app.py."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
from streamlit.proto.SelectWidgetFilterMode_pb2 import SelectWidgetFilterMode

from clientplus_core import sales
from clientplus_core.organizer import task_time, tasks

from .helpers import everything, press, shown


def _today(store):
    return task_time.local_today(store)


def _make(store, actor, title, days=0, tm="23:58", **extra):
    return tasks.create(store, actor, {"title": title,
                                       "due_date": _today(store) + timedelta(days=days),
                                       "due_time": tm, **extra})


def _table(at, column="Задача"):
    """The first table on the page with this column (AppTest does not expose keys)."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_today_tab_lists_todays_tasks_and_the_sidebar_badge_counts_them(open_app, store,
                                                                        actor):
    _make(store, actor, "Позвонить <b>клиенту</b>", priority="high")
    _make(store, actor, "Просроченная", days=-2)
    _make(store, actor, "Через месяц", days=40)
    at = open_app("pages/tasks.py")
    assert at.title[0].value == "Задачи"
    frame = _table(at)
    assert list(frame["Задача"]) == ["● Позвонить <b>клиенту</b>"]
    assert list(frame["Статус"]) == ["Открыта"]
    # the reminder lives in app.py's frame (on every page): open app.py itself
    frame = open_app()
    badge = next(e for e in frame.sidebar.expander if "Задачи:" in e.label)
    assert badge.label == "Задачи: 2 к выполнению (просрочено 1)"
    listed = [m.value for m in frame.sidebar.markdown]
    assert any("Просроченная" in m for m in listed)
    assert any("Позвонить \\<b\\>клиенту" in m for m in listed)   # escaped, never HTML
    assert not any("Через месяц" in m for m in listed)
    at.session_state["tasks.tab"] = "Просрочено"
    at.run()
    assert list(_table(at)["Задача"]) == ["Просроченная"]
    assert "Скачать Excel" in everything(at)


def test_create_a_task_from_the_page_then_complete_a_repeating_one(open_app, store, actor):
    at = open_app("pages/tasks.py")
    prefix = "tasks.new.form.new.0"
    at.text_input(key=f"{prefix}.title").input("Подготовить отчёт")
    at.selectbox(key=f"{prefix}.repeat.ru").select("weekly")
    at.selectbox(key=f"{prefix}.priority.ru").select("high")
    press(at, "Создать задачу")
    [t] = tasks.list_tasks(store, actor, "all")
    assert (t["title"], t["repeat"], t["priority"], t["due_time"]) == (
        "Подготовить отчёт", "weekly", "high", "23:59")
    assert t["due_date"] == _today(store).isoformat()
    assert "Задача «Подготовить отчёт» создана" in shown(at)
    press(at, "Выполнено")
    assert not at.exception
    rows = tasks.list_tasks(store, actor, "all")
    assert [r["status"] for r in rows] == ["open", "done"]
    assert rows[0]["due_date"] == (_today(store) + timedelta(days=7)).isoformat()
    assert "следующая —" in shown(at)


def test_a_task_made_on_the_page_can_be_linked_to_a_client_found_by_name(open_app, store,
                                                                         actor, make_client):
    wanted = make_client(name="ООО «Вектор»")
    make_client(name="ООО «Другой»")
    at = open_app("pages/tasks.py")
    at.text_input(key="tasks.new.client_q").input("Вектор")
    at.run()
    at.selectbox(key="tasks.new.client").select(wanted["id"])
    at.run()
    at.text_input(key="tasks.new.form.new.0.title").input("Отправить договор")
    press(at, "Создать задачу")
    [t] = tasks.list_tasks(store, actor, "all")
    assert (t["title"], t["client_id"]) == ("Отправить договор", wanted["id"])
    assert [r["title"] for r in tasks.list_tasks(store, actor, "all",
                                                 client_id=wanted["id"])] == ["Отправить договор"]


def test_an_empty_title_is_named_and_nothing_is_saved(open_app, store, actor):
    at = open_app("pages/tasks.py")
    press(at, "Создать задачу")
    assert any("Название: обязательное поле" in e.value for e in at.error)
    assert tasks.list_tasks(store, actor, "all") == []


def test_edit_and_delete_with_confirmation(open_app, store, actor):
    t = _make(store, actor, "Старое название")
    at = open_app("pages/tasks.py")
    press(at, "Изменить")
    key = f"tasks.today.form.{t['id']}.0.title"
    at.text_input(key=key).input("Новое название")
    press(at, "Сохранить задачу")
    assert tasks.get(store, actor, t["id"])["title"] == "Новое название"
    # the delete button only opens a question; the task goes on the explicit "yes"
    assert tasks.list_tasks(store, actor, "all")
    press(at, "Да, удалить")
    assert tasks.list_tasks(store, actor, "all") == []
    assert "удалена" in shown(at)


def test_by_assignee_and_calendar_tabs(open_app, store, actor, team):
    _make(store, actor, "Моя", days=-1)
    _make(store, team["head"], "Первому", assignee_id=team["m1"].id)
    at = open_app("pages/tasks.py", state={"tasks.tab": "По исполнителям"})
    summary = _table(at, "Открыто")
    assert dict(zip(summary["Исполнитель"], summary["Просрочено"], strict=True)) == {
        "Администратор": 1, "Первый Пётр": 0}
    at.session_state["tasks.tab"] = "Календарь"
    at.run()
    today = _today(store)
    assert any(m.value.startswith("### ") and str(today.year) in m.value for m in at.markdown)
    assert "Первому" in shown(at)
    press(at, "Следующий месяц")
    assert at.session_state["tasks.cal.month"] != (today.year, today.month)
    press(at, "Предыдущий месяц")
    press(at, "Предыдущий месяц")
    assert "Первому" not in shown(at)


def test_a_manager_sees_only_their_tasks_and_assigns_only_to_themselves(open_app, store,
                                                                        actor, team):
    _make(store, actor, "Админская")
    _make(store, team["head"], "Для менеджера", assignee_id=team["m1"].id)
    at = open_app("pages/tasks.py", actor=team["m1"])
    assert list(_table(at)["Задача"]) == ["Для менеджера"]
    assert at.selectbox(key="tasks.new.form.new.0.assignee").options == ["Первый Пётр"]


def test_the_client_card_tab_creates_a_pre_linked_task(open_app, store, actor, make_client):
    c = make_client(name="ООО «Ромашка»")
    at = open_app("pages/client.py", state={"card.tab": "Задачи"}, id=c["id"])
    prefix = f"ctasks.{c['id']}.new.form.new.0"
    at.text_input(key=f"{prefix}.title").input("Выставить счёт")
    press(at, "Создать задачу")
    [t] = tasks.list_tasks(store, actor, "all", client_id=c["id"])
    assert (t["title"], t["client_name"]) == ("Выставить счёт", "ООО «Ромашка»")
    assert list(_table(at)["Задача"]) == ["Выставить счёт"]


def test_the_sale_card_tab_lists_the_sales_tasks(open_app, store, actor, make_client):
    c = make_client()
    s = sales.create(store, actor, {"client_id": c["id"], "lines": [
        {"name": "Услуга", "qty": 1, "price": 100}]})
    _make(store, actor, "По сделке", sale_id=s["id"])
    _make(store, actor, "Просто по клиенту", client_id=c["id"])
    at = open_app("pages/sale.py", state={"sale.tab": "Задачи"}, id=s["id"])
    assert list(_table(at)["Задача"]) == ["По сделке"]
    prefix = f"stasks.{s['id']}.new.form.new.0"
    at.text_input(key=f"{prefix}.title").input("Согласовать договор")
    press(at, "Создать задачу")
    rows = tasks.list_tasks(store, actor, "all", sale_id=s["id"])
    assert sorted(r["title"] for r in rows) == ["По сделке", "Согласовать договор"]
    assert {r["client_id"] for r in rows} == {c["id"]}


def test_a_viewer_reads_but_gets_no_form_or_actions(open_app, store, actor, team):
    from clientplus_core.team import users

    viewer = users.create(store, "viewer1", "Зритель", "viewer")
    _make(store, actor, "Видимая")
    at = open_app("pages/tasks.py", actor=viewer)
    assert list(_table(at)["Задача"]) == ["Видимая"]
    assert not [b for b in at.button if b.label == "Выполнено"]
    assert not [e for e in at.expander if e.label == "Новая задача"]


def test_excel_export_bytes_match_the_list(store, actor):
    _make(store, actor, "Экспорт")
    data = tasks.to_xlsx(tasks.list_tasks(store, actor, "today"))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    assert ws.cell(2, 2).value == "Экспорт"


def test_the_administrator_sets_the_time_zone_a_manager_does_not_see_it(open_app, store,
                                                                         actor, team):
    at = open_app("pages/tasks.py")
    at.selectbox(key="tasks.tz").select("Asia/Yekaterinburg")
    press(at, "Сохранить часовой пояс")
    from clientplus_core.records import settings

    assert settings.get(store, "timezone") == "Asia/Yekaterinburg"
    at = open_app("pages/tasks.py", actor=team["m1"])
    assert not [e for e in at.expander if e.label == "Часовой пояс задач"]


def test_the_client_picker_lists_the_bank_before_those_banking_there(open_app, store, actor,
                                                                     make_client):
    """Issue 13: «Сбербанк» in the picker puts «ПАО Сбербанк» first (not ten clients
    that bank at Sberbank), and the picker speaks Russian when nothing matches: no
    select-box filter with its English «No results»."""
    for n in range(10):
        make_client(name=f"ООО «Альфа {n}»", bank_name="ПАО Сбербанк")
    bank = make_client(name="ПАО Сбербанк", inn="7707083893")
    at = open_app("pages/tasks.py")
    at.text_input(key="tasks.new.client_q").input("Такого нет")
    at.run()
    picker = at.selectbox(key="tasks.new.client")
    assert picker.options == [] and picker.disabled
    assert picker.placeholder == "Ничего не найдено — измените запрос"

    at.text_input(key="tasks.new.client_q").input("Сбербанк")
    at.run()
    picker = at.selectbox(key="tasks.new.client")
    assert picker.options[0] == "ПАО Сбербанк" and len(picker.options) == 11
    assert SelectWidgetFilterMode.Name(picker.proto.filter_mode) == "FILTER_MODE_NONE"
    at.selectbox(key="tasks.new.client").select(bank["id"])
    at.run()
    assert at.selectbox(key="tasks.new.client").value == bank["id"]
