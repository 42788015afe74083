"""Issue 13, part 2, in a real browser on demo data: the dashboard, the sales register
at 1440 px (totals shown in full, both debts named) and a client card's history in
Russian sentences and Moscow time — screenshots in RU and EN for people to look at."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from clientplus_core import demo, sales
from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

LONG = 40_000


def _data(tmp_path: Path) -> tuple[Path, int, dict[str, object]]:
    data = tmp_path / "demo"
    store = open_store(data)
    demo.generate(store, 40, seed=7, with_files=False)
    demo.generate_sales(store, 150, seed=7)
    admin = users.ensure_local_admin(store)
    client = clients.create(store, admin, {"name": "ООО «Ромашка»", "kind": "legal"})
    sale = sales.create(store, admin, {"client_id": client["id"], "title": "Поставка",
                                       "lines": [{"name": "Монтаж", "qty": 1,
                                                  "price": "12000", "vat_code": "22"}]})
    sales.set_status(store, admin, sale["id"], "invoiced")
    sales.add_payment(store, admin, sale["id"], "12000")
    sales.add_contact_event(store, admin, {"sale_id": sale["id"], "channel": "call",
                                           "subject": "Уточнили адрес"})
    clients.update(store, admin, client["id"], {"phone": "+7 495 500-55-50"},
                   clients.get(store, admin, client["id"])["version"])
    return data, int(client["id"]), sales.list_sales(store, admin).sums


def _english(page) -> None:
    """Switch the interface to English unless it already is."""
    if page.get_by_test_id("stSidebar").get_by_text("Work", exact=True).count():
        return
    page.get_by_test_id("stSidebar").get_by_text("EN", exact=True).click()
    wait_idle(page, 40)


def _not_cut(page, test_id: str) -> None:
    """No element with ``test_id`` is wider than its box (no «468 391 919,…»)."""
    cut = page.evaluate(
        "id => [...document.querySelectorAll(`[data-testid=\"${id}\"]`)]"
        ".filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.textContent)", test_id)
    assert cut == [], cut


def test_dashboard_register_and_history_read_in_russian_and_english(
        server_factory, page, tmp_path: Path) -> None:
    data, client_id, sums = _data(tmp_path)
    srv = server_factory(data)
    page.set_viewport_size({"width": 1440, "height": 1000})
    unpaid = f"{sums['unpaid']:,.2f}".replace(",", " ").replace(".", ",") + " ₽"

    page.goto(f"{srv.url}/sales")
    wait_idle(page, 60)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Не оплачено по продажам")).to_be_visible(timeout=LONG)
    expect(main.get_by_text("Дебиторская задолженность по выставленным счетам")).to_be_visible()
    expect(main.get_by_text(unpaid, exact=True)).to_be_visible()
    _not_cut(page, "stMetricValue")
    expect(main.get_by_text("дд", exact=True).first).to_be_visible()  # not «dd.mm.yyyy»
    shot(page, "t13-sales-register-ru")

    page.goto(f"{srv.url}/dashboard")
    wait_idle(page, 60)
    expect(main.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    expect(main.get_by_text("Дебиторская задолженность", exact=True)).to_be_visible()
    # plotly draws its axes after the plot's box appears: wait for the first tick label
    expect(main.locator(".js-plotly-plot .ytick text").first).to_be_attached(timeout=LONG)
    ticks = main.locator(".js-plotly-plot .ytick text").all_text_contents()
    assert ticks and not any(t.endswith(("k", "M", "G")) for t in ticks), ticks
    shot(page, "t13-dashboard-ru")

    page.goto(f"{srv.url}/client?id={client_id}")
    wait_idle(page, 60)
    main.get_by_role("tab", name="История").click()
    wait_idle(page, 40)
    expect(main.get_by_test_id("stTable").first).to_be_visible(timeout=LONG)
    expect(main.get_by_test_id("stTable").first.get_by_text(
        "Добавлен платёж 12 000,00 ₽", exact=False).first).to_be_visible(timeout=LONG)
    shot(page, "t13-client-history-ru")

    _english(page)
    main.get_by_role("tab", name="History").click()
    wait_idle(page, 40)
    expect(main.get_by_test_id("stTable").first).to_be_visible(timeout=LONG)
    shot(page, "t13-client-history-en")

    page.goto(f"{srv.url}/sales")
    wait_idle(page, 60)
    _english(page)
    expect(main.get_by_text("Unpaid on sales")).to_be_visible(timeout=LONG)
    expect(main.get_by_text(f"{sums['unpaid']:,.2f} ₽", exact=True)).to_be_visible()
    expect(main.get_by_text("dd", exact=True).first).to_be_visible()  # Streamlit's own again
    _not_cut(page, "stMetricValue")
    shot(page, "t13-sales-register-en")

    page.goto(f"{srv.url}/dashboard")
    wait_idle(page, 60)
    _english(page)
    expect(main.locator(".js-plotly-plot").first).to_be_visible(timeout=LONG)
    shot(page, "t13-dashboard-en")
