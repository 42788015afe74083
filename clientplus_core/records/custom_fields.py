"""Custom fields: definitions (admin-defined or switched-on presets) and the
validation of their values, which live in the ``extra`` JSON column of a client
or a sale.

A definition has an ``entity`` (``client`` | ``sale``), a ``key`` (the name in
``extra``), Russian and English labels, a ``type`` (:data:`TYPES`), options for
``select`` / ``multiselect``, ``required``, an order and an ``active`` flag.
Values are normalised by type (:func:`normalise_value`): numbers become ``int`` or
``float``, dates ISO ``YYYY-MM-DD``, yes/no ``bool``, a multiselect a list of
known options. A bad value raises :class:`ValidationError` naming the field by its
label.

:func:`check_extra` is what ``clients`` and ``sales`` call inside their write
transaction, so the card, the import and the CLI validate the same way.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean, clean_line
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, require

ENTITIES = ("client", "sale")
TYPES: dict[str, tuple[str, str]] = {
    "text": ("Текст", "Text"), "number": ("Число", "Number"), "date": ("Дата", "Date"),
    "select": ("Выбор из списка", "Select"), "multiselect": ("Несколько из списка",
                                                             "Multiselect"),
    "bool": ("Да / нет", "Yes / no"),
}
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_TRUE = {"1", "true", "yes", "да", "y", "д", "+", "истина"}
_FALSE = {"0", "false", "no", "нет", "n", "н", "-", "ложь"}


@dataclass(frozen=True)
class FieldDef:
    """One custom field definition."""

    entity: str
    key: str
    label_ru: str
    type: str
    label_en: str = ""
    options: tuple[str, ...] = ()
    required: bool = False
    sort: int = 100
    active: bool = True
    preset: str = ""
    id: int = 0
    version: int = 1
    meta: dict[str, Any] = field(default_factory=dict, compare=False)

    def label(self, lang: str = "ru") -> str:
        return self.label_ru if lang == "ru" or not self.label_en else self.label_en


# Presets a user can switch on (entity, key) -> definition.
PRESETS: dict[tuple[str, str], FieldDef] = {(d.entity, d.key): d for d in (
    FieldDef("client", "headcount", "Численность сотрудников", "number", "Headcount",
             sort=10, preset="company"),
    FieldDef("client", "industry", "Отрасль", "select", "Industry",
             ("Торговля", "Производство", "Строительство", "IT", "Услуги", "Финансы",
              "Транспорт", "Образование", "Медицина", "Госуправление", "Другое"),
             sort=20, preset="company"),
    FieldDef("client", "sector", "Сектор", "select", "Sector", ("Коммерческий", "Бюджетный"),
             sort=30, preset="company"),
    FieldDef("client", "gender", "Пол", "select", "Gender", ("Мужской", "Женский"),
             sort=40, preset="person"),
    FieldDef("client", "birth_date", "Дата рождения", "date", "Birth date", sort=50,
             preset="person"),
    FieldDef("client", "education", "Образование", "select", "Education",
             ("Среднее", "Среднее специальное", "Неоконченное высшее", "Высшее",
              "Учёная степень"), sort=60, preset="person"),
    FieldDef("sale", "discount", "Персональная скидка, %", "number", "Personal discount, %",
             sort=10, preset="sale"),
    FieldDef("sale", "bonus", "Бонус", "text", "Bonus", sort=20, preset="sale"),
    FieldDef("sale", "gift", "Подарок", "text", "Gift", sort=30, preset="sale"),
)}

HEADCOUNT_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 10, "1–10"), (11, 50, "11–50"), (51, 250, "51–250"), (251, 1000, "251–1000"),
    (1001, None, "1000+"))
AGE_BUCKETS: tuple[tuple[int, int | None, str], ...] = (
    (0, 24, "до 25"), (25, 34, "25–34"), (35, 44, "35–44"), (45, 54, "45–54"),
    (55, None, "55+"))
NO_VALUE = "(не указано)"


def _bucket(value: float | None, buckets: tuple[tuple[int, int | None, str], ...]) -> str:
    if value is None:
        return NO_VALUE
    for lo, hi, name in buckets:
        if value >= lo and (hi is None or value <= hi):
            return name
    return NO_VALUE


def headcount_bucket(value: object) -> str:
    """``"1–10"``, ``"11–50"``, ``"51–250"``, ``"251–1000"``, ``"1000+"`` or
    :data:`NO_VALUE`."""
    try:
        n = float(value) if value not in (None, "") else None  # type: ignore[arg-type]
    except (TypeError, ValueError):
        n = None
    return _bucket(n, HEADCOUNT_BUCKETS)


def age(birth: object, today: date | None = None) -> int | None:
    """Full years from an ISO birth date to ``today`` (None when unknown)."""
    if not birth:
        return None
    try:
        b = date.fromisoformat(str(birth)[:10])
    except ValueError:
        return None
    t = today or date.today()
    return t.year - b.year - ((t.month, t.day) < (b.month, b.day))


def age_bucket(birth: object, today: date | None = None) -> str:
    """The age bucket (``"25–34"`` …) of an ISO birth date."""
    a = age(birth, today)
    return _bucket(float(a) if a is not None else None, AGE_BUCKETS)


# --- values ----------------------------------------------------------------------------


def normalise_value(fd: FieldDef, value: Any) -> Any:
    """The stored form of ``value`` for ``fd``; None when empty.
    Raises ValueError with a message (without the label) when it does not fit."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return None
    t = fd.type
    if t == "text":
        text = clean(value)
        if len(text) > 2000:
            raise ValueError("не длиннее 2000 символов")
        return text
    if t == "number":
        if isinstance(value, bool):
            raise ValueError("нужно число")
        if isinstance(value, (int, float)):
            num: float = float(value)
        else:
            try:
                num = float(str(value).replace("\u00a0", "").replace(" ", "").replace(",", "."))
            except ValueError:
                raise ValueError(f"нужно число, а не «{str(value)[:40]}»") from None
        if num != num or num in (float("inf"), float("-inf")):
            raise ValueError("нужно число")
        return int(num) if num.is_integer() else num
    if t == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip()
        for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(text, fmt).date().isoformat()
            except ValueError:
                continue
        raise ValueError(f"нужна дата ДД.ММ.ГГГГ, а не «{text[:40]}»")
    if t == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError("нужно «да» или «нет»")
    if t == "select":
        text = str(value).strip()
        for opt in fd.options:
            if opt.lower() == text.lower():
                return opt
        raise ValueError(f"«{text[:40]}» нет в списке: {', '.join(fd.options)}")
    if t == "multiselect":
        items = value if isinstance(value, (list, tuple)) else \
            str(value).replace(";", ",").split(",")
        out: list[str] = []
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            match = next((o for o in fd.options if o.lower() == text.lower()), None)
            if match is None:
                raise ValueError(f"«{text[:40]}» нет в списке: {', '.join(fd.options)}")
            if match not in out:
                out.append(match)
        return out or None
    raise ValueError(f"неизвестный тип поля {t}")


