"""Full-text search over clients, contacts, files' text and links (FTS5 trigram).

The index is kept in step by the core's own writes: every function that creates,
changes or deletes a searchable row calls :func:`index_row` or :func:`unindex`
inside the same transaction. Rowids are derived from (entity, id), so an update
replaces exactly one index row without scanning.

Trigram tokens give substring search (middle of a name, last digits of a phone),
case-insensitive for Cyrillic and Latin; ``ё`` is folded to ``е`` on both sides.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from clientplus_core.base.textnorm import fold
from clientplus_core.store.db import Store
from clientplus_core.team.access import Actor, client_scope, require

ENTITY_CODES = {"client": 1, "contact": 2, "file": 3, "link": 4, "sale": 5}
_STRIDE = 10**12
MAX_BODY = 300_000


def _rowid(entity: str, entity_id: int) -> int:
    return ENTITY_CODES[entity] * _STRIDE + int(entity_id)


def rowid_range(entity: str) -> tuple[int, int]:
    """``(lo, hi)``: the index rows of ``entity`` have rowids strictly between them,
    and ``rowid - lo`` is the entity's id."""
    lo = ENTITY_CODES[entity] * _STRIDE
    return lo, lo + _STRIDE


_FOLDED_SEP = "\x1f"


def _prep(text: str) -> str:
    return (text or "").replace("ё", "е").replace("Ё", "Е")


def with_folded(title: str, text: str, hidden: str = "") -> str:
    """The body, then after a separator what only search should see: a folded copy
    when title or body hold ``ё`` (a query is always folded, while titles and
    snippets keep ``ё``) and ``hidden`` tokens such as a phone's bare digits."""
    extra = hidden
    if "ё" in title or "Ё" in title or "ё" in text or "Ё" in text:
        extra += "\n" + _prep(title + "\n" + text)
    return text + "\n" + _FOLDED_SEP + extra if extra else text


def index_row(conn: sqlite3.Connection, entity: str, entity_id: int, client_id: int,
              title: str, body: Iterable[str], hidden: Iterable[str] = ()) -> None:
    """Insert or replace the index entry of one record (``hidden``: matched, never shown)."""
    rid = _rowid(entity, entity_id)
    text = "\n".join(b for b in body if b)[:MAX_BODY]
    conn.execute("DELETE FROM search_index WHERE rowid = ?", (rid,))
    conn.execute(
        "INSERT INTO search_index (rowid, entity, entity_id, client_id, title, body)"
        " VALUES (?,?,?,?,?,?)",
        (rid, entity, entity_id, client_id, title,
         with_folded(title, text, " ".join(h for h in hidden if h))),
    )


def unindex(conn: sqlite3.Connection, entity: str, entity_id: int) -> None:
    """Remove one record from the index."""
    conn.execute("DELETE FROM search_index WHERE rowid = ?", (_rowid(entity, entity_id),))


def set_client_id(conn: sqlite3.Connection, entity: str, entity_id: int, client_id: int) -> None:
    """Re-point an index entry to another client (used by merge)."""
    conn.execute("UPDATE search_index SET client_id = ? WHERE rowid = ?",
                 (client_id, _rowid(entity, entity_id)))


_PHONEISH = re.compile(r"^[\d\s()+\-.]+$")


def normalise_query(q: str) -> list[str]:
    """Split a typed query into search terms (a phone typed any way -> digits)."""
    q = _prep((q or "").strip())
    if not q:
        return []
    if _PHONEISH.match(q):
        digits = re.sub(r"\D", "", q)
        if len(digits) == 11 and digits[0] == "8":
            digits = "7" + digits[1:]
        if len(digits) >= 3:
            return [digits]
    return [w for w in re.split(r"\s+", q) if w]


def _match_conditions(terms: list[str], prefix: str = "") -> tuple[list[str], list[object]]:
    """WHERE conditions for ``terms``: one FTS MATCH for terms of 3+ characters, a
    LIKE per shorter term (the trigram index cannot match those)."""
    where: list[str] = []
    args: list[object] = []
    match = fts_query(terms)
    if match:
        where.append("search_index MATCH ?")
        args.append(match)
    for t in (t for t in terms if len(t) < 3):
        where.append(f"({prefix}title LIKE ? OR {prefix}body LIKE ?)")
        args += [f"%{t}%", f"%{t}%"]
    return where, args


def fts_query(terms: list[str]) -> str | None:
    """An FTS5 MATCH expression: every term of 3+ characters as a quoted phrase."""
    long_terms = [t for t in terms if len(t) >= 3]
    if not long_terms:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)


@dataclass
class Hit:
    """One search result; ``spans`` are (start, end) of matches inside ``snippet``."""

    entity: str
    id: int
    client_id: int
    title: str
    snippet: str
    spans: list[tuple[int, int]]

    def as_json(self) -> dict[str, object]:
        d = asdict(self)
        d["spans"] = [list(s) for s in self.spans]
        return d


