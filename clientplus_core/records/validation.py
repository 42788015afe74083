"""Russian requisites, phones and e-mails: normalise and check.

Each ``check_*`` function takes raw user input and returns the normalised value,
or raises ``ValueError`` with a Russian message saying what is wrong. Empty input
is always allowed (returns ``""``); whether a field is required is decided by the
caller.
"""

from __future__ import annotations

import re

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.ru import inn as std_inn
from stdnum.ru import ogrn as std_ogrn

_KPP_RE = re.compile(r"^\d{4}[\dA-Z]{2}\d{3}$")
_SPACES = re.compile(r"[\s\-]")


def _digits(value: str) -> str:
    return _SPACES.sub("", value or "")


def check_inn(value: str, kind: str | None = None) -> str:
    """INN: 10 digits for a company, 12 for an entrepreneur or person, check digits."""
    v = _digits(value)
    if not v:
        return ""
    if not v.isdigit():
        raise ValueError("ИНН должен состоять только из цифр")
    if len(v) not in (10, 12):
        raise ValueError(f"ИНН должен содержать 10 или 12 цифр, а не {len(v)}")
    if kind == "legal" and len(v) != 10:
        raise ValueError("ИНН юридического лица — 10 цифр")
    if kind in ("ip", "person") and len(v) != 12:
        raise ValueError("ИНН ИП или физического лица — 12 цифр")
    try:
        std_inn.validate(v)
    except StdnumError:
        raise ValueError("неверная контрольная сумма ИНН") from None
    return v


def ogrnip_is_valid(v: str) -> bool:
    """OGRNIP (15 digits): the last digit is ``int(first 14) % 13 % 10``."""
    return len(v) == 15 and v.isdigit() and int(v[:14]) % 13 % 10 == int(v[14])


def check_ogrn(value: str, kind: str | None = None) -> str:
    """OGRN (13 digits, companies) or OGRNIP (15 digits, entrepreneurs)."""
    v = _digits(value)
    if not v:
        return ""
    if not v.isdigit():
        raise ValueError("ОГРН должен состоять только из цифр")
    if len(v) == 15:
        if kind == "legal":
            raise ValueError("у юридического лица ОГРН из 13 цифр, а не ОГРНИП")
        if not ogrnip_is_valid(v):
            raise ValueError("неверная контрольная сумма ОГРНИП")
        return v
    if len(v) != 13:
        raise ValueError(f"ОГРН — 13 цифр (ОГРНИП — 15), а не {len(v)}")
    if kind == "ip":
        raise ValueError("у ИП ОГРНИП из 15 цифр")
    try:
        std_ogrn.validate(v)
    except StdnumError:
        raise ValueError("неверная контрольная сумма ОГРН") from None
    return v


def check_kpp(value: str) -> str:
    """KPP: 4 digits, 2 digits or capital Latin letters, 3 digits."""
    v = _digits(value).upper()
    if not v:
        return ""
    if not _KPP_RE.match(v):
        raise ValueError("КПП — 9 знаков: 4 цифры, 2 цифры или латинские буквы, 3 цифры")
    return v


def check_bik(value: str) -> str:
    """BIK: 9 digits starting with 04."""
    v = _digits(value)
    if not v:
        return ""
    if not (len(v) == 9 and v.isdigit()):
        raise ValueError("БИК — 9 цифр")
    if not v.startswith("04"):
        raise ValueError("БИК российского банка начинается с 04")
    return v


_WEIGHTS = (7, 1, 3)


def account_key_ok(prefix3: str, account: str) -> bool:
    """The 7-1-3 weighted checksum over ``prefix3 + account`` (23 digits)."""
    s = prefix3 + account
    return sum(int(d) * _WEIGHTS[i % 3] for i, d in enumerate(s)) % 10 == 0


def check_account(value: str, bik: str = "") -> str:
    """Settlement account (20 digits), key checked against the BIK when known."""
    v = _digits(value)
    if not v:
        return ""
    if not (len(v) == 20 and v.isdigit()):
        raise ValueError("расчётный счёт — 20 цифр")
    b = _digits(bik)
    if len(b) == 9 and b.isdigit() and not account_key_ok(b[-3:], v):
        raise ValueError("расчётный счёт не сходится с БИК (контрольный ключ)")
    return v


def check_corr_account(value: str, bik: str = "") -> str:
    """Correspondent account (20 digits, 301…), key checked against the BIK."""
    v = _digits(value)
    if not v:
        return ""
    if not (len(v) == 20 and v.isdigit()):
        raise ValueError("корреспондентский счёт — 20 цифр")
    if not v.startswith("301"):
        raise ValueError("корреспондентский счёт начинается с 301")
    b = _digits(bik)
    if len(b) == 9 and b.isdigit() and not account_key_ok("0" + b[4:6], v):
        raise ValueError("корреспондентский счёт не сходится с БИК (контрольный ключ)")
    return v


