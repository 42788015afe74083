"""Reports over the analytics copy (:mod:`.analytics`): each returns a polars
DataFrame (money as ``Decimal(18,2)`` roubles), scoped to the actor.

Definitions (what the numbers mean):

* A sale belongs to a period by its ``date`` (the funnel, opened sales).
* **Funnel**: for each non-lost status in order, ``at_status`` = sales now at it
  (count, amount) and ``reached`` = sales that got at least that far — the highest
  non-lost status in their status log or their current status (a lost sale counts
  as reaching the stage it was lost from). ``conversion`` = reached(next) /
  reached(this); overall = reached(last) / reached(first).
* **Time in stage**: from the status log, the time between entering a status and
  the next change; the stage a sale is in now is not counted (not finished).
* **Revenue** ``basis="paid"``: payments received (date of payment);
  ``basis="invoiced"``: the total of sales at an ``is_invoiced`` status, dated by the
  first time they reached one (the sale's date when the log has none). By product,
  a payment is split over the sale's lines in proportion to their amounts.
* **Debtors** (:mod:`~clientplus_core.sales.debt`): invoiced, not lost, total > paid; the debt is
  overdue from ``overdue_from`` (first unpaid planned payment) or, without a
  schedule, from the invoice date; buckets 0–30 / 31–60 / 61–90 / 90+ days, and
  "not due yet".
* **Forecast**: planned payments not yet covered by payments received (paid money
  covers the earliest plans first), by week (Monday); overdue plans go to the
  current week's "overdue" row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from clientplus_core.analytics import engine as analytics
from clientplus_core.base.errors import ValidationError
from clientplus_core.sales import debt
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

RUB = "(CAST({x} AS DECIMAL(38,0)) / 100)::DECIMAL(18,2)"


def rub(expr: str) -> str:
    """SQL: a kopeck expression as DECIMAL(18,2) roubles."""
    return RUB.format(x=expr)


@dataclass(frozen=True)
class Period:
    """Report filters shared by every report."""

    date_from: date | None = None
    date_to: date | None = None
    manager_id: int | None = None  # the sale's owner
    product_id: int | None = None  # a catalogue item in the sale's lines
    client_ids: Sequence[int] | None = None  # a segment
    extra: dict[str, Any] = field(default_factory=dict)

    def sale_where(self, alias: str = "s", on: str = "date") -> tuple[str, list[object]]:
        """SQL conditions on sales ``alias`` (``on``: the date column) and parameters."""
        where: list[str] = ["1 = 1"]
        args: list[object] = []
        if self.date_from:
            where.append(f"{alias}.{on} >= ?")
            args.append(self.date_from.isoformat())
        if self.date_to:
            where.append(f"{alias}.{on} < ?")
            args.append((self.date_to + timedelta(days=1)).isoformat())
        where += self.owner_where(alias, args)
        return " AND ".join(where), args

    def owner_where(self, alias: str, args: list[object], sale_id: str = "id") -> list[str]:
        """Manager, product and segment conditions on rows ``alias`` carrying
        ``owner_id``, ``client_id`` and the sale's id in column ``sale_id``."""
        where = []
        if self.manager_id:
            where.append(f"{alias}.owner_id = ?")
            args.append(int(self.manager_id))
        if self.product_id:
            where.append(f"{alias}.{sale_id} IN"
                         " (SELECT sale_id FROM sale_lines WHERE catalogue_id = ?)")
            args.append(int(self.product_id))
        if self.client_ids is not None:
            where.append(f"{alias}.client_id IN (SELECT unnest(?::BIGINT[]))")
            args.append([int(i) for i in self.client_ids])
        return where


