"""Staying signed in across reloads (issue 13, section 1): the server-side session
behind the browser's cookie — handed over once, stored only as a hash, ended by
idleness, sign-out, a password change or reset, and deactivation."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest

from clientplus_core.team import auth, sessions


@pytest.fixture
def alice(store, actor):
    return auth.add_user(store, actor, "alice", "correct horse", "manager", "Алиса")


def signed_in(store, user_id, now=None) -> tuple[int, str]:
    """A session as a browser gets it: started at sign-in, its cookie collected."""
    new = sessions.create(store, user_id, now=now)
    token = sessions.claim(store, new.claim_code, now=now)
    assert token
    return new.id, token


def test_a_browser_that_collected_its_cookie_is_signed_in_as_its_user(store, alice):
    _, token = signed_in(store, alice.id)
    assert sessions.resolve(store, token, 60) == alice


def test_the_token_is_random_and_only_its_hash_is_stored(store, alice):
    new = sessions.create(store, alice.id)
    token = sessions.claim(store, new.claim_code)
    assert token and len(token) >= 43  # token_urlsafe(32)
    _, other = signed_in(store, alice.id)
    assert other != token
    with store.read() as conn:
        rows = [tuple(str(v) for v in r) for r in conn.execute("SELECT * FROM web_sessions")]
    dump = repr(rows)
    assert token not in dump and new.claim_code not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in dump


def test_the_claim_code_works_once(store, alice):
    new = sessions.create(store, alice.id)
    assert sessions.claim(store, new.claim_code)
    assert sessions.claim(store, new.claim_code) is None


def test_the_claim_code_expires_after_a_minute(store, alice):
    start = datetime.now(UTC)
    new = sessions.create(store, alice.id, now=start)
    later = start + timedelta(seconds=sessions.CLAIM_SECONDS + 1)
    assert sessions.claim(store, new.claim_code, now=later) is None


@pytest.mark.parametrize("token", ["", "x", "a" * 5000, "ы\x00'; DROP TABLE users;--"])
def test_an_unknown_or_garbage_token_signs_nobody_in(store, alice, token):
    assert sessions.resolve(store, token, 60) is None
    assert sessions.claim(store, token) is None


def test_a_session_ends_after_the_idle_timeout(store, alice):
    start = datetime.now(UTC)
    _, token = signed_in(store, alice.id, now=start)
    assert sessions.resolve(store, token, 60, now=start + timedelta(minutes=59)) == alice
    # use at minute 59 counts: the hour runs from there
    assert sessions.resolve(store, token, 60, now=start + timedelta(minutes=118)) == alice
    assert sessions.resolve(store, token, 60, now=start + timedelta(minutes=179)) is None
    assert sessions.end_reason(store, token=token) == "idle"
    # once ended, it stays ended
    assert sessions.resolve(store, token, 0, now=start + timedelta(minutes=180)) is None


def test_with_idle_expiry_off_a_session_lasts(store, alice):
    start = datetime.now(UTC)
    _, token = signed_in(store, alice.id, now=start)
    assert sessions.resolve(store, token, 0, now=start + timedelta(days=6)) == alice


def test_signing_out_ends_only_that_browsers_session(store, alice):
    sid, token = signed_in(store, alice.id)
    _, other = signed_in(store, alice.id)
    sessions.revoke(store, sid)
    assert sessions.resolve(store, token, 60) is None
    assert sessions.end_reason(store, session_id=sid) == "sign_out"
    assert sessions.resolve(store, other, 60) == alice


def test_signing_out_by_the_cookie_ends_the_session(store, alice):
    _, token = signed_in(store, alice.id)
    sessions.revoke_token(store, token)
    assert sessions.resolve(store, token, 60) is None


def test_changing_the_password_signs_every_browser_out(store, alice):
    _, token = signed_in(store, alice.id)
    sid2, _ = signed_in(store, alice.id)
    auth.change_password(store, alice, "correct horse", "battery staple")
    assert sessions.resolve(store, token, 60) is None
    assert sessions.check(store, sid2, 60) is None
    assert sessions.end_reason(store, token=token) == "password"


def test_a_password_reset_by_the_admin_signs_the_user_out(store, actor, alice):
    _, token = signed_in(store, alice.id)
    auth.reset_password(store, actor, alice.id, "temporary-pass")
    assert sessions.resolve(store, token, 60) is None


def test_deactivating_a_user_signs_them_out_everywhere(store, actor, alice):
    _, token = signed_in(store, alice.id)
    auth.set_active(store, actor, alice.id, False)
    assert sessions.resolve(store, token, 60) is None
    assert sessions.end_reason(store, token=token) == "deactivated"
    # and re-activating does not bring the old cookie back
    auth.set_active(store, actor, alice.id, True)
    assert sessions.resolve(store, token, 60) is None


def test_other_users_sessions_survive_a_password_change(store, actor, alice):
    bob = auth.add_user(store, actor, "bob", "another horse", "manager")
    _, bobs = signed_in(store, bob.id)
    auth.change_password(store, alice, "correct horse", "battery staple")
    assert sessions.resolve(store, bobs, 60) == bob


def test_a_role_change_applies_to_a_live_session_at_once(store, alice):
    _, token = signed_in(store, alice.id)
    with store.write() as conn:
        conn.execute("UPDATE users SET role = 'viewer' WHERE id = ?", (alice.id,))
    actor = sessions.resolve(store, token, 60)
    assert actor is not None and actor.role == "viewer"


def test_the_cookie_lives_no_longer_than_the_idle_timeout():
    assert sessions.cookie_max_age(60) == 3600
    assert sessions.cookie_max_age(0) == sessions.MAX_AGE_CAP
    assert sessions.cookie_max_age(10**9) == sessions.MAX_AGE_CAP


def test_old_ended_sessions_are_purged(store, alice):
    start = datetime.now(UTC) - timedelta(days=sessions.KEEP_DAYS + 2)
    sid, _ = signed_in(store, alice.id, now=start)
    sessions.revoke(store, sid)
    with store.write() as conn:
        conn.execute("UPDATE web_sessions SET ended_at = ? WHERE id = ?",
                     (start.isoformat(timespec="microseconds"), sid))
    signed_in(store, alice.id)
    with store.read() as conn:
        left = conn.execute("SELECT ended_at FROM web_sessions").fetchall()
    assert [r[0] for r in left] == [None]  # only the new, live session


def test_the_language_chosen_in_a_session_comes_back_with_its_cookie(store, alice):
    sid, token = signed_in(store, alice.id)
    live = sessions.lookup(store, token, 60)
    assert live is not None and live.lang == ""
    sessions.set_lang(store, sid, "en")
    sessions.set_lang(store, sid, "<script>")  # not a language: ignored
    live = sessions.lookup(store, token, 60)
    assert live is not None and live.lang == "en"
