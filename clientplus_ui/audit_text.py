"""Audit and history entries as sentences a person reads: «Добавлен платёж
12 000,00 ₽ от 05.03.2026 по продаже 2026-0001», «Изменён клиент: Телефон: — →
+7 495 …» — never an action code, an entity code, JSON or «user №1».

Used by the client card's «История», the sale card's log and the audit trail, so
the same entry reads the same everywhere (Russian or English by the UI language).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from clientplus_core.base import formats
from clientplus_core.organizer.task_time import LABELS as TASK_LABELS
from clientplus_core.records.validation import format_phone
from clientplus_core.sales import statuses as sale_statuses
from clientplus_core.sales.history import CHANNELS as CONTACT_CHANNELS
from clientplus_core.sales.lines import LABELS as SALE_LABELS
from clientplus_core.sales.lines import LABELS_EN as SALE_LABELS_EN
from clientplus_core.store.db import Store
from clientplus_core.team.access import role_label
from clientplus_ui.common import (
    client_field_label,
    contact_field_label,
    human_size,
    kind_label,
    md_escape,
    short,
)
from clientplus_ui.i18n import lang, tr
from clientplus_ui.widgets import fmt_dt

# entity -> (Russian noun, its gender m/f/n/p, English noun)
NOUNS: dict[str, tuple[str, str, str]] = {
    "client": ("клиент", "m", "client"), "contact": ("контакт", "m", "contact"),
    "file": ("файл", "m", "file"), "link": ("ссылка", "f", "link"),
    "sale": ("продажа", "f", "sale"), "task": ("задача", "f", "task"),
    "catalogue": ("позиция каталога", "f", "catalogue item"),
    "sale_status": ("статус продаж", "m", "sale status"),
    "doc_template": ("шаблон документа", "m", "document template"),
    "mailing": ("рассылка", "f", "mailing"),
    "address_book": ("адресная книга", "f", "address book"),
    "consent": ("согласие", "n", "consent"), "user": ("пользователь", "m", "user"),
    "settings": ("настройка", "f", "setting"), "backup": ("резервная копия", "f", "backup"),
}
# action -> (Russian participle stem: + "" / "а" / "о" / "ы" by gender, English verb)
VERBS: dict[str, tuple[str, str]] = {
    "create": ("Создан", "created"), "update": ("Изменён", "changed"),
    "delete": ("Удалён", "removed"), "restore": ("Восстановлен", "restored"),
    "upload": ("Загружен", "uploaded"), "deactivate": ("Отключён", "deactivated"),
    "default": ("Выбран по умолчанию", "made the default"),
    "undefault": ("Больше не по умолчанию", "no longer the default"),
}
ENDINGS = {"m": "", "f": "а", "n": "о", "p": "ы"}
# actions whose sentence is fixed: (Russian, English); the summary follows after «: »
FIXED: dict[str, tuple[str, str]] = {
    "sign_in": ("Вход в программу", "Signed in"),
    "sign_in_failed": ("Неудачная попытка входа", "Failed sign-in attempt"),
    "sign_in_locked": ("Вход заблокирован после неудачных попыток",
                       "Sign-in locked after failed attempts"),
    "password_change": ("Пароль изменён", "Password changed"),
    "password_reset": ("Пароль сброшен", "Password reset"),
    "password_force_change": ("Потребована смена пароля", "Password change required"),
    "user_activate": ("Пользователь включён", "User activated"),
    "user_deactivate": ("Пользователь отключён", "User deactivated"),
    "settings": ("Изменена настройка", "Setting changed"),
    "backup": ("Создана резервная копия", "Backup made"),
    "import": ("Импорт", "Import"), "export": ("Выгрузка", "Export"),
    "demo": ("Созданы демо-данные", "Demo data made"),
    "reassign": ("Сменён ответственный", "Owner changed"),
    "share": ("Изменён доступ коллег", "Colleagues' access changed"),
    "reorder": ("Изменён порядок статусов продаж", "Sale statuses reordered"),
    "remind": ("Разосланы напоминания о задачах", "Task reminders sent"),
    "registry_status": ("Проверка по реестру", "Registry check"),
    "document": ("Сформирован документ", "Document made"),
    "contact_event": ("Записан контакт", "Contact logged"),
    "contact_event_delete": ("Удалена запись о контакте", "Contact entry removed"),
    "mailing.create": ("Создана рассылка", "Mailing created"),
    "mailing.update": ("Изменена рассылка", "Mailing changed"),
    "mailing.delete": ("Удалена рассылка", "Mailing removed"),
    "mailing.send": ("Запущена рассылка", "Mailing started"),
    "mailing.resume": ("Возобновлена рассылка", "Mailing resumed"),
    "mailing.result": ("Рассылка завершена", "Mailing finished"),
    "mailing.attach": ("К рассылке приложен файл", "File attached to a mailing"),
    "mailing.detach": ("Из рассылки убран файл", "File removed from a mailing"),
    "mailing.test": ("Отправлено тестовое письмо", "Test message sent"),
    "addressbook.create": ("Создана адресная книга", "Address book created"),
    "addressbook.update": ("Изменена адресная книга", "Address book changed"),
    "addressbook.delete": ("Удалена адресная книга", "Address book removed"),
    "addressbook.refresh": ("Обновлена адресная книга", "Address book refreshed"),
    "consent.update": ("Изменена запись о согласии", "Consent entry changed"),
    "consent.delete": ("Удалена запись о согласии", "Consent entry removed"),
    "merge": ("Объединение карточек", "Cards merged"),
}
ACTION_NOUNS = {"create": ("Создание", "Creation"), "update": ("Изменение", "Change"),
                "delete": ("Удаление", "Removal"), "restore": ("Восстановление", "Restore"),
                "upload": ("Загрузка файла", "File upload"),
                "deactivate": ("Отключение", "Deactivation"),
                "default": ("Выбор по умолчанию", "Default chosen"),
                "undefault": ("Отмена «по умолчанию»", "Default unset"),
                "user_create": ("Добавлен пользователь", "User added"),
                "sign_in": ("Вход", "Sign-in")}
MERGE_KEYS = {"merged_id": ("объединён клиент №", "merged client No. "),
              "contacts": ("контактов перенесено: ", "contacts moved: "),
              "files": ("файлов и ссылок перенесено: ", "files and links moved: ")}


def action_label(action: str) -> str:
    """An action code as a short phrase for a filter («Вход в программу»)."""
    if action in ACTION_NOUNS:
        return tr(*ACTION_NOUNS[action])
    if action in FIXED:
        return tr(*FIXED[action])
    if action.startswith("addressbook.") or action.startswith("consent"):
        return tr("Адресные книги и согласия", "Address books and consent")
    if action in ("payment", "payment_plan", "payment_delete"):
        return tr(*{"payment": ("Платёж", "Payment"), "payment_plan": ("План платежа",
                                                                      "Planned payment"),
                    "payment_delete": ("Удалён платёж", "Payment removed")}[action])
    if action == "status":
        return tr("Смена статуса", "Status change")
    return tr("Другое действие", "Other action")


def _q(text: str) -> str:
    """«text» — unless it carries its own quotes (ООО «Альфа»)."""
    return text if "«" in text or '"' in text else f"«{text}»"


def _rub(value: object) -> str:
    return formats.money(value, lang()) or "—"


def _number_and_rest(summary: str) -> tuple[str, str]:
    """``"2026-0001: оплата …"`` -> (``"2026-0001"``, ``"оплата …"``)."""
    head, sep, rest = summary.partition(": ")
    return (head, rest) if sep and " " not in head.strip() else ("", summary)


def _value(name: str, value: Any, owners: Mapping[int, str]) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name == "kind":
        return kind_label(str(value))
    if name in ("owner_id", "assignee_id", "user_id"):
        try:
            return owners.get(int(value), "—")
        except (TypeError, ValueError):
            return "—"
    if name in ("phone", "mobile"):
        return format_phone(str(value))
    if name in ("consent_email", "consent_sms", "is_active"):
        return tr("да", "yes") if value else tr("нет", "no")
    if name in ("total", "amount", "price"):
        return _rub(value)
    if name == "discount_bp":  # hundredths of a per cent: 1250 -> «12,5 %»
        bp = formats.to_decimal(value)
        if bp is None:
            return short(value, 50)
        return formats.number(bp / 100, lang(), 2).rstrip("0").rstrip(",.") + " %"
    if name in ("date", "expected_close", "birthday"):
        return formats.day(value)
    if name in ("due_at", "remind_at"):
        return fmt_dt(value)
    if isinstance(value, dict):
        return short(", ".join(str(v) for v in value.values() if v not in (None, "")), 50)
    if isinstance(value, list):
        return _lines(len(value))
    return short(value, 50)


def _lines(n: int) -> str:
    """«1 строка», «3 строки», «5 строк» / «1 line», «3 lines»."""
    if lang() == "en":
        return f"{n} line" + ("" if n == 1 else "s")
    tail = n % 100
    word = ("строка" if n % 10 == 1 and tail != 11 else
            "строки" if 2 <= n % 10 <= 4 and not 12 <= tail <= 14 else "строк")
    return f"{n} {word}"


# fields whose stored value is an internal id with no name at hand: the entry says only
# that the field changed, never «Клиент: 12 → 15»
_CHANGED_ONLY = {"client_id", "contact_id", "status_id", "catalogue_id"}


def _field_label(entity: str) -> Callable[[str], str | None]:
    def label(name: str) -> str | None:
        if entity == "client":
            text = client_field_label(name)
        elif entity == "contact":
            text = contact_field_label(name)
        elif entity == "sale":
            text = tr(SALE_LABELS.get(name, ""), SALE_LABELS_EN.get(name, ""))
        elif entity == "task":
            text = TASK_LABELS.get(name.replace("_at", "_date"), "")
        else:
            text = ""
        return text if text and text != name else None
    return label


def changes(entry: Mapping[str, Any], owners: Mapping[int, str]) -> list[str]:
    """«Поле: было → стало» for each changed field a person knows by name."""
    diff = entry.get("diff") or {}
    if not isinstance(diff, dict):
        return []
    label = _field_label(str(entry.get("entity") or ""))
    out: list[str] = []
    for name, pair in diff.items():
        title = label(str(name))
        if title and str(name) in _CHANGED_ONLY:
            out.append(title + tr(": изменено", ": changed"))
        elif title and isinstance(pair, (list, tuple)) and len(pair) == 2:
            old, new = (_value(str(name), v, owners) for v in pair)
            out.append(f"{title}: {old} → {new}")
    return out


def status_rows(store: Store) -> dict[int, dict[str, Any]]:
    """Every sale status (switched-off ones too) by id, for :func:`sentence`."""
    return {int(s["id"]): s for s in sale_statuses.list_statuses(store, True)}


def _status_name(stored: str, status_id: object,
                 statuses: Mapping[int, Mapping[str, Any]]) -> str:
    """A status as the UI language names it: by its id when the entry has it, else by
    the Russian (or English) label the entry was written with; the text as stored
    when neither is known (a status renamed since)."""
    row = statuses.get(status_id) if isinstance(status_id, int) else None
    if row is None:
        low = stored.strip().lower()
        row = next((r for r in statuses.values() if low and low in (
            str(r["label"]).lower(), str(r.get("label_en") or "").lower())), None)
    if row is None:
        return stored
    return tr(str(row["label"]), str(row.get("label_en") or row["label"]))


def _status_change(rest: str, diff: Mapping[str, Any],
                   statuses: Mapping[int, Mapping[str, Any]]) -> str:
    """«Предварительная заявка → Счёт выставлен» (stored in Russian) in the UI
    language: «Preliminary request → Invoiced»."""
    old, sep, new = rest.partition(" → ")
    if not sep:
        return rest
    pair = diff.get("status_id")
    ids = pair if isinstance(pair, (list, tuple)) and len(pair) == 2 else (None, None)
    return f"{_status_name(old, ids[0], statuses)} → {_status_name(new, ids[1], statuses)}"


def _object(entity: str, verb: str) -> str:
    ru, gender, en = NOUNS.get(entity, ("запись", "f", "record"))
    return tr(f"{verb}{ENDINGS[gender]} {ru}", f"{en.capitalize()} {VERBS_EN.get(verb, '')}")


VERBS_EN = {ru: en for ru, en in VERBS.values()}
CHANNEL_EN = {ru: en for ru, en in CONTACT_CHANNELS.values()}


def sentence(entry: Mapping[str, Any], owners: Mapping[int, str] | None = None,
             statuses: Mapping[int, Mapping[str, Any]] | None = None) -> str:
    """One audit entry (``action``, ``entity``, ``summary``, ``diff``) as a sentence;
    ``statuses`` (:func:`status_rows`) names a status change in the UI language."""
    owners = owners or {}
    action = str(entry.get("action") or "")
    entity = str(entry.get("entity") or "")
    summary = str(entry.get("summary") or "").strip()
    raw = entry.get("diff")
    diff: dict[str, Any] = raw if isinstance(raw, dict) else {}
    number, rest = _number_and_rest(summary)
    on_sale = (tr(f" по продаже {number}", f" on sale {number}") if number else "")
    if action in ("payment", "payment_plan", "payment_delete"):
        amount, day = _rub(diff.get("amount")), formats.day(diff.get("date"))
        if action == "payment":
            text = tr(f"Добавлен платёж {amount} от {day}", f"Payment of {amount} on {day} added")
        elif action == "payment_plan":
            text = tr(f"Запланирован платёж {amount} на {day}",
                      f"Payment of {amount} planned for {day}")
        else:
            text = tr(f"Удалён платёж {amount} от {day}", f"Payment of {amount} on {day} removed")
        return text + on_sale
    if action == "status":
        rest = _status_change(rest, diff, statuses or {})
        text = tr(f"Статус продажи {number} изменён: {rest}",
                  f"Status of sale {number} changed: {rest}") if number else \
            tr(f"Изменён статус: {rest}", f"Status changed: {rest}")
        reason = diff.get("lost_reason")
        return text + (tr(f" (причина: {reason})", f" (reason: {reason})") if reason else "")
    if action == "document":
        return tr(f"Сформирован документ {_q(rest)}", f"Document made: {rest}") + on_sale
    if action == "merge":
        parts = [f"{tr(*MERGE_KEYS[k])}{v}" for k, v in diff.items() if k in MERGE_KEYS]
        return tr("Объединены карточки", "Cards merged") + (": " + ", ".join(parts) if parts
                                                               else "")
    if action == "user_create":
        login, _, role = summary.partition(" (")
        role = role.rstrip(")")
        return tr(f"Добавлен пользователь {login}", f"User {login} added") + (
            f" ({role_label(role, lang())})" if role else "")
    if action == "contact_event":  # «Звонок: …», the channel stored in Russian
        channel, sep, what = summary.partition(": ")
        if sep and channel in CHANNEL_EN:
            summary = f"{tr(channel, CHANNEL_EN[channel])}: {what}"
    if action in FIXED:
        text = tr(*FIXED[action])
        return text + (f": {summary}" if summary else "")
    if action in VERBS:
        verb = VERBS[action][0]
        text = _object(entity, verb)
        if entity == "file" and action == "upload" and diff.get("size"):
            rest = f"{rest} ({human_size(int(diff['size']))})"
        name = f" {_q(rest)}" if rest else ""
        if entity == "sale" and summary:
            title = summary.split(" ", 1)
            name = f" {title[0]}" + (f" {_q(title[1])}" if len(title) > 1 else "")
            if action == "create" and diff.get("total"):
                name += tr(f" на {_rub(diff['total'])}", f" for {_rub(diff['total'])}")
        elif number and entity != "sale":
            name = f" {_q(rest)}" + on_sale
        text += name
        details = changes(entry, owners) if action == "update" else []
        return text + (": " + "; ".join(details) if details else "")
    return action_label(action) + (f": {summary}" if summary else "")


def show(rows: Sequence[Mapping[str, object]]) -> None:
    """History rows (column -> text) as a static table: «Что произошло» wraps and reads
    in full (a data grid cuts a long sentence at its column's edge); past
    ``SCROLL_AFTER`` rows it scrolls under a fixed header."""
    st.table([{k: _NO_BREAK.sub("\u00a0", md_escape(v)) for k, v in r.items()} for r in rows],
             hide_index=True, hide_header=False,
             height=600 if len(rows) > SCROLL_AFTER else "content")


SCROLL_AFTER = 15
# a wrapped line never splits «10 800,00 ₽», «12,5 %» or a date from its time
_NO_BREAK = re.compile(r"(?<=\d) (?=[\d%₽])")


def object_label(entry: Mapping[str, Any], users: Mapping[int, str]) -> str:
    """What the entry is about, as a person names it: «Продажа 2026-0001»,
    «Пользователь manager1», «Клиент №12» — never ``user №1``."""
    entity = str(entry.get("entity") or "")
    ru, _, en = NOUNS.get(entity, ("", "", ""))
    if not ru:
        return ""
    noun = tr(ru, en).capitalize()
    ident = entry.get("entity_id")
    if entity == "user" and ident:
        return f"{noun} {users.get(int(ident), '—')}"
    if entity == "sale":
        number, _ = _number_and_rest(str(entry.get("summary") or ""))
        number = number or str(entry.get("summary") or "").split(" ")[0]
        return f"{noun} {number}".strip()
    return f"{noun} №{ident}" if ident else noun