def parse_day(value: object, label: str) -> date | None:
    """A date from "YYYY-MM-DD" or "DD.MM.YYYY" (None for empty)."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if "." in text:
            d, m, y = text.split(".")
            return date(int(y), int(m), int(d))
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError({"date": f"{label}: неверная дата «{text}»"}) from None


# --- funnel ------------------------------------------------------------------------------


def funnel(store: Store, actor: Actor, p: Period | None = None) -> pl.DataFrame:
    """One row per non-lost status (in order): status, at_status count/amount,
    reached count/amount, conversion to the next stage (share, 0..1), and
    ``overall`` (reached / reached at the first stage)."""
    p = p or Period()
    where, args = p.sale_where("s")
    sql = f"""WITH
st AS (SELECT id, code, label, sort FROM statuses WHERE is_lost = 0 AND is_active = 1),
sel AS (SELECT s.status_id, s.total_kop, s.top_sort FROM sales s WHERE {where}),
at_st AS (SELECT status_id, count(*) AS n, sum(total_kop) AS kop FROM sel GROUP BY 1),
tops AS (SELECT top_sort, count(*) AS n, sum(total_kop) AS kop FROM sel GROUP BY 1)
SELECT st.code, st.label AS status, st.sort,
       coalesce(any_value(at_st.n), 0) AS at_count, coalesce(any_value(at_st.kop), 0) AS at_kop,
       coalesce(sum(tops.n), 0) AS reached_count, coalesce(sum(tops.kop), 0) AS reached_kop
FROM st LEFT JOIN at_st ON at_st.status_id = st.id
LEFT JOIN tops ON tops.top_sort >= st.sort
GROUP BY st.code, st.label, st.sort ORDER BY st.sort"""
    with analytics.snapshot(store, actor) as snap:
        df = snap.query(sql, args)
    reached = df["reached_count"].to_list()
    first = reached[0] if reached else 0
    conv = [(reached[i + 1] / reached[i]) if i + 1 < len(reached) and reached[i] else None
            for i in range(len(reached))]
    overall = [(r / first) if first else None for r in reached]
    return df.select(
        "code", "status",
        pl.col("at_count").cast(pl.Int64),
        _kop_to_rub(pl.col("at_kop")).alias("at_amount"),
        pl.col("reached_count").cast(pl.Int64),
        _kop_to_rub(pl.col("reached_kop")).alias("reached_amount"),
    ).with_columns(pl.Series("conversion", conv, dtype=pl.Float64),
                   pl.Series("overall", overall, dtype=pl.Float64))


def _kop_to_rub(expr: pl.Expr) -> pl.Expr:
    return (expr.cast(pl.Decimal(38, 0)) / 100).cast(pl.Decimal(18, 2))


def lost_reasons(store: Store, actor: Actor, p: Period | None = None) -> pl.DataFrame:
    """Lost sales of the period by reason: reason ("" → "не указана"), count, amount."""
    p = p or Period()
    where, args = p.sale_where("s")
    sql = f"""SELECT CASE WHEN trim(s.lost_reason) = '' THEN 'не указана'
                     ELSE trim(s.lost_reason) END AS reason,
       count(*) AS count, {rub('sum(s.total_kop)')} AS amount
FROM sales s JOIN statuses t ON t.id = s.status_id
WHERE t.is_lost = 1 AND {where} GROUP BY 1 ORDER BY count DESC, reason"""
    return analytics.query(store, actor, sql, args)


def stage_times(store: Store, actor: Actor, p: Period | None = None) -> pl.DataFrame:
    """Time spent in each status (days): status, transitions counted, average and
    median days, from consecutive entries of the status log."""
    p = p or Period()
    where, args = p.sale_where("s")
    sql = f"""WITH seq AS (
    SELECT l.sale_id, l.to_status_id AS status_id,
           CAST(left(l."at", 19) AS TIMESTAMP) AS t_in,
           lead(CAST(left(l."at", 19) AS TIMESTAMP))
               OVER (PARTITION BY l.sale_id ORDER BY l."at", l.id) AS t_out
    FROM status_log l WHERE l.sale_id IN (SELECT s.id FROM sales s WHERE {where}))
SELECT t.code, t.label AS status, count(*) AS count,
       round(avg(epoch(t_out - t_in)) / 86400, 2) AS avg_days,
       round(median(epoch(t_out - t_in)) / 86400, 2) AS median_days
