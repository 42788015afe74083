"""Full-text search over clients, contacts, files' text and links (FTS5 trigram).

The index is kept in step by the core's own writes: every function that creates,
changes or deletes a searchable row calls :func:`index_row` or :func:`unindex`
inside the same transaction. Rowids are derived from (entity, id), so an update
replaces exactly one index row without scanning.

Trigram tokens give substring search (middle of a name, last digits of a phone),
case-insensitive for Cyrillic and Latin; ``ё`` is folded to ``е`` on both sides.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from clientplus_core.base.textnorm import fold, like_contains
from clientplus_core.records.validation import phone_search_tokens
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
_PHONE_EXT = re.compile(r"^([\d\s()+\-.]*\d)[\s,(]*(?:доб|ext|x|#)[\s.:]*(\d{1,10})\)?$",
                        re.IGNORECASE)


def normalise_query(q: str) -> list[str]:
    """Split a typed query into search terms (a phone typed any way -> digits; with an
    extension, «… доб. 123» -> ``"74955005550 123"``, as phones are indexed)."""
    q = _prep((q or "").strip())
    if not q:
        return []
    ext = _PHONE_EXT.match(q)
    if ext:
        head = normalise_query(ext.group(1))
        if len(head) == 1 and head[0].isdigit():
            return [f"{head[0]} {ext.group(2)}"]
    if _PHONEISH.match(q):
        digits = re.sub(r"\D", "", q)
        if len(digits) == 11 and digits[0] == "8":
            digits = "7" + digits[1:]
        if len(digits) >= 3:
            return [digits]
    return [w for w in re.split(r"\s+", q) if w]


def _match_conditions(terms: list[str], prefix: str = "",
                      title_only: bool = False) -> tuple[list[str], list[object]]:
    """WHERE conditions for ``terms``: one FTS MATCH for terms of 3+ characters, a
    LIKE per shorter term (the trigram index cannot match those); ``title_only``:
    matches in the title (a client's name) only."""
    where: list[str] = []
    args: list[object] = []
    match = fts_query(terms, "title" if title_only else None)
    if match:
        where.append("search_index MATCH ?")
        args.append(match)
    for t in (t for t in terms if len(t) < 3):
        if title_only:
            where.append(f"{prefix}title LIKE ? ESCAPE '\\'")
            args.append(like_contains(t))
        else:
            where.append(f"({prefix}title LIKE ? ESCAPE '\\' OR {prefix}body LIKE ? ESCAPE '\\')")
            args += [like_contains(t)] * 2
    return where, args


def fts_query(terms: list[str], column: str | None = None) -> str | None:
    """An FTS5 MATCH expression: every term of 3+ characters as a quoted phrase
    (``column``: in that column only, e.g. ``"title"``)."""
    long_terms = [t for t in terms if len(t) >= 3]
    if not long_terms:
        return None
    expr = " AND ".join('"' + t.replace('"', '""') + '"' for t in long_terms)
    return f"{{{column}}} : ({expr})" if column else expr


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


# --- ranking ---------------------------------------------------------------------------
# One ranking for the search page, the registry's text filter and every client picker:
# the tiers below, best first (within a tier the search page puts shorter titles first,
# the registry and the pickers sort by name).

TIER_EXACT = 0     # the name (with or without «ООО», quotes) or the INN is what was typed
TIER_PREFIX = 1    # the name (or the name after «ООО») or the INN starts with it
TIER_NAME = 2      # the name, the full name or the INN contains it
TIER_CONTACT = 3   # a contact person, a phone, an e-mail, the director
TIER_OTHER = 4     # requisites, addresses, notes, tags, files' text, links, sales
NO_TIER = 9

# a client's fields :meth:`Ranker.client_tier` reads
RANK_FIELDS = ("name", "inn", "full_name", "phone", "email", "director_name")
RANK_COLUMNS = ", ".join(f"c.{k}" for k in RANK_FIELDS)
_QUOTES_AND_SPACES = re.compile(r"[\s«»\"'“”„]+")
_LEGAL_FORM = re.compile(
    r"^(?:ооо|оао|зао|пао|нао|ао|ано|нко|гуп|муп|фгуп|гбу|гку|мбу|мку|ип"
    r"|индивидуальный предприниматель|общество с ограниченной ответственностью"
    r"|публичное акционерное общество|акционерное общество)\s+")


def _plain(text: str) -> str:
    """Folded, without quotes, single-spaced: «ООО  "Ромашка"» -> ``ооо ромашка``."""
    return _QUOTES_AND_SPACES.sub(" ", fold(text or "")).strip()


class Ranker:
    """The tier (``TIER_*``) a match falls in for one typed query."""

    def __init__(self, q: str) -> None:
        self.terms = [fold(t) for t in normalise_query(q)]
        self.query = _plain(_prep(q))
        only = self.terms[0] if len(self.terms) == 1 else ""
        self.digits = only if only.isdigit() else ""
        self.phoneish = any(ch.isdigit() for t in self.terms for ch in t)

    def name_tier(self, name: str, inn: str = "") -> int:
        """Exact, prefix or substring match of the name or (a query of digits) the INN;
        :data:`NO_TIER` when neither holds the whole query."""
        tier = NO_TIER
        folded = fold(name or "")
        if self.terms and all(t in folded for t in self.terms):
            tier = TIER_NAME
            plain = _plain(folded)
            core = _LEGAL_FORM.sub("", plain)
            if self.query in (plain, core):
                return TIER_EXACT
            if self.query and (plain.startswith(self.query) or core.startswith(self.query)):
                tier = TIER_PREFIX
        inn = inn or ""
        if self.digits and self.digits in inn:
            tier = min(tier, TIER_EXACT if inn == self.digits else
                       TIER_PREFIX if inn.startswith(self.digits) else TIER_NAME)
        return tier

    def client_tier(self, row: sqlite3.Row | Mapping[str, Any]) -> int:
        """The tier of a client whose own card matched (``row`` holds :data:`RANK_FIELDS`)."""
        tier = self.name_tier(row["name"], row["inn"])
        if tier != NO_TIER:
            return tier
        names = fold(f"{row['name']}\n{row['full_name'] or ''}\n{row['inn'] or ''}")
        if all(t in names for t in self.terms):
            return TIER_NAME
        phone = row["phone"] or ""
        reach = [names, fold(row["email"] or ""), fold(row["director_name"] or ""), phone]
        if self.phoneish and phone:
            reach += phone_search_tokens(phone)
        text = "\n".join(reach)
        return TIER_CONTACT if all(t in text for t in self.terms) else TIER_OTHER

    @staticmethod
    def entity_tier(entity: str) -> int:
        """The tier of a match in a contact, file, link or sale."""
        return TIER_CONTACT if entity == "contact" else TIER_OTHER


NAME_CAP = 300    # name matches read per query: more means the query is too short to rank
DETAIL_CAP = 500   # registry: cards matched outside the name whose fields are read to rank
DRIVEN_MAX = 20_000  # registry: up to this many matches are looked up by id, not scanned


def _pass(conn: sqlite3.Connection, actor: Actor, where: list[str], args: list[object],
          cap: int) -> list[sqlite3.Row]:
    """Index rows matching ``where`` within the actor's scope, with the client's fields."""
    scope_sql, scope_args = client_scope(actor, "c")
    sql = ("SELECT s.rowid AS rid, s.entity, s.entity_id, s.client_id, s.title, s.body,"
           f" {RANK_COLUMNS}"
           " FROM search_index s JOIN clients c ON c.id = s.client_id WHERE "
           + " AND ".join([*where, f"c.deleted_at IS NULL AND {scope_sql}"])
           + " ORDER BY s.rowid LIMIT ?")
    return conn.execute(sql, [*args, *scope_args, cap]).fetchall()


def _inn_pass(conn: sqlite3.Connection, actor: Actor, digits: str) -> list[sqlite3.Row]:
    """Clients whose INN is or starts with ``digits`` (the INN index; an INN prefix is
    also inside many phones and accounts, which would crowd it out of the index's rows)."""
    scope_sql, scope_args = client_scope(actor, "c")
    lo = rowid_range("client")[0]
    sql = ("SELECT s.rowid AS rid, s.entity, s.entity_id, s.client_id, s.title, s.body,"
           f" {RANK_COLUMNS}"
           " FROM clients c JOIN search_index s ON s.rowid = ? + c.id"
           f" WHERE c.inn >= ? AND c.inn < ? AND c.deleted_at IS NULL AND {scope_sql} LIMIT 50")
    return conn.execute(sql, [lo, digits, digits + ":", *scope_args]).fetchall()


def search(store: Store, actor: Actor, q: str, limit: int = 20,
           entities: tuple[str, ...] | None = None) -> list[Hit]:
    """Search everything the actor may see, best matches first (:class:`Ranker`: the
    client's name or INN exactly, at the start, inside; then contacts and phones; then
    requisites, notes, files' text, links and sales).

    When there are more matches than are read, the names, INNs and contacts the cut
    left out are read by queries of their own, so that many weaker matches — a
    thousand clients banking at «Сбербанк» — never crowd the best ones out."""
    require(actor, "search")
    terms = normalise_query(q)
    if not terms:
        return []
    ranker = Ranker(q)
    want = set(entities) if entities else set(ENTITY_CODES)
    fetch = max(limit * 5, 100)
    where, args = _match_conditions(terms, "s.")
    if entities:
        where.append(f"s.entity IN ({','.join('?' * len(entities))})")
        args += list(entities)
    with store.read() as conn:
        rows = _pass(conn, actor, where, args, fetch + 1)
        found: dict[int, sqlite3.Row] = {r["rid"]: r for r in rows}
        # Rows come in rowid order: clients, contacts, files, links, sales. Read all
        # and nothing is missing; cut off among the clients, read the names and the
        # contacts the cut left out; cut off among the contacts, the contacts.
        last = rows[-1]["rid"] if len(rows) > fetch else None
        client_hi, contact_hi = rowid_range("client")[1], rowid_range("contact")[1]
        passes: list[tuple[list[str], list[object], int]] = []
        if last is not None and last < client_hi and "client" in want:
            if ranker.digits:
                found.update((r["rid"], r) for r in _inn_pass(conn, actor, ranker.digits))
            title_where, title_args = _match_conditions(terms, "s.", title_only=True)
            passes.append(([*title_where, "s.rowid > ?", "s.rowid < ?"],
                           [*title_args, last, client_hi], NAME_CAP))
        if last is not None and last < contact_hi and "contact" in want:
            passes.append(([*where, "s.rowid > ?", "s.rowid < ?"],
                           [*args, max(last, client_hi), contact_hi], fetch))
        for pass_where, pass_args, cap in passes:
            for r in _pass(conn, actor, pass_where, pass_args, cap):
                found.setdefault(r["rid"], r)
    ranked = sorted(
        found.values(),
        key=lambda r: (ranker.client_tier(r) if r["entity"] == "client"
                       else ranker.entity_tier(r["entity"]),
                       _ENTITY_ORDER.get(r["entity"], 9), len(r["title"] or ""), r["rid"]))
    hits: list[Hit] = []
    for r in ranked[:limit]:
        title = r["title"] or ""
        body = (r["body"] or "").split(_FOLDED_SEP)[0]
        ftitle = fold(title)
        text = title if all(t in ftitle for t in ranker.terms) else body
        snippet, spans = make_snippet(text, terms)
        hits.append(Hit(r["entity"], int(r["entity_id"]), int(r["client_id"]), title,
                        snippet, spans))
    return hits


def client_matches(conn: sqlite3.Connection, q: str) -> dict[int, tuple[bool, int]] | None:
    """The clients whose card, contacts, files or links match ``q`` (``None`` when the
    query is empty): client id -> (whether its own card matched, the best tier of its
    other matching entries, :data:`NO_TIER` if none). Sales' entries (the highest
    rowids) are left out: the sales register has its own text filter, and the rowid
    bound lets FTS5 stop early."""
    terms = normalise_query(q)
    if not terms:
        return None
    where, args = _match_conditions(terms)
    where.append("rowid < ?")
    args.append(rowid_range("sale")[0])
    lo, hi = rowid_range("client")
    contact_hi = rowid_range("contact")[1]
    cond = " AND ".join(where)
    # a card's own entry needs no read of the stored row: its rowid names the client
    out: dict[int, tuple[bool, int]] = {
        int(rid) - lo: (True, NO_TIER) for (rid,) in conn.execute(
            f"SELECT rowid FROM search_index WHERE {cond} AND rowid > ? AND rowid < ?",
            [*args, lo, hi])}
    for rid, cid in conn.execute(f"SELECT rowid, client_id FROM search_index WHERE {cond}"
                                 " AND rowid >= ?", [*args, hi]):
        own, best = out.get(cid, (False, NO_TIER))
        out[cid] = (own, min(best, TIER_CONTACT if rid < contact_hi else TIER_OTHER))
    return out


def rank_clients(conn: sqlite3.Connection, where: str, args: list[object], q: str,
                 matches: dict[int, tuple[bool, int]], descending: bool = False) -> list[int]:
    """The ids of the clients ``c`` passing ``where`` (among :func:`client_matches` of
    ``q``), best match first, then by name: the order of the registry's text filter
    and of the client pickers.

    Names come from a covering index; the other fields that rank a card (INN, phones,
    e-mail, director) are read only for cards that matched outside their name, and
    only up to :data:`DETAIL_CAP` of them (beyond that, a query as broad as a bank's
    name, those count among «everything else» unless the INN starts with the digits)."""
    ranker = Ranker(q)
    cur = conn.cursor()
    cur.row_factory = None
    if len(matches) <= DRIVEN_MAX:   # a few thousand: look each one up by id
        rows = cur.execute("SELECT c.id, c.name FROM json_each(?) j CROSS JOIN clients c"
                           f" ON c.id = j.value WHERE {where}",
                           [json.dumps(sorted(matches)), *args]).fetchall()
    else:                            # most clients: scan the covering index
        rows = cur.execute(f"SELECT c.id, c.name FROM clients c WHERE {where}", args).fetchall()
    tiers: dict[int, int] = {}
    pending: list[int] = []
    for cid, name in rows:
        own, tier = matches[cid]
        if own:
            tier = min(tier, ranker.name_tier(name))
            if tier > TIER_CONTACT:
                pending.append(cid)
        tiers[cid] = tier
    if 0 < len(pending) <= DETAIL_CAP:
        detail = conn.execute(f"SELECT c.id, {RANK_COLUMNS} FROM clients c"
                              " WHERE c.id IN (SELECT value FROM json_each(?))",
                              [json.dumps(pending)])
        for r in detail:
            tiers[r["id"]] = min(tiers[r["id"]], ranker.client_tier(r))
    elif pending and ranker.digits:
        wanted = set(pending)
        for cid, inn in cur.execute("SELECT id, inn FROM clients WHERE inn >= ? AND inn < ?",
                                    [ranker.digits, ranker.digits + ":"]):
            if cid in wanted:
                tiers[cid] = min(tiers[cid], ranker.name_tier("", inn))
    ordered = sorted(rows, key=lambda r: (tiers[r[0]], fold(r[1] or ""), r[0]),
                     reverse=descending)
    return [int(r[0]) for r in ordered]
