"""The data a sale's documents are rendered with: the kinds of document, the
variables a template may use (described for the page) and the template context of
a sale, formatted for print (plus a made-up one for trial renders)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from clientplus_core.records.validation import phone_text
from clientplus_core.sales import company, money, signatory
from clientplus_core.sales.card import VAT_MODE_LABELS, get_card
from clientplus_core.sales.common import parse_date, today
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor

KINDS = {"offer": "Коммерческое предложение", "invoice": "Счёт на оплату",
         "contract": "Договор", "act": "Акт"}
MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря")

_PARTY = {
    "name": "краткое наименование", "full_name": "полное наименование",
    "inn": "ИНН", "kpp": "КПП", "ogrn": "ОГРН / ОГРНИП", "inn_kpp": "«ИНН …, КПП …»",
    "ogrn_label": "«ОГРН» (юр. лицо) или «ОГРНИП» (ИП)",
    "address": "юридический адрес", "postal_address": "почтовый адрес",
    "bank_name": "банк", "bik": "БИК", "corr_account": "корр. счёт",
    "account": "расчётный счёт", "director_post": "должность руководителя",
    "director_name": "руководитель (ФИО)", "director_short": "руководитель (Фамилия И. О.)",
    "director_post_gen": "должность руководителя, кого? («Генерального директора»)",
    "director_name_gen": "руководитель, кого? («Иванова Ивана Ивановича»)",
    "basis": "на основании чего действует («Устава», «записи в ЕГРИП ОГРНИП …»)",
    "party": "сторона договора («Общество с ограниченной ответственностью …»,"
             " «Индивидуальный предприниматель Петров Пётр Петрович»)",
    "named": "«именуемое» / «именуемый» / «именуемая» (по виду стороны и полу)",
    "acting": "«действующего» / «действующей» (юр. лицо), «действующий» / «действующая» (ИП)",
    "signatory": "«в лице Генерального директора Иванова Ивана Ивановича, действующего на"
                 " основании Устава» (ИП: «действующий на основании записи в ЕГРИП …»)",
    "signer_post": "подпись: должность («Генеральный директор», «Индивидуальный"
                   " предприниматель»)",
    "phone": "телефон", "email": "e-mail", "website": "сайт",
    "requisites": "реквизиты одной строкой",
}
VARIABLES: dict[str, dict[str, str]] = {
    "doc": {"number": "номер документа", "date": "дата (30.12.2025)",
            "date_words": "дата («30 декабря 2025 г.»)", "title": "название вида документа",
            "kind": "вид: offer, invoice, contract, act",
            "valid_until": "срок (ожидаемая дата закрытия или +30 дней)"},
    "seller": {**_PARTY, "tax_system": "система налогообложения (osn / usn)",
               "accountant_name": "главный бухгалтер (ФИО; пусто — руководитель)",
               "accountant_short": "главный бухгалтер (Фамилия И. О.)"},
    "buyer": dict(_PARTY),
    "contact": {"name": "контактное лицо", "post": "должность", "phone": "телефон",
                "email": "e-mail"},
    "manager": {"name": "ответственный менеджер", "email": "e-mail менеджера"},
    "sale": {"number": "номер продажи", "date": "дата продажи", "title": "название продажи",
             "source": "источник", "notes": "примечания", "expected_close": "ожидаемая дата",
             "vat_mode": "included / on_top", "vat_mode_label": "«НДС в сумме» / «НДС сверху»",
             "discount": "скидка на продажу, %", "basis": "«Продажа № … от …»"},
    "lines": {"no": "№ строки", "name": "наименование", "sku": "артикул", "unit": "ед.",
              "qty": "количество", "price": "цена",
              "discount": "скидка строки вместе со скидкой на продажу, % (цена × кол-во −"
                          " скидка = сумма)",
              "amount": "сумма", "vat_rate": "ставка НДС («22 %», «Без НДС»)",
              "vat": "НДС строки"},
    "totals": {"subtotal": "итого (сумма строк)", "vat_total": "НДС всего",
               "total": "всего к оплате", "without_vat": "сумма без НДС",
               "vat_lines": "строки НДС: список из caption и amount",
               "vat_caption": "НДС одной строкой («В том числе НДС 22 %: 1 231,07»"
                              " или «Без налога (НДС)»)",
               "vat_sentence": "НДС в конце фразы о сумме («в том числе НДС 22 % —"
                               " 1 231,07 руб.» или «без налога (НДС).»)",
               "no_vat": "все строки без НДС (да/нет)", "count": "число наименований",
               "words": "всего к оплате прописью", "discount": "скидка на продажу, %"},
    "schedule": {"no": "№", "date": "дата платежа", "amount": "сумма", "note": "примечание"},
    "balance": {"paid": "оплачено", "remaining": "осталось оплатить"},
}
# fields of the items of list variables (``{% for x in lines %}`` …)


def available_variables() -> dict[str, dict[str, str]]:
    """Every variable a template may use, with its fields described (for the page)."""
    return {k: dict(v) for k, v in VARIABLES.items()}


# --- context ----------------------------------------------------------------------------


def format_day(iso: str | None) -> str:
    """An ISO date as printed, ``30.12.2025`` (empty for none)."""
    return f"{iso[8:10]}.{iso[5:7]}.{iso[:4]}" if iso else ""


def _day_words(iso: str) -> str:
    d = date.fromisoformat(iso[:10])
    return f"{d.day} {MONTHS_GEN[d.month - 1]} {d.year} г."


def _short_name(full: str) -> str:
    parts = (full or "").split()
    if len(parts) < 2:
        return full or ""
    return parts[0] + " " + " ".join(p[0] + "." for p in parts[1:3])


def _party(d: Mapping[str, Any]) -> dict[str, str]:
    out = {k: str(d.get(k) or "") for k in ("name", "full_name", "inn", "kpp", "ogrn",
                                             "postal_address", "bank_name", "bik",
                                             "corr_account", "account", "director_post",
                                             "director_name", "phone", "email", "website")}
    out["full_name"] = out["full_name"] or out["name"]
    out["address"] = str(d.get("legal_address") or "")
    out["director_short"] = _short_name(signatory.person_name(d))
    out |= signatory.party_words(d)
    kind = str(d.get("kind") or "legal")
    out["ogrn_label"] = "ОГРНИП" if kind == "ip" or len(out["ogrn"]) == 15 else "ОГРН"
    out["signer_post"] = ("Индивидуальный предприниматель" if kind == "ip"
                          else out["director_post"] or ("Руководитель" if kind == "legal"
                                                        else ""))
    out["inn_kpp"] = ", ".join(x for x in (f"ИНН {out['inn']}" if out["inn"] else "",
                                           f"КПП {out['kpp']}" if out["kpp"] else "") if x)
    phone = out["phone"]
    if phone.startswith("+7"):
        from clientplus_core.records.validation import format_phone

        phone = format_phone(phone)
        out["phone"] = phone
    out["requisites"] = ", ".join(x for x in (
        out["full_name"], out["inn_kpp"], out["address"],
        f"тел. {phone}" if phone else "") if x)
    return out


def _line_discount(line: Decimal, sale: Decimal) -> str:
    """The discount a line's amount carries, its own and the sale's together, so that
    quantity × price less this percent is the amount printed beside it (the sale's 10 %
    and the line's 5 % make 14,5 %: 100 − 0,95 × 0,90 × 100). Empty for none."""
    line, sale = Decimal(line or 0), Decimal(sale or 0)
    total = 100 - (100 - line) * (100 - sale) / 100
    return money.format_percent(total) if total else ""


def _vat_sentence(totals: Mapping[str, Any]) -> str:
    """The VAT clause that ends a sentence about the total, in lower case with «руб.»:
    «в том числе НДС 22 % — 1 231,07 руб.» (several rates joined by commas; the total
    to pay contains the VAT in both modes), «без налога (НДС).» when there is none."""
    if totals["no_vat"]:
        return "без налога (НДС)."
    parts = [f"НДС {v['label']} — {money.format_amount(v['amount'])} руб."
             for v in totals["vat_by_rate"]]
    return "в том числе " + ", ".join(parts)


def _context_from_card(card: Mapping[str, Any], seller: Mapping[str, Any],
                       buyer: Mapping[str, Any], kind: str, number: str,
                       doc_date: str) -> dict[str, Any]:
    fa = money.format_amount
    totals = card["totals"]
    mode = card["vat_mode"]
    if totals["no_vat"]:
        vat_lines = [{"caption": "Без налога (НДС)", "amount": "—"}]
    else:
        vat_lines = [{"caption": ("В том числе НДС " if mode == "included" else "НДС ")
                      + v["label"], "amount": fa(v["amount"])} for v in totals["vat_by_rate"]]
    valid_until = card.get("expected_close") or (
        date.fromisoformat(doc_date) + timedelta(days=30)).isoformat()
    contact = card.get("contact") or {}
    owner = card.get("owner") or {}
    accountant = str(seller.get("accountant_name") or "").strip() or signatory.person_name(
        seller)
    sale_discount = Decimal(card["discount"] or 0)
    return {
        "doc": {"number": number, "date": format_day(doc_date), "date_words": _day_words(doc_date),
                "title": KINDS.get(kind, "Документ"), "kind": kind,
                "valid_until": format_day(valid_until)},
        "seller": _party(seller) | {"tax_system": str(seller.get("tax_system") or "osn"),
                                    "accountant_name": accountant,
                                    "accountant_short": _short_name(accountant)},
        "buyer": _party(buyer),
        "contact": {"name": contact.get("name") or "", "post": contact.get("post") or "",
                    "phone": phone_text(contact.get("phone") or contact.get("mobile") or ""),
                    "email": contact.get("email") or ""},
        "manager": {"name": owner.get("full_name") or "", "email": owner.get("email") or ""},
        "sale": {"number": card["number"], "date": format_day(card["date"]), "title": card["title"],
                 "source": card["source"], "notes": card["notes"],
                 "expected_close": format_day(card.get("expected_close")), "vat_mode": mode,
                 "vat_mode_label": VAT_MODE_LABELS[mode][0],
                 "discount": money.format_percent(card["discount"]),
                 "basis": f"Продажа № {card['number']} от {format_day(card['date'])}"},
        "lines": [{"no": str(i), "name": ln["name"], "sku": ln["sku"], "unit": ln["unit"],
                   "qty": money.format_qty(ln["qty"]), "price": fa(ln["price"]),
                   "discount": _line_discount(ln["discount"], sale_discount),
                   "amount": fa(ln["amount"]), "vat_rate": ln["vat_label"],
                   "vat": fa(ln["vat"]) if ln["vat_rate"] is not None else "—"}
                  for i, ln in enumerate(card["lines"], start=1)],
        "totals": {"subtotal": fa(totals["subtotal"]), "vat_total": fa(totals["vat_total"]),
                   "total": fa(totals["total"]), "without_vat": fa(totals["without_vat"]),
                   "vat_lines": vat_lines,
                   "vat_caption": "; ".join(
                       v["caption"] + (f": {v['amount']}" if v["amount"] != "—" else "")
                       for v in vat_lines),
                   "vat_sentence": _vat_sentence(totals),
                   "no_vat": totals["no_vat"], "count": str(len(card["lines"])),
                   "words": totals["words"], "discount": money.format_percent(totals["discount"])},
        "schedule": [{"no": str(i), "date": format_day(p["date"]), "amount": fa(p["amount"]),
                      "note": p["note"]} for i, p in enumerate(card["schedule"], start=1)],
        "balance": {"paid": fa(card["balance"]["paid"]),
                    "remaining": fa(card["balance"]["remaining"])},
    }


def context(store: Store, actor: Actor, sale_id: int, kind: str = "invoice", number: str = "",
            doc_date: str | date | None = None) -> dict[str, Any]:
    """The template context of a sale (what :func:`available_variables` describes)."""
    card = get_card(store, actor, sale_id)
    with store.read() as conn:
        buyer = dict(conn.execute("SELECT * FROM clients WHERE id = ?",
                                  (card["client_id"],)).fetchone())
    day = parse_date(doc_date or today(), "Дата документа") or ""
    return _context_from_card(card, company.get(store), buyer, kind, number or "—", day)


def sample_context() -> dict[str, Any]:
    """A filled context with made-up data (trial render of an uploaded template)."""
    line = {"qty": Decimal(2), "price": Decimal("100.00"), "discount": Decimal(0),
            "amount": Decimal("200.00"), "vat": Decimal("36.07"), "vat_rate": 22,
            "vat_label": "22 %", "name": "Образец", "sku": "A-1", "unit": "шт"}
    card = {"number": "2026-0001", "date": "2026-01-15", "title": "Образец", "source": "",
            "notes": "", "expected_close": None, "vat_mode": "included",
            "discount": Decimal(0), "contact": {"name": "Иванов Иван"},
            "owner": {"full_name": "Менеджер"}, "lines": [line],
            "totals": {"no_vat": False, "vat_by_rate": [{"label": "22 %",
                                                         "amount": Decimal("36.07")}],
                       "subtotal": Decimal(200), "vat_total": Decimal("36.07"),
                       "total": Decimal(200), "without_vat": Decimal("163.93"),
                       "words": money.amount_in_words(Decimal(200)), "discount": Decimal(0)},
            "schedule": [{"date": "2026-02-01", "amount": Decimal(200), "note": ""}],
            "balance": {"paid": Decimal(0), "remaining": Decimal(200)}}
    party = {"name": "ООО «Образец»", "inn": "7707083893", "kpp": "770701001",
             "director_name": "Петров Пётр Петрович", "legal_address": "г. Москва"}
    return _context_from_card(card, party, party, "invoice", "1", "2026-01-15")
