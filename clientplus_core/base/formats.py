"""How numbers, amounts, dates and times read for a person, in one place.

Russian (the default): ``9 821 111,14 ₽``, ``06.12.2026``, ``06.12.2026 08:25``;
English: ``9,821,111.14 ₽`` with the same dates. Amounts are rounded half-up
through :class:`~decimal.Decimal`, never through float. Instants are stored in UTC
(``2026-12-06T05:25:04+00:00``) and shown in the ``timezone`` setting's zone:
:func:`moment` takes the zone, :func:`clientplus_core.records.settings.zone`
reads it. Every function here accepts what a database cell may hold — ``None``,
an empty string, text that is not a number — and returns ``""`` (or the text as
it was) instead of raising, so a bad cell never breaks a page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_ZONE = "Europe/Moscow"
RUB = "₽"
EMPTY = "—"
# (thousands separator, decimal separator) per language; Russian uses a space
# between thousands and a comma for the decimals (ГОСТ 8.417, how 1C prints).
SEPARATORS = {"ru": (" ", ","), "en": (",", ".")}
# The same as plotly's ``layout.separators`` (decimal first, then thousands).
PLOTLY_SEPARATORS = {"ru": ", ", "en": ".,"}


def to_decimal(value: object) -> Decimal | None:
    """``value`` as a Decimal (``None`` for nothing or text that is not a number).
    ``"1 234,5"`` reads as 1234.5; floats go through their shortest text."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    text = str(value).strip().replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    text = text.replace(RUB, "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value: object, lang: str = "ru", decimals: int = 0) -> str:
    """``1234567.891`` -> «1 234 567,89» (``decimals=2``) / «1,234,567.89» (EN);
    ``""`` for nothing."""
    d = to_decimal(value)
    if d is None:
        return "" if value in (None, "") else str(value)
    thousands, point = SEPARATORS.get(lang, SEPARATORS["ru"])
    q = d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if q < 0 else ""
    whole, _, frac = f"{abs(q):f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + thousands.join(groups) + (point + frac if decimals > 0 else "")


def money(value: object, lang: str = "ru", *, sign: bool = True, whole: bool = False) -> str:
    """An amount of roubles: «9 821 111,14 ₽» (EN «9,821,111.14 ₽»). ``whole``
    rounds to the rouble and shows no kopecks (for rounded figures: chart axes,
    averages); ``sign=False`` leaves out «₽» (a column already headed «, ₽»).
    ``""`` for nothing."""
    text = number(value, lang, 0 if whole else 2)
    if not text or to_decimal(value) is None:
        return text
    return f"{text} {RUB}" if sign else text


def percent(value: object, lang: str = "ru", decimals: int = 1) -> str:
    """A share in per cent (``33.333`` -> «33,3 %», EN «33.3%»): at most ``decimals``
    after the point, no trailing zeros («100 %»); Russian puts a no-break space
    before «%». ``""`` for nothing."""
    text = number(value, lang, decimals)
    if not text or to_decimal(value) is None:
        return text
    if decimals > 0:
        text = text.rstrip("0").rstrip(SEPARATORS.get(lang, SEPARATORS["ru"])[1])
    return f"{text}%" if lang == "en" else f"{text}\u00a0%"


def short_money(value: object, lang: str = "ru") -> str:
    """A metric-sized amount: exact below a million, else «194,7 млн ₽» / «194.7 M ₽»."""
    d = to_decimal(value)
    if d is None:
        return ""
    if abs(d) < 1_000_000:
        return money(d, lang)
    if abs(d) < 1_000_000_000:
        scaled, unit = d / 1_000_000, ("млн" if lang == "ru" else "M")
    else:
        scaled, unit = d / 1_000_000_000, ("млрд" if lang == "ru" else "B")
    return f"{number(scaled, lang, 1)} {unit} {RUB}"


