"""Plain text from attachments (PDF, DOCX, XLSX, TXT/CSV) with no external binaries,
bounded so that a hostile file cannot stall or exhaust the server.

- :func:`extract` reads one file in this process. A .docx/.xlsx is looked into first
  (:mod:`clientplus_core.base.safezip`): over :data:`MAX_UNPACKED` unpacked, a part
  compressed more than :data:`MAX_RATIO` times, or an XML entity declaration, and it
  is not unpacked at all. A .docx is read as a stream (constant memory) rather than
  through python-docx, whose per-paragraph objects and XPath made a 47 KB file of
  empty paragraphs take a minute and 1.7 GB.
- :func:`extract_isolated` runs the same in a child process (``python -m
  clientplus_core.search.textextract``) under a memory cap (``RLIMIT_AS``,
  :data:`MEMORY_LIMIT_MB`) and a time cap (:data:`TIME_LIMIT_S`): what the server
  uses for uploads (:mod:`clientplus_core.clients.text_jobs` calls it off the request).

The result is an :class:`Extracted`: ``ok`` (text found), ``none`` (no text or a
format we do not read), ``error`` (broken, encrypted, or refused for an entity
declaration) or ``too_large`` (over a cap), with a Russian ``reason`` to show for
the last two. Nothing here raises for a bad file, so the file itself is always kept.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from clientplus_core.base.safezip import MB, ZipRefused, check_no_dtd, check_sizes

log = logging.getLogger(__name__)

MAX_TEXT = 2_000_000            # characters kept per file
MAX_UNPACKED = 50 * MB          # a .docx/.xlsx unpacked, all parts together
MAX_RATIO = 200                 # a part over 1 MB compressed more than this: a zip bomb
TIME_LIMIT_S = 30               # per file, in the child process
MEMORY_LIMIT_MB = 512           # address space of the child process
STATUSES = ("pending", "ok", "none", "error", "too_large")
ZIP_FORMATS = (".docx", ".xlsx", ".xlsm")
MODULE = "clientplus_core.search.textextract"
_MEMORY_EXIT = 3                # the child's exit code when it ran out of memory
_ROOT = Path(__file__).resolve().parents[2]   # the folder holding clientplus_core

TOO_LARGE = "текст не извлечён: файл слишком большой"
NOT_READ = "текст не извлечён"


@dataclass(frozen=True)
class Extracted:
    """What came out of one file: ``status`` (see the module notes), the text, and
    for ``error`` / ``too_large`` a Russian reason («текст не извлечён: …»)."""

    status: str
    text: str = ""
    reason: str = ""


def too_large(detail: str) -> Extracted:
    return Extracted("too_large", "", f"{TOO_LARGE} — {detail}")


def memory_exhausted(memory_mb: int = MEMORY_LIMIT_MB) -> Extracted:
    return too_large(f"для разбора не хватило {memory_mb} МБ памяти")


def time_exceeded(seconds: float = TIME_LIMIT_S) -> Extracted:
    return too_large(f"разбор не уложился в {seconds:g} с")


# --- readers ----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    for enc in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1", errors="replace")


def _pdf(data: bytes) -> str:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        try:
            if not reader.decrypt(""):
                return ""
        except Exception:  # noqa: BLE001 - encrypted with a password: no text
            return ""
    parts = []
    for page in reader.pages:
        parts.append(page.extract_text() or "")
        if sum(map(len, parts)) > MAX_TEXT:
            break
    return "\n".join(parts)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_OFFICE_DOCUMENT = re.compile(
    rb'<Relationship\b[^>]*\bType="[^"]*/officeDocument"[^>]*\bTarget="([^"]+)"'
    rb'|<Relationship\b[^>]*\bTarget="([^"]+)"[^>]*\bType="[^"]*/officeDocument"')


def _main_part(z: zipfile.ZipFile) -> str:
    """The zip path of a .docx's main document (``word/document.xml`` as a rule)."""
    try:
        m = _OFFICE_DOCUMENT.search(z.read("_rels/.rels"))
    except KeyError:
        m = None
    target = (m.group(1) or m.group(2)).decode() if m else "word/document.xml"
    return target.lstrip("/")