def validate_values(defs: list[FieldDef], extra: dict[str, Any] | None, *,
                    check_required: bool = True,
                    stored: dict[str, Any] | None = None) -> dict[str, Any]:
    """Normalise ``extra`` against ``defs``: values of defined fields by type, empty
    ones dropped, unknown keys kept as they are. ValidationError names each bad field
    (by key, message starting with its label). A value equal to the ``stored`` one
    is kept as it is (a field whose type changed later does not block saving the
    rest of the card)."""
    out: dict[str, Any] = dict(extra or {})
    errors: dict[str, str] = {}
    for fd in defs:
        if not fd.active:
            continue
        if stored is not None and fd.key in out and out[fd.key] == stored.get(fd.key):
            continue
        try:
            v = normalise_value(fd, out.get(fd.key))
        except ValueError as exc:
            errors[fd.key] = f"{fd.label_ru}: {exc}"
            continue
        if v is None:
            out.pop(fd.key, None)
            if fd.required and check_required:
                errors[fd.key] = f"{fd.label_ru}: обязательное поле"
        else:
            out[fd.key] = v
    if errors:
        raise ValidationError(errors)
    return out


def check_extra(conn: sqlite3.Connection, entity: str, extra: dict[str, Any] | None,
                check_required: bool = True, stored: Any = None) -> dict[str, Any]:
    """:func:`validate_values` against the active definitions in the database;
    ``stored`` is the record's current ``extra`` (a dict or its JSON) on update."""
    if isinstance(stored, str):
        try:
            stored = json.loads(stored or "{}")
        except ValueError:
            stored = {}
    return validate_values(_defs(conn, entity), extra, check_required=check_required,
                           stored=stored if isinstance(stored, dict) else None)


def display(fd: FieldDef, value: Any) -> str:
    """A value as text for tables and exports (dates ДД.ММ.ГГГГ, yes/no, lists)."""
    if value is None or value == "" or value == []:
        return ""
    if fd.type == "bool":
        return "да" if value else "нет"
    if fd.type == "date":
        try:
            return date.fromisoformat(str(value)[:10]).strftime("%d.%m.%Y")
        except ValueError:
            return str(value)
    if fd.type == "multiselect" and isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


