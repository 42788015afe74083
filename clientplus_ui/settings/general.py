"""Settings → «Язык и время»: the interface language of a browser that has not chosen
one (the sign-in page included) and the time zone every time is shown in."""

from __future__ import annotations

from zoneinfo import available_timezones

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import lkey
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import forget_zone, show_error

LANGUAGES = {"ru": "Русский", "en": "English"}
# the Russian zones first (Калининград … Камчатка), then every other one
RUSSIAN_ZONES = ("Europe/Kaliningrad", "Europe/Moscow", "Europe/Samara", "Asia/Yekaterinburg",
                 "Asia/Omsk", "Asia/Novosibirsk", "Asia/Krasnoyarsk", "Asia/Irkutsk",
                 "Asia/Yakutsk", "Asia/Vladivostok", "Asia/Magadan", "Asia/Kamchatka")


def section(store: Store, actor: Actor) -> None:
    """The default language and the time zone (an administrator changes them)."""
    editable = can(actor, "settings.write")
    zones = [*RUSSIAN_ZONES, *sorted(available_timezones() - set(RUSSIAN_ZONES))]
    current_zone = str(settings.get(store, "timezone") or "")
    with st.form("settings.general", enter_to_submit=False, border=False):
        language = st.selectbox(
            tr("Язык интерфейса по умолчанию", "Default interface language"),
            list(LANGUAGES), index=list(LANGUAGES).index(settings.language(store)),
            format_func=LANGUAGES.__getitem__, key=lkey("settings.general.lang"),
            disabled=not editable, width=320,
            help=tr("На этом языке открывается страница входа и программа в браузере, где"
                    " язык ещё не выбран переключателем RU / EN.",
                    "The sign-in page and the app open in this language in a browser where"
                    " no language was chosen with the RU / EN switch."))
        zone = st.selectbox(tr("Часовой пояс", "Time zone"), zones,
                            index=zones.index(current_zone) if current_zone in zones else 1,
                            key="settings.general.zone", disabled=not editable, width=320,
                            help=tr("Все времена в программе показаны в этом поясе.",
                                    "Every time in the app is shown in this zone."))
        saved = st.form_submit_button(tr("Сохранить", "Save"), disabled=not editable,
                                      icon=":material/save:", key="settings.general.save")
    if saved:
        try:
            settings.put(store, actor, "language", language)
            settings.put(store, actor, "timezone", zone)
        except UserError as exc:
            show_error(exc)
        else:
            forget_zone()
            st.success(tr("Сохранено.", "Saved."))
    if not editable:
        st.caption(tr("Меняет только администратор.", "Only an administrator can change this."))
