"""«Заполнить по ИНН / БИК / индексу» on a requisites form (the client card and
Settings → Моя компания).

The buttons are submit buttons *inside* the form, so a lookup sees exactly what
the user typed (Streamlit sends a form's values only on submit). The answer is
shown in a panel above the form: fields the user left empty are filled at once;
fields they typed that would change are listed old/new with «Заменить» /
«Оставить»; a liquidated company gets a warning; branches can be chosen; a
postal index offers addresses to pick. Values are written into the form's
widget keys at the start of the next run, before the widgets exist.

Nothing the service returns is rendered as HTML: markdown gets
:func:`md_escape`, tables go through ``st.dataframe``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from clientplus_core.base.errors import UserError
from clientplus_core.clients.fields import CLIENT_FIELDS
from clientplus_core.records.validation import check_account
from clientplus_core.requisites import lookup, registry
from clientplus_core.requisites.dadata import (
    HOW_TO_GET_TOKEN,
    HOW_TO_GET_TOKEN_EN,
    NoToken,
    load_config,
)
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, can
from clientplus_ui.common import client_field_label, md_escape
from clientplus_ui.i18n import lang, tr

# trigger field -> ((ru, en) label, icon, (ru, en) help)
TRIGGERS: dict[str, tuple[tuple[str, str], str, tuple[str, str]]] = {
    "inn": (("Заполнить по ИНН", "Fill from INN"), ":material/manage_search:",
            ("Наименование, КПП, ОГРН, адрес и руководитель из ЕГРЮЛ/ЕГРИП по ИНН или ОГРН",
             "Name, KPP, OGRN, address and director from the register by INN or OGRN")),
    "bik": (("Заполнить по БИК", "Fill from BIK"), ":material/account_balance:",
            ("Банк, город и корр. счёт по БИК", "Bank, city and corr. account from the BIK")),
    "postal_index": (("Адрес по индексу", "Address from index"), ":material/local_post_office:",
                     ("Адреса с этим почтовым индексом на выбор",
                      "Addresses with this postal index to choose from")),
}


def how_to_get_token() -> str:
    return tr(HOW_TO_GET_TOKEN, HOW_TO_GET_TOKEN_EN)


def registry_status_notice(client: Mapping[str, Any]) -> None:
    """The register status the batch refresh found, when it is worth a warning."""
    status = str(client.get("registry_status") or "")
    text = registry.status_warning(status, str(client.get("kind") or "legal"), lang=lang())
    if text:
        when = registry.fetched_date(str(client.get("registry_checked_at") or ""))
        st.warning(md_escape(tr(f"По данным реестра на {when}: ", f"Register, {when}: ") + text),
                   icon=":material/warning:")


def _in_form_order(names: list[str]) -> list[str]:
    order = {f.name: i for i, f in enumerate(CLIENT_FIELDS)}
    return sorted(names, key=lambda n: order.get(n, len(order)))


def forget_lookup(prefix: str) -> None:
    """Drop the lookup panel of the form with this prefix (after it was saved)."""
    st.session_state.pop(f"{prefix}.lookup", None)
    st.session_state.pop(f"{prefix}.lookup_fill", None)


class LookupPanel:
    """The fill buttons of one form and the panel with what was found.

    ``prefix`` namespaces the session state; ``key_of(field)`` is the form's
    widget key for a field (so found values can be put into it)."""

    def __init__(self, prefix: str, key_of: Callable[[str], str], actor: Actor,
                 writable: bool):
        self.state_key = f"{prefix}.lookup"
        self.fill_key = f"{prefix}.lookup_fill"
        self.prefix = prefix
        self.key_of = key_of
        self.enabled = writable and can(actor, "lookup.use")
        self.pressed: str | None = None

    # ---- before the form ----------------------------------------------------

    def prepare(self) -> None:
        """Write queued values into the form's widgets (call before they render)."""
        for name, value in (st.session_state.pop(self.fill_key, None) or {}).items():
            st.session_state[self.key_of(name)] = value

    def forget(self) -> None:
        """Drop the panel."""
        forget_lookup(self.prefix)

    # ---- inside the form ------------------------------------------------------

    def button(self, trigger: str) -> None:
        """The «Заполнить …» submit button for ``trigger`` (inn, bik, postal_index)."""
        (ru, en), icon, (hru, hen) = TRIGGERS[trigger]
        help_text = tr(hru, hen)
        if self.enabled and not load_config().has_token:
            help_text += "\n\n" + how_to_get_token()
        if st.form_submit_button(tr(ru, en), key=f"{self.prefix}.lookup_btn.{trigger}",
                                 icon=icon, help=help_text, disabled=not self.enabled):
            self.pressed = trigger

    # ---- after the form -------------------------------------------------------

    def run(self, store: Store, actor: Actor, typed: Mapping[str, Any]) -> None:
        """Do the lookup a pressed button asked for; remember the answer; rerun."""
        if self.pressed:
            self._lookup(store, actor, self.pressed, dict(typed), fresh=False)
            st.rerun()

    def _lookup(self, store: Store, actor: Actor, trigger: str, typed: dict[str, Any],
                fresh: bool) -> None:
        state: dict[str, Any] = {"trigger": trigger, "typed": typed}
        fills: dict[str, str] = {}
        try:
            if trigger == "inn":
                query = str(typed.get("inn") or "").strip() or str(typed.get("ogrn") or "")
                party = lookup.find_party(store, actor, query, fresh=fresh)
                found = dict(party.fields)
                kind = found.pop("kind")
                if kind != typed.get("kind"):
                    fills["kind"] = kind
                state["party"] = party
            elif trigger == "bik":
                bank = lookup.find_bank(store, actor, typed.get("bik"), fresh=fresh)
                found = bank.fields
                state["bank"] = bank
                try:
                    check_account(str(typed.get("account") or ""), bank.bik)
                except ValueError as exc:
                    state["account_warning"] = str(exc)
            else:
                state["postal"] = lookup.postal_suggestions(store, actor,
                                                            typed.get("postal_index"),
                                                            fresh=fresh)
                found = {}
        except NoToken:
            state["no_token"] = True
        except UserError as exc:
            state["error"] = str(exc)
        else:
            fills.update(lookup.empty_fills(typed, found))
            state["conflicts"] = lookup.pending_changes(typed, found)
            state["filled"] = sorted(k for k in fills if k != "kind")
        st.session_state[self.fill_key] = fills
        st.session_state[self.state_key] = state

    def render(self, store: Store, actor: Actor) -> None:
        """The panel with the last answer (call above the form)."""
        state = st.session_state.get(self.state_key)
        if not state:
            return
        with st.container(border=True):
            if state.get("error"):
                st.error(md_escape(state["error"]), icon=":material/error:")
            elif state.get("no_token"):
                st.info(how_to_get_token(), icon=":material/key:")
            elif state.get("party"):
                self._party(state)
            elif state.get("bank"):
                self._bank(state)
            elif state.get("postal"):
                self._postal(state)
            self._footer(store, actor, state)

    # ---- the panel's parts -------------------------------------------------------

    def _source(self, fetched_at: str, from_cache: bool) -> str:
        date = registry.fetched_date(fetched_at)
        return (tr(f"данные от {date}", f"data from {date}")
                + (tr(" (сохранённые)", " (saved)") if from_cache else ""))

    def _filled_note(self, state: dict[str, Any]) -> None:
        if state.get("filled"):
            names = ", ".join(client_field_label(f) for f in _in_form_order(state["filled"]))
            st.caption(tr(f"Заполнено: {names}. Проверьте и сохраните карточку.",
                          f"Filled: {names}. Check and save the card."))

    def _conflicts(self, state: dict[str, Any]) -> None:
        conflicts = state.get("conflicts") or []
        if not conflicts:
            return
        st.markdown(tr("**Эти поля уже заполнены — заменить данными из реестра?**",
                       "**These fields are already filled — replace them with the register's "
                       "data?**"))
        st.dataframe([{tr("Поле", "Field"): client_field_label(f),
                       tr("Сейчас", "Now"): old, tr("Из реестра", "From the register"): new}
                      for f, old, new in conflicts], hide_index=True, width="stretch")
        row = st.container(horizontal=True)
        if row.button(tr("Заменить", "Replace"), key=f"{self.prefix}.lookup.replace",
                     type="primary", icon=":material/published_with_changes:"):
            queued = st.session_state.setdefault(self.fill_key, {})
            queued.update({f: new for f, _, new in conflicts})
            state["filled"] = sorted({*state.get("filled", []), *(f for f, _, _ in conflicts)})
            state["conflicts"] = []
            st.rerun()
        if row.button(tr("Оставить", "Keep mine"), key=f"{self.prefix}.lookup.keep"):
            state["conflicts"] = []
            st.rerun()

    def _party(self, state: dict[str, Any]) -> None:
        party: lookup.PartyResult = state["party"]
        f = party.fields
        st.markdown(f"**{md_escape(f['name'])}** · {tr('ИНН', 'INN')} {md_escape(f['inn'])}")
        facts = [registry.status_label(party.status, party.kind, lang())]
        if party.registration_date:
            facts.append(tr("зарегистрирована ", "registered ")
                         + registry.format_date(party.registration_date))
        facts.append(self._source(party.fetched_at, party.from_cache))
        st.caption(md_escape(" · ".join(facts)))
        warning = registry.status_warning(party.status, party.kind, party.liquidation_date, lang())
        if warning:
            st.warning(md_escape(warning), icon=":material/warning:")
        self._filled_note(state)
        self._conflicts(state)
        if party.branches:
            self._branches(party)

    def _branches(self, party: lookup.PartyResult) -> None:
        options = [b.kpp for b in party.branches]
        by_kpp = {b.kpp: b for b in party.branches}

        def label(kpp: str) -> str:
            b = by_kpp[kpp]
            what = tr("головная организация", "head office") if b.is_head else b.name
            return f"{tr('КПП', 'KPP')} {kpp} — {what} — {b.address}"

        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        chosen = c1.selectbox(tr(f"Подразделение ({len(options) - 1} филиал.)",
                                 f"Division ({len(options) - 1} branches)"),
                              options, format_func=label, key=f"{self.prefix}.lookup.branch")
        if c2.button(tr("Взять КПП и адрес", "Use KPP and address"),
                     key=f"{self.prefix}.lookup.use_branch"):
            queued = st.session_state.setdefault(self.fill_key, {})
            branch = party.fields_for_branch(chosen)
            queued["kpp"] = branch["kpp"]
            if not by_kpp[chosen].is_head:
                queued["postal_address"] = branch["postal_address"]
            st.rerun()

    def _bank(self, state: dict[str, Any]) -> None:
        bank: lookup.BankResult = state["bank"]
        st.markdown(f"**{md_escape(bank.bank_name)}** · {tr('БИК', 'BIK')} {bank.bik}")
        facts = [x for x in (bank.city and tr(f"г. {bank.city}", f"{bank.city}"),
                             bank.swift and f"SWIFT {bank.swift}",
                             self._source(bank.fetched_at, bank.from_cache)) if x]
        st.caption(md_escape(" · ".join(facts)))
        if bank.warning:
            st.warning(md_escape(bank.warning), icon=":material/warning:")
        if state.get("account_warning"):
            st.warning(md_escape(tr("Расчётный счёт: ", "Settlement account: ")
                                 + state["account_warning"]), icon=":material/warning:")
        self._filled_note(state)
        self._conflicts(state)

    def _postal(self, state: dict[str, Any]) -> None:
        result: lookup.PostalResult = state["postal"]
        st.caption(md_escape(tr(f"Индекс {result.index}", f"Index {result.index}") + " · "
                             + self._source(result.fetched_at, result.from_cache)))
        values = [i.value for i in result.items]
        c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
        chosen = c1.selectbox(tr("Адрес", "Address"), values,
                              key=f"{self.prefix}.lookup.address")
        old = str(state["typed"].get("postal_address") or "").strip()
        if old:
            st.caption(md_escape(tr(f"Сейчас в почтовом адресе: {old}",
                                    f"Postal address now: {old}")))
        label = (tr("Заменить почтовый адрес", "Replace the postal address") if old
                 else tr("В почтовый адрес", "Into the postal address"))
        if c2.button(label, key=f"{self.prefix}.lookup.use_address"):
            st.session_state[self.fill_key] = {"postal_address": chosen,
                                               "postal_index": result.index}
            state["filled"] = ["postal_address", "postal_index"]
            st.rerun()
        self._filled_note(state)

    def _footer(self, store: Store, actor: Actor, state: dict[str, Any]) -> None:
        row = st.container(horizontal=True)
        cached = next((r.from_cache for r in (state.get("party"), state.get("bank"),
                                              state.get("postal")) if r), False)
        if cached and load_config().has_token and row.button(
                tr("Обновить из DaData", "Refresh from DaData"),
                key=f"{self.prefix}.lookup.fresh", icon=":material/refresh:"):
            self._lookup(store, actor, state["trigger"], state["typed"], fresh=True)
            st.rerun()
        if row.button(tr("Скрыть", "Hide"), key=f"{self.prefix}.lookup.close",
                      icon=":material/close:"):
            self.forget()
            st.rerun()
