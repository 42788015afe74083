"""One Jinja sandbox for every template a user writes: Word document templates
(:mod:`clientplus_core.sales.doc_templates`) and mailing texts
(:mod:`clientplus_core.outreach.mail_templates`).

:func:`bounded_sandbox` gives a :class:`BoundedSandbox`, jinja2's
:class:`~jinja2.sandbox.SandboxedEnvironment` (no attribute starting with ``_``, so no
``().__class__.__base__.__subclasses__()`` walk to ``os.system``) made stricter, so a
template can neither run code nor exhaust the server:

- **calls**: only the template's own macros, ``range`` / ``dict`` / ``namespace`` /
  ``cycler`` / ``joiner``, ``loop.cycle`` / ``loop.changed`` and a list of harmless
  methods of strings, dicts and lists (:data:`STR_METHODS` …); anything else (``append``,
  ``format``, ``translate`` …) is a :class:`~jinja2.exceptions.SecurityError`. Filters
  are the harmless ones of :data:`FILTERS`; ``recursive`` loops are refused.
- **text**: everything a render produces (output, ``~`` and ``+`` joins, ``*``
  repetitions, filter and method results) is charged to a budget of ``max_chars``
  characters, and operations that multiply (``'x' * 10**8``, ``ljust``, ``replace``,
  ``join`` with a long separator, printf widths) are charged *before* they are built,
  so ``{{ 'x' * 10**8 }}`` is refused at once instead of taking 640 MB.
  A string taken apart into characters or words (``|list``, ``.split()``) is charged
  :data:`ITEM_CHARS` per character before it is.
- **work**: loop iterations, calls and output pieces are limited to ``max_steps`` per
  render (nested loops over ``range(100000)`` stop after :data:`MAX_STEPS`), a render to
  :data:`MAX_SECONDS` seconds, integers to :data:`MAX_INT_BITS` bits.

Going over a limit raises :class:`SandboxLimitError` (a ``SecurityError``) with a
Russian message naming the limit. The budget covers one ``Template.render``, or every
render inside ``with env.budget():`` (all the parts of one .docx).

:func:`private_names` lists the ``_`` attributes a template reaches for, so an upload
check can refuse it by name before anything is rendered.
"""

from __future__ import annotations

import contextvars
import copy
import functools
import re
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.environment import Template
from jinja2.exceptions import SecurityError
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, LoopContext, Macro, Undefined
from jinja2.sandbox import SandboxedEnvironment, safe_range
from jinja2.utils import Cycler, Joiner, Namespace

#: steps one render may take: a loop iteration is one step, a call (a macro, a method,
#: a filter) is :data:`CALL_STEPS` steps — about a second of work at most
MAX_STEPS = 1_000_000
CALL_STEPS = 10
#: and however few its steps, one render stops after this many seconds
MAX_SECONDS = 10.0
#: the largest integer a template may compute (bits; 4096 bits ≈ 1233 digits)
MAX_INT_BITS = 4096
#: methods a template may call on a string (also on Markup, its escaping subclass)
STR_METHODS = frozenset({
    "capitalize", "casefold", "center", "count", "endswith", "find", "index", "isalnum",
    "isalpha", "isdecimal", "isdigit", "islower", "isnumeric", "isspace", "istitle",
    "isupper", "join", "ljust", "lower", "lstrip", "partition", "removeprefix",
    "removesuffix", "replace", "rfind", "rindex", "rjust", "rpartition", "rsplit", "rstrip",
    "split", "splitlines", "startswith", "strip", "striptags", "swapcase", "title",
    "unescape", "upper", "zfill"})
#: methods a template may call on a dict, a list or a tuple, a loop and a cycler
DICT_METHODS = frozenset({"get", "items", "keys", "values"})
LIST_METHODS = frozenset({"count", "index"})
LOOP_METHODS = frozenset({"changed", "cycle"})
CYCLER_METHODS = frozenset({"next", "reset"})
#: filters a template may use (jinja2's own; those that can multiply text by an
#: argument — center, indent, join, replace, format — are charged before they run;
#: batch, slice, wordwrap, urlize, tojson, xmlattr, pprint and sum are left out)
FILTERS = frozenset({
    "abs", "attr", "capitalize", "center", "count", "d", "default", "dictsort", "e",
    "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby",
    "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max",
    "min", "random", "reject", "rejectattr", "replace", "reverse", "round", "safe",
    "select", "selectattr", "sort", "string", "striptags", "title", "trim", "truncate",
    "unique", "upper", "urlencode", "wordcount"})
