"""Russian by default, English on a switch: ``tr("Клиенты", "Clients")``.

Strings live beside the code that shows them, in both languages, so a page and
its translation cannot drift apart.
"""

from __future__ import annotations

import streamlit as st

LANG_KEY = "ui.lang"


def lang() -> str:
    """The current session's language: ``"ru"`` (default) or ``"en"``."""
    value = st.session_state.get(LANG_KEY, "ru")
    return value if value in ("ru", "en") else "ru"


def tr(ru: str, en: str) -> str:
    """The text in the current language."""
    return en if lang() == "en" else ru


def language_switch() -> None:
    """A compact RU / EN switch (sidebar)."""
    choice = st.segmented_control("Язык / Language", ["RU", "EN"],
                                  default="EN" if lang() == "en" else "RU",
                                  key="ui.lang_switch", label_visibility="collapsed")
    new = "en" if choice == "EN" else "ru"
    if new != lang():
        st.session_state[LANG_KEY] = new
        st.rerun()
