"""Document templates: checking an uploaded .docx (its Jinja, its variables and a
trial render), rendering a template with a context, and the register of uploaded
templates (upload, list, default per kind, delete).

Every template, shipped or uploaded, the upload check's trial render included, renders
in the bounded sandbox of :mod:`clientplus_core.base.sandbox` (no ``_`` attributes, no
calls outside a short list, loops and output bounded), and a rendered document larger
than :data:`MAX_DOCUMENT_BYTES` is refused before it is saved. The upload check refuses
a template that reaches for a ``_`` name (``().__class__``) before rendering anything.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import nodes

from clientplus_core.base.errors import NotFound, UserError, ValidationError
from clientplus_core.base.safezip import ZipRefused
from clientplus_core.base.sandbox import (
    SandboxLimitError,
    bounded_sandbox,
    megabytes,
    private_names,
)
from clientplus_core.clients import files
from clientplus_core.sales.doc_context import KINDS, VARIABLES, sample_context
from clientplus_core.search.textextract import check_zip
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

# fields of the items of list variables (``{% for x in lines %}`` …)
_ITEM_FIELDS = {"lines": VARIABLES["lines"], "schedule": VARIABLES["schedule"],
                "totals.vat_lines": {"caption": "подпись", "amount": "сумма"}}
_LISTS = {"lines", "schedule"}
#: the largest document a template may make (the .docx file, and the text its Jinja
#: produces while rendering); above it the document is refused, nothing is saved
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024


# --- templates: validation --------------------------------------------------------------

_ENV = bounded_sandbox(max_chars=MAX_DOCUMENT_BYTES, autoescape=True)


def _env() -> jinja2.Environment:
    return _ENV


def render_bytes(template: bytes, ctx: Mapping[str, Any]) -> bytes:
    """Render the .docx ``template`` with ``ctx`` (autoescaped, sandboxed); the document's
    bytes. UserError when the template breaks a sandbox rule or a limit, or the document
    would be larger than :data:`MAX_DOCUMENT_BYTES`."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    try:
        with _ENV.budget():  # one budget for the body, headers, footers and properties
            tpl.render(dict(ctx), jinja_env=_ENV, autoescape=True)
    except SandboxLimitError as exc:
        raise UserError(str(exc)[:1].upper() + str(exc)[1:]) from None
    except jinja2.exceptions.SecurityError as exc:
        raise UserError(f"Шаблон выполняет запрещённую операцию ({exc})") from None
    except (jinja2.TemplateError, RecursionError) as exc:
        raise UserError(f"Шаблон не выполнен: {exc}") from None
    out = io.BytesIO()
    tpl.save(out)
    if out.tell() > MAX_DOCUMENT_BYTES:
        raise UserError(f"Документ получился слишком большим ({megabytes(out.tell())}, можно"
                        f" не больше {megabytes(MAX_DOCUMENT_BYTES)}): проверьте шаблон")
    return out.getvalue()


