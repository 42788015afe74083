"""Reading the 1C bank exchange file («выгрузка в 1С», ``kl_to_1c.txt``, format
``1CClientBankExchange`` 1.01–1.03) that every Russian online bank exports.

The file is ``key=value`` lines: a header (``ВерсияФормата``, ``Кодировка``,
``ДатаНачала`` …, one ``РасчСчет=`` per account in the file), a ``СекцияРасчСчет`` …
``КонецРасчСчет`` block per account (opening and closing balance, totals), then one
``СекцияДокумент=<вид>`` … ``КонецДокумента`` block per payment, and ``КонецФайла``.

The text is Windows-1251 (``Кодировка=Windows``), DOS code page 866
(``Кодировка=DOS``) or, from some banks, UTF-8: UTF-8 is recognised by decoding
(Cyrillic in Windows-1251 is never valid UTF-8), otherwise the header's
``Кодировка=`` decides. Line ends may be CRLF, LF or CR.

Parsing is strict: anything that is not the format — a wrong first line, a line
that is not ``key=value``, a block left open, a missing ``КонецФайла`` (a truncated
download), a payment without a sum or with a malformed date — raises
:class:`StatementError` naming the file and the line, and nothing is loaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from clientplus_core.base.errors import UserError
from clientplus_core.base.textnorm import clean_line

MAGIC = "1CClientBankExchange"
MAX_BYTES = 50 * 1024 * 1024
_MARKERS = ("СекцияРасчСчет", "КонецРасчСчет", "КонецДокумента", "КонецФайла")
_AMOUNT = re.compile(r"^\d{1,13}(?:[.,]\d{1,2})?$")
_DAY = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_NAME_INN = re.compile(r"^\s*ИНН\s*\d{10,12}\s*")


class StatementError(UserError):
    """The file is not a readable statement; ``line`` is the 1-based line (0: the
    file as a whole) and ``file`` the file's name. ``str()`` names both."""

    def __init__(self, message: str, line: int = 0, file: str = ""):
        self.line = line
        self.file = file
        self.reason = message
        where = ", ".join(p for p in ((f"файл {file}" if file else ""),
                                      (f"строка {line}" if line else "")) if p)
        super().__init__(f"{where[:1].upper() + where[1:]}: {message}" if where else message)


