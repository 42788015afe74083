"""E-mail mailings: an address book, a subject and bodies with personal fields,
attachments; a test send, then one message per recipient with a rate limit and a
per-recipient log that survives crashes.

Personal fields are rendered by jinja2's :class:`SandboxedEnvironment` with
:class:`StrictUndefined` (no code execution, no silent blanks): see :data:`FIELDS`.
Templates are checked before anything is sent (:func:`validate`): an unknown field
or a syntax error is refused naming the part, the line and the field.

Sending and the crash window (why nobody gets the same mailing twice)
--------------------------------------------------------------------
Every recipient has one row in ``mailing_recipients`` (UNIQUE per mailing and
address). Before a message goes out, its row is *claimed* in its own short
transaction (``queued`` → ``sending``, only if still ``queued``, so two senders
can never both take it). Right after the server's answer the row becomes ``sent``
(plus the contact-history entry, same transaction) or ``failed`` with the
server's answer. If the connection breaks before the message body was handed
over, the row goes back to ``queued``. The only window where we cannot know is
between handing over the body and reading the server's "250" (a crash or a
dropped connection exactly then): such a row stays ``sending``, and
``send(..., resume=True)`` marks it ``skipped`` with the reason «не отправлено
повторно: …» instead of sending it again. We chose *at most once*: a mailing must
never reach anyone twice, and a rare lost message is visible in the log (the
user may write to that person by hand); the opposite choice would duplicate.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, BinaryIO, Protocol
from urllib.parse import quote

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from clientplus_core.base.errors import ConflictError, NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import files
from clientplus_core.outreach import consent, smtp
from clientplus_core.records import settings
from clientplus_core.sales import money
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, client_scope, require

#: personal fields: variable -> its attributes (``None``: a plain value)
FIELDS: dict[str, dict[str, str] | None] = {
    "client": {"name": "название клиента", "full_name": "полное название", "inn": "ИНН",
               "kpp": "КПП", "ogrn": "ОГРН", "email": "e-mail клиента",
               "phone": "телефон клиента", "director_name": "руководитель"},
    "contact": {"name": "ФИО контакта", "first_name": "имя (второе слово ФИО)",
                "last_name": "фамилия", "middle_name": "отчество", "post": "должность",
                "email": "e-mail контакта", "phone": "телефон контакта"},
    "sale": {"number": "номер продажи", "date": "дата продажи", "title": "название сделки",
             "total": "сумма продажи, «12 345,67 ₽»", "debt": "долг по этой продаже"},
    "manager": {"name": "ваш менеджер (ответственный за клиента)", "email": "e-mail менеджера",
                "phone": "телефон менеджера"},
    "debt": None,
    "unsubscribe": None,
}
FIELD_HELP = {"debt": "долг клиента по выставленным и не оплаченным счетам, «12 345,67 ₽»",
              "unsubscribe": "строка отписки (добавляется в конец письма, если её нет)"}

STATUSES = {"draft": ("Черновик", "Draft"), "sending": ("Отправляется", "Sending"),
            "interrupted": ("Прервана", "Interrupted"), "done": ("Отправлена", "Sent")}
RECIPIENT_STATUSES = {"queued": ("В очереди", "Queued"), "sending": ("Отправляется", "Sending"),
                      "sent": ("Отправлено", "Sent"), "failed": ("Ошибка", "Failed"),
                      "skipped": ("Пропущено", "Skipped")}
MAX_MESSAGE_BYTES = 10 * 1024 * 1024  # what most SMTP servers accept in one message
UNCERTAIN = ("не отправлено повторно: связь прервалась в момент передачи письма, "
             "сервер мог его принять")
LOG_HEADERS = ["№", "Адрес", "Получатель", "Клиент", "Продажа", "Статус", "Ответ сервера / причина",
               "Отправлено"]
_TOKEN_RE = re.compile(r"unsubscribe[\s\-:]*([0-9a-f]{20})", re.I)
_PARTS = {"subject": "Тема", "body_text": "Текст письма", "body_html": "HTML-версия"}


class RecipientLike(Protocol):
    """The shape of :class:`clientplus_core.outreach.addressbooks.Recipient`."""

    @property
    def client_id(self) -> int: ...
    @property
    def contact_id(self) -> int | None: ...
    @property
    def email(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def sale_id(self) -> int | None: ...


@dataclass(frozen=True)
class Target:
    """A recipient given directly (same fields as ``addressbooks.Recipient``)."""

    client_id: int
    contact_id: int | None
    email: str
    name: str
    sale_id: int | None = None


Progress = Callable[[int, int, dict[str, Any]], None]


# --- templates ---------------------------------------------------------------------------


def _env(html: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(undefined=StrictUndefined, autoescape=html,
                                keep_trailing_newline=True)


_TEXT_ENV = _env(False)
_HTML_ENV = _env(True)


def _stored_names(ast: nodes.Template) -> set[str]:
    return {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}


def _check_one(part: str, source: str, html: bool) -> list[str]:
    label = _PARTS[part]
    env = _HTML_ENV if html else _TEXT_ENV
    try:
        ast = env.parse(source)
        env.from_string(source)  # compiles: unknown filters/tests are errors too
    except TemplateSyntaxError as err:
        return [f"{label}, строка {err.lineno}: ошибка в шаблоне — {err.message}"]
    problems: list[str] = []
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
                ArithmeticError) as err:
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
    ctx: dict[str, Any] = {var: ({a: "x" for a in attrs} if attrs else "x")
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


def _context(conn: sqlite3.Connection, actor: Actor, rec: Mapping[str, Any], token: str,
             from_address: str) -> dict[str, Any]:
    client = conn.execute("SELECT * FROM clients WHERE id = ?", (rec["client_id"],)).fetchone()
    if client is None:
        raise NotFound(f"Клиент №{rec['client_id']} не найден")
    cdict = {k: client[k] for k in ("name", "full_name", "inn", "kpp", "ogrn", "email", "phone",
                                    "director_name")}
    contact: dict[str, Any] = dict.fromkeys(FIELDS["contact"] or {}, "")
    if rec.get("contact_id"):
        row = conn.execute("SELECT * FROM contacts WHERE id = ?", (rec["contact_id"],)).fetchone()
        if row is not None:
            last, first, middle = _split_name(row["name"])
            contact = {"name": row["name"], "first_name": first, "last_name": last,
                       "middle_name": middle, "post": row["post"], "email": row["email"],
                       "phone": row["phone"] or row["mobile"]}
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


def _render(m: Mapping[str, Any], ctx: dict[str, Any], from_address: str,
            token: str) -> tuple[str, str, str]:
    subject = _compiled(m["subject"], False).render(ctx)
    subject = " ".join(subject.split())
    text = _compiled(m["body_text"] or "", False).render(ctx)
    if "unsubscribe" not in _used_names(m["body_text"] or ""):
        text = text.rstrip("\n") + "\n\n--\n" + _unsubscribe_text(from_address, token) + "\n"
    html = ""
    if (m["body_html"] or "").strip():
        hctx = dict(ctx, unsubscribe=_unsubscribe_value(from_address, token, True))
        html = str(_compiled(m["body_html"], True).render(hctx))
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


# --- mailings: CRUD ----------------------------------------------------------------------


def _visible(conn: sqlite3.Connection, actor: Actor, mailing_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM mailings WHERE id = ? AND deleted_at IS NULL",
                       (mailing_id,)).fetchone()
    if row is None or not (actor.sees_everything or row["owner_id"] == actor.id):
        raise NotFound(f"Рассылка №{mailing_id} не найдена")
    return row


def _counts(conn: sqlite3.Connection, mailing_id: int) -> dict[str, int]:
    out = dict.fromkeys(RECIPIENT_STATUSES, 0)
    for r in conn.execute("SELECT status, COUNT(*) n FROM mailing_recipients WHERE mailing_id = ?"
                          " GROUP BY status", (mailing_id,)):
        out[r["status"]] = r["n"]
    out["total"] = sum(out[k] for k in RECIPIENT_STATUSES)
    return out


def _dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["counts"] = _counts(conn, row["id"])
    d["attachments"] = [dict(a) for a in conn.execute(
        "SELECT id, name, size, mime, sha256 FROM mailing_attachments WHERE mailing_id = ?"
        " ORDER BY id", (row["id"],))]
    book = conn.execute("SELECT name FROM address_books WHERE id = ?",
                        (row["book_id"],)).fetchone() if row["book_id"] else None
    d["book_name"] = book["name"] if book else ""
    return d


def _normalise(data: Mapping[str, Any]) -> dict[str, Any]:
    subject = clean(str(data.get("subject") or ""), 500)
    values: dict[str, Any] = {"subject": subject, "body_text": str(data.get("body_text") or ""),
              "body_html": str(data.get("body_html") or ""),
              "attach_invoice": 1 if data.get("attach_invoice") else 0,
              "book_id": int(data["book_id"]) if data.get("book_id") else None}
    errors: dict[str, str] = {}
    for problem in validate(values["subject"], values["body_text"], values["body_html"]):
        part = problem.split(",")[0].split(":")[0]
        key = {v: k for k, v in _PARTS.items()}.get(part, "template")
        errors[key] = (errors[key] + "; " if key in errors else "") + problem
    if errors:
        raise ValidationError(errors)
    return values


def _check_book(conn: sqlite3.Connection, store: Store, actor: Actor, book_id: int | None) -> None:
    if book_id is None:
        return
    from clientplus_core.outreach import addressbooks

    addressbooks.get_book(store, actor, book_id)  # NotFound outside the actor's scope


def create(store: Store, actor: Actor, data: Mapping[str, Any]) -> dict[str, Any]:
    """A new draft: ``book_id``, ``subject``, ``body_text``, ``body_html``, ``attach_invoice``."""
    require(actor, "mailing.manage")
    values = _normalise(data)
    ts = now_iso()
    with store.read() as conn:
        _check_book(conn, store, actor, values["book_id"])
    with store.write() as conn:
        cur = conn.execute(
            "INSERT INTO mailings (book_id, subject, body_text, body_html, attach_invoice,"
            " owner_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (values["book_id"], values["subject"], values["body_text"], values["body_html"],
             values["attach_invoice"], actor.id, ts, ts))
        mid = int(cur.lastrowid or 0)
        audit.record(conn, actor, "mailing.create", "mailing", mid, None, values["subject"])
        return _dict(conn, _visible(conn, actor, mid))


def update(store: Store, actor: Actor, mailing_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Change a draft (refused once sending has started, or if someone saved first)."""
    require(actor, "mailing.manage")
    values = _normalise(data)
    with store.read() as conn:
        _check_book(conn, store, actor, values["book_id"])
    with store.write() as conn:
        row = _visible(conn, actor, mailing_id)
        if row["status"] != "draft":
            raise UserError("Рассылка уже отправлялась — её нельзя изменить; создайте копию")
        if row["version"] != version:
            raise ConflictError("Рассылку уже изменили: обновите страницу")
        conn.execute("UPDATE mailings SET book_id = ?, subject = ?, body_text = ?, body_html = ?,"
                     " attach_invoice = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                     (values["book_id"], values["subject"], values["body_text"],
                      values["body_html"], values["attach_invoice"], now_iso(), mailing_id))
        audit.record(conn, actor, "mailing.update", "mailing", mailing_id, None,
                     values["subject"], audit.diff(dict(row), values))
        return _dict(conn, _visible(conn, actor, mailing_id))


