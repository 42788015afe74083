"""The client card, driven with AppTest through app.py (so page switches work):
save, field-named errors, duplicates, conflicts, contacts, files, links, history."""

from __future__ import annotations

import io

import pytest
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.clients import contacts, files, text_jobs
from clientplus_ui.common import md_escape

from .helpers import press, shown, table_shown


@pytest.fixture
def open_page(open_app):
    """``open_page("pages/client.py", id=5)``: the app on that page with those params."""
    def run(page: str, tab: str | None = None, **params: object) -> AppTest:
        return open_app(page, state={"card.tab": tab} if tab else None, **params)

    return run


def fill(at: AppTest, prefix: str, **values: str) -> None:
    for name, value in values.items():
        at.text_input(key=f"{prefix}.{name}").input(value)


submit = press


def test_a_valid_new_client_is_saved_and_its_card_opens(open_page, store, actor):
    at = open_page("pages/client.py", new=1)
    fill(at, "cf.new.0", name="ООО «Ромашка»", inn="7707083893", phone="8 495 123-45-67")
    submit(at, "Сохранить")
    saved = clients.list_clients(store, actor).rows
    assert [c["name"] for c in saved] == ["ООО «Ромашка»"]
    assert saved[0]["phone"] == "+74951234567"
    assert at.query_params["id"] == str(saved[0]["id"])
    assert "создан" in shown(at)
    assert at.text_input(key=f"cf.{saved[0]['id']}.0.phone").value == "8 (495) 123-45-67"


def test_a_bad_inn_is_named_in_the_error_and_nothing_is_saved(open_page, store, actor):
    at = open_page("pages/client.py", new=1)
    fill(at, "cf.new.0", name="ООО «Ошибка»", inn="7707083894")
    submit(at, "Сохранить")
    assert any("ИНН" in e.value and "контрольная сумма" in e.value for e in at.error)
    assert clients.list_clients(store, actor).total == 0
    assert at.text_input(key="cf.new.0.inn").value == "7707083894"  # typed value kept


def test_an_existing_inn_warns_and_can_still_be_created(open_page, store, actor, make_client):
    first = make_client(name="ООО «Первый»", inn="7707083893")
    at = open_page("pages/client.py", new=1)
    fill(at, "cf.new.0", name="ООО «Второй»", inn="7707083893")
    submit(at, "Сохранить")
    assert "Похожий клиент уже есть" in shown(at)
    assert clients.list_clients(store, actor).total == 1
    assert any(b.label == f"Открыть существующего (№{first['id']})" for b in at.button)
    submit(at, "Всё равно создать")
    assert sorted(c["name"] for c in clients.list_clients(store, actor).rows) == [
        "ООО «Второй»", "ООО «Первый»"]


def test_open_the_existing_one_opens_its_card_at_once(open_page, store, actor, make_client):
    """Issue 13: the first click opens the existing card, and the address no longer
    says ``new=1`` (the link used to show the empty «Новый клиент» form again)."""
    first = make_client(name="ООО «Первый»", inn="7707083893")
    at = open_page("pages/client.py", new=1)
    fill(at, "cf.new.0", name="ООО «Второй»", inn="7707083893")
    submit(at, "Сохранить")
    submit(at, f"Открыть существующего (№{first['id']})")
    assert dict(at.query_params) == {"id": str(first["id"])}
    assert [t.value for t in at.title] == ["ООО «Первый»"]
    assert "Похожий клиент уже есть" not in shown(at)
    assert clients.list_clients(store, actor).total == 1


def test_an_edit_is_saved_and_appears_in_the_history(open_page, store, actor, make_client):
    c = make_client(name="ООО «Старое»")
    at = open_page("pages/client.py", id=c["id"])
    fill(at, f"cf.{c['id']}.0", name="ООО «Новое»", inn="7736207543")
    submit(at, "Сохранить")
    assert clients.get(store, actor, c["id"])["inn"] == "7736207543"
    assert "Сохранено" in shown(at)
    at.session_state["card.tab"] = "История"
    at.run()
    history = table_shown(at)
    said = history.iloc[0]["Что произошло"]
    assert said.startswith("Изменён клиент ООО «Новое»: ")
    assert "ИНН: — → 7736207543" in said


def test_a_concurrent_change_is_reported_not_overwritten(open_page, store, actor, make_client):
    c = make_client(name="ООО «Общий»")
    at = open_page("pages/client.py", id=c["id"])
    clients.update(store, actor, c["id"], {"notes": "позвонить в понедельник"}, c["version"])
    fill(at, f"cf.{c['id']}.0", name="ООО «Мой вариант»")
    submit(at, "Сохранить")
    text = shown(at)
    assert "изменил(а)" in text and "Примечания" in text
    assert clients.get(store, actor, c["id"])["name"] == "ООО «Общий»"
    submit(at, "Перезагрузить")
    assert at.text_area(key=f"cf.{c['id']}.1.notes").value == "позвонить в понедельник"


