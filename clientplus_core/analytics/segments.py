"""Segmentation: clients grouped by one or two dimensions (standard and custom
fields), with counts, revenue and average deal per segment; saved segments (named
filters) that other features reuse through :func:`client_ids`.

Dimensions (:func:`dimensions`): ``kind``, ``source``, ``owner``, ``region`` (parsed
from the legal, else postal, address), ``tag`` (a client with two tags counts in
both), and every active custom client field by its key — ``headcount`` is bucketed
(:data:`custom_fields.HEADCOUNT_BUCKETS`), ``birth_date`` becomes ``age`` (age
buckets), a multiselect counts a client in each chosen option, a yes/no shows
«да»/«нет».

Measures per segment:

- ``clients``  — number of clients;
- ``sales``    — their sales that are not lost (dated in the period, if one is given);
- ``revenue``  — payments received on those sales (dated in the period), ₽;
- ``avg_deal`` — average total of those sales, ₽ (rounded half-up to a kopeck).

Engine: by default the analytics engine's columnar DuckDB copy
(:func:`analytics.query`: the actor's scope, one consistent snapshot, data at most
~2 s old). DuckDB groups the clients by the *raw* values of the dimensions needed
and sums their sales and payments; the raw values (a JSON value, an address, the
tags) are then mapped to segments once per distinct value and polars re-groups.
Measured (``bench/bench_segments.py``, 100,000 clients, 1,000,000 sales, 500,000
payments, this 2-core machine): industry × sector ≈ 360 ms, headcount buckets ×
sector ≈ 480 ms, against ≈ 13.7 s for the same segmentation computed from SQLite
directly (``engine="sqlite"``, kept as the exact, independent path the tests
compare with). Identifiers are fixed in this module; JSON paths, dates and values
are bound parameters.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.base.textnorm import clean_line
from clientplus_core.clients.fields import CLIENT_KINDS
from clientplus_core.records import custom_fields as cf
from clientplus_core.sales.money import from_kop
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team.access import Actor, client_scope, require

NO_VALUE = cf.NO_VALUE
STANDARD: dict[str, tuple[str, str]] = {
    "kind": ("Тип клиента", "Client kind"), "source": ("Источник", "Source"),
    "owner": ("Ответственный", "Owner"), "region": ("Регион", "Region"),
    "tag": ("Метка", "Tag"),
}
MEASURES: dict[str, tuple[str, str]] = {
    "clients": ("Клиентов", "Clients"), "sales": ("Продаж", "Sales"),
    "revenue": ("Выручка, ₽", "Revenue, ₽"), "avg_deal": ("Средняя продажа, ₽",
                                                        "Average deal, ₽"),
}
_FEDERAL_CITIES = ("москва", "санкт-петербург", "севастополь")
_REGION_WORDS = {"обл.": "область", "обл": "область", "респ.": "Республика",
                 "респ": "Республика", "а.о.": "автономный округ", "ао": "автономный округ"}
_REGION_RE = re.compile(r"(област|обл\b|обл\.|край|респ|округ|\bао\b|автономн)", re.I)


@dataclass(frozen=True)
class Dimension:
    """A dimension users can group by."""

    name: str
    label_ru: str
    label_en: str
    multi: bool = False  # one client may fall into several values (tags, multiselect)


def region_of(address: str) -> str:
    """The region (subject of the federation) named in an address, or
    :data:`NO_VALUE`: «г. Москва, ул. …» → «Москва»; «123456, Свердловская обл.,
    г Екатеринбург» → «Свердловская область»; «Респ. Татарстан, …» → «Республика
    Татарстан»."""
    for raw in (address or "").split(","):
        part = raw.strip()
        if not part or part.replace(" ", "").isdigit():
            continue
        low = part.lower()
        for city in _FEDERAL_CITIES:
            if re.fullmatch(rf"(г\.?\s*)?{city}(\s*г\.?)?", low):
                return city.title() if city != "санкт-петербург" else "Санкт-Петербург"
        if _REGION_RE.search(low):
            words = []
            for w in part.split():
                words.append(_REGION_WORDS.get(w.lower(), w))
            text = " ".join(words)
            if text.lower().startswith("республика ") or not text.lower().startswith("респ"):
                return text[0].upper() + text[1:]
            return text
    return NO_VALUE


def dimensions(store: Store) -> list[Dimension]:
    """Standard dimensions and the active custom client fields, in menu order."""
    out = [Dimension(k, ru, en, k == "tag") for k, (ru, en) in STANDARD.items()]
    for fd in cf.list_fields(store, "client"):
        if fd.key == "birth_date":
            out.append(Dimension("age", "Возраст", "Age"))
        elif fd.key not in STANDARD:
            out.append(Dimension(fd.key, fd.label_ru, fd.label_en or fd.label_ru,
                                 fd.type == "multiselect"))
    return out


def _dim(store: Store, name: str) -> Dimension:
    for d in dimensions(store):
        if d.name == name:
            return d
    known = ", ".join(d.name for d in dimensions(store))
    raise ValidationError({"by": f"Разрез «{name}» не найден; доступны: {known}"})


def _custom_value(fd: cf.FieldDef, value: Any, today: date) -> list[str]:
    if fd.key == "headcount":
        return [cf.headcount_bucket(value)]
    if fd.key == "birth_date":
        return [cf.age_bucket(value, today)]
    if value is None or value == "" or value == []:
        return [NO_VALUE]
    if fd.type == "multiselect" and isinstance(value, list):
        return [str(v) for v in value] or [NO_VALUE]
    return [cf.display(fd, value)]


_DUCK_SQL = """WITH d AS (SELECT s.client_id, count(*) AS n, sum(s.total_kop) AS t
    FROM sales s JOIN statuses st ON st.id = s.status_id
    WHERE st.is_lost = 0{period} GROUP BY s.client_id),
