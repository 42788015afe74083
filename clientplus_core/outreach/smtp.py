"""Sending e-mail through a real SMTP server with the standard library.

Settings (``settings.get(store, "smtp")``, admin-editable on the «Почта» tab):
host, port, security (``"ssl"`` | ``"starttls"`` | ``"none"``), login,
from_name, from_address, reply_to, timeout. The password is never stored in the
database: it comes from the environment variable ``CLIENTPLUS_SMTP_PASSWORD``,
else from ``.streamlit/secrets.toml`` section ``[smtp]`` key ``password``
(looked up like :mod:`clientplus_core.requisites.dadata`: the working directory, then the
project folder). ``CLIENTPLUS_SMTP_CAFILE`` (or ``cafile`` in the same secrets
section) adds a trusted CA file, e.g. for a company relay with its own CA.

Every failure a user can meet (wrong password, refused connection, refused
recipient, certificate error) becomes a :class:`~clientplus_core.base.errors.UserError`
carrying the server's own answer (code + text), never a traceback.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from clientplus_core.base.errors import UserError
from clientplus_core.store import config
from clientplus_core.store.db import Store

ENV_PASSWORD = "CLIENTPLUS_SMTP_PASSWORD"
ENV_CAFILE = "CLIENTPLUS_SMTP_CAFILE"
SECURITY = ("ssl", "starttls", "none")
PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Presets for common Russian providers (the login is the full mailbox address;
#: both want an "app password" created in the mailbox settings).
PRESETS: dict[str, dict[str, Any]] = {
    "Яндекс (smtp.yandex.ru)": {"host": "smtp.yandex.ru", "port": 465, "security": "ssl"},
    "Mail.ru (smtp.mail.ru)": {"host": "smtp.mail.ru", "port": 465, "security": "ssl"},
}

DEFAULT_SETTINGS: dict[str, Any] = {
    "host": "", "port": 465, "security": "ssl", "login": "", "from_name": "",
    "from_address": "", "reply_to": "", "timeout": 30,
}


class SendError(UserError):
    """The server refused one message (sender, recipient or content)."""

    def __init__(self, recipient: str, code: int, server_text: str):
        self.recipient = recipient
        self.code = code
        self.server_text = server_text
        super().__init__(f"{recipient}: сервер ответил {code} {server_text}".strip())


class ConnectionLost(UserError):
    """The connection broke while sending one message.

    ``maybe_delivered`` is True when the break came after the message body was
    handed to the server and before its answer: the server may have accepted it.
    """

    def __init__(self, recipient: str, detail: str, maybe_delivered: bool):
        self.recipient = recipient
        self.detail = detail
        self.maybe_delivered = maybe_delivered
        super().__init__(f"Соединение с почтовым сервером прервано ({recipient}): {detail}")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: str  # "ssl" | "starttls" | "none"
    login: str
    password: str
    from_name: str
    from_address: str
    reply_to: str
    timeout: float


def secrets_files() -> list[Path]:
    """Where ``secrets.toml`` is looked for: the working directory, then the project."""
    return config.secrets_files(PROJECT_ROOT)


def _secrets_section(files: list[Path] | None = None) -> dict[str, Any]:
    """The ``[smtp]`` table of the first readable secrets file (``{}`` if none)."""
    return config.secrets_section("smtp", secrets_files() if files is None else files)


def password_source(files: list[Path] | None = None) -> str:
    """Where the password comes from: ``"env"``, ``"secrets"`` or ``""`` (not set)."""
    if os.environ.get(ENV_PASSWORD):
        return "env"
    if str(_secrets_section(files).get("password") or ""):
        return "secrets"
    return ""


def _password(files: list[Path] | None = None) -> str:
    env = os.environ.get(ENV_PASSWORD)
    if env:
        return env
    return str(_secrets_section(files).get("password") or "")


def _cafile() -> str:
    return os.environ.get(ENV_CAFILE) or str(_secrets_section().get("cafile") or "")


def settings_dict(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The stored ``smtp`` setting merged over the defaults."""
    out = dict(DEFAULT_SETTINGS)
    out.update({k: v for k, v in (raw or {}).items() if k in DEFAULT_SETTINGS and k != "password"})
    return out


def config_from(raw: Mapping[str, Any], password: str | None = None) -> SmtpConfig:
    """Build a config from a settings dict (no checks beyond types)."""
    s = settings_dict(raw)
    try:
        port = int(s["port"])
    except (TypeError, ValueError):
        raise UserError(f"Почта: неверный порт «{s['port']}»") from None
    security = str(s["security"] or "ssl").lower()
    if security not in SECURITY:
        raise UserError(f"Почта: неизвестная защита «{security}» (ssl, starttls или none)")
    try:
        timeout = float(s["timeout"] or 30)
    except (TypeError, ValueError):
        timeout = 30.0
    return SmtpConfig(host=str(s["host"] or "").strip(), port=port, security=security,
                      login=str(s["login"] or "").strip(),
                      password=_password() if password is None else password,
                      from_name=str(s["from_name"] or "").strip(),
                      from_address=str(s["from_address"] or "").strip(),
                      reply_to=str(s["reply_to"] or "").strip(), timeout=timeout)