def copy(store: Store, actor: Actor, mailing_id: int) -> dict[str, Any]:
    """A new draft with the same book, texts and attachments."""
    src = get(store, actor, mailing_id)
    new = create(store, actor, src)
    ts = now_iso()
    with store.write() as conn:
        conn.execute("INSERT INTO mailing_attachments (mailing_id, sha256, name, size, mime,"
                     " created_at, updated_at) SELECT ?, sha256, name, size, mime, ?, ?"
                     " FROM mailing_attachments WHERE mailing_id = ? ORDER BY id",
                     (new["id"], ts, ts, mailing_id))
    return get(store, actor, new["id"])


def delete(store: Store, actor: Actor, mailing_id: int) -> None:
    """Delete a mailing (marked deleted; its log stays for the audit)."""
    require(actor, "mailing.manage")
    with store.write() as conn:
        row = _visible(conn, actor, mailing_id)
        if row["status"] == "sending":
            raise UserError("Рассылка сейчас отправляется — удалить её нельзя")
        conn.execute("UPDATE mailings SET deleted_at = ?, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), now_iso(), mailing_id))
        audit.record(conn, actor, "mailing.delete", "mailing", mailing_id, None, row["subject"])


def get(store: Store, actor: Actor, mailing_id: int) -> dict[str, Any]:
    require(actor, "mailing.manage")
    with store.read() as conn:
        return _dict(conn, _visible(conn, actor, mailing_id))


def list_mailings(store: Store, actor: Actor) -> list[dict[str, Any]]:
    """The actor's mailings (all, for an admin or head), newest first, with counts."""
    require(actor, "mailing.manage")
    cond, args = ("1 = 1", []) if actor.sees_everything else ("m.owner_id = ?", [actor.id])
    with store.read() as conn:
        rows = conn.execute(
            "SELECT m.*, COALESCE(u.full_name, u.login, '') AS owner_name,"
            " COALESCE(b.name, '') AS book_name FROM mailings m"
            " LEFT JOIN users u ON u.id = m.owner_id"
            " LEFT JOIN address_books b ON b.id = m.book_id"
            f" WHERE m.deleted_at IS NULL AND {cond} ORDER BY m.id DESC", args).fetchall()
        return [dict(r) | {"counts": _counts(conn, r["id"])} for r in rows]


# --- attachments -------------------------------------------------------------------------


def attachment_limit(store: Store) -> int:
    """Largest total attachment size: the upload limit, but at most 10 MB per message."""
    return min(settings.upload_limit_bytes(store), MAX_MESSAGE_BYTES)


def _mb(size: int) -> str:
    return f"{size / (1 << 20):.1f}".replace(".", ",") + " МБ"


def add_attachment(store: Store, actor: Actor, mailing_id: int, name: str,
                   stream: BinaryIO | bytes, size_hint: int | None = None) -> dict[str, Any]:
    """Attach a file to a draft; refused (with its size) if over :func:`attachment_limit`
    together with the files already attached."""
    require(actor, "mailing.manage")
    import io

    fname = files.safe_name(name)
    limit = attachment_limit(store)
    if isinstance(stream, bytes):
        size_hint, stream = len(stream), io.BytesIO(stream)
    with store.read() as conn:
        row = _visible(conn, actor, mailing_id)
        if row["status"] != "draft":
            raise UserError("Рассылка уже отправлялась — вложения менять нельзя")
        used = int(conn.execute("SELECT COALESCE(SUM(size), 0) FROM mailing_attachments"
                                " WHERE mailing_id = ?", (mailing_id,)).fetchone()[0])
    room = limit - used
    if size_hint is not None and size_hint > room:
        raise ValidationError({"file": f"«{fname}»: {_mb(size_hint)} — больше допустимого для "
                                       f"письма ({_mb(limit)} на все вложения"
                                       f"{', уже занято ' + _mb(used) if used else ''})"})
    try:
        sha, size = files.put_blob(store, stream, room)
    except ValidationError:
        raise ValidationError({"file": f"«{fname}»: файл больше допустимого для письма "
                                       f"({_mb(limit)} на все вложения)"}) from None
    mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
    ts = now_iso()
    with store.write() as conn:
        _visible(conn, actor, mailing_id)
        conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, text, created_at)"
                     " VALUES (?,?,?,?,?)", (sha, size, "none", "", ts))
        cur = conn.execute("INSERT INTO mailing_attachments (mailing_id, sha256, name, size, mime,"
                           " created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
                           (mailing_id, sha, fname, size, mime, ts, ts))
        audit.record(conn, actor, "mailing.attach", "mailing", mailing_id, None, fname,
                     {"size": size})
        return {"id": cur.lastrowid, "name": fname, "size": size, "mime": mime, "sha256": sha}


