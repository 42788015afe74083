"""The server's cookie routes (issue 13, section 1), called as the browser calls them:
the cookie they set is HttpOnly, SameSite=Strict, for the whole site, Secure over
TLS, lives as long as the idle timeout, and holds only the token; other sites and
garbage get nothing."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie

import pytest
from starlette.requests import Request
from starlette.responses import Response

from clientplus_core.records import settings
from clientplus_core.team import auth, sessions
from clientplus_ui import cookie_routes


@pytest.fixture
def alice(store, actor, monkeypatch):
    monkeypatch.setenv("CLIENTPLUS_DATA", str(store.data_dir.root))
    return auth.add_user(store, actor, "alice", "correct horse", "manager", "Алиса")


def call(handler, body: bytes = b"", *, token: str = "", scheme: str = "http",
         origin: str | None = None) -> Response:
    headers = [(b"host", b"crm.local:8501")]
    if token:
        headers.append((b"cookie", f"{sessions.COOKIE}={token}".encode()))
    if origin:
        headers.append((b"origin", origin.encode()))
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers,
             "scheme": scheme, "query_string": b"", "server": ("crm.local", 8501)}

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    # A thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the whole session, and asyncio.run refuses to nest in it.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, handler(Request(scope, receive))).result()


def set_cookie(response: Response) -> tuple[SimpleCookie, str]:
    raw = [v.decode() for k, v in response.raw_headers if k == b"set-cookie"]
    assert len(raw) == 1, raw
    jar: SimpleCookie = SimpleCookie()
    jar.load(raw[0])
    return jar, raw[0]


def test_the_claim_sets_an_httponly_strict_cookie_with_only_the_token(store, alice):
    new = sessions.create(store, alice.id)
    response = call(cookie_routes.claim, new.claim_code.encode(),
                    origin="http://crm.local:8501")
    assert response.status_code == 204
    jar, raw = set_cookie(response)
    morsel = jar[sessions.COOKIE]
    assert morsel["httponly"] and morsel["samesite"].lower() == "strict"
    assert morsel["path"] == "/" and morsel["max-age"] == "3600"
    assert not morsel["secure"]
    assert "alice" not in raw and "manager" not in raw and "correct" not in raw
    assert sessions.resolve(store, morsel.value, 60) == alice


def test_over_tls_the_cookie_is_secure_and_max_age_follows_the_setting(store, actor, alice):
    settings.put(store, actor, "session_idle_minutes", 15)
    new = sessions.create(store, alice.id)
    jar, _ = set_cookie(call(cookie_routes.claim, new.claim_code.encode(), scheme="https"))
    assert jar[sessions.COOKIE]["secure"] and jar[sessions.COOKIE]["max-age"] == "900"


@pytest.mark.parametrize("body", [b"", b"not-a-code", b"\xff\xfe" * 2000, b"'; DROP TABLE x"])
def test_a_wrong_or_garbage_code_sets_no_cookie(store, alice, body):
    response = call(cookie_routes.claim, body)
    assert response.status_code == 410
    assert not [k for k, _ in response.raw_headers if k == b"set-cookie"]


def test_another_site_cannot_collect_set_or_drop_the_cookie(store, alice):
    new = sessions.create(store, alice.id)
    for handler in (cookie_routes.claim, cookie_routes.refresh, cookie_routes.end):
        response = call(handler, new.claim_code.encode(), origin="https://evil.example")
        assert response.status_code == 403
    assert sessions.claim(store, new.claim_code)  # still unused


def test_refresh_renews_a_live_cookie_and_drops_a_dead_one(store, alice):
    new = sessions.create(store, alice.id)
    token = sessions.claim(store, new.claim_code)
    assert token
    jar, _ = set_cookie(call(cookie_routes.refresh, token=token))
    assert jar[sessions.COOKIE].value == token and jar[sessions.COOKIE]["max-age"] == "3600"
    sessions.revoke(store, new.id)
    jar, _ = set_cookie(call(cookie_routes.refresh, token=token))
    assert jar[sessions.COOKIE].value == "" and jar[sessions.COOKIE]["max-age"] == "0"


def test_end_signs_out_and_drops_the_cookie(store, alice):
    new = sessions.create(store, alice.id)
    token = sessions.claim(store, new.claim_code)
    assert token
    jar, _ = set_cookie(call(cookie_routes.end, token=token))
    assert jar[sessions.COOKIE]["max-age"] == "0"
    assert sessions.resolve(store, token, 60) is None


def test_before_the_database_exists_the_routes_answer_without_crashing(tmp_path, monkeypatch):
    monkeypatch.setenv("CLIENTPLUS_DATA", str(tmp_path / "nothing-here"))
    assert call(cookie_routes.claim, b"code").status_code == 410
    assert call(cookie_routes.refresh, token="x").status_code == 204
    assert call(cookie_routes.end, token="x").status_code == 204
