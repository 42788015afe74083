"""Small pieces shared by the bank statement tabs: labels of the core's codes and
a download button whose workbook is built on click."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from clientplus_ui.i18n import tr
from clientplus_ui.widgets import XLSX_MIME


def label(table: dict[str, tuple[str, str]], code: str) -> str:
    """A code of ``STATES`` / ``DIRECTIONS`` in the UI language."""
    ru, en = table.get(code, (code, code))
    return tr(ru, en)


def lazy_xlsx(label_text: str, make: Callable[[], bytes], file_name: str, key: str,
              **kwargs: Any) -> None:
    """A download button whose workbook is built only when it is pressed (Streamlit
    calls ``make`` then), so the page shows at once."""
    st.download_button(label_text, make, file_name=file_name, mime=XLSX_MIME, key=key,
                       icon=":material/download:", on_click="ignore", **kwargs)
