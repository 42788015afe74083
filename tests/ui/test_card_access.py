"""The «Доступ» section of the client card, driven with AppTest through app.py:
the head hands a client over (after a confirmation), the owner shares it with a
colleague, and a manager sees the owner only as text."""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from clientplus_core.clients import cards as clients
from clientplus_core.team import users

from .helpers import press, shown


@pytest.fixture
def card(open_app):
    """``card(actor, client_id)``: the client card as ``actor`` sees it."""
    return lambda who, client_id: open_app("pages/client.py", actor=who, id=client_id)


def popovers_of(at: AppTest) -> list[str]:
    return [p.proto.popover.label for p in at.get("popover")]


click = press


def test_the_head_hands_a_client_over_only_after_confirming(card, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Передаваемое»"})
    at = card(team["head"], c["id"])
    owner = at.selectbox(key=f"ca.{c['id']}.owner.{team['m1'].id}.ru")
    assert owner.label == "Ответственный" and owner.value == team["m1"].id
    owner.set_value(team["m2"].id).run()
    # Choosing somebody changes nothing yet: the hand-over asks first.
    assert clients.get(store, team["head"], c["id"])["owner_id"] == team["m1"].id
    assert "Передать клиента" in popovers_of(at)
    assert "продажи и открытые задачи" in shown(at)
    click(at, "Да, передать")
    assert clients.get(store, team["head"], c["id"])["owner_id"] == team["m2"].id
    assert "Ответственный теперь Вторая Вера" in shown(at)
    # The requisites form starts from the handed-over row: saving is no false conflict.
    at.text_area(key=f"cf.{c['id']}.1.notes").input("передан Вере")
    click(at, "Сохранить")
    row = clients.get(store, team["head"], c["id"])
    assert (row["notes"], row["owner_id"]) == ("передан Вере", team["m2"].id)
    assert "изменил(а)" not in shown(at)


def test_the_requisites_form_no_longer_changes_the_owner(card, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Форма»"})
    at = card(team["head"], c["id"])
    keys = [s.key for s in at.selectbox]
    assert not any(k and k.startswith(f"cf.{c['id']}.") and "owner_id" in k for k in keys)


def test_the_owner_shares_a_client_and_the_colleague_can_open_it(card, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Общее дело»"})
    before = card(team["m2"], c["id"])
    assert any("не найден" in e.value for e in before.error)
    assert "ООО «Общее дело»" not in shown(before)

    at = card(team["m1"], c["id"])
    at.multiselect(key=f"ca.{c['id']}.share.{team['m1'].id}.ru").set_value([team["m2"].id])
    click(at, "Сохранить доступ")
    assert clients.shared_with(store, team["m1"], c["id"]) == [team["m2"].id]
    assert "Доступ сохранён" in shown(at)

    colleague = card(team["m2"], c["id"])
    assert [t.value for t in colleague.title] == ["ООО «Общее дело»"]
    text = shown(colleague)
    # A colleague with shared access sees who owns it and with whom it is shared, read-only.
    assert "Ответственный: Первый Пётр" in text
    assert "Доступ коллегам: Вторая Вера" in text
    assert not [m for m in colleague.multiselect if m.key.startswith("ca.")]
    assert "Сохранить доступ" not in [b.label for b in colleague.button]


def test_a_manager_sees_the_owner_as_text_and_cannot_hand_over(card, store, team):
    c = clients.create(store, team["m1"], {"name": "ООО «Своё»"})
    at = card(team["m1"], c["id"])
    assert "Ответственный: Первый Пётр" in shown(at)
    assert not [s for s in at.selectbox if s.label == "Ответственный"]
    assert "Передать клиента" not in popovers_of(at)
    assert "Да, передать" not in [b.label for b in at.button]
    # The owner may still choose colleagues to share with.
    assert at.multiselect(key=f"ca.{c['id']}.share.{team['m1'].id}.ru").value == []


def test_a_colleagues_name_with_markup_is_shown_as_text(card, store, team):
    odd = users.create(store, "odd", "<b>**Жирный**</b>", "manager")
    c = clients.create(store, team["m1"], {"name": "ООО «Разметка»"})
    clients.share(store, team["m1"], c["id"], [odd.id])
    at = card(team["head"], c["id"])
    at.selectbox(key=f"ca.{c['id']}.owner.{team['m1'].id}.ru").set_value(odd.id).run()
    assert not at.exception
    assert not any(re.search(r"(?<!\\)<b>", m.value) for m in at.markdown)
    assert not any("<b>" in h.value for h in at.html)
    assert any("\\<b\\>" in m.value for m in at.markdown)  # the confirmation, escaped
