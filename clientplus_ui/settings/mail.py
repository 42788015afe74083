"""Settings → «Почта»: the outgoing mail server (host, port, SSL / STARTTLS, login,
sender, reply-to), presets for Yandex and Mail.ru, where the password comes from
(never its value), the sending rate, and «Проверить соединение» showing what the
server answered."""

from __future__ import annotations

from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.outreach import smtp
from clientplus_core.records import settings
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import flash
from clientplus_ui.i18n import tr
from clientplus_ui.widgets import show_error

P = "smtpset"
FIELDS = ("host", "port", "security", "login", "from_name", "from_address", "reply_to",
          "timeout")
SECURITY_LABELS = {"ssl": "SSL (порт 465)", "starttls": "STARTTLS (порт 587)",
                   "none": "без защиты (только для локального сервера)"}


def _load(store: Store) -> None:
    if st.session_state.get(f"{P}.loaded"):
        return
    current = smtp.settings_dict(settings.get(store, "smtp"))
    for key in FIELDS:
        value = current[key]
        st.session_state[f"{P}.{key}"] = int(value) if key in ("port", "timeout") else value
    st.session_state[f"{P}.rate"] = int(settings.get(store, "mail_rate_per_minute") or 0)
    st.session_state[f"{P}.loaded"] = True


def _apply_preset() -> None:
    preset = smtp.PRESETS.get(st.session_state.get(f"{P}.preset") or "")
    if preset:
        for key, value in preset.items():
            st.session_state[f"{P}.{key}"] = value


def password_note() -> str:
    source = smtp.password_source()
    if source == "env":
        return tr("Пароль: задан в переменной окружения CLIENTPLUS_SMTP_PASSWORD",
                  "Password: set in the CLIENTPLUS_SMTP_PASSWORD environment variable")
    if source == "secrets":
        return tr("Пароль: задан в .streamlit/secrets.toml (раздел [smtp])",
                  "Password: set in .streamlit/secrets.toml ([smtp])")
    return tr("Пароль: не задан. Укажите его в .streamlit/secrets.toml (раздел [smtp], "
              "password = \"…\") или в переменной окружения CLIENTPLUS_SMTP_PASSWORD — "
              "в базе данных он не хранится.",
              "Password: not set. Put it into .streamlit/secrets.toml ([smtp] password) or "
              "the CLIENTPLUS_SMTP_PASSWORD environment variable; it is never stored in the "
              "database.")


def mail_section(store: Store, actor: Actor) -> None:
    if not can(actor, "settings.mail"):
        st.info(tr("Почтовый сервер настраивает администратор.",
                   "The administrator sets up the mail server."))
        return
    _load(store)
    st.selectbox(tr("Готовые настройки", "Preset"), ["", *smtp.PRESETS], key=f"{P}.preset",
                 on_change=_apply_preset,
                 format_func=lambda n: n or tr("— выберите почтовую службу —", "— choose —"),
                 help=tr("Для Яндекса и Mail.ru нужен «пароль приложения» из настроек ящика.",
                         "Yandex and Mail.ru need an app password."))
    c1, c2, c3 = st.columns([3, 1, 2])
    c1.text_input(tr("Сервер SMTP", "SMTP host"), key=f"{P}.host",
                  placeholder="smtp.yandex.ru")
    c2.number_input(tr("Порт", "Port"), min_value=1, max_value=65535, step=1, key=f"{P}.port")
    c3.selectbox(tr("Защита", "Security"), list(SECURITY_LABELS), key=f"{P}.security",
                 format_func=lambda k: SECURITY_LABELS[k])
    c1, c2 = st.columns(2)
    c1.text_input(tr("Логин", "Login"), key=f"{P}.login",
                  help=tr("Обычно полный адрес ящика", "Usually the full mailbox address"))
    c2.number_input(tr("Тайм-аут, с", "Timeout, s"), min_value=1, max_value=600, step=1,
                    key=f"{P}.timeout")
    c1, c2 = st.columns(2)
    c1.text_input(tr("Имя отправителя", "Sender name"), key=f"{P}.from_name",
                  placeholder="ООО «Ромашка»")
    c2.text_input(tr("Адрес отправителя", "Sender address"), key=f"{P}.from_address",
                  placeholder="sales@romashka.ru")
    c1, c2 = st.columns(2)
    c1.text_input(tr("Адрес для ответов (если у пользователя нет своего)",
                     "Reply-to (when the user has no e-mail)"), key=f"{P}.reply_to")
    c2.number_input(tr("Писем в минуту (0 — без ограничения)", "Messages a minute (0: no limit)"),
                    min_value=0, max_value=10_000, step=10, key=f"{P}.rate")
    st.caption(password_note())
    values: dict[str, Any] = {k: st.session_state.get(f"{P}.{k}") for k in FIELDS}
    b1, b2 = st.columns(2)
    if b1.button(tr("Сохранить настройки почты", "Save mail settings"), key=f"{P}.save",
                 type="primary", icon=":material/save:"):
        try:
            smtp.save_settings(store, actor, values)
            settings.put(store, actor, "mail_rate_per_minute", int(st.session_state[f"{P}.rate"]))
        except UserError as exc:
            show_error(exc)
        else:
            flash(tr("Настройки почты сохранены", "Mail settings saved"))
            st.rerun()
    if b2.button(tr("Проверить соединение", "Check connection"), key=f"{P}.check",
                 icon=":material/lan:"):
        try:
            with st.spinner(tr("Подключаемся…", "Connecting…")):
                answer = smtp.check_connection(smtp.config_from(values))
        except UserError as exc:
            show_error(exc)
        else:
            st.success(answer)