FROM seq JOIN statuses t ON t.id = seq.status_id
WHERE t_out IS NOT NULL GROUP BY t.code, t.label, t.sort ORDER BY t.sort"""
    return analytics.query(store, actor, sql, args)


# --- revenue -----------------------------------------------------------------------------

REVENUE_BY = {"month": "Месяц", "manager": "Менеджер", "product": "Товар / услуга",
              "client": "Клиент"}
BASES = {"paid": "по оплатам", "invoiced": "по выставленным счетам"}
REVENUE_BY_EN = {"month": "Month", "manager": "Manager", "product": "Product",
                 "client": "Client"}
BASES_EN = {"paid": "by payments", "invoiced": "by invoices issued"}


def _invoice_dates() -> str:
    """SQL (CTE body): sale id -> invoice date for sales now at a receivable status."""
    return f"""SELECT s.id, s.owner_id, s.client_id, s.total_kop, s.paid_kop, s.overdue_from,
       coalesce(s.invoiced_on, s.date) AS day
FROM sales s JOIN statuses t ON t.id = s.status_id AND {debt.RECEIVABLE_STATUS.format(t="t")}"""


def revenue(store: Store, actor: Actor, by: str = "month", basis: str = "paid",
            p: Period | None = None) -> pl.DataFrame:
    """Revenue grouped ``by`` month|manager|product|client on ``basis`` paid|invoiced:
    key, count (payments or sales), amount; sorted by month, else by amount."""
    if by not in REVENUE_BY:
        raise ValidationError({"by": f"Группировка: {', '.join(REVENUE_BY)}"})
    if basis not in BASES:
        raise ValidationError({"basis": f"База: {', '.join(BASES)}"})
    p = p or Period()
    args: list[object] = []
    if basis == "paid":
        base = ("SELECT x.sale_id, x.date AS day, x.amount_kop, x.owner_id, x.client_id,"
                " x.sale_id AS id FROM payments x WHERE x.kind = 'fact'")
    else:
        base = ("SELECT i.id AS sale_id, i.day, i.total_kop AS amount_kop, i.owner_id,"
                f" i.client_id, i.id FROM ({_invoice_dates()}) i")
    cond, args = _period_on(p, "r", "day")
    if by == "month":
        key, label, order = "left(r.day, 7)", "left(r.day, 7)", "key"
    elif by == "manager":
        key = "r.owner_id"
        label = "coalesce((SELECT coalesce(nullif(u.full_name, ''), u.login) FROM users u" \
                " WHERE u.id = r.owner_id), '—')"
        order = "amount DESC, key"
    elif by == "client":
        key = "r.client_id"
        label = "coalesce((SELECT c.name FROM clients c WHERE c.id = r.client_id), '—')"
        order = "amount DESC, key"
    if by == "product":
        sql = f"""WITH r AS ({base}),
tot AS (SELECT sale_id, sum(amount_kop) AS t FROM sale_lines GROUP BY 1),
parts AS (
    SELECT coalesce(l.name, '—') AS label, r.sale_id,
           CASE WHEN tot.t > 0 THEN r.amount_kop * l.amount_kop / tot.t ELSE 0 END AS kop
    FROM r JOIN sale_lines l ON l.sale_id = r.sale_id JOIN tot ON tot.sale_id = r.sale_id
    WHERE {cond})
SELECT label AS key, count(DISTINCT sale_id) AS count, {rub('round(sum(kop))')} AS amount
FROM parts GROUP BY 1 ORDER BY amount DESC, key"""
    else:
        sql = f"""WITH r AS ({base})
