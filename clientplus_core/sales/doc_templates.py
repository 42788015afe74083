"""Document templates: checking an uploaded .docx (its Jinja, its variables and a
trial render), rendering a template with a context, and the register of uploaded
templates (upload, list, default per kind, delete)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Mapping
from typing import Any

import jinja2
from jinja2 import nodes

from clientplus_core.base.errors import NotFound, ValidationError
from clientplus_core.clients import files
from clientplus_core.sales.doc_context import KINDS, VARIABLES, sample_context
from clientplus_core.store.db import Store, now_iso
from clientplus_core.team import audit
from clientplus_core.team.access import Actor, require

# fields of the items of list variables (``{% for x in lines %}`` …)
_ITEM_FIELDS = {"lines": VARIABLES["lines"], "schedule": VARIABLES["schedule"],
                "totals.vat_lines": {"caption": "подпись", "amount": "сумма"}}
_LISTS = {"lines", "schedule"}


# --- templates: validation --------------------------------------------------------------


def _env() -> jinja2.Environment:
    return jinja2.Environment(autoescape=True)


def render_bytes(template: bytes, ctx: Mapping[str, Any]) -> bytes:
    """Render the .docx ``template`` with ``ctx`` (autoescaped); the document's bytes."""
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(template))
    tpl.render(dict(ctx), jinja_env=_env(), autoescape=True)
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def _template_xml(data: bytes) -> str:
    """The Jinja source of a .docx as docxtpl sees it (body, headers, footers)."""
    from docx import Document
    from docx.oxml import parse_xml
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(io.BytesIO(data))
    doc = Document(io.BytesIO(data))
    xml = tpl.patch_xml(tpl.xml_to_string(doc._element.body))
    for rel in doc.part.rels.values():
        if rel.reltype in (tpl.HEADER_URI, tpl.FOOTER_URI) and rel.target_part.blob:
            xml += tpl.patch_xml(tpl.xml_to_string(parse_xml(rel.target_part.blob)))
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
    broken, it uses unknown variables or fields (named in the message), or a trial
    render with sample data fails."""
    if not name.lower().endswith(".docx"):
        raise ValidationError({"template": f"«{name}»: шаблон должен быть файлом Word .docx"})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if "word/document.xml" not in z.namelist():
                raise zipfile.BadZipFile
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
