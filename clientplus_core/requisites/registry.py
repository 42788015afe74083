"""The register's answers in words: the Russian / English label of a DaData
status code, the warning worth showing for one, and dates as ДД.ММ.ГГГГ (Moscow
time for stored timestamps). Used by the look-ups, the batch refresh, the card
and the command line."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

MOSCOW = timezone(timedelta(hours=3))

# DaData's state.status -> (ru, en) for a company and for an entrepreneur.
STATUS_LABELS: dict[str, tuple[str, str]] = {
    "ACTIVE": ("действующая", "active"),
    "LIQUIDATING": ("ликвидируется", "being liquidated"),
    "LIQUIDATED": ("ликвидирована", "liquidated"),
    "BANKRUPT": ("банкротство", "bankrupt"),
    "REORGANIZING": ("реорганизуется", "being reorganised"),
    "NOT_FOUND": ("не найдена в реестре", "not found in the register"),
}
IP_STATUS_LABELS: dict[str, tuple[str, str]] = {
    "ACTIVE": ("действующий ИП", "active"),
    "LIQUIDATED": ("деятельность прекращена", "ceased trading"),
    "BANKRUPT": ("банкротство", "bankrupt"),
    "NOT_FOUND": ("не найден в реестре", "not found in the register"),
}
WARN_STATUSES = ("LIQUIDATING", "LIQUIDATED", "BANKRUPT", "REORGANIZING", "NOT_FOUND")


def status_label(status: str, kind: str = "legal", lang: str = "ru") -> str:
    """«ликвидирована», «деятельность прекращена», … for a stored status code."""
    labels = IP_STATUS_LABELS if kind == "ip" else STATUS_LABELS
    ru, en = labels.get(status) or STATUS_LABELS.get(status) or (status, status)
    return ru if lang == "ru" else en


def status_warning(status: str, kind: str = "legal", date: str = "",
                   lang: str = "ru") -> str | None:
    """A one-line warning for a status worth one (``None`` for an active company)."""
    if status not in WARN_STATUSES:
        return None
    when = f" {format_date(date)}" if date and status in ("LIQUIDATED",) else ""
    label = status_label(status, kind, lang)
    if lang == "ru":
        who = "ИП" if kind == "ip" else "организация"
        return f"Внимание: {who} — {label}{when}. Проверьте, прежде чем заключать сделку."
    who = "the entrepreneur" if kind == "ip" else "the company"
    return f"Warning: {who} is {label}{when}. Check before doing business."


def format_date(iso: str) -> str:
    """``2024-03-05…`` -> ``05.03.2024``."""
    s = str(iso or "")
    return f"{s[8:10]}.{s[5:7]}.{s[0:4]}" if len(s) >= 10 else s


def fetched_date(fetched_at: str) -> str:
    """The Moscow date (ДД.ММ.ГГГГ) of a stored UTC timestamp."""
    try:
        return datetime.fromisoformat(fetched_at).astimezone(MOSCOW).strftime("%d.%m.%Y")
    except ValueError:
        return format_date(fetched_at)
