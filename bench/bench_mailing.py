"""Mailing rows of the benchmark (called from ``bench_outreach.rows``; also runs
standalone: ``.venv/bin/python bench/bench_mailing.py [N]``).

Sends N (default 1,000) personalised messages (client name, contact first name, sale
number and total, the client's debt, the manager, a per-recipient unsubscribe token
and header) through :func:`clientplus_core.outreach.sending.send` to an aiosmtpd server on
127.0.0.1 (in its own process) with no rate limit: every recipient queued, claimed and
logged in its own short transaction, plus its contact-history entry.

Baseline measured in the same run: raw ``smtplib`` sending the same number of
pre-built messages (one ``EmailMessage`` each, built before the clock starts) over
one connection to the same server — the floor of the SMTP conversation itself;
``ratio`` = baseline / core (below 1: the core is slower than the bare baseline).

The mailing works in its own small data folder under ``work`` (N clients, each with
a contact and an invoiced sale, inserted directly), so the big benchmark data set
gets no mailing log or contact-history rows.
"""

from __future__ import annotations

import socket
import statistics
import sys
import time
from pathlib import Path

try:
    from bench_common import Row, pct  # type: ignore[import-not-found]
except ImportError:  # standalone, from the project root
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_common import Row, pct  # type: ignore[import-not-found]

from clientplus_core.outreach import mailing, sending, smtp
from clientplus_core.records import settings
from clientplus_core.store.db import Store, now_iso
from clientplus_core.store.startup import open_store
from clientplus_core.team import users
from clientplus_core.team.access import Actor

N = 1_000


SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Counter:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.n += 1
        return "250 OK"
c = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
for line in sys.stdin:
    print(Counter.n, flush=True)
c.stop()
"""


class _Server:
    """aiosmtpd in its own process (as a real server would be: no shared GIL)."""

    def __init__(self) -> None:
        import subprocess

        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-c", SERVER, str(self.port)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    @property
    def n(self) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("count\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(work: Path, n: int) -> tuple[Store, Actor]:
    """A small data folder: n clients with a contact and an invoiced sale each."""
    folder = work / "mailing-bench"
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    store = open_store(folder)
    admin = users.ensure_local_admin(store)
    ts = now_iso()
    with store.write() as conn:
        for i in range(1, n + 1):
            cid = conn.execute(
                "INSERT INTO clients (kind, name, inn, email, owner_id, created_at, updated_at)"
                " VALUES ('legal', ?, '7707083893', ?, ?, ?, ?)",
                (f"ООО «Клиент {i}»", f"client{i}@example.ru", admin.id, ts, ts)).lastrowid
            conn.execute("INSERT INTO contacts (client_id, name, email, consent_email, created_at,"
                         " updated_at) VALUES (?,?,?,1,?,?)",
                         (cid, f"Иванов Иван{i} Иванович", f"ivanov{i}@example.ru", ts, ts))
            conn.execute(
                "INSERT INTO sales (number, date, client_id, owner_id, client_owner_id,"
                " status_id, status_at, total_kop, paid_kop, created_at, updated_at)"
                " VALUES (?, '2026-11-01', ?, ?, ?, 6, ?, ?, ?, ?, ?)",
                (f"Б-{i:05d}", cid, admin.id, admin.id, ts, 1_234_567 + i, 1000, ts, ts))
    settings.put(store, admin, "mail_rate_per_minute", 0)
    return store, admin


def _targets(store: Store, n: int) -> list[mailing.Target]:
    with store.read() as conn:
        rows = conn.execute("SELECT k.client_id, k.id, k.email, k.name, s.id AS sale_id"
                            " FROM contacts k JOIN sales s ON s.client_id = k.client_id"
                            " ORDER BY k.id LIMIT ?", (n,)).fetchall()
    return [mailing.Target(r["client_id"], r["id"], r["email"], r["name"], r["sale_id"])
            for r in rows]


def rows(store: Store, admin: Actor, work: Path, n: int = N) -> list[Row]:
    """The mailing rows (``store``/``admin`` of the big data set are not touched)."""
    work.mkdir(parents=True, exist_ok=True)
    mstore, madmin = _seed(work, n)
    targets = _targets(mstore, n)
    handler = _Server()
    port = handler.port
    try:
        cfg = smtp.config_from({"host": "127.0.0.1", "port": port, "security": "none",
                                "from_name": "ООО «Ромашка»",
                                "from_address": "sales@romashka.ru", "timeout": 30},
                               password="")
        m = mailing.create(mstore, madmin, {
            "subject": "Счёт {{ sale.number }} для {{ client.name }}",
            "body_text": "Здравствуйте, {{ contact.first_name }}!\nПо счёту {{ sale.number }} "
                         "на {{ sale.total }} долг {{ debt }}.\nВаш менеджер {{ manager.name }}.",
            "body_html": "<p>Здравствуйте, <b>{{ contact.first_name }}</b>!</p>"
                         "<p>Долг: {{ debt }}</p>"})
        stamps: list[float] = []
        t0 = time.perf_counter()
        result = sending.send(mstore, madmin, m["id"], config=cfg, recipients_override=targets,
                              progress=lambda d, t, r: stamps.append(time.perf_counter()))
        core_ms = (time.perf_counter() - t0) * 1000
        sent_core = handler.n
        per = [(b - a) * 1000 for a, b in zip([t0, *stamps[:-1]], stamps, strict=True)]

        # baseline: raw smtplib, same number of pre-built messages, one connection
        msgs = [smtp.build_message(cfg, t.email, f"Счёт для {t.name}",
                                   f"Здравствуйте!\nДолг по счёту {i}.", "<p>Здравствуйте</p>",
                                   headers={"List-Unsubscribe": "<mailto:sales@romashka.ru>"})
                for i, t in enumerate(targets)]
        import smtplib

        t1 = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as conn:
            for msg in msgs:
                conn.send_message(msg)
        base_ms = (time.perf_counter() - t1) * 1000
    finally:
        handler.stop()
    ok = result["sent"] == n and sent_core == n and core_ms < 30_000
    note = (f"sent {result['sent']}/{n} (server counted {sent_core}); failed {result['failed']};"
            f" baseline = raw smtplib, {n} pre-built messages, one connection")
    out = [Row(f"mailing: send {n:,} personalised messages (loopback SMTP, no rate limit)",
               n, core_ms, None, "< 30 s", base_ms, base_ms / core_ms if core_ms else None,
               ok, note)]
    if per:
        out.append(Row("mailing: per message (render + claim + SMTP + log + history)", n,
                       statistics.median(per), pct(per, 95), "—",
                       base_ms / n, (base_ms / n) / statistics.median(per) if per else None,
                       None, "baseline = raw smtplib time per message"))
    return out


def main(argv: list[str]) -> int:
    import tempfile

    n = int(argv[0]) if argv else N
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        result = rows(None, None, work, n)  # type: ignore[arg-type]
    print(f"{'metric':72} {'n':>6} {'p50 ms':>10} {'p95 ms':>10} {'target':>8} "
          f"{'baseline':>10} {'ratio':>6} ok")
    for r in result:
        p95 = f"{r.p95:10.2f}" if r.p95 is not None else f"{'—':>10}"
        print(f"{r.metric:72} {r.n:6} {r.p50:10.2f} {p95} {r.target:>8} "
              f"{r.baseline or 0:10.2f} {r.ratio or 0:6.2f} {r.ok}")
        if r.note:
            print(f"    {r.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