SELECT {label} AS key, count(*) AS count, {rub('sum(r.amount_kop)')} AS amount
FROM r WHERE {cond} GROUP BY {key} ORDER BY {order}"""
    df = analytics.query(store, actor, sql, args)
    return df.with_columns(pl.col("key").cast(pl.Utf8))


def _period_on(p: Period, alias: str, col: str) -> tuple[str, list[object]]:
    """Conditions for a derived row set with ``owner_id``/``client_id``/``sale_id``."""
    where: list[str] = ["1 = 1"]
    args: list[object] = []
    if p.date_from:
        where.append(f"{alias}.{col} >= ?")
        args.append(p.date_from.isoformat())
    if p.date_to:
        where.append(f"{alias}.{col} <= ?")
        args.append(p.date_to.isoformat())
    where += p.owner_where(alias, args, sale_id="sale_id")
    return " AND ".join(where), args


# --- debtors and forecast ----------------------------------------------------------------

AGING = ("not_due", "d0_30", "d31_60", "d61_90", "d90p")
AGING_LABELS = {"not_due": "Срок не наступил", "d0_30": "0–30 дн.", "d31_60": "31–60 дн.",
                "d61_90": "61–90 дн.", "d90p": "Более 90 дн."}
AGING_LABELS_EN = {"not_due": "Not due yet", "d0_30": "0–30 days", "d31_60": "31–60 days",
                   "d61_90": "61–90 days", "d90p": "Over 90 days"}


def aging_labels(lang: str = "ru") -> dict[str, str]:
    """The aging buckets' names in ``lang`` (``"ru"`` or ``"en"``)."""
    return AGING_LABELS_EN if lang == "en" else AGING_LABELS


def debtors(store: Store, actor: Actor, p: Period | None = None,
            today: date | None = None) -> pl.DataFrame:
    """Per client: client, sales (count), debt, then the debt by aging bucket
    (:data:`AGING` columns), sorted by debt. Period filters by the invoice date."""
    p = p or Period()
    on = (today or date.today()).isoformat()
    cond, args = _period_on(p, "i", "day")
    sql = f"""WITH i AS ({_invoice_dates()}),
d AS (
    SELECT i.client_id, {debt.owed_sql("i")} AS debt,
           date_diff('day', CAST(coalesce(i.overdue_from, i.day) AS DATE), CAST(? AS DATE)) AS days
    FROM i
    WHERE i.total_kop > i.paid_kop AND {cond.replace('i.sale_id', 'i.id')}),
b AS (SELECT client_id, debt,
        CASE WHEN days < 0 THEN 'not_due' WHEN days <= 30 THEN 'd0_30'
             WHEN days <= 60 THEN 'd31_60' WHEN days <= 90 THEN 'd61_90' ELSE 'd90p' END AS bucket
      FROM d)
SELECT coalesce((SELECT c.name FROM clients c WHERE c.id = b.client_id), '—') AS client,
       b.client_id, count(*) AS sales, {rub('sum(debt)')} AS debt,
       {', '.join(f"{rub(f'sum(debt) FILTER (WHERE bucket = {chr(39)}{k}{chr(39)})')} AS {k}"
                  for k in AGING)}
FROM b GROUP BY b.client_id ORDER BY debt DESC, client"""
    df = analytics.query(store, actor, sql, [on, *args])
    return df.with_columns([pl.col(k).fill_null(0) for k in AGING])


