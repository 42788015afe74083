"""Small pieces shared by the client pages: safe text, confirmations, flash
messages, labels and the "loaded snapshot" a form edits."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from clientplus_core.clients.fields import CLIENT_FIELDS, CLIENT_KINDS, CONTACT_FIELDS, label
from clientplus_ui.i18n import lang, tr

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#~|$&])")
_MD_LEADING = re.compile(r"^(\s*)(\d+)([.)])|^(\s*)([-+=])")


def md_escape(text: object) -> str:
    """Text made inert for Streamlit markdown (labels, headers, alerts): markup
    characters are backslash-escaped, so ``<script>``, ``**x**`` or ``[a](b)``
    show literally; newlines become spaces."""
    s = _MD_SPECIAL.sub(r"\\\1", str(text or "").replace("\n", " "))
    return _MD_LEADING.sub(lambda m: (f"{m[1]}{m[2]}\\{m[3]}" if m[2] else f"{m[4]}\\{m[5]}"), s)


def lkey(key: str) -> str:
    """A widget key that changes with the language: Streamlit keeps a keyed
    select box's option labels from its first render, so a select whose options
    are translated needs a new key after RU ⇄ EN."""
    return f"{key}.{lang()}"


def gender_choice(label: str, value: object, automatic: str, key: str,
                  disabled: bool = False) -> str:
    """The signatory's gender on a card: «авто (муж.)» — told from the name — or
    «муж.» / «жен.» chosen; returns ``""`` / ``"m"`` / ``"f"`` (a translated select
    box: its key changes with the language, see :func:`lkey`)."""
    from clientplus_core.clients.fields import GENDERS

    ru_auto, en_auto = GENDERS.get(automatic, GENDERS["m"])
    names = {"": tr(f"авто ({ru_auto})", f"auto ({en_auto})")} | {
        k: tr(*v) for k, v in GENDERS.items()}
    options = list(names)
    return str(st.selectbox(
        label, options, index=options.index(value) if value in options else 0,
        format_func=names.__getitem__, key=lkey(key), disabled=disabled,
        help=tr("Для договора и акта: «действующего» или «действующей», «именуемый» или"
                " «именуемая». «Авто» — по отчеству; выберите, если оно не подсказывает.",
                "For contracts and acts («действующего» / «действующей»). Auto: told from"
                " the patronymic; choose when it does not tell.")) or "")


def kind_label(kind: str | None) -> str:
    """«Юр. лицо» / «ИП» / «Физ. лицо» for a stored kind code."""
    if not kind:
        return ""
    ru, en = CLIENT_KINDS.get(kind, (kind, kind))
    return tr(ru, en)


def client_field_label(name: str) -> str:
    extra = {"owner_id": ("Ответственный", "Owner"), "extra": ("Доп. поля", "Custom fields")}
    if name in extra:
        return tr(*extra[name])
    return label(CLIENT_FIELDS, name, lang())


def contact_field_label(name: str) -> str:
    return label(CONTACT_FIELDS, name, lang())


def human_size(n: int | None) -> str:
    """1536 -> «1,5 КБ»."""
    size = float(n or 0)
    units = [tr("Б", "B"), tr("КБ", "KB"), tr("МБ", "MB"), tr("ГБ", "GB")]
    for unit in units:
        if size < 1024 or unit == units[-1]:
            text = f"{size:.0f}" if unit == units[0] or size >= 100 else f"{size:.1f}"
            return f"{text.replace('.', ',') if lang() == 'ru' else text} {unit}"
        size /= 1024
    return str(n)


def short(value: object, width: int = 60) -> str:
    """A value for one table cell: lists joined, long text cut."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        value = ", ".join(f"{k}={v}" for k, v in value.items())
    s = str(value).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


# ---- flash messages (shown once, on the next run, e.g. after a page switch) ----

FLASH_KEY = "ui.flash"


def flash(message: str, kind: str = "success") -> None:
    st.session_state.setdefault(FLASH_KEY, []).append((kind, message))


def show_flash() -> None:
    for kind, message in st.session_state.pop(FLASH_KEY, []):
        {"success": st.success, "error": st.error, "warning": st.warning,
         "info": st.info}.get(kind, st.info)(message)