def test_coming_back_to_a_card_shows_what_others_saved(open_page, store, actor, make_client):
    c = make_client(name="ООО «Было»")
    at = open_page("pages/client.py", id=c["id"])
    at.switch_page("pages/clients.py").run()
    clients.update(store, actor, c["id"], {"name": "ООО «Стало»"}, c["version"])
    at.query_params["id"] = str(c["id"])
    at.switch_page("pages/client.py").run()
    assert at.text_input(key=f"cf.{c['id']}.0.name").value == "ООО «Стало»"
    at.text_area(key=f"cf.{c['id']}.0.notes").input("ок")
    submit(at, "Сохранить")
    assert clients.get(store, actor, c["id"])["notes"] == "ок"  # no false conflict


def test_a_contact_can_be_added(open_page, store, actor, make_client):
    c = make_client()
    at = open_page("pages/client.py", tab="Контакты", id=c["id"])
    fill(at, f"ct.new.{c['id']}.0", name="Иванов Иван", post="Директор", mobile="89161234567")
    at.checkbox(key=f"ct.new.{c['id']}.0.consent_sms").check()
    submit(at, "Добавить")
    people = contacts.list_for_client(store, actor, c["id"])
    assert [(p["name"], p["mobile"], p["consent_sms"]) for p in people] == [
        ("Иванов Иван", "+79161234567", 1)]
    table = at.dataframe[0].value
    assert table.iloc[0]["ФИО"] == "Иванов Иван"
    assert table.iloc[0]["Мобильный"] == "8 (916) 123-45-67"