#: a string taken apart into its characters (``name|list``, ``s.split()``) is charged
#: this many characters per character: about the memory of one small string each
ITEM_CHARS = 40
#: filters that take their value apart item by item (a string: character by character)
_ITERATING_FILTERS = frozenset({
    "dictsort", "groupby", "join", "list", "map", "max", "min", "reject", "rejectattr",
    "select", "selectattr", "sort", "unique"})
#: filters whose attribute-name arguments are checked by :func:`private_names`
_ATTRIBUTE_FILTERS = frozenset({"attr", "map", "selectattr", "rejectattr", "groupby", "sort",
                                "unique", "min", "max", "dictsort", "join", "sum"})
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


class SandboxLimitError(SecurityError):
    """A template went over a limit of the sandbox; the message (Russian) says which."""


def megabytes(n: int) -> str:
    """``20 МБ``, ``1,5 МБ``, ``300 КБ``: a size or a limit as a person reads it."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".replace(".0", "").replace(".", ",") + " МБ"
    return f"{max(n, 0) // 1024} КБ" if n >= 1024 else f"{n} байт"


# --- the budget of one render --------------------------------------------------------------


class _Budget:
    """Characters produced, steps taken and the deadline of the render in progress."""

    __slots__ = ("chars", "deadline", "max_chars", "max_steps", "seconds", "steps")

    def __init__(self, max_chars: int, max_steps: int, max_seconds: float) -> None:
        self.chars = 0
        self.steps = 0
        self.max_chars = max_chars
        self.max_steps = max_steps
        self.seconds = max_seconds
        self.deadline = time.monotonic() + max_seconds

    def charge(self, n: int) -> None:
        self.chars += n
        if self.chars > self.max_chars:
            raise SandboxLimitError(
                f"шаблон создаёт слишком много текста (больше {megabytes(self.max_chars)}):"
                " проверьте циклы и повторения")

    def tick(self, steps: int = 1) -> None:
        self.steps += steps
        if self.steps > self.max_steps:
            raise SandboxLimitError(
                f"шаблон выполняет слишком много шагов (больше {self.max_steps:,} повторений"
                " циклов, вызовов и вставок): проверьте циклы".replace(",", " "))
        if time.monotonic() > self.deadline:
            raise SandboxLimitError(f"шаблон выполняется слишком долго (дольше"
                                    f" {self.seconds:g} с): проверьте циклы")


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "clientplus_template_budget", default=None)


def _size(obj: object, limit: int) -> int:
    """About how many characters ``obj`` prints as (stops counting past ``limit``)."""
    if isinstance(obj, (str, bytes)):
        return len(obj)
    if isinstance(obj, dict):
        obj = [*obj.keys(), *obj.values()]
    if isinstance(obj, (list, tuple, set, frozenset)):
        total = 2 + 4 * len(obj)
        for item in obj:
            if total > limit:
                break
            total += _size(item, limit - total)
        return total
    return 1


def _int_bits(operator: str, left: object, right: object) -> int:
    """Bits of an integer product or power, estimated before it is computed."""
    if not (isinstance(left, int) and isinstance(right, int)):
        return 0
    if operator == "*":
        return left.bit_length() + right.bit_length()
    return left.bit_length() * right if right > 0 and abs(left) > 1 else 0


def _printf_size(fmt: str, values: object) -> int:
    """Characters of ``fmt % values`` at most; a ``*`` width is refused."""
    total = len(fmt)
    for width, precision in _PRINTF.findall(fmt):
        if "*" in (width, precision):
            raise SecurityError("ширина «*» в форматировании шаблона не поддерживается")
        total += int(width or 0) + int(precision or 0)
    return total + 6 * _size(values, 1 << 40)


def _estimate(name: str, value: object, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """Characters a multiplying string operation would produce (0: not a multiplier)."""
    if not isinstance(value, str):
        return 0
    arg = (list(args) + [None, None])
    if name in ("center", "ljust", "rjust", "zfill"):
        width = kwargs.get("width", arg[0])
        return max(len(value), width if isinstance(width, int) else 80)
    if name == "indent":
        width = kwargs.get("width", arg[0] if arg[0] is not None else 4)
        pad = len(width) if isinstance(width, str) else int(width or 0)
        return len(value) + (value.count("\n") + 1) * max(pad, 0)
    if name == "replace":
        old, new = str(kwargs.get("old", arg[0]) or ""), str(kwargs.get("new", arg[1]) or "")
        hits = value.count(old) if old else len(value) + 1
        count = kwargs.get("count", arg[2] if len(args) > 2 else None)
        if isinstance(count, int) and count >= 0:
            hits = min(hits, count)
        return len(value) + hits * max(len(new) - len(old), 0)
    if name == "format":
        return _printf_size(value, (args, kwargs))
    if name in ("split", "rsplit", "splitlines"):
        return ITEM_CHARS * len(value)
    return 0


# --- the environment ----------------------------------------------------------------------


def _bounded_iter(iterable: Iterable[Any]) -> Iterator[Any]:
    """What a ``{% for %}`` loop iterates: one step of the budget per item."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.tick()
        yield item