def remove_attachment(store: Store, actor: Actor, mailing_id: int, attachment_id: int) -> None:
    require(actor, "mailing.manage")
    with store.write() as conn:
        row = _visible(conn, actor, mailing_id)
        if row["status"] != "draft":
            raise UserError("Рассылка уже отправлялась — вложения менять нельзя")
        conn.execute("DELETE FROM mailing_attachments WHERE id = ? AND mailing_id = ?",
                     (attachment_id, mailing_id))
        audit.record(conn, actor, "mailing.detach", "mailing", mailing_id, None,
                     str(attachment_id))


def _attachments(store: Store, conn: sqlite3.Connection,
                 mailing_id: int) -> list[tuple[str, bytes, str]]:
    out = []
    for a in conn.execute("SELECT * FROM mailing_attachments WHERE mailing_id = ? ORDER BY id",
                          (mailing_id,)):
        out.append((a["name"], files.blob_path(store, a["sha256"]).read_bytes(), a["mime"]))
    return out


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _invoice(store: Store, actor: Actor, sale_id: int | None,
             draft: bool) -> tuple[str, bytes, str] | None:
    """The invoice of a recipient's sale: the latest one already issued, else a new one
    (numbered and saved to the sale's files); ``draft`` renders an unnumbered preview."""
    if not sale_id:
        return None
    from clientplus_core.sales import documents

    with store.read() as conn:
        row = conn.execute(
            "SELECT f.name, f.sha256 FROM documents d JOIN files f ON f.id = d.file_id"
            " WHERE d.sale_id = ? AND d.kind = 'invoice' AND f.deleted_at IS NULL"
            " ORDER BY d.id DESC LIMIT 1", (sale_id,)).fetchone()
    if row is not None:
        return row["name"], files.blob_path(store, row["sha256"]).read_bytes(), DOCX
    name, data = documents.render(store, actor, sale_id, "invoice", attach=not draft)
    return name, data, DOCX