def save_settings(store: Store, actor: Any, values: Mapping[str, Any]) -> dict[str, Any]:
    """Store the SMTP settings (admin, ``settings.mail``): only the known keys —
    a password given here is dropped, never written to the database."""
    from clientplus_core.base.errors import ValidationError
    from clientplus_core.records import settings
    from clientplus_core.team.access import require

    require(actor, "settings.mail")
    s = settings_dict(values)
    errors: dict[str, str] = {}
    s["host"] = str(s["host"] or "").strip()
    try:
        s["port"] = int(s["port"])
        if not 0 < s["port"] < 65536:
            raise ValueError
    except (TypeError, ValueError):
        errors["port"] = f"Порт: число от 1 до 65535, а не «{s['port']}»"
    if s["security"] not in SECURITY:
        errors["security"] = "Защита: ssl, starttls или none"
    try:
        s["timeout"] = float(s["timeout"] or 30)
    except (TypeError, ValueError):
        errors["timeout"] = "Тайм-аут: число секунд"
    for key, label in (("from_address", "Адрес отправителя"), ("reply_to", "Адрес для ответов")):
        value = str(s[key] or "").strip()
        if value and ("@" not in value or " " in value):
            errors[key] = f"{label}: «{value}» — не адрес e-mail"
        s[key] = value
    if errors:
        raise ValidationError(errors)
    for key in ("login", "from_name"):
        s[key] = str(s[key] or "").strip()
    settings.put(store, actor, "smtp", s)
    return s


def load_config(store: Store) -> SmtpConfig:
    """The SMTP configuration from settings (+ the password from env/secrets)."""
    from clientplus_core.records import settings

    cfg = config_from(settings.get(store, "smtp") or {})
    missing = [name for name, value in (("сервер", cfg.host), ("адрес отправителя",
                                                               cfg.from_address)) if not value]
    if missing:
        raise UserError("Почта не настроена: не указан " + " и ".join(missing)
                        + " (Настройки → Почта)")
    return cfg


def _context() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    cafile = _cafile()
    if cafile:
        ctx.load_verify_locations(cafile=cafile)
    return ctx


