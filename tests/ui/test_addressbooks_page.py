"""The address-book page through app.py with AppTest: create a book from the
criteria form, the recipients preview and the skipped list, a snapshot, manual
changes, the SMS section with its dropped counts, a bad name, deleting with a
confirmation, and a manager's scope."""

from __future__ import annotations

from clientplus_core import sales
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent, phones

from .helpers import press, shown

PAGE = "pages/addressbooks.py"


def frame_with(at, *columns: str):
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def _debtors(store, actor, owner=None) -> dict[str, int]:
    """Two invoiced, unpaid clients (one with consent, one opted out) and one paid."""
    out = {}
    for name, email, status in (("Должник", "debtor@firm.ru", "invoiced"),
                                ("Отказник", "refuser@firm.ru", "invoiced"),
                                ("Плательщик", "payer@firm.ru", "lead")):
        c = clients.create(store, owner or actor, {"name": f"ООО «{name}»", "email": email,
                                                   "phone": "+7916000000" + str(len(out))},
                           allow_duplicate=True)
        s = sales.create(store, actor, {"client_id": c["id"], "lines": [
            {"name": "Услуга", "qty": 1, "price": 1000}]})
        if status != "lead":
            sales.set_status(store, actor, s["id"], status)
        consent.record(store, actor, {"channel": "email", "value": email})
        consent.record(store, actor, {"channel": "phone", "value": c["phone"]})
        out[name] = c["id"]
    consent.record_optout(store, actor, "email", "refuser@firm.ru", "ссылка отписки")
    return out


def test_create_a_book_and_see_recipients_and_the_skipped(open_app, store, actor):
    ids = _debtors(store, actor)
    at = open_app(PAGE)
    at.text_input(key="ab.new.name").input("Выставлен счёт, не оплачено")
    at.checkbox(key="ab.new.invoiced").check()
    press(at, "Создать книгу")
    [book] = ab.list_books(store, actor)
    assert (book["name"], book["criteria"], book["kind"]) == (
        "Выставлен счёт, не оплачено", {"invoiced_unpaid": True}, "live")
    # the new book is opened with its recipients
    rec = frame_with(at, "E-mail", "Клиент")
    assert list(rec["E-mail"]) == ["debtor@firm.ru"]
    assert list(rec["Клиент"]) == ["ООО «Должник»"]
    skipped = frame_with(at, "Адрес", "Причина")
    assert list(skipped["Адрес"]) == ["refuser@firm.ru"]
    assert skipped["Причина"][0].startswith("отказ от рассылки (")
    assert "Получателей: 1" in shown(at)
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Скачать получателей (Excel)" in labels and "Скачать пропущенных (Excel)" in labels
    assert ids["Плательщик"] not in ab.client_ids(store, actor, book["id"])


def test_preview_before_saving_shows_the_recipients_and_saves_nothing(open_app, store, actor):
    _debtors(store, actor)
    at = open_app(PAGE)
    at.checkbox(key="ab.new.invoiced").check()
    press(at, "Предпросмотр")
    assert "Предпросмотр: получателей 1" in shown(at)
    assert list(frame_with(at, "E-mail", "Клиент")["E-mail"]) == ["debtor@firm.ru"]
    assert ab.list_books(store, actor) == []


def test_a_book_without_a_name_is_refused_naming_the_field(open_app, store, actor):
    at = open_app(PAGE)
    at.checkbox(key="ab.new.all").check()
    press(at, "Создать книгу")
    assert any("Название книги" in e.value for e in at.error)
    assert ab.list_books(store, actor) == []


def test_the_sms_section_counts_drops_and_offers_both_files(open_app, store, actor):
    ids = _debtors(store, actor)
    with store.write() as conn:
        conn.execute("UPDATE clients SET phone = '+7 12' WHERE id = ?", (ids["Отказник"],))
    c = clients.get(store, actor, ids["Должник"])
    contacts.create(store, actor, c["id"], {"name": "Дубль", "mobile": c["phone"],
                                            "consent_sms": 1})
    book = ab.create_book(store, actor, "Должники", {"invoiced_unpaid": True})
    at = open_app(PAGE, state={"ab.pick": book["id"]})
    at.radio(key="ab.section").set_value("phones").run()
    assert not at.exception
    table = frame_with(at, "phone", "name", "client")
    assert list(table["phone"]) == [c["phone"]]
    dropped = frame_with(at, "Причина", "Номеров")
    assert dict(zip(dropped["Причина"], dropped["Номеров"], strict=True)) == {
        "неверный номер": 1, "дубль": 1}
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Скачать для SMS (Excel)", "Скачать для SMS (CSV)"} <= set(labels)
    at.toggle(key="ab.phones.mobile").set_value(True).run()
    assert not at.exception
    expected = phones.for_book(store, actor, book["id"], mobile_only=True)
    assert f"Номеров: {len(expected.rows)}" in shown(at)


