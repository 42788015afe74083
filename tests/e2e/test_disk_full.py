"""A full disk in a real browser (issue 11): the data folder lives on a small tmpfs
that is then filled up, so an upload hits a real ``ENOSPC`` (OSError 28). The card
says plainly «Недостаточно места на диске», leaves no half-written file, and takes
a small file once there is room. Needs ``mount`` (root); skipped where it is refused."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from clientplus_core.clients import cards as clients
from clientplus_core.store.startup import open_store
from clientplus_core.team import users

from .conftest import shot, wait_idle

LONG = 30_000
ROOM = 2 << 20         # what is left free on the disk before the upload
UPLOAD = 6 << 20       # larger than that


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 MB tmpfs of its own (unmounted after the test's server stopped)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    yield mnt
    if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def fill_up(disk: Path, leave: int) -> None:
    """Write a filler file so that only ``leave`` bytes stay free on ``disk``."""
    st = os.statvfs(disk)
    size = st.f_bavail * st.f_frsize - leave
    with (disk / "filler").open("wb") as f:
        block = b"\0" * (1 << 20)
        while size > 0:
            f.write(block[: min(len(block), size)])
            size -= len(block)


def test_an_upload_on_a_full_disk_says_so_and_leaves_no_half_written_file(
        small_disk: Path, server_factory, page) -> None:
    data = small_disk / "data"
    store = open_store(data)
    admin = users.ensure_local_admin(store)
    client = clients.create(store, admin, {"kind": "legal", "name": "ООО «Тесный диск»"})
    srv = server_factory(data)
    page.goto(f"{srv.url}/client?id={client['id']}")
    wait_idle(page, 40)
    expect(page.get_by_role("heading", name="ООО «Тесный диск»")).to_be_visible(timeout=LONG)
    page.get_by_role("tab", name="Файлы и ссылки").click()
    wait_idle(page)
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Прикрепить файлы")
    expect(uploader).to_be_visible(timeout=LONG)

    fill_up(small_disk, ROOM)
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "скан договора.pdf", "mimeType": "application/pdf",
        "buffer": os.urandom(UPLOAD)}])
    message = page.get_by_text("Недостаточно места на диске")
    expect(message).to_be_visible(timeout=LONG)
    expect(page.get_by_text("«скан договора.pdf» не сохранён", exact=False)).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
    wait_idle(page)
    shot(page, "disk-full-upload")
    assert [p for p in (data / "files").rglob("*") if p.is_file()] == []

    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Прикрепить файлы")
    uploader.locator("input[type=file]").set_input_files(files=[{
        "name": "записка.txt", "mimeType": "text/plain",
        "buffer": "Небольшой файл помещается".encode()}])
    expect(page.get_by_text("«записка.txt» загружен")).to_be_visible(timeout=LONG)
    wait_idle(page)
    assert [f["name"] for f in clients_files(data, client["id"])] == ["записка.txt"]


def clients_files(data: Path, client_id: int) -> list[dict]:
    from clientplus_core.clients import files

    store = open_store(data)
    return files.list_for_client(store, users.ensure_local_admin(store), client_id)