def forecast(store: Store, actor: Actor, weeks: int = 8, today: date | None = None,
             p: Period | None = None) -> pl.DataFrame:
    """Expected payments: week (Monday), plans (count), amount; the first row
    ``overdue`` holds planned payments already past due and still unpaid."""
    p = p or Period(manager_id=None)
    day0 = today or date.today()
    monday = day0 - timedelta(days=day0.weekday())
    end = monday + timedelta(weeks=weeks)
    cond, args = _period_on(Period(manager_id=p.manager_id, product_id=p.product_id,
                                   client_ids=p.client_ids), "s", "date")
    cond = cond.replace("s.sale_id", "s.id")
    sql = f"""WITH plans AS (
    SELECT x.sale_id, x.date, x.amount_kop, s.paid_kop,
           sum(x.amount_kop) OVER (PARTITION BY x.sale_id ORDER BY x.date, x.id) AS cum
    FROM payments x JOIN sales s ON s.id = x.sale_id JOIN statuses t ON t.id = s.status_id
    WHERE x.kind = 'plan' AND t.is_lost = 0 AND {cond}),
due_rows AS (SELECT sale_id, date, least(amount_kop, cum - paid_kop) AS due FROM plans
             WHERE cum > paid_kop)
SELECT CASE WHEN date < ? THEN 'overdue'
            ELSE strftime(date_trunc('week', CAST(date AS DATE)), '%Y-%m-%d') END AS week,
       count(*) AS plans, {rub('sum(due)')} AS amount
FROM due_rows WHERE date < ? GROUP BY 1 ORDER BY (week <> 'overdue'), week"""
    return analytics.query(store, actor, sql, [*args, day0.isoformat(), end.isoformat()])


# --- clients -----------------------------------------------------------------------------


def client_growth(store: Store, actor: Actor, p: Period | None = None) -> pl.DataFrame:
    """New clients by month and source: month, source, new, total (running, all sources)."""
    p = p or Period()
    cond, args = _created_cond(p)
    sql = f"""WITH n AS (
    SELECT left(created_at, 7) AS month,
           CASE WHEN trim(source) = '' THEN 'не указан' ELSE trim(source) END AS source,
           count(*) AS new
    FROM clients c WHERE {cond} GROUP BY 1, 2)
SELECT month, source, new,
       sum(new) OVER (ORDER BY month RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
FROM n ORDER BY month, new DESC, source"""
    return analytics.query(store, actor, sql, args).with_columns(pl.col("total").cast(pl.Int64))


def _created_cond(p: Period) -> tuple[str, list[object]]:
    where: list[str] = ["1 = 1"]
    args: list[object] = []
    if p.date_from:
        where.append("c.created_at >= ?")
        args.append(p.date_from.isoformat())
    if p.date_to:
        where.append("c.created_at < ?")
        args.append((p.date_to + timedelta(days=1)).isoformat())
    if p.manager_id:
        where.append("c.owner_id = ?")
        args.append(int(p.manager_id))
    if p.client_ids is not None:
        where.append("c.id IN (SELECT unnest(?::BIGINT[]))")
        args.append([int(i) for i in p.client_ids])
    return " AND ".join(where), args


def client_sources(store: Store, actor: Actor, p: Period | None = None) -> pl.DataFrame:
    """New clients of the period by source: source, clients."""
    p = p or Period()
    cond, args = _created_cond(p)
    sql = f"""SELECT CASE WHEN trim(source) = '' THEN 'не указан' ELSE trim(source) END
       AS source, count(*) AS clients FROM clients c WHERE {cond}
GROUP BY 1 ORDER BY clients DESC, source"""
    return analytics.query(store, actor, sql, args)


def top_clients(store: Store, actor: Actor, p: Period | None = None,
                limit: int = 20) -> pl.DataFrame:
    """Top clients by payments received in the period: client, payments, amount."""
    df = revenue(store, actor, "client", "paid", p)
    return df.rename({"key": "client"}).head(max(1, int(limit)))


def no_contact(store: Store, actor: Actor, days: int = 30, today: date | None = None,
               manager_id: int | None = None) -> pl.DataFrame:
    """Clients with no contact event for ``days`` days (or never): client, manager,
    last contact date, days since (null when never), oldest first."""
    on = today or date.today()
    cutoff = (on - timedelta(days=int(days))).isoformat()
    args: list[object] = [on.isoformat()]
    extra = ""
    if manager_id:
        extra = " AND c.owner_id = ?"
    sql = f"""WITH last AS (SELECT client_id, max(left("at", 10)) AS last FROM interactions
                       GROUP BY 1)
SELECT c.name AS client, c.id AS client_id,
       coalesce((SELECT coalesce(nullif(u.full_name, ''), u.login) FROM users u
                 WHERE u.id = c.owner_id), '—') AS manager,
       last.last AS last_contact,
       date_diff('day', CAST(last.last AS DATE), CAST(? AS DATE)) AS days
FROM clients c LEFT JOIN last ON last.client_id = c.id
WHERE (last.last IS NULL OR last.last < ?){extra}
ORDER BY last.last NULLS FIRST, c.name"""
    args.append(cutoff)
    if manager_id:
        args.append(int(manager_id))
    return analytics.query(store, actor, sql, args)


