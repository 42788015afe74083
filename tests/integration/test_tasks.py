"""The organizer's core: views in the configured time zone, repetition, scope,
optimistic locking, bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from clientplus_core import sales
from clientplus_core.base.errors import ConflictError, NotFound, UserError, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.organizer import reminders, task_time, tasks
from clientplus_core.records import settings
from clientplus_core.team import audit, users

# 15:00 in Moscow on Tuesday 10 March 2026
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _titles(rows) -> list[str]:
    return [r["title"] for r in rows]


def _task(store, actor, title, day, tm="10:00", **extra):
    return tasks.create(store, actor, {"title": title, "due_date": day, "due_time": tm,
                                       **extra})


def test_a_task_at_23_30_moscow_is_stored_as_20_30_utc_and_is_due_today(store, actor):
    t = _task(store, actor, "Поздний звонок", "10.03.2026", "23:30")
    assert t["due_at"] == "2026-03-10T20:30:00+00:00"
    assert (t["due_date"], t["due_time"]) == ("2026-03-10", "23:30")
    # 01:00 Moscow on the 11th is still the 10th in UTC, but tomorrow in Moscow
    _task(store, actor, "Ночью завтра", "2026-03-11", "01:00")
    # 02:00 Moscow on the 10th is the 9th in UTC, but today in Moscow (and already past)
    _task(store, actor, "Рано утром", "2026-03-10", "02:00")
    today = tasks.list_tasks(store, actor, "today", NOW)
    assert _titles(today) == ["Рано утром", "Поздний звонок"]
    assert [r["overdue"] for r in today] == [True, False]
    assert _titles(tasks.list_tasks(store, actor, "overdue", NOW)) == ["Рано утром"]


def test_the_time_zone_comes_from_settings(store, actor):
    _task(store, actor, "Поздний звонок", "2026-03-10", "23:30")
    settings.put(store, actor, "timezone", "Asia/Yekaterinburg")   # UTC+5
    t = tasks.list_tasks(store, actor, "all", NOW)[0]
    assert t["due_text"] == "11.03.2026 01:30"
    assert tasks.list_tasks(store, actor, "today", NOW) == []
    with pytest.raises(ValidationError) as exc:
        task_time.set_timezone(store, actor, "Mars/Olympus")
    assert set(exc.value.errors) == {"timezone"}
    assert task_time.set_timezone(store, actor, "Europe/Moscow") == "Europe/Moscow"
    assert tasks.list_tasks(store, actor, "today", NOW)
    with pytest.raises(ValidationError):   # the settings refuse it now …
        settings.put(store, actor, "timezone", "Mars/Olympus")
    with store.write() as conn:   # … so a bad value stored by hand in the database
        conn.execute("UPDATE settings SET value = ? WHERE key = 'timezone'",
                     ('"Mars/Olympus"',))
    with pytest.raises(UserError, match="timezone"):
        tasks.list_tasks(store, actor, "today", NOW)


def test_overdue_week_and_no_time_means_end_of_day(store, actor):
    _task(store, actor, "Вчера", "2026-03-09", "18:00")
    _task(store, actor, "Понедельник", "2026-03-09", "09:00")
    _task(store, actor, "Воскресенье", "2026-03-15", "22:00")
    _task(store, actor, "Следующая неделя", "2026-03-16", "00:30")
    whole_day = tasks.create(store, actor, {"title": "До конца дня", "due_date": "2026-03-10"})
    assert whole_day["due_time"] == "23:59"
    assert not tasks.get(store, actor, whole_day["id"], NOW)["overdue"]
    done = _task(store, actor, "Сделано", "2026-03-08")
    tasks.set_status(store, actor, done["id"], "done", done["version"], NOW)

    assert _titles(tasks.list_tasks(store, actor, "overdue", NOW)) == ["Понедельник", "Вчера"]
    assert _titles(tasks.list_tasks(store, actor, "week", NOW)) == [
        "Понедельник", "Вчера", "До конца дня", "Воскресенье"]
    assert "Сделано" in _titles(tasks.list_tasks(store, actor, "all", NOW))
    assert "Сделано" not in _titles(tasks.list_tasks(store, actor, "open", NOW))


def test_month_calendar_groups_by_local_day(store, actor):
    _task(store, actor, "Первое", "2026-03-01", "00:30")   # 28 Feb 21:30 UTC
    _task(store, actor, "Последнее", "2026-03-31", "23:30")
    _task(store, actor, "Апрель", "2026-04-01", "00:10")
    cancelled = _task(store, actor, "Отменено", "2026-03-05")
    tasks.set_status(store, actor, cancelled["id"], "cancelled", 1, NOW)
    cal = tasks.month(store, actor, 2026, 3, NOW)
    assert {d: _titles(v) for d, v in cal.items()} == {
        date(2026, 3, 1): ["Первое"], date(2026, 3, 31): ["Последнее"]}
    grid = tasks.month_grid(2026, 3)
    assert grid[0][:6] == [None] * 6 and grid[0][6] == date(2026, 3, 1)   # a Sunday
    assert all(len(w) == 7 for w in grid) and grid[-1][1] == date(2026, 3, 31)
    with pytest.raises(ValidationError):
        tasks.month(store, actor, 2026, 13, NOW)


def test_by_assignee_counts_open_today_and_overdue(store, actor):
    m1 = users.create(store, "m1", "Менеджер Один", "manager")
    _task(store, actor, "A1", "2026-03-09")
    _task(store, actor, "A2", "2026-03-20")
    _task(store, actor, "B1", "2026-03-10", "20:00", assignee_id=m1.id)
    rows = {r["name"]: (r["open"], r["today"], r["overdue"])
            for r in tasks.by_assignee(store, actor, NOW)}
    assert rows == {"Администратор": (2, 0, 1), "Менеджер Один": (1, 1, 0)}


@pytest.mark.parametrize("repeat, due, done_at, expected", [
    ("daily", "2026-03-10", NOW, "2026-03-11"),
    ("weekly", "2026-03-10", NOW, "2026-03-17"),
    ("monthly", "2026-01-31", datetime(2026, 1, 31, 9, tzinfo=UTC), "2026-02-28"),
    ("monthly", "2028-01-31", datetime(2028, 1, 31, 9, tzinfo=UTC), "2028-02-29"),
    ("monthly", "2026-12-15", datetime(2026, 12, 15, 9, tzinfo=UTC), "2027-01-15"),
    # done late: the next occurrence is not created in the past
    ("daily", "2026-03-01", NOW, "2026-03-10"),
])
def test_done_on_a_repeating_task_creates_the_next_occurrence(store, actor, repeat, due,
                                                              done_at, expected):
    t = tasks.create(store, actor, {"title": "Отчёт", "due_date": due, "due_time": "23:30",
                                    "remind_date": due, "remind_time": "09:00",
                                    "repeat": repeat, "priority": "high"})
    out = tasks.set_status(store, actor, t["id"], "done", t["version"], done_at)
    assert out["status"] == "done"
    nxt = out["next"]
    assert (nxt["due_date"], nxt["due_time"]) == (expected, "23:30")
    assert (nxt["remind_date"], nxt["remind_time"]) == (expected, "09:00")
    assert (nxt["status"], nxt["repeat"], nxt["priority"]) == ("open", repeat, "high")


def test_monthly_on_the_31st_comes_back_to_the_31st_after_a_short_month(store, actor):
    t = tasks.create(store, actor, {"title": "Акт сверки", "due_date": "2026-01-31",
                                    "due_time": "12:00", "repeat": "monthly"})
    seen = []
    for _ in range(3):
        nxt = tasks.set_status(store, actor, t["id"], "done", t["version"],
                               datetime(2026, 1, 1, tzinfo=UTC))["next"]
        seen.append(nxt["due_date"])
        t = nxt
    assert seen == ["2026-02-28", "2026-03-31", "2026-04-30"]
    assert tasks.next_due(datetime(2026, 4, 30, 12), "monthly", 31).date() == date(2026, 5, 31)


def test_done_twice_or_cancel_does_not_multiply_occurrences(store, actor):
    t = _task(store, actor, "Каждый день", "2026-03-10", repeat="daily")
    done = tasks.set_status(store, actor, t["id"], "done", 1, NOW)
    reopened = tasks.set_status(store, actor, t["id"], "open", done["version"], NOW)
    again = tasks.set_status(store, actor, t["id"], "done", reopened["version"], NOW)
    assert "next" not in again
    assert len(tasks.list_tasks(store, actor, "open", NOW)) == 1
    c = _task(store, actor, "Отменяемая", "2026-03-10", repeat="weekly")
    assert "next" not in tasks.set_status(store, actor, c["id"], "cancelled", 1, NOW)


def test_a_sale_implies_its_client_and_a_mismatch_is_refused(store, actor, make_client):
    a, b = make_client(name="ООО «А»"), make_client(name="ООО «Б»")
    s = sales.create(store, actor, {"client_id": a["id"], "lines": [
        {"name": "Услуга", "qty": 1, "price": 100}]})
    t = _task(store, actor, "По сделке", "2026-03-10", sale_id=s["id"])
    assert (t["client_id"], t["client_name"], t["sale_number"]) == (a["id"], "ООО «А»",
                                                                    s["number"])
    assert _titles(tasks.list_tasks(store, actor, "all", NOW, client_id=a["id"])) == ["По сделке"]
    assert _titles(tasks.list_tasks(store, actor, "all", NOW, sale_id=s["id"])) == ["По сделке"]
    with pytest.raises(ValidationError) as exc:
        _task(store, actor, "Не тот клиент", "2026-03-10", sale_id=s["id"], client_id=b["id"])
    assert set(exc.value.errors) == {"sale_id"}


def test_bad_input_names_the_field(store, actor):
    with pytest.raises(ValidationError) as exc:
        tasks.create(store, actor, {"title": "  ", "due_date": "31.02.2026",
                                    "due_time": "25:99", "priority": "urgent",
                                    "repeat": "yearly"})
    errors = exc.value.errors
    assert set(errors) == {"title", "due_date", "due_time", "priority", "repeat"}
    assert errors["title"].startswith("Название")
    assert errors["due_date"].startswith("Срок") and "31.02.2026" in errors["due_date"]
    assert errors["due_time"].startswith("Время")
    with pytest.raises(ValidationError) as exc:
        tasks.create(store, actor, {"title": "Без срока"})
    assert set(exc.value.errors) == {"due_date"}
    with pytest.raises(ValidationError) as exc:
        _task(store, actor, "Чужой клиент", "2026-03-10", client_id=999)
    assert "клиент №999" in exc.value.errors["client_id"]
    with pytest.raises(ValidationError) as exc:
        _task(store, actor, "Никто", "2026-03-10", assignee_id=999)
    assert set(exc.value.errors) == {"assignee_id"}


def test_version_conflict_is_reported_not_overwritten(store, actor):
    t = _task(store, actor, "Встреча", "2026-03-10")
    first = tasks.update(store, actor, t["id"], {"title": "Встреча в офисе"}, t["version"])
    assert first["version"] == 2
    with pytest.raises(ConflictError, match="Администратор|admin"):
        tasks.update(store, actor, t["id"], {"title": "Встреча онлайн"}, t["version"])
    with pytest.raises(ConflictError):
        tasks.set_status(store, actor, t["id"], "done", t["version"], NOW)
    with pytest.raises(ConflictError):
        tasks.delete(store, actor, t["id"], t["version"])
    assert tasks.get(store, actor, t["id"])["title"] == "Встреча в офисе"


def test_update_keeps_unchanged_fields_and_is_audited(store, actor, make_client):
    c = make_client()
    t = _task(store, actor, "Звонок", "2026-03-10", "11:00", client_id=c["id"],
              description="Уточнить адрес")
    u = tasks.update(store, actor, t["id"], {"due_time": "16:45"}, t["version"])
    assert (u["due_date"], u["due_time"], u["description"], u["client_id"]) == (
        "2026-03-10", "16:45", "Уточнить адрес", c["id"])
    tasks.delete(store, actor, t["id"], u["version"])
    with pytest.raises(NotFound):
        tasks.get(store, actor, t["id"])
    log = audit.query(store, actor, entity="task")
    assert [e["action"] for e in log] == ["delete", "update", "create"]
    assert log[1]["diff"]["due_at"] == ["2026-03-10T08:00:00+00:00",
                                        "2026-03-10T13:45:00+00:00"]
    assert {e["client_id"] for e in log} == {c["id"]}


@pytest.fixture
def team(store, actor):
    return {"head": users.create(store, "head", "Начальник", "head"),
            "m1": users.create(store, "m1", "Первый", "manager"),
            "m2": users.create(store, "m2", "Вторая", "manager"),
            "viewer": users.create(store, "viewer", "Зритель", "viewer")}


def test_scope_a_manager_sees_own_assigned_created_and_visible_client_tasks(store, actor,
                                                                           team):
    m1, m2, head = team["m1"], team["m2"], team["head"]
    own = clients.create(store, m1, {"name": "Свой"})
    other = clients.create(store, m2, {"name": "Чужой"})
    shared = clients.create(store, m2, {"name": "Общий"})
    clients.share(store, m2, shared["id"], [m1.id])
    _task(store, actor, "На своём клиенте", "2026-03-10", client_id=own["id"])
    _task(store, actor, "На чужом клиенте", "2026-03-10", client_id=other["id"])
    _task(store, actor, "На общем клиенте", "2026-03-10", client_id=shared["id"])
    _task(store, head, "Поручено первому", "2026-03-10", assignee_id=m1.id)
    _task(store, m1, "Своя без клиента", "2026-03-10")
    _task(store, m2, "Чужая без клиента", "2026-03-10")
    assert sorted(_titles(tasks.list_tasks(store, m1, "all", NOW))) == sorted([
        "На своём клиенте", "На общем клиенте", "Поручено первому", "Своя без клиента"])
    for who in (actor, head, team["viewer"]):
        assert len(tasks.list_tasks(store, who, "all", NOW)) == 6
    hidden = tasks.list_tasks(store, m2, "all", NOW, client_id=own["id"])
    assert hidden == []


def test_a_manager_may_assign_only_to_themselves(store, actor, team):
    m1, m2, head = team["m1"], team["m2"], team["head"]
    with pytest.raises(ValidationError) as exc:
        _task(store, m1, "Коллеге", "2026-03-10", assignee_id=m2.id)
    assert "только себе" in exc.value.errors["assignee_id"]
    assert [a["id"] for a in tasks.assignees(store, m1)] == [m1.id]
    assert len(tasks.assignees(store, head)) == 5
    t = _task(store, head, "От начальника", "2026-03-10", assignee_id=m1.id)
    # m1 may edit it (keeping the assignee) but not hand it to a colleague
    t = tasks.update(store, m1, t["id"], {"title": "От начальника (уточнено)"}, t["version"])
    with pytest.raises(ValidationError):
        tasks.update(store, m1, t["id"], {"assignee_id": m2.id}, t["version"])
    with pytest.raises(Exception, match="Нет доступа"):
        _task(store, team["viewer"], "Зритель", "2026-03-10")


def test_due_summary_is_the_actors_own_due_overdue_and_reminded_tasks(store, actor, team):
    _task(store, actor, "Просрочена", "2026-03-09")
    _task(store, actor, "Сегодня вечером", "2026-03-10", "23:30")
    _task(store, actor, "Завтра", "2026-03-11", "10:00")
    _task(store, actor, "Напомнить заранее", "2026-03-20", "10:00",
          remind_date="2026-03-10", remind_time="14:00")
    _task(store, actor, "Напомнить позже", "2026-03-20", "10:00",
          remind_date="2026-03-10", remind_time="16:00")
    _task(store, actor, "Чужая", "2026-03-09", assignee_id=team["m1"].id)
    s = tasks.due_summary(store, actor, NOW)
    assert _titles(s.tasks) == ["Просрочена", "Сегодня вечером", "Напомнить заранее"]
    assert (s.count, s.overdue, s.today) == (3, 1, 2)
    assert tasks.due_summary(store, team["m1"], NOW).count == 1


def test_digests_list_due_and_overdue_tasks_per_user_with_an_email(store, actor):
    m1 = users.create(store, "m1", "Смирнов Алексей", "manager", "smirnov@example.com")
    m2 = users.create(store, "m2", "Без почты", "manager")
    users.create(store, "m3", "Без задач", "manager", "free@example.com")
    _task(store, actor, "Позвонить в «Ромашку»", "2026-03-09", "10:00", assignee_id=m1.id,
          priority="high")
    _task(store, actor, "Отправить КП", "2026-03-10", "18:00", assignee_id=m1.id)
    _task(store, actor, "Через неделю", "2026-03-17", assignee_id=m1.id)
    _task(store, actor, "Некому слать", "2026-03-10", assignee_id=m2.id)
    ds = reminders.digests(store, actor, NOW)
    assert [(d.login, d.email) for d in ds] == [("m1", "smirnov@example.com")]
    d = ds[0]
    assert (_titles(d.overdue), _titles(d.today)) == (["Позвонить в «Ромашку»"],
                                                      ["Отправить КП"])
    subject, text = reminders.digest_text(d, date(2026, 3, 10))
    assert subject == "ClientPlus: задачи на 10.03.2026 — 2 (просрочено: 1)"
    assert "Здравствуйте, Смирнов Алексей!" in text
    assert "09.03.2026 10:00 — Позвонить в «Ромашку»; высокий приоритет" in text
    assert text.index("Просрочено (1)") < text.index("На сегодня (1)")
    assert "Через неделю" not in text
    # a manager gets only their own digest
    assert [d.login for d in reminders.digests(store, m1, NOW)] == ["m1"]
    assert reminders.digests(store, m2, NOW) == []


def test_export_has_the_shown_columns(store, actor, make_client):
    import io

    import openpyxl

    c = make_client(name="=HYPERLINK(\"x\")")
    _task(store, actor, "Звонок", "2026-03-10", "23:30", client_id=c["id"], priority="high")
    data = tasks.to_xlsx(tasks.list_tasks(store, actor, "all", NOW))
    ws = openpyxl.load_workbook(io.BytesIO(data)).active
    rows = [[cell.value for cell in r] for r in ws.iter_rows()]
    assert rows[0][:6] == ["Срок", "Задача", "Приоритет", "Статус", "Исполнитель", "Клиент"]
    assert rows[1][:6] == ["10.03.2026 23:30", "Звонок", "Высокий", "Открыта",
                           "Администратор", "=HYPERLINK(\"x\")"]
    assert ws.cell(2, 6).data_type == "s"
