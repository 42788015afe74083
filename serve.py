"""Serve ClientPlus: ``streamlit run serve.py`` (what ``make run`` does).

The app itself is ``app.py``; this wrapper starts it as ``st.App`` with the
server's own cookie routes (:mod:`clientplus_ui.cookie_routes`), which keep a
browser signed in across reloads, bookmarks and new tabs with an HttpOnly,
SameSite=Strict cookie. ``streamlit run app.py`` still works, but then every
reload asks to sign in again.
"""

from __future__ import annotations

import streamlit as st

from clientplus_ui.cookie_routes import routes

app = st.App("app.py", routes=routes())
