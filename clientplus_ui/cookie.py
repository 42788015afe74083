"""The browser's side of the session cookie (the server's side is
:mod:`clientplus_ui.cookie_routes`).

Streamlit can read the cookies the browser sent when the tab connected
(``st.context.cookies``) but cannot set one. So after a sign-in the next run puts a
two-line script on the page that posts the one-time claim code to the server's
cookie route, which answers with the HttpOnly cookie; while the user works, the
same kind of script asks the route now and then to renew the cookie's Max-Age; on
sign-out, to drop it. The script element is hidden and holds no secret but the
one-time code (useless once collected, and after a minute).
"""

from __future__ import annotations

import json
import secrets
import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from clientplus_core.store.db import Store
from clientplus_core.team import sessions
from clientplus_ui.cookie_routes import CLAIM_PATH, END_PATH, REFRESH_PATH
from clientplus_ui.i18n import LANG_KEY

SESSION_KEY = "auth.session_id"   # this tab's server-side session
CLAIM_KEY = "auth.cookie_claim"   # (session id, claim code) until the browser collected it
RENEWED_KEY = "auth.cookie_at"    # when the cookie was last set or renewed (time.time())
DROP_KEY = "auth.cookie_drop"     # the browser should drop its cookie
DEAD_KEY = "auth.cookie_dead"     # the cookie this tab connected with signs nobody in
LANG_SAVED_KEY = "auth.lang_saved"  # the interface language last stored in the session
HIDE = ('<style>div[data-testid="stElementContainer"]:has(.cp-session-cookie)'
        '{display:none}</style>')


def token() -> str:
    """The session token of the cookie the browser sent when this tab connected
    ("" when none, or when there is no browser: AppTest, bare mode)."""
    try:
        value = st.context.cookies.get(sessions.COOKIE)
    except Exception:  # noqa: BLE001 — no request context
        return ""
    return str(value or "")[:200]


def hand_over(new: sessions.NewSession) -> None:
    """Have the next run give the browser the claim code of a new session."""
    st.session_state[CLAIM_KEY] = (new.id, new.claim_code)
    st.session_state.pop(DROP_KEY, None)


def forget() -> None:
    """Have the next run tell the browser to drop its cookie."""
    st.session_state[DROP_KEY] = True
    st.session_state[DEAD_KEY] = True


def renew_soon() -> None:
    """The cookie's age is unknown (this tab was signed in by it): renew it now."""
    st.session_state[RENEWED_KEY] = 0.0


def _post(path: str, body: str = "") -> None:
    nonce = secrets.token_hex(4)  # a new element each time, so the script runs again
    st.html(f'<span class="cp-session-cookie" data-n="{nonce}" hidden></span>'
            f"<script>fetch({json.dumps(path)}, {{method: 'POST', credentials: 'same-origin',"
            f" cache: 'no-store', body: {json.dumps(body)}}}).catch(() => null);</script>",
            unsafe_allow_javascript=True)


def restore_lang(live: sessions.Live) -> None:
    """A tab signed in by the cookie opens in the language chosen in its session."""
    if live.lang:
        st.session_state[LANG_KEY] = live.lang
        st.session_state[LANG_SAVED_KEY] = live.lang


def _save_lang(store: Store) -> None:
    """Store the language switch's choice in the session (once per change)."""
    sid = st.session_state.get(SESSION_KEY)
    chosen = st.session_state.get(LANG_KEY, "ru")
    if isinstance(sid, int) and chosen != st.session_state.get(LANG_SAVED_KEY, "ru"):
        sessions.set_lang(store, sid, chosen)
        st.session_state[LANG_SAVED_KEY] = chosen


def maintain(store: Store, idle_minutes: int, slot: DeltaGenerator) -> None:
    """Once a run (app.py): store a changed language choice in the session; hand over
    a claim code, renew or drop the cookie, as due, into ``slot`` (an ``st.empty`` that
    exists on every run, so the page's own elements keep their places).
    Renewal runs every tenth of the idle timeout (at least every 30 s apart)."""
    _save_lang(store)
    drop = st.session_state.pop(DROP_KEY, False)
    pending = st.session_state.get(CLAIM_KEY)
    renewed = float(st.session_state.get(RENEWED_KEY) or 0.0)
    now = time.time()
    path, body = "", ""
    if drop:
        path = END_PATH
    elif pending is not None:
        sid, code = pending
        if sessions.claimed(store, sid):
            del st.session_state[CLAIM_KEY]
            st.session_state[RENEWED_KEY] = now
        else:
            path, body = CLAIM_PATH, code
    elif (st.session_state.get(SESSION_KEY) is not None
          and now - renewed > max(30, sessions.cookie_max_age(idle_minutes) // 10)):
        st.session_state[RENEWED_KEY] = now
        path = REFRESH_PATH
    if path:
        with slot.container():
            st.html(HIDE)
            _post(path, body)
