"""Word templates and mailing texts are untrusted (issue 11, part 1): a template that
would run a shell command is refused at upload and runs nothing — at the upload check,
when a document is made from it, or through the command line — only the administrator
may use a template file that is not in the register, and what a template may produce
is bounded (documents 20 MB, messages 10 MB), checked before anything is saved or sent.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import docx
import pytest

from clientplus_cli.main import main
from clientplus_core import sales
from clientplus_core.base.errors import AccessDenied, UserError, ValidationError
from clientplus_core.clients import cards as clients
from clientplus_core.outreach import mail_templates, mailing, sending
from clientplus_core.sales import company, doc_templates, documents
from clientplus_core.store.db import Store
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor
from tests.smtp_server import LoopbackSmtp, MailWorld, seed_mailing_world


def evil(marker: Path) -> str:
    """The classic attribute walk from a tuple to ``os.system``: touches ``marker``."""
    return ("{% for x in ().__class__.__base__.__subclasses__() %}"
            "{% if 'catch_warnings' == x.__name__ %}"
            "{{ x()._module.__builtins__['__import__']('os').system('touch " + str(marker)
            + "') }}{% endif %}{% endfor %}")


def evil_short(marker: Path) -> str:
    """A shorter walk (a document property holds at most 255 characters)."""
    return ("{{ self.__init__.__globals__.__builtins__['__import__']('os')"
            ".system('touch " + str(marker) + "') }}")


def make_docx(body: str = "Счёт № {{ doc.number }}", header: str = "",
              title: str = "") -> bytes:
    d = docx.Document()
    d.add_paragraph(body)
    if header:
        d.sections[0].header.paragraphs[0].text = header
    if title:
        d.core_properties.title = title
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "MARKER"


def _sale(store: Store, admin: Actor, owner: Actor | None = None) -> dict[str, Any]:
    company.save(store, admin, {"name": "ООО «Продавец»", "inn": "7707083893"})
    c = clients.create(store, admin, {"name": "ООО «Покупатель»", "inn": "7736207543",
                                      "owner_id": (owner or admin).id}, allow_duplicate=True)
    return sales.create(store, admin, {"client_id": c["id"], "date": "2026-03-01", "lines": [
        {"name": "Консультация", "qty": 1, "price": "1500", "vat_code": "22"}]})


def _store_unchecked(store: Store, admin: Actor, data: bytes,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Put ``data`` in the register past the upload check (a template stored before it)."""
    with monkeypatch.context() as m:
        m.setattr(doc_templates, "validate_template", lambda data, name: [])
        documents.upload_template(store, admin, "invoice", "старый.docx", data)


# --- documents ------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["body", "header", "title"])
def test_a_template_that_would_run_a_command_is_refused_at_upload_and_runs_nothing(
        store: Store, actor: Actor, marker: Path, where: str) -> None:
    data = make_docx(**{where: "Счёт " + (evil_short if where == "title" else evil)(marker)})
    with pytest.raises(ValidationError) as err:
        documents.upload_template(store, actor, "invoice", "evil.docx", data)
    message = err.value.errors["template"]
    assert message.startswith("«evil.docx»: шаблон обращается к служебным именам (")
    assert "__globals__" in message or "__class__" in message
    assert "имена, начинающиеся с «_», в шаблонах запрещены" in message
    assert not marker.exists()
    assert documents.list_templates(store, actor) == []


