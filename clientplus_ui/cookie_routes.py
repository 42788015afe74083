"""The server's own cookie routes: the only place the session cookie is written.

Streamlit has no API to set a cookie, and a cookie written by the page's
JavaScript cannot be HttpOnly. So ``serve.py`` starts the app as ``st.App`` with
these three small HTTP routes, and the page only calls them with ``fetch``:

- ``POST /_clientplus/session`` with the one-time claim code in the body: sets the
  cookie to a fresh token (:func:`clientplus_core.team.sessions.claim`);
- ``POST /_clientplus/session/refresh``: the cookie is still good → set again with a
  full Max-Age (so it lasts as long as the user keeps working), else removed;
- ``POST /_clientplus/session/end``: ends the cookie's session and removes it.

The cookie is ``HttpOnly; SameSite=Strict; Path=/``, ``Secure`` when the request
came over TLS, with ``Max-Age`` the idle timeout. A request whose ``Origin`` is
another site is refused. No Streamlit import here: these run on the server's
event loop, with the database work on a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team import sessions

PREFIX = "/_clientplus/session"
CLAIM_PATH = PREFIX
REFRESH_PATH = PREFIX + "/refresh"
END_PATH = PREFIX + "/end"
MAX_BODY = 512
T = TypeVar("T")


def _store() -> Store:
    """The data folder the app serves (``CLIENTPLUS_DATA`` or ./data); a Store holds
    only paths, connections are per call."""
    return Store()


async def _off_loop(work: Callable[[], T], failed: T) -> T:
    """Run ``work`` on a worker thread; ``failed`` when the database cannot answer
    (no data folder yet, disk trouble): the page then simply asks to sign in."""
    try:
        return await run_in_threadpool(work)
    except sessions.STORE_ERRORS:
        return failed


def _idle(store: Store) -> int:
    try:
        return max(0, int(settings.get(store, "session_idle_minutes") or 0))
    except (TypeError, ValueError):
        return 0


def _same_origin(request: Request) -> bool:
    """A browser sends ``Origin`` with a POST; it must be this server (a page of
    another site cannot make us set or drop the cookie)."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    return urlsplit(origin).netloc.lower() == (request.headers.get("host") or "").lower()


def _set(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(sessions.COOKIE, token, max_age=max_age, path="/", httponly=True,
                        samesite="strict", secure=request.url.scheme == "https")


def _drop(response: Response, request: Request) -> None:
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")


async def claim(request: Request) -> Response:
    """Exchange the claim code in the body for the session cookie."""
    if not _same_origin(request):
        return Response(status_code=403)
    body = (await request.body())[:MAX_BODY].decode("ascii", "replace").strip()
    store = _store()

    def work() -> tuple[str | None, int]:
        return sessions.claim(store, body), _idle(store)

    nothing: tuple[str | None, int] = (None, 0)
    token, idle = await _off_loop(work, nothing)
    if token is None:
        return Response(status_code=410)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    _set(response, request, token, sessions.cookie_max_age(idle))
    return response


async def refresh(request: Request) -> Response:
    """Set the cookie again with a full Max-Age while its session lives; drop it else."""
    if not _same_origin(request):
        return Response(status_code=403)
    token = request.cookies.get(sessions.COOKIE, "")
    store = _store()

    def work() -> tuple[bool, int]:
        idle = _idle(store)
        return sessions.lookup(store, token, idle) is not None, idle

    live, idle = await _off_loop(work, (False, 0))
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if live:
        _set(response, request, token, sessions.cookie_max_age(idle))
    else:
        _drop(response, request)
    return response


async def end(request: Request) -> Response:
    """End the cookie's session (sign-out) and remove the cookie."""
    if not _same_origin(request):
        return Response(status_code=403)
    token = request.cookies.get(sessions.COOKIE, "")
    store = _store()
    if token:
        await _off_loop(lambda: sessions.revoke_token(store, token), None)
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    _drop(response, request)
    return response


def routes() -> list[Route]:
    """The three routes, for ``st.App(..., routes=routes())``."""
    handlers: list[tuple[str, Callable[[Request], Any]]] = [
        (CLAIM_PATH, claim), (REFRESH_PATH, refresh), (END_PATH, end)]
    return [Route(path, handler, methods=["POST"]) for path, handler in handlers]
