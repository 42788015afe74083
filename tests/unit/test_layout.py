"""The code's layout keeps the rules of ``../shared/DESIGN.md`` section 1.

Read from the source with :mod:`ast` (nothing is imported except in the Streamlit
check): dependencies point one way along :data:`LAYERS`, no module imports
another in a circle, no module reaches for another's ``_private`` name, modules
and pages stay small, and the core and the command line never load Streamlit.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Lower layers first: a module may import its own package and the ones listed
# before it, never one listed after it. Packages on one line are independent of
# each other (neither imports the other).
LAYERS: list[tuple[str, ...]] = [
    ("clientplus_core",),  # the package root: __version__ only
    ("clientplus_core.base",),
    ("clientplus_core.store",),
    ("clientplus_core.team",),
    ("clientplus_core.records",),
    ("clientplus_core.search",),
    ("clientplus_core.clients",),
    ("clientplus_core.sales",),
    ("clientplus_core.analytics",),
    ("clientplus_core.outreach",),
    ("clientplus_core.organizer",),
    ("clientplus_core.requisites",),
    ("clientplus_core.bank",),
    ("clientplus_core.maintenance",),
    ("clientplus_core.demo",),
    ("clientplus_cli", "clientplus_ui"),  # clientplus_ui: the frame (context, i18n, widgets)
    ("clientplus_ui.requisites",),
    ("clientplus_ui.clients",),
    ("clientplus_ui.sales",),
    ("clientplus_ui.analytics", "clientplus_ui.outreach", "clientplus_ui.organizer",
     "clientplus_ui.team", "clientplus_ui.settings", "clientplus_ui.bank"),
    ("pages", "app", "serve"),
]
RANK = {name: i for i, group in enumerate(LAYERS) for name in group}

MAX_MODULE_LINES = 600
MAX_PAGE_LINES = 100
CODE_DIRS = ("clientplus_core", "clientplus_cli", "clientplus_ui")


@dataclass
class Module:
    name: str
    path: Path
    tree: ast.Module
    is_package: bool
    imports: list[tuple[str, int]] = field(default_factory=list)  # (module, line)
    private: list[tuple[str, int]] = field(default_factory=list)  # (what, line)


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def _sources() -> Iterator[Path]:
    for d in (*CODE_DIRS, "pages"):
        yield from sorted((ROOT / d).rglob("*.py"))
    yield ROOT / "app.py"
    yield ROOT / "serve.py"


def _load() -> dict[str, Module]:
    mods: dict[str, Module] = {}
    for path in _sources():
        name, is_pkg = _module_name(path)
        mods[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8")), is_pkg)
    for mod in mods.values():
        _read_imports(mod, mods)
    return mods


def _absolute(mod: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.name.split(".")
    if not mod.is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _read_imports(mod: Module, mods: dict[str, Module]) -> None:
    aliases: set[str] = set()  # names bound to one of our modules
    for node in ast.walk(mod.tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in mods:
                    mod.imports.append((a.name, node.lineno))
                    aliases.add(a.asname or a.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            src = _absolute(mod, node)
            if src not in mods:
                continue
            for a in node.names:
                sub = f"{src}.{a.name}"
                if sub in mods:
                    mod.imports.append((sub, node.lineno))
                    aliases.add(a.asname or a.name)
                    continue
                mod.imports.append((src, node.lineno))
                if a.name.startswith("_") and not a.name.startswith("__"):
                    mod.private.append((f"{src}.{a.name}", node.lineno))
    for node in ast.walk(mod.tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                and node.value.id in aliases and node.attr.startswith("_")
                and not node.attr.startswith("__")):
            mod.private.append((f"{node.value.id}.{node.attr}", node.lineno))


def _layer(name: str) -> str:
    """The entry of :data:`LAYERS` that module ``name`` belongs to."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in RANK:
            return ".".join(parts[:k])
    raise AssertionError(f"{name} is in no layer: add its package to LAYERS")


MODS = _load()