def test_a_stored_evil_template_runs_nothing_when_a_document_is_made(
        store: Store, actor: Actor, marker: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sale = _sale(store, actor)
    _store_unchecked(store, actor, make_docx(evil(marker)), monkeypatch)
    with pytest.raises(UserError, match="Шаблон выполняет запрещённую операцию"):
        documents.render(store, actor, sale["id"], "invoice")
    assert not marker.exists()
    card = sales.get_card(store, actor, sale["id"])
    assert card["documents"] == [] and card["files"] == []


def test_a_template_multiplying_text_is_refused_before_anything_is_built_or_saved(
        store: Store, actor: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    bomb = make_docx("{{ 'x' * 10**8 }}")   # 100 million characters: 640 MB before the fix
    with pytest.raises(ValidationError) as err:
        documents.upload_template(store, actor, "invoice", "бомба.docx", bomb)
    assert "«бомба.docx»: пробная подстановка не удалась" in err.value.errors["template"]
    assert "слишком много текста (больше 20 МБ)" in err.value.errors["template"]
    sale = _sale(store, actor)
    _store_unchecked(store, actor, bomb, monkeypatch)
    with pytest.raises(UserError, match=r"Шаблон создаёт слишком много текста \(больше 20 МБ\)"):
        documents.render(store, actor, sale["id"], "invoice")
    card = sales.get_card(store, actor, sale["id"])
    assert card["documents"] == [] and card["files"] == []
    # the next document still gets number 1: nothing of the refused one was kept
    documents.set_default_template(store, actor, documents.list_templates(store, actor)[0]["id"],
                                   False)
    name, _ = documents.render(store, actor, sale["id"], "invoice")
    assert "№ 1 " in name


def test_loops_without_end_are_refused_at_upload(store: Store, actor: Actor) -> None:
    spin = make_docx("{% for a in range(100000) %}{% for b in range(100000) %}"
                     "{% endfor %}{% endfor %}")
    with pytest.raises(ValidationError, match="слишком много шагов"):
        documents.upload_template(store, actor, "offer", "цикл.docx", spin)


def test_only_the_administrator_may_use_a_template_outside_the_register(
        store: Store, actor: Actor, marker: Path) -> None:
    manager = users.create(store, "manager1", "Менеджер Один", "manager")
    sale = _sale(store, actor, owner=manager)
    for data in (make_docx("{{ sale.basis }}"), make_docx(evil(marker))):
        with pytest.raises(AccessDenied, match="Шаблон из файла может использовать только"
                                               " администратор"):
            documents.render(store, manager, sale["id"], data)
    assert not marker.exists()
    assert sales.get_card(store, actor, sale["id"])["documents"] == []
    name, _ = documents.render(store, manager, sale["id"], "invoice")   # the register: fine
    assert name.startswith("Счёт на оплату № 1")
    with pytest.raises(ValidationError, match="служебным именам"):
        documents.render(store, actor, sale["id"], make_docx(evil(marker)))
    assert not marker.exists()


def test_the_cli_refuses_a_managers_template_file_and_the_admins_evil_one(
        tmp_path: Path, marker: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    store = open_store(data_dir)
    admin = users.ensure_local_admin(store)
    manager = users.create(store, "manager1", "Менеджер Один", "manager")
    sale = _sale(store, admin, owner=manager)
    tpl = tmp_path / "evil.docx"
    tpl.write_bytes(make_docx(evil(marker)))
    out = tmp_path / "out.docx"
    base = ["--data-dir", str(data_dir), "doc", sale["number"], "-o", str(out)]
    assert main(["--user", "manager1", *base, "--template", str(tpl)]) == 1
    err = capsys.readouterr().err
    assert "Ошибка: Шаблон из файла может использовать только администратор" in err
    assert main([*base, "--template", str(tpl)]) == 1
    assert "«template.docx»: шаблон обращается к служебным именам" in capsys.readouterr().err
    assert not marker.exists() and not out.exists()
    assert main(["--user", "manager1", *base, "--template", "invoice"]) == 0
    assert out.exists()


# --- mailings -------------------------------------------------------------------------------


@pytest.fixture
def w(store: Store, actor: Actor) -> MailWorld:
    return seed_mailing_world(store, actor)


def test_a_mailing_text_multiplying_text_is_refused_when_saved(
        store: Store, actor: Actor, w: MailWorld, marker: Path) -> None:
    for body, message in [
        ("{{ 'x' * 10**8 }}", "слишком много текста (больше 10 МБ)"),
        ("{{ client.name * 100000 }}", "слишком много текста (больше 10 МБ)"),
        ("Здравствуйте! " + evil(marker), "обращение к служебному имени «__class__» запрещено"),
    ]:
        with pytest.raises(ValidationError) as err:
            mailing.create(store, actor, {"book_id": w.book, "subject": "Привет",
                                          "body_text": body})
        assert message in str(err.value)
        assert "Текст письма" in str(err.value)
    assert mailing.list_mailings(store, actor) == [] and not marker.exists()


def test_a_stored_mailing_text_over_the_limit_is_refused_before_anything_is_sent(
        store: Store, actor: Actor, w: MailWorld) -> None:
    m = mailing.create(store, actor, {"book_id": w.book, "subject": "Привет",
                                      "body_text": "Здравствуйте, {{ client.name }}"})
    with store.write() as conn:     # saved by other means, past the check
        conn.execute("UPDATE mailings SET body_text = ? WHERE id = ?",
                     ("{{ 'x' * 10**8 }}", m["id"]))
    with LoopbackSmtp() as srv:
        from clientplus_core.outreach import smtp

        smtp.save_settings(store, actor, srv.settings())
        with pytest.raises(ValidationError, match=r"больше 10 МБ"):
            sending.send(store, actor, m["id"])
        assert srv.received == []
    assert mailing.log(store, actor, m["id"]) == []


def test_rendering_a_message_over_the_limit_names_the_part() -> None:
    ctx = {"client": {"name": "ООО «Альфа»"}}
    texts = {"subject": "Счёт", "body_text": "{{ client.name }}", "body_html": ""}
    subject, text, _ = mail_templates.render(texts, ctx, "a@b.ru", "0" * 20)
    assert subject == "Счёт" and text.startswith("ООО «Альфа»")
    huge = {"client": {"name": "я" * 3_000_000}}           # 6 MB of UTF-8 in each part
    both = dict(texts, body_html="<p>{{ client.name }}</p>")
    with pytest.raises(UserError, match=r"Письмо получилось слишком большим \(11,4 МБ"):
        mail_templates.render(both, huge, "a@b.ru", "0" * 20)
    worse = dict(texts, body_text="{{ client.name * 10**7 }}")
    with pytest.raises(UserError, match=r"Текст письма: .*слишком много текста"):
        mail_templates.render(worse, ctx, "a@b.ru", "0" * 20)
