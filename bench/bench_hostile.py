"""Hostile files (issue 11, part 3): what a zip-bomb .docx attachment, a zip-bomb .xlsx
import and a CSV with thousands of columns cost the server now. Each case runs in a
child process of its own, so its wall time and peak memory are its own; the text
extraction's own child is measured from inside the case.

    .venv/bin/python bench/bench_hostile.py [--quick]

Prints a table and writes ``bench/results/hostile.json``. "before" is what the same
files cost on this machine before the caps (text read inside the upload request with
python-docx; the .xlsx read whole by calamine; column mapping re-deriving every field's
phrases per column)."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import hostile_files as hostile  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# (what, before: seconds, peak MB) measured on this machine before the caps
BEFORE = {"docx-47KB": (59.4, 1734), "docx-134KB": (225.6, 4963),
          "xlsx-256MB": (10.9, 1256), "csv-5000": (6.8, 18), "csv-8000": (7.0, 18)}
SIZES = {"docx-47KB": 5_300_000, "docx-134KB": 15_300_000}


def case(name: str) -> dict[str, object]:
    """One measurement, in this (child) process."""
    from clientplus_core.base.errors import UserError
    from clientplus_core.clients import files, import_mapping, sheets, text_jobs
    from clientplus_core.search.textextract import docx_text
    from clientplus_core.store.startup import open_store
    from clientplus_core.team import users

    out: dict[str, object] = {}
    if name.startswith("docx"):
        data = hostile.empty_paragraphs_docx(SIZES[name])
        out["file KB"] = len(data) // 1024
        store = open_store(Path(tempfile.mkdtemp(prefix="bench-hostile-")) / "data")
        admin = users.ensure_local_admin(store)
        from clientplus_core.clients import cards

        c = cards.create(store, admin, {"kind": "legal", "name": "Клиент"})
        t = time.perf_counter()
        row = files.upload(store, admin, c["id"], "пустышка.docx", io.BytesIO(data))
        out["request s"] = round(time.perf_counter() - t, 3)
        text_jobs.wait(store)
        out["until result s"] = round(time.perf_counter() - t, 3)
        [listed] = files.list_for_client(store, admin, c["id"])
        out["status"] = f"{row['text_status']} -> {listed['text_status']}"
        # the streaming reader on the same XML, as if no cap had stopped it
        with zipfile.ZipFile(io.BytesIO(data)) as z, z.open("word/document.xml") as part:
            t = time.perf_counter()
            docx_text(part)
            out["stream reader s (uncapped)"] = round(time.perf_counter() - t, 2)
    elif name == "xlsx-256MB":
        data = hostile.bomb_xlsx(256)
        out["file KB"] = len(data) // 1024
        t = time.perf_counter()
        try:
            sheets.read_table(data, "клиенты.xlsx")
            out["status"] = "read"
        except UserError as exc:
            out["status"] = f"refused: {str(exc)[:60]}…"
        out["request s"] = round(time.perf_counter() - t, 3)
    elif name.startswith("csv"):
        n = int(name.split("-")[1])
        data = hostile.wide_csv(n)
        t = time.perf_counter()
        try:
            sheets.read_table(data, "клиенты.csv")
            out["status"] = "read"
        except UserError as exc:
            out["status"] = f"refused: {str(exc)[:60]}…"
        out["request s"] = round(time.perf_counter() - t, 3)
        headers = data.decode().split("\n")[0].split(";")
        t = time.perf_counter()
        import_mapping.guess_mapping(headers)
        out["guess_mapping s (uncapped)"] = round(time.perf_counter() - t, 2)
    return out


def run(name: str) -> dict[str, object]:
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, __file__, "--case", name], cwd=ROOT,
                            stdout=subprocess.PIPE, env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"case {name} failed")
    result = json.loads(stdout)
    result["wall s"] = round(time.perf_counter() - t, 2)
    result["peak MB"] = round(usage.ru_maxrss / 1024)
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--case")
    parser.add_argument("--quick", action="store_true", help="skip the 134 KB .docx")
    args = parser.parse_args()
    if args.case:
        print(json.dumps(case(args.case), ensure_ascii=False))
        return 0
    names = [n for n in BEFORE if not (args.quick and n == "docx-134KB")]
    results = {}
    print("| case | before: s, peak MB | now: request s | now: peak MB | now: result |")
    print("|---|---|---|---|---|")
    for name in names:
        r = results[name] = run(name)
        before = BEFORE[name]
        print(f"| {name} | {before[0]} s, {before[1]} MB | {r['request s']} |"
              f" {r['peak MB']} | {r['status']} |", flush=True)
    print()
    for name, r in results.items():
        print(name, json.dumps(r, ensure_ascii=False))
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "hostile.json"
    out.write_text(json.dumps({"before": BEFORE, "now": results}, ensure_ascii=False, indent=1))
    print(f"\nresults: {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