def test_a_selected_contact_can_be_edited_then_removed(open_page, store, actor, make_client):
    c = make_client()
    person = contacts.create(store, actor, c["id"], {"name": "Иванов", "post": "Инженер"})
    at = open_page("pages/client.py", tab="Контакты", id=c["id"])
    at.session_state[f"ct.list.{c['id']}.0.table"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    fill(at, f"ct.{person['id']}.0", post="Главный инженер")
    submit(at, "Сохранить контакт")
    assert contacts.list_for_client(store, actor, c["id"])[0]["post"] == "Главный инженер"
    submit(at, "Да, удалить")  # inside the «Удалить контакт» popover
    assert contacts.list_for_client(store, actor, c["id"]) == []
    assert "удалён" in shown(at)


def test_a_bad_contact_phone_is_named_and_not_saved(open_page, store, actor, make_client):
    c = make_client()
    at = open_page("pages/client.py", tab="Контакты", id=c["id"])
    fill(at, f"ct.new.{c['id']}.0", name="Петров", phone="12345")
    submit(at, "Добавить")
    assert any("Телефон" in e.value for e in at.error)
    assert contacts.list_for_client(store, actor, c["id"]) == []


def test_uploaded_files_are_stored_once_and_bad_ones_explained(open_page, store, actor,
                                                               make_client):
    c = make_client()
    at = open_page("pages/client.py", tab="Файлы и ссылки", id=c["id"])
    at.file_uploader(key=f"fu.{c['id']}.0.uploader").set_value([
        ("договор.txt", "Договор поставки № 15".encode(), "text/plain"),
        ("пустой.txt", b"", "text/plain")])
    at.run()
    assert not at.exception
    assert [f["name"] for f in files.list_for_client(store, actor, c["id"])] == ["договор.txt"]
    text = shown(at)
    assert "«договор.txt» загружен" in text and "текст извлекается…" in text
    assert any("пустой.txt" in e.value and "0 байт" in e.value for e in at.error)
    assert text_jobs.wait(store, 60)   # the text is read off the request
    at.run()  # another rerun must not upload again
    assert len(files.list_for_client(store, actor, c["id"])) == 1
    assert "текст извлечён" in shown(at)
    assert [d.help for d in at.download_button] == ["Скачать"]


def test_a_file_whose_text_was_not_read_says_why(open_page, store, actor, make_client):
    from tests import hostile_files as hostile

    c = make_client()
    files.upload(store, actor, c["id"], "пустышка.docx",
                 io.BytesIO(hostile.empty_paragraphs_docx(300_000)))
    assert text_jobs.wait(store, 60)
    at = open_page("pages/client.py", tab="Файлы и ссылки", id=c["id"])
    text = shown(at)
    assert "слишком большой" in [t.value for t in at.text]   # the «Текст» column
    assert "текст не извлечён: файл слишком большой — часть «word/document.xml» сжата" in text


def test_an_image_can_be_previewed(open_page, store, actor, make_client):
    from PIL import Image

    c = make_client()
    png = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(png, format="PNG")
    row = files.upload(store, actor, c["id"], "печать.png", io.BytesIO(png.getvalue()))
    at = open_page("pages/client.py", tab="Файлы и ссылки", id=c["id"])
    assert not at.image
    at.button(key=f"fp.{row['id']}").click().run()
    assert len(at.image) == 1


def test_a_link_is_added_and_listed(open_page, store, actor, make_client):
    c = make_client()
    at = open_page("pages/client.py", tab="Файлы и ссылки", id=c["id"])
    fill(at, f"lf.{c['id']}.0", title="Договоры", url="disk.yandex.ru/d/abc")
    submit(at, "Добавить ссылку")
    assert [(lk["title"], lk["url"]) for lk in files.list_links(store, actor, c["id"])] == [
        ("Договоры", "https://disk.yandex.ru/d/abc")]
    assert any(b.proto.url == "https://disk.yandex.ru/d/abc" for b in at.link_button)


def test_deleting_asks_first_then_returns_to_the_registry(open_page, store, actor, make_client):
    c = make_client(name="ООО «Удаляемое»")
    at = open_page("pages/client.py", id=c["id"])
    submit(at, "Да, удалить")  # the confirm button inside the «Удалить клиента» popover
    assert clients.list_clients(store, actor).total == 0
    assert "удалён" in shown(at)
    assert [t.value for t in at.title] == ["Клиенты"]


def test_duplicates_can_be_merged_into_the_card(open_page, store, actor, make_client):
    keep = make_client(name="ООО «Основной»", inn="7707083893")
    other = make_client(name="ООО «Дубль»", inn="7707083893", notes="из дубля")
    contacts.create(store, actor, other["id"], {"name": "Сидоров"})
    at = open_page("pages/client.py", id=keep["id"])
    assert "Дубликаты (1)" in [e.label for e in at.expander]
    submit(at, "Да, объединить")
    assert [p["name"] for p in contacts.list_for_client(store, actor, keep["id"])] == ["Сидоров"]
    assert clients.list_clients(store, actor).total == 1
    assert "объединён" in shown(at)


def test_a_script_in_a_name_is_shown_as_text(open_page, make_client):
    c = make_client(name="<script>alert(1)</script>")
    at = open_page("pages/client.py", id=c["id"])
    assert at.title[0].value == md_escape("<script>alert(1)</script>")
    assert not any("<script>" in m.value for m in at.markdown)
    assert not any("<script>" in h.value for h in at.html)


def test_an_unknown_id_says_so(open_page):
    at = open_page("pages/client.py", id=999)
    assert any("не найден" in e.value for e in at.error)


def test_the_card_shows_how_the_director_is_declined_and_saves_an_override(
        open_page, store, actor, make_client):
    c = make_client(name="ООО «Сирень»", director_post="Генеральный директор",
                    director_name="Сидорова Мария Ивановна")
    at = open_page("pages/client.py", id=c["id"])
    prefix = f"cf.{c['id']}.0"
    gen = at.text_input(key=f"{prefix}.director_name_gen")
    assert gen.label == "Руководитель (кого?)" and gen.value == ""
    assert gen.placeholder == "Сидоровой Марии Ивановны"      # the automatic form, greyed
    assert at.text_input(key=f"{prefix}.director_post_gen").placeholder == (
        "Генерального директора")
    assert at.text_input(key=f"{prefix}.basis").placeholder == "Устава"
    fill(at, prefix, director_name_gen="Сидоровой М. И.")
    submit(at, "Сохранить")
    assert clients.get(store, actor, c["id"])["director_name_gen"] == "Сидоровой М. И."


def test_the_signatorys_gender_is_chosen_on_the_card(open_page, store, actor, make_client):
    """Initials tell no gender: the select box says what «авто» means («муж.»), and
    «жен.» chosen on the card is saved for the documents."""
    c = make_client(name="ООО «Ким и партнёры»", director_name="Ким А. С.")
    at = open_page("pages/client.py", id=c["id"])
    box = at.selectbox(key=f"cf.{c['id']}.0.director_gender.ru")
    assert box.label == "Пол руководителя"
    assert list(box.options) == ["авто (муж.)", "муж.", "жен."]
    box.select("f")
    submit(at, "Сохранить")
    assert clients.get(store, actor, c["id"])["director_gender"] == "f"
    from clientplus_core.sales import signatory
    words = signatory.party_words(clients.get(store, actor, c["id"]))
    assert words["acting"] == "действующей"
