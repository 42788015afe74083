"""Sign-in on a shared server (issue 11): the form's answers never tell whether a
login exists, even once the lockout starts."""

from __future__ import annotations

import re

from .conftest import shot, wait_idle
from .test_team import seed


def _five_wrong(page, login: str) -> list[str]:
    """Type a wrong password five times for ``login``; the error shown each time."""
    seen: list[str] = []
    for _ in range(5):
        page.get_by_label("Логин").fill(login)
        page.get_by_label("Пароль").fill("wrong-password")
        page.get_by_role("button", name="Войти").click()
        wait_idle(page)
        error = page.get_by_test_id("stAlertContentError")
        error.first.wait_for()
        seen.append(error.first.inner_text().strip())
    return seen


def test_five_wrong_passwords_read_the_same_for_a_real_and_an_unknown_login(
        server_factory, tmp_path, page):
    data = tmp_path / "signin"
    seed(data)
    srv = server_factory(data)
    page.goto(srv.url + "/")
    wait_idle(page)
    real = _five_wrong(page, "manager2")
    shot(page, "sign-in-real-login-locked")
    unknown = _five_wrong(page, "no-such-manager")
    shot(page, "sign-in-unknown-login-locked")
    # the lock names its end («до 12:45 (МСК)»): the two runs may straddle a minute
    clock = re.compile(r"\d\d:\d\d")
    assert [clock.sub("ЧЧ:ММ", m) for m in real] == [clock.sub("ЧЧ:ММ", m) for m in unknown]
    assert real[0] == "Неверный логин или пароль"
    assert "заблокирован" in real[4]
