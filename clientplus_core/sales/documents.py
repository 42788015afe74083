"""Word documents from a sale: commercial offer, invoice for payment (счёт на
оплату), contract and act, rendered with docxtpl (Jinja tags inside a .docx).

Public API::

    KINDS                                             # {"offer": "Коммерческое предложение", …}
    available_variables() -> dict[str, dict[str, str]]  # what a template may use, described
    render(store, actor, sale_id, template="invoice", *, doc_date=None,
           attach=True) -> (filename, bytes)
        # template: a kind ("offer" | "invoice" | "contract" | "act"), the id of an
        # uploaded template, or the bytes of a .docx (validated first)
    context(store, actor, sale_id, kind="invoice", number="", doc_date=None) -> dict
    upload_template(store, actor, kind, name, data, make_default=True) -> dict
    validate_template(data, name="template.docx") -> list[str]     # variables used
    list_templates(store, actor, kind=None) -> list[dict]
    template_bytes(store, actor, template_id) -> (name, bytes)
    set_default_template(store, actor, template_id, is_default=True) -> None
    delete_template(store, actor, template_id) -> None
    default_template(kind) -> bytes                  # the shipped template
    pdf_available() -> bool; to_pdf(docx_bytes) -> bytes

Rendering uses ``autoescape=True``: a client named ``ООО "Рога & Копыта" <тест>``
gives a valid document. Values in the context are already formatted for print
(``"6 826,84"``, dates ``"30.12.2025"``), so a template needs no filters.

Each generated document gets a number (its own sequence per kind and year, like
1C: "Счёт на оплату № 15") and a date, is recorded in ``documents`` and saved to
the sale's files (also shown on the client's card and searchable by its text).

The default templates live in ``clientplus_core/templates/*.docx``; they are
built by :func:`build_default_template` with python-docx
(``python -m clientplus_core.sales.documents build-templates`` rewrites them) and, if a
file is missing, built in memory on first use.

An uploaded template is refused (``ValidationError`` naming what is wrong) when it
is not a .docx, when its Jinja is broken, when it uses a variable or a field that
does not exist (``seller.fax``), or when a trial render with sample data fails.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from clientplus_core import sales
from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.clients import files
from clientplus_core.sales import company, money
from clientplus_core.search.textextract import extract_text
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

KINDS = {"offer": "Коммерческое предложение", "invoice": "Счёт на оплату",
         "contract": "Договор", "act": "Акт"}
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
MONTHS_GEN = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
              "сентября", "октября", "ноября", "декабря")

_PARTY = {
    "name": "краткое наименование", "full_name": "полное наименование",
    "inn": "ИНН", "kpp": "КПП", "ogrn": "ОГРН / ОГРНИП", "inn_kpp": "«ИНН …, КПП …»",
    "address": "юридический адрес", "postal_address": "почтовый адрес",
    "bank_name": "банк", "bik": "БИК", "corr_account": "корр. счёт",
    "account": "расчётный счёт", "director_post": "должность руководителя",
    "director_name": "руководитель (ФИО)", "director_short": "руководитель (Фамилия И. О.)",
    "phone": "телефон", "email": "e-mail", "website": "сайт",
    "requisites": "реквизиты одной строкой",
}
VARIABLES: dict[str, dict[str, str]] = {
    "doc": {"number": "номер документа", "date": "дата (30.12.2025)",
            "date_words": "дата («30 декабря 2025 г.»)", "title": "название вида документа",
            "kind": "вид: offer, invoice, contract, act",
            "valid_until": "срок (ожидаемая дата закрытия или +30 дней)"},
    "seller": {**_PARTY, "tax_system": "система налогообложения (osn / usn)"},
    "buyer": dict(_PARTY),
    "contact": {"name": "контактное лицо", "post": "должность", "phone": "телефон",
                "email": "e-mail"},
    "manager": {"name": "ответственный менеджер", "email": "e-mail менеджера"},
    "sale": {"number": "номер сделки", "date": "дата сделки", "title": "название сделки",
             "source": "источник", "notes": "примечания", "expected_close": "ожидаемая дата",
             "vat_mode": "included / on_top", "vat_mode_label": "«НДС в сумме» / «НДС сверху»",
             "discount": "скидка по сделке, %", "basis": "«Сделка № … от …»"},
    "lines": {"no": "№ строки", "name": "наименование", "sku": "артикул", "unit": "ед.",
              "qty": "количество", "price": "цена", "discount": "скидка, %",
              "amount": "сумма", "vat_rate": "ставка НДС («22 %», «Без НДС»)",
              "vat": "НДС строки"},
    "totals": {"subtotal": "итого (сумма строк)", "vat_total": "НДС всего",
               "total": "всего к оплате", "without_vat": "сумма без НДС",
               "vat_lines": "строки НДС: список из caption и amount",
               "vat_caption": "НДС одной строкой («В том числе НДС 22 %: 1 231,07»"
                              " или «Без налога (НДС)»)",
               "no_vat": "все строки без НДС (да/нет)", "count": "число наименований",
               "words": "всего к оплате прописью", "discount": "скидка по сделке, %"},
    "schedule": {"no": "№", "date": "дата платежа", "amount": "сумма", "note": "примечание"},
    "balance": {"paid": "оплачено", "remaining": "осталось оплатить"},
}
# fields of the items of list variables (``{% for x in lines %}`` …)
_ITEM_FIELDS = {"lines": VARIABLES["lines"], "schedule": VARIABLES["schedule"],
                "totals.vat_lines": {"caption": "подпись", "amount": "сумма"}}
_LISTS = {"lines", "schedule"}


def available_variables() -> dict[str, dict[str, str]]:
    """Every variable a template may use, with its fields described (for the page)."""
    return {k: dict(v) for k, v in VARIABLES.items()}


# --- context ----------------------------------------------------------------------------


def _day(iso: str | None) -> str:
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
    out["director_short"] = _short_name(out["director_name"])
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
    return {
        "doc": {"number": number, "date": _day(doc_date), "date_words": _day_words(doc_date),
                "title": KINDS.get(kind, "Документ"), "kind": kind,
                "valid_until": _day(valid_until)},
        "seller": _party(seller) | {"tax_system": str(seller.get("tax_system") or "osn")},
        "buyer": _party(buyer),
        "contact": {"name": contact.get("name") or "", "post": contact.get("post") or "",
                    "phone": contact.get("phone") or contact.get("mobile") or "",
                    "email": contact.get("email") or ""},
        "manager": {"name": owner.get("full_name") or "", "email": owner.get("email") or ""},
        "sale": {"number": card["number"], "date": _day(card["date"]), "title": card["title"],
                 "source": card["source"], "notes": card["notes"],
                 "expected_close": _day(card.get("expected_close")), "vat_mode": mode,
                 "vat_mode_label": sales.VAT_MODE_LABELS[mode][0],
                 "discount": money.format_percent(card["discount"]),
                 "basis": f"Сделка № {card['number']} от {_day(card['date'])}"},
        "lines": [{"no": str(i), "name": ln["name"], "sku": ln["sku"], "unit": ln["unit"],
                   "qty": money.format_qty(ln["qty"]), "price": fa(ln["price"]),
                   "discount": money.format_percent(ln["discount"]) if ln["discount"] else "",
                   "amount": fa(ln["amount"]), "vat_rate": ln["vat_label"],
                   "vat": fa(ln["vat"]) if ln["vat_rate"] is not None else "—"}
                  for i, ln in enumerate(card["lines"], start=1)],
        "totals": {"subtotal": fa(totals["subtotal"]), "vat_total": fa(totals["vat_total"]),
                   "total": fa(totals["total"]), "without_vat": fa(totals["without_vat"]),
                   "vat_lines": vat_lines,
                   "vat_caption": "; ".join(
                       v["caption"] + (f": {v['amount']}" if v["amount"] != "—" else "")
                       for v in vat_lines),
                   "no_vat": totals["no_vat"], "count": str(len(card["lines"])),
                   "words": totals["words"], "discount": money.format_percent(totals["discount"])},
        "schedule": [{"no": str(i), "date": _day(p["date"]), "amount": fa(p["amount"]),
                      "note": p["note"]} for i, p in enumerate(card["schedule"], start=1)],
        "balance": {"paid": fa(card["balance"]["paid"]),
                    "remaining": fa(card["balance"]["remaining"])},
    }


def context(store: Store, actor: Actor, sale_id: int, kind: str = "invoice", number: str = "",
            doc_date: str | date | None = None) -> dict[str, Any]:
    """The template context of a sale (what :func:`available_variables` describes)."""
    card = sales.get_card(store, actor, sale_id)
    with store.read() as conn:
        buyer = dict(conn.execute("SELECT * FROM clients WHERE id = ?",
                                  (card["client_id"],)).fetchone())
    day = sales.parse_date(doc_date or sales.today(), "Дата документа") or ""
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


# --- templates: validation --------------------------------------------------------------


def _env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=True)


def _template_xml(data: bytes) -> str:
    """The Jinja source of a .docx as docxtpl sees it (body, headers, footers)."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(data))
    doc = Document(io.BytesIO(data))
    xml = tpl.patch_xml(tpl.xml_to_string(doc._element.body))
    for rel in doc.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    return xml


