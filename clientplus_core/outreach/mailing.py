"""E-mail mailings: an address book, a subject and bodies with personal fields,
attachments; a test send, the recipients, the preview and the per-recipient log.

The templates and what they are rendered with live in
:mod:`clientplus_core.outreach.mail_templates`; sending a mailing (one message per
recipient, with a rate limit and a log that survives crashes) and unsubscribing in
:mod:`clientplus_core.outreach.sending`.
"""

from __future__ import annotations

import mimetypes
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from clientplus_core.base.errors import ConflictError, NotFound, UserError, ValidationError
from clientplus_core.base.textnorm import clean
from clientplus_core.clients import files
from clientplus_core.outreach import smtp
from clientplus_core.outreach.mail_templates import (
    MAX_MESSAGE_BYTES,
    PARTS,
    check_templates,
    list_unsubscribe_header,
    recipient_context,
    render,
    validate,
)
from clientplus_core.records import settings
from clientplus_core.records.visibility import check_visible
from clientplus_core.sales.common import visible as visible_sale
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

STATUSES = {"draft": ("Черновик", "Draft"), "sending": ("Отправляется", "Sending"),
            "interrupted": ("Прервана", "Interrupted"), "done": ("Отправлена", "Sent")}
RECIPIENT_STATUSES = {"queued": ("В очереди", "Queued"), "sending": ("Отправляется", "Sending"),
                      "sent": ("Отправлено", "Sent"), "failed": ("Ошибка", "Failed"),
                      "skipped": ("Пропущено", "Skipped")}
LOG_HEADERS = ["№", "Адрес", "Получатель", "Клиент", "Продажа", "Статус", "Ответ сервера / причина",
               "Отправлено"]


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


# --- mailings: CRUD ----------------------------------------------------------------------


def visible_mailing(conn: sqlite3.Connection, actor: Actor, mailing_id: int) -> sqlite3.Row:
    """The live mailing row if ``actor`` may see it; NotFound otherwise."""
    row = conn.execute("SELECT * FROM mailings WHERE id = ? AND deleted_at IS NULL",
                       (mailing_id,)).fetchone()
    if row is None or not (actor.sees_everything or row["owner_id"] == actor.id):
        raise NotFound(f"Рассылка №{mailing_id} не найдена")
    return row


def recipient_counts(conn: sqlite3.Connection, mailing_id: int) -> dict[str, int]:
    """The mailing's recipients per status, plus ``total``."""
    out = dict.fromkeys(RECIPIENT_STATUSES, 0)
    for r in conn.execute("SELECT status, COUNT(*) n FROM mailing_recipients WHERE mailing_id = ?"
                          " GROUP BY status", (mailing_id,)):
        out[r["status"]] = r["n"]
    out["total"] = sum(out[k] for k in RECIPIENT_STATUSES)
    return out