def test_every_module_belongs_to_a_layer() -> None:
    for name in MODS:
        _layer(name)


def _wrong_way(mods: dict[str, Module]) -> list[str]:
    wrong = []
    for mod in mods.values():
        own = _layer(mod.name)
        for target, line in mod.imports:
            other = _layer(target)
            if other != own and RANK[other] >= RANK[own]:
                wrong.append(f"{mod.path.name}:{line} ({own}) imports {target}"
                             f" ({other}), which is not below it")
    return wrong


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    circles: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    circles.append(sorted(comp))
    return circles


def _graph(mods: dict[str, Module]) -> dict[str, set[str]]:
    return {m.name: {t for t, _ in m.imports if t != m.name} for m in mods.values()}


def test_dependencies_point_one_way_between_packages() -> None:
    wrong = _wrong_way(MODS)
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_another_in_a_circle() -> None:
    circles = _circles(_graph(MODS))
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


def test_no_module_uses_another_modules_private_names() -> None:
    found = [f"{m.path.relative_to(ROOT)}:{line} uses {what}"
             for m in MODS.values() for what, line in m.private]
    assert not found, "\n".join(found)


def test_modules_and_pages_stay_small() -> None:
    big = []
    for mod in MODS.values():
        n = len(mod.path.read_text(encoding="utf-8").splitlines())
        limit = MAX_PAGE_LINES if mod.name.startswith("pages.") else MAX_MODULE_LINES
        if n > limit:
            big.append(f"{mod.path.relative_to(ROOT)}: {n} lines (limit {limit})")
    assert not big, "\n".join(big)


def test_pages_hold_no_storage_code_and_no_sql() -> None:
    bad = []
    sql_words = ("select ", "insert into", "update ", "delete from", "create table")
    for mod in MODS.values():
        if not (mod.name.startswith("pages.") or mod.name in ("app", "serve")):
            continue
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                         else [node.module or ""])
                bad += [f"{mod.name}: imports {n}" for n in names
                        if n.split(".")[0] in ("sqlite3", "sqlite_utils", "duckdb")]
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value.lower()
                if any(text.lstrip().startswith(w) for w in sql_words):
                    bad.append(f"{mod.name}:{node.lineno}: SQL text {node.value[:40]!r}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("package", ["clientplus_core", "clientplus_cli"])
def test_core_and_command_line_never_import_streamlit(package: str) -> None:
    names = sorted(n for n in MODS if n.split(".")[0] == package)
    code = ("import importlib, sys\n"
            f"for n in {names!r}:\n"
            "    if n.endswith('__main__'): continue\n"
            "    importlib.import_module(n)\n"
            "print('streamlit' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_rules_catch_what_they_are_meant_to_catch(tmp_path: Path) -> None:
    """The checks themselves: a made-up circle, a private import and a wrong-way
    dependency are each reported."""
    def module(name: str, code: str, is_package: bool = False) -> Module:
        return Module(name, tmp_path / f"{name}.py", ast.parse(code), is_package)

    mods = {m.name: m for m in (
        module("clientplus_core.base", "", True),
        module("clientplus_core.base.a", "from clientplus_core.sales import x\n"
                                         "from clientplus_core.base.b import _p\n"),
        module("clientplus_core.base.b", "from clientplus_core.base import a\n"
                                         "def f():\n    return a._hidden\n"),
        module("clientplus_core.sales", "", True),
    )}
    for m in mods.values():
        _read_imports(m, mods)
    assert _wrong_way(mods) == ["clientplus_core.base.a.py:1 (clientplus_core.base) imports"
                                " clientplus_core.sales (clientplus_core.sales), which is not"
                                " below it"]
    assert _circles(_graph(mods)) == [["clientplus_core.base.a", "clientplus_core.base.b"]]
    assert mods["clientplus_core.base.a"].private == [("clientplus_core.base.b._p", 2)]
    assert mods["clientplus_core.base.b"].private == [("a._hidden", 3)]
