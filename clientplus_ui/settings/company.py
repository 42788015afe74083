"""Settings: own company requisites and the upload limit."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from clientplus_core.base.errors import UserError, ValidationError
from clientplus_core.clients.fields import CLIENT_FIELDS, CLIENT_KINDS
from clientplus_core.records import settings
from clientplus_core.sales import company, signatory
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import client_field_label, gender_choice
from clientplus_ui.i18n import tr
from clientplus_ui.requisites.widgets import TRIGGERS, LookupPanel
from clientplus_ui.widgets import show_error

FORM_KEY = "settings.company"
TAX_SYSTEMS = {"osn": ("ОСН — общая система", "OSN — general system"),
               "usn": ("УСН — упрощённая система", "USN — simplified system")}

# Sections of the form: (ru, en, field names). Every company.COMPANY_FIELDS name is here.
SECTIONS = (
    ("Организация", "Organisation",
     ("kind", "name", "full_name", "inn", "kpp", "ogrn", "okved")),
    ("Адреса", "Addresses", ("legal_address", "postal_address", "postal_index")),
    ("Банк", "Bank", ("bank_name", "bik", "corr_account", "account")),
    ("Руководитель и контакты", "Director and contacts",
     ("director_post", "director_name", "phone", "email", "website")),
    ("Подписи в документах", "Signatures in documents",
     ("director_post_gen", "director_name_gen", "basis", "director_gender",
      "accountant_name")),
)
_WIDE = {"full_name", "legal_address", "postal_address", "bank_name"}
_LABELS = {"accountant_name": ("Главный бухгалтер", "Chief accountant")}
_GEN_HELP = ("Для договора и акта («в лице …»). Пусто — склоняется автоматически (серым"
             " показано, как); впишите, только если склонение неверно.",
             "For contracts and acts («в лице …»). Empty: declined automatically (shown in"
             " grey); type it only when the declension is wrong.")
_HELP = {"director_post_gen": _GEN_HELP, "director_name_gen": _GEN_HELP,
         "basis": ("«…, действующего на основании Устава». Пусто — «Устава» для юр. лица,"
                   " запись в ЕГРИП для ИП.",
                   "«…, acting on the basis of the Charter». Empty: «Устава» for a company,"
                   " the ЕГРИП record for a sole proprietor."),
         "accountant_name": ("Подписывает счёт за бухгалтера. Пусто — подписывает руководитель.",
                             "Signs invoices as the accountant. Empty: the director signs.")}


def _max_len(name: str) -> int:
    return next((f.max_len for f in CLIENT_FIELDS if f.name == name), 1000)


def company_form(store: Store, actor: Actor) -> None:
    """The requisites form; Save validates with the client-card rules and names bad fields."""
    editable = can(actor, "settings.company")
    if not editable:
        st.info(tr("Реквизиты меняет только администратор.",
                   "Only an administrator can change the requisites."))
    stored = company.get(store)
    st.caption(tr("Эти реквизиты подставляются в счета, договоры и коммерческие предложения.",
                  "These requisites go into invoices, contracts and offers."))
    panel = LookupPanel(FORM_KEY, lambda name: f"{FORM_KEY}.{name}", actor, editable)
    panel.prepare()
    panel.render(store, actor)
    hints = signatory.automatic(stored) | {
        "accountant_name": signatory.person_name(stored),
        "director_gender": signatory.signatory_gender({**stored, "director_gender": ""})}
    extra: list[tuple[int, dict[str, str]]] = []
    with st.form(FORM_KEY, enter_to_submit=False, border=False):
        values: dict[str, str] = {}
        for ru, en, names in SECTIONS:
            st.markdown(f"**{tr(ru, en)}**")
            for row in _rows(names):
                cols = [st.container()] if row[0] in _WIDE else st.columns(2)
                for col, name in zip(cols, row, strict=False):
                    with col:
                        values[name] = _field(name, stored.get(name, ""), editable,
                                              hints.get(name))
            if ru == "Организация":
                taxes = {k: tr(*v) for k, v in TAX_SYSTEMS.items()}
                values["tax_system"] = st.columns(2)[0].selectbox(
                    tr("Система налогообложения", "Tax system"), list(taxes),
                    index=list(taxes).index(stored.get("tax_system") or "osn"),
                    format_func=taxes.__getitem__, key=f"{FORM_KEY}.tax_system",
                    disabled=not editable)
            for name in names:
                if name in TRIGGERS:
                    panel.button(name)
            if ru == "Банк":
                extra = _extra_accounts(stored.get("extra_accounts") or [], editable)
        saved = st.form_submit_button(tr("Сохранить", "Save"), type="primary",
                                      disabled=not editable, icon=":material/save:",
                                      key=f"{FORM_KEY}.save")
    if saved:
        try:
            company.save(store, actor, {**values, "extra_accounts": [r for _, r in extra]})
        except ValidationError as exc:
            show_error(ValidationError(_extra_rows_named(exc.errors, [n for n, _ in extra])))
        except UserError as exc:
            show_error(exc)
        else:
            panel.forget()
            st.session_state[EXTRA_GEN] = extra_gen() + 1  # the editor shows what was saved
            st.success(tr("Реквизиты сохранены.", "Requisites saved."))
    panel.run(store, actor, values)


EXTRA_GEN = f"{FORM_KEY}.extra_gen"
EXTRA_COLUMNS = {"account": ("Расчётный счёт", "Settlement account"), "bik": ("БИК", "BIK"),
                 "bank_name": ("Банк", "Bank"),
                 "corr_account": ("Корр. счёт", "Correspondent account")}


def extra_gen() -> int:
    return int(st.session_state.get(EXTRA_GEN, 0))


def extra_accounts_key() -> str:
    """The session-state key of the extra accounts editor (it changes after a save)."""
    return f"{FORM_KEY}.extra_accounts.{extra_gen()}"


def _extra_accounts(stored: list[dict[str, str]],
                    editable: bool) -> list[tuple[int, dict[str, str]]]:
    """The company's other settlement accounts (bank statements may come from them):
    an editable table; returns ``(row number, account)`` for every row not left empty."""
    st.markdown(tr("Дополнительные расчётные счета", "Additional settlement accounts"))
    st.caption(tr("Другие счета компании, на которые приходят оплаты: платежи на них из"
                  " банковской выписки тоже разносятся. В документы идёт основной счёт.",
                  "Other accounts of the company payments arrive on: payments to them in a"
                  " bank statement are recorded too. Documents show the main account."))
    data = pd.DataFrame([{k: str(a.get(k) or "") for k in EXTRA_COLUMNS} for a in stored],
                        columns=list(EXTRA_COLUMNS), dtype="object")
    edited = st.data_editor(
        data, key=extra_accounts_key(),
        num_rows="dynamic", hide_index=True, width="stretch", disabled=not editable,
        column_order=list(EXTRA_COLUMNS), column_config={
            k: st.column_config.TextColumn(tr(*v), width="large" if k == "bank_name" else None)
            for k, v in EXTRA_COLUMNS.items()})
    rows = edited.to_dict("records")
    out: list[tuple[int, dict[str, str]]] = []
    for n, row in enumerate(rows, start=1):
        cells = {k: "" if pd.isna(row.get(k)) else str(row.get(k)).strip()
                 for k in EXTRA_COLUMNS}
        if any(cells.values()):
            out.append((n, cells))
    return out


def _extra_rows_named(errors: dict[str, str], rows: list[int]) -> dict[str, str]:
    """The core numbers the extra accounts it was given; name the table's row instead."""
    out: dict[str, str] = {}
    for field, message in errors.items():
        head, _, n = field.partition(".")
        if head == "extra_accounts" and n.isdigit() and 0 < int(n) <= len(rows):
            reason = message.split(": ", 1)[-1]
            message = tr(f"Дополнительные счета, строка {rows[int(n) - 1]}: {reason}",
                         f"Additional accounts, row {rows[int(n) - 1]}: {reason}")
        out[field] = message
    return out


