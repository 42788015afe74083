"""The settings page, driven with AppTest: company requisites, upload limit, backups.

AppTest cannot drive a file uploader, so the backup tests put ``(filename, bytes)``
into the session-state keys the page's uploaders write.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from clientplus_core.records import settings
from clientplus_core.sales import company
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

PAGE = str(Path(__file__).resolve().parents[2] / "pages" / "settings.py")


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("CLIENTPLUS_DATA", str(folder))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield folder
    st.cache_resource.clear()


def settings_page(actor: Actor | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    if actor is not None:
        at.session_state["auth.actor"] = actor
    return at.run()


def fill_company(at: AppTest, **values: str) -> AppTest:
    for name, value in values.items():
        at.text_input(key=f"settings.company.{name}").input(value)
    return at.button(key="settings.company.save").click().run()


def test_company_form_has_every_requisite_and_the_tax_system(data_dir: Path) -> None:
    at = settings_page()
    assert not at.exception
    labels = {w.label for w in at.text_input}
    assert {"Наименование", "ИНН", "КПП", "ОГРН / ОГРНИП", "БИК", "Расчётный счёт",
            "Корр. счёт", "Юридический адрес", "Руководитель"} <= labels
    assert {sb.label for sb in at.selectbox} >= {"Тип", "Система налогообложения"}


def test_company_form_refuses_a_bad_inn_naming_the_field_and_keeps_the_input(
        data_dir: Path) -> None:
    at = settings_page()
    at = fill_company(at, name="ООО «Моя фирма»", inn="7707083894")
    assert not at.exception
    assert len(at.error) == 1
    assert "ИНН" in at.error[0].value and "контрольная сумма" in at.error[0].value
    assert at.text_input(key="settings.company.inn").value == "7707083894"
    assert at.text_input(key="settings.company.name").value == "ООО «Моя фирма»"
    assert company.get(open_store(data_dir))["name"] == ""


def test_company_form_saves_valid_requisites(data_dir: Path) -> None:
    at = settings_page()
    at.selectbox(key="settings.company.tax_system").set_value("usn")
    at = fill_company(at, name="ООО «Моя фирма»", inn="7707083893", kpp="773601001")
    assert not at.exception and not at.error
    assert at.success[0].value == "Реквизиты сохранены."
    saved = company.get(open_store(data_dir))
    assert (saved["name"], saved["inn"], saved["kpp"], saved["tax_system"]) == (
        "ООО «Моя фирма»", "7707083893", "773601001", "usn")


def test_upload_limit_is_saved(data_dir: Path) -> None:
    at = settings_page()
    at.number_input(key="settings.files.limit").set_value(50)
    at.button(key="settings.files.save").click().run()
    assert not at.exception
    assert settings.get(open_store(data_dir), "upload_limit_mb") == 50


def test_backup_is_created_listed_and_verified(data_dir: Path) -> None:
    at = settings_page()
    at.button(key="settings.backup.create").click().run()
    assert not at.exception
    zips = list((data_dir / "backups").glob("*.zip"))
    assert len(zips) == 1
    assert zips[0].name in [t.value for t in at.text]
    assert any(zips[0].name in s.value for s in at.success)

    at.session_state["settings.verify_upload"] = (zips[0].name, zips[0].read_bytes())
    at.run()
    assert not at.exception
    assert any("в порядке" in s.value for s in at.success)


def test_a_damaged_backup_is_reported(data_dir: Path) -> None:
    at = settings_page()
    at.session_state["settings.verify_upload"] = ("broken.zip", b"PK\x03\x04 not really a zip")
    at.run()
    assert not at.exception
    assert at.error


def test_restore_unpacks_into_a_new_folder_after_confirmation(data_dir: Path,
                                                             tmp_path: Path) -> None:
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    company.save(store, admin, {"name": "ООО «Из копии»", "inn": "7707083893"})
    at = settings_page()
    at.button(key="settings.backup.create").click().run()
    archive = next((data_dir / "backups").glob("*.zip"))
    target = tmp_path / "restored"

    at.session_state["settings.restore_upload"] = (archive.name, archive.read_bytes())
    at.text_input(key="settings.restore.target").input(str(target)).run()
    assert at.button(key="settings.restore.run").disabled  # not confirmed yet
    at.checkbox(key="settings.restore.confirm").check().run()
    at.button(key="settings.restore.run").click().run()
    assert not at.exception
    assert any("восстановлена" in s.value for s in at.success)
    assert company.get(open_store(target))["name"] == "ООО «Из копии»"


def test_backups_are_for_administrators_only(data_dir: Path) -> None:
    store = open_store(data_dir)
    manager = users.create(store, "manager1", "Мария", role="manager")
    at = settings_page(manager)
    assert not at.exception
    assert not [b for b in at.button if b.key == "settings.backup.create"]
    assert any("только администратор" in i.value for i in at.info)
    assert at.text_input(key="settings.company.inn").disabled


def test_about_shows_the_data_folder_and_version(data_dir: Path) -> None:
    import clientplus_core

    at = settings_page()
    assert str(data_dir.resolve()) in [c.value for c in at.code]
    assert clientplus_core.__version__ in [t.value for t in at.text]


def test_company_form_has_the_signature_fields_shows_the_automatic_forms_and_saves_them(
        data_dir: Path) -> None:
    store = open_store(data_dir)
    company.save(store, users.ensure_local_admin(store), {
        "name": "ООО «Моя фирма»", "director_post": "Генеральный директор",
        "director_name": "Сидорова Мария Ивановна"})
    at = settings_page()
    assert not at.exception
    gen = at.text_input(key="settings.company.director_name_gen")
    assert gen.label == "Руководитель (кого?)" and gen.placeholder == "Сидоровой Марии Ивановны"
    assert at.text_input(key="settings.company.director_post_gen").placeholder == (
        "Генерального директора")
    assert at.text_input(key="settings.company.basis").placeholder == "Устава"
    accountant = at.text_input(key="settings.company.accountant_name")
    assert accountant.label == "Главный бухгалтер"
    assert accountant.placeholder == "Сидорова Мария Ивановна"     # the director by default
    at = fill_company(at, accountant_name="Смирнова Ольга Петровна",
                      director_name_gen="Сидоровой М. И.", basis="Устава и доверенности № 3")
    assert not at.exception and not at.error
    saved = company.get(store)
    assert (saved["accountant_name"], saved["director_name_gen"], saved["basis"]) == (
        "Смирнова Ольга Петровна", "Сидоровой М. И.", "Устава и доверенности № 3")
    assert saved["director_name"] == "Сидорова Мария Ивановна"


def test_the_default_language_and_time_zone_are_chosen_in_settings(data_dir: Path) -> None:
    at = settings_page()
    at.selectbox(key="settings.general.lang.ru").select("en")
    at.selectbox(key="settings.general.zone").select("Asia/Yekaterinburg")
    at.button(key="settings.general.save").click().run()
    assert not at.exception and not at.error
    store = open_store(data_dir)
    assert settings.language(store) == "en"
    assert str(settings.zone(store)) == "Asia/Yekaterinburg"


def test_a_zone_the_database_does_not_know_is_refused_by_name(data_dir: Path) -> None:
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    with pytest.raises(Exception, match="Часовой пояс"):
        settings.put(store, admin, "timezone", "Europe/Atlantis")
    with pytest.raises(Exception, match="Язык интерфейса"):
        settings.put(store, admin, "language", "de")


def test_our_directors_gender_is_chosen_in_my_company(data_dir: Path) -> None:
    at = settings_page()
    at.text_input(key="settings.company.name").input("ООО «Моя фирма»")
    at.text_input(key="settings.company.director_name").input("Смит Дж.")
    at.selectbox(key="settings.company.director_gender.ru").select("f")
    at.button(key="settings.company.save").click().run()
    assert not at.exception and not at.error
    assert company.get(open_store(data_dir))["director_gender"] == "f"