def day(value: object, lang: str = "ru") -> str:
    """A date as ``06.12.2026`` (a date, a datetime, or ISO text; the first ten
    characters of ISO text are the date). ``""`` for nothing; other text as it is."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime | date):
        return f"{value:%d.%m.%Y}"
    text = str(value)
    try:
        return f"{date.fromisoformat(text[:10]):%d.%m.%Y}"
    except ValueError:
        return text


_MONTHS = {"ru": ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя",
                  "дек"),
           "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                  "Dec")}


def month(value: object, lang: str = "ru") -> str:
    """A month key as a person reads it: ``2026-01`` -> «янв 2026» (EN «Jan 2026»); a
    date or datetime gives its month. ``""`` for nothing; other text as it is."""
    if value in (None, ""):
        return ""
    if isinstance(value, datetime | date):
        year, num = value.year, value.month
    else:
        text = str(value).strip()
        if len(text) != 7 or text[4] != "-" or not (text[:4] + text[5:]).isdigit():
            return text
        year, num = int(text[:4]), int(text[5:])
        if not 1 <= num <= 12:
            return text
    return f"{_MONTHS.get(lang, _MONTHS['ru'])[num - 1]} {year}"


def zone(name: object) -> ZoneInfo:
    """The zone called ``name``; Moscow for nothing or a name the zone database
    does not know (showing a time must never fail)."""
    try:
        return ZoneInfo(str(name or DEFAULT_ZONE))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


def zone_label(tz: ZoneInfo | str | None = None, lang: str = "ru",
               at: datetime | None = None) -> str:
    """How a person names the zone ``tz`` after a time: «МСК» / «Moscow time» for
    Moscow, otherwise the offset from UTC at ``at`` (default now): «UTC+5»,
    «UTC+5:30»."""
    z = tz if isinstance(tz, ZoneInfo) else zone(tz)
    if z.key == DEFAULT_ZONE:
        return "МСК" if lang == "ru" else "Moscow time"
    offset = (at or datetime.now(UTC)).astimezone(z).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{mins:02d}" if mins else "")


def instant(value: object) -> datetime | None:
    """A stored instant as an aware datetime: ISO text or a datetime; text or a
    datetime without an offset is UTC (how the database stores time). ``None``
    for nothing or text that is not a time."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        moment_ = value
    else:
        try:
            moment_ = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    return moment_ if moment_.tzinfo else moment_.replace(tzinfo=UTC)


def moment(value: object, tz: ZoneInfo | str | None = None, lang: str = "ru",
           seconds: bool = False) -> str:
    """A stored instant in the zone ``tz``: ``06.12.2026 08:25`` (with ``:SS`` when
    ``seconds``). A bare date stays a date; ``""`` for nothing; text that is not a
    time comes back as it was."""
    if value in (None, ""):
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return day(value, lang)
    text = str(value).strip()
    if len(text) == 10 and not isinstance(value, datetime):
        return day(text, lang)
    at = instant(value)
    if at is None:
        return text
    local = at.astimezone(tz if isinstance(tz, ZoneInfo) else zone(tz))
    return f"{local:%d.%m.%Y %H:%M:%S}" if seconds else f"{local:%d.%m.%Y %H:%M}"


def clock(value: object, tz: ZoneInfo | str | None = None, seconds: bool = False) -> str:
    """Only the time of day of a stored instant in the zone ``tz``: ``08:25``."""
    at = instant(value)
    if at is None:
        return ""
    local = at.astimezone(tz if isinstance(tz, ZoneInfo) else zone(tz))
    return f"{local:%H:%M:%S}" if seconds else f"{local:%H:%M}"


def local_now(tz: ZoneInfo | str | None = None, now: datetime | None = None) -> datetime:
    """The current moment (or ``now``) in the zone ``tz``, to the minute."""
    at = (now or datetime.now(UTC)).astimezone(tz if isinstance(tz, ZoneInfo) else zone(tz))
    return at.replace(second=0, microsecond=0)