#: the document properties docxtpl renders as templates too
_PROPERTIES = ("author", "comments", "identifier", "language", "subject", "title")
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def _template_xml(data: bytes) -> str:
    """The Jinja source of a .docx as docxtpl sees it: body, headers, footers, footnotes
    and the document properties (each one line of its own)."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(data))
    doc = Document(io.BytesIO(data))
    xml = tpl.patch_xml(tpl.xml_to_string(doc._element.body))
    for rel in doc.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
    for part in doc.part.package.parts:
        if part.content_type == _FOOTNOTES and part.blob:
            xml += tpl.patch_xml(part.blob.decode("utf-8"))
    for prop in _PROPERTIES:
        xml += "\n" + (getattr(doc.core_properties, prop) or "").replace("\n", " ")
    return xml


def _attr_problems(ast: nodes.Template) -> list[str]:
    """Fields used that the context does not have: ``seller.fax``, ``line.colour``."""
    problems: list[str] = []

    def path(node: nodes.Node) -> str | None:
        if isinstance(node, nodes.Name):
            return node.name
        if isinstance(node, nodes.Getattr):
            base = path(node.node)
            return f"{base}.{node.attr}" if base else None
        return None

    def visit(node: nodes.Node, loops: dict[str, str]) -> None:
        if isinstance(node, nodes.For):
            visit(node.iter, loops)
            inner = dict(loops)
            src = path(node.iter)
            if isinstance(node.target, nodes.Name) and src:
                inner[node.target.name] = src
            for child in (*node.body, *node.else_):
                visit(child, inner)
            if node.test is not None:
                visit(node.test, inner)
            return
        if isinstance(node, nodes.Getattr) and isinstance(node.node, nodes.Name):
            name, attr = node.node.name, node.attr
            if name in loops:
                fields = _ITEM_FIELDS.get(loops[name])
                if fields is not None and attr not in fields:
                    problems.append(f"{name}.{attr}")
            elif name in VARIABLES and name not in _LISTS and attr not in VARIABLES[name]:
                problems.append(f"{name}.{attr}")
        for child in node.iter_child_nodes():
            visit(child, loops)

    visit(ast, {})
    return sorted(set(problems))


def validate_template(data: bytes, name: str = "template.docx") -> list[str]:
    """Check an uploaded template; returns the top-level variables it uses.

    ValidationError (key ``"template"``) when the file is not a .docx, its Jinja is
    broken, it reaches for a name starting with ``_`` (``x.__class__``, ``x['_y']``:
    refused before anything is rendered), it uses unknown variables or fields (named in
    the message), or a trial render with sample data fails or goes over a limit."""
    if not name.lower().endswith(".docx"):
        raise ValidationError({"template": f"«{name}»: шаблон должен быть файлом Word .docx"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise zipfile.BadZipFile
        check_zip(data)   # unpacked size, ratio, XML entities: before anything parses it
    except ZipRefused as exc:
        raise ValidationError({"template": f"«{name}»: шаблон не принят — {exc.reason}"}) \
            from None
    except (zipfile.BadZipFile, OSError):
        raise ValidationError({"template": f"«{name}»: это не документ .docx"
                                           " (файл повреждён или другого формата)"}) from None
    try:
        xml = _template_xml(data)
    except Exception as exc:  # noqa: BLE001 - any unreadable docx is a user error
        raise ValidationError({"template": f"«{name}»: не удалось прочитать .docx ({exc})"}) \
            from None
    env = _env()
    try:
        ast = env.parse(xml)
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationError({"template": f"«{name}»: ошибка в тегах шаблона — {exc.message}"
                                           f"{_near(xml, exc.lineno)}"}) from None
    private = private_names(ast)
    if private:
        names = list(dict.fromkeys(n for n, _ in private))
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise ValidationError({"template": f"«{name}»: шаблон обращается к служебным именам"
                                           f" ({shown}){_near(xml, private[0][1])} — такой"
                                           " шаблон не принимается: имена, начинающиеся"
                                           " с «_», в шаблонах запрещены"})
    try:
        env.from_string(xml)
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationError({"template": f"«{name}»: ошибка в тегах шаблона — {exc.message}"
                                           f"{_near(xml, exc.lineno)}"}) from None
    from jinja2 import meta

    used = meta.find_undeclared_variables(ast)
    unknown = sorted(used - set(VARIABLES))
    bad_fields = _attr_problems(ast)
    if unknown or bad_fields:
        parts = []
        if unknown:
            parts.append("неизвестные переменные: " + ", ".join(unknown))
        if bad_fields:
            parts.append("неизвестные поля: " + ", ".join(bad_fields))
        raise ValidationError({"template": f"«{name}»: " + "; ".join(parts)
                               + ". Доступны: " + ", ".join(VARIABLES)})
    try:
        render_bytes(data, sample_context())
    except Exception as exc:  # noqa: BLE001 - a template that cannot render is refused
        raise ValidationError({"template": f"«{name}»: пробная подстановка не удалась ({exc})"}) \
            from None
    return sorted(used)


def _near(xml: str, lineno: int | None) -> str:
    """The visible text near a Jinja error (the XML line it is on, tags stripped)."""
    if not lineno:
        return ""
    lines = xml.splitlines()
    if lineno - 1 >= len(lines):
        return ""
    text = re.sub(r"<[^>]+>", "", lines[lineno - 1])
    text = " ".join(text.split())
    return f" (рядом с «{text[:80]}»)" if text else ""


# --- templates: storage -----------------------------------------------------------------


def check_kind(kind: str) -> str:
    """``kind`` if it is a known kind of document, else ValidationError."""
    if kind not in KINDS:
        raise ValidationError({"kind": "Вид документа: " + ", ".join(KINDS)})
    return kind


def upload_template(store: Store, actor: Actor, kind: str, name: str, data: bytes,
                    make_default: bool = True) -> dict[str, Any]:
    """Validate and store a template for ``kind`` (admin); by default it becomes the
    one used by the kind's button."""
    require(actor, "templates.manage")
    check_kind(kind)
    fname = files.safe_name(name)
    variables = validate_template(data, fname)
    sha, size = files.put_blob(store, io.BytesIO(data))
    ts = now_iso()
    with store.write() as conn:
        conn.execute("INSERT OR IGNORE INTO blobs (sha256, size, text_status, text, created_at)"
                     " VALUES (?,?,?,?,?)", (sha, size, "none", "", ts))
        if make_default:
            conn.execute("UPDATE doc_templates SET is_default = 0 WHERE kind = ?", (kind,))
        cur = conn.execute(
            "INSERT INTO doc_templates (kind, name, sha256, variables, is_default, uploaded_by,"
            " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?)",
            (kind, fname, sha, json.dumps(variables), int(make_default), actor.id, ts, ts))
        tid = int(cur.lastrowid or 0)
        audit.record(conn, actor, "upload", "doc_template", tid, None,
                     f"{KINDS[kind]}: {fname}", {"sha256": sha, "variables": variables})
        return dict(conn.execute("SELECT * FROM doc_templates WHERE id = ?", (tid,)).fetchone())