# --- dashboard ---------------------------------------------------------------------------


def kpis(store: Store, actor: Actor, p: Period | None = None,
         today: date | None = None) -> dict[str, Any]:
    """Dashboard numbers for the period (and manager): new_clients, opened, won,
    lost (by the date of reaching the status), revenue_paid, revenue_invoiced,
    avg_deal (average total of won sales), debt (all unpaid invoiced, any date),
    overdue (the overdue part of it), as_of."""
    p = p or Period()
    sw, sargs = p.sale_where("s")
    stw, stargs = p.sale_where("s", on="status_at")
    cw, cargs = _created_cond(Period(p.date_from, p.date_to, p.manager_id,
                                     client_ids=p.client_ids))
    pw, pargs = _period_on(p, "r", "day")
    on = (today or date.today()).isoformat()
    owner = Period(manager_id=p.manager_id, product_id=p.product_id, client_ids=p.client_ids)
    dw, dargs = _period_on(owner, "i", "day")
    dw = dw.replace("i.sale_id", "i.id")
    owed = debt.owed_sql("i")
    with analytics.snapshot(store, actor) as snap:
        row: dict[str, Any] = {}
        row |= snap.query(f"SELECT count(*) AS new_clients FROM clients c WHERE {cw}",
                          cargs).row(0, named=True)
        row |= snap.query(f"SELECT count(*) AS opened FROM sales s WHERE {sw}",
                          sargs).row(0, named=True)
        row |= snap.query(
            "SELECT count(*) FILTER (WHERE t.is_paid = 1 AND t.is_lost = 0) AS won,"
            " count(*) FILTER (WHERE t.is_lost = 1) AS lost,"
            f" {rub('avg(s.total_kop) FILTER (WHERE t.is_paid = 1 AND t.is_lost = 0)')}"
            " AS avg_deal FROM sales s JOIN statuses t ON t.id = s.status_id"
            f" WHERE {stw}", stargs).row(0, named=True)
        row |= snap.query(
            "WITH r AS (SELECT x.date AS day, x.amount_kop, x.owner_id, x.client_id,"
            " x.sale_id FROM payments x WHERE x.kind = 'fact')"
            f" SELECT {rub('coalesce(sum(amount_kop), 0)')} AS revenue_paid FROM r WHERE {pw}",
            pargs).row(0, named=True)
        row |= snap.query(
            f"WITH r AS (SELECT i.*, i.id AS sale_id FROM ({_invoice_dates()}) i)"
            f" SELECT {rub('coalesce(sum(total_kop), 0)')} AS revenue_invoiced FROM r"
            f" WHERE {pw}", pargs).row(0, named=True)
        row |= snap.query(
            f"WITH i AS ({_invoice_dates()}) SELECT"
            f" {rub(f'coalesce(sum({owed}), 0)')} AS debt,"
            f" {rub(f'coalesce(sum({owed}) FILTER (WHERE coalesce(i.overdue_from, i.day) < ?), 0)')}"  # noqa: E501
            " AS overdue FROM i"
            f" WHERE i.total_kop > i.paid_kop AND {dw}", [on, *dargs]).row(0, named=True)
        row["as_of"] = snap.as_of
    return row


REPORTS = ("funnel", "revenue", "debtors", "forecast", "growth", "sources", "top_clients",
           "no_contact", "lost_reasons", "stage_times")


# --- one entry point per report (CLI, pages) and its Excel export --------------------------

Column = tuple[str, str, str | None]  # (frame column, header, number format)