def _rows(names: tuple[str, ...]) -> list[list[str]]:
    """Pairs of short fields side by side; long ones (addresses, names) get a row each."""
    rows: list[list[str]] = []
    for name in names:
        if name not in _WIDE and rows and len(rows[-1]) == 1 and rows[-1][0] not in _WIDE:
            rows[-1].append(name)
        else:
            rows.append([name])
    return rows


def _field(name: str, value: str, editable: bool, hint: str | None = None) -> str:
    key = f"{FORM_KEY}.{name}"
    if name == "kind":
        kinds = {k: tr(*v) for k, v in CLIENT_KINDS.items()}
        return st.selectbox(client_field_label(name), list(kinds),
                            index=list(kinds).index(value) if value in kinds else 0,
                            format_func=kinds.__getitem__, key=key,
                            disabled=not editable)
    if name == "director_gender":
        return gender_choice(client_field_label(name), value, hint or "m", key,
                             disabled=not editable)
    label = tr(*_LABELS[name]) if name in _LABELS else client_field_label(name)
    return st.text_input(label, value=str(value or ""), key=key, disabled=not editable,
                         max_chars=company.OWN_FIELDS.get(name) or _max_len(name),
                         placeholder=hint or None,
                         help=tr(*_HELP[name]) if name in _HELP else None)


def upload_limit_form(store: Store, actor: Actor) -> None:
    """The largest file a user may attach (MB)."""
    editable = can(actor, "settings.write")
    current = int(settings.get(store, "upload_limit_mb"))
    with st.form("settings.files", enter_to_submit=False, border=False):
        limit = st.number_input(tr("Наибольший размер файла, МБ", "Largest file size, MB"),
                                min_value=1, max_value=2048, value=min(max(current, 1), 2048),
                                step=1, key="settings.files.limit", disabled=not editable,
                                width=320,
                                help=tr("Файлы больше этого размера к клиенту не прикрепить.",
                                        "Larger files cannot be attached to a client."))
        saved = st.form_submit_button(tr("Сохранить", "Save"), disabled=not editable,
                                      icon=":material/save:", key="settings.files.save")
    if saved:
        try:
            settings.put(store, actor, "upload_limit_mb", int(limit))
        except UserError as exc:
            show_error(exc)
        else:
            st.success(tr(f"Ограничение: {int(limit)} МБ.", f"Limit: {int(limit)} MB."))
    server_max = int(st.get_option("server.maxUploadSize"))
    if int(settings.get(store, "upload_limit_mb")) > server_max:
        st.warning(tr(f"Веб-сервер сейчас принимает файлы не больше {server_max} МБ. Чтобы "
                      "загружать больше, запустите программу с параметром "
                      "--server.maxUploadSize.",
                      f"The web server now accepts files up to {server_max} MB. To upload "
                      "larger ones, start the app with --server.maxUploadSize."))
    if not editable:
        st.caption(tr("Меняет только администратор.", "Only an administrator can change this."))