def test_a_call_list_shows_the_extension_column(open_app, store, actor):
    clients.create(store, actor, {"name": "ООО «Офис»", "phone": "+7 495 500-55-50 доб. 123"})
    consent.record(store, actor, {"channel": "phone", "value": "+74955005550"})
    book = ab.create_book(store, actor, "Офис", {"all_clients": True})
    at = open_app(PAGE, state={"ab.pick": book["id"]})
    at.radio(key="ab.section").set_value("phones").run()
    assert list(frame_with(at, "phone", "name").columns)[:2] == ["phone", "name"]
    at.radio(key="ab.phones.purpose").set_value("calls").run()
    assert not at.exception
    table = frame_with(at, "phone", "ext", "name")
    assert list(table["ext"]) == ["123"] and list(table["phone"]) == ["+74955005550"]
    labels = [b.proto.label for b in at.get("download_button")]
    assert {"Скачать для обзвона (Excel)", "Скачать для обзвона (CSV)"} <= set(labels)


def test_manual_add_and_remove_and_a_snapshot_refresh(open_app, store, actor):
    ids = _debtors(store, actor)
    book = ab.create_book(store, actor, "Снимок", {"invoiced_unpaid": True}, kind="snapshot")
    at = open_app(PAGE, state={"ab.pick": book["id"]})
    at.radio(key="ab.section").set_value("manual").run()
    at.text_input(key="ab.manual.q").input("Плательщик").run()
    at.multiselect(key="ab.manual.pick").select(ids["Плательщик"]).run()
    press(at, "Добавить в книгу")
    assert ids["Плательщик"] in ab.client_ids(store, actor, book["id"])
    at.radio(key="ab.section").set_value("recipients").run()
    assert "payer@firm.ru" in list(frame_with(at, "E-mail", "Клиент")["E-mail"])
    s = sales.create(store, actor, {"client_id": ids["Плательщик"], "lines": [
        {"name": "Ещё", "qty": 1, "price": 10}]})
    sales.set_status(store, actor, s["id"], "invoiced")
    press(at, "Обновить снимок")
    assert "Снимок обновлён: клиентов 3" in shown(at)


def test_editing_criteria_and_deleting_with_a_confirmation(open_app, store, actor):
    _debtors(store, actor)
    book = ab.create_book(store, actor, "Черновик", {"invoiced_unpaid": True})
    at = open_app(PAGE, state={"ab.pick": book["id"]})
    at.radio(key="ab.section").set_value("edit").run()
    prefix = f"ab.edit.{book['id']}.{book['version']}"
    at.checkbox(key=f"{prefix}.invoiced").uncheck()
    at.checkbox(key=f"{prefix}.all").check()
    press(at, "Сохранить условия")
    assert ab.get_book(store, actor, book["id"])["criteria"] == {"all_clients": True}
    at.radio(key="ab.section").set_value("edit").run()
    assert ab.list_books(store, actor)
    at.button(key="ab.delete").click().run()
    assert not at.exception
    assert ab.list_books(store, actor) == []


def test_a_manager_sees_only_own_books_and_clients(open_app, store, actor, team):
    _debtors(store, actor, owner=team["m2"])
    ab.create_book(store, actor, "Книга админа", {"all_clients": True})
    mine = ab.create_book(store, team["m1"], "Моя", {"all_clients": True})
    at = open_app(PAGE, actor=team["m1"], state={"ab.pick": mine["id"]})
    books = frame_with(at, "Название", "Вид")
    assert list(books["Название"]) == ["Моя"]
    assert "Получателей: 0" in shown(at)
