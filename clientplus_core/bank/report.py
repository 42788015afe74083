"""The summary of a load as an Excel workbook: one row per document of the
statement (state, payer, amount, the sales it was recorded on, why)."""

from __future__ import annotations

from clientplus_core.bank.imports import DIRECTIONS, STATES, LoadResult
from clientplus_core.base import formats
from clientplus_core.clients.export import rows_to_xlsx
from clientplus_core.sales import money

HEADERS = {"ru": ["Файл", "Строка", "Движение", "Итог", "Номер", "Дата", "Поступило",
                  "Сумма", "Плательщик", "ИНН плательщика", "Клиент", "Продажи",
                  "Причина", "Назначение платежа"],
           "en": ["File", "Line", "Direction", "Outcome", "Number", "Date", "Received on",
                  "Amount", "Payer", "Payer INN", "Client", "Sales", "Reason", "Purpose"]}


def summary_xlsx(result: LoadResult, lang: str = "ru") -> bytes:
    """The load's documents as .xlsx (text cells never become formulas), with the
    total of the amounts."""
    k = 1 if lang == "en" else 0
    rows = [[i.file, i.line, DIRECTIONS[i.direction][k], STATES[i.state][k], i.number,
             formats.day(i.date), formats.day(i.paid_on), money.from_kop(i.amount_kop),
             i.payer_name, i.payer_inn, i.client_name,
             ", ".join(a["sale_number"] for a in i.allocations), i.reason, i.purpose]
            for i in result.items]
    fmts: list[str | None] = [None] * len(HEADERS["ru"])
    fmts[7] = "money"
    totals: list[object] = [""] * len(HEADERS["ru"])
    totals[0] = "Итого" if k == 0 else "Total"
    totals[7] = sum((money.from_kop(i.amount_kop) for i in result.items), money.ZERO)
    return rows_to_xlsx(HEADERS["en" if k else "ru"], rows,
                        sheet="Выписка" if k == 0 else "Statement", formats=fmts,
                        totals=totals)