# --- recipients, preview, test -----------------------------------------------------------


def book_recipients(store: Store, actor: Actor, mailing: Mapping[str, Any]
                    ) -> tuple[list[RecipientLike], list[Any]]:
    """The address book's recipients now (and the skipped ones), for a draft."""
    if not mailing.get("book_id"):
        return [], []
    from clientplus_core.outreach import addressbooks

    recs, skipped = addressbooks.email_recipients(store, actor, int(mailing["book_id"]))
    return list(recs), list(skipped)


def recipients(store: Store, actor: Actor, mailing_id: int) -> list[dict[str, Any]]:
    """Who the mailing goes (or went) to: the log once queued, else the book now."""
    m = get(store, actor, mailing_id)
    if m["counts"]["total"]:
        return log(store, actor, mailing_id)
    recs, _ = book_recipients(store, actor, m)
    return [_rec_dict(r) for r in recs]


def _rec_dict(r: RecipientLike) -> dict[str, Any]:
    return {"client_id": r.client_id, "contact_id": r.contact_id, "email": r.email,
            "name": r.name, "sale_id": r.sale_id}


def preview(store: Store, actor: Actor, mailing_id: int,
            recipient: RecipientLike | Mapping[str, Any] | None = None,
            data: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The message as ``recipient`` would get it (default: the first recipient):
    ``to``, ``name``, ``subject``, ``text``, ``html``, ``attachments`` (names).
    ``data`` previews unsaved texts (subject, body_text, body_html)."""
    m = get(store, actor, mailing_id)
    texts = dict(m) | dict(data or {})
    check_templates(texts["subject"], texts["body_text"], texts["body_html"])
    if recipient is None:
        recs = recipients(store, actor, mailing_id)
        if not recs:
            raise UserError("В адресной книге нет получателей с e-mail")
        rec = recs[0]
    elif isinstance(recipient, Mapping):
        rec = dict(recipient)
    else:
        rec = _rec_dict(recipient)
    cfg = smtp.config_from(settings.get(store, "smtp") or {}, password="")
    token = rec.get("token") or "0" * 20
    with store.read() as conn:
        client_visible(conn, actor, int(rec["client_id"]))
        ctx = _context(conn, actor, rec, token, cfg.from_address or "noreply@example.ru")
        names = [a["name"] for a in m["attachments"]]
    subject, text, html = _render(texts, ctx, cfg.from_address or "noreply@example.ru", token)
    if m["attach_invoice"]:
        names.append("Счёт по продаже получателя" if rec.get("sale_id") else
                     "(у получателя нет продажи — счёт не прикладывается)")
    return {"to": rec["email"], "name": rec.get("name", ""), "subject": subject, "text": text,
            "html": html, "attachments": names}


def client_visible(conn: sqlite3.Connection, actor: Actor, client_id: int) -> bool:
    cond, args = client_scope(actor)
    row = conn.execute(f"SELECT 1 FROM clients c WHERE c.id = ? AND c.deleted_at IS NULL"
                       f" AND {cond}", [client_id, *args]).fetchone()
    if row is None:
        raise NotFound(f"Клиент №{client_id} не найден")
    return True


def _reply_to(store: Store, actor: Actor, cfg: smtp.SmtpConfig) -> str:
    with store.read() as conn:
        row = conn.execute("SELECT email FROM users WHERE id = ?", (actor.id,)).fetchone()
    return (row["email"] if row and row["email"] else "") or cfg.reply_to


def test_send(store: Store, actor: Actor, mailing_id: int, to: str,
              config: smtp.SmtpConfig | None = None) -> str:
    """Send the message rendered for the first recipient to ``to`` (subject «[Тест] …»).
    Nothing is logged against the recipients."""
    require(actor, "mailing.send")
    from clientplus_core.records.validation import check_email

    try:
        address = check_email((to or "").strip())
    except ValueError as err:
        raise ValidationError({"to": f"Адрес для теста: {err}"}) from None
    m = get(store, actor, mailing_id)
    cfg = config or smtp.load_config(store)
    recs = recipients(store, actor, mailing_id)
    if not recs:
        raise UserError("В адресной книге нет получателей с e-mail — тест не на ком показать")
    rec = recs[0]
    token = "0" * 20
    with store.read() as conn:
        ctx = _context(conn, actor, rec, token, cfg.from_address)
        atts = _attachments(store, conn, mailing_id)
    subject, text, html = _render(m, ctx, cfg.from_address, token)
    if m["attach_invoice"]:
        inv = _invoice(store, actor, rec.get("sale_id"), draft=True)
        if inv:
            atts.append(inv)
    msg = smtp.build_message(cfg, address, "[Тест] " + subject, text, html or None, atts,
                             {"List-Unsubscribe": list_unsubscribe_header(cfg.from_address,
                                                                          token)},
                             reply_to=_reply_to(store, actor, cfg) or None)
    with smtp.connect(cfg) as conn_smtp:
        smtp.send(conn_smtp, msg)
    with store.write() as conn:
        audit.record(conn, actor, "mailing.test", "mailing", mailing_id, None, address)
    return f"Тестовое письмо отправлено на {address} (показано как для {rec['email']})"


# --- sending -----------------------------------------------------------------------------


def _queue(conn: sqlite3.Connection, mailing_id: int, recs: Sequence[RecipientLike],
           skipped: Sequence[Any]) -> int:
    ts = now_iso()
    n = 0
    for r in recs:
        cur = conn.execute(
            "INSERT OR IGNORE INTO mailing_recipients (mailing_id, client_id, contact_id, sale_id,"
            " email, name, status, token, created_at, updated_at)"
            " VALUES (?,?,?,?,?,?,'queued',?,?,?)",
            (mailing_id, r.client_id, r.contact_id, r.sale_id, r.email.strip(), r.name,
             secrets.token_hex(10), ts, ts))
        n += cur.rowcount
    for s in skipped:
        value = (getattr(s, "value", "") or "").strip()
        if not value or "@" not in value:
            value = f"{value or '—'} (клиент №{s.client_id}"
            value += f", контакт №{s.contact_id})" if getattr(s, "contact_id", None) else ")"
        conn.execute(
            "INSERT OR IGNORE INTO mailing_recipients (mailing_id, client_id, contact_id, email,"
            " name, status, detail, token, created_at, updated_at)"
            " VALUES (?,?,?,?,'','skipped',?,?,?,?)",
            (mailing_id, s.client_id, getattr(s, "contact_id", None), value, s.reason,
             secrets.token_hex(10), ts, ts))
    return n


def _set_recipient(conn: sqlite3.Connection, rid: int, status: str, detail: str = "",
                   message_id: str = "") -> None:
    ts = now_iso()
    conn.execute("UPDATE mailing_recipients SET status = ?, detail = ?, message_id = ?,"
                 " sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, updated_at = ?,"
                 " version = version + 1 WHERE id = ?",
                 (status, detail[:1000], message_id, status, ts, ts, rid))


def _set_mailing(conn: sqlite3.Connection, mailing_id: int, **values: Any) -> None:
    values["updated_at"] = now_iso()
    sets = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE mailings SET {sets}, version = version + 1 WHERE id = ?",
                 [*values.values(), mailing_id])


def _skip_reason(conn: sqlite3.Connection, actor: Actor, rec: Mapping[str, Any]) -> str:
    """Why a queued recipient must not get the message now ('' if it may)."""
    try:
        client_visible(conn, actor, int(rec["client_id"]))
    except NotFound:
        return "клиент недоступен отправителю (не его клиент или удалён)"
    try:
        norm = consent.normalise_value("email", rec["email"])
    except ValueError as err:
        return f"неверный адрес: {err}"
    row = consent.lookup(conn, "email", norm)
    if row is not None and row["status"] == "optout":
        return consent.optout_reason(dict(row))
    return ""


def send(store: Store, actor: Actor, mailing_id: int, *, resume: bool = False,
         progress: Progress | None = None, config: smtp.SmtpConfig | None = None,
         recipients_override: Sequence[RecipientLike] | None = None,
         sleep: Callable[[float], None] = time.sleep,
         clock: Callable[[], float] = time.monotonic) -> dict[str, Any]:
    """Send (or with ``resume`` continue) a mailing; returns the counts plus
    ``interrupted`` (the reason, '' if it finished). See the module notes for the
    crash window. ``recipients_override`` queues given recipients instead of the
    address book (for scripts and benchmarks)."""
    require(actor, "mailing.send")
    m = get(store, actor, mailing_id)
    if m["status"] == "done":
        raise UserError(f"Рассылка №{mailing_id} уже отправлена")
    if m["status"] in ("sending", "interrupted") and not resume:
        raise UserError(f"Рассылка №{mailing_id} уже начата — продолжите её "
                        "(«Продолжить» / --resume), чтобы никому не отправить дважды")
    check_templates(m["subject"], m["body_text"], m["body_html"])
    total_att = sum(a["size"] for a in m["attachments"])
    if total_att > MAX_MESSAGE_BYTES:
        raise ValidationError({"file": f"вложения занимают {_mb(total_att)} — больше "
                                       f"{_mb(MAX_MESSAGE_BYTES)} на письмо"})
    cfg = config or smtp.load_config(store)
    reply_to = _reply_to(store, actor, cfg) or None
    rate = int(settings.get(store, "mail_rate_per_minute") or 0)
    interval = 60.0 / rate if rate > 0 else 0.0

    if m["status"] == "draft":
        if recipients_override is not None:
            recs, skipped = list(recipients_override), list[Any]()
        else:
            if not m["book_id"]:
                raise UserError("Выберите адресную книгу")
            recs, skipped = book_recipients(store, actor, m)
        if not recs:
            raise UserError("В адресной книге нет получателей с e-mail — отправлять некому")

    with smtp.connect(cfg) as server:  # connection problems raise here: nothing changed yet
        with store.write() as conn:
            row = _visible(conn, actor, mailing_id)
            if row["status"] == "draft":
                queued = _queue(conn, mailing_id, recs, skipped)
                audit.record(conn, actor, "mailing.send", "mailing", mailing_id, None,
                             m["subject"], {"queued": queued, "skipped": len(skipped)})
            elif row["status"] == "done":
                raise UserError(f"Рассылка №{mailing_id} уже отправлена")
            else:
                uncertain = conn.execute(
                    "UPDATE mailing_recipients SET status = 'skipped', detail = ?,"
                    " updated_at = ?, version = version + 1"
                    " WHERE mailing_id = ? AND status = 'sending'",
                    (UNCERTAIN, now_iso(), mailing_id)).rowcount
                audit.record(conn, actor, "mailing.resume", "mailing", mailing_id, None,
                             m["subject"], {"uncertain": uncertain})
            _set_mailing(conn, mailing_id, status="sending", sent_by=actor.id, last_error="",
                         started_at=row["started_at"] or now_iso())
        with store.read() as conn:
            atts = _attachments(store, conn, mailing_id)
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM mailing_recipients WHERE mailing_id = ? AND status = 'queued'"
                " ORDER BY id", (mailing_id,))]
            counts = _counts(conn, mailing_id)
        total = counts["total"]
        done = total - counts["queued"]
        interrupted = ""
        next_at = clock()
        tx, db_close = _short_transactions(store)
        try:
            for rid in ids:
                if interval:
                    wait = next_at - clock()
                    if wait > 0:
                        sleep(wait)
                # claim the row in its own short transaction
                with tx() as conn:
                    rec = conn.execute("SELECT * FROM mailing_recipients WHERE id = ? AND"
                                       " status = 'queued'", (rid,)).fetchone()
                    if rec is None:
                        continue
                    rec = dict(rec)
                    reason = _skip_reason(conn, actor, rec)
                    _set_recipient(conn, rid, "skipped" if reason else "sending", reason)
                if reason:
                    done += 1
                    _report(progress, done, total, rec | {"status": "skipped", "detail": reason})
                    continue
                try:
                    with tx(read=True) as conn:
                        ctx = _context(conn, actor, rec, rec["token"], cfg.from_address)
                    subject, text, html = _render(m, ctx, cfg.from_address, rec["token"])
                    extra = list(atts)
                    if m["attach_invoice"]:
                        inv = _invoice(store, actor, rec["sale_id"], draft=False)
                        if inv:
                            extra.append(inv)
                    msg = smtp.build_message(
                        cfg, rec["email"], subject, text, html or None, extra,
                        {"List-Unsubscribe": list_unsubscribe_header(cfg.from_address,
                                                                     rec["token"])},
                        to_name=rec["name"], reply_to=reply_to)
                except (UserError, TemplateError, OSError, ValueError) as err:
                    with tx() as conn:
                        _set_recipient(conn, rid, "failed", f"письмо не собрано: {err}")
                    done += 1
                    _report(progress, done, total, rec | {"status": "failed", "detail": str(err)})
                    continue
                next_at = clock() + interval
                try:
                    smtp.send(server, msg)
                except smtp.SendError as err:
                    with tx() as conn:
                        _set_recipient(conn, rid, "failed", f"{err.code} {err.server_text}")
                    done += 1
                    answer = f"{err.code} {err.server_text}"
                    _report(progress, done, total, rec | {"status": "failed", "detail": answer})
                    continue
                except smtp.ConnectionLost as err:
                    with tx() as conn:
                        if not err.maybe_delivered:
                            _set_recipient(conn, rid, "queued", "")
                        interrupted = str(err)
                        _set_mailing(conn, mailing_id, status="interrupted", last_error=interrupted)
                    break
                with tx() as conn:
                    _set_recipient(conn, rid, "sent", "250 OK", str(msg["Message-ID"]))
                    _history(conn, actor, rec, subject)
                done += 1
                _report(progress, done, total, rec | {"status": "sent", "detail": ""})
        finally:
            db_close()
    with store.write() as conn:
        counts = _counts(conn, mailing_id)
        if not interrupted:
            if counts["queued"] or counts["sending"]:
                interrupted = "не все получатели обработаны"
                _set_mailing(conn, mailing_id, status="interrupted", last_error=interrupted)
            else:
                _set_mailing(conn, mailing_id, status="done", finished_at=now_iso())
        audit.record(conn, actor, "mailing.result", "mailing", mailing_id, None, m["subject"],
                     {k: counts[k] for k in ("sent", "failed", "skipped", "queued")})
    return counts | {"interrupted": interrupted}


def _short_transactions(store: Store) -> tuple[Callable[..., Any], Callable[[], None]]:
    """One connection for a whole send run (opening and closing one per recipient
    costs more than the SMTP conversation: the last close checkpoints the WAL), with
    each write still its own short ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction."""
    from contextlib import contextmanager

    from clientplus_core.store.db import connect, transaction

    conn = connect(store.db_path)

    @contextmanager
    def tx(read: bool = False) -> Iterator[sqlite3.Connection]:
        if read:
            yield conn
            return
        with transaction(conn):
            yield conn

    return tx, conn.close


def _report(progress: Progress | None, done: int, total: int, rec: dict[str, Any]) -> None:
    if progress is not None:
        progress(done, total, rec)


def _history(conn: sqlite3.Connection, actor: Actor, rec: Mapping[str, Any], subject: str) -> None:
    ts = now_iso()
    sale_id = rec["sale_id"]
    if sale_id and conn.execute("SELECT 1 FROM sales WHERE id = ? AND deleted_at IS NULL",
                                (sale_id,)).fetchone() is None:
        sale_id = None
    conn.execute(
        "INSERT INTO interactions (client_id, sale_id, contact_id, at, channel, subject,"
        " outcome, user_id, created_at, updated_at) VALUES (?,?,?,?,'email',?,?,?,?,?)",
        (rec["client_id"], sale_id, rec["contact_id"], ts, f"Рассылка: {subject}"[:500],
         f"отправлено на {rec['email']}", actor.id, ts, ts))


# --- log, export, unsubscribe -------------------------------------------------------------


def log(store: Store, actor: Actor, mailing_id: int) -> list[dict[str, Any]]:
    """The per-recipient log (queued / sending / sent / failed / skipped)."""
    require(actor, "mailing.manage")
    with store.read() as conn:
        _visible(conn, actor, mailing_id)
        return [dict(r) for r in conn.execute(
            "SELECT r.*, COALESCE(c.name, '') AS client_name, COALESCE(s.number, '') AS sale_number"
            " FROM mailing_recipients r LEFT JOIN clients c ON c.id = r.client_id"
            " LEFT JOIN sales s ON s.id = r.sale_id WHERE r.mailing_id = ? ORDER BY r.id",
            (mailing_id,))]


def log_rows(rows: Sequence[Mapping[str, Any]]) -> list[list[object]]:
    return [[i, r["email"], r["name"], r["client_name"], r["sale_number"],
             RECIPIENT_STATUSES[r["status"]][0], r["detail"], r["sent_at"] or ""]
            for i, r in enumerate(rows, 1)]


def export_log(store: Store, actor: Actor, mailing_id: int) -> bytes:
    """The log as an Excel workbook (cells formula-injection safe)."""
    from clientplus_core.clients.export import rows_to_xlsx

    return rows_to_xlsx(LOG_HEADERS, log_rows(log(store, actor, mailing_id)), sheet="Журнал")


def token_from(text: str) -> str:
    """The unsubscribe token in a reply subject («unsubscribe 3f…»), or the token itself."""
    text = (text or "").strip()
    found = _TOKEN_RE.search(text)
    if found:
        return found.group(1).lower()
    if re.fullmatch(r"[0-9a-fA-F]{20}", text):
        return text.lower()
    raise ValidationError({"token": "Код отписки не найден: вставьте тему письма "
                                    "«unsubscribe …» или сам код из 20 знаков"})


def unsubscribe(store: Store, token: str, actor: Actor | None = None) -> dict[str, Any]:
    """Record the opt-out of the recipient the token was issued to (idempotent)."""
    tok = token_from(token)
    with store.read() as conn:
        row = conn.execute("SELECT r.email, r.mailing_id, r.client_id FROM mailing_recipients r"
                           " WHERE r.token = ?", (tok,)).fetchone()
    if row is None:
        raise NotFound("Код отписки не найден — возможно, письмо было тестовым")
    consent.record_optout(store, actor, "email", row["email"], "ссылка отписки",
                          f"рассылка №{row['mailing_id']}")
    return {"email": row["email"], "mailing_id": row["mailing_id"], "client_id": row["client_id"]}


def rub(kop: int) -> str:
    """«12 345,67 ₽» (for the UI)."""
    return _rub(kop)

