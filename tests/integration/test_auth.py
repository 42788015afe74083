"""Sign-in, lockout, password changes and the single-user rule."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from clientplus_core.base.errors import AccessDenied, UserError, ValidationError
from clientplus_core.team import auth, users


@pytest.fixture
def alice(store, actor):
    return auth.add_user(store, actor, "alice", "correct horse", "manager", "Алиса")


def test_a_user_signs_in_with_the_right_password(store, alice):
    assert auth.authenticate(store, "alice", "correct horse").id == alice.id


def test_the_password_is_stored_as_an_argon2_hash(store, alice):
    with store.read() as conn:
        h = conn.execute("SELECT password_hash FROM users WHERE login='alice'").fetchone()[0]
    assert h.startswith("$argon2id$") and "correct horse" not in h


def test_five_wrong_passwords_lock_the_login_even_for_the_right_one(store, alice):
    for _ in range(4):
        with pytest.raises(UserError, match="Неверный"):
            auth.authenticate(store, "alice", "wrong")
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "wrong")
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "correct horse")


def test_the_lock_expires_after_fifteen_minutes(store, alice):
    start = datetime.now(UTC)
    for _ in range(5):
        with pytest.raises(UserError):
            auth.authenticate(store, "alice", "wrong", now=start)
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "correct horse", now=start + timedelta(minutes=14))
    later = start + timedelta(minutes=15, seconds=1)
    assert auth.authenticate(store, "alice", "correct horse", now=later).login == "alice"


def test_an_unknown_login_gets_the_same_message_as_a_wrong_password(store, alice):
    with pytest.raises(UserError) as a:
        auth.authenticate(store, "nobody", "x")
    with pytest.raises(UserError) as b:
        auth.authenticate(store, "alice", "x")
    assert str(a.value) == str(b.value)


def test_a_deactivated_user_cannot_sign_in(store, actor, alice):
    auth.set_active(store, actor, alice.id, False)
    with pytest.raises(UserError, match="отключена"):
        auth.authenticate(store, "alice", "correct horse")


def test_admin_reset_forces_a_change_and_the_user_changes_it(store, actor, alice):
    temp = auth.reset_password(store, actor, alice.id)
    assert auth.must_change_password(store, alice.id)
    who = auth.authenticate(store, "alice", temp)
    with pytest.raises(ValidationError):
        auth.change_password(store, who, "not the temp", "brand new pw")
    auth.change_password(store, who, temp, "brand new pw")
    assert not auth.must_change_password(store, alice.id)
    assert auth.authenticate(store, "alice", "brand new pw").id == alice.id


def test_only_the_admin_manages_users(store, alice):
    with pytest.raises(AccessDenied):
        auth.reset_password(store, alice, alice.id, "whatever123")


def test_single_user_mode_only_on_loopback_and_only_before_any_password(store, actor):
    assert auth.single_user_mode(store, "127.0.0.1")
    assert auth.single_user_mode(store, "localhost")
    assert not auth.single_user_mode(store, "0.0.0.0")
    assert not auth.single_user_mode(store, "")
    auth.add_user(store, None, "admin", "first admin pw", "admin")
    assert not auth.single_user_mode(store, "127.0.0.1")
    with pytest.raises(UserError):
        auth.add_user(store, None, "intruder", "another pw 1", "admin")


def test_passwords_never_appear_in_the_audit_trail(store, actor, alice):
    auth.reset_password(store, actor, alice.id, "SecretReset99")
    with pytest.raises(UserError):
        auth.authenticate(store, "alice", "TypedWrong77")
    who = auth.authenticate(store, "alice", "SecretReset99")
    auth.change_password(store, who, "SecretReset99", "NewSecret123")
    with store.read() as conn:
        dump = json.dumps([dict(r) for r in conn.execute("SELECT * FROM audit_log")],
                          ensure_ascii=False)
    for secret in ("correct horse", "SecretReset99", "TypedWrong77", "NewSecret123"):
        assert secret not in dump
    assert "sign_in" in dump and "sign_in_failed" in dump


def test_users_list_never_carries_hashes(store, alice):
    assert all("password_hash" not in u for u in users.list_users(store))


# --- issue 11: no login enumeration, lockout per source as well as per login ---------


def _fail(store, login, times, source=None, now=None):
    """Sign in ``times`` times with a wrong password; the messages shown."""
    out = []
    for _ in range(times):
        with pytest.raises(UserError) as exc:
            auth.authenticate(store, login, "wrong password", source, now=now)
        out.append(str(exc.value))
    return out


def test_five_failures_read_the_same_for_a_real_login_and_an_unknown_one(store, alice):
    real = _fail(store, "alice", 6, "10.0.0.7")
    unknown = _fail(store, "no-such-user", 6, "10.0.0.8")
    assert real == unknown
    assert real[0] == "Неверный логин или пароль" and "заблокирован" in real[4]


def test_a_stranger_guessing_from_one_address_does_not_lock_the_real_user_out(store, alice):
    _fail(store, "alice", 10, "203.0.113.9")
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "correct horse", "203.0.113.9")
    assert auth.authenticate(store, "alice", "correct horse", "10.0.0.7").id == alice.id


def test_one_address_trying_many_logins_is_stopped_by_its_address(store, actor, alice):
    for n in range(auth.SOURCE_MAX_FAILED // 4):
        _fail(store, f"guess{n}", 4, "203.0.113.9")
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "correct horse", "203.0.113.9")
    assert auth.authenticate(store, "alice", "correct horse", "10.0.0.7").id == alice.id


def test_a_guess_spread_over_many_addresses_locks_the_login_for_a_while(store, alice):
    start = datetime.now(UTC)
    for n in range(auth.LOGIN_MAX_FAILED // 4):
        _fail(store, "alice", 4, f"198.51.100.{n}", now=start)
    with pytest.raises(UserError, match="заблокирован"):
        auth.authenticate(store, "alice", "correct horse", "10.0.0.7", now=start)
    later = start + timedelta(minutes=auth.LOCK_MINUTES, seconds=1)
    assert auth.authenticate(store, "alice", "correct horse", "10.0.0.7", now=later).id \
        == alice.id


def test_attempts_refused_by_a_lock_do_not_prolong_it(store, alice):
    start = datetime.now(UTC)
    _fail(store, "alice", 5, now=start)
    for minute in range(1, 15):
        _fail(store, "alice", 1, now=start + timedelta(minutes=minute))
    later = start + timedelta(minutes=15, seconds=1)
    assert auth.authenticate(store, "alice", "correct horse", now=later).id == alice.id


def test_an_admin_password_reset_lifts_the_lock(store, actor, alice):
    _fail(store, "alice", 5)
    auth.reset_password(store, actor, alice.id, "a fresh password")
    assert auth.authenticate(store, "alice", "a fresh password").id == alice.id


def _lock(store, now):
    for _ in range(5):
        try:
            auth.authenticate(store, "alice", "wrong", now=now)
        except auth.LockedOut as exc:
            return exc
        except UserError:
            continue
    raise AssertionError("no lock after five wrong passwords")


def test_the_lockout_says_until_when_in_the_local_clock(store, alice):
    """Not «через 15 минут» from who knows when, and not UTC: the hour the lock ends
    in the ``timezone`` setting, named («МСК», «UTC+5»)."""
    now = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)  # 12:30 in Moscow
    exc = _lock(store, now)
    assert exc.until == now + timedelta(minutes=auth.LOCK_MINUTES)
    assert "до 12:45 (МСК)" in str(exc)
    assert "до 14:45 (UTC+5)" in auth.locked_message(exc.until, "Asia/Yekaterinburg", now=now)
    en = auth.locked_message(exc.until, "Europe/Moscow", "en", now=now)
    assert en.startswith("Sign-in is blocked until 12:45 (Moscow time)")
    with pytest.raises(auth.LockedOut, match=r"до 12:45 \(МСК\)"):
        auth.authenticate(store, "alice", "correct horse", now=now + timedelta(minutes=1))


def test_a_lockout_past_midnight_names_the_day(store, alice):
    now = datetime(2026, 12, 6, 20, 50, tzinfo=UTC)  # 23:50 in Moscow
    exc = _lock(store, now)
    assert "до 07.12.2026 00:05 (МСК)" in auth.locked_message(exc.until, "Europe/Moscow",
                                                               now=now)