COLUMNS: dict[str, list[Column]] = {
    "funnel": [("status", "Статус", None), ("at_count", "Сейчас на статусе", "int"),
               ("at_amount", "Сумма на статусе, ₽", "money"),
               ("reached_count", "Дошли до статуса", "int"),
               ("reached_amount", "Сумма дошедших, ₽", "money"),
               ("conversion", "Конверсия в следующий", "percent"),
               ("overall", "Конверсия от начала", "percent")],
    "revenue": [("key", "Группа", None), ("count", "Количество", "int"),
                ("amount", "Выручка, ₽", "money")],
    "debtors": [("client", "Клиент", None), ("sales", "Продаж", "int"),
                ("debt", "Долг, ₽", "money")] + [(k, v + ", ₽", "money")
                                                  for k, v in AGING_LABELS.items()],
    "forecast": [("week", "Неделя (с понедельника)", None), ("plans", "Платежей", "int"),
                 ("amount", "Ожидается, ₽", "money")],
    "growth": [("month", "Месяц", None), ("source", "Источник", None),
               ("new", "Новых клиентов", "int"), ("total", "Всего нарастающим итогом", "int")],
    "sources": [("source", "Источник", None), ("clients", "Клиентов", "int")],
    "top_clients": [("client", "Клиент", None), ("count", "Платежей", "int"),
                    ("amount", "Оплачено, ₽", "money")],
    "no_contact": [("client", "Клиент", None), ("manager", "Менеджер", None),
                   ("last_contact", "Последний контакт", None), ("days", "Дней без контакта",
                                                                   "int")],
    "lost_reasons": [("reason", "Причина", None), ("count", "Продаж", "int"),
                     ("amount", "Сумма, ₽", "money")],
    "stage_times": [("status", "Статус", None), ("count", "Переходов", "int"),
                    ("avg_days", "Среднее, дней", None), ("median_days", "Медиана, дней", None)],
}
TITLES = {"funnel": "Воронка продаж", "revenue": "Выручка", "debtors": "Дебиторская задолженность",
          "forecast": "Ожидаемые платежи", "growth": "Рост клиентской базы",
          "sources": "Источники клиентов", "top_clients": "Топ клиентов",
          "no_contact": "Клиенты без контакта", "lost_reasons": "Проигранные по причинам",
          "stage_times": "Время на этапах"}
# English headers of :data:`COLUMNS` (frame column -> header), per report
HEADERS_EN: dict[str, dict[str, str]] = {
    "funnel": {"status": "Status", "at_count": "At the status now",
               "at_amount": "Amount at the status, ₽", "reached_count": "Reached the status",
               "reached_amount": "Amount reached, ₽", "conversion": "Conversion to next",
               "overall": "Conversion from start"},
    "revenue": {"key": "Group", "count": "Count", "amount": "Revenue, ₽"},
    "debtors": {"client": "Client", "sales": "Sales", "debt": "Debt, ₽",
                **{k: v + ", ₽" for k, v in AGING_LABELS_EN.items()}},
    "forecast": {"week": "Week (from Monday)", "plans": "Payments", "amount": "Expected, ₽"},
    "growth": {"month": "Month", "source": "Source", "new": "New clients",
               "total": "Running total"},
    "sources": {"source": "Source", "clients": "Clients"},
    "top_clients": {"client": "Client", "count": "Payments", "amount": "Paid, ₽"},
    "no_contact": {"client": "Client", "manager": "Manager", "last_contact": "Last contact",
                   "days": "Days without contact"},
    "lost_reasons": {"reason": "Reason", "count": "Sales", "amount": "Amount, ₽"},
    "stage_times": {"status": "Status", "count": "Transitions", "avg_days": "Average, days",
                    "median_days": "Median, days"},
}
TITLES_EN = {"funnel": "Sales funnel", "revenue": "Revenue", "debtors": "Receivables",
             "forecast": "Expected payments", "growth": "Client base growth",
             "sources": "Client sources", "top_clients": "Top clients",
             "no_contact": "Clients without contact", "lost_reasons": "Lost by reason",
             "stage_times": "Time in stage"}
