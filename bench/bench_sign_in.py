"""Signing in and coming back (issue 13, section 1), timed in Chromium as a person
waits: from the click (or the reload, or the typed address) until the page shows its
content and Streamlit's script is idle.

    .venv/bin/python bench/bench_sign_in.py [--rounds 5]

Starts ``streamlit run serve.py`` (and, for the "before" row, ``app.py`` without the
cookie routes, where a reload means signing in again) on a demo-sized data folder.
Prints a table and writes ``bench/results/sign_in.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import Row, pct  # noqa: E402

from tests.e2e.conftest import CHROMIUM, NO_ANIMATION, Server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
PASSWORD = "bench-admin-pass"
TARGET_MS = 1500
# the registry is shown and the script is idle
READY = """(text) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const idle = app && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]');
  return idle && document.body.innerText.includes(text);
}"""


def _ready(page: object, text: str) -> None:
    page.wait_for_function(READY, arg=text, polling=20, timeout=60_000)  # type: ignore[attr-defined]


def _seed(data: Path, clients: int) -> None:
    from clientplus_core.clients import cards
    from clientplus_core.store.startup import open_store
    from clientplus_core.team import auth

    store = open_store(data)
    admin = auth.add_user(store, None, "admin", PASSWORD, "admin", "Администратор")
    for i in range(clients):
        cards.create(store, admin, {"kind": "legal", "name": f"ООО «Клиент {i}»"},
                     allow_duplicate=True)


def _login(page: object) -> float:
    """Type the password and sign in; ms from the click until the registry is idle."""
    page.get_by_label("Логин").fill("admin")  # type: ignore[attr-defined]
    page.get_by_label("Пароль").fill(PASSWORD)  # type: ignore[attr-defined]
    t = time.perf_counter()
    page.get_by_role("button", name="Войти").click()  # type: ignore[attr-defined]
    _ready(page, "Найдено клиентов")
    return (time.perf_counter() - t) * 1000


def measure(entry: str, data: Path, rounds: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    srv = Server(data, entry)
    out: dict[str, list[float]] = {"sign_in": [], "reload": [], "new_tab_deep_link": []}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
            for i in range(rounds + 1):  # round 0 warms the server up, not counted
                ctx = browser.new_context(viewport={"width": 1400, "height": 1000},
                                          locale="ru-RU", reduced_motion="reduce")
                ctx.add_init_script(NO_ANIMATION)
                page = ctx.new_page()
                page.goto(srv.url + "/")
                _ready(page, "Войти")
                signed = _login(page)
                time.sleep(0.5)  # the cookie is collected right after the first page
                t = time.perf_counter()
                page.reload()
                if entry == "app.py":  # no cookie: the login again
                    _ready(page, "Войти")
                    _login(page)
                else:
                    _ready(page, "Найдено клиентов")
                reload_ms = (time.perf_counter() - t) * 1000
                tab = ctx.new_page()
                t = time.perf_counter()
                tab.goto(srv.url + "/clients")
                if entry == "app.py":
                    _ready(tab, "Войти")
                    _login(tab)
                else:
                    _ready(tab, "Найдено клиентов")
                tab_ms = (time.perf_counter() - t) * 1000
                ctx.close()
                if i:
                    out["sign_in"].append(signed)
                    out["reload"].append(reload_ms)
                    out["new_tab_deep_link"].append(tab_ms)
            browser.close()
    finally:
        srv.stop()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=2000)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-sign-in-"))
    try:
        _seed(tmp / "data", args.clients)
        before = measure("app.py", tmp / "data", args.rounds)
        after = measure("serve.py", tmp / "data", args.rounds)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows: list[Row] = []
    for metric in after:
        b, a = before[metric], after[metric]
        base = pct(b, 50)
        rows.append(Row(metric, len(a), round(pct(a, 50)), round(pct(a, 95)),
                        f"< {TARGET_MS} ms", round(base), round(pct(a, 50) / base, 2),
                        pct(a, 95) < TARGET_MS,
                        "before: app.py without the cookie (a reload signs in again)"))
    print(f"{'metric':<20} {'n':>3} {'p50':>7} {'p95':>7} {'before':>7}  ok")
    for r in rows:
        print(f"{r.metric:<20} {r.n:>3} {r.p50:>7} {r.p95:>7} {r.baseline:>7}  {r.ok}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "sign_in.json").write_text(json.dumps(
        {"clients": args.clients, "rows": [r.__dict__ for r in rows],
         "raw": {"before": before, "after": after}}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
