"""Sending a mailing: one message per recipient with a rate limit and a
per-recipient log that survives crashes; unsubscribing by the token in a reply.

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

import re
import secrets
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from jinja2.exceptions import TemplateError

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.outreach import consent, smtp
from clientplus_core.outreach.mail_templates import (
    check_templates,
    list_unsubscribe_header,
    recipient_context,
    render,
)
from clientplus_core.outreach.mailing import (
    MAX_MESSAGE_BYTES,
    RecipientLike,
    attachment_files,
    book_recipients,
    check_recipient,
    get,
    megabytes,
    recipient_counts,
    reply_address,
    sale_invoice,
    visible_mailing,
)
from clientplus_core.records import settings
from clientplus_core.records.visibility import check_visible
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

UNCERTAIN = ("не отправлено повторно: связь прервалась в момент передачи письма, "
             "сервер мог его принять")
_TOKEN_RE = re.compile(r"unsubscribe[\s\-:]*([0-9a-f]{20})", re.I)


Progress = Callable[[int, int, dict[str, Any]], None]


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
        check_visible(conn, actor, int(rec["client_id"]))
    except NotFound:
        return "клиент недоступен отправителю (не его клиент или удалён)"
    try:
        check_recipient(conn, actor, rec)
    except NotFound:
        return "контакт или продажа недоступны отправителю (не его клиента или удалены)"
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
        raise ValidationError({"file": f"вложения занимают {megabytes(total_att)} — больше "
                                       f"{megabytes(MAX_MESSAGE_BYTES)} на письмо"})
    cfg = config or smtp.load_config(store)
    reply_to = reply_address(store, actor, cfg) or None
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
            row = visible_mailing(conn, actor, mailing_id)
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
            atts = attachment_files(store, conn, mailing_id)
            ids = [r[0] for r in conn.execute(
                "SELECT id FROM mailing_recipients WHERE mailing_id = ? AND status = 'queued'"
                " ORDER BY id", (mailing_id,))]
            counts = recipient_counts(conn, mailing_id)
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
                        ctx = recipient_context(conn, actor, rec, rec["token"], cfg.from_address)
                    subject, text, html = render(m, ctx, cfg.from_address, rec["token"])
                    extra = list(atts)
                    if m["attach_invoice"]:
                        inv = sale_invoice(store, actor, rec["sale_id"], draft=False)
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
        counts = recipient_counts(conn, mailing_id)
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


# --- unsubscribe --------------------------------------------------------------------------


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
