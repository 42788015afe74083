"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), and what it received.

Use the ``smtp_server`` fixture (plain SMTP, no login) or build one yourself::

    with LoopbackSmtp(refuse={"bad@example.ru"}) as srv:
        ...  # srv.host, srv.port, srv.messages (email.message.EmailMessage list)

Behaviours a test can ask for: ``refuse`` (addresses answered ``550`` at RCPT),
``drop_after`` (accept that many messages, then close the connection at the next
MAIL FROM — nothing of that message reached the server), ``drop_in_data`` (after
that many messages, take the next message's body and close the connection without
answering — the client cannot know it was received), ``starttls`` + ``login`` /
``password`` (STARTTLS required before AUTH, a self-signed certificate made with
``openssl``; point the client at it with ``CLIENTPLUS_SMTP_CAFILE``), ``implicit_tls``.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_cert(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (``openssl req``)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    if not cert.exists():
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, capture_output=True)
    return cert, key


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw.replace(b"\r\n", b"\n"),
                                       policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


class Handler:
    def __init__(self, owner: LoopbackSmtp):
        self.owner = owner

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: list[str]) -> str:
        o = self.owner
        if o.drop_after is not None and len(o.received) >= o.drop_after and not o.dropped:
            o.dropped = True
            server.transport.close()
            return "421 4.3.0 closing"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.owner.refuse:
            return "550 5.1.1 Mailbox unavailable: " + address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        o = self.owner
        with o.lock:
            o.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                       bytes(envelope.original_content or envelope.content)))
        if o.drop_in_data is not None and len(o.received) > o.drop_in_data and not o.dropped:
            o.dropped = True
            server.transport.close()
        return "250 2.0.0 Queued"


class LoopbackSmtp:
    """An aiosmtpd server on 127.0.0.1 with a free port (a context manager)."""

    def __init__(self, *, refuse: set[str] | None = None, drop_after: int | None = None,
                 drop_in_data: int | None = None, starttls: bool = False,
                 implicit_tls: bool = False, login: str = "", password: str = "",
                 cert_dir: Path | None = None):
        self.host = "127.0.0.1"
        self.port = free_port()
        self.refuse = {a.lower() for a in (refuse or set())}
        self.drop_after = drop_after
        self.drop_in_data = drop_in_data
        self.dropped = False
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.login, self.password = login, password
        self.cafile: Path | None = None
        kwargs: dict[str, Any] = {}
        self.security = "starttls" if starttls else ("ssl" if implicit_tls else "none")
        if starttls or implicit_tls:
            assert cert_dir is not None, "a folder for the test certificate"
            cert, key = make_cert(cert_dir)
            self.cafile = cert
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(cert, key)
            if starttls:
                kwargs.update(tls_context=ctx, require_starttls=True)
            else:
                kwargs.update(ssl_context=ctx)
        if login:
            kwargs.update(authenticator=self._auth, auth_required=True,
                          auth_require_tls=starttls)
        self.controller = Controller(Handler(self), hostname=self.host, port=self.port,
                                     server_hostname="localhost", **kwargs)

    def _auth(self, server: Any, session: Any, envelope: Any, mechanism: str,
              auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and \
                auth_data.login.decode() == self.login and \
                auth_data.password.decode() == self.password:
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False,
                          message="535 5.7.8 Authentication credentials invalid")

    @property
    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [r.message for r in self.received]

    def recipients(self) -> list[str]:
        with self.lock:
            return [a for r in self.received for a in r.rcpt_tos]

    def settings(self, **over: Any) -> dict[str, Any]:
        """The ``smtp`` setting pointing at this server."""
        out = {"host": self.host, "port": self.port, "security": self.security,
               "login": self.login, "from_name": "ООО «Ромашка»",
               "from_address": "sales@romashka.ru", "reply_to": "", "timeout": 10}
        out.update(over)
        return out

    def __enter__(self) -> LoopbackSmtp:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@pytest.fixture
def smtp_server() -> Iterator[LoopbackSmtp]:
    """A plain loopback SMTP server (no TLS, no login) recording every message."""
    with LoopbackSmtp() as srv:
        yield srv


# --- a small CRM for mailing tests ----------------------------------------------------------


@dataclass
class MailWorld:
    """Four clients for mailing tests (built through the core).

    ======  =====  ==============================================================
    client  owner  what
    ======  =====  ==============================================================
    alpha   m1     alpha@alpha.ru (consent) + contact «Петров Пётр Петрович»
                   petrov@alpha.ru (consent flag); sale invoiced 12 345,67 ₽
    beta    m2     beta@beta.ru (consent); sale partly paid: 1 000 of 3 000
    gamma   m1     gamma@gamma.ru opted out; sale invoiced 500
    delta   m1     delta@delta.ru (consent); no sale
    ======  =====  ==============================================================
    """

    admin: Any
    m1: Any
    m2: Any
    alpha: int
    beta: int
    gamma: int
    delta: int
    petrov: int
    alpha_sale: int
    beta_sale: int
    book: int


def seed_mailing_world(store: Any, admin: Any) -> MailWorld:
    from clientplus_core import sales
    from clientplus_core.clients import cards as clients
    from clientplus_core.clients import contacts
    from clientplus_core.outreach import addressbooks, consent
    from clientplus_core.team import users

    m1 = users.create(store, "m1", "Мария Первая", "manager", email="m1@romashka.ru")
    m2 = users.create(store, "m2", "Михаил Второй", "manager")

    def client(name: str, email_: str, owner: Any, ok: bool = True) -> int:
        cid = int(clients.create(store, admin, {"name": name, "email": email_,
                                                "inn": "", "owner_id": owner.id},
                                 allow_duplicate=True)["id"])
        if ok:
            consent.record(store, admin, {"channel": "email", "value": email_,
                                          "source": "договор"})
        return cid

    def sale(client_id: int, price: str, status: str) -> int:
        sid = int(sales.create(store, admin, {"client_id": client_id, "lines": [
            {"name": "Услуга", "qty": 1, "price": price, "vat_code": "22"}]})["id"])
        sales.set_status(store, admin, sid, status)
        return sid

    alpha = client("ООО «Альфа»", "alpha@alpha.ru", m1)
    beta = client("ООО «Бета»", "beta@beta.ru", m2)
    gamma = client("ООО «Гамма»", "gamma@gamma.ru", m1)
    delta = client("ООО «Дельта»", "delta@delta.ru", m1)
    consent.record_optout(store, admin, "email", "gamma@gamma.ru", "письмо")
    petrov = int(contacts.create(store, admin, alpha, {
        "name": "Петров Пётр Петрович", "email": "petrov@alpha.ru", "consent_email": 1})["id"])
    alpha_sale = sale(alpha, "12345.67", "invoiced")
    beta_sale = sale(beta, "3000", "invoiced")
    sales.add_payment(store, admin, beta_sale, 1000)
    sale(gamma, "500", "invoiced")
    book = int(addressbooks.create_book(store, admin, "Выставлен счёт, не оплачено",
                                        {"invoiced_unpaid": True})["id"])
    return MailWorld(admin, m1, m2, alpha, beta, gamma, delta, petrov, alpha_sale, beta_sale,
                     book)