# --- definitions -----------------------------------------------------------------------


def _row(r: sqlite3.Row) -> FieldDef:
    return FieldDef(r["entity"], r["key"], r["label_ru"], r["type"], r["label_en"],
                    tuple(json.loads(r["options"] or "[]")), bool(r["required"]), r["sort"],
                    bool(r["active"]), r["preset"], r["id"], r["version"])


def _defs(conn: sqlite3.Connection, entity: str, active_only: bool = True) -> list[FieldDef]:
    sql = "SELECT * FROM custom_fields WHERE entity = ?"
    if active_only:
        sql += " AND active = 1"
    return [_row(r) for r in conn.execute(sql + " ORDER BY sort, id", (entity,))]


def list_fields(store: Store, entity: str, active_only: bool = True) -> list[FieldDef]:
    """Definitions for ``entity``, in form order (everyone may read them)."""
    if entity not in ENTITIES:
        raise ValidationError({"entity": f"Сущность: client или sale, а не «{entity}»"})
    with store.read() as conn:
        return _defs(conn, entity, active_only)


def get_field(store: Store, entity: str, key: str) -> FieldDef:
    for fd in list_fields(store, entity, active_only=False):
        if fd.key == key:
            return fd
    raise NotFound(f"Доп. поле «{key}» не найдено")


