"""Mailing templates: the personal fields, checking the subject and bodies before
anything is sent, and rendering them for one recipient (with the unsubscribe line).

Personal fields are rendered by the bounded sandbox of
:mod:`clientplus_core.base.sandbox` (jinja2's :class:`SandboxedEnvironment` with loops,
calls and output bounded) with :class:`StrictUndefined` (no code execution, no silent
blanks): see :data:`FIELDS`. Templates are checked before anything is saved or sent
(:func:`validate`): an unknown field, a name starting with ``_``, a syntax error or a
trial render going over a limit is refused naming the part, the line and the field. A
message whose texts come to more than :data:`MAX_MESSAGE_BYTES` is refused before it
is sent.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from markupsafe import Markup

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.sandbox import BoundedSandbox, bounded_sandbox, megabytes, private_names
from clientplus_core.records.validation import phone_text
from clientplus_core.sales import money
from clientplus_core.team.access import Actor

#: personal fields: variable -> its attributes (``None``: a plain value)
FIELDS: dict[str, dict[str, str] | None] = {
    "client": {"name": "название клиента", "full_name": "полное название", "inn": "ИНН",
               "kpp": "КПП", "ogrn": "ОГРН", "email": "e-mail клиента",
               "phone": "телефон клиента", "director_name": "руководитель"},
    "contact": {"name": "ФИО контакта", "first_name": "имя (второе слово ФИО)",
                "last_name": "фамилия", "middle_name": "отчество", "post": "должность",
                "email": "e-mail контакта", "phone": "телефон контакта"},
    "sale": {"number": "номер продажи", "date": "дата продажи", "title": "название продажи",
             "total": "сумма продажи, «12 345,67 ₽»", "debt": "долг по этой продаже"},
    "manager": {"name": "ваш менеджер (ответственный за клиента)", "email": "e-mail менеджера",
                "phone": "телефон менеджера"},
    "debt": None,
    "unsubscribe": None,
}
FIELD_HELP = {"debt": "долг клиента по выставленным и не оплаченным счетам, «12 345,67 ₽»",
              "unsubscribe": "строка отписки (добавляется в конец письма, если её нет)"}
#: the three templates, as the user sees them named
PARTS = {"subject": "Тема", "body_text": "Текст письма", "body_html": "HTML-версия"}
#: the largest message: what most SMTP servers accept in one message (its rendered texts
#: and, checked when sending, its attachments)
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
#: the length of each personal field in the trial render of :func:`validate` (a long
#: client name), so a template that multiplies a field is refused when it is saved
SAMPLE_LENGTH = 200


# --- templates ---------------------------------------------------------------------------


def _env(html: bool) -> BoundedSandbox:
    return bounded_sandbox(max_chars=MAX_MESSAGE_BYTES, undefined=StrictUndefined,
                           autoescape=html, keep_trailing_newline=True)


_TEXT_ENV = _env(False)
_HTML_ENV = _env(True)


def _stored_names(ast: nodes.Template) -> set[str]:
    return {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}


def _check_one(part: str, source: str, html: bool) -> list[str]:
    label = PARTS[part]
    env = _HTML_ENV if html else _TEXT_ENV
    try:
        ast = env.parse(source)
        env.from_string(source)  # compiles: unknown filters/tests are errors too
    except TemplateSyntaxError as err:
        return [f"{label}, строка {err.lineno}: ошибка в шаблоне — {err.message}"]
    problems: list[str] = [f"{label}, строка {line}: обращение к служебному имени «{name}»"
                           " запрещено (имена, начинающиеся с «_», в шаблонах недоступны)"
                           for name, line in private_names(ast)]
    local = _stored_names(ast)
    for name in ast.find_all(nodes.Name):
        if name.ctx == "load" and name.name not in FIELDS and name.name not in local:
            problems.append(f"{label}, строка {name.lineno}: неизвестное поле «{name.name}»")
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, (nodes.Getattr, nodes.Getitem))
        base = node.node
        if not isinstance(base, nodes.Name) or base.name not in FIELDS or base.name in local:
            continue
        if isinstance(node, nodes.Getattr):
            attr: object = node.attr
        elif isinstance(node.arg, nodes.Const):
            attr = node.arg.value
        else:
            continue
        allowed = FIELDS[base.name]
        if allowed is None or attr not in allowed:
            problems.append(f"{label}, строка {node.lineno}: неизвестное поле "
                            f"«{base.name}.{attr}»")
    if not problems:
        try:
            env.from_string(source).render(_sample_context(html))
        except (SecurityError, UndefinedError, TemplateError, TypeError, ValueError,
                ArithmeticError, RecursionError) as err:
            problems.append(f"{label}: шаблон не выполняется — {err}")
    return sorted(set(problems), key=problems.index)


def validate(subject: str, body_text: str, body_html: str = "") -> list[str]:
    """Problems of the three templates (empty list: fine)."""
    problems: list[str] = []
    if not (subject or "").strip():
        problems.append("Тема: не заполнена")
    if not (body_text or "").strip() and not (body_html or "").strip():
        problems.append("Текст письма: не заполнен")
    problems += _check_one("subject", subject or "", False)
    problems += _check_one("body_text", body_text or "", False)
    if (body_html or "").strip():
        problems += _check_one("body_html", body_html, True)
    return problems


def check_templates(subject: str, body_text: str, body_html: str = "") -> None:
    problems = validate(subject, body_text, body_html)
    if problems:
        raise ValidationError({"template": "; ".join(problems)})


def field_help() -> list[tuple[str, str]]:
    """``[("{{ client.name }}", "название клиента"), ...]`` for the cheat-sheet."""
    out: list[tuple[str, str]] = []
    for var, attrs in FIELDS.items():
        if attrs is None:
            out.append((f"{{{{ {var} }}}}", FIELD_HELP.get(var, "")))
        else:
            out += [(f"{{{{ {var}.{a} }}}}", text) for a, text in attrs.items()]
    return out


def _rub(kop: int) -> str:
    return money.format_amount(money.from_kop(kop), " ") + " ₽"


def _split_name(full: str) -> tuple[str, str, str]:
    words = (full or "").split()
    last = words[0] if words else ""
    first = words[1] if len(words) > 1 else ""
    middle = " ".join(words[2:])
    return last, first, middle


def _sample_context(html: bool) -> dict[str, Any]:
    sample = "x" * SAMPLE_LENGTH
    ctx: dict[str, Any] = {var: ({a: sample for a in attrs} if attrs else sample)
                           for var, attrs in FIELDS.items()}
    ctx["unsubscribe"] = _unsubscribe_value("test@example.ru", "0" * 20, html)
    return ctx


def _unsubscribe_text(from_address: str, token: str) -> str:
    return (f"Чтобы отписаться от рассылки, ответьте на это письмо с темой «unsubscribe {token}»"
            f" или откройте mailto:{from_address}?subject=unsubscribe%20{token}")


def _unsubscribe_value(from_address: str, token: str, html: bool) -> str | Markup:
    if not html:
        return _unsubscribe_text(from_address, token)
    href = f"mailto:{from_address}?subject={quote('unsubscribe ' + token)}"
    return Markup('<a href="{}">Отписаться от рассылки</a>').format(href)


def list_unsubscribe_header(from_address: str, token: str) -> str:
    return f"<mailto:{from_address}?subject={quote('unsubscribe ' + token)}>"


# --- context for one recipient --------------------------------------------------------


def client_debt_kop(conn: sqlite3.Connection, client_id: int) -> int:
    """Outstanding amount of a client on invoiced, not paid sales (kopecks)."""
    row = conn.execute(
        "SELECT COALESCE(SUM(MAX(s.total_kop - s.paid_kop, 0)), 0) FROM sales s"
        " JOIN sale_statuses st ON st.id = s.status_id"
        " WHERE s.client_id = ? AND s.deleted_at IS NULL AND st.is_invoiced = 1"
        " AND st.is_paid = 0", (client_id,)).fetchone()
    return int(row[0] or 0)


def recipient_context(conn: sqlite3.Connection, actor: Actor, rec: Mapping[str, Any],
                      token: str, from_address: str) -> dict[str, Any]:
    """The personal fields of one recipient (see :data:`FIELDS`)."""
    client = conn.execute("SELECT * FROM clients WHERE id = ?", (rec["client_id"],)).fetchone()
    if client is None:
        raise NotFound(f"Клиент №{rec['client_id']} не найден")
    cdict = {k: client[k] for k in ("name", "full_name", "inn", "kpp", "ogrn", "email", "phone",
                                    "director_name")}
    cdict["phone"] = phone_text(cdict["phone"] or "")
    contact: dict[str, Any] = dict.fromkeys(FIELDS["contact"] or {}, "")
    if rec.get("contact_id"):
        row = conn.execute("SELECT * FROM contacts WHERE id = ?", (rec["contact_id"],)).fetchone()
        if row is not None:
            last, first, middle = _split_name(row["name"])
            contact = {"name": row["name"], "first_name": first, "last_name": last,
                       "middle_name": middle, "post": row["post"], "email": row["email"],
                       "phone": phone_text(row["phone"] or row["mobile"])}
    sale: dict[str, Any] = dict.fromkeys(FIELDS["sale"] or {}, "")
    if rec.get("sale_id"):
        row = conn.execute("SELECT * FROM sales WHERE id = ?", (rec["sale_id"],)).fetchone()
        if row is not None:
            d = row["date"] or ""
            sale = {"number": row["number"], "title": row["title"],
                    "date": f"{d[8:10]}.{d[5:7]}.{d[:4]}" if len(d) >= 10 else d,
                    "total": _rub(row["total_kop"]),
                    "debt": _rub(max(row["total_kop"] - row["paid_kop"], 0))}
    manager = {"name": actor.full_name or actor.login, "email": "", "phone": ""}
    owner_id = client["owner_id"] or actor.id
    urow = conn.execute("SELECT full_name, login, email FROM users WHERE id = ?",
                        (owner_id,)).fetchone()
    if urow is not None:
        manager = {"name": urow["full_name"] or urow["login"], "email": urow["email"], "phone": ""}
    return {"client": cdict, "contact": contact, "sale": sale, "manager": manager,
            "debt": _rub(client_debt_kop(conn, rec["client_id"])),
            "unsubscribe": _unsubscribe_text(from_address, token)}


@lru_cache(maxsize=64)
def _compiled(source: str, html: bool) -> Template:
    return (_HTML_ENV if html else _TEXT_ENV).from_string(source)


def _render_part(part: str, source: str, html: bool, ctx: dict[str, Any]) -> str:
    """One template rendered; UserError naming the part when it fails or goes over a limit."""
    try:
        return _compiled(source, html).render(ctx)
    except (TemplateError, RecursionError) as err:
        raise UserError(f"{PARTS[part]}: шаблон не выполняется — {err}") from None


def render(m: Mapping[str, Any], ctx: dict[str, Any], from_address: str,
           token: str) -> tuple[str, str, str]:
    """Subject, text and HTML of mailing ``m`` for one recipient, the unsubscribe line added.

    UserError (naming the part) when a template fails or goes over a limit of the
    sandbox, or the texts come to more than :data:`MAX_MESSAGE_BYTES`."""
    with _TEXT_ENV.budget():  # one budget for the whole message
        subject, text, html = _render_parts(m, ctx, from_address, token)
    size = sum(len(s.encode("utf-8")) for s in (subject, text, html))
    if size > MAX_MESSAGE_BYTES:
        raise UserError(f"Письмо получилось слишком большим ({megabytes(size)}, можно не"
                        f" больше {megabytes(MAX_MESSAGE_BYTES)}): проверьте шаблон")
    return subject, text, html


def _render_parts(m: Mapping[str, Any], ctx: dict[str, Any], from_address: str,
                  token: str) -> tuple[str, str, str]:
    subject = _render_part("subject", m["subject"], False, ctx)
    subject = " ".join(subject.split())
    text = _render_part("body_text", m["body_text"] or "", False, ctx)
    if "unsubscribe" not in _used_names(m["body_text"] or ""):
        text = text.rstrip("\n") + "\n\n--\n" + _unsubscribe_text(from_address, token) + "\n"
    html = ""
    if (m["body_html"] or "").strip():
        hctx = dict(ctx, unsubscribe=_unsubscribe_value(from_address, token, True))
        html = _render_part("body_html", m["body_html"], True, hctx)
        if "unsubscribe" not in _used_names(m["body_html"]):
            footer = str(Markup("<p style=\"font-size:small;color:#666\">{}</p>").format(
                hctx["unsubscribe"]))
            html = html.replace("</body>", footer + "</body>") if "</body>" in html \
                else html + footer
    return subject, text, html


@lru_cache(maxsize=64)
def _used_names(source: str) -> frozenset[str]:
    try:
        ast = _TEXT_ENV.parse(source)
    except TemplateSyntaxError:
        return frozenset()
    return frozenset(n.name for n in ast.find_all(nodes.Name))


def rub(kop: int) -> str:
    """«12 345,67 ₽» (for the UI)."""
    return _rub(kop)
