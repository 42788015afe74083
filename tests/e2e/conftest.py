"""Browser tests: a real ``streamlit run serve.py`` (app.py with the session-cookie
routes, as ``make run`` starts it) on 127.0.0.1 driven by Playwright
in Debian's Chromium (no browser download). The setup installs Chromium with apt
when it is missing and we are root; otherwise it fails with a clear message."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SHOTS = ROOT / "tests" / "e2e" / "screenshots"


def _ensure_chromium() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=True)
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is needed for browser tests: apt-get install -y chromium")
    return CHROMIUM


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """A streamlit server on 127.0.0.1 serving a given data folder (``entry``: the
    script ``streamlit run`` starts)."""

    def __init__(self, data_dir: Path, entry: str = "serve.py"):
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = os.environ | {"CLIENTPLUS_DATA": str(data_dir), "PYTHONUNBUFFERED": "1"}
        self.log = open(data_dir.parent / f"streamlit-{self.port}.log", "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(ROOT / entry),
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--server.headless", "true", "--browser.gatherUsageStats", "false",
             "--server.fileWatcherType", "none"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError("streamlit did not start: " + Path(self.log.name).read_text()[-2000:])

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    exe = _ensure_chromium()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    """Start servers on fresh data folders; all are stopped after the test."""
    started: list[Server] = []

    def start(data_dir: Path | None = None) -> Server:
        srv = Server(data_dir or (tmp_path / f"data{len(started)}"))
        started.append(srv)
        return srv

    yield start
    for s in started:
        s.stop()


# An expander opens with a 500 ms Web Animations height animation (its content clipped
# meanwhile); a click in that window lands on nothing, so a form's submit could be lost.
# The browser of these tests runs every such animation with zero duration.
NO_ANIMATION = """
(() => {
  const animate = Element.prototype.animate;
  Element.prototype.animate = function (frames, options) {
    const instant = typeof options === "object" && options !== null
      ? Object.assign({}, options, {duration: 0, delay: 0}) : 0;
    return animate.call(this, frames, instant);
  };
})();
"""


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000},  # type: ignore[attr-defined]
                              accept_downloads=True, locale="ru-RU", reduced_motion="reduce")
    ctx.add_init_script(NO_ANIMATION)
    ctx.set_default_timeout(20_000)
    p = ctx.new_page()
    yield p
    ctx.close()


def wait_idle(page: object, timeout: float = 20.0) -> None:
    """Wait until Streamlit finished the current run.

    The app root carries the script state (``data-test-script-state``, the attribute
    Streamlit's own browser tests wait on). A click sent just before this call may not
    have turned it to "running" yet, and a run may rerun itself, so "notRunning" must be
    seen on two readings 0.25 s apart; the running indicator is checked as well."""
    pg = page  # playwright Page
    pg.wait_for_selector('[data-testid="stApp"]', timeout=timeout * 1000)  # type: ignore[attr-defined]
    app = pg.locator('[data-testid="stApp"]')  # type: ignore[attr-defined]
    deadline = time.time() + timeout
    calm = 0
    time.sleep(0.15)
    while time.time() < deadline:
        state = app.get_attribute("data-test-script-state")
        running = pg.locator('[data-testid="stStatusWidget"]').count()  # type: ignore[attr-defined]
        calm = calm + 1 if state in (None, "notRunning") and not running else 0
        if calm >= 2:
            return
        time.sleep(0.25)


def shot(page: object, name: str) -> Path:
    """Save a screenshot under tests/e2e/screenshots/ (for people to look at)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path
