"""Word documents from a sale: commercial offer, invoice for payment (счёт на
оплату), contract and act, rendered with docxtpl (Jinja tags inside a .docx).

Public API::

    KINDS                                             # {"offer": "Коммерческое предложение", …}
    available_variables() -> dict[str, dict[str, str]]  # what a template may use, described
    render(store, actor, sale_id, template="invoice", *, doc_date=None,
           attach=True) -> (filename, bytes)
        # template: a kind ("offer" | "invoice" | "contract" | "act"), the id of an
        # uploaded template, or the bytes of a .docx (administrator only; validated first)
    context(store, actor, sale_id, kind="invoice", number="", doc_date=None) -> dict
    upload_template(store, actor, kind, name, data, make_default=True) -> dict
    validate_template(data, name="template.docx") -> list[str]     # variables used
    list_templates(store, actor, kind=None) -> list[dict]
    template_bytes(store, actor, template_id) -> (name, bytes)
    set_default_template(store, actor, template_id, is_default=True) -> None
    delete_template(store, actor, template_id) -> None
    default_template(kind) -> bytes                  # the shipped template
    pdf_available() -> bool; to_pdf(docx_bytes) -> bytes

Rendering uses ``autoescape=True``: a client named ``ООО "Рога & Копыта" <тест>``
gives a valid document. Every template renders in the bounded Jinja sandbox
(:mod:`clientplus_core.base.sandbox`): it cannot run code, and a document over
``MAX_DOCUMENT_BYTES`` (20 MB) is refused before anything is saved. Only the
administrator may render a template that is not in the register (``template=bytes``,
the CLI's ``--template PATH.docx``). Values in the context are already formatted for print
(``"6 826,84"``, dates ``"30.12.2025"``), so a template needs no filters.

Each generated document gets a number (its own sequence per kind and year, like
1C: "Счёт на оплату № 15") and a date, is recorded in ``documents`` and saved to
the sale's files (also shown on the client's card and searchable by its text).

The default templates live in ``clientplus_core/sales/templates/*.docx``; they are
built by :func:`build_default_template` with python-docx
(``python -m clientplus_core.sales.documents build-templates`` rewrites them) and, if a
file is missing, built in memory on first use.

An uploaded template is refused (``ValidationError`` naming what is wrong) when it
is not a .docx, when its Jinja is broken, when it reaches for a name starting with
``_``, when it uses a variable or a field that does not exist (``seller.fax``), or
when a trial render with sample data fails or goes over a limit.

The code is split: :mod:`.doc_context` (kinds, variables, the context),
:mod:`.doc_templates` (validation, rendering a template, uploaded templates) and
:mod:`.doc_builder` (the shipped templates); their public names are re-exported here.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tempfile
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from clientplus_core.base.errors import AccessDenied, UserError
from clientplus_core.clients import files, text_jobs
from clientplus_core.sales import attachments
from clientplus_core.sales.common import parse_date, today, visible
from clientplus_core.sales.doc_builder import build_default_template
from clientplus_core.sales.doc_context import (
    KINDS,
    MONTHS_GEN,
    VARIABLES,
    available_variables,
    context,
    format_day,
    sample_context,
)
from clientplus_core.sales.doc_templates import (
    MAX_DOCUMENT_BYTES,
    check_kind,
    delete_template,
    list_templates,
    render_bytes,
    set_default_template,
    template_bytes,
    template_row,
    upload_template,
    validate_template,
)
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, can, require

__all__ = [
    "ADHOC_REFUSED",
    "KINDS",
    "MAX_DOCUMENT_BYTES",
    "MONTHS_GEN",
    "TEMPLATES_DIR",
    "VARIABLES",
    "available_variables",
    "build_default_template",
    "context",
    "default_template",
    "delete_template",
    "list_templates",
    "pdf_available",
    "render",
    "sample_context",
    "set_default_template",
    "template_bytes",
    "to_pdf",
    "upload_template",
    "validate_template",
    "write_default_templates",
]

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
#: why a template file that is not in the register is refused to anyone but the admin
ADHOC_REFUSED = ("Шаблон из файла может использовать только администратор: выберите вид"
                 " документа (offer, invoice, contract, act) — будет взят шаблон из настроек")


# --- rendering --------------------------------------------------------------------------


@lru_cache(maxsize=8)
def default_template(kind: str) -> bytes:
    """The shipped template of ``kind`` (built in memory if the file is missing)."""
    check_kind(kind)
    path = TEMPLATES_DIR / f"{kind}.docx"
    if path.exists():
        return path.read_bytes()
    return build_default_template(kind)


def _allocate_number(conn: Any, kind: str, year: int) -> str:
    row = conn.execute("SELECT last_no FROM doc_counters WHERE kind = ? AND year = ?",
                       (kind, year)).fetchone()
    seq = (row["last_no"] if row else 0) + 1
    conn.execute("INSERT INTO doc_counters (kind, year, last_no) VALUES (?,?,?)"
                 " ON CONFLICT(kind, year) DO UPDATE SET last_no = excluded.last_no",
                 (kind, year, seq))
    return str(seq)


def render(store: Store, actor: Actor, sale_id: int, template: str | int | bytes = "invoice",
           *, doc_date: str | date | None = None, attach: bool = True,
           kind: str | None = None) -> tuple[str, bytes]:
    """Render a document of a sale; returns ``(filename, docx bytes)``.

    ``template``: a kind (``"offer"``, ``"invoice"``, ``"contract"``, ``"act"``: the
    kind's uploaded default template, else the shipped one), the id of an uploaded
    template, or the bytes of a .docx (validated first; ``kind`` names what it is,
    default ``"custom"``). With ``attach`` (default) the document gets the next
    number of its kind and year, is saved to the sale's files and recorded;
    without it (a preview) it is numbered "—" and nothing is stored.

    A template given as bytes is not in the register, so only the administrator (who
    may upload templates) may use it: AccessDenied for anyone else.
    """
    require(actor, "document.generate")
    template_id: int | None = None
    if isinstance(template, (bytes, bytearray)):
        if not can(actor, "templates.manage"):
            raise AccessDenied(ADHOC_REFUSED)
        validate_template(bytes(template), "template.docx")
        data, kind = bytes(template), kind or "custom"
    elif isinstance(template, int):
        with store.read() as conn:
            row = template_row(conn, template)
        data, kind, template_id = (files.blob_path(store, row["sha256"]).read_bytes(),
                                   row["kind"], row["id"])
    else:
        kind = check_kind(str(template))
        with store.read() as conn:
            row = conn.execute("SELECT * FROM doc_templates WHERE kind = ? AND is_default = 1"
                               " AND deleted_at IS NULL ORDER BY id DESC LIMIT 1",
                               (kind,)).fetchone()
        if row is not None:
            data, template_id = files.blob_path(store, row["sha256"]).read_bytes(), row["id"]
        else:
            data = default_template(kind)
    day = parse_date(doc_date or today(), "Дата документа") or ""
    title = KINDS.get(kind, "Документ")
    if not attach:
        ctx = context(store, actor, sale_id, kind, "—", day)
        out = render_bytes(data, ctx)
        return files.safe_name(f"{title} (черновик) {ctx['sale']['number']}.docx"), out
    with store.write() as conn:
        sale = visible(conn, actor, sale_id)
        number = _allocate_number(conn, kind, int(day[:4]))
        # the context is read through another connection: it sees the committed sale,
        # which this transaction has not changed
        ctx = context(store, actor, sale_id, kind, number, day)
        out = render_bytes(data, ctx)
        fname = files.safe_name(f"{title} № {number} от {format_day(day)} ({sale['number']}).docx")
        sha, size = files.put_blob(store, io.BytesIO(out))
        frow = attachments.attach(conn, actor, sale_id, fname, sha, size)
        totals = ctx["totals"]["total"]
        cur = conn.execute(
            "INSERT INTO documents (sale_id, kind, number, date, template_id, file_id,"
            " total_kop, created_by, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (sale_id, kind, number, day, template_id, frow["id"], sale["total_kop"], actor.id,
             now_iso()))
        audit.record(conn, actor, "document", "sale", sale_id, sale["client_id"],
                     f"{sale['number']}: {title} № {number} от {format_day(day)}",
                     {"document_id": cur.lastrowid, "kind": kind, "file_id": frow["id"],
                      "total": totals, "template_id": template_id})
    if frow["text_status"] == "pending":   # its text is read off the request
        text_jobs.start(store)
    return fname, out


# --- PDF --------------------------------------------------------------------------------


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    """Whether LibreOffice is installed (the page hides the PDF button otherwise)."""
    return _soffice() is not None


def to_pdf(docx: bytes, timeout: int = 120) -> bytes:
    """Convert a .docx to PDF with ``soffice --headless --convert-to pdf``."""
    exe = _soffice()
    if exe is None:
        raise UserError("PDF недоступен: LibreOffice (soffice) не установлен на сервере")
    with tempfile.TemporaryDirectory(prefix="clientplus-pdf-") as tmp:
        src = Path(tmp) / "document.docx"
        src.write_bytes(docx)
        try:
            subprocess.run([exe, "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                            "--convert-to", "pdf", "--outdir", tmp, str(src)],
                           check=True, capture_output=True, timeout=timeout)
        except (subprocess.SubprocessError, OSError) as exc:
            raise UserError(f"PDF: LibreOffice не смог преобразовать документ ({exc})") from None
        pdf = Path(tmp) / "document.pdf"
        if not pdf.exists():
            raise UserError("PDF: LibreOffice не создал файл")
        return pdf.read_bytes()


def write_default_templates(dest: Path = TEMPLATES_DIR) -> list[Path]:
    """(Re)build the shipped templates into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for kind in KINDS:
        path = dest / f"{kind}.docx"
        path.write_bytes(build_default_template(kind))
        out.append(path)
    default_template.cache_clear()
    return out


def _main(argv: list[str]) -> int:
    if argv[:1] == ["build-templates"]:
        for p in write_default_templates():
            print(p)
        return 0
    print("usage: python -m clientplus_core.sales.documents build-templates", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