def _clean_def(data: dict[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    entity = str(data.get("entity") or "client")
    if entity not in ENTITIES:
        errors["entity"] = "Сущность: клиент или продажа"
    key = str(data.get("key") or "").strip().lower()
    if not _KEY_RE.match(key):
        errors["key"] = "Ключ: латинские буквы, цифры и _, начинается с буквы (до 40 знаков)"
    label_ru = clean_line(data.get("label_ru"))[:100]
    if not label_ru:
        errors["label_ru"] = "Название: обязательное поле"
    ftype = str(data.get("type") or "text")
    if ftype not in TYPES:
        errors["type"] = f"Тип: один из {', '.join(TYPES)}"
    raw = data.get("options") or []
    if isinstance(raw, str):
        raw = [p for p in re.split(r"[\n;,]", raw)]
    options: list[str] = []
    for o in raw:
        text = clean_line(o)[:100]
        if text and text not in options:
            options.append(text)
    if ftype in ("select", "multiselect") and not options:
        errors["options"] = "Варианты: укажите хотя бы один вариант для выбора из списка"
    if errors:
        raise ValidationError(errors)
    return {"entity": entity, "key": key, "label_ru": label_ru,
            "label_en": clean_line(data.get("label_en"))[:100], "type": ftype,
            "options": json.dumps(options if ftype in ("select", "multiselect") else [],
                                  ensure_ascii=False),
            "required": int(bool(data.get("required"))), "sort": int(data.get("sort") or 100),
            "active": int(data.get("active", True) not in (False, 0, "0")),
            "preset": str(data.get("preset") or "")}


def define(store: Store, actor: Actor, data: dict[str, Any]) -> FieldDef:
    """Create a definition, or update the one with the same entity and key
    (the key and entity of a field never change: values are stored under it)."""
    require(actor, "fields.manage")
    values = _clean_def(data)
    ts = now_iso()
    with store.write() as conn:
        cur = conn.execute("SELECT id, type FROM custom_fields WHERE entity = ? AND key = ?",
                           (values["entity"], values["key"])).fetchone()
        if cur is None:
            row = values | {"created_at": ts, "updated_at": ts}
            conn.execute(f"INSERT INTO custom_fields ({', '.join(row)})"
                         f" VALUES ({', '.join('?' * len(row))})", list(row.values()))
        else:
            sets = {k: v for k, v in values.items() if k not in ("entity", "key")}
            sets["updated_at"] = ts
            conn.execute(f"UPDATE custom_fields SET {', '.join(f'{k} = ?' for k in sets)},"
                         " version = version + 1 WHERE id = ?", [*sets.values(), cur["id"]])
    return get_field(store, values["entity"], values["key"])


def enable_preset(store: Store, actor: Actor, entity: str, key: str,
                  on: bool = True) -> FieldDef:
    """Switch a preset field on (creating it the first time) or off."""
    require(actor, "fields.manage")
    p = PRESETS.get((entity, key))
    if p is None:
        raise NotFound(f"Нет готового поля «{key}»")
    try:
        current = get_field(store, entity, key)
    except NotFound:
        current = None
    base = current or p
    return define(store, actor, {
        "entity": entity, "key": key, "label_ru": base.label_ru, "label_en": base.label_en,
        "type": base.type, "options": list(base.options), "required": base.required,
        "sort": base.sort, "active": on, "preset": p.preset})


def set_active(store: Store, actor: Actor, entity: str, key: str, on: bool) -> FieldDef:
    """Hide (keeping the stored values) or show a field again."""
    require(actor, "fields.manage")
    with store.write() as conn:
        cur = conn.execute("UPDATE custom_fields SET active = ?, updated_at = ?,"
                           " version = version + 1 WHERE entity = ? AND key = ?",
                           (int(on), now_iso(), entity, key))
        if cur.rowcount != 1:
            raise NotFound(f"Доп. поле «{key}» не найдено")
    return get_field(store, entity, key)


EXTRA_OPS = ("eq", "any", "min", "max", "contains")
"""Custom-field filter operations: ``eq`` (equals, or a multiselect holds it), ``any``
(one of a list of values: «любое из»), ``min`` / ``max`` (a number or date range,
inclusive) and ``contains`` (text, case- and ё-insensitive)."""


def fold(text: object) -> str | None:
    """Text folded for a case- and ё-insensitive comparison."""
    if text is None:
        return None
    return str(text).casefold().replace("ё", "е")


def extra_conditions(conn: sqlite3.Connection, entity: str, alias: str,
                     conds: Sequence[Sequence[Any]]) -> tuple[list[str], list[object]]:
    """SQL conditions on ``{alias}.extra`` for custom-field filters of ``entity``.

    Each condition is ``(key, value)`` (equals) or ``(key, op, value)``. Range and
    text values are checked against the field's definition (a number for a number
    field, a date for a date field); a bad one raises ValidationError naming the
    field. Keys and values are bound parameters, never SQL text."""
    if not conds:
        return [], []
    defs = {d.key: d for d in _defs(conn, entity, active_only=False)}
    where: list[str] = []
    args: list[object] = []
    for cond in conds:
        if len(cond) == 2:
            key, op, value = cond[0], "eq", cond[1]
        elif len(cond) == 3:
            key, op, value = cond
        else:
            raise ValidationError({"extra": "Доп. поле: условие (ключ, операция, значение)"})
        key = str(key)
        if op not in EXTRA_OPS:
            raise ValidationError({f"extra.{key}": f"Доп. поле «{key}»: неизвестная операция"
                                                   f" «{op}»"})
        fd = defs.get(key)
        path = f'$."{key}"'
        if op == "eq":
            where.append(f"EXISTS (SELECT 1 FROM json_each({alias}.extra, ?) j"
                         " WHERE j.value = ?)")
            args += [path, value]
            continue
        if fd is None:
            raise ValidationError({f"extra.{key}": f"Доп. поле «{key}» не найдено"})
        if op == "any":
            values = [v for v in (value if isinstance(value, (list, tuple)) else [value])
                      if v not in (None, "")]
            if not values:
                continue
            # each value in its stored form («да» → true, «it» → «IT», 01.02.2025 → ISO)
            one = fd if fd.type != "multiselect" else FieldDef(
                fd.entity, fd.key, fd.label_ru, "select", options=fd.options)
            try:
                values = [normalise_value(one, v) for v in values]
            except ValueError as exc:
                raise ValidationError({f"extra.{key}": f"{fd.label_ru}: {exc}"}) from None
            where.append(f"EXISTS (SELECT 1 FROM json_each({alias}.extra, ?) j"
                         " WHERE j.value IN (SELECT value FROM json_each(?)))")
            args += [path, json.dumps(values, ensure_ascii=False)]
        elif op in ("min", "max"):
            if value in (None, ""):
                continue
            if fd.type not in ("number", "date"):
                raise ValidationError({f"extra.{key}": f"{fd.label_ru}: диапазон только для"
                                                       " числа или даты"})
            try:
                bound = normalise_value(fd, value)
            except ValueError as exc:
                raise ValidationError({f"extra.{key}": f"{fd.label_ru}: {exc}"}) from None
            where.append(f"json_extract({alias}.extra, ?) {'>=' if op == 'min' else '<='} ?")
            args += [path, bound]
        else:  # contains
            needle = fold(str(value or "").strip())
            if not needle:
                continue
            conn.create_function("cp_fold", 1, fold, deterministic=True)
            where.append(f"instr(cp_fold(json_extract({alias}.extra, ?)), ?) > 0")
            args += [path, needle]
    return where, args
