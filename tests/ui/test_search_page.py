"""The search page and the sidebar search box, driven with AppTest through app.py."""

from __future__ import annotations

import io

import pytest
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import contacts, files, text_jobs


@pytest.fixture
def app(open_app):
    """``app(q)``: the search page opened with ``?q=``; ``app()``: the start page."""
    return lambda q=None: open_app("pages/search.py", q=q) if q is not None else open_app()


def card_links(at: AppTest) -> list[tuple[str, str]]:
    return [(p.proto.label, p.proto.query_string) for p in at.page_link
            if p.proto.query_string.startswith("id=")]


def test_a_hit_is_highlighted_and_links_to_the_card(app, make_client):
    c = make_client(name="ООО «Ромашка»", inn="7707083893")
    make_client(name="ООО «Лютик»")
    at = app("ромаш")
    assert at.text_input(key="sp.q").value == "ромаш"
    assert any("<mark>Ромаш</mark>ка" in h.value and "Клиент" in h.value for h in at.html)
    assert card_links(at) == [("Открыть карточку", f"id={c['id']}")]


def test_contacts_and_file_text_are_found_with_their_client(app, store, actor, make_client):
    c = make_client(name="ООО «Вектор»")
    contacts.create(store, actor, c["id"], {"name": "Смирнова Анна", "email": "anna@vector.ru"})
    text = "Счёт на оплату: кабель ВВГнг".encode()
    files.upload(store, actor, c["id"], "счёт.txt", io.BytesIO(text))
    assert text_jobs.wait(store, 60)
    at = app("ВВГнг")
    assert any("Файл" in h.value for h in at.html)
    assert any("<mark>ВВГнг</mark>" in h.value for h in at.html)
    assert card_links(at) == [("ООО «Вектор»", f"id={c['id']}")]
    at.text_input(key="sp.q").input("Смирнова").run()
    assert any("Контакт" in h.value and "<mark>Смирнова</mark>" in h.value for h in at.html)
    assert at.query_params["q"] == "Смирнова"


def test_nothing_found_says_so(app, make_client):
    make_client(name="ООО «Ромашка»")
    at = app("несуществующее")
    assert any("Ничего не найдено" in i.value for i in at.info)
    assert card_links(at) == []


def test_a_script_in_a_name_is_escaped(app, make_client):
    make_client(name="<script>alert(1)</script>")
    at = app("script")
    assert any("&lt;<mark>script</mark>&gt;alert(1)" in h.value for h in at.html)
    assert not any("<script>" in h.value for h in at.html)
    assert not any("<script>" in m.value for m in at.markdown)


def test_a_sale_hit_links_to_the_sale_card(app, make_client, store, actor):
    from clientplus_core import sales

    c = make_client(name="ООО «Покупатель»")
    sale = sales.create(store, actor, {"client_id": c["id"], "title": "Поставка кронштейнов",
                                       "lines": [{"name": "Кронштейн", "qty": "2",
                                                  "price": "100"}]})
    at = app("кронштейн")
    links = [(p.proto.label, p.proto.query_string) for p in at.page_link]
    assert ("Открыть продажу", f"id={sale['id']}") in links
