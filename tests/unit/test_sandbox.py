"""The one Jinja sandbox of user templates (``clientplus_core.base.sandbox``): no code
runs, and what a template may produce or do is bounded — each hostile template is
refused with a Russian message long before it could take the memory or time it asks
for (the limits are lowered here so that the refusals come fast)."""

from __future__ import annotations

import pytest
from jinja2 import TemplateSyntaxError
from jinja2.exceptions import SecurityError

from clientplus_core.base.sandbox import SandboxLimitError, bounded_sandbox, private_names

MB = 1024 * 1024


def render(source: str, max_chars: int = MB, **ctx: object) -> str:
    env = bounded_sandbox(max_chars=max_chars, max_steps=100_000, autoescape=True)
    return env.from_string(source).render(**ctx)


def test_the_attribute_walk_to_os_system_is_refused(tmp_path) -> None:
    marker = tmp_path / "MARKER"
    payload = ("{% for x in ().__class__.__base__.__subclasses__() %}"
               "{% if 'catch_warnings' == x.__name__ %}"
               "{{ x()._module.__builtins__['__import__']('os').system('touch " + str(marker)
               + "') }}{% endif %}{% endfor %}")
    with pytest.raises(SecurityError):
        render(payload)
    with pytest.raises(SecurityError):
        render("{{ (lines|attr('__class__')).__mro__ }}", lines=[])
    assert not marker.exists()


@pytest.mark.parametrize("source", [
    "{{ 'x' * 10**8 }}",
    "{{ 'x'.ljust(10**9) }}",
    "{{ 'x'|center(10**9) }}",
    "{{ ('x' * 1000)|replace('x', 'y' * 100000) }}",
    "{{ ('y' * 100000).join(['a'] * 1000) }}",
    "{{ ['a', 'b']|join('z' * 10**7) }}",
    "{{ '%1000000000s' % 'x' }}",
    "{{ '%1000000000s'|format('x') }}",
    "{{ ['x' * 100000] * 1000 }}",
    "{% set ns = namespace(s='xx') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}",
    "{% set ns = namespace(s='xx') %}{% for i in range(60) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}",
    "{% set s %}{% for i in range(1000) %}{{ 'x' * 10000 }}{% endfor %}{% endset %}{{ s }}",
    "{{ ('я' * 100000)|list|length }}",
    "{{ ('ab ' * 100000).split()|length }}",
])
def test_text_that_would_go_over_the_limit_is_refused_in_russian(source: str) -> None:
    with pytest.raises(SandboxLimitError, match=r"слишком много текста \(больше 1 МБ\)"):
        render(source)


@pytest.mark.parametrize("source", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% macro m(n) %}{% if n < 40 %}{{ m(n + 1) }}{{ m(n + 1) }}{% endif %}{% endmacro %}"
    "{{ m(0) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{{ '' }}{% endfor %}{% endfor %}",
])
def test_endless_work_is_cut_after_the_step_limit(source: str) -> None:
    with pytest.raises(SandboxLimitError, match="слишком много шагов"):
        render(source)


def test_a_huge_number_recursion_and_unlisted_calls_are_refused() -> None:
    with pytest.raises(SandboxLimitError, match="слишком большое число"):
        render("{% set ns = namespace(x=3) %}{% for i in range(60) %}"
               "{% set ns.x = ns.x * ns.x %}{% endfor %}")
    with pytest.raises(SandboxLimitError, match="слишком большое число"):
        render("{{ 7 ** 1000000000 }}")
    with pytest.raises(SecurityError, match="нельзя вызывать «append»"):
        render("{% set l = [1] %}{{ l.append(2) }}")
    with pytest.raises(SecurityError, match="нельзя вызывать «format»"):
        render("{{ '{:>1000000000}'.format(1) }}")
    with pytest.raises(TemplateSyntaxError, match="рекурсивные циклы"):
        render("{% for x in [1] recursive %}{{ loop([x]) }}{% endfor %}")


def test_ordinary_templates_still_work() -> None:
    out = render("{% for x in items if x %}{{ loop.index }}.{{ x|upper }}"
                 "{{ loop.cycle(';', ',') }}{% else %}пусто{% endfor %}"
                 " {{ ', '.join(items[:2]) }} {{ items|join('/') }} {{ name.strip().title() }}"
                 " {{ 'x' * 3 }} {{ 2 ** 10 }} {{ '%05.1f' % 3.14159 }} {{ 'a' ~ 'b' }}"
                 " {{ {'k': 1}.get('k') }} {{ d.items()|list|length }}",
                 items=["а", "б", "", "в"], name="  рога & копыта ", d={"a": 1})
    assert out == ("1.А;2.Б,3.В; а, б а/б//в Рога &amp; Копыта xxx 1024 003.1 ab 1 1")


def test_one_budget_spans_every_render_inside_it() -> None:
    env = bounded_sandbox(max_chars=2000, autoescape=False)
    part = env.from_string("{{ 'x' * 400 }}")  # 800 characters: the value and the output
    assert len(part.render()) == 400
    with env.budget():
        part.render()
        part.render()
        with pytest.raises(SandboxLimitError):
            part.render()


def test_private_names_are_listed_with_their_line() -> None:
    env = bounded_sandbox(max_chars=MB)
    ast = env.parse("{{ doc.number }}\n{{ x.__class__ }}{{ y['_secret'] }}"
                    "{{ z|attr('__dict__') }}{{ w|map(attribute='_a')|list }}")
    assert private_names(ast) == [("__class__", 2), ("_secret", 2), ("__dict__", 2),
                                  ("_a", 2)]
    assert private_names(env.parse("{{ buyer.name }} {{ '_' ~ x }}")) == []
