"""Address books and the consent register against a real SQLite file: every
criterion on a small hand-built data set, consent and opt-out rules, manual
additions and removals, snapshots, manager scope, invalid addresses."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from clientplus_core import sales
from clientplus_core.analytics import segments
from clientplus_core.base.errors import AccessDenied, NotFound, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts
from clientplus_core.outreach import addressbooks as ab
from clientplus_core.outreach import consent
from clientplus_core.sales import catalogue
from clientplus_core.store.db import Store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

TODAY = date.today()
LINE = {"name": "Услуга", "qty": 1, "price": "1000", "vat_code": "22"}


def _day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


class World:
    """Seven clients with hand-known sales, contacts and interactions.

    =====  =====  ===========================================================
    name   owner  what
    =====  =====  ===========================================================
    alpha  m1     invoiced, unpaid; plan due 40 days ago (overdue 40)
    beta   m1     product X, went to "paid" and is paid in full
    gamma  m2     partly paid (700 of 1000); plan due 5 days ago; shared with m1
    delta  m2     product X in negotiation; a call today
    eps    —      product X: paid once, back to partly paid, paid in full;
                  a contact's birthday is this month
    zeta   —      product X, lost
    eta    —      status "invoiced" but paid in full (status not moved)
    =====  =====  ===========================================================
    """

    def __init__(self, store: Store, admin: Actor):
        self.store, self.admin = store, admin
        self.m1 = users.create(store, "m1", "Менеджер Один", "manager")
        self.m2 = users.create(store, "m2", "Менеджер Два", "manager")
        self.x = catalogue.create(store, admin, {"name": "Станок X", "price": "1000",
                                                 "vat_code": "22"})["id"]
        self.y = catalogue.create(store, admin, {"name": "Прочее Y", "price": "500",
                                                 "vat_code": "22"})["id"]
        mk = self.client
        self.alpha = mk("Альфа", "alpha@alpha.ru", self.m1)
        self.beta = mk("Бета", "beta@beta.ru", self.m1)
        self.gamma = mk("Гамма", "gamma@gamma.ru", self.m2)
        self.delta = mk("Дельта", "delta@delta.ru", self.m2)
        self.eps = mk("Эпсилон", "eps@eps.ru", None)
        self.zeta = mk("Зета", "zeta@zeta.ru", None)
        self.eta = mk("Эта", "eta@eta.ru", None)
        clients.share(store, admin, self.gamma, [self.m1.id])

        s = self.sale(self.alpha, [LINE], "invoiced")
        sales.add_planned_payment(store, admin, s, 1000, _day(40))
        self.alpha_sale = s
        s = self.sale(self.beta, [self.item(self.x)], "invoiced")
        sales.add_payment(store, admin, s, 1000, _day(3))
        sales.set_status(store, admin, s, "paid")
        s = self.sale(self.gamma, [LINE], "partly_paid")
        sales.add_planned_payment(store, admin, s, 1000, _day(5))
        sales.add_payment(store, admin, s, 700, _day(4))
        self.gamma_sale = s
        self.delta_sale = self.sale(self.delta, [self.item(self.x)], "negotiation")
        sales.add_contact_event(store, admin, {"client_id": self.delta, "channel": "call",
                                               "subject": "Звонок", "at": _day(0)})
        s = self.sale(self.eps, [self.item(self.x), self.item(self.y)], "paid")
        sales.set_status(store, admin, s, "partly_paid")
        sales.add_payment(store, admin, s, 2000, _day(2))   # paid in full after all
        contacts.create(store, admin, self.eps, {
            "name": "Именинник", "email": "birthday@eps.ru", "consent_email": 1,
            "birthday": date(1980, TODAY.month, 1).isoformat()})
        s = self.sale(self.zeta, [self.item(self.x)], "negotiation")
        sales.set_status(store, admin, s, "lost", reason="Дорого")
        s = self.sale(self.eta, [LINE], "invoiced")
        sales.add_payment(store, admin, s, 1000, _day(1))

    def client(self, name: str, email: str, owner: Actor | None) -> int:
        row = clients.create(self.store, self.admin, {
            "name": f"ООО «{name}»", "email": email,
            "owner_id": owner.id if owner else None}, allow_duplicate=True)
        consent.record(self.store, self.admin, {"channel": "email", "value": email,
                                                "source": "договор"})
        return int(row["id"])

    def item(self, item_id: int) -> dict[str, Any]:
        return {"catalogue_id": item_id, "name": "позиция", "qty": 1, "price": "1000",
                "vat_code": "22"}

    def sale(self, client_id: int, lines: list[dict[str, Any]], status: str) -> int:
        sid = int(sales.create(self.store, self.admin, {"client_id": client_id,
                                                        "lines": lines})["id"])
        if status != "lead":
            sales.set_status(self.store, self.admin, sid, status)
        return sid


@pytest.fixture
def w(store: Store, actor: Actor) -> World:
    return World(store, actor)


def ids(w: World, criteria: dict[str, Any], who: Actor | None = None) -> set[int]:
    return set(ab.evaluate(w.store, who or w.admin, criteria))


# --- each criterion against hand-computed expectations -------------------------------------

def test_invoiced_but_not_paid_uses_status_flags_and_the_paid_amount(w):
    # alpha: invoiced, nothing paid; gamma: partly paid. eta is "invoiced" but paid in
    # full; beta and eps are in paid statuses / a paid-flag status; zeta lost.
    assert ids(w, {"invoiced_unpaid": True}) == {w.alpha, w.gamma}


def test_a_renamed_status_keeps_working_because_flags_not_names_are_read(w):
    with w.store.write() as conn:
        conn.execute("UPDATE sale_statuses SET label = 'Счёт отправлен клиенту'"
                     " WHERE code = 'invoiced'")
    assert ids(w, {"invoiced_unpaid": True}) == {w.alpha, w.gamma}


def test_overdue_more_than_n_days(w):
    assert ids(w, {"overdue_days": 30}) == {w.alpha}
    assert ids(w, {"overdue_days": 4}) == {w.alpha, w.gamma}
    assert ids(w, {"overdue_days": 40}) == set()   # exactly 40 days is not "more than 40"


def test_interested_in_product_means_a_sale_with_it_that_never_reached_paid(w):
    # beta: paid; eps: was paid once (status log); zeta: lost; delta: negotiation
    assert ids(w, {"product_id": w.x}) == {w.delta}
    assert ids(w, {"product_id": w.y}) == set()


def test_clients_of_a_manager(w):
    assert ids(w, {"owner_id": w.m1.id}) == {w.alpha, w.beta}
    assert ids(w, {"owner_id": w.m2.id}) == {w.gamma, w.delta}


def test_no_contact_for_n_days(w):
    everyone = {w.alpha, w.beta, w.gamma, w.delta, w.eps, w.zeta, w.eta}
    assert ids(w, {"no_contact_days": 30}) == everyone - {w.delta}
    sales.add_contact_event(w.store, w.admin, {"client_id": w.alpha, "channel": "email",
                                               "subject": "Письмо", "at": _day(45)})
    assert w.alpha in ids(w, {"no_contact_days": 30})
    assert w.alpha not in ids(w, {"no_contact_days": 60})


def test_birthday_this_month_reads_contacts_and_a_person_clients_birth_date(w, store, actor):
    person = clients.create(store, actor, {
        "kind": "person", "name": "Иванов Иван", "email": "ivanov@mail.ru",
        "extra": {"birth_date": date(1990, TODAY.month, 15).isoformat()}})
    other_month = (TODAY.month % 12) + 1
    clients.create(store, actor, {"kind": "person", "name": "Петров Пётр",
                                  "extra": {"birth_date": date(1990, other_month, 15).isoformat()}})
    assert ids(w, {"birthday_month": True}) == {w.eps, person["id"]}


def test_a_birthday_book_writes_and_phones_only_to_the_celebrants(w, store, actor):
    from clientplus_core.outreach import phones

    this_month = date(1985, TODAY.month, 3).isoformat()
    other_month = date(1985, TODAY.month % 12 + 1, 3).isoformat()
    # a person celebrating, with a relative in the card who does not
    person = clients.create(store, actor, {
        "kind": "person", "name": "Сидорова Анна", "email": "anna@mail.ru",
        "phone": "+7 916 000-00-01", "extra": {"birth_date": this_month}})["id"]
    contacts.create(store, actor, person, {"name": "Сидоров Олег", "email": "oleg@mail.ru",
                                           "mobile": "+7 916 000-00-02", "consent_email": 1,
                                           "consent_sms": 1, "birthday": other_month})
    # a company whose celebrating contact has no address at all: nobody is greeted
    quiet = clients.create(store, actor, {"name": "ООО «Тишина»", "email": "office@tih.ru"})
    contacts.create(store, actor, quiet["id"], {"name": "Без адреса", "birthday": this_month})
    for value in ("anna@mail.ru", "office@tih.ru"):
        consent.record(store, actor, {"channel": "email", "value": value, "source": "анкета"})
    consent.record(store, actor, {"channel": "phone", "value": "+79160000001",
                                  "source": "анкета"})
    book = ab.create_book(store, actor, "Именинники", {"birthday_month": True})
    ab.add_clients(store, actor, book["id"], [w.alpha])   # by hand: all its addresses
    assert set(ab.client_ids(store, actor, book["id"])) == {w.alpha, w.eps, person,
                                                            quiet["id"]}
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    # eps: its birthday contact, not the company's own eps@eps.ru
    assert [(r.email, r.client_id) for r in recipients] == [
        ("alpha@alpha.ru", w.alpha), ("birthday@eps.ru", w.eps), ("anna@mail.ru", person)]
    assert skipped == []
    assert [r.email for r in ab.preview(store, actor, {"birthday_month": True})[0]] == [
        "birthday@eps.ru", "anna@mail.ru"]
    # the phone list of the same book: Anna's own number, not her relative's mobile
    assert [row[0] for row in phones.for_book(store, actor, book["id"]).rows] == [
        "+79160000001"]
    # any other book addresses everybody in the card
    everyone = ab.create_book(store, actor, "Все", {"all_clients": True})
    emails = {r.email for r in ab.email_recipients(store, actor, everyone["id"])[0]}
    assert {"eps@eps.ru", "birthday@eps.ru", "anna@mail.ru", "oleg@mail.ru",
            "office@tih.ru"} <= emails


def test_saved_segment_criterion_and_the_and_of_criteria(w, store, actor):
    clients.update(store, actor, w.alpha, {"source": "Выставка"},
                   clients.get(store, actor, w.alpha)["version"])
    clients.update(store, actor, w.gamma, {"source": "Выставка"},
                   clients.get(store, actor, w.gamma)["version"])
    clients.update(store, actor, w.beta, {"source": "Выставка"},
                   clients.get(store, actor, w.beta)["version"])
    segments.save(store, actor, "С выставки", {"source": ["Выставка"]})
    seg = {"segment": "С выставки"}
    assert set(segments.client_ids(store, actor, "С выставки", engine="sqlite")) == {
        w.alpha, w.gamma, w.beta}
    assert ids(w, seg) == {w.alpha, w.gamma, w.beta}
    assert ids(w, {**seg, "invoiced_unpaid": True, "owner_id": w.m1.id}) == {w.alpha}


def test_empty_criteria_hold_nobody_and_unknown_or_bad_criteria_are_refused(w):
    assert ids(w, {}) == set()
    with pytest.raises(ValidationError, match="Неизвестное условие"):
        ab.evaluate(w.store, w.admin, {"shoe_size": 42})
    with pytest.raises(ValidationError, match="целое число"):
        ab.evaluate(w.store, w.admin, {"overdue_days": "много"})


# --- recipients: consent, opt-outs, dedup, invalid addresses --------------------------------

def test_recipients_with_consent_and_the_latest_matching_sale(w):
    book = ab.create_book(w.store, w.admin, "Должники", {"invoiced_unpaid": True})
    recipients, skipped = ab.email_recipients(w.store, w.admin, book["id"])
    assert [(r.email, r.client_id, r.sale_id) for r in recipients] == [
        ("alpha@alpha.ru", w.alpha, w.alpha_sale), ("gamma@gamma.ru", w.gamma, w.gamma_sale)]
    assert recipients[0].name == "ООО «Альфа»"
    assert skipped == []


def test_an_optout_always_wins_even_over_a_consent_and_a_contact_flag(w, store, actor):
    contacts.create(store, actor, w.alpha, {"name": "Бухгалтер", "email": "buh@alpha.ru",
                                            "consent_email": 1})
    book = ab.create_book(store, actor, "Альфа", {"owner_id": w.m1.id})
    emails = {r.email for r in ab.email_recipients(store, actor, book["id"])[0]}
    assert {"alpha@alpha.ru", "buh@alpha.ru"} <= emails
    consent.record_optout(store, None, "email", "ALPHA@alpha.ru", "ссылка отписки")
    consent.record_optout(store, actor, "email", "buh@alpha.ru", "письмо", "просил не писать")
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    assert {r.email for r in recipients}.isdisjoint({"alpha@alpha.ru", "buh@alpha.ru"})
    reasons = {s.value: s.reason for s in skipped}
    day = TODAY.strftime("%d.%m.%Y")
    assert reasons["alpha@alpha.ru"] == f"отказ от рассылки ({day}, ссылка отписки)"
    assert reasons["buh@alpha.ru"] == f"отказ от рассылки ({day}, письмо)"
    with store.read() as conn:
        assert not consent.is_allowed(conn, "email", "buh@alpha.ru", contact_flag=True)
        assert consent.is_allowed(conn, "email", "beta@BETA.ru")
        assert not consent.is_allowed(conn, "email", "nobody@nowhere.ru")
        assert consent.is_allowed(conn, "email", "nobody@nowhere.ru", contact_flag=True)
        assert not consent.is_allowed(conn, "email", "not an address", contact_flag=True)


def test_no_consent_is_skipped_and_a_contact_flag_counts_as_consent(w, store, actor):
    cid = clients.create(store, actor, {"name": "ООО «Без согласия»", "email": "no@cons.ru",
                                        "owner_id": w.m1.id})["id"]
    contacts.create(store, actor, cid, {"name": "Согласный", "email": "yes@cons.ru",
                                        "consent_email": 1})
    contacts.create(store, actor, cid, {"name": "Молчун", "email": "quiet@cons.ru"})
    book = ab.create_book(store, actor, "Согласия", {"owner_id": w.m1.id})
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    assert "yes@cons.ru" in {r.email for r in recipients}
    yes = next(r for r in recipients if r.email == "yes@cons.ru")
    assert (yes.name, yes.client_id) == ("Согласный", cid)
    assert {(s.value, s.reason) for s in skipped} == {("no@cons.ru", "нет согласия"),
                                                      ("quiet@cons.ru", "нет согласия")}


def test_duplicates_are_removed_by_address_and_reported(w, store, actor):
    contacts.create(store, actor, w.alpha, {"name": "Директор", "email": "Alpha@Alpha.ru"})
    contacts.create(store, actor, w.beta, {"name": "Общий", "email": "alpha@alpha.ru"})
    book = ab.create_book(store, actor, "Дубли", {"owner_id": w.m1.id}, channels="both")
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    assert [r.email for r in recipients].count("alpha@alpha.ru") == 1
    first = next(r for r in recipients if r.email == "alpha@alpha.ru")
    assert (first.client_id, first.contact_id) == (w.alpha, None)   # the client's own first
    assert sorted((s.client_id, s.reason) for s in skipped) == [(w.alpha, "дубль"),
                                                               (w.beta, "дубль")]


def test_channels_choose_the_clients_or_the_contacts_addresses(w, store, actor):
    contacts.create(store, actor, w.alpha, {"name": "Контакт", "email": "c@alpha.ru",
                                            "consent_email": 1})
    only_client = ab.create_book(store, actor, "К", {"owner_id": w.m1.id}, channels="client")
    only_contacts = ab.create_book(store, actor, "Ко", {"owner_id": w.m1.id},
                                   channels="contacts")
    assert {r.email for r in ab.email_recipients(store, actor, only_client["id"])[0]} == {
        "alpha@alpha.ru", "beta@beta.ru"}
    assert {r.email for r in ab.email_recipients(store, actor, only_contacts["id"])[0]} == {
        "c@alpha.ru"}


def test_an_invalid_address_is_skipped_and_reported_not_fatal(w, store, actor):
    with store.write() as conn:   # e.g. an old import that bypassed validation
        conn.execute("UPDATE clients SET email = 'бухгалтерия собака альфа' WHERE id = ?",
                     (w.alpha,))
    book = ab.create_book(store, actor, "Плохой адрес", {"invoiced_unpaid": True})
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    assert [r.email for r in recipients] == ["gamma@gamma.ru"]
    assert [(s.client_id, s.value, s.reason) for s in skipped] == [
        (w.alpha, "бухгалтерия собака альфа", "неверный адрес")]


# --- manual changes, snapshots ---------------------------------------------------------------

def test_manual_additions_and_removals_survive_reevaluation(w, store, actor):
    book = ab.create_book(store, actor, "Ручные", {"invoiced_unpaid": True})
    ab.add_clients(store, actor, book["id"], [w.zeta])
    ab.remove_clients(store, actor, book["id"], [w.gamma])
    assert ab.client_ids(store, actor, book["id"]) == sorted([w.alpha, w.zeta])
    # alpha pays: it leaves the live book; the manual marks stay
    sales.add_payment(store, actor, w.alpha_sale, 1000)
    assert ab.client_ids(store, actor, book["id"]) == [w.zeta]
    ab.set_manual(store, actor, book["id"], [w.gamma], "clear")
    assert ab.client_ids(store, actor, book["id"]) == sorted([w.gamma, w.zeta])
    got = ab.get_book(store, actor, book["id"])["counts"]
    assert got == {"included": 1, "excluded": 0, "snapshot": 0}


def test_a_snapshot_stays_frozen_until_refreshed(w, store, actor):
    live = ab.create_book(store, actor, "Живая", {"invoiced_unpaid": True})
    snap = ab.create_book(store, actor, "Снимок", {"invoiced_unpaid": True}, kind="snapshot")
    assert ab.client_ids(store, actor, snap["id"]) == sorted([w.alpha, w.gamma])
    sales.add_payment(store, actor, w.alpha_sale, 1000)
    s = sales.create(store, actor, {"client_id": w.eps, "lines": [LINE]})
    sales.set_status(store, actor, s["id"], "invoiced")
    assert ab.client_ids(store, actor, live["id"]) == sorted([w.gamma, w.eps])
    assert ab.client_ids(store, actor, snap["id"]) == sorted([w.alpha, w.gamma])
    assert ab.refresh_snapshot(store, actor, snap["id"]) == 2
    assert ab.client_ids(store, actor, snap["id"]) == sorted([w.gamma, w.eps])
    with pytest.raises(ValidationError, match="снимок"):
        ab.refresh_snapshot(store, actor, live["id"])


# --- scope -----------------------------------------------------------------------------------

def test_a_managers_book_never_yields_another_managers_client(w, store):
    m1 = w.m1
    book = ab.create_book(store, m1, "Все мои", {"all_clients": True})
    # own: alpha, beta; shared with m1: gamma
    assert ab.client_ids(store, m1, book["id"]) == sorted([w.alpha, w.beta, w.gamma])
    theirs = ab.create_book(store, m1, "Клиенты m2", {"owner_id": w.m2.id})
    assert ab.client_ids(store, m1, theirs["id"]) == [w.gamma]   # only the shared one
    ab.add_clients(store, m1, book["id"], [w.delta, w.zeta])    # not visible: ignored
    assert ab.client_ids(store, m1, book["id"]) == sorted([w.alpha, w.beta, w.gamma])
    emails = {r.email for r in ab.email_recipients(store, m1, book["id"])[0]}
    assert emails == {"alpha@alpha.ru", "beta@beta.ru", "gamma@gamma.ru"}
    # a snapshot frozen by the admin, used by the manager, is still narrowed
    snap = ab.create_book(store, w.admin, "Все", {"all_clients": True}, kind="snapshot")
    with pytest.raises(NotFound):
        ab.client_ids(store, m1, snap["id"])          # the admin's book is not m1's
    assert len(ab.client_ids(store, w.admin, snap["id"])) == 7
    # m2 cannot see or edit m1's book
    with pytest.raises(NotFound):
        ab.get_book(store, w.m2, book["id"])
    assert [b["name"] for b in ab.list_books(store, w.m2)] == []


def test_a_viewer_may_read_but_not_build_books(w, store):
    viewer = users.create(store, "v1", "Наблюдатель", "viewer")
    with pytest.raises(AccessDenied):
        ab.create_book(store, viewer, "Нельзя", {"all_clients": True})
    with pytest.raises(AccessDenied):
        consent.record(store, viewer, {"channel": "email", "value": "a@b.ru"})
    assert consent.list_entries(store, viewer)  # the register is readable


def test_names_are_unique_per_owner_and_required(w, store, actor):
    ab.create_book(store, actor, "Книга", {"all_clients": True})
    with pytest.raises(ValidationError, match="уже есть"):
        ab.create_book(store, actor, " Книга ", {})
    with pytest.raises(ValidationError, match="обязательное"):
        ab.create_book(store, actor, "  ", {})
    ab.create_book(store, w.m1, "Книга", {"all_clients": True})   # another owner: fine


def test_update_and_delete_a_book(w, store, actor):
    book = ab.create_book(store, actor, "Черновик", {"owner_id": w.m1.id})
    new = ab.update_book(store, actor, book["id"], version=book["version"],
                         name="Чистовик", criteria={"owner_id": w.m2.id}, channels="client")
    assert (new["name"], new["criteria"], new["channels"]) == ("Чистовик",
                                                             {"owner_id": w.m2.id}, "client")
    assert ab.client_ids(store, actor, book["id"]) == sorted([w.gamma, w.delta])
    from clientplus_core.base.errors import ConflictError
    with pytest.raises(ConflictError):
        ab.update_book(store, actor, book["id"], version=book["version"], name="Старое")
    ab.delete_book(store, actor, book["id"])
    with pytest.raises(NotFound):
        ab.get_book(store, actor, book["id"])


# --- the register itself ------------------------------------------------------------------

def test_the_register_keeps_one_entry_per_value_with_history_in_audit(store, actor):
    first = consent.record(store, actor, {"channel": "phone", "value": "8 (916) 123-45-67",
                                          "status": "consent", "date": "01.02.2026",
                                          "source": "форма на сайте"})
    assert (first["value"], first["date"]) == ("+79161234567", "2026-02-01")
    consent.record_optout(store, actor, "phone", "+7 916 123 45 67", "звонок")
    entries = consent.list_entries(store, actor, channel="phone")
    assert [(e["value"], e["status"], e["source"]) for e in entries] == [
        ("+79161234567", "optout", "звонок")]
    hist = consent.history(store, actor, first["id"])
    assert [h["action"] for h in hist] == ["consent.optout", "consent.record"]
    with pytest.raises(ValidationError) as err:
        consent.record(store, actor, {"channel": "phone", "value": "12345"})
    assert "value" in err.value.errors
    e = consent.update(store, actor, first["id"], {"note": "просил звонить", "status": "consent"},
                       entries[0]["version"])
    assert (e["status"], e["note"]) == ("consent", "просил звонить")
    assert consent.list_entries(store, actor, status="optout") == []
    consent.delete(store, actor, first["id"])
    assert consent.list_entries(store, actor) == []
    with store.read() as conn:   # the deletion is in the audit log too
        assert conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'consent' AND"
                            " action = 'consent.delete'").fetchone()[0] == 1


def test_register_export_and_import(store, actor):
    import io

    from openpyxl import load_workbook

    consent.record(store, actor, {"channel": "email", "value": "A@B.ru", "source": "письмо"})
    wb = load_workbook(io.BytesIO(consent.to_xlsx(store, actor)))
    rows = list(wb.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("Канал", "Адрес / телефон", "Статус", "Дата")
    assert rows[1][:3] == ("E-mail", "a@b.ru", "Согласие")
    csv = ("Канал;Адрес / телефон;Статус;Дата;Источник\n"
           "email;new@b.ru;отказ;2026-03-01;ссылка отписки\n"
           "phone;не номер;согласие;;\n").encode()
    saved, errors = consent.import_table(store, actor, csv, "reg.csv")
    assert saved == 1 and len(errors) == 1 and errors[0].startswith("строка 3")
    got = {e["value"]: e["status"] for e in consent.list_entries(store, actor)}
    assert got == {"a@b.ru": "consent", "new@b.ru": "optout"}


def test_an_optout_of_a_non_ascii_address_is_found_whatever_its_case(w, store, actor):
    # SQLite's lower() leaves Cyrillic letters as they are: the Python-side lookup
    # must still find the opt-out, or a refused address would get letters
    cid = clients.create(store, actor, {"name": "ООО «Кириллица»", "email": "Иван@почта.рф",
                                        "owner_id": w.m1.id})["id"]
    contacts.create(store, actor, cid, {"name": "Пётр", "email": "ПЁТР@почта.рф",
                                        "consent_email": 1})
    consent.record(store, actor, {"channel": "email", "value": "Иван@почта.рф"})
    consent.record_optout(store, actor, "email", "пётр@почта.рф", "письмо")
    book = ab.create_book(store, actor, "Кириллица", {"owner_id": w.m1.id})
    recipients, skipped = ab.email_recipients(store, actor, book["id"])
    assert "иван@почта.рф" in {r.email for r in recipients}
    assert {(s.value, s.reason.split(" (")[0]) for s in skipped} == {
        ("пётр@почта.рф", "отказ от рассылки")}


def test_an_unlinked_optout_is_linked_to_the_client_and_follows_its_scope(w, store, actor):
    consent.record_optout(store, None, "email", "Gamma@Gamma.ru", "ссылка отписки")
    consent.record_optout(store, None, "email", "stranger@nowhere.ru", "ссылка отписки")
    entry = next(e for e in consent.list_entries(store, actor) if e["value"] == "gamma@gamma.ru")
    assert entry["client_id"] == w.gamma
    m1_sees = {e["value"] for e in consent.list_entries(store, w.m1)}
    m2 = w.m2
    c = clients.create(store, m2, {"name": "ООО «Только m2»", "email": "only@m2.ru"})
    consent.record_optout(store, None, "email", "only@m2.ru", "письмо")
    assert "gamma@gamma.ru" in m1_sees                 # gamma is shared with m1
    assert "stranger@nowhere.ru" in m1_sees            # no client: visible to all
    m1_now = {e["value"] for e in consent.list_entries(store, w.m1)}
    assert "only@m2.ru" not in m1_now
    assert "only@m2.ru" in {e["value"] for e in consent.list_entries(store, m2)}
    assert consent.list_entries(store, actor, text="only@")[0]["client_id"] == c["id"]


def test_only_the_head_or_the_administrator_lifts_an_optout(w, store, actor):
    from clientplus_core.base.errors import AccessDenied

    consent.record_optout(store, None, "email", "alpha@alpha.ru", "ссылка отписки")
    entry = consent.list_entries(store, actor, channel="email", status="optout")[0]
    assert entry["value"] == "alpha@alpha.ru"
    # a manager may neither turn it into a consent nor delete it, by any path
    with pytest.raises(AccessDenied, match="снять отказ может только руководитель"):
        consent.record(store, w.m1, {"channel": "email", "value": "alpha@alpha.ru",
                                     "status": "consent", "source": "звонок"})
    with pytest.raises(AccessDenied):
        consent.update(store, w.m1, entry["id"], {"status": "consent"}, entry["version"])
    with pytest.raises(AccessDenied):
        consent.delete(store, w.m1, entry["id"])
    saved, errors = consent.import_rows(store, w.m1, [
        {"channel": "email", "value": "alpha@alpha.ru", "status": "consent"}])
    assert saved == 0 and errors and errors[0].startswith("строка 2:")
    assert consent.get(store, actor, entry["id"])["status"] == "optout"
    # the manager may still record more opt-outs; the head lifts one
    consent.record(store, w.m1, {"channel": "email", "value": "alpha@alpha.ru",
                                 "status": "optout", "source": "письмо"})
    head = users.create(store, "boss", "Руководитель", "head")
    fresh = consent.get(store, actor, entry["id"])
    consent.update(store, head, entry["id"], {"status": "consent", "source": "звонок"},
                   fresh["version"])
    assert consent.get(store, actor, entry["id"])["status"] == "consent"