class _Generator(CodeGenerator):
    """Compiles loops to count their steps and ``~`` joins to charge their length."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        if node.recursive:
            self.fail("рекурсивные циклы (recursive) в шаблонах не поддерживаются", node.lineno)
        node = copy.copy(node)
        node.iter = nodes.Call(nodes.EnvironmentAttribute("bounded_iter"), [node.iter], [],
                               None, None, lineno=node.lineno)
        node.iter.set_environment(self.environment)
        super().visit_For(node, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.charged(")
        super().visit_Concat(node, frame)
        self.write(")")


class BoundedTemplate(Template):
    """A template whose :meth:`render` runs inside a budget (see the module notes)."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        env = self.environment
        assert isinstance(env, BoundedSandbox)
        if _BUDGET.get() is not None:
            return super().render(*args, **kwargs)
        token = _BUDGET.set(env.new_budget())
        try:
            return super().render(*args, **kwargs)
        finally:
            _BUDGET.reset(token)


class BoundedSandbox(SandboxedEnvironment):
    """jinja2's sandbox with the limits of this module (build it with :func:`bounded_sandbox`)."""

    code_generator_class = _Generator
    template_class = BoundedTemplate
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    bounded_iter = staticmethod(_bounded_iter)

    def __init__(self, *, max_chars: int, max_steps: int = MAX_STEPS,
                 max_seconds: float = MAX_SECONDS, **options: Any) -> None:
        options.setdefault("finalize", self._finalize)
        super().__init__(**options)
        self.max_chars = max_chars
        self.max_steps = max_steps
        self.max_seconds = max_seconds
        self.globals.pop("lipsum", None)
        self.filters = {name: self._guarded_filter(name, f) for name, f in self.filters.items()
                        if name in FILTERS}
        self._functions: tuple[object, ...] = (safe_range, dict, Namespace, Cycler,
                                               Joiner, _bounded_iter)

    # the budget ------------------------------------------------------------------------

    @contextmanager
    def budget(self) -> Iterator[None]:
        """Renders inside share one budget (a fresh one unless one is already running)."""
        if _BUDGET.get() is not None:
            yield
            return
        token = _BUDGET.set(self.new_budget())
        try:
            yield
        finally:
            _BUDGET.reset(token)

    def new_budget(self) -> _Budget:
        """A fresh budget with this environment's limits."""
        return _Budget(self.max_chars, self.max_steps, self.max_seconds)

    def _budget(self) -> _Budget:
        # outside a render (jinja folding constants while compiling) one operation
        # is checked against a budget of its own
        return _BUDGET.get() or self.new_budget()

    def charged(self, value: Any) -> Any:
        """``value`` after charging its size (the result of a ``~`` join)."""
        budget = self._budget()
        budget.charge(_size(value, self.max_chars))
        return value

    def concat(self, parts: Iterable[str]) -> str:
        """Join the output of a template or block, charging it piece by piece (each
        piece is a step too)."""
        budget = self._budget()
        out: list[str] = []
        append = out.append
        for part in parts:  # inlined charge() and tick(): this runs for every piece
            budget.chars += len(part)
            budget.steps += 1
            if (budget.chars > budget.max_chars or budget.steps > budget.max_steps
                    or not budget.steps & 255):
                budget.charge(0)
                budget.tick(0)
            append(part)
        return "".join(out)

    def _finalize(self, value: Any) -> Any:
        if not isinstance(value, str):  # a list printed as text: its repr, charged first
            self._budget().charge(_size(value, self.max_chars))
        return value

    # operators, calls and filters ---------------------------------------------------------

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if _int_bits(operator, left, right) > MAX_INT_BITS:
            raise SandboxLimitError(f"шаблон вычисляет слишком большое число (больше"
                                    f" {MAX_INT_BITS} двоичных разрядов)")
        budget = self._budget()
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, (str, bytes, list, tuple)) and isinstance(times, int):
                    budget.charge(_size(seq, self.max_chars) * max(times, 0))
        elif operator == "%" and isinstance(left, str):
            budget.charge(_printf_size(left, right))
        result = self.binop_table[operator](left, right)
        if operator == "+" and isinstance(result, (str, bytes, list, tuple)):
            budget.charge(_size(result, self.max_chars))
        return result

    def _allowed(self, obj: Any) -> bool:
        if isinstance(obj, (Macro, Joiner, Undefined)) or any(obj is f for f in self._functions):
            return True
        owner, name = getattr(obj, "__self__", None), getattr(obj, "__name__", "")
        if isinstance(owner, str):
            return name in STR_METHODS
        if isinstance(owner, dict):
            return name in DICT_METHODS
        if isinstance(owner, (list, tuple)):
            return name in LIST_METHODS
        if isinstance(owner, LoopContext):
            return name in LOOP_METHODS
        if isinstance(owner, Cycler):
            return name in CYCLER_METHODS
        return False

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``obj`` from a template: allowed callables only, multipliers charged."""
        if not self._allowed(obj):
            name = getattr(obj, "__name__", None) or type(obj).__name__
            raise SecurityError(f"в шаблоне нельзя вызывать «{name}»")
        budget = self._budget()
        budget.tick(CALL_STEPS)
        name, owner = getattr(obj, "__name__", ""), getattr(obj, "__self__", None)
        if isinstance(owner, str):
            if name == "join" and args:
                if isinstance(args[0], str):
                    budget.charge(ITEM_CHARS * len(args[0]))
                items = list(args[0])
                budget.charge(len(owner) * len(items) + _size(items, self.max_chars))
                args = (items, *args[1:])
            else:
                budget.charge(_estimate(name, owner, args, kwargs))
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, (str, list, tuple)):
            budget.charge(_size(result, self.max_chars))
        return result

    def _guarded_filter(self, name: str, func: Callable[..., Any]) -> Callable[..., Any]:
        """``func`` with its size charged (before it runs, where it multiplies text)."""

        @functools.wraps(func)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            budget = self._budget()
            budget.tick(CALL_STEPS)
            lead = 0  # jinja passes its own context first to some filters
            while lead < len(args) and isinstance(args[lead], (EvalContext, Context,
                                                               SandboxedEnvironment)):
                lead += 1
            value, rest = (args[lead], args[lead + 1:]) if len(args) > lead else (None, ())
            if name in _ITERATING_FILTERS and isinstance(value, str):
                budget.charge(ITEM_CHARS * len(value))
            if name == "join" and value is not None:
                items = list(value)
                sep = str(kwargs.get("d", rest[0] if rest else ""))
                budget.charge(len(sep) * len(items) + _size(items, self.max_chars))
                args = (*args[:lead], items, *rest)
            elif name in ("center", "indent", "replace", "format"):
                budget.charge(_estimate(name, value if name == "format" else str(value), rest,
                                        kwargs))
            result = func(*args, **kwargs)
            if isinstance(result, (str, list, tuple)):
                budget.charge(_size(result, self.max_chars))
            return result

        return guarded


def bounded_sandbox(*, max_chars: int, max_steps: int = MAX_STEPS,
                    max_seconds: float = MAX_SECONDS, **options: Any) -> BoundedSandbox:
    """The sandbox every user template renders in (``options`` go to jinja2:
    ``autoescape``, ``undefined`` …); ``max_chars`` bounds what one render produces."""
    return BoundedSandbox(max_chars=max_chars, max_steps=max_steps, max_seconds=max_seconds,
                          **options)


# --- checking a template before it is used --------------------------------------------------


def private_names(ast: nodes.Template) -> list[tuple[str, int]]:
    """``(name, line)`` of every attribute or item starting with ``_`` that the template
    reaches for (``x.__class__``, ``x['_module']``, ``x|attr('__globals__')``)."""
    found: list[tuple[str, int]] = []
    for node in ast.find_all((nodes.Getattr, nodes.Getitem, nodes.Filter)):
        names: list[object] = []
        if isinstance(node, nodes.Getattr):
            names.append(node.attr)
        elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
            names.append(node.arg.value)
        elif isinstance(node, nodes.Filter) and node.name in _ATTRIBUTE_FILTERS:
            names += [a.value for a in node.args if isinstance(a, nodes.Const)]
            names += [k.value.value for k in node.kwargs
                      if k.key == "attribute" and isinstance(k.value, nodes.Const)]
        found += [(n, node.lineno) for n in names if isinstance(n, str) and n.startswith("_")]
    return sorted(set(found), key=found.index)
