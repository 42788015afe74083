"""Looking inside an untrusted zip (.docx, .xlsx) before any reader unpacks it.

A few hundred kilobytes of zip can unpack to gigabytes of XML (a "zip bomb"), and an
XML part can declare entities that expand a billion-fold ("billion laughs"). Readers
such as python-docx, openpyxl and calamine unpack a part whole, so the checks here
run first, on the zip's directory and on a streamed scan of the parts:

- :func:`check_sizes`: the declared unpacked sizes (total and per part) and the
  compression ratio, read from the zip directory without unpacking anything. Python's
  :mod:`zipfile` never yields more bytes than a part declares (and checks the CRC at
  its end), so a part that lies about its size cannot unpack to more than it said.
- :func:`check_no_dtd`: no part declares an entity (``<!ENTITY``, what an entity
  bomb or an external entity needs) and no XML part (``.xml``, ``.rels``) has a
  ``<!DOCTYPE`` (Office files never do; an SVG picture inside a .docx may, so other
  parts may keep a plain DOCTYPE). Parts are streamed in 1 MB pieces, so the scan
  needs little memory.

Both raise :class:`ZipRefused` with a Russian reason fit to show.
"""

from __future__ import annotations

import zipfile

__all__ = ["MB", "ZipRefused", "check_no_dtd", "check_sizes", "megabytes"]

MB = 1 << 20
_CHUNK = MB
_ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be")
_ENTITY = tuple("<!ENTITY".encode(enc) for enc in _ENCODINGS)
_DOCTYPE = tuple("<!DOCTYPE".encode(enc) for enc in _ENCODINGS)
_OVERLAP = max(map(len, _DOCTYPE))
_XML_PARTS = (".xml", ".rels")


class ZipRefused(ValueError):
    """The zip is not unpacked: ``reason`` says why (in Russian); ``too_large`` is
    True for a size or ratio cap, False for an XML declaration."""

    def __init__(self, reason: str, *, too_large: bool = True):
        self.reason = reason
        self.too_large = too_large
        super().__init__(reason)


def megabytes(n: int) -> str:
    """``n`` bytes as whole megabytes for a message («256 МБ»; «меньше 1 МБ»)."""
    return f"{n // MB} МБ" if n >= MB else "меньше 1 МБ"


def check_sizes(z: zipfile.ZipFile, *, max_total: int, max_part: int | None = None,
                max_ratio: int | None = None, ratio_floor: int = MB) -> None:
    """Refuse a zip whose parts declare more than ``max_total`` bytes unpacked in all,
    a part over ``max_part``, or a part over ``ratio_floor`` bytes compressed more
    than ``max_ratio`` times. Nothing is unpacked."""
    total = 0
    for info in z.infolist():
        total += info.file_size
        if max_part is not None and info.file_size > max_part:
            raise ZipRefused(f"часть «{info.filename}» в распакованном виде занимает "
                             f"{megabytes(info.file_size)}, предел — {megabytes(max_part)}")
        if (max_ratio is not None and info.file_size > ratio_floor
                and info.file_size > max_ratio * max(info.compress_size, 1)):
            ratio = info.file_size // max(info.compress_size, 1)
            raise ZipRefused(f"часть «{info.filename}» сжата {ratio}:1 (предел "
                             f"{max_ratio}:1), так устроены «zip-бомбы»")
    if total > max_total:
        raise ZipRefused(f"в распакованном виде {megabytes(total)}, предел — "
                         f"{megabytes(max_total)}")


def check_no_dtd(z: zipfile.ZipFile) -> None:
    """Refuse a zip any part of which declares an entity, or any XML part of which has
    a DOCTYPE. Reads every part in pieces (call :func:`check_sizes` first: the sizes
    bound this scan)."""
    for info in z.infolist():
        if info.is_dir():
            continue
        words = _ENTITY + (_DOCTYPE if info.filename.lower().endswith(_XML_PARTS) else ())
        tail = b""
        with z.open(info) as part:
            while chunk := part.read(_CHUNK):
                piece = tail + chunk
                if any(word in piece for word in words):
                    raise ZipRefused(f"часть «{info.filename}» объявляет XML-сущности"
                                     " (<!DOCTYPE>/<!ENTITY>): в файлах Word и Excel их не"
                                     " бывает, так строят «XML-бомбы»", too_large=False)
                tail = piece[-_OVERLAP:]
