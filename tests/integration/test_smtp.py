"""The SMTP client against a real aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from clientplus_core.base.errors import UserError
from clientplus_core.outreach import smtp
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor
from tests.smtp_server import LoopbackSmtp, free_port
from tests.smtp_server import smtp_server as smtp_server  # noqa: F401  (the fixture)


def _cfg(srv: LoopbackSmtp, password: str = "", **over: object) -> smtp.SmtpConfig:
    return smtp.config_from(srv.settings(**over), password=password)


def test_a_message_arrives_with_utf8_headers_bodies_and_attachment(
        smtp_server: LoopbackSmtp) -> None:  # noqa: F811
    cfg = _cfg(smtp_server, reply_to="boss@romashka.ru")
    msg = smtp.build_message(cfg, "ivanov@client.ru", "Счёт на оплату №5", "Добрый день!\nСчёт.",
                             "<p>Добрый <b>день</b></p>",
                             [("счёт.pdf", b"%PDF-1.4 fake", "application/pdf")],
                             {"List-Unsubscribe": "<mailto:sales@romashka.ru?subject=x>"},
                             to_name="Иванов Иван")
    with smtp.connect(cfg) as conn:
        smtp.send(conn, msg)
    assert smtp_server.recipients() == ["ivanov@client.ru"]
    head = smtp_server.received[0].raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head.lower()  # Cyrillic headers travel encoded
    got = smtp_server.messages[0]
    assert got["Subject"] == "Счёт на оплату №5"
    assert got["From"].addresses[0].display_name == "ООО «Ромашка»"
    assert got["From"].addresses[0].addr_spec == "sales@romashka.ru"
    assert got["To"].addresses[0].display_name == "Иванов Иван"
    assert got["Reply-To"] == "boss@romashka.ru"
    assert got["List-Unsubscribe"] == "<mailto:sales@romashka.ru?subject=x>"
    assert got["Message-ID"] and got["Date"]
    assert got.get_body(("plain",)).get_content().strip() == "Добрый день!\nСчёт."
    assert "<b>день</b>" in got.get_body(("html",)).get_content()
    atts = list(got.iter_attachments())
    assert [(a.get_filename(), a.get_content()) for a in atts] == [("счёт.pdf", b"%PDF-1.4 fake")]


def test_a_refused_recipient_raises_send_error_with_the_servers_answer() -> None:
    with LoopbackSmtp(refuse={"nobody@client.ru"}) as srv:
        cfg = _cfg(srv)
        with smtp.connect(cfg) as conn:
            with pytest.raises(smtp.SendError) as err:
                smtp.send(conn, smtp.build_message(cfg, "nobody@client.ru", "Тема", "текст"))
            assert err.value.code == 550
            assert "Mailbox unavailable" in err.value.server_text
            # the connection stays usable for the next recipient
            smtp.send(conn, smtp.build_message(cfg, "ok@client.ru", "Тема", "текст"))
        assert srv.recipients() == ["ok@client.ru"]


def test_starttls_and_login_are_used_when_the_server_requires_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackSmtp(starttls=True, login="robot@romashka.ru", password="s3cret",
                      cert_dir=tmp_path / "cert") as srv:
        monkeypatch.setenv(smtp.ENV_CAFILE, str(srv.cafile))
        cfg = _cfg(srv, password="s3cret")
        answer = smtp.check_connection(cfg)
        assert "вход как robot@romashka.ru выполнен" in answer and "250" in answer
        with smtp.connect(cfg) as conn:
            smtp.send(conn, smtp.build_message(cfg, "a@client.ru", "Тема", "текст"))
        assert srv.recipients() == ["a@client.ru"]


def test_a_wrong_password_gives_the_servers_message_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackSmtp(starttls=True, login="robot@romashka.ru", password="s3cret",
                      cert_dir=tmp_path / "cert") as srv:
        monkeypatch.setenv(smtp.ENV_CAFILE, str(srv.cafile))
        with pytest.raises(UserError) as err:
            smtp.check_connection(_cfg(srv, password="wrong"))
        assert "не принял логин или пароль" in str(err.value)
        assert "535" in str(err.value) and "credentials invalid" in str(err.value)
        # without STARTTLS the server will not even take the login
        with pytest.raises(UserError) as err2:
            smtp.check_connection(_cfg(srv, password="s3cret", security="none"))
        assert "530" in str(err2.value) or "STARTTLS" in str(err2.value)
        assert srv.received == []


def test_an_untrusted_certificate_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    with LoopbackSmtp(starttls=True, login="u", password="p", cert_dir=tmp_path / "c") as srv:
        with pytest.raises(UserError) as err:
            smtp.check_connection(_cfg(srv, password="p"))
        assert "защищённого соединения" in str(err.value)


def test_implicit_ssl(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with LoopbackSmtp(implicit_tls=True, cert_dir=tmp_path / "c") as srv:
        monkeypatch.setenv(smtp.ENV_CAFILE, str(srv.cafile))
        cfg = _cfg(srv)
        assert cfg.security == "ssl"
        with smtp.connect(cfg) as conn:
            smtp.send(conn, smtp.build_message(cfg, "b@client.ru", "Тема", "текст"))
        assert srv.recipients() == ["b@client.ru"]


def test_nobody_listening_is_a_user_error() -> None:
    cfg = smtp.config_from({"host": "127.0.0.1", "port": free_port(), "security": "none",
                            "from_address": "a@b.ru", "timeout": 3}, password="")
    with pytest.raises(UserError) as err:
        smtp.check_connection(cfg)
    assert "Не удалось подключиться к 127.0.0.1" in str(err.value)


def test_load_config_needs_host_and_sender_and_reads_the_password_outside_the_db(
        store: Store, actor: Actor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(smtp.ENV_PASSWORD, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(smtp, "PROJECT_ROOT", tmp_path)
    with pytest.raises(UserError, match="Почта не настроена"):
        smtp.load_config(store)
    smtp.save_settings(store, actor, {"host": "smtp.yandex.ru", "port": 465,
                                      "security": "ssl", "login": "me@ya.ru",
                                      "from_address": "me@ya.ru", "password": "leak"})
    with store.read() as conn:
        stored = " ".join(r[0] for r in conn.execute("SELECT value FROM settings"))
    assert "smtp.yandex.ru" in stored and "leak" not in stored
    cfg = smtp.load_config(store)
    assert (cfg.host, cfg.port, cfg.security, cfg.password) == ("smtp.yandex.ru", 465, "ssl", "")
    assert smtp.password_source() == ""
    secrets = tmp_path / ".streamlit" / "secrets.toml"
    secrets.parent.mkdir()
    secrets.write_text('[smtp]\npassword = "from-file"\n', encoding="utf-8")
    assert smtp.load_config(store).password == "from-file"
    assert smtp.password_source() == "secrets"
    monkeypatch.setenv(smtp.ENV_PASSWORD, "from-env")
    assert smtp.load_config(store).password == "from-env"
    assert smtp.password_source() == "env"


def test_bad_smtp_settings_name_the_field(store: Store, actor: Actor) -> None:
    from clientplus_core.base.errors import ValidationError

    with pytest.raises(ValidationError) as err:
        smtp.save_settings(store, actor, {"host": "h", "port": "abc", "from_address": "нет"})
    assert set(err.value.errors) == {"port", "from_address"}


def test_presets_are_russian_providers_over_ssl() -> None:
    hosts = {p["host"]: (p["port"], p["security"]) for p in smtp.PRESETS.values()}
    assert hosts == {"smtp.yandex.ru": (465, "ssl"), "smtp.mail.ru": (465, "ssl")}
