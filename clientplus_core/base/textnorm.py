"""Text normalisation shared by search and duplicate detection."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def fold(text: str) -> str:
    """Case-insensitive, ``ё`` = ``е`` form of ``text`` (same length as input)."""
    return (text or "").replace("ё", "е").replace("Ё", "Е").lower()


def clean(text: object, max_len: int | None = None) -> str:
    """Strip, NFC-normalise and drop control characters from user input."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", unicodedata.normalize("NFC", s)).strip()
    if max_len is not None and len(s) > max_len:
        raise ValueError(f"не длиннее {max_len} символов (введено {len(s)})")
    return s
