"""A hostile Word template in a real browser (issue 11): the administrator uploads on
Settings → «Шаблоны документов» a .docx whose text walks from ``()`` to ``os.system``;
the page refuses it with a clear Russian message naming the ``_`` names, no page
error shows, nothing is stored and the command never ran (its marker file is absent).
"""

from __future__ import annotations

import io
from pathlib import Path

import docx
import pytest
from playwright.sync_api import expect

from clientplus_core.sales import documents
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

pytestmark = pytest.mark.e2e
LONG = 30_000


def _evil_docx(marker: Path) -> bytes:
    d = docx.Document()
    d.add_paragraph("Коммерческое предложение № {{ doc.number }}")
    d.add_paragraph("{% for x in ().__class__.__base__.__subclasses__() %}"
                    "{% if 'catch_warnings' == x.__name__ %}"
                    "{{ x()._module.__builtins__['__import__']('os').system('touch "
                    + str(marker) + "') }}{% endif %}{% endfor %}")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_an_evil_template_uploaded_in_settings_is_refused_and_runs_nothing(
        server_factory, page, tmp_path: Path) -> None:
    data = tmp_path / "seeded"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    marker = tmp_path / "MARKER"
    srv = server_factory(data)
    page.goto(f"{srv.url}/settings")
    expect(page.get_by_role("heading", name="Настройки")).to_be_visible(timeout=LONG)
    wait_idle(page, 40)
    page.get_by_role("tab", name="Шаблоны документов").click()
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").filter(
        has_text="Свой шаблон (.docx)").first
    expect(uploader).to_be_visible(timeout=LONG)
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "evil.docx",
        "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "buffer": _evil_docx(marker)}])
    wait_idle(page)
    page.get_by_role("button", name="Загрузить «evil.docx»").click()
    error = page.get_by_test_id("stAlertContentError")
    expect(error).to_contain_text("«evil.docx»: шаблон обращается к служебным именам",
                                  timeout=LONG)
    expect(error).to_contain_text("__class__")
    expect(error).to_contain_text("имена, начинающиеся с «_», в шаблонах запрещены")
    expect(page.get_by_test_id("stException")).to_have_count(0)
    wait_idle(page)
    shot(page, "template-evil-refused")
    assert not marker.exists()
    assert documents.list_templates(store, admin) == []