r AS (SELECT s.client_id, sum(p.amount_kop) AS rev FROM payments p
    JOIN sales s ON s.id = p.sale_id JOIN statuses st ON st.id = s.status_id
    WHERE st.is_lost = 0 AND p.kind = 'fact'{pay_period} GROUP BY s.client_id)
SELECT c.id, c.kind, c.source, c.legal_address, c.tags, c.extra,
    coalesce(nullif(u.full_name, ''), u.login, '') AS owner,
    coalesce(d.n, 0) AS sales, coalesce(d.t, 0) AS deals_kop,
    coalesce(r.rev, 0) AS revenue_kop
FROM clients c LEFT JOIN users u ON u.id = c.owner_id
    LEFT JOIN d ON d.client_id = c.id LEFT JOIN r ON r.client_id = c.id"""


def _duck_period(sql: str, date_from: str | None, date_to: str | None
                 ) -> tuple[str, list[object]]:
    """``sql`` (with ``{period}`` on sales and ``{pay_period}`` on payments) with the
    period filled in, and its parameters (the sales' first, then the payments')."""
    period, args = "", []
    if date_from:
        period += " AND {t}.date >= ?"
        args.append(str(date_from))
    if date_to:
        period += " AND {t}.date <= ?"
        args.append(str(date_to))
    return (sql.format(period=period.format(t="s"), pay_period=period.format(t="p")),
            [*args, *args])


def _json_value(fd: cf.FieldDef, raw: str | None) -> Any:
    """A value as stored, from its JSON-path text (strings come unquoted)."""
    if raw is None:
        return None
    if fd.type == "multiselect":
        try:
            return json.loads(raw)
        except ValueError:
            return [raw]
    if fd.type == "bool":
        return raw == "true"
    if fd.type == "number":
        try:
            num = float(raw)
        except ValueError:
            return raw
        return int(num) if num.is_integer() else num
    return raw


def client_frame(store: Store, actor: Actor, date_from: str | None = None,
                 date_to: str | None = None, today: date | None = None,
                 only: set[str] | None = None, engine: str = "analytics") -> pl.DataFrame:
    """One row per client the actor may see: ``id``, a list column per dimension
    (values as shown), and ``sales``, ``revenue_kop``, ``deals_kop`` for the period.

    ``engine="analytics"`` (default) reads the DuckDB columnar copy through
    :func:`analytics.query` (scoped, consistent, ≤ 2 s old; regions from the legal
    address); ``engine="sqlite"`` reads the operational store directly (exact to the
    last write; regions from the legal, else postal, address). ``only`` limits the
    dimension columns built."""
    if engine == "analytics":
        return _client_frame_duck(store, actor, date_from, date_to, today, only)
    return _client_frame_sqlite(store, actor, date_from, date_to, today)


def _client_frame_duck(store: Store, actor: Actor, date_from: str | None,
                       date_to: str | None, today: date | None,
                       only: set[str] | None) -> pl.DataFrame:
    from clientplus_core.analytics import engine as analytics

    require(actor, "client.read")
    today = today or date.today()
    sql, pargs = _duck_period(_DUCK_SQL, date_from, date_to)
    raw = analytics.query(store, actor, sql, pargs)
    want = only if only is not None else set(STANDARD) | {"age"} | {
        fd.key for fd in cf.list_fields(store, "client")}
    kinds = {k: v[0] for k, v in CLIENT_KINDS.items()}
    cols: dict[str, Any] = {"id": raw["id"].cast(pl.Int64)}

    def mapped(column: str, fn: Any) -> list[list[str]]:
        values = raw[column].to_list()
        cache = {v: fn(v) for v in set(values)}
        return [cache[v] for v in values]

    if "kind" in want:
        cols["kind"] = mapped("kind", lambda v: [kinds.get(v, v or NO_VALUE)])
    if "source" in want:
        cols["source"] = mapped("source", lambda v: [v or NO_VALUE])
    if "owner" in want:
        cols["owner"] = mapped("owner", lambda v: [v or NO_VALUE])
    if "region" in want:
        cols["region"] = mapped("legal_address", lambda v: [region_of(v or "")])
    if "tag" in want:
        cols["tag"] = mapped("tags", lambda v: json.loads(v or "[]") or [NO_VALUE])
    for fd in cf.list_fields(store, "client"):
        name = "age" if fd.key == "birth_date" else fd.key
        if name not in want:
            continue
        path = raw["extra"].str.json_path_match(f'$["{fd.key}"]')
        values = path.to_list()
        cache = {v: _custom_value(fd, _json_value(fd, v), today) for v in set(values)}
        cols[name] = [cache[v] for v in values]
    frame = pl.DataFrame({"id": cols.pop("id"), "sales": raw["sales"].cast(pl.Int64),
                          "revenue_kop": raw["revenue_kop"].cast(pl.Int64),
                          "deals_kop": raw["deals_kop"].cast(pl.Int64)})
    return frame.with_columns([pl.Series(k, v, dtype=pl.List(pl.String))
                               for k, v in cols.items()])


_RAW_STANDARD = {"kind": "c.kind", "source": "c.source", "region": "c.legal_address",
                 "tag": "c.tags", "owner": "coalesce(nullif(u.full_name, ''), u.login, '')"}


def _raw_dims(store: Store, names: list[str], today: date
              ) -> tuple[list[str], list[object], list[Callable[[Any], list[str]]]]:
    """For each dimension: the DuckDB expression of its *raw* value (``k0``, ``k1`` …;
    JSON paths are bound parameters) and the function mapping one raw value to the
    segment values it stands for (buckets, regions, lists)."""
    defs = {("age" if fd.key == "birth_date" else fd.key): fd
            for fd in cf.list_fields(store, "client")}
    kinds = {k: v[0] for k, v in CLIENT_KINDS.items()}
    plain: dict[str, Callable[[Any], list[str]]] = {
        "kind": lambda v: [kinds.get(v, v or NO_VALUE)], "source": lambda v: [v or NO_VALUE],
        "owner": lambda v: [v or NO_VALUE], "region": lambda v: [region_of(v or "")],
        "tag": lambda v: json.loads(v or "[]") or [NO_VALUE]}
    exprs: list[str] = []
    xargs: list[object] = []
    fns: list[Callable[[Any], list[str]]] = []
    for i, name in enumerate(names):
        if name in _RAW_STANDARD:
            exprs.append(f"{_RAW_STANDARD[name]} AS k{i}")
            fns.append(plain[name])
            continue
        fd = defs[name]
        exprs.append(f"json_extract_string(c.extra, ?) AS k{i}")
        xargs.append(f'$."{fd.key}"')

        def fn(v: Any, fd: cf.FieldDef = fd) -> list[str]:
            return _custom_value(fd, _json_value(fd, v), today)
        fns.append(fn)
    return exprs, xargs, fns


def _groups_duck(store: Store, actor: Actor, by: list[str], conds: list[tuple[str, list[str]]],
                 date_from: str | None, date_to: str | None,
                 today: date | None) -> pl.DataFrame:
    """Clients grouped in DuckDB by the *raw* values of the dimensions needed (the
    JSON value of a custom field, the address, the tags' JSON …) with their counts
    and sums; the raw values are then mapped to segment values (buckets, regions,
    lists) once per distinct value. Every client is in exactly one raw group, so
    the groups' counts add up. Identifiers are fixed here; JSON paths and dates
    are bound parameters."""
    from clientplus_core.analytics import engine as analytics

    require(actor, "client.read")
    today = today or date.today()
    names = list(dict.fromkeys([*by, *(n for n, _ in conds)]))
    exprs, xargs, fns = _raw_dims(store, names, today)
    head, _, tail = _DUCK_SQL.partition("SELECT c.id, ")
    head, pargs = _duck_period(head, date_from, date_to)
    sql = (head
           + "SELECT " + ", ".join(exprs)
           + ", count(*) AS clients, sum(coalesce(d.n, 0)) AS sales,"
           " sum(coalesce(d.t, 0)) AS deals_kop, sum(coalesce(r.rev, 0)) AS revenue_kop "
           + tail[tail.index("FROM clients c"):] + " GROUP BY ALL")
    raw = analytics.query(store, actor, sql, [*pargs, *xargs])
    out = pl.DataFrame({"clients": raw["clients"].cast(pl.Int64),
                        "sales": raw["sales"].cast(pl.Int64),
                        "revenue_kop": raw["revenue_kop"].cast(pl.Int64),
                        "deals_kop": raw["deals_kop"].cast(pl.Int64)})
    columns = []
    for i, (name, fn) in enumerate(zip(names, fns, strict=True)):
        values = raw[f"k{i}"].to_list()
        cache = {v: fn(v) for v in set(values)}
        columns.append(pl.Series(name, [cache[v] for v in values], dtype=pl.List(pl.String)))
    return out.with_columns(columns)


def _client_frame_sqlite(store: Store, actor: Actor, date_from: str | None = None,
                         date_to: str | None = None,
                         today: date | None = None) -> pl.DataFrame:
    require(actor, "client.read")
    today = today or date.today()
    defs = {("age" if fd.key == "birth_date" else fd.key): fd
            for fd in cf.list_fields(store, "client")}
    scope_sql, scope_args = client_scope(actor, "c")
    period, pargs = "", []
    if date_from:
        period += " AND s.date >= ?"
        pargs.append(str(date_from))
    if date_to:
        period += " AND s.date <= ?"
        pargs.append(str(date_to))
    pay_period = period.replace("s.date", "p.date")
    with store.read() as conn:
        conn.execute("BEGIN")  # one snapshot for both queries: no torn reads
        rows = conn.execute(
            "SELECT c.id, c.kind, c.source, c.legal_address, c.postal_address, c.tags, c.extra,"
            " coalesce(nullif(u.full_name, ''), u.login, '') AS owner"
            " FROM clients c LEFT JOIN users u ON u.id = c.owner_id"
            f" WHERE c.deleted_at IS NULL AND {scope_sql}", scope_args).fetchall()
        deals = {r[0]: (r[1], r[2]) for r in conn.execute(
            "SELECT s.client_id, count(*), sum(s.total_kop)"
            " FROM sales s JOIN sale_statuses st ON st.id = s.status_id"
            f" WHERE s.deleted_at IS NULL AND st.is_lost = 0{period} GROUP BY s.client_id",
            pargs)}
        revenue = {r[0]: r[1] for r in conn.execute(
            "SELECT s.client_id, sum(p.amount_kop) FROM sale_payments p"
            " JOIN sales s ON s.id = p.sale_id JOIN sale_statuses st ON st.id = s.status_id"
            " WHERE s.deleted_at IS NULL AND st.is_lost = 0 AND p.kind = 'fact'"
            f" AND p.deleted_at IS NULL{pay_period} GROUP BY s.client_id", pargs)}
        conn.execute("COMMIT")
    kinds = {k: v[0] for k, v in CLIENT_KINDS.items()}
    data: dict[str, list[Any]] = {"id": [], "kind": [], "source": [], "owner": [],
                                  "region": [], "tag": [], **{k: [] for k in defs},
                                  "sales": [], "revenue_kop": [], "deals_kop": []}
    for r in rows:
        extra = json.loads(r["extra"] or "{}")
        data["id"].append(r["id"])
        data["kind"].append([kinds.get(r["kind"], r["kind"])])
        data["source"].append([r["source"] or NO_VALUE])
        data["owner"].append([r["owner"] or NO_VALUE])
        data["region"].append([region_of(r["legal_address"] or r["postal_address"])])
        data["tag"].append(json.loads(r["tags"] or "[]") or [NO_VALUE])
        for name, fd in defs.items():
            data[name].append(_custom_value(fd, extra.get(fd.key), today))
        n, total = deals.get(r["id"], (0, 0))
        data["sales"].append(int(n or 0))
        data["deals_kop"].append(int(total or 0))
        data["revenue_kop"].append(int(revenue.get(r["id"]) or 0))
    schema: dict[str, Any] = {k: pl.List(pl.String) for k in data}
    schema.update({"id": pl.Int64, "sales": pl.Int64, "revenue_kop": pl.Int64,
                   "deals_kop": pl.Int64})
    return pl.DataFrame(data, schema=schema)


def _where_list(store: Store, where: dict[str, Any] | None) -> list[tuple[str, list[str]]]:
    out = []
    for name, value in (where or {}).items():
        _dim(store, name)
        values = value if isinstance(value, list) else [value]
        out.append((name, [str(v) for v in values]))
    return out


def _filter(frame: pl.DataFrame, conds: list[tuple[str, list[str]]]) -> pl.DataFrame:
    for name, values in conds:
        frame = frame.filter(pl.col(name).list.eval(pl.element().is_in(values)).list.any())
    return frame


def _avg(total: int, n: int) -> int:
    return (2 * total + n) // (2 * n) if n else 0


def pivot(store: Store, actor: Actor, by: list[str], where: dict[str, Any] | None = None,
          date_from: str | None = None, date_to: str | None = None,
          today: date | None = None, engine: str = "analytics") -> pl.DataFrame:
    """Segments by one or two dimensions (long form): the dimension columns, then
    ``clients``, ``sales``, ``revenue`` (Decimal ₽) and ``avg_deal`` (Decimal ₽),
    sorted by clients descending. ``where`` narrows to a segment
    (``{"industry": "IT", "headcount": ["1–10", "11–50"]}``)."""
    if not 1 <= len(by) <= 2 or len(set(by)) != len(by):
        raise ValidationError({"by": "Выберите один или два разных разреза"})
    for name in by:
        _dim(store, name)
    conds = _where_list(store, where)
    if engine == "analytics":
        frame = _filter(_groups_duck(store, actor, by, conds, date_from, date_to, today),
                        conds)
        count = pl.col("clients").sum()
    else:
        frame = _filter(client_frame(store, actor, date_from, date_to, today,
                                     only=set(by) | {n for n, _ in conds}, engine=engine),
                        conds)
        count = pl.col("id").n_unique()
    for name in by:
        frame = frame.explode(name)
    grouped = frame.group_by(by).agg(
        count.alias("clients"), pl.col("sales").sum().alias("sales"),
        pl.col("revenue_kop").sum().alias("revenue_kop"),
        pl.col("deals_kop").sum().alias("deals_kop"))
    rows = grouped.sort(["clients", *by], descending=[True, *[False] * len(by)]).to_dicts()
    out: dict[str, list[Any]] = {**{name: [] for name in by}, "clients": [], "sales": [],
                                 "revenue": [], "avg_deal": []}
    for r in rows:
        for name in by:
            out[name].append(r[name])
        out["clients"].append(r["clients"])
        out["sales"].append(r["sales"])
        out["revenue"].append(from_kop(r["revenue_kop"]))
        out["avg_deal"].append(from_kop(_avg(r["deals_kop"], r["sales"])))
    schema: dict[str, Any] = {name: pl.String for name in by}
    schema.update({"clients": pl.Int64, "sales": pl.Int64, "revenue": pl.Decimal(20, 2),
                   "avg_deal": pl.Decimal(20, 2)})
    return pl.DataFrame(out, schema=schema)


def wide(frame: pl.DataFrame, by: list[str], measure: str = "clients") -> pl.DataFrame:
    """A two-dimension long frame as a cross table: rows the first dimension,
    columns the second, cells ``measure`` (0 where empty)."""
    if len(by) != 2:
        return frame
    values = frame.select([*by, measure])
    out = values.pivot(on=by[1], index=by[0], values=measure).fill_null(0)
    return out.sort(by[0])


# --- saved segments --------------------------------------------------------------------


def _clean_name(name: str) -> str:
    text = clean_line(name)[:100]
    if not text:
        raise ValidationError({"name": "Название сегмента: обязательное поле"})
    return text


def save(store: Store, actor: Actor, name: str, where: dict[str, Any],
         entity: str = "client") -> dict[str, Any]:
    """Save (or overwrite) the actor's segment ``name`` = a named filter."""
    require(actor, "segments.manage")
    name = _clean_name(name)
    conds = _where_list(store, where)
    if not conds:
        raise ValidationError({"where": "Сегмент: задайте хотя бы одно условие"})
    definition = json.dumps({"where": {k: v for k, v in conds}}, ensure_ascii=False)
    ts = now_iso()
    with store.write() as conn:
        conn.execute(
            "INSERT INTO segments (name, entity, definition, owner_id, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (owner_id, name) DO UPDATE SET"
            " definition = excluded.definition, updated_at = excluded.updated_at",
            (name, entity, definition, actor.id, ts, ts))
    return get(store, actor, name)


def _visible(actor: Actor) -> tuple[str, list[object]]:
    return ("1 = 1", []) if actor.sees_everything else ("owner_id = ?", [actor.id])


def _seg(r: sqlite3.Row) -> dict[str, Any]:
    d = dict(r)
    d["where"] = json.loads(d.pop("definition") or "{}").get("where", {})
    return d


def list_segments(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """Saved segments the actor may use (their own; all for admin, head, viewer)."""
    require(actor, "client.read")
    sql, args = _visible(actor)
    with store.read() as conn:
        return [_seg(r) for r in conn.execute(
            "SELECT s.id, s.name, s.entity, s.definition, s.owner_id, s.updated_at,"
            " coalesce(u.full_name, '') AS owner_name FROM segments s"
            f" LEFT JOIN users u ON u.id = s.owner_id WHERE {sql.replace('owner_id', 's.owner_id')}"
            " ORDER BY s.name, s.id", args)]


def get(store: Store, actor: Actor, name: str) -> dict[str, Any]:
    """A saved segment by name (the actor's own first)."""
    found = [s for s in list_segments(store, actor) if s["name"] == _clean_name(name)]
    found.sort(key=lambda s: s["owner_id"] != actor.id)
    if not found:
        raise NotFound(f"Сегмент «{name}» не найден")
    return found[0]


def delete(store: Store, actor: Actor, name: str) -> None:
    """Delete the actor's own segment (admin: anyone's)."""
    require(actor, "segments.manage")
    seg = get(store, actor, name)
    if seg["owner_id"] != actor.id and actor.role != "admin":
        raise NotFound(f"Сегмент «{name}» не найден")
    with store.write() as conn:
        conn.execute("DELETE FROM segments WHERE id = ?", (seg["id"],))


def client_ids(store: Store, actor: Actor, name: str,
               engine: str = "analytics") -> list[int]:
    """Ids of the clients in the saved segment ``name``, within the actor's scope
    (for address books, phone lists and the lookup refresh).

    With the analytics engine only the raw values of the segment's own dimensions
    are read (no sales measures), each distinct raw value is mapped once, and the
    clients are kept by membership in the accepted raw values."""
    seg = get(store, actor, name)
    conds = _where_list(store, seg["where"])
    if engine != "analytics":
        frame = _filter(client_frame(store, actor, only={n for n, _ in conds},
                                     engine=engine), conds)
        return sorted(frame["id"].to_list())
    from clientplus_core.analytics import engine as analytics

    require(actor, "client.read")
    names = [n for n, _ in conds]
    exprs, xargs, fns = _raw_dims(store, names, date.today())
    sql = ("SELECT c.id" + "".join(", " + e for e in exprs)
           + " FROM clients c LEFT JOIN users u ON u.id = c.owner_id")
    raw = analytics.query(store, actor, sql, xargs)
    keep = pl.lit(True)
    for i, ((_name, values), fn) in enumerate(zip(conds, fns, strict=True)):
        wanted = set(values)
        accepted = [v for v in raw[f"k{i}"].unique().to_list() if wanted & set(fn(v))]
        col = pl.col(f"k{i}")
        cond = col.is_in([v for v in accepted if v is not None])
        if None in accepted:
            cond = cond | col.is_null()
        keep = keep & cond
    return sorted(raw.filter(keep)["id"].cast(pl.Int64).to_list())


def parse_where(items: list[str]) -> dict[str, list[str]]:
    """``["industry=IT", "industry=Торговля", "headcount=11–50"]`` → a where dict."""
    out: dict[str, list[str]] = {}
    for item in items:
        if "=" not in item:
            raise ValidationError({"where": f"Условие «{item}»: нужно ПОЛЕ=ЗНАЧЕНИЕ"})
        k, v = item.split("=", 1)
        out.setdefault(k.strip(), []).append(v.strip())
    return out


def headers(store: Store, by: list[str], lang: str = "ru") -> list[str]:
    """Column headers for :func:`pivot`'s frame."""
    dims = {d.name: d for d in dimensions(store)}
    out = [(dims[n].label_ru if lang == "ru" else dims[n].label_en) for n in by]
    return out + [v[0] if lang == "ru" else v[1] for v in MEASURES.values()]


def to_xlsx(store: Store, frame: pl.DataFrame, by: list[str], lang: str = "ru") -> bytes:
    """The segmentation as .xlsx: header, frozen panes, money formats and a totals
    row (clients are totalled only when no client can fall in two segments)."""
    from clientplus_core.analytics.report_builder import frame_to_xlsx

    multi = any(d.multi for d in dimensions(store) if d.name in by)
    totals = ["sales", "revenue"] if multi else ["clients", "sales", "revenue"]
    return frame_to_xlsx(frame, headers(store, by, lang),
                         "Segments" if lang == "en" else "Сегменты", totals,
                         "Total" if lang == "en" else "Итого")


def chart(frame: pl.DataFrame, by: list[str], measure: str = "clients",
          labels: dict[str, str] | None = None) -> Any:
    """A plotly bar chart of ``measure`` per segment (grouped bars by the second
    dimension when there are two). Pure: frame in, figure out."""
    import plotly.graph_objects as go

    names = labels or {}
    fig = go.Figure()
    if frame.height == 0:
        return fig
    values = frame.with_columns(pl.col(measure).cast(pl.Float64))
    if len(by) == 1:
        fig.add_bar(x=values[by[0]].to_list(), y=values[measure].to_list(),
                    name=names.get(measure, measure))
    else:
        for second in sorted(set(values[by[1]].to_list())):
            part = values.filter(pl.col(by[1]) == second)
            fig.add_bar(x=part[by[0]].to_list(), y=part[measure].to_list(), name=second)
        fig.update_layout(barmode="group", legend_title_text=names.get(by[1], by[1]))
    fig.update_layout(xaxis_title=names.get(by[0], by[0]),
                      yaxis_title=names.get(measure, measure),
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
