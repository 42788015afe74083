"""Pages read as a Russian office reads them (issue 13, part 2): times in the
``timezone`` setting, amounts as «9 821 111,14 ₽» (EN «9,821,111.14 ₽»), dates as
06.12.2026, and history entries as Russian sentences — no codes, no JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.records import settings

from .helpers import press, table_shown

LINES = [{"name": "Монтаж", "qty": 1, "price": "12000", "vat_code": "22"}]
EN = {"ui.lang": "en"}


@pytest.fixture
def sold(store, actor, make_client):
    client = make_client(name="ООО «Часовой пояс»")
    sale = sales.create(store, actor, {"client_id": client["id"], "title": "Поставка",
                                       "date": "2026-03-01", "lines": LINES})
    sales.set_status(store, actor, sale["id"], "invoiced")
    sales.add_payment(store, actor, sale["id"], "12000", "2026-03-05")
    sales.add_contact_event(store, actor, {"sale_id": sale["id"], "channel": "call",
                                           "subject": "Уточнили адрес",
                                           "at": "2026-03-04T21:30:00+00:00"})
    return client, sale


def _history(open_app, client_id: int, state: dict[str, str] | None = None):
    at = open_app("pages/client.py", state={"card.tab": "История", **(state or {})},
                  id=client_id)
    assert not at.exception
    return table_shown(at)


def test_the_card_history_speaks_russian_sentences_in_moscow_time(open_app, store, actor, sold):
    client, sale = sold
    table = _history(open_app, client["id"])
    said = table["Что произошло"].tolist()
    assert f"Добавлен платёж 12 000,00 ₽ от 05.03.2026 по продаже {sale['number']}" in said
    assert f"Статус продажи {sale['number']} изменён: Предварительная заявка → Счёт выставлен" \
        in said
    assert "Записан контакт: Звонок: Уточнили адрес" in said
    assert f"Создана продажа {sale['number']} «Поставка» на 12 000,00 ₽" in said
    cells = " ".join(table.astype(str).to_numpy().ravel())
    for technical in ("payment", "contact_event", "{", "user №", "None", "Сделк"):
        assert technical not in cells
    # «Когда» is the stored UTC instant on the Moscow clock (the default `timezone`)
    stored = clients.history(store, actor, client["id"])[0]["at"]
    moscow = dt.datetime.fromisoformat(stored).astimezone(ZoneInfo("Europe/Moscow"))
    assert table.iloc[0]["Когда"] == f"{moscow:%d.%m.%Y %H:%M}"


def test_the_card_history_names_the_contact_channel_in_english_too(open_app, sold):
    client, _ = sold
    said = _history(open_app, client["id"], {**EN, "card.tab": "History"})
    assert "Contact logged: Call: Уточнили адрес" in said["What happened"].tolist()


def test_times_follow_the_timezone_setting(open_app, store, actor, sold):
    client, sale = sold
    settings.put(store, actor, "timezone", "Asia/Vladivostok")
    at = open_app("pages/sale.py", state={"sale.tab": "Контакты"}, id=sale["id"])
    table = at.dataframe[0].value
    assert table.iloc[0]["Когда"] == "05.03.2026 07:30"  # 21:30 UTC on 4 March


def test_a_contact_typed_at_ten_is_ten_on_the_office_clock(open_app, store, actor, sold):
    _, sale = sold
    at = open_app("pages/sale.py", state={"sale.tab": "Контакты"}, id=sale["id"])
    key = f"sh.s{sale['id']}.new.0"
    at.date_input(key=f"{key}.date").set_value(dt.date(2026, 3, 10))
    at.time_input(key=f"{key}.time").set_value(dt.time(10, 0))
    at.text_input(key=f"{key}.subject").input("Встреча в офисе")
    press(at, "Записать")
    event = next(e for e in sales.contact_history(store, actor, sale_id=sale["id"])
                 if e["subject"] == "Встреча в офисе")
    assert event["at"] == "2026-03-10T07:00:00+00:00"  # 10:00 in Moscow
    assert at.dataframe[0].value.iloc[0]["Когда"] == "10.03.2026 10:00"


def test_the_register_totals_name_both_debts_and_read_in_english_too(open_app, store, actor,
                                                                    make_client, sold):
    client, _ = sold
    sales.create(store, actor, {"client_id": client["id"], "title": "Вторая",
                                "date": "2026-03-02", "lines": [
                                    {"name": "Кабель", "qty": 1, "price": "9821111.14",
                                     "vat_code": "22"}]})
    at = open_app("pages/sales.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Сумма"] == "9 833 111,14 ₽"
    assert metrics["Не оплачено по продажам"] == "9 821 111,14 ₽"
    assert metrics["Дебиторская задолженность по выставленным счетам"] == "0,00 ₽"
    assert at.dataframe[0].value.iloc[0]["Дата"] == "02.03.2026"
    en = open_app("pages/sales.py", state=EN)
    metrics = {m.label: m.value for m in en.metric}
    assert metrics["Total"] == "9,833,111.14 ₽"
    assert metrics["Unpaid on sales"] == "9,821,111.14 ₽"
    assert en.dataframe[0].value.iloc[0]["Total"] == "9,821,111.14"


def test_the_debtors_report_shows_amounts_not_floats(open_app, store, actor, make_client):
    client = make_client(name="ООО «Должник»")
    sale = sales.create(store, actor, {"client_id": client["id"], "title": "Большая",
                                       "date": "2026-03-02", "lines": [
                                           {"name": "Кабель", "qty": 1, "price": "9821111.14",
                                            "vat_code": "22"}]})
    sales.set_status(store, actor, sale["id"], "invoiced")
    at = open_app("pages/reports.py", state={"rep.tabs": "Дебиторка"},
                  **{"from": "2026-01-01", "to": "2026-12-31"})
    table = next(d.value for d in at.dataframe if "Долг, ₽" in d.value.columns)
    assert table.iloc[0]["Долг, ₽"] == "9 821 111,14"
    cells = " ".join(table.astype(str).to_numpy().ravel())
    assert "None" not in cells and "9821111" not in cells
    assert D("9821111.14") == D(table.iloc[0]["Долг, ₽"].replace(" ", "").replace(",", "."))