def _dict(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    d = dict(row)
    d["counts"] = recipient_counts(conn, row["id"])
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
        key = {v: k for k, v in PARTS.items()}.get(part, "template")
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
        return _dict(conn, visible_mailing(conn, actor, mid))


def update(store: Store, actor: Actor, mailing_id: int, data: Mapping[str, Any],
           version: int) -> dict[str, Any]:
    """Change a draft (refused once sending has started, or if someone saved first)."""
    require(actor, "mailing.manage")
    values = _normalise(data)
    with store.read() as conn:
        _check_book(conn, store, actor, values["book_id"])
    with store.write() as conn:
        row = visible_mailing(conn, actor, mailing_id)
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
        return _dict(conn, visible_mailing(conn, actor, mailing_id))


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
        row = visible_mailing(conn, actor, mailing_id)
        if row["status"] == "sending":
            raise UserError("Рассылка сейчас отправляется — удалить её нельзя")
        conn.execute("UPDATE mailings SET deleted_at = ?, updated_at = ?, version = version + 1"
                     " WHERE id = ?", (now_iso(), now_iso(), mailing_id))
        audit.record(conn, actor, "mailing.delete", "mailing", mailing_id, None, row["subject"])


def get(store: Store, actor: Actor, mailing_id: int) -> dict[str, Any]:
    require(actor, "mailing.manage")
    with store.read() as conn:
        return _dict(conn, visible_mailing(conn, actor, mailing_id))


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
        return [dict(r) | {"counts": recipient_counts(conn, r["id"])} for r in rows]


# --- attachments -------------------------------------------------------------------------


def attachment_limit(store: Store) -> int:
    """Largest total attachment size: the upload limit, but at most 10 MB per message."""
    return min(settings.upload_limit_bytes(store), MAX_MESSAGE_BYTES)


def megabytes(size: int) -> str:
    """A size as «1,5 МБ»."""
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
        row = visible_mailing(conn, actor, mailing_id)
        if row["status"] != "draft":
            raise UserError("Рассылка уже отправлялась — вложения менять нельзя")
        used = int(conn.execute("SELECT COALESCE(SUM(size), 0) FROM mailing_attachments"
                                " WHERE mailing_id = ?", (mailing_id,)).fetchone()[0])
    room = limit - used
    if size_hint is not None and size_hint > room:
        raise ValidationError({"file": f"«{fname}»: {megabytes(size_hint)} — больше допустимого"
                                       f" для письма ({megabytes(limit)} на все вложения"
                                       f"{', уже занято ' + megabytes(used) if used else ''})"})
    try:
        sha, size = files.put_blob(store, stream, room)
    except ValidationError:
        raise ValidationError({"file": f"«{fname}»: файл больше допустимого для письма "
                                       f"({megabytes(limit)} на все вложения)"}) from None
    mime = mimetypes.guess_type(fname)[0] or "application/octet-stream"
    ts = now_iso()
    with store.write() as conn:
        visible_mailing(conn, actor, mailing_id)
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
        row = visible_mailing(conn, actor, mailing_id)
        if row["status"] != "draft":
            raise UserError("Рассылка уже отправлялась — вложения менять нельзя")
        conn.execute("DELETE FROM mailing_attachments WHERE id = ? AND mailing_id = ?",
                     (attachment_id, mailing_id))
        audit.record(conn, actor, "mailing.detach", "mailing", mailing_id, None,
                     str(attachment_id))


def attachment_files(store: Store, conn: sqlite3.Connection,
                     mailing_id: int) -> list[tuple[str, bytes, str]]:
    """The mailing's attachments as ``(name, content, mime)``."""
    out = []
    for a in conn.execute("SELECT * FROM mailing_attachments WHERE mailing_id = ? ORDER BY id",
                          (mailing_id,)):
        out.append((a["name"], files.blob_path(store, a["sha256"]).read_bytes(), a["mime"]))
    return out


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def sale_invoice(store: Store, actor: Actor, sale_id: int | None,
                 draft: bool) -> tuple[str, bytes, str] | None:
    """The invoice of a recipient's sale: the latest one already issued, else a new one
    (numbered and saved to the sale's files); ``draft`` renders an unnumbered preview."""
    if not sale_id:
        return None
    from clientplus_core.sales import documents

    require(actor, "document.generate")
    with store.read() as conn:
        visible_sale(conn, actor, int(sale_id))  # NotFound outside the actor's scope
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


def check_recipient(conn: sqlite3.Connection, actor: Actor, rec: Mapping[str, Any]) -> None:
    """NotFound unless the recipient's client, contact and sale are all in ``actor``'s
    scope (a contact or sale outside it is refused like an unknown id, naming nothing)."""
    check_visible(conn, actor, int(rec["client_id"]))
    if rec.get("contact_id"):
        row = conn.execute("SELECT client_id FROM contacts WHERE id = ? AND deleted_at IS NULL",
                           (int(rec["contact_id"]),)).fetchone()
        try:
            if row is None:
                raise NotFound("")
            check_visible(conn, actor, row["client_id"])
        except NotFound:
            raise NotFound(f"Контакт №{rec['contact_id']} не найден") from None
    if rec.get("sale_id"):
        visible_sale(conn, actor, int(rec["sale_id"]))


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
        check_recipient(conn, actor, rec)
        ctx = recipient_context(conn, actor, rec, token, cfg.from_address or "noreply@example.ru")
        names = [a["name"] for a in m["attachments"]]
    subject, text, html = render(texts, ctx, cfg.from_address or "noreply@example.ru", token)
    if m["attach_invoice"]:
        names.append("Счёт по продаже получателя" if rec.get("sale_id") else
                     "(у получателя нет продажи — счёт не прикладывается)")
    return {"to": rec["email"], "name": rec.get("name", ""), "subject": subject, "text": text,
            "html": html, "attachments": names}


def reply_address(store: Store, actor: Actor, cfg: smtp.SmtpConfig) -> str:
    """Reply-To of the actor's messages: their own e-mail, else the configured one."""
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
        ctx = recipient_context(conn, actor, rec, token, cfg.from_address)
        atts = attachment_files(store, conn, mailing_id)
    subject, text, html = render(m, ctx, cfg.from_address, token)
    if m["attach_invoice"]:
        inv = sale_invoice(store, actor, rec.get("sale_id"), draft=True)
        if inv:
            atts.append(inv)
    msg = smtp.build_message(cfg, address, "[Тест] " + subject, text, html or None, atts,
                             {"List-Unsubscribe": list_unsubscribe_header(cfg.from_address,
                                                                          token)},
                             reply_to=reply_address(store, actor, cfg) or None)
    with smtp.connect(cfg) as conn_smtp:
        smtp.send(conn_smtp, msg)
    with store.write() as conn:
        audit.record(conn, actor, "mailing.test", "mailing", mailing_id, None, address)
    return f"Тестовое письмо отправлено на {address} (показано как для {rec['email']})"


# --- log, export --------------------------------------------------------------------------


def log(store: Store, actor: Actor, mailing_id: int) -> list[dict[str, Any]]:
    """The per-recipient log (queued / sending / sent / failed / skipped)."""
    require(actor, "mailing.manage")
    with store.read() as conn:
        visible_mailing(conn, actor, mailing_id)
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
