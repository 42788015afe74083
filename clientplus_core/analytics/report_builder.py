"""The report builder: an ad-hoc grouped report without writing SQL.

A :class:`ReportSpec` names an entity (``clients``, ``sales``, ``sale_lines``,
``payments``), dimensions, measures (``count``, ``sum``, ``avg``, ``min``,
``max``, ``count_distinct``), filters and a period. Nothing the user types
reaches SQL as text:

- every identifier comes from :data:`ENTITIES` (fields fixed in this module) or
  from a custom field definition, whose key is passed to ``json_extract`` as a
  bound parameter, never spliced in;
- every operator comes from :data:`OPERATORS`, a fixed map to SQL fragments;
- every value is a bound parameter, so ``'; DROP TABLE clients; --`` is just a
  string that matches nothing.

An unknown entity, field, measure or operator raises :class:`ValidationError`
with a message listing what is available. The actor's client scope applies to
every entity (a manager sees their own and shared clients' records only).

Engine: DuckDB over the analytics copy (:func:`clientplus_core.analytics.engine.query`:
scoped views, one snapshot), or SQLite itself on request; results come back as a
polars frame with money as Decimal roubles.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean_line, like_contains
from clientplus_core.records import custom_fields as cf
from clientplus_core.sales.money import from_kop
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, client_scope, require

MAX_ROWS = 10_000


@dataclass(frozen=True)
class Field:
    """A field users may group, measure or filter by: its SQL expression (fixed
    text) with the parameters it needs (custom-field JSON paths)."""

    name: str
    sql: str
    label_ru: str
    label_en: str
    kind: str = "text"  # text | number | money | date | id (a record number or code)
    params: tuple[object, ...] = ()
    duck_sql: str = ""  # the expression in the analytics copy, when it differs from ``sql``


@dataclass(frozen=True)
class Entity:
    name: str
    label_ru: str
    label_en: str
    source: str       # FROM … JOIN … (fixed text)
    live: str         # the "not deleted" conditions
    date_sql: str     # what the period applies to
    fields: tuple[Field, ...]


_SALE_FIELDS = (
    Field("sale_number", "s.number", "Номер продажи", "Sale number"),
    Field("status", "st.label", "Статус", "Status"),
    Field("sale_owner", "coalesce(nullif(u.full_name, ''), u.login)", "Менеджер", "Manager"),
    Field("client", "c.name", "Клиент", "Client"),
    Field("sale_date", "s.date", "Дата продажи", "Sale date", "date"),
    Field("sale_month", "substr(s.date, 1, 7)", "Месяц продажи", "Sale month"),
    Field("sale_year", "substr(s.date, 1, 4)", "Год продажи", "Sale year"),
    Field("sale_source", "s.source", "Источник продажи", "Sale source"),
    Field("lost_reason", "s.lost_reason", "Причина проигрыша", "Lost reason"),
)
_SALE_JOINS = (" JOIN clients c ON c.id = s.client_id"
               " JOIN sale_statuses st ON st.id = s.status_id"
               " LEFT JOIN users u ON u.id = s.owner_id")
_SALES_FROM = "sales s" + _SALE_JOINS

ENTITIES: dict[str, Entity] = {e.name: e for e in (
    Entity("clients", "Клиенты", "Clients",
           "clients c LEFT JOIN users u ON u.id = c.owner_id", "c.deleted_at IS NULL",
           "substr(c.created_at, 1, 10)", (
               Field("id", "c.id", "Клиент №", "Client no.", "id"),
               Field("name", "c.name", "Наименование", "Name"),
               Field("kind", "c.kind", "Тип", "Kind"),
               Field("source", "c.source", "Источник", "Source"),
               Field("owner", "coalesce(nullif(u.full_name, ''), u.login)", "Ответственный",
                     "Owner"),
               Field("inn", "c.inn", "ИНН", "INN"),
               Field("created", "substr(c.created_at, 1, 10)", "Дата создания", "Created",
                     "date"),
               Field("created_month", "substr(c.created_at, 1, 7)", "Месяц создания",
                     "Month created"),
           )),
    Entity("sales", "Продажи", "Sales", _SALES_FROM, "s.deleted_at IS NULL AND "
           "c.deleted_at IS NULL", "s.date", (
               *_SALE_FIELDS,
               Field("sale_id", "s.id", "Продажа №", "Sale id", "id"),
               Field("total", "s.total_kop", "Сумма продажи", "Sale total", "money"),
               Field("paid", "s.paid_kop", "Оплачено", "Paid", "money"),
               Field("vat", "s.vat_kop", "НДС", "VAT", "money"),
           )),
    Entity("sale_lines", "Строки спецификаций", "Specification lines",
           "sale_lines l JOIN sales s ON s.id = l.sale_id" + _SALE_JOINS,
           "s.deleted_at IS NULL AND c.deleted_at IS NULL", "s.date", (
               *_SALE_FIELDS,
               Field("product", "l.name", "Товар / услуга", "Product"),
               Field("sku", "l.sku", "Артикул", "SKU"),
               Field("unit", "l.unit", "Ед.", "Unit"),
               Field("qty", "l.qty_milli / 1000.0", "Количество", "Quantity", "number"),
               Field("amount", "l.amount_kop", "Сумма строки", "Line amount", "money"),
               Field("line_vat", "l.vat_kop", "НДС строки", "Line VAT", "money"),
           )),
    Entity("payments", "Платежи", "Payments",
           "sale_payments p JOIN sales s ON s.id = p.sale_id" + _SALE_JOINS,
           "p.deleted_at IS NULL AND s.deleted_at IS NULL AND c.deleted_at IS NULL", "p.date", (
               *_SALE_FIELDS,
               Field("payment_kind", "CASE p.kind WHEN 'fact' THEN 'Поступление'"
                     " ELSE 'План' END", "Вид платежа", "Payment kind"),
               Field("payment_date", "p.date", "Дата платежа", "Payment date", "date"),
               Field("payment_month", "substr(p.date, 1, 7)", "Месяц платежа", "Payment month"),
               Field("payment", "p.amount_kop", "Сумма платежа", "Payment amount", "money"),
           )),
)}

AGGREGATES: dict[str, tuple[str, str]] = {
    "count": ("Количество", "Count"), "sum": ("Сумма", "Sum"), "avg": ("Среднее", "Average"),
    "min": ("Минимум", "Min"), "max": ("Максимум", "Max"),
    "count_distinct": ("Уникальных", "Distinct"),
}
# operator -> (label, SQL template with {f} for the field expression, value arity)
OPERATOR_LABELS_EN = {"=": "equals", "!=": "not equal", ">": "greater than",
                      ">=": "at least", "<": "less than", "<=": "at most",
                      "contains": "contains", "in": "one of", "empty": "is empty",
                      "not_empty": "is not empty"}
OPERATORS: dict[str, tuple[str, str, str]] = {
    "=": ("равно", "{f} = ?", "one"),
    "!=": ("не равно", "({f} IS NULL OR {f} <> ?)", "one"),
    ">": ("больше", "{f} > ?", "one"),
    ">=": ("не меньше", "{f} >= ?", "one"),
    "<": ("меньше", "{f} < ?", "one"),
    "<=": ("не больше", "{f} <= ?", "one"),
    "contains": ("содержит", "{f} LIKE ? ESCAPE '\\'", "like"),
    "in": ("одно из", "{f} IN ({q})", "many"),
    "empty": ("пусто", "({f} IS NULL OR {f} = '')", "none"),
    "not_empty": ("не пусто", "({f} IS NOT NULL AND {f} <> '')", "none"),
}


@dataclass
class Filter:
    field: str
    op: str
    value: Any = None


@dataclass
class ReportSpec:
    """What to compute. ``measures`` are ``"count"`` or ``"AGG:FIELD"``."""

    entity: str = "sales"
    dimensions: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=lambda: ["count"])
    filters: list[Filter] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ReportSpec:
        d = json.loads(text)
        d["filters"] = [Filter(**f) for f in d.get("filters", [])]
        return cls(**d)


QUANTITY_KINDS = ("number", "money")
"""Field kinds that are real quantities (amounts, quantities, counts, days): the only
ones summed, averaged or given a minimum / maximum. A record number or code (kind
``id``) is a dimension, a filter or counted distinct — «Сумма: Продажа №» is no
figure anyone needs."""


def is_quantity(f: Field) -> bool:
    """Whether ``f`` may be summed, averaged, or its minimum / maximum taken."""
    return f.kind in QUANTITY_KINDS


def measure_names(flds: list[Field]) -> list[str]:
    """Every measure allowed over ``flds``, in the order the builder offers them:
    ``count``, then sum / avg / min / max of each quantity, then count-distinct of
    every field (ids and codes included)."""
    out = ["count"]
    out += [f"{agg}:{f.name}" for f in flds if is_quantity(f)
            for agg in ("sum", "avg", "min", "max")]
    out += [f"count_distinct:{f.name}" for f in flds]
    return out


def fields(store: Store, entity: str) -> list[Field]:
    """The fields of ``entity``: fixed ones, then custom fields of the client (and,
    for sales-based entities, of the sale) — their keys go in as bound JSON paths."""
    ent = _entity(entity)
    out = list(ent.fields)
    kinds = {"number": "number", "date": "date"}
    owners = [("client", "c")] + ([("sale", "s")] if entity != "clients" else [])
    for owner, alias in owners:
        for fd in cf.list_fields(store, owner):
            out.append(Field(f"{owner}.{fd.key}", f"json_extract({alias}.extra, ?)", fd.label_ru,
                             fd.label_en or fd.label_ru, kinds.get(fd.type, "text"),
                             (f'$."{fd.key}"',), _duck_json(alias, fd.type)))
    return out


def _duck_json(alias: str, ftype: str) -> str:
    """DuckDB's equivalent of SQLite's typed ``json_extract`` for a custom field."""
    text = f"json_extract_string({alias}.extra, ?)"
    if ftype == "number":
        return f"TRY_CAST({text} AS DOUBLE)"
    if ftype == "bool":
        return f"CASE {text} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"
    return text


def _entity(name: str) -> Entity:
    if name not in ENTITIES:
        raise ValidationError({"entity": f"Неизвестная сущность «{name}»; доступны: "
                               f"{', '.join(ENTITIES)}"})
    return ENTITIES[name]


def _field(by_name: dict[str, Field], name: str, entity: str) -> Field:
    if name not in by_name:
        raise ValidationError({"field": f"Неизвестное поле «{name}» для «{entity}»; доступны: "
                               f"{', '.join(by_name)}"})
    return by_name[name]


def _value(f: Field, value: Any) -> Any:
    if f.kind == "money":
        try:
            return int((Decimal(str(value).replace(",", ".").replace(" ", "")) * 100)
                       .quantize(Decimal(1), ROUND_HALF_UP))
        except ArithmeticError:
            raise ValidationError({"value": f"{f.label_ru}: нужна сумма, а не «{value}»"}) \
                from None
    if f.kind == "id":
        try:
            return int(str(value).strip().lstrip("№").strip())
        except ValueError:
            raise ValidationError({"value": f"{f.label_ru}: нужен номер, а не «{value}»"}) \
                from None
    if f.kind == "number":
        try:
            return float(str(value).replace(",", "."))
        except ValueError:
            raise ValidationError({"value": f"{f.label_ru}: нужно число, а не «{value}»"}) \
                from None
    return str(value)


def build_sql(store: Store, actor: Actor, spec: ReportSpec, dialect: str = "sqlite"
              ) -> tuple[str, list[object], list[tuple[str, Field, str]]]:
    """The query (fixed text from whitelists) and its bound parameters, plus the
    output columns ``(name, field, aggregate)``. Raises ValidationError on anything
    unknown. ``dialect="duckdb"``: the same query over the analytics copy's scoped
    views (which apply the actor's scope themselves)."""
    duck = dialect == "duckdb"
    ent = _entity(spec.entity)
    by_name = {f.name: f for f in fields(store, spec.entity)}
    if not spec.dimensions and not spec.measures:
        raise ValidationError({"measures": "Выберите хотя бы один разрез или показатель"})
    select: list[str] = []
    params: list[object] = []
    cols: list[tuple[str, Field, str]] = []
    def expr(f: Field) -> str:
        return (f.duck_sql or f.sql) if duck else f.sql

    for name in spec.dimensions:
        f = _field(by_name, name, spec.entity)
        select.append(expr(f))
        params += f.params
        cols.append((name, f, ""))
    for m in spec.measures:
        agg, _, fname = m.partition(":")
        if agg not in AGGREGATES:
            raise ValidationError({"measures": f"Неизвестный показатель «{agg}»; доступны: "
                                   f"{', '.join(AGGREGATES)}"})
        if agg == "count" and not fname:
            select.append("count(*)")
            cols.append(("count", Field("count", "", "Количество", "Count", "number"), "count"))
            continue
        f = _field(by_name, fname, spec.entity)
        if agg in ("sum", "avg") and not is_quantity(f):
            raise ValidationError({"measures": f"«{AGGREGATES[agg][0]}» считается только по"
                                   f" количеству или сумме, а «{f.label_ru}» —"
                                   f" {'номер записи' if f.kind == 'id' else 'не число'}"})
        if agg in ("min", "max") and f.kind == "id":
            raise ValidationError({"measures": f"«{f.label_ru}» — номер записи: по нему"
                                   " группируют или считают уникальные, но не"
                                   f" «{AGGREGATES[agg][0]}»"})
        sql_agg = {"count": "count({})", "count_distinct": "count(DISTINCT {})"}.get(
            agg, agg + "({})")
        select.append(sql_agg.format(expr(f)))
        params += f.params
        cols.append((f"{agg}_{fname}".replace(".", "_"), f, agg))
    scope_sql, scope_args = client_scope(actor, "c")
    where = [ent.live] + ([] if duck else [scope_sql])
    wparams: list[object] = [] if duck else list(scope_args)
    if spec.date_from:
        where.append(f"{ent.date_sql} >= ?")
        wparams.append(str(spec.date_from))
    if spec.date_to:
        where.append(f"{ent.date_sql} <= ?")
        wparams.append(str(spec.date_to))
    for flt in spec.filters:
        f = _field(by_name, flt.field, spec.entity)
        if flt.op not in OPERATORS:
            raise ValidationError({"op": f"Неизвестное условие «{flt.op}»; доступны: "
                                   f"{', '.join(OPERATORS)}"})
        _, template, arity = OPERATORS[flt.op]
        if arity == "many":
            values = flt.value if isinstance(flt.value, list) else \
                [v.strip() for v in str(flt.value or "").split(",") if v.strip()]
            if not values:
                raise ValidationError({"value": f"{f.label_ru}: укажите значения через запятую"})
            where.append(template.format(f=expr(f), q=", ".join("?" * len(values))))
            wparams += list(f.params) + [_value(f, v) for v in values]
            continue
        if duck and arity == "like":  # SQLite's LIKE ignores case (ASCII); be as kind
            template = template.replace(" LIKE ", " ILIKE ")
        where.append(template.format(f=expr(f), q=""))
        n_uses = template.count("{f}")
        wparams += list(f.params) * n_uses
        if arity == "one":
            wparams.append(_value(f, flt.value))
        elif arity == "like":
            wparams.append(like_contains(str(flt.value or "")))
    source = ent.source
    if duck:  # the copy's view names
        source = source.replace("sale_payments p", "payments p").replace(
            "sale_statuses st", "statuses st")
    sql = f"SELECT {', '.join(select)} FROM {source} WHERE {' AND '.join(where)}"
    if spec.dimensions:
        n = len(spec.dimensions)
        positions = ", ".join(str(i) for i in range(1, n + 1))
        order = ", ".join(f"{i} NULLS FIRST" for i in range(1, n + 1)) if duck else positions
        sql += f" GROUP BY {positions} ORDER BY {order}"
    sql += f" LIMIT {MAX_ROWS}"
    return sql, [*params, *wparams], cols


def _money(value: Any, agg: str) -> Decimal | None:
    if value is None:
        return None
    if agg == "avg":
        return (Decimal(str(value)) / 100).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return from_kop(int(value))


def run(store: Store, actor: Actor, spec: ReportSpec,
        engine: str = "analytics") -> pl.DataFrame:
    """Compute the report: one column per dimension and measure (names as in
    :func:`headers`), money as Decimal roubles.

    ``engine="analytics"`` (default): DuckDB over the analytics copy (scoped views,
    one consistent snapshot, at most a couple of seconds behind the last write);
    ``engine="sqlite"``: the operational store itself (exact to the last write,
    10-50x slower on a million sales)."""
    require(actor, "client.read")
    if engine == "analytics":
        from clientplus_core.analytics import engine as analytics

        sql, params, cols = build_sql(store, actor, spec, dialect="duckdb")
        rows = analytics.query(store, actor, sql, params).rows()
    else:
        sql, params, cols = build_sql(store, actor, spec)
        with store.read() as conn:
            rows = conn.execute(sql, params).fetchall()
    data: dict[str, list[Any]] = {name: [] for name, _, _ in cols}
    schema: dict[str, Any] = {}
    for name, f, agg in cols:
        if agg in ("count", "count_distinct"):
            schema[name] = pl.Int64
        elif f.kind == "money":
            schema[name] = pl.Decimal(20, 2)
        elif f.kind == "number" and agg:
            schema[name] = pl.Float64
        else:
            schema[name] = pl.String
    for r in rows:
        for i, (name, f, agg) in enumerate(cols):
            v = r[i]
            if schema[name] == pl.String:
                if isinstance(v, float) and v.is_integer():
                    v = int(v)  # a whole number read as DOUBLE shows as SQLite shows it
                v = None if v is None else str(v)
            elif f.kind == "money" and agg not in ("count", "count_distinct"):
                v = _money(v, agg)
            data[name].append(v)
    return pl.DataFrame(data, schema=schema)


def headers(store: Store, spec: ReportSpec, lang: str = "ru") -> list[str]:
    """Human column headers for :func:`run`'s frame."""
    _, _, cols = build_sql(store, _HEADER_ACTOR, spec)
    out = []
    for _, f, agg in cols:
        label = f.label_ru if lang == "ru" else f.label_en
        if agg and agg != "count" or (agg == "count" and f.name != "count"):
            a = AGGREGATES[agg][0 if lang == "ru" else 1]
            label = f"{a}: {label}"
        out.append(label)
    return out


_HEADER_ACTOR = Actor(0, "headers", "admin")


# --- saved reports ---------------------------------------------------------------------


def save(store: Store, actor: Actor, name: str, spec: ReportSpec) -> dict[str, Any]:
    """Save (or overwrite) the actor's named report after checking it builds."""
    require(actor, "segments.manage")
    name = clean_line(name)[:100]
    if not name:
        raise ValidationError({"name": "Название отчёта: обязательное поле"})
    build_sql(store, actor, spec)
    ts = now_iso()
    with store.write() as conn:
        conn.execute(
            "INSERT INTO saved_reports (name, definition, owner_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (owner_id, name) DO UPDATE SET"
            " definition = excluded.definition, updated_at = excluded.updated_at",
            (name, spec.to_json(), actor.id, ts, ts))
    return {"name": name, "spec": spec}


def list_reports(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """The actor's saved reports (all of them for admin and head)."""
    require(actor, "client.read")
    sql, args = ("1 = 1", []) if actor.sees_everything else ("owner_id = ?", [actor.id])
    with store.read() as conn:
        return [{"id": r["id"], "name": r["name"], "owner_id": r["owner_id"],
                 "spec": ReportSpec.from_json(r["definition"])} for r in conn.execute(
            f"SELECT * FROM saved_reports WHERE {sql} ORDER BY name, id", args)]


def load(store: Store, actor: Actor, name: str) -> ReportSpec:
    """A saved report's spec by name (the actor's own first)."""
    found = sorted((r for r in list_reports(store, actor) if r["name"] == name),
                   key=lambda r: r["owner_id"] != actor.id)
    if not found:
        raise NotFound(f"Отчёт «{name}» не найден")
    spec: ReportSpec = found[0]["spec"]
    return spec


# --- Excel -----------------------------------------------------------------------------

def _column_format(dtype: Any) -> str | None:
    """The writer's number format for a polars column type (money for Decimal)."""
    if isinstance(dtype, pl.Decimal):
        return "money"
    if dtype.is_integer():
        return "int"
    if dtype.is_float():
        return "float"
    return None


def frame_to_xlsx(frame: pl.DataFrame, headers: list[str], title: str = "Отчёт",
                  totals: list[str] | None = None, total_label: str = "Итого") -> bytes:
    """A result frame as .xlsx bytes: bold frozen header row, autofilter, number
    formats by column type (money ``#,##0.00``), and a row «Итого» (``total_label``)
    summing the ``totals`` columns (where a sum makes sense).

    Written by the one formula-safe writer (:func:`~clientplus_core.clients.export.
    rows_to_xlsx`): every text, the headers included (a custom field may be
    labelled ``=HYPERLINK(…)``), is a text cell, never a formula."""
    from clientplus_core.clients.export import rows_to_xlsx

    total_row: list[object] | None = None
    if totals and frame.height:
        total_row = [total_label, *[None] * (frame.width - 1)]
        for name in totals:
            if name in frame.columns:
                total_row[frame.columns.index(name)] = frame[name].sum()
    return rows_to_xlsx(list(headers), frame.iter_rows(), sheet=title or "Отчёт",
                        formats=[_column_format(t) for t in frame.dtypes], totals=total_row)


CHART_TYPES: dict[str, tuple[str, str]] = {
    "bar": ("Столбцы", "Bars"), "line": ("Линия", "Line"), "pie": ("Круговая", "Pie"),
}


def chart(frame: pl.DataFrame, kind: str = "bar", labels: list[str] | None = None) -> Any:
    """A plotly figure of a builder result: the first column is the x axis (or the
    pie's slices), every numeric column a series (a pie takes the first). Pure."""
    import plotly.graph_objects as go

    fig = go.Figure()
    if frame.height == 0 or frame.width < 2:
        return fig
    heads = labels or frame.columns
    x = [("" if v is None else str(v)) for v in frame[frame.columns[0]].to_list()]
    numeric = [i for i, dt in enumerate(frame.dtypes) if i > 0 and dt.is_numeric()]
    for i in numeric:
        y = frame[frame.columns[i]].cast(pl.Float64).to_list()
        if kind == "pie":
            fig.add_pie(labels=x, values=y, name=heads[i])
            break
        if kind == "line":
            fig.add_scatter(x=x, y=y, mode="lines+markers", name=heads[i])
        else:
            fig.add_bar(x=x, y=y, name=heads[i])
    fig.update_layout(margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title=heads[0])
    return fig
