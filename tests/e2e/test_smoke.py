"""The app starts on a real server and shows the registry with seeded clients."""

from __future__ import annotations

from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle


def test_the_registry_page_lists_clients_from_the_data_folder(server_factory, page, tmp_path):
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    clients.create(store, admin, {"name": "ООО «Смоук Тест»", "inn": "7707083893"})
    srv = server_factory(data)
    page.goto(srv.url + "/")
    wait_idle(page)
    # st.dataframe draws its cells on a canvas: check the caption and the grid's
    # accessible copy of the cell.
    page.get_by_text("Найдено клиентов: 1").wait_for()
    page.locator('[role="gridcell"]', has_text="ООО «Смоук Тест»").first.wait_for(state="attached")
    shot(page, "smoke-registry")