def _answer(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {text}".strip()


def _open(cfg: SmtpConfig) -> smtplib.SMTP:
    where = f"{cfg.host}:{cfg.port}"
    try:
        conn: smtplib.SMTP
        if cfg.security == "ssl":
            conn = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=_context())
        else:
            conn = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            conn.ehlo()
            if cfg.security == "starttls":
                if not conn.has_extn("starttls"):
                    raise UserError(f"Сервер {where} не поддерживает STARTTLS")
                conn.starttls(context=_context())
                conn.ehlo()
            if cfg.login:
                conn.login(cfg.login, cfg.password)
        except BaseException:
            conn.close()
            raise
    except UserError:
        raise
    except smtplib.SMTPAuthenticationError as err:
        raise UserError(f"Сервер {where} не принял логин или пароль: "
                        f"{_answer(err.smtp_code, err.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as err:
        hint = (" — вход (AUTH) без защиты не предлагается: выберите STARTTLS или SSL"
                if "AUTH" in str(err) and cfg.security == "none" else "")
        raise UserError(f"Сервер {where}: {err}{hint}") from None
    except smtplib.SMTPResponseException as err:
        raise UserError(f"Сервер {where} ответил: "
                        f"{_answer(err.smtp_code, err.smtp_error)}") from None
    except ssl.SSLError as err:
        raise UserError(f"Ошибка защищённого соединения с {where}: {err.reason or err}. "
                        "Проверьте порт и вид защиты (SSL — обычно 465, STARTTLS — 587)") from None
    except TimeoutError:
        raise UserError(f"Сервер {where} не ответил за {cfg.timeout:g} с") from None
    except smtplib.SMTPException as err:
        raise UserError(f"Ошибка почтового сервера {where}: {err}") from None
    except OSError as err:
        raise UserError(f"Не удалось подключиться к {where}: {err.strerror or err}") from None
    return conn


@contextmanager
def connect(cfg: SmtpConfig) -> Iterator[smtplib.SMTP]:
    """An open, authenticated SMTP connection; closed (QUIT) on exit."""
    conn = _open(cfg)
    try:
        yield conn
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()


def check_connection(cfg: SmtpConfig) -> str:
    """Connect, log in and say what the server answered (raises UserError on failure)."""
    conn = _open(cfg)
    try:
        code, text = conn.noop()
        greeting = _answer(code, text)
        ehlo = (conn.ehlo_resp or b"").decode("utf-8", "replace").splitlines()
        name = ehlo[0] if ehlo else cfg.host
    finally:
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
    login = f", вход как {cfg.login} выполнен" if cfg.login else ""
    return f"Соединение с {cfg.host}:{cfg.port} ({cfg.security}) установлено{login}. " \
           f"Сервер: {name}; ответ на NOOP: {greeting}"


def _address(name: str, addr: str) -> Address:
    try:
        return Address(display_name=name or "", addr_spec=addr)
    except (ValueError, IndexError) as err:
        raise UserError(f"Неверный адрес «{addr}»: {err}") from None


def build_message(cfg: SmtpConfig, to: str, subject: str, text: str, html: str | None = None,
                  attachments: Sequence[tuple[str, bytes, str]] = (),
                  headers: Mapping[str, str] | None = None, to_name: str = "",
                  reply_to: str | None = None) -> EmailMessage:
    """One message: UTF-8 subject and names, Message-ID, Date; attachments as
    ``(file name, bytes, MIME type "type/subtype")``."""
    msg = EmailMessage()
    msg["From"] = _address(cfg.from_name, cfg.from_address)
    msg["To"] = _address(to_name, to)
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = cfg.from_address.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    reply = reply_to if reply_to is not None else cfg.reply_to
    if reply:
        msg["Reply-To"] = reply
    for key, value in (headers or {}).items():
        if key in msg:
            msg.replace_header(key, value)
        else:
            msg[key] = value
    msg.set_content(text or "", charset="utf-8")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    for name, data, mime in attachments:
        maintype, _, subtype = (mime or "application/octet-stream").partition("/")
        msg.add_attachment(data, maintype=maintype or "application",
                           subtype=subtype or "octet-stream", filename=name)
        if maintype == "text":  # keep the bytes exact, but say how to read them
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            *_, part = msg.iter_attachments()
            part.set_param("charset", "utf-8")
    return msg


def _recipients(msg: EmailMessage) -> list[str]:
    out: list[str] = []
    for field in ("To", "Cc", "Bcc"):
        header = msg.get(field)
        if header is None:
            continue
        for addr in getattr(header, "addresses", ()):
            out.append(addr.addr_spec)
    return out


def _sender(msg: EmailMessage) -> str:
    header = msg.get("From")
    addresses = getattr(header, "addresses", ())
    return addresses[0].addr_spec if addresses else str(header or "")


def send(conn: smtplib.SMTP, msg: EmailMessage) -> None:
    """Send one message on an open connection.

    Raises :class:`SendError` when the server refuses the sender, a recipient or
    the content (the connection stays usable), :class:`ConnectionLost` when the
    connection breaks (``maybe_delivered`` tells whether the body had been sent).
    """
    to = _recipients(msg)
    who = ", ".join(to)
    if "Bcc" in msg:
        del msg["Bcc"]
    payload = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    options: list[str] = []
    if any(ord(ch) > 127 for ch in _sender(msg) + "".join(to)):
        options = ["SMTPUTF8", "BODY=8BITMIME"]
    elif conn.has_extn("8bitmime"):
        options = ["BODY=8BITMIME"]
    stage = "envelope"
    try:
        code, resp = conn.mail(_sender(msg), options)
        if code != 250:
            _reset(conn)
            raise SendError(who, code, _answer(code, resp)[len(str(code)) + 1:])
        for rcpt in to:
            code, resp = conn.rcpt(rcpt)
            if code not in (250, 251):
                _reset(conn)
                raise SendError(rcpt, code, _answer(code, resp)[len(str(code)) + 1:])
        conn.putcmd("data")
        code, resp = conn.getreply()
        if code != 354:
            _reset(conn)
            raise SendError(who, code, _answer(code, resp)[len(str(code)) + 1:])
        body = smtplib._quote_periods(payload)  # type: ignore[attr-defined]
        if body[-2:] != b"\r\n":
            body += b"\r\n"
        body += b".\r\n"
        stage = "body"
        conn.send(body)
        code, resp = conn.getreply()
        if code != 250:
            raise SendError(who, code, _answer(code, resp)[len(str(code)) + 1:])
    except smtplib.SMTPServerDisconnected as err:
        raise ConnectionLost(who, str(err) or "сервер закрыл соединение",
                             maybe_delivered=stage == "body") from None
    except (OSError, smtplib.SMTPException) as err:
        raise ConnectionLost(who, str(err) or type(err).__name__,
                             maybe_delivered=stage == "body") from None


def _reset(conn: smtplib.SMTP) -> None:
    try:
        conn.rset()
    except (smtplib.SMTPException, OSError):
        pass
