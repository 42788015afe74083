"""Header mapping for the client import: the import targets (client fields,
``contact.*``, ``extra.<key>``), their labels, and :func:`guess_mapping`, which
proposes a target for each column header from the fields' labels and synonyms in
:mod:`clientplus_core.clients.fields`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from typing import Any

from clientplus_core.base.textnorm import fold
from clientplus_core.clients.fields import CLIENT_FIELDS, CONTACT_FIELDS, FieldSpec

__all__ = [
    "CONTACT_PREFIX",
    "CUSTOM_PREFIX",
    "guess_mapping",
    "label",
    "norm_header",
    "resolve_target",
    "targets",
]

CONTACT_PREFIX = "contact."
CUSTOM_PREFIX = "extra."  # custom client fields (issue 6): "extra.<key>"


# ---------------------------------------------------------------------------
# Mapping


def targets(custom: Sequence[Any] = ()) -> dict[str, str]:
    """Every import target -> its Russian label (client fields, then ``contact.*``,
    then ``extra.<key>`` for the ``custom`` field definitions given)."""
    out = {f.name: f.ru for f in CLIENT_FIELDS}
    out.update({CONTACT_PREFIX + f.name: f"Контакт: {f.ru}" for f in CONTACT_FIELDS})
    out.update({CUSTOM_PREFIX + d.key: d.label_ru for d in custom})
    return out


def resolve_target(target: str, custom: Sequence[Any] = ()) -> str | None:
    """The import target ``target`` names: a known target as it is, or a custom
    field given by its key or its Russian / English label, with or without the
    ``extra.`` prefix, case- and ``ё``-insensitively (``"industry"``,
    ``"extra.Отрасль"``, ``"ОТРАСЛЬ"`` → ``"extra.industry"``); None when nothing fits."""
    if target in targets(custom):
        return target
    name = target[len(CUSTOM_PREFIX):] if target.startswith(CUSTOM_PREFIX) else target
    wanted = norm_header(name)
    if not wanted:
        return None
    for d in custom:
        if wanted in {norm_header(n) for n in (d.key, d.label_ru, d.label_en) if n}:
            return CUSTOM_PREFIX + d.key
    return None


def label(target: str) -> str:
    """The Russian label of an import target (``"Контакт: Телефон"``); the target
    itself when it is not a client or contact field."""
    if target.startswith(CONTACT_PREFIX):
        for f in CONTACT_FIELDS:
            if CONTACT_PREFIX + f.name == target:
                return f"Контакт: {f.ru}"
    for f in CLIENT_FIELDS:
        if f.name == target:
            return f.ru
    return target


_PUNCT = re.compile(r"[^\w\s-]|_")
_JOINERS = re.compile(r"(?<=\w)-(?=\w)")


def norm_header(text: str) -> str:
    """Header text for matching: lower case, ``ё`` = ``е``, punctuation dropped,
    ``e-mail`` = ``email``, single spaces."""
    s = fold(text or "")
    s = _JOINERS.sub("", s)
    s = _PUNCT.sub(" ", s).replace("-", " ")
    s = " ".join(s.split())
    return re.sub(r"\be mail\b", "email", s)


# Words that make a header about the contact person ("Телефон контакта").
_CONTACT_MARKERS = frozenset({"контакт", "контакта", "контакту", "контактом", "контакте",
                              "контактное", "контактного", "контактному", "контактным",
                              "contact", "contacts"})
_PERSON_WORDS = frozenset({"лицо", "лица", "лицу", "лицом", "person"})
_CONTACT_EXTRA: dict[str, tuple[str, ...]] = {
    "name": ("имя", "фио", "name", "представитель"),
    "email": ("email", "почта", "e mail"),
    "phone": ("телефон", "тел", "phone"),
}


def _tok_match(a: str, b: str) -> bool:
    """Tokens equal, or the same word in another case ending (телефон / телефона)."""
    if a == b:
        return True
    short = min(len(a), len(b))
    if short < 4:
        return False
    k = short - 1
    return a[:k] == b[:k] and abs(len(a) - len(b)) <= 3


def _score(header: list[str], phrase: list[str], exact: int) -> int:
    """How well ``header`` tokens match ``phrase`` tokens (0 = not at all)."""
    if not phrase or not header:
        return 0
    if header == phrase:
        return exact
    if len(header) == len(phrase) and all(_tok_match(a, b) for a, b in zip(header, phrase,
                                                                            strict=True)):
        return exact - 15
    n = len(phrase)
    if n < len(header) and len("".join(phrase)) >= 3:
        for i in range(len(header) - n + 1):
            if all(_tok_match(header[i + j], phrase[j]) for j in range(n)):
                return min(40 + 5 * n, 60)
    return 0


@cache
def _phrases(spec: FieldSpec, extra: tuple[str, ...] = ()) -> list[tuple[list[str], bool]]:
    """(tokens, is_label) for a field's name, labels and synonyms. Worked out once per
    field (a file with thousands of columns asked for them once per column)."""
    out: list[tuple[list[str], bool]] = []
    for text, is_label in ((spec.ru, True), (spec.en, True), (spec.name, True),
                           *((s, False) for s in (*spec.synonyms, *extra))):
        tokens = norm_header(text).split()
        if tokens and (tokens, is_label) not in out:
            out.append((tokens, is_label))
    return out


@cache
def _starts(spec: FieldSpec, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The first three letters of every token of a field's phrases. Tokens match
    (:func:`_tok_match`) only when these agree, so a header sharing none of them
    cannot match the field and is not scored against it."""
    return frozenset(t[:3] for p, _is_label in _phrases(spec, extra) for t in p)


