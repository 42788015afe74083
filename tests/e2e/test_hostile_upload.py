"""A hostile attachment in a real browser (issue 11, part 3): a small .docx that unpacks
to a zip bomb's worth of empty paragraphs is uploaded on a client card; the upload
returns at once saying the text is being extracted, and the file list then shows,
without a reload, that the text was not extracted because the file is too large."""

from __future__ import annotations

from playwright.sync_api import expect

from clientplus_core.clients import files
from tests import hostile_files as hostile

from .conftest import shot, wait_idle
from .test_flows import LONG, _open, _seed


def test_a_zip_bomb_docx_is_kept_and_its_list_says_why_there_is_no_text(
        server_factory, page, tmp_path):
    data, store, admin, (client,) = _seed(tmp_path, [{"name": "ООО «Файловый»"}])
    srv = server_factory(data)
    _open(page, f"{srv.url}/client?id={client['id']}")
    expect(page.get_by_role("heading", name="ООО «Файловый»")).to_be_visible(timeout=LONG)
    page.get_by_role("tab", name="Файлы и ссылки").click()
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Прикрепить файлы")
    expect(uploader).to_be_visible(timeout=LONG)
    bomb = hostile.empty_paragraphs_docx(2_000_000)     # 18 KB, 12 MB unpacked
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "пустышка.docx", "buffer": bomb, "mimeType":
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}])
    expect(page.get_by_text("«пустышка.docx» загружен")).to_be_visible(timeout=LONG)
    expect(page.get_by_text("текст извлекается…")).to_be_visible()
    # the list redraws itself until the background extraction has written its result
    reason = page.get_by_text("текст не извлечён: файл слишком большой", exact=False)
    expect(reason).to_be_visible(timeout=LONG)
    expect(page.get_by_text("слишком большой", exact=True)).to_be_visible()
    wait_idle(page)
    shot(page, "hostile-upload-too-large")
    [row] = files.list_for_client(store, admin, client["id"])
    assert (row["name"], row["text_status"]) == ("пустышка.docx", "too_large")
    assert files.read(store, admin, row["id"])[1] == bomb, "the file itself is kept"