def _docx(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z, z.open(_main_part(z)) as part:
        return docx_text(part)


def docx_text(stream: IO[bytes]) -> str:
    """The text of a Word document's XML, streamed: one line per paragraph with text,
    one line per table row (cells joined by tabs). Elements are dropped as soon as
    they are read, so memory stays flat however many paragraphs there are; entities
    are never expanded, DTDs never loaded, nothing fetched."""
    from lxml import etree

    out: list[str] = []
    para: list[str] = []
    cell: list[str] = []
    cells: list[str] = []
    size = 0
    tags = [_W + t for t in ("t", "tab", "br", "cr", "p", "tc", "tr")]
    for _event, el in etree.iterparse(stream, events=("end",), tag=tags,
                                      resolve_entities=False, load_dtd=False,
                                      no_network=True, huge_tree=False):
        tag = el.tag[len(_W):]
        if tag == "t":
            para.append(el.text or "")
        elif tag == "tab":
            para.append("\t")
        elif tag in ("br", "cr"):
            para.append("\n")
        elif tag == "p":
            text = "".join(para)
            para.clear()
            parent = el.getparent()
            if parent is not None and parent.tag == _W + "tc":
                cell.append(text)
            elif text.strip():
                out.append(text)
                size += len(text)
        elif tag == "tc":
            cells.append("\n".join(cell))
            cell.clear()
        elif tag == "tr":
            line = "\t".join(cells)
            cells.clear()
            if line.strip():
                out.append(line)
                size += len(line)
        if tag in ("p", "tr"):
            el.clear(keep_tail=False)
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
        if size > MAX_TEXT:
            break
    return "\n".join(out)


def _xlsx(data: bytes) -> str:
    """Cell values, one line per row. openpyxl reads the sheets' XML through
    defusedxml (a project dependency), which refuses DTDs and entities."""
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    parts: list[str] = []
    size = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            line = "\t".join(str(v) for v in row if v is not None)
            if line:
                parts.append(line)
                size += len(line)
            if size > MAX_TEXT:
                break
    wb.close()
    return "\n".join(parts)


EXTRACTORS: dict[str, Callable[[bytes], str]] = {
    ".pdf": _pdf, ".docx": _docx, ".xlsx": _xlsx, ".xlsm": _xlsx, ".txt": _decode,
    ".csv": _decode, ".md": _decode, ".tsv": _decode}


def readable(filename: str) -> bool:
    """Whether a file of this name is one whose text we read."""
    return Path(filename).suffix.lower() in EXTRACTORS


def check_zip(data: bytes) -> None:
    """Refuse (:class:`ZipRefused`) a .docx/.xlsx over the unpacked-size or ratio caps,
    or with an XML entity declaration; ``zipfile.BadZipFile`` for a broken one."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        check_sizes(z, max_total=MAX_UNPACKED, max_ratio=MAX_RATIO)
        check_no_dtd(z)


# --- extraction -------------------------------------------------------------------------


def extract(data: bytes, filename: str, *, memory_mb: int = MEMORY_LIMIT_MB) -> Extracted:
    """The text of one file, read in this process (the zip checks apply; the time and
    memory caps only in :func:`extract_isolated`, which passes its ``memory_mb`` for
    the message)."""
    ext = Path(filename).suffix.lower()
    fn = EXTRACTORS.get(ext)
    if fn is None:
        return Extracted("none")
    try:
        if ext in ZIP_FORMATS:
            check_zip(data)
        text = fn(data)
    except ZipRefused as exc:
        return too_large(exc.reason) if exc.too_large else Extracted(
            "error", "", f"{NOT_READ}: {exc.reason}")
    except MemoryError:
        return memory_exhausted(memory_mb)
    except Exception as exc:  # noqa: BLE001 - any broken file must not stop an upload
        if "memory" in str(exc).lower() and "alloc" in str(exc).lower():
            return memory_exhausted(memory_mb)   # lxml's "Memory allocation failed"
        log.info("no text from %s: %s", filename, exc)
        return Extracted("error", "", f"{NOT_READ}: файл повреждён, зашифрован или не того"
                                      f" формата ({type(exc).__name__})")
    text = (text or "").replace("\x00", "").strip()[:MAX_TEXT]
    return Extracted("ok", text) if text else Extracted("none")


def extract_text(data: bytes, filename: str) -> tuple[str, str]:
    """``(status, text)`` of :func:`extract` (the demo loader's bulk path)."""
    result = extract(data, filename)
    return result.status, result.text


def extract_isolated(path: Path, filename: str, *, time_limit: float = TIME_LIMIT_S,
                     memory_mb: int = MEMORY_LIMIT_MB) -> Extracted:
    """:func:`extract` of the file at ``path`` (named ``filename``) in a child process
    that may use at most ``memory_mb`` MB of address space and ``time_limit`` seconds;
    it is killed when time is up. A format we do not read starts no child."""
    if not readable(filename):
        return Extracted("none")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(_ROOT), env.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", MODULE, "--memory-mb", str(memory_mb), "--", str(path),
           filename]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=time_limit, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return time_exceeded(time_limit)
    except OSError as exc:
        log.warning("text extraction could not start: %s", exc)
        return Extracted("error", "", f"{NOT_READ}: не удалось запустить разбор ({exc})")
    if proc.returncode == _MEMORY_EXIT:
        return memory_exhausted(memory_mb)
    try:
        if proc.returncode != 0:
            raise ValueError(f"exit code {proc.returncode}")
        out = json.loads(proc.stdout)
        return Extracted(str(out["status"]), str(out["text"]), str(out["reason"]))
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("text extraction of %s failed: %s %s", filename, exc,
                    proc.stderr[-2000:].decode("utf-8", "replace"))
        if proc.returncode < 0 or b"MemoryError" in proc.stderr:
            # killed by a signal: under the address-space cap that is an allocation
            # some native code could not survive
            return memory_exhausted(memory_mb)
        return Extracted("error", "", f"{NOT_READ}: разбор файла прервался")


def _limit_memory(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX: no cap
        return
    limit = memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def main(argv: list[str] | None = None) -> int:
    """The child process: ``python -m clientplus_core.search.textextract
    [--memory-mb N] PATH NAME`` prints the :class:`Extracted` as JSON."""
    parser = argparse.ArgumentParser(prog=MODULE)
    parser.add_argument("--memory-mb", type=int, default=MEMORY_LIMIT_MB)
    parser.add_argument("path")
    parser.add_argument("name")
    args = parser.parse_args(argv)
    _limit_memory(args.memory_mb)
    try:
        result = extract(Path(args.path).read_bytes(), args.name, memory_mb=args.memory_mb)
        payload = json.dumps(asdict(result), ensure_ascii=False)
    except MemoryError:
        return _MEMORY_EXIT
    sys.stdout.write(payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
