"""Widgets shared by pages: error display, downloads, the global search box."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from clientplus_core.base import formats
from clientplus_core.base.errors import (
    ConflictError,
    DuplicateWarning,
    NotFound,
    UserError,
    ValidationError,
)
from clientplus_ui.i18n import lang, tr

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def show_error(exc: Exception) -> None:
    """Render a user error as a clear message (one line per bad field); never a
    traceback. Messages may quote what the user typed, so they are markdown-escaped."""
    from clientplus_ui.common import client_field_label, md_escape

    if isinstance(exc, ValidationError):
        st.error(tr("Не сохранено — исправьте поля:", "Not saved — fix these fields:") + "\n\n"
                 + "\n".join(f"- {md_escape(m)}" for m in exc.errors.values()))
    elif isinstance(exc, ConflictError):
        lines = [md_escape(exc)]
        for field, (old, new) in exc.changes.items():
            lines.append(f"- {md_escape(client_field_label(field))}: «{md_escape(old)}» → "
                         f"«{md_escape(new)}»")
        st.warning("\n".join(lines))
    elif isinstance(exc, DuplicateWarning):
        st.warning(md_escape(exc))
    elif isinstance(exc, (NotFound, UserError)):
        st.error(md_escape(exc))
    else:
        st.error(tr("Что-то пошло не так: ", "Something went wrong: ") + type(exc).__name__)


def kept_upload(label: str, key: str, types: Sequence[str] | None = None,
                container: Any = None) -> tuple[str, bytes] | None:
    """A file uploader that keeps ``(filename, bytes)`` in session state under ``key``
    (what the page acts on; tests set that key directly, as AppTest cannot upload)."""
    widget_key = key + ".widget"

    def keep() -> None:
        up = st.session_state.get(widget_key)
        if up is None:
            st.session_state.pop(key, None)
        else:
            st.session_state[key] = (up.name, up.getvalue())

    (container or st).file_uploader(label, type=list(types) if types else None, key=widget_key,
                                    on_change=keep)
    return st.session_state.get(key)


def highlight(text: str, spans: Sequence[Sequence[int]]) -> str:
    """HTML-escape ``text`` and wrap the (start, end) spans in ``<mark>``."""
    out: list[str] = []
    pos = 0
    for start, end in sorted((int(s[0]), int(s[1])) for s in spans):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append("<mark>" + html.escape(text[start:end]) + "</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def xlsx_download(label: str, data: bytes, file_name: str, key: str) -> None:
    """A download button for an .xlsx file."""
    st.download_button(label, data, file_name=file_name, mime=XLSX_MIME, key=key,
                       icon=":material/download:")


def search_box() -> None:
    """The global search box (sidebar, on every page): Enter opens the results page."""
    q = st.sidebar.text_input(tr("Поиск", "Search"), key="ui.global_search",
                              placeholder=tr("Клиент, ИНН, телефон, текст файла…",
                                             "Client, INN, phone, file text…"))
    if q and q != st.session_state.get("ui.global_search_done"):
        st.session_state["ui.global_search_done"] = q
        st.switch_page("pages/search.py", query_params={"q": q})


@st.cache_data(ttl=60, show_spinner=False)
def _zone_name(data_dir: str) -> str:
    from clientplus_core.records import settings
    from clientplus_core.store.db import Store

    try:
        return str(settings.zone(Store(data_dir)))
    except Exception:  # noqa: BLE001 - a database not yet created: the default zone
        return formats.DEFAULT_ZONE


def display_zone() -> ZoneInfo:
    """The ``timezone`` setting every time on a page is shown in (read at most once a
    minute; :func:`forget_zone` after changing it)."""
    from clientplus_core.store.config import resolve_data_dir

    return formats.zone(_zone_name(str(resolve_data_dir().root)))


def forget_zone() -> None:
    """Show times in a just-changed ``timezone`` setting from the next run on."""
    _zone_name.clear()


def fmt_dt(value: Any, seconds: bool = False) -> str:
    """A stored UTC instant as ``ДД.ММ.ГГГГ ЧЧ:ММ`` in the ``timezone`` setting (a bare
    date as ``ДД.ММ.ГГГГ``; empty for nothing)."""
    return formats.moment(value, display_zone(), lang(), seconds=seconds)


def fmt_day(value: Any) -> str:
    """A date as ``06.12.2026`` (empty for nothing)."""
    return formats.day(value, lang())


def fmt_count(value: Any) -> str:
    """A whole number as the language writes it: «1 000 000» / «1,000,000»."""
    return formats.number(value, lang())


def fmt_money(value: Any, *, sign: bool = True, whole: bool = False) -> str:
    """An amount as the language writes it: «9 821 111,14 ₽» / «9,821,111.14 ₽»
    (empty for nothing)."""
    return formats.money(value, lang(), sign=sign, whole=whole)


def client_picker(store: Any, actor: Any, key: str, preset: int | None = None,
                  label: str | None = None) -> int | None:
    """Find a client by name, INN or phone and pick it (a select box over the 50 best
    matches of what is typed, best first as the search ranks them; ``preset``
    preselects one). Returns the client id.

    The typed box is the picker's only filter: the select box's own (English «No
    results», and a fuzzy re-sort of the ranked list) is switched off."""
    from clientplus_core.clients import cards as clients
    from clientplus_core.clients.cards import ClientFilter

    c1, c2 = st.columns([2, 3])
    query = c1.text_input(tr("Найти клиента", "Find a client"), key=f"{key}_q",
                          placeholder=tr("Наименование, ИНН, телефон…", "Name, INN, phone…"))
    try:
        found = clients.list_clients(store, actor, ClientFilter(query=query or ""), page=1,
                                     page_size=50)
        options = {r["id"]: r["name"] for r in found.rows}
        current = preset or st.session_state.get(key)
        if current and current not in options:
            options = {current: clients.get(store, actor, int(current))["name"], **options}
    except UserError as exc:
        show_error(exc)
        return None
    if preset and st.session_state.get(key) not in options:
        st.session_state[key] = preset
    placeholder = tr("Выберите клиента", "Choose a client")
    if not options:
        placeholder = tr("Ничего не найдено — измените запрос", "Nothing found — change the search")
    elif found.total > len(found.rows):
        total = formats.number(found.total, lang())
        placeholder = tr(f"Выберите из {len(found.rows)} лучших (найдено {total})",
                         f"Choose among the best {len(found.rows)} (found {total})")
    return c2.selectbox(label or tr("Клиент", "Client"), list(options), index=None,
                        format_func=lambda i: options.get(i, f"№{i}"), key=key,
                        placeholder=placeholder, filter_mode=None, disabled=not options)