def _attr_problems(ast: nodes.Template) -> list[str]:
    """Fields used that the context does not have: ``seller.fax``, ``line.colour``."""
    problems: list[str] = []

    def path(node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name
        if isinstance(node, nodes.Getattr):
            base = path(node.node)
            return f"{base}.{node.attr}" if base else None
        return None

    def visit(node: nodes.Node, loops: dict[str, str]) -> None:
        if isinstance(node, nodes.For):
            visit(node.iter, loops)
            inner = dict(loops)
            src = path(node.iter)
            if isinstance(node.target, nodes.Name) and src:
                inner[node.target.name] = src
            for child in (*node.body, *node.else_):
                visit(child, inner)
            if node.test is not None:
                visit(node.test, inner)
            return
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            name, attr = node.node.name, node.attr
            if name in loops:
                fields = _ITEM_FIELDS.get(loops[name])
                if fields is not None and attr not in fields:
                    problems.append(f"{name}.{attr}")
            elif name in VARIABLES and name not in _LISTS and attr not in VARIABLES[name]:
                problems.append(f"{name}.{attr}")
        for child in node.iter_child_nodes():
            visit(child, loops)

    visit(ast, {})
    return sorted(set(problems))


def validate_template(data: bytes, name: str = "template.docx") -> list[str]:
    """Check an uploaded template; returns the top-level variables it uses.

    ValidationError (key ``"template"``) when the file is not a .docx, its Jinja is
    broken, it uses unknown variables or fields (named in the message), or a trial
    render with sample data fails."""
    if not name.lower().endswith(".docx"):
        raise ValidationError({"template": f"«{name}»: шаблон должен быть файлом Word .docx"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise zipfile.BadZipFile
    except (zipfile.BadZipFile, OSError):
        raise ValidationError({"template": f"«{name}»: это не документ .docx"
                                           " (файл повреждён или другого формата)"}) from None
    try:
        xml = _template_xml(data)
    except Exception as exc:  # noqa: BLE001 - any unreadable docx is a user error
        raise ValidationError({"template": f"«{name}»: не удалось прочитать .docx ({exc})"}) \
            from None
    env = _env()
    try:
        ast = env.parse(xml)
        env.from_string(xml)
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationError({"template": f"«{name}»: ошибка в тегах шаблона — {exc.message}"
                                           f"{_near(xml, exc.lineno)}"}) from None
    from jinja2 import meta

    used = meta.find_undeclared_variables(ast)
    unknown = sorted(used - set(VARIABLES))
    bad_fields = _attr_problems(ast)
    if unknown or bad_fields:
        parts = []
        if unknown:
            parts.append("неизвестные переменные: " + ", ".join(unknown))
        if bad_fields:
            parts.append("неизвестные поля: " + ", ".join(bad_fields))
        raise ValidationError({"template": f"«{name}»: " + "; ".join(parts)
                               + ". Доступны: " + ", ".join(VARIABLES)})
    try:
        _render_bytes(data, sample_context())
    except Exception as exc:  # noqa: BLE001 - a template that cannot render is refused
        raise ValidationError({"template": f"«{name}»: пробная подстановка не удалась ({exc})"}) \
            from None
    return sorted(used)


def _near(xml: str, lineno: int | None) -> str:
    """The visible text near a Jinja error (the XML line it is on, tags stripped)."""
    if not lineno:
        return ""
    lines = xml.splitlines()
    if lineno - 1 >= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    text = " ".join(text.split())
    return f" (рядом с «{text[:80]}»)" if text else ""


# --- templates: storage -----------------------------------------------------------------


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError({"kind": "Вид документа: " + ", ".join(KINDS)})
    return kind


def upload_template(store: Store, actor: Actor, kind: str, name: str, data: bytes,
                    make_default: bool = True) -> dict[str, Any]:
    """Validate and store a template for ``kind`` (admin); by default it becomes the
    one used by the kind's button."""
    require(actor, "templates.manage")
    _check_kind(kind)
    fname = files.safe_name(name)
    variables = validate_template(data, fname)
    sha, size = files.put_blob(store, io.BytesIO(data))
    ts = now_iso()
    with store.write() as conn:
        conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, text, created_at)"
                     " VALUES (?,?,?,?,?)", (sha, size, "none", "", ts))
        if make_default:
            conn.execute("UPDATE doc_templates SET is_default = 0 WHERE kind = ?", (kind,))
        cur = conn.execute(
            "INSERT INTO doc_templates (kind, name, sha256, variables, is_default, uploaded_by,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (kind, fname, sha, json.dumps(variables), int(make_default), actor.id, ts, ts))
        tid = int(cur.lastrowid or 0)
        audit.record(conn, actor, "upload", "doc_template", tid, None,
                     f"{KINDS[kind]}: {fname}", {"sha256": sha, "variables": variables})
        return dict(conn.execute("SELECT * FROM doc_templates WHERE id = ?", (tid,)).fetchone())


def list_templates(store: Store, actor: Actor, kind: str | None = None) -> list[dict[str, Any]]:
    """Uploaded templates (newest first); the shipped ones are not listed."""
    require(actor, "sale.read")
    with store.read() as conn:
        sql = ("SELECT t.*, u.full_name AS uploaded_by_name FROM doc_templates t"
               " LEFT JOIN users u ON u.id = t.uploaded_by WHERE t.deleted_at IS NULL")
        args: list[object] = []
        if kind:
            sql += " AND t.kind = ?"
            args.append(kind)
        return [dict(r) | {"variables": json.loads(r["variables"])}
                for r in conn.execute(sql + " ORDER BY t.id DESC", args)]


def _template_row(conn: Any, template_id: int) -> Any:
    row = conn.execute("SELECT * FROM doc_templates WHERE id = ? AND deleted_at IS NULL",
                       (template_id,)).fetchone()
    if row is None:
        raise NotFound(f"Шаблон №{template_id} не найден")
    return row


def template_bytes(store: Store, actor: Actor, template_id: int) -> tuple[str, bytes]:
    require(actor, "sale.read")
    with store.read() as conn:
        row = _template_row(conn, template_id)
    return row["name"], files.blob_path(store, row["sha256"]).read_bytes()


def set_default_template(store: Store, actor: Actor, template_id: int,
                         is_default: bool = True) -> None:
    """Use (or stop using) an uploaded template for its kind's button."""
    require(actor, "templates.manage")
    with store.write() as conn:
        row = _template_row(conn, template_id)
        if is_default:
            conn.execute("UPDATE doc_templates SET is_default = 0 WHERE kind = ?", (row["kind"],))
        conn.execute("UPDATE doc_templates SET is_default = ?, updated_at = ?,"
                     " version = version + 1 WHERE id = ?", (int(is_default), now_iso(),
                                                               template_id))
        audit.record(conn, actor, "default" if is_default else "undefault", "doc_template",
                     template_id, None, row["name"])


def delete_template(store: Store, actor: Actor, template_id: int) -> None:
    require(actor, "templates.manage")
    with store.write() as conn:
        row = _template_row(conn, template_id)
        conn.execute("UPDATE doc_templates SET deleted_at = ?, is_default = 0,"
                     " version = version + 1 WHERE id = ?", (now_iso(), template_id))
        audit.record(conn, actor, "delete", "doc_template", template_id, None, row["name"])


# --- rendering --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def default_template(kind: str) -> bytes:
    """The shipped template of ``kind`` (built in memory if the file is missing)."""
    _check_kind(kind)
    path = TEMPLATES_DIR / f"{kind}.docx"
    if path.exists():
        return path.read_bytes()
    return build_default_template(kind)


def _render_bytes(template: bytes, ctx: Mapping[str, Any]) -> bytes:
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    tpl.render(dict(ctx), jinja_env=_env(), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _allocate_number(conn: Any, kind: str, year: int) -> str:
    row = conn.execute("SELECT last_no FROM doc_counters WHERE kind = ? AND year = ?",
                       (kind, year)).fetchone()
    seq = (row["last_no"] if row else 0) + 1
    conn.execute("INSERT INTO doc_counters (kind, year, last_no) VALUES (?,?,?)"
                 " ON CONFLICT(kind, year) DO UPDATE SET last_no = excluded.last_no",
                 (kind, year, seq))
    return str(seq)


def render(store: Store, actor: Actor, sale_id: int, template: str | int | bytes = "invoice",
           *, doc_date: str | date | None = None, attach: bool = True,
           kind: str | None = None) -> tuple[str, bytes]:
    """Render a document of a sale; returns ``(filename, docx bytes)``.

    ``template``: a kind (``"offer"``, ``"invoice"``, ``"contract"``, ``"act"``: the
    kind's uploaded default template, else the shipped one), the id of an uploaded
    template, or the bytes of a .docx (validated first; ``kind`` names what it is,
    default ``"custom"``). With ``attach`` (default) the document gets the next
    number of its kind and year, is saved to the sale's files and recorded;
    without it (a preview) it is numbered "—" and nothing is stored.
    """
    require(actor, "document.generate")
    template_id: int | None = None
    if isinstance(template, (bytes, bytearray)):
        validate_template(bytes(template), "template.docx")
        data, kind = bytes(template), kind or "custom"
    elif isinstance(template, int):
        with store.read() as conn:
            row = _template_row(conn, template)
        data, kind, template_id = (files.blob_path(store, row["sha256"]).read_bytes(),
                                   row["kind"], row["id"])
    else:
        kind = _check_kind(str(template))
        with store.read() as conn:
            row = conn.execute("SELECT * FROM doc_templates WHERE kind = ? AND is_default = 1"
                               " AND deleted_at IS NULL ORDER BY id DESC LIMIT 1",
                               (kind,)).fetchone()
        if row is not None:
            data, template_id = files.blob_path(store, row["sha256"]).read_bytes(), row["id"]
        else:
            data = default_template(kind)
    day = sales.parse_date(doc_date or sales.today(), "Дата документа") or ""
    title = KINDS.get(kind, "Документ")
    if not attach:
        ctx = context(store, actor, sale_id, kind, "—", day)
        out = _render_bytes(data, ctx)
        return files.safe_name(f"{title} (черновик) {ctx['sale']['number']}.docx"), out
    with store.write() as conn:
        sale = sales._visible(conn, actor, sale_id)
        number = _allocate_number(conn, kind, int(day[:4]))
        # the context is read through another connection: it sees the committed sale,
        # which this transaction has not changed
        ctx = context(store, actor, sale_id, kind, number, day)
        out = _render_bytes(data, ctx)
        fname = files.safe_name(f"{title} № {number} от {_day(day)} ({sale['number']}).docx")
        sha, size = files.put_blob(store, io.BytesIO(out))
        status, text = extract_text(out, fname)
        frow = sales._attach(conn, actor, sale_id, fname, sha, size, status, text)
        totals = ctx["totals"]["total"]
        cur = conn.execute(
            "INSERT INTO documents (sale_id, kind, number, date, template_id, file_id,"
            " total_kop, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (sale_id, kind, number, day, template_id, frow["id"], sale["total_kop"], actor.id,
             now_iso()))
        audit.record(conn, actor, "document", "sale", sale_id, sale["client_id"],
                     f"{sale['number']}: {title} № {number} от {_day(day)}",
                     {"document_id": cur.lastrowid, "kind": kind, "file_id": frow["id"],
                      "total": totals, "template_id": template_id})
    return fname, out


# --- PDF --------------------------------------------------------------------------------


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    """Whether LibreOffice is installed (the page hides the PDF button otherwise)."""
    return _soffice() is not None


def to_pdf(docx: bytes, timeout: int = 120) -> bytes:
    """Convert a .docx to PDF with ``soffice --headless --convert-to pdf``."""
    exe = _soffice()
    if exe is None:
        raise UserError("PDF недоступен: LibreOffice (soffice) не установлен на сервере")
    with tempfile.TemporaryDirectory(prefix="clientplus-pdf-") as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx)
        try:
            subprocess.run([exe, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "pdf", "--outdir", tmp, str(src)],
                           check=True, capture_output=True, timeout=timeout)
        except (subprocess.SubprocessError, OSError) as exc:
            raise UserError(f"PDF: LibreOffice не смог преобразовать документ ({exc})") from None
        pdf = Path(tmp) / "document.pdf"
        if not pdf.exists():
            raise UserError("PDF: LibreOffice не создал файл")
        return pdf.read_bytes()


# --- the shipped templates (python-docx) ------------------------------------------------


def _builder() -> Any:
    import docx
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    d = docx.Document()
    for section in d.sections:
        section.left_margin = section.right_margin = Cm(1.5)
        section.top_margin = section.bottom_margin = Cm(1.5)
    style = d.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(9)
    style.paragraph_format.space_after = Pt(2)
    return d, WD_ALIGN_PARAGRAPH, Pt, Cm


def _p(d: Any, text: str, bold: bool = False, size: int | None = None,
       align: Any = None, space_after: int | None = None) -> Any:
    from docx.shared import Pt

    para = d.add_paragraph()
    run = para.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align is not None:
        para.alignment = align
    if space_after is not None:
        para.paragraph_format.space_after = Pt(space_after)
    return para


def _cell(cell: Any, text: str, bold: bool = False, align: Any = None) -> None:
    cell.text = ""
    para = cell.paragraphs[0]
    run = para.add_run(text)
    run.bold = bold
    if align is not None:
        para.alignment = align


def _lines_table(d: Any, align: Any, with_discount: bool = True) -> None:
    """The specification: header, a ``{%tr for %}`` row pair, column widths."""
    from docx.shared import Cm

    cols = [("№", "no", 0.8), ("Товары (работы, услуги)", "name", 7.2),
            ("Кол-во", "qty", 1.6), ("Ед.", "unit", 1.2), ("Цена", "price", 2.4)]
    if with_discount:
        cols.append(("Скидка, %", "discount", 1.6))
    cols.append(("Сумма", "amount", 2.6))
    t = d.add_table(rows=4, cols=len(cols))
    t.style = "Table Grid"
    for i, (head, key, width) in enumerate(cols):
        right = align.RIGHT if key in ("qty", "price", "discount", "amount") else None
        _cell(t.rows[0].cells[i], head, bold=True, align=align.CENTER)
        _cell(t.rows[2].cells[i], "{{ line." + key + " }}", align=right)
        for r in t.rows:
            r.cells[i].width = Cm(width)
    _cell(t.rows[1].cells[0], "{%tr for line in lines %}")
    _cell(t.rows[3].cells[0], "{%tr endfor %}")


def _totals_table(d: Any, align: Any) -> None:
    """Итого / НДС per rate (a ``{%tr for %}`` over ``totals.vat_lines``) / Всего к оплате."""
    from docx.shared import Cm

    t = d.add_table(rows=5, cols=2)
    t.alignment = 2  # right
    rows = [("Итого:", "{{ totals.subtotal }}"), ("{%tr for v in totals.vat_lines %}", ""),
            ("{{ v.caption }}:", "{{ v.amount }}"), ("{%tr endfor %}", ""),
            ("Всего к оплате:", "{{ totals.total }}")]
    for r, (a, b) in zip(t.rows, rows, strict=True):
        _cell(r.cells[0], a, bold=True, align=align.RIGHT)
        _cell(r.cells[1], b, bold=True, align=align.RIGHT)
        r.cells[0].width = Cm(6)
        r.cells[1].width = Cm(3)


def _signatures(d: Any, left: tuple[str, str], right: tuple[str, str]) -> None:
    t = d.add_table(rows=2, cols=2)
    _cell(t.rows[0].cells[0], left[0], bold=True)
    _cell(t.rows[0].cells[1], right[0], bold=True)
    _cell(t.rows[1].cells[0], f"_______________ / {left[1]}")
    _cell(t.rows[1].cells[1], f"_______________ / {right[1]}")


def _requisites_table(d: Any) -> None:
    t = d.add_table(rows=2, cols=2)
    t.style = "Table Grid"
    _cell(t.rows[0].cells[0], "Поставщик (Исполнитель)", bold=True)
    _cell(t.rows[0].cells[1], "Покупатель (Заказчик)", bold=True)
    for i, who in enumerate(("seller", "buyer")):
        c = t.rows[1].cells[i]
        c.text = ""
        parts = [f"{{{{ {who}.full_name }}}}", f"{{{{ {who}.inn_kpp }}}}",
                 f"ОГРН {{{{ {who}.ogrn }}}}", f"Адрес: {{{{ {who}.address }}}}",
                 f"Р/с {{{{ {who}.account }}}}", f"в {{{{ {who}.bank_name }}}}",
                 f"БИК {{{{ {who}.bik }}}}", f"К/с {{{{ {who}.corr_account }}}}",
                 f"Тел.: {{{{ {who}.phone }}}}", "",
                 f"_______________ / {{{{ {who}.director_short }}}}"]
        c.paragraphs[0].add_run(parts[0])
        for text in parts[1:]:
            c.add_paragraph(text)


def build_default_template(kind: str) -> bytes:
    """Build the shipped template of ``kind`` with python-docx (Jinja tags as text)."""
    _check_kind(kind)
    d, align, _pt, cm = _builder()
    if kind == "invoice":
        _p(d, "{{ seller.name }}", bold=True, size=11)
        _p(d, "{{ seller.address }}{% if seller.phone %}, тел. {{ seller.phone }}{% endif %}",
           space_after=8)
        bank = d.add_table(rows=5, cols=4)
        bank.style = "Table Grid"
        cells = [
            ("{{ seller.bank_name }}", None, "БИК", "{{ seller.bik }}"),
            ("Банк получателя", None, "Сч. №", "{{ seller.corr_account }}"),
            ("ИНН {{ seller.inn }}", "КПП {{ seller.kpp }}", "Сч. №", "{{ seller.account }}"),
            ("{{ seller.full_name }}", None, "", ""),
            ("Получатель", None, "", ""),
        ]
        for r, values in zip(bank.rows, cells, strict=True):
            for i, v in enumerate(values):
                if v is not None:
                    _cell(r.cells[i], v)
            if values[1] is None:
                r.cells[0].merge(r.cells[1])
        for r in bank.rows:
            for i, w in enumerate((5.0, 4.6, 1.6, 6.0)):
                r.cells[i].width = cm(w)
        _p(d, "", space_after=4)
        _p(d, "Счёт на оплату № {{ doc.number }} от {{ doc.date_words }}", bold=True, size=14,
           space_after=6)
        _p(d, "Поставщик (Исполнитель): {{ seller.requisites }}")
        _p(d, "Покупатель (Заказчик): {{ buyer.requisites }}")
        _p(d, "Основание: {{ sale.basis }}", space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Всего наименований {{ totals.count }}, на сумму {{ totals.total }} руб.")
        _p(d, "{{ totals.words }}", bold=True, space_after=10)
        _p(d, "Оплата данного счёта означает согласие с условиями поставки товара (оказания"
              " услуг). Счёт действителен до {{ doc.valid_until }}.", space_after=10)
        _signatures(d, ("Руководитель", "{{ seller.director_short }}"),
                    ("Бухгалтер", "{{ seller.director_short }}"))
    elif kind == "offer":
        _p(d, "{{ seller.name }}", bold=True, size=11)
        _p(d, "{{ seller.inn_kpp }}, {{ seller.address }}", space_after=2)
        _p(d, "{% if seller.phone %}тел. {{ seller.phone }} {% endif %}{{ seller.email }}",
           space_after=10)
        _p(d, "Кому: {{ buyer.name }}{% if contact.name %}, {{ contact.post }}"
              " {{ contact.name }}{% endif %}", align=align.RIGHT, space_after=10)
        _p(d, "Коммерческое предложение № {{ doc.number }} от {{ doc.date }}", bold=True,
           size=14, align=align.CENTER)
        _p(d, "{{ sale.title }}", align=align.CENTER, space_after=8)
        _p(d, "Благодарим за интерес к нашей компании! Предлагаем вам следующие товары и"
              " услуги:", space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Итого к оплате: {{ totals.words }}", bold=True, space_after=8)
        _p(d, "Предложение действительно до {{ doc.valid_until }}.")
        _p(d, "Ответственный менеджер: {{ manager.name }}{% if manager.email %},"
              " {{ manager.email }}{% endif %}", space_after=12)
        _p(d, "{{ seller.director_post }} _______________ {{ seller.director_short }}")
    elif kind == "contract":
        _p(d, "ДОГОВОР № {{ doc.number }}", bold=True, size=13, align=align.CENTER)
        _p(d, "{{ doc.date_words }}", align=align.RIGHT, space_after=8)
        _p(d, "{{ seller.full_name }} ({{ seller.inn_kpp }}), именуемое в дальнейшем"
              " «Поставщик», в лице руководителя ({{ seller.director_post }})"
              " {{ seller.director_name }}, с одной стороны, и {{ buyer.full_name }}"
              " ({{ buyer.inn_kpp }}), именуемое в дальнейшем «Покупатель», с другой стороны,"
              " заключили настоящий договор о нижеследующем:", space_after=6)
        _p(d, "1. ПРЕДМЕТ ДОГОВОРА", bold=True)
        _p(d, "1.1. Поставщик обязуется передать Покупателю товары (оказать услуги), указанные"
              " в спецификации, а Покупатель — принять и оплатить их.", space_after=4)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "2. ЦЕНА И ПОРЯДОК РАСЧЁТОВ", bold=True)
        _p(d, "2.1. Общая стоимость по договору составляет {{ totals.total }} руб."
              " ({{ totals.words }}), {{ totals.vat_caption }}.")
        _p(d, "2.2. Оплата производится по графику:")
        sched = d.add_table(rows=4, cols=4)
        sched.style = "Table Grid"
        for i, (head, key) in enumerate((("№", "no"), ("Дата платежа", "date"),
                                         ("Сумма, руб.", "amount"), ("Примечание", "note"))):
            _cell(sched.rows[0].cells[i], head, bold=True, align=align.CENTER)
            _cell(sched.rows[2].cells[i], "{{ p." + key + " }}")
        _cell(sched.rows[1].cells[0], "{%tr for p in schedule %}")
        _cell(sched.rows[3].cells[0], "{%tr endfor %}")
        _p(d, "Если график не заполнен, оплата производится в течение 5 (пяти) банковских"
              " дней с даты выставления счёта.", space_after=6)
        _p(d, "3. СРОКИ", bold=True)
        _p(d, "3.1. Обязательства Поставщика исполняются до {{ doc.valid_until }}.",
           space_after=6)
        _p(d, "4. ПРОЧИЕ УСЛОВИЯ", bold=True)
        _p(d, "4.1. Споры разрешаются путём переговоров, а при недостижении согласия — в"
              " арбитражном суде по месту нахождения Поставщика.")
        _p(d, "4.2. Договор составлен в двух экземплярах, имеющих равную юридическую силу.",
           space_after=6)
        _p(d, "5. РЕКВИЗИТЫ И ПОДПИСИ СТОРОН", bold=True)
        _requisites_table(d)
    else:  # act
        _p(d, "Акт № {{ doc.number }} от {{ doc.date_words }}", bold=True, size=14,
           space_after=6)
        _p(d, "Исполнитель: {{ seller.requisites }}")
        _p(d, "Заказчик: {{ buyer.requisites }}")
        _p(d, "Основание: {{ sale.basis }}", space_after=6)
        _lines_table(d, align)
        _totals_table(d, align)
        _p(d, "Всего оказано услуг (отгружено товаров) {{ totals.count }}, на сумму"
              " {{ totals.total }} руб.")
        _p(d, "{{ totals.words }}", bold=True, space_after=8)
        _p(d, "Вышеперечисленные услуги выполнены (товары переданы) полностью и в срок."
              " Заказчик претензий по объёму, качеству и срокам не имеет.", space_after=12)
        _signatures(d, ("Исполнитель", "{{ seller.director_short }}"),
                    ("Заказчик", "{{ buyer.director_short }}"))
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def write_default_templates(dest: Path = TEMPLATES_DIR) -> list[Path]:
    """(Re)build the shipped templates into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in KINDS:
        path = dest / f"{kind}.docx"
        path.write_bytes(build_default_template(kind))
        out.append(path)
    default_template.cache_clear()
    return out


def _main(argv: list[str]) -> int:
    if argv[:1] == ["build-templates"]:
        for p in write_default_templates():
            print(p)
        return 0
    print("usage: python -m clientplus_core.sales.documents build-templates", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