def _candidates(header: str) -> list[tuple[int, str]]:
    """(score, target) pairs for one header."""
    tokens = norm_header(header).split()
    starts = {t[:3] for t in tokens}
    found: list[tuple[int, str]] = []
    for spec in CLIENT_FIELDS:
        if starts.isdisjoint(_starts(spec)):
            continue
        best = max((_score(tokens, p, 100 if is_label else 90)
                    for p, is_label in _phrases(spec)), default=0)
        if best:
            found.append((best, spec.name))
    marked = any(t in _CONTACT_MARKERS for t in tokens)
    rest = [t for t in tokens if t not in _CONTACT_MARKERS and not (marked and t in _PERSON_WORDS)]
    for spec in CONTACT_FIELDS:
        target = CONTACT_PREFIX + spec.name
        extra = _CONTACT_EXTRA.get(spec.name, ())
        if (rest or not marked) and starts.isdisjoint(_starts(spec, extra)):
            continue
        phrases = _phrases(spec, extra)
        if marked:
            if not rest:
                best = 95 if spec.name == "name" else 0
            else:
                best = max((_score(rest, p, 95 if is_label else 88) for p, is_label in phrases),
                           default=0)
        else:
            # Without "контакт" in the header only an exact label or synonym counts,
            # and below any client field's match.
            best = max((60 if is_label else 55 for p, is_label in phrases if p == tokens),
                       default=0)
        if best:
            found.append((best, target))
    return found


_FALLBACK_MARGIN = 30


def guess_mapping(headers: list[str], custom: Sequence[Any] = ()) -> dict[str, str | None]:
    """Propose a target field for each header (None when nothing fits).

    Targets are client field names and ``contact.<field>``. Matching uses the
    fields' Russian and English labels and synonyms, case-insensitively with
    ``ё`` = ``е`` and punctuation ignored. Each target is used at most once: the
    best-scoring (header, target) pair wins, earlier columns winning ties. Contact
    columns guessed without the word "контакт" are kept only when a contact name
    column was found too (otherwise every such row would miss a contact name). A
    header never falls back to a candidate far weaker than its best one.
    """
    scored: list[tuple[int, int, str, bool]] = []
    for i, h in enumerate(headers):
        marked = any(t in _CONTACT_MARKERS for t in norm_header(h).split())
        found = _candidates(h)
        best = max((score for score, _t in found), default=0)
        # A header whose good match is taken does not fall back to a far weaker one
        # ("ИНН клиента" must not become the name because it contains "клиент").
        scored += [(score, i, target, marked) for score, target in found
                   if score >= best - _FALLBACK_MARGIN]
    scored.sort(key=lambda s: (-s[0], s[1]))
    mapping: dict[str, str | None] = {h: None for h in headers}
    by_index: dict[int, tuple[str, bool]] = {}
    used: set[str] = set()
    for _s, i, target, marked in scored:
        if i in by_index or target in used:
            continue
        by_index[i] = (target, marked)
        used.add(target)
    has_contact_name = (CONTACT_PREFIX + "name") in used
    for i, (target, marked) in by_index.items():
        if target.startswith(CONTACT_PREFIX) and not marked and not has_contact_name:
            continue
        if mapping.get(headers[i]) is None:
            mapping[headers[i]] = target
    # custom fields: a still unmapped header equal to a field's label or key
    names: dict[str, str] = {norm_header(n): CUSTOM_PREFIX + d.key for d in custom
                             for n in (d.label_ru, d.label_en, d.key) if n}
    taken: set[str] = set()   # (a set: looking through mapping.values() was quadratic)
    for h in headers:
        custom_target = names.get(norm_header(h))
        if mapping[h] is None and custom_target and custom_target not in taken:
            mapping[h] = custom_target
            taken.add(custom_target)
    return mapping

