"""Text normalisation shared by search and duplicate detection."""

from __future__ import annotations

import re
import unicodedata

# C0 controls but tab and line breaks, DEL and the C1 block, and the invisible
# direction marks and overrides (U+061C, U+200E/U+200F, U+202A–U+202E,
# U+2066–U+2069): a right-to-left override inside «invoice\u202efdp.exe» makes it
# display as «invoiceexe.pdf».
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
                      "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def fold(text: str) -> str:
    """Case-insensitive, ``ё`` = ``е`` form of ``text`` (same length as input)."""
    return (text or "").replace("ё", "е").replace("Ё", "Е").lower()


def clean(text: object, max_len: int | None = None) -> str:
    """Strip, NFC-normalise and drop control characters (C0 but tab and line
    breaks, C1, and the bidirectional marks, embeddings, overrides and isolates)
    from user input: names, titles, file names and notes all pass through here."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", unicodedata.normalize("NFC", s)).strip()
    if max_len is not None and len(s) > max_len:
        raise ValueError(f"не длиннее {max_len} символов (введено {len(s)})")
    return s


def clean_line(text: object, max_len: int | None = None) -> str:
    """:func:`clean`, with every run of white space (line breaks included) made one
    space: for names and titles, which are shown on one line."""
    s = " ".join(clean(text).split())
    if max_len is not None and len(s) > max_len:
        raise ValueError(f"не длиннее {max_len} символов (введено {len(s)})")
    return s


def like_contains(text: str) -> str:
    """A ``LIKE … ESCAPE '\\'`` pattern matching ``text`` anywhere, with ``%``,
    ``_`` and ``\\`` typed by the user taken literally (not as wildcards)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
