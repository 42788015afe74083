"""Who signs a contract: names and posts in the genitive, the gender, the basis."""

from __future__ import annotations

import pytest

from clientplus_core.sales import signatory


@pytest.mark.parametrize("name, genitive", [
    ("Иванов Иван Иванович", "Иванова Ивана Ивановича"),
    ("Петров Пётр Петрович", "Петрова Петра Петровича"),
    ("Сидорова Мария Ивановна", "Сидоровой Марии Ивановны"),
    ("Шевчук Ольга Петровна", "Шевчук Ольги Петровны"),
    ("Белых Игорь Николаевич", "Белых Игоря Николаевича"),
    ("Иванов И. И.", "Иванова И. И."),
    ("Мария Ивановна Сидорова", "Марии Ивановны Сидоровой"),
    ("ЖУКОВА АННА СЕРГЕЕВНА", "ЖУКОВОЙ АННЫ СЕРГЕЕВНЫ"),
    ("", ""),
])
def test_a_name_goes_into_the_genitive(name: str, genitive: str) -> None:
    assert signatory.decline_name(name) == genitive


@pytest.mark.parametrize("post, genitive", [
    ("Генеральный директор", "Генерального директора"),
    ("Директор по развитию", "Директора по развитию"),
    ("Председатель правления", "Председателя правления"),
    ("Управляющий", "Управляющего"),
    ("И.о. генерального директора", "И.о. генерального директора"),
    ("", ""),
])
def test_a_post_goes_into_the_genitive_up_to_its_first_noun(post: str, genitive: str) -> None:
    assert signatory.decline_post(post) == genitive


@pytest.mark.parametrize("name, gender", [
    ("Петров Пётр Петрович", "m"), ("Петрова Анна Сергеевна", "f"),
    ("Ким Елена", "f"), ("Смирнова Анна", "f"), ("Ким", "m"),
])
def test_the_gender_comes_from_the_patronymic_then_the_first_name(name: str, gender: str) -> None:
    assert signatory.gender(name) == gender


def test_a_legal_entity_acts_through_its_director_on_the_charter() -> None:
    words = signatory.party_words({
        "kind": "legal", "full_name": "Автономная некоммерческая организация «Доброе дело»",
        "director_post": "Директор", "director_name": "Сидорова Мария Ивановна"})
    assert words["named"] == "именуемая"      # «организация» is feminine
    assert words["signatory"] == ("в лице Директора Сидоровой Марии Ивановны, действующей на"
                                  " основании Устава")


def test_an_entrepreneur_acts_on_the_egrip_record_and_overrides_win() -> None:
    ip = {"kind": "ip", "name": "ИП Петров Пётр Петрович", "ogrn": "304500116000157"}
    words = signatory.party_words(ip)
    assert (words["party"], words["named"], words["signatory"]) == (
        "Индивидуальный предприниматель Петров Пётр Петрович", "именуемый",
        "действующий на основании записи в ЕГРИП ОГРНИП 304500116000157")
    legal = {"kind": "legal", "full_name": "ООО «Ромашка»", "director_post": "Директор",
             "director_name": "Ворона Ирина Ивановна", "director_name_gen": "Вороны Ирины"
             " Ивановны", "basis": "доверенности № 5 от 01.02.2026"}
    assert signatory.party_words(legal)["signatory"] == (
        "в лице Директора Вороны Ирины Ивановны, действующей на основании доверенности № 5"
        " от 01.02.2026")