def account_key_digit(prefix3: str, account_without_key: str) -> str:
    """The key digit (position 9) making ``account`` pass :func:`account_key_ok`.

    ``account_without_key`` is the 20-digit account with any digit at index 8.
    """
    acc = list(account_without_key)
    for d in "0123456789":
        acc[8] = d
        if account_key_ok(prefix3, "".join(acc)):
            return d
    raise AssertionError("unreachable: weights 7,1,3 always admit a key")


def parse_phone(value: str, region: str = "RU") -> phonenumbers.PhoneNumber | None:
    """Parse a phone typed in any common format; ``None`` if it is not a phone."""
    raw = (value or "").strip()
    if not raw:
        return None
    digits = re.sub(r"\D", "", raw)
    if len(digits) == 11 and digits.startswith("8") and not raw.startswith("+"):
        raw = "+7" + digits[1:]
    try:
        return phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None


EXT_SEP = ";ext="
"""How a stored phone carries an extension: ``+74955005550;ext=123`` (RFC 3966 style).
The part before it is plain E.164, so equality (duplicates, import matching) and the
digits search keep working; a phone without an extension is stored exactly as before."""
_EXT_RE = re.compile(r"^\d{1,10}$")


def split_phone(stored: str) -> tuple[str, str]:
    """``(e164, extension)`` of a stored phone (``""`` when it has no extension)."""
    base, _sep, ext = (stored or "").partition(EXT_SEP)
    return base.strip(), ext.strip()


def check_phone(value: str) -> str:
    """Normalise a phone to E.164 (``+79161234567``); refuse an invalid number.

    An extension typed with it («+7 495 500-55-50 доб. 123», «ext 123», «#123») is
    kept: ``+74955005550;ext=123`` (see :data:`EXT_SEP`)."""
    if not (value or "").strip():
        return ""
    num = parse_phone(value)
    if num is None or not phonenumbers.is_valid_number(num):
        raise ValueError(f"«{value.strip()[:40]}» — не действительный номер телефона")
    e164 = phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    ext = (num.extension or "").strip()
    if ext and not _EXT_RE.match(ext):
        raise ValueError(f"добавочный номер «{ext[:20]}» — от 1 до 10 цифр")
    return e164 + EXT_SEP + ext if ext else e164


def format_phone(e164: str) -> str:
    """Show a stored E.164 phone: national format for Russia, international otherwise;
    an extension follows as «доб. 123» (``8 (495) 500-55-50 доб. 123``)."""
    if not e164:
        return ""
    base, ext = split_phone(e164)
    try:
        num = phonenumbers.parse(base, "RU")
    except phonenumbers.NumberParseException:
        return e164
    fmt = (phonenumbers.PhoneNumberFormat.NATIONAL
           if phonenumbers.region_code_for_number(num) == "RU"
           else phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    shown = phonenumbers.format_number(num, fmt)
    return f"{shown} доб. {ext}" if ext else shown


def phone_text(stored: str) -> str:
    """A stored phone as plain text for a letter or a document: unchanged without an
    extension (``+74955005550``), the extension readable with one
    (``+74955005550 доб. 123``), never the storage form ``;ext=``."""
    base, ext = split_phone(stored)
    return f"{base} доб. {ext}" if ext else (stored or "")


def phone_search_tokens(stored: str) -> list[str]:
    """What search matches a stored phone by, unseen: its bare digits (``74955005550``)
    and, with an extension, the digits followed by it (``74955005550 123``)."""
    base, ext = split_phone(stored)
    digits = base.lstrip("+")
    return [digits, f"{digits} {ext}"] if ext else [digits] if digits else []


def is_mobile(e164: str) -> bool:
    """Whether a stored phone is a mobile number."""
    try:
        num = phonenumbers.parse(split_phone(e164)[0], "RU")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(num) in (phonenumbers.PhoneNumberType.MOBILE,
                                            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def check_email(value: str) -> str:
    """Syntax check of an e-mail address (no DNS); returns it normalised."""
    v = (value or "").strip()
    if not v:
        return ""
    try:
        return validate_email(v, check_deliverability=False).normalized
    except EmailNotValidError:
        raise ValueError(f"«{v[:60]}» — не похоже на адрес e-mail") from None


def check_postal_index(value: str) -> str:
    """Russian postal index: 6 digits."""
    v = _digits(value)
    if not v:
        return ""
    if not (len(v) == 6 and v.isdigit()):
        raise ValueError("почтовый индекс — 6 цифр")
    return v


def check_okved(value: str) -> str:
    """OKVED code like ``62.01`` or ``47.11.2``."""
    v = (value or "").strip()
    if not v:
        return ""
    if not re.match(r"^\d{2}(\.\d{1,2}){0,3}$", v):
        raise ValueError("код ОКВЭД вида 62.01")
    return v


def check_url(value: str) -> str:
    """A web address; ``http://`` is added when no scheme is typed."""
    v = (value or "").strip()
    if not v:
        return ""
    if not re.match(r"^[a-z][a-z0-9+.\-]*://", v, re.I):
        v = "https://" + v
    if not re.match(r"^https?://[^\s/$.?#][^\s]*$", v, re.I):
        raise ValueError(f"«{v[:60]}» — не похоже на адрес сайта")
    return v
