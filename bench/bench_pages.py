"""Pages as a person waits for them (issue 14), timed in Chromium against
``streamlit run serve.py`` on the bench data set (100k clients, 1M sales).

    .venv/bin/python bench/bench_pages.py [--data DIR] [--rounds 5]
    .venv/bin/python bench/bench_pages.py --sessions 1,5,10 --duration 120

A page is ready when its title is shown and Streamlit's script is idle (the app root's
``data-test-script-state`` is ``notRunning`` and no "running" widget shows); the time
ends when the browser has painted that state (two animation frames later: the script
can go idle before the last elements are drawn). Timed:

* **full load** — ``page.goto(<page address>)`` in a signed-in browser (the session
  cookie brings the user back), until ready;
* **in-app click** — a click on the page's entry in the sidebar menu, from the
  user's profile page (a light page), until ready;

as the administrator and as ``manager1``, min / median / p95 over ``--rounds`` loads
after one warm-up load. The analytics copy is built (the dashboard is opened and
waited for) before anything is timed. With ``--sessions``, N browser contexts click
through registry → card → sales → dashboard → reports in a loop for ``--duration``
seconds against one server; the table gives p50 / p95 per page for each N, errors,
and the server's peak memory. ``--load`` says who the other N-1 people are:
``browsers`` — N Chromium contexts on this 2-core machine, which then renders for
everyone and is what saturates (Chromium took 1.7 cores at 5 sessions); ``server`` —
one person timed in Chromium and N-1 headless tabs (bench/st_client.py) that make the
server do exactly what a browser tab makes it do, without the rendering that on a
real team happens on each person's own computer. ``both`` (default) runs both.

The data set is the one ``bench/bench.py`` generates and caches. The bench users get
passwords on it (``bench-pass-<login>``): signing in is what a real user does.
Nothing here is asserted: it measures and reports.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_common import pct  # noqa: E402

from tests.e2e.conftest import CHROMIUM, NO_ANIMATION, Server  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_DATA = Path(tempfile.gettempdir()) / "clientplus-bench" / "full"
LOGINS = ("admin", "manager1")
FULL_TARGET_MS, CLICK_TARGET_MS, SIGN_IN_TARGET_MS = 2500, 1500, 1500

# (row name, address, title shown when ready, sidebar entry to click or None)
PAGES: list[tuple[str, str, str, str | None]] = [
    ("client registry", "/clients", "Клиенты", "Клиенты"),
    ("client card", "/client?id={client}", "{client_name}", None),
    ("sales register", "/sales", "Продажи", "Продажи"),
    ("dashboard", "/dashboard", "Дашборд", "Дашборд"),
    ("reports (funnel tab)", "/reports", "Отчёты", "Отчёты"),
    ("search", "/search?q={query}", "Поиск", None),
]

# ready: the title is shown, the script is idle (twice, 30 ms apart, so that a rerun
# that starts at once is not mistaken for the end), after a click it ran since, and
# the browser has painted that state (the time returned)
WATCH = """() => {
  window.__cp = {ran: false};
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return;
  // every change of the script state is seen (a polling loop can miss a short run
  // when the renderer is busy, and would then wait for a run that already happened)
  new MutationObserver(() => {
    if (app.getAttribute('data-test-script-state') === 'running') window.__cp.ran = true;
  }).observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
READY = """([title, needRun]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const st = app && app.getAttribute('data-test-script-state');
  const idle = st === 'notRunning' && !document.querySelector('[data-testid="stStatusWidget"]');
  const h1 = [...document.querySelectorAll('h1')].some(h => h.innerText.trim() === title);
  const cp = window.__cp || {ran: false};
  if (!(idle && h1 && (!needRun || cp.ran))) { cp.since = null; window.__cp = cp; return false; }
  if (cp.since == null) {
    // ready as of now: the time counted ends when the browser has painted it (the
    // second animation frame from now), not when the script went idle
    const since = cp.since = performance.now();
    cp.painted = null;
    requestAnimationFrame(() => requestAnimationFrame(() => {
      if (cp.since === since) cp.painted = performance.now();
    }));
    window.__cp = cp;
    return false;
  }
  return performance.now() - cp.since >= 30 && cp.painted != null ? cp.painted : false;
}"""


def prepare_users(data: Path) -> dict[str, str]:
    """Passwords for the bench users (set directly, so nobody must change them)."""
    from clientplus_core.team.auth import hash_password

    out = {login: f"bench-pass-{login}" for login in LOGINS}
    conn = sqlite3.connect(data / "clientplus.db")
    try:
        with conn:
            for login, pw in out.items():
                conn.execute("UPDATE users SET password_hash = ?, must_change_password = 0,"
                             " is_active = 1 WHERE login = ?", (hash_password(pw), login))
                conn.execute("DELETE FROM sign_in_failures WHERE login = ?", (login,))
    finally:
        conn.close()
    return out


def pick_targets(data: Path, login: str) -> dict[str, str]:
    """A client the user may open (a manager: one of their own), and a search word."""
    conn = sqlite3.connect(data / "clientplus.db")
    try:
        uid, role = conn.execute("SELECT id, role FROM users WHERE login = ?",
                                 (login,)).fetchone()
        cid, name = conn.execute(
            "SELECT id, name FROM clients WHERE (owner_id = ? OR ?) AND deleted_at IS NULL"
            " ORDER BY id LIMIT 1 OFFSET 50", (uid, role != "manager")).fetchone()
    finally:
        conn.close()
    return {"client": str(cid), "client_name": name, "query": "Сбербанк"}


def _fill(template: str, targets: dict[str, str]) -> str:
    return template.format(**targets)


async def ready(page: Any, title: str, need_run: bool, t0: float, timeout: float = 120) -> float:
    """ms from ``t0`` (the page's performance clock) until the page was ready."""
    handle = await page.wait_for_function(READY, arg=[title, need_run], polling=10,
                                          timeout=timeout * 1000)
    since = await handle.json_value()
    return float(since) - t0


async def sign_in(page: Any, url: str, login: str, password: str) -> float:
    """Sign in from the login form; ms from the click until the registry is ready."""
    await page.goto(url + "/")
    await page.get_by_label("Логин").fill(login)
    await page.get_by_label("Пароль").fill(password)
    await page.evaluate(WATCH)
    t0 = await page.evaluate("performance.now()")
    await page.get_by_role("button", name="Войти").click()
    ms = await ready(page, "Клиенты", False, t0)  # the form is titled «ClientPlus»
    # the browser collects the session cookie right after the first page; wait for it
    # (under load it can take a second), as a reload before it would sign in again
    from clientplus_core.team.sessions import COOKIE

    for _ in range(300):
        if any(c["name"] == COOKIE for c in await page.context.cookies()):
            break
        await asyncio.sleep(0.1)
    return ms


async def full_load(page: Any, url: str, title: str) -> float:
    """Navigate to ``url``; ms from the navigation's start until ready."""
    await page.goto(url, wait_until="commit")
    await page.evaluate(WATCH)
    return await ready(page, title, False, 0.0)  # performance.now() starts at navigation


async def click_to(page: Any, entry: str, title: str) -> float:
    """Click a sidebar entry; ms from the click until ready. The page clicked from
    always has another title, so the target's title is the sign that the new run
    rendered (a short run's "running" state may never reach the DOM: React batches
    the start and the end of a fast run into one update)."""
    link = page.locator('[data-testid="stSidebarNav"] a', has_text=entry).first
    await page.evaluate(WATCH)
    t0 = await page.evaluate("performance.now()")
    await link.click()
    return await ready(page, title, False, t0)


async def new_context(browser: Any) -> Any:
    ctx = await browser.new_context(viewport={"width": 1440, "height": 1000}, locale="ru-RU",
                                    reduced_motion="reduce")
    await ctx.add_init_script(NO_ANIMATION)
    ctx.set_default_timeout(120_000)
    return ctx


async def single_user(url: str, data: Path, passwords: dict[str, str], rounds: int,
                      browser: Any) -> dict[str, dict[str, list[float]]]:
    """{"<role> · <page> · full|click": ms list}."""
    out: dict[str, dict[str, list[float]]] = {}
    for login in LOGINS:
        targets = pick_targets(data, login)
        ctx = await new_context(browser)
        page = await ctx.new_page()
        out[f"{login} · sign-in"] = {"full": [await sign_in(page, url, login,
                                                            passwords[login])]}
        for name, path, title, entry in PAGES:
            title = _fill(title, targets)
            full: list[float] = []
            click: list[float] = []
            for i in range(rounds + 1):  # round 0 warms up, not counted
                ms = await full_load(page, url + _fill(path, targets), title)
                if i:
                    full.append(ms)
                if entry:
                    await full_load(page, url + "/profile", "Профиль")
                    ms = await click_to(page, entry, title)
                    if i:
                        click.append(ms)
            out[f"{login} · {name}"] = {"full": full, "click": click}
            print(f"  {login} · {name}: full {_fmt(full)}  click {_fmt(click)}",
                  file=sys.stderr, flush=True)
        await ctx.close()
    return out


def _fmt(v: list[float]) -> str:
    return f"{min(v):.0f}/{statistics.median(v):.0f}/{pct(v, 95):.0f}" if v else "—"


class MemoryWatch:
    """Peak resident memory (MB) of the server process, sampled every 0.5 s."""

    def __init__(self, pid: int):
        self.pid, self.peak, self._stop = pid, 0.0, False

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the server has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    async def run(self) -> None:
        while not self._stop:
            self.peak = max(self.peak, self.rss())
            await asyncio.sleep(0.5)

    def stop(self) -> None:
        self._stop = True


async def session_loop(browser: Any, url: str, data: Path, passwords: dict[str, str],
                       n: int, deadline: float, times: dict[str, list[float]],
                       errors: list[str]) -> None:
    """One person clicking through registry → card → sales → dashboard → reports."""
    login = LOGINS[n % len(LOGINS)]
    targets = pick_targets(data, login)
    ctx = await new_context(browser)
    page = await ctx.new_page()
    try:
        await sign_in(page, url, login, passwords[login])
        while time.monotonic() < deadline:
            for name, path, title, entry in PAGES[:5]:
                title = _fill(title, targets)
                try:
                    if entry and name != "client registry":
                        ms = await click_to(page, entry, title)
                    else:
                        ms = await full_load(page, url + _fill(path, targets), title)
                    if await page.locator('[data-testid="stException"]').count():
                        errors.append(f"{login} {name}: exception on the page")
                    times.setdefault(name, []).append(ms)
                except Exception as exc:  # noqa: BLE001 - a timeout is a result here
                    errors.append(f"{login} {name}: {type(exc).__name__}: {str(exc)[:120]}")
                    shot = RESULTS / f"pages-error-{n}-{len(errors)}.png"
                    with contextlib.suppress(Exception):  # what the person saw, to look at
                        RESULTS.mkdir(parents=True, exist_ok=True)
                        await page.screenshot(path=str(shot))
                if time.monotonic() >= deadline:
                    break
    finally:
        await ctx.close()


async def headless_loop(url: str, data: Path, cookies: dict[str, dict[str, str]], n: int,
                        deadline: float, times: dict[str, list[float]],
                        errors: list[str], render_ms: float = 0.0) -> None:
    """The same loop as :func:`session_loop`, spoken to the server without a browser
    (bench/st_client.py): the registry opens a new connection (a page load), the
    rest are reruns on it (sidebar clicks). Times are the server's answer in full.
    After each page the tab waits ``render_ms``, the time a browser needs to draw
    what arrived before its person can click again."""
    from st_client import HeadlessSession

    login = LOGINS[n % len(LOGINS)]
    targets = pick_targets(data, login)
    tab = HeadlessSession(url, cookies[login])
    try:
        while time.monotonic() < deadline:
            for name, path, title, _entry in PAGES[:5]:
                page, _, query = _fill(path, targets).lstrip("/").partition("?")
                try:
                    if name == "client registry":
                        await tab.open()
                    run = await tab.run(page, query)
                    if run.exception or _fill(title, targets) not in run.headings:
                        errors.append(f"{login} {name} (headless): {run.status}, exception "
                                      f"{run.exception}, headings {run.headings[:3]}")
                    times.setdefault(name, []).append(run.ms)
                except Exception as exc:  # noqa: BLE001 - a timeout is a result here
                    errors.append(f"{login} {name} (headless): {type(exc).__name__}: {exc}")
                await asyncio.sleep(render_ms / 1000)
                if time.monotonic() >= deadline:
                    break
    finally:
        await tab.close()


async def session_cookies(browser: Any, url: str, passwords: dict[str, str]
                          ) -> dict[str, dict[str, str]]:
    """Each bench user signs in once in a browser; the headless tabs use its cookies."""
    out = {}
    for login in LOGINS:
        ctx = await new_context(browser)
        page = await ctx.new_page()
        await sign_in(page, url, login, passwords[login])
        out[login] = {c["name"]: c["value"] for c in await ctx.cookies()}
        await ctx.close()
    return out


def _summary(times: dict[str, list[float]]) -> dict[str, Any]:
    every = [t for v in times.values() for t in v]
    return {"pages": len(every), "p50": pct(every, 50) if every else None,
            "p95": pct(every, 95) if every else None,
            "per_page": {k: {"n": len(v), "p50": pct(v, 50), "p95": pct(v, 95)}
                         for k, v in times.items()}}


async def concurrent(url: str, data: Path, passwords: dict[str, str], counts: list[int],
                     duration: float, browser: Any, pid: int, mode: str, pace: bool = True
                     ) -> list[dict[str, Any]]:
    """N people for ``duration`` s. ``mode`` "browsers": N Chromium contexts on this
    machine; "server": one Chromium context (the person timed) and N-1 headless tabs
    that load the server as N-1 browsers on other computers would (with ``pace``,
    each waits after a page as long as a browser here takes to draw one; without,
    they ask again at once, a harsher load than any browser makes)."""
    cookies = await session_cookies(browser, url, passwords) if mode == "server" else {}
    render_ms = 0.0
    if mode == "server" and pace:
        # what drawing a page costs a browser here: a person's page time in Chromium
        # alone, less the server's answer to a headless tab alone (same pages)
        alone: dict[str, list[float]] = {}
        await headless_loop(url, data, cookies, 0, time.monotonic() + 15, alone, [])
        seen: dict[str, list[float]] = {}
        await session_loop(browser, url, data, passwords, 0, time.monotonic() + 15, seen, [])
        render_ms = max(0.0, pct([t for v in seen.values() for t in v], 50)
                        - pct([t for v in alone.values() for t in v], 50))
        print(f"  a browser draws a page in ~{render_ms:.0f} ms here", file=sys.stderr)
    out = []
    for n in counts:
        times: dict[str, list[float]] = {}
        others: dict[str, list[float]] = {}
        errors: list[str] = []
        watch = MemoryWatch(pid)
        mem = asyncio.create_task(watch.run())
        cpu0, t0, own0 = watch.cpu_s(), time.monotonic(), sum(os.times()[:2])
        deadline = time.monotonic() + duration
        browsers = n if mode == "browsers" else 1
        await asyncio.gather(
            *(session_loop(browser, url, data, passwords, i, deadline, times, errors)
              for i in range(browsers)),
            *(headless_loop(url, data, cookies, i, deadline, others, errors, render_ms)
              for i in range(browsers, n)))
        watch.stop()
        await mem
        server_cpu, wall = watch.cpu_s() - cpu0, time.monotonic() - t0
        row = {"mode": mode, "sessions": n, "browsers": browsers, "render_ms": round(render_ms),
               "bench_cores_busy": round((sum(os.times()[:2]) - own0) / wall, 2),
               **_summary(times),
               "headless": _summary(others), "errors": errors,
               "peak_rss_mb": round(watch.peak),
               "pages_per_s": round((_summary(times)["pages"]
                                     + _summary(others)["pages"]) / wall, 2),
               "server_cores_busy": round(server_cpu / wall, 2)}
        row["server_cpu_per_page_ms"] = round(1000 * server_cpu / max(
            1, row["pages"] + row["headless"]["pages"]))
        out.append(row)
        print(f"  {mode}, {n} sessions: {row['pages']} browser pages, p50 {row['p50']}, "
              f"p95 {row['p95']}; headless p95 {row['headless']['p95']}; errors "
              f"{len(errors)}, peak {watch.peak:.0f} MB", file=sys.stderr, flush=True)
    return out


async def warm_analytics(browser: Any, url: str, passwords: dict[str, str]) -> float:
    """Open the dashboard once and wait until it is idle (builds the analytics copy when
    it is missing); seconds taken."""
    t = time.perf_counter()
    ctx = await new_context(browser)
    page = await ctx.new_page()
    await sign_in(page, url, "admin", passwords["admin"])
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # the page may show a build progress first
        await full_load(page, url + "/dashboard", "Дашборд")
        if not await page.get_by_text("Готовим отчёты").count():
            break
        await asyncio.sleep(2)
    await ctx.close()
    return time.perf_counter() - t


def print_pages(results: dict[str, dict[str, list[float]]]) -> None:
    print("\n| page (role) | full load min / med / p95 ms | target | in-app click min / med"
          " / p95 ms | target |")
    print("|---|---|---|---|---|")
    for key, v in results.items():
        full, click = v.get("full", []), v.get("click", [])
        target = SIGN_IN_TARGET_MS if key.endswith("sign-in") else FULL_TARGET_MS
        print(f"| {key} | {_fmt(full)} | < {target} | {_fmt(click)} | "
              f"{'< ' + str(CLICK_TARGET_MS) if click else ''} |")


def print_sessions(rows: list[dict[str, Any]]) -> None:
    print("\n| load | sessions | browser pages timed | browser p50 ms | browser p95 ms |"
          " p95 vs 1 session | headless p50 / p95 ms | pages/s | errors | server peak MB |"
          " server CPU per page ms | server cores busy (of 2) | bench process cores |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        one = next((x["p95"] for x in rows if x["sessions"] == 1 and x["mode"] == r["mode"]),
                   None)
        ratio = f"{r['p95'] / one:.2f}×" if one and r["p95"] else ""
        h = r["headless"]
        others = f"{h['p50']:.0f} / {h['p95']:.0f}" if h["pages"] else "—"
        load = ("all in Chromium here" if r["mode"] == "browsers"
                else f"1 in Chromium + headless (draw pause {r['render_ms']} ms)")
        print(f"| {load} | {r['sessions']} | {r['pages']} | {r['p50']:.0f} | {r['p95']:.0f} |"
              f" {ratio} | {others} | {r['pages_per_s']} | {len(r['errors'])} |"
              f" {r['peak_rss_mb']} | {r['server_cpu_per_page_ms']} | {r['server_cores_busy']} |"
              f" {r['bench_cores_busy']} |")


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    data = Path(args.data)
    if not (data / "clientplus.db").exists():
        raise SystemExit(f"no data set in {data}: run bench/bench.py first")
    passwords = prepare_users(data)
    srv = Server(data)
    report: dict[str, Any] = {"data": str(data), "rounds": args.rounds}
    try:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
                "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
            report["analytics_warm_s"] = round(await warm_analytics(browser, srv.url,
                                                                    passwords), 1)
            print(f"  analytics copy ready after {report['analytics_warm_s']} s",
                  file=sys.stderr, flush=True)
            if args.rounds:
                report["pages"] = await single_user(srv.url, data, passwords, args.rounds,
                                                    browser)
            if args.sessions:
                counts = [int(x) for x in args.sessions.split(",")]
                report["sessions"] = []
                for mode in ("server", "browsers") if args.load == "both" else (args.load,):
                    report["sessions"] += await concurrent(
                        srv.url, data, passwords, counts, args.duration, browser,
                        srv.proc.pid, mode, pace=not args.no_pause)
            await browser.close()
    finally:
        srv.stop()
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(DEFAULT_DATA))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sessions", default="", help="e.g. 1,5,10")
    ap.add_argument("--duration", type=float, default=120.0)
    ap.add_argument("--load", choices=("server", "browsers", "both"), default="both",
                    help="who the other sessions are: headless tabs (the server's load "
                         "only), Chromium contexts on this machine, or both runs")
    ap.add_argument("--no-pause", action="store_true",
                    help="headless tabs ask for the next page at once (no drawing time)")
    args = ap.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    report = asyncio.run(amain(args))
    if "pages" in report:
        print_pages(report["pages"])
    if "sessions" in report:
        print_sessions(report["sessions"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "pages.json").write_text(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