TOTAL_LABEL = {"ru": "Итого", "en": "Total"}


def header(name: str, column: str, lang: str = "ru") -> str:
    """The header of ``column`` of report ``name`` in ``lang`` (``"ru"`` | ``"en"``)."""
    if lang == "en" and column in HEADERS_EN.get(name, {}):
        return HEADERS_EN[name][column]
    return next((h for c, h, _f in COLUMNS.get(name, []) if c == column), column)


def title(name: str, lang: str = "ru") -> str:
    """A report's title in ``lang``."""
    return (TITLES_EN if lang == "en" else TITLES).get(name, name)


_SUMMED = {"int", "money"}
_NOT_SUMMED = {("growth", "total"), ("no_contact", "days"), ("funnel", "reached_count"),
               ("funnel", "reached_amount")}


def run(store: Store, actor: Actor, name: str, p: Period | None = None, *, by: str = "month",
        basis: str = "paid", days: int = 30, weeks: int = 8, limit: int = 20,
        today: date | None = None) -> pl.DataFrame:
    """Any report of :data:`TITLES` by name, with its options."""
    p = p or Period()
    if name == "funnel":
        return funnel(store, actor, p)
    if name == "revenue":
        return revenue(store, actor, by, basis, p)
    if name == "debtors":
        return debtors(store, actor, p, today)
    if name == "forecast":
        return forecast(store, actor, weeks, today, p)
    if name == "growth":
        return client_growth(store, actor, p)
    if name == "sources":
        return client_sources(store, actor, p)
    if name == "top_clients":
        return top_clients(store, actor, p, limit)
    if name == "no_contact":
        return no_contact(store, actor, days, today, p.manager_id)
    if name == "lost_reasons":
        return lost_reasons(store, actor, p)
    if name == "stage_times":
        return stage_times(store, actor, p)
    raise ValidationError({"report": f"Отчёт: {', '.join(TITLES)}"})


def totals_row(name: str, df: pl.DataFrame, lang: str = "ru") -> list[object] | None:
    """The «Итого» row of a report table (sums of count and money columns), or None
    when a total makes no sense."""
    if name in ("stage_times", "growth") or df.height == 0:
        return None
    out: list[object] = [TOTAL_LABEL.get(lang, TOTAL_LABEL["ru"])]
    for col, _, fmt in COLUMNS[name][1:]:
        if fmt in _SUMMED and (name, col) not in _NOT_SUMMED and col in df.columns:
            total = sum((v for v in df[col].to_list() if v is not None), start=Decimal(0))
            out.append(total if fmt == "money" else int(total))
        else:
            out.append(None)
    return out


def table_headers(name: str, df: pl.DataFrame, lang: str = "ru") -> list[str]:
    """The headers in ``lang`` of the report columns ``df`` has, in their order."""
    return [header(name, c, lang) for c, _, _ in COLUMNS[name] if c in df.columns]


def table_rows(name: str, df: pl.DataFrame, lang: str = "ru"
               ) -> tuple[list[str], list[list[object]]]:
    """(headers in ``lang``, rows) of a report in its column order, for a table or Excel."""
    cols = [c for c, _, _ in COLUMNS[name] if c in df.columns]
    return table_headers(name, df, lang), [list(r) for r in df.select(cols).iter_rows()]


def to_xlsx(name: str, df: pl.DataFrame, lang: str = "ru") -> bytes:
    """A report as .xlsx: number formats, frozen header, totals row where it fits;
    headers, sheet title and «Итого» in ``lang``."""
    from clientplus_core.clients.export import rows_to_xlsx

    headers, body = table_rows(name, df, lang)
    fmts = [f for c, _, f in COLUMNS[name] if c in df.columns]
    return rows_to_xlsx(headers, body, sheet=title(name, lang), formats=fmts,
                        totals=totals_row(name, df, lang))