def list_templates(store: Store, actor: Actor, kind: str | None = None) -> list[dict[str, Any]]:
    """Uploaded templates (newest first); the shipped ones are not listed."""
    require(actor, "sale.read")
    with store.read() as conn:
        sql = ("SELECT t.*, u.full_name AS uploaded_by_name FROM doc_templates t"
               " LEFT JOIN users u ON u.id = t.uploaded_by WHERE t.deleted_at IS NULL")
        args: list[object] = []
        if kind:
            sql += " AND t.kind = ?"
            args.append(kind)
        return [dict(r) | {"variables": json.loads(r["variables"])}
                for r in conn.execute(sql + " ORDER BY t.id DESC", args)]


def template_row(conn: Any, template_id: int) -> Any:
    """The live uploaded template ``template_id`` (NotFound otherwise)."""
    row = conn.execute("SELECT * FROM doc_templates WHERE id = ? AND deleted_at IS NULL",
                       (template_id,)).fetchone()
    if row is None:
        raise NotFound(f"Шаблон №{template_id} не найден")
    return row


def template_bytes(store: Store, actor: Actor, template_id: int) -> tuple[str, bytes]:
    require(actor, "sale.read")
    with store.read() as conn:
        row = template_row(conn, template_id)
    return row["name"], files.blob_path(store, row["sha256"]).read_bytes()


def set_default_template(store: Store, actor: Actor, template_id: int,
                         is_default: bool = True) -> None:
    """Use (or stop using) an uploaded template for its kind's button."""
    require(actor, "templates.manage")
    with store.write() as conn:
        row = template_row(conn, template_id)
        if is_default:
            conn.execute("UPDATE doc_templates SET is_default = 0 WHERE kind = ?", (row["kind"],))
        conn.execute("UPDATE doc_templates SET is_default = ?, updated_at = ?,"
                     " version = version + 1 WHERE id = ?", (int(is_default), now_iso(),
                                                               template_id))
        audit.record(conn, actor, "default" if is_default else "undefault", "doc_template",
                     template_id, None, row["name"])


def delete_template(store: Store, actor: Actor, template_id: int) -> None:
    require(actor, "templates.manage")
    with store.write() as conn:
        row = template_row(conn, template_id)
        conn.execute("UPDATE doc_templates SET deleted_at = ?, is_default = 0,"
                     " version = version + 1 WHERE id = ?", (now_iso(), template_id))
        audit.record(conn, actor, "delete", "doc_template", template_id, None, row["name"])