def make_snippet(text: str, terms: list[str], width: int = 60) -> tuple[str, list[tuple[int, int]]]:
    """A window of ``text`` around the first match, with match spans inside it."""
    folded = fold(text)
    keys = [fold(t) for t in terms if t]
    first = min((i for i in (folded.find(k) for k in keys) if i >= 0), default=-1)
    if first < 0 and len(keys) == 1 and keys[0].isdigit():
        return _digit_snippet(text, keys[0], width)
    if first < 0:
        snip = text[: width * 2]
        start = 0
    else:
        start = max(0, first - width)
        end = min(len(text), first + width * 2)
        snip = text[start:end]
    spans: list[tuple[int, int]] = []
    fsnip = folded[start:start + len(snip)]
    for k in keys:
        pos = fsnip.find(k)
        while pos >= 0 and k:
            spans.append((pos, pos + len(k)))
            pos = fsnip.find(k, pos + len(k))
    spans.sort()
    prefix = "…" if start > 0 else ""
    suffix = "…" if start + len(snip) < len(text) else ""
    snip = snip.replace("\n", " ")
    return prefix + snip + suffix, [(a + len(prefix), b + len(prefix)) for a, b in spans]


def _digit_snippet(text: str, digits: str, width: int) -> tuple[str, list[tuple[int, int]]]:
    """Highlight digits typed without separators inside a formatted phone
    (``4567`` in ``8 (916) 123-45-67``); an 11-digit ``7…`` query also matches
    the 10 digits after the trunk prefix."""
    pos = [i for i, ch in enumerate(text) if ch.isdigit()]
    only = "".join(text[i] for i in pos)
    keys = [digits] + ([digits[1:]] if len(digits) == 11 and digits[0] == "7" else [])
    for key in keys:
        at = only.find(key)
        if at >= 0:
            a, b = pos[at], pos[at + len(key) - 1] + 1
            start = max(0, a - width)
            end = min(len(text), b + width)
            prefix = "…" if start > 0 else ""
            suffix = "…" if end < len(text) else ""
            snip = text[start:end].replace("\n", " ")
            return prefix + snip + suffix, [(a - start + len(prefix), b - start + len(prefix))]
    return text[: width * 2].replace("\n", " "), []


_ENTITY_ORDER = {"client": 0, "contact": 1, "link": 2, "file": 3, "sale": 4}


def search(store: Store, actor: Actor, q: str, limit: int = 20,
           entities: tuple[str, ...] | None = None) -> list[Hit]:
    """Search everything the actor may see; best matches (title hits) first."""
    require(actor, "search")
    terms = normalise_query(q)
    if not terms:
        return []
    scope_sql, scope_args = client_scope(actor, "c")
    where, args = _match_conditions(terms, "s.")
    if entities:
        where.append(f"s.entity IN ({','.join('?' * len(entities))})")
        args += list(entities)
    # the scope goes last, so its parameters follow all the others
    where.append(f"c.deleted_at IS NULL AND {scope_sql}")
    sql = (
        "SELECT s.entity, s.entity_id, s.client_id, s.title, s.body FROM search_index s"
        " JOIN clients c ON c.id = s.client_id WHERE " + " AND ".join(where) + " LIMIT ?"
    )
    fetch = max(limit * 5, 100)
    with store.read() as conn:
        rows = conn.execute(sql, [*args, *scope_args, fetch]).fetchall()
    hits: list[tuple[tuple[int, int, int], Hit]] = []
    fterms = [fold(t) for t in terms]
    for r in rows:
        title = r["title"] or ""
        body = (r["body"] or "").split(_FOLDED_SEP)[0]
        ftitle = fold(title)
        in_title = all(t in ftitle for t in fterms)
        text = title if in_title else body
        snippet, spans = make_snippet(text, terms)
        score = (0 if ftitle.startswith(fterms[0]) else 1 if in_title else 2,
                 _ENTITY_ORDER.get(r["entity"], 9), len(title))
        hits.append((score, Hit(r["entity"], int(r["entity_id"]), int(r["client_id"]),
                                title, snippet, spans)))
    hits.sort(key=lambda h: h[0])
    return [h for _, h in hits[:limit]]


def matching_client_ids_sql(q: str) -> tuple[str, list[object]] | None:
    """A SQL ``IN`` subquery selecting client ids whose card, contacts, files or
    links match ``q``; ``None`` when the query is empty. Sales' entries (the highest
    rowids) are left out: the sales register has its own text filter, and reading
    the client of every matching sale made the client registry's text filter ten
    times slower with a million sales (the rowid bound lets FTS5 stop early)."""
    terms = normalise_query(q)
    if not terms:
        return None
    where, args = _match_conditions(terms)
    where.append("rowid < ?")
    args.append(rowid_range("sale")[0])
    return "SELECT client_id FROM search_index WHERE " + " AND ".join(where), args