# ---- a card's tab bar -----------------------------------------------------------

def card_tabs(parts: Sequence[tuple[str, Callable[[], None]]], key: str) -> None:
    """A keyed, tracked tab bar: the open tab survives reruns, and only it is rendered."""
    tabs = st.tabs([label for label, _ in parts], key=key, on_change="rerun")
    for tab, (_, render_tab) in zip(tabs, parts, strict=True):
        if tab.open:
            with tab:
                render_tab()


# ---- confirmation -------------------------------------------------------------

def confirm_action(label: str, question: str, confirm_label: str, key: str,
                   on_confirm: Callable[[], None], *, icon: str = ":material/delete:") -> None:
    """A button that opens a small popover asking to confirm; ``on_confirm``
    runs only when the second, explicit button is pressed."""
    with st.popover(label, icon=icon):
        st.markdown(md_escape(question))
        if st.button(confirm_label, key=key, type="primary"):
            on_confirm()


# ---- the snapshot a form edits ------------------------------------------------

class Snapshot:
    """What a form was loaded from, kept in session state across reruns.

    ``base`` is the record as loaded (its ``version`` goes to the core with the
    save, so a concurrent change is detected, never overwritten); ``gen`` is part
    of every widget key, so :meth:`reload` gives fresh widgets with new defaults.
    """

    def __init__(self, prefix: str):
        self.prefix = prefix

    @property
    def gen(self) -> int:
        return int(st.session_state.get(f"{self.prefix}.gen", 0))

    def key(self, name: str) -> str:
        return f"{self.prefix}.{self.gen}.{name}"

    def base(self, current: Mapping[str, Any] | None, probe: str = "name") -> dict[str, Any]:
        """The record as loaded. It is (re)taken from ``current`` whenever the form
        is freshly shown — its ``probe`` widget did not exist in the last run
        (first visit, coming back to the card, a reload) — and kept while the
        user edits, so a change saved by someone else meanwhile is a conflict."""
        k = f"{self.prefix}.base"
        if self.key(probe) not in st.session_state:
            self.drop("conflict")
            self.drop("pending")
            if current is not None:
                st.session_state[k] = dict(current)
        return dict(st.session_state.get(k) or {})

    def reload(self, current: Mapping[str, Any] | None = None) -> None:
        """Forget typed values; the next run loads ``current`` (or re-reads)."""
        st.session_state[f"{self.prefix}.gen"] = self.gen + 1
        if current is None:
            st.session_state.pop(f"{self.prefix}.base", None)
        else:
            st.session_state[f"{self.prefix}.base"] = dict(current)
        for suffix in ("conflict", "pending"):
            st.session_state.pop(f"{self.prefix}.{suffix}", None)

    def get(self, suffix: str, default: Any = None) -> Any:
        return st.session_state.get(f"{self.prefix}.{suffix}", default)

    def put(self, suffix: str, value: Any) -> None:
        st.session_state[f"{self.prefix}.{suffix}"] = value

    def drop(self, suffix: str) -> None:
        st.session_state.pop(f"{self.prefix}.{suffix}", None)


def conflict_notice(snap: Snapshot, field_label: Callable[[str], str]) -> None:
    """Show a save conflict remembered in ``snap`` (who changed what) with a
    «Перезагрузить» button; nothing is overwritten."""
    conflict = snap.get("conflict")
    if not conflict:
        return
    text = md_escape(conflict["message"])
    if conflict["changes"]:
        text += "\n\n" + tr("Что изменилось:", "What changed:") + "\n" + "\n".join(
            "- " + md_escape(f"{field_label(name)}: «{short(old)}» → «{short(new)}»")
            for name, (old, new) in conflict["changes"].items())
    text += "\n\n" + tr("Ваши правки не сохранены: перезагрузите и внесите их снова.",
                        "Your edits were not saved: reload and make them again.")
    st.warning(text, icon=":material/sync_problem:")
    if st.button(tr("Перезагрузить", "Reload"), key=f"{snap.prefix}.reload",
                 icon=":material/refresh:"):
        snap.reload()
        st.rerun()