@dataclass(frozen=True)
class Document:
    """One payment document of the statement, with the fields the CRM uses
    (``fields`` keeps every line of the block as the bank wrote it)."""

    line: int                 # the line of its ``СекцияДокумент``
    kind: str                 # «Платежное поручение», «Банковский ордер» …
    number: str
    date: str                 # ISO
    amount_kop: int
    payer_account: str
    payer_inn: str
    payer_kpp: str
    payer_name: str
    payer_bik: str
    payer_bank: str
    payee_account: str
    payee_inn: str
    payee_kpp: str
    payee_name: str
    payee_bik: str
    received: str             # ``ДатаПоступило`` (ISO) or ""
    debited: str              # ``ДатаСписано`` (ISO) or ""
    purpose: str
    fields: dict[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def paid_on(self) -> str:
        """The day the money arrived: ``ДатаПоступило``, else the document's date."""
        return self.received or self.date


@dataclass(frozen=True)
class AccountSection:
    """A ``СекцияРасчСчет`` block: one account's balances over the period."""

    line: int
    account: str
    date_from: str
    date_to: str
    opening_kop: int | None
    incoming_kop: int | None
    outgoing_kop: int | None
    closing_kop: int | None


@dataclass
class Statement:
    """A parsed file."""

    name: str
    encoding: str             # the Python codec the text was read with
    version: str
    header: dict[str, str]
    accounts: list[tuple[str, int]]     # (account, line) of the header's ``РасчСчет=``
    sections: list[AccountSection]
    documents: list[Document]

    @property
    def date_from(self) -> str:
        return _iso_or_empty(self.header.get("ДатаНачала", ""))

    @property
    def date_to(self) -> str:
        return _iso_or_empty(self.header.get("ДатаКонца", ""))


# --- decoding ---------------------------------------------------------------------------


def _line_of_offset(data: bytes, offset: int) -> int:
    return data[:offset].count(b"\n") + 1 if b"\n" in data[:offset] else \
        data[:offset].count(b"\r") + 1


def decode(data: bytes, name: str = "") -> tuple[str, str]:
    """``(text, codec)``: UTF-8 when the bytes are valid UTF-8, else the codec the
    header's ``Кодировка=`` names (``DOS`` → cp866, anything else → cp1251)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    codec = "cp1251"
    head = data[:4096]
    for candidate in ("cp1251", "cp866"):
        text = head.decode(candidate, errors="replace")
        m = re.search(r"^Кодировка=(.*)$", text, re.MULTILINE)
        if m:
            codec = "cp866" if m.group(1).strip().upper() == "DOS" else "cp1251"
            break
    try:
        return data.decode(codec), codec
    except UnicodeDecodeError as exc:
        raise StatementError(f"байт 0x{data[exc.start]:02X} не читается в кодировке {codec}",
                             _line_of_offset(data, exc.start), name) from None


# --- small parsers ----------------------------------------------------------------------


def parse_day(value: str) -> str:
    """``DD.MM.YYYY`` (the format's only date form) as ISO; ValueError otherwise."""
    text = value.strip()
    m = _DAY.fullmatch(text)
    if not m:
        raise ValueError(f"дата «{text}» не в виде ДД.ММ.ГГГГ")
    try:
        return date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
    except ValueError:
        raise ValueError(f"нет такой даты «{text}»") from None


def _iso_or_empty(value: str) -> str:
    try:
        return parse_day(value) if value.strip() else ""
    except ValueError:
        return ""


def parse_amount(value: str) -> int:
    """A sum as the banks write it (``12000.00``, ``12000,5``, ``12000``) in kopecks."""
    text = value.strip().replace(" ", "").replace("\u00a0", "")
    if not _AMOUNT.fullmatch(text):
        raise ValueError(f"сумма «{value.strip()}» не число вида 12000.00")
    try:
        return int((Decimal(text.replace(",", ".")) * 100).to_integral_value())
    except InvalidOperation:
        raise ValueError(f"сумма «{value.strip()}» не число") from None


def _account(value: str) -> str:
    return re.sub(r"\s", "", value or "")


def _name(fields: dict[str, str], side: str) -> str:
    """The party's name: ``Плательщик1`` (1.02+), else ``Плательщик`` without the
    «ИНН …» the banks put in front of it."""
    name = fields.get(f"{side}1") or _NAME_INN.sub("", fields.get(side, ""))
    return clean_line(name)[:300]


# --- the file ---------------------------------------------------------------------------


def _document(line: int, kind: str, fields: dict[str, str], lines: dict[str, int],
              name: str) -> Document:
    def need(key: str, label: str) -> str:
        value = fields.get(key, "").strip()
        if not value:
            raise StatementError(f"в документе{_no(fields)} нет {label} ({key}=)",
                                 lines.get(key, line), name)
        return value

    def day(key: str, required: bool) -> str:
        value = need(key, "даты") if required else fields.get(key, "").strip()
        if not value:
            return ""
        try:
            return parse_day(value)
        except ValueError as exc:
            raise StatementError(f"{key}: {exc}", lines[key], name) from None

    number = need("Номер", "номера")
    iso = day("Дата", True)
    raw_sum = need("Сумма", "суммы")
    try:
        kop = parse_amount(raw_sum)
    except ValueError as exc:
        raise StatementError(f"Сумма: {exc}", lines["Сумма"], name) from None
    if kop <= 0:
        raise StatementError("Сумма: должна быть больше нуля", lines["Сумма"], name)
    purpose = fields.get("НазначениеПлатежа", "")
    if not purpose:
        purpose = " ".join(fields.get(f"НазначениеПлатежа{i}", "") for i in range(1, 7))
    return Document(
        line=line, kind=kind, number=number[:40], date=iso, amount_kop=kop,
        payer_account=_account(fields.get("ПлательщикСчет") or fields.get("ПлательщикРасчСчет",
                                                                           "")),
        payer_inn=_account(fields.get("ПлательщикИНН", "")),
        payer_kpp=_account(fields.get("ПлательщикКПП", "")).upper(),
        payer_name=_name(fields, "Плательщик"),
        payer_bik=_account(fields.get("ПлательщикБИК", "")),
        payer_bank=clean_line(fields.get("ПлательщикБанк1", ""))[:300],
        payee_account=_account(fields.get("ПолучательСчет") or fields.get("ПолучательРасчСчет",
                                                                           "")),
        payee_inn=_account(fields.get("ПолучательИНН", "")),
        payee_kpp=_account(fields.get("ПолучательКПП", "")).upper(),
        payee_name=_name(fields, "Получатель"),
        payee_bik=_account(fields.get("ПолучательБИК", "")),
        received=day("ДатаПоступило", False), debited=day("ДатаСписано", False),
        purpose=clean_line(purpose)[:2000], fields=dict(fields))


def _no(fields: dict[str, str]) -> str:
    return f" № {fields['Номер'].strip()}" if fields.get("Номер", "").strip() else ""


def _kop_or_none(value: str | None, key: str, line: int, name: str) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        text = value.strip()
        negative = text.startswith("-")
        kop = parse_amount(text.lstrip("-"))
        return -kop if negative else kop
    except ValueError as exc:
        raise StatementError(f"{key}: {exc}", line, name) from None


def _section(line: int, fields: dict[str, str], lines: dict[str, int],
             name: str) -> AccountSection:
    account = _account(fields.get("РасчСчет", ""))
    if not account:
        raise StatementError("в секции СекцияРасчСчет нет счёта (РасчСчет=)", line, name)
    return AccountSection(
        line=line, account=account,
        date_from=_iso_or_empty(fields.get("ДатаНачала", "")),
        date_to=_iso_or_empty(fields.get("ДатаКонца", "")),
        **{attr: _kop_or_none(fields.get(key), key, lines.get(key, line), name)
           for attr, key in (("opening_kop", "НачальныйОстаток"),
                             ("incoming_kop", "ВсегоПоступило"),
                             ("outgoing_kop", "ВсегоСписано"),
                             ("closing_kop", "КонечныйОстаток"))})


def parse(data: bytes, name: str = "") -> Statement:
    """Read a whole exchange file; :class:`StatementError` naming the line otherwise."""
    if len(data) > MAX_BYTES:
        raise StatementError(f"файл больше {MAX_BYTES // 1024 // 1024} МБ", 0, name)
    if not data.strip():
        raise StatementError("файл пустой", 0, name)
    text, codec = decode(data, name)
    rows = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((i for i, r in enumerate(rows) if r.strip()), 0)
    if rows[first].strip().lstrip("\ufeff") != MAGIC:
        raise StatementError(f"это не выписка в формате обмена с 1С: первая строка должна"
                             f" быть «{MAGIC}»", first + 1, name)
    header: dict[str, str] = {}
    accounts: list[tuple[str, int]] = []
    sections: list[AccountSection] = []
    documents: list[Document] = []
    block: str | None = None          # None (header), "account" or "document"
    block_line, kind = 0, ""
    fields: dict[str, str] = {}
    lines: dict[str, int] = {}
    ended = False
    for i in range(first + 1, len(rows)):
        n, raw = i + 1, rows[i].strip()
        if not raw:
            continue
        if ended:
            raise StatementError("текст после КонецФайла", n, name)
        key, eq, value = raw.partition("=")
        key = key.strip()
        if key == "СекцияДокумент" and eq:
            if block is not None:
                raise StatementError(f"новый документ, а {_open_block(block, block_line)}"
                                     " не закрыт", n, name)
            block, block_line, kind, fields, lines = "document", n, value.strip(), {}, {}
            continue
        if not eq:
            if key == "СекцияРасчСчет":
                if block is not None:
                    raise StatementError(f"новая секция счёта, а {_open_block(block, block_line)}"
                                         " не закрыт", n, name)
                block, block_line, fields, lines = "account", n, {}, {}
            elif key == "КонецРасчСчет":
                if block != "account":
                    raise StatementError("КонецРасчСчет без СекцияРасчСчет", n, name)
                sections.append(_section(block_line, fields, lines, name))
                block = None
            elif key == "КонецДокумента":
                if block != "document":
                    raise StatementError("КонецДокумента без СекцияДокумент", n, name)
                documents.append(_document(block_line, kind, fields, lines, name))
                block = None
            elif key == "КонецФайла":
                if block is not None:
                    raise StatementError(f"{_open_block(block, block_line)} не закрыт", n, name)
                ended = True
            else:
                raise StatementError(f"строка не вида «Ключ=Значение»: «{raw[:60]}»", n, name)
            continue
        if block is None:
            if key == "РасчСчет":
                accounts.append((_account(value), n))
            else:
                header[key] = value.strip()
        else:
            fields[key] = value.strip()
            lines[key] = n
    if not ended:
        where = f"; {_open_block(block, block_line)} не закрыт" if block else ""
        raise StatementError("файл обрезан: нет строки КонецФайла" + where, len(rows), name)
    version = header.get("ВерсияФормата", "")
    if version and not version.startswith("1."):
        raise StatementError(f"неизвестная версия формата «{version}» (ожидается 1.02 или"
                             " 1.03)", 2, name)
    return Statement(name, codec, version, header, accounts, sections, documents)


def _open_block(block: str, line: int) -> str:
    return (f"документ со строки {line}" if block == "document"
            else f"раздел счёта со строки {line}")
