"""Who is acting, and what they may see and do — decided here, in one place.

Every core function that reads or writes takes an :class:`Actor`. Record-level
scope (a manager sees the clients they own or that are shared with them) is
produced by :func:`client_scope` as a SQL fragment, so every list, search and
export applies the same rule. Operation rights live in :data:`PERMISSIONS`, a
table that later modules extend with their own operations.
"""

from __future__ import annotations

from dataclasses import dataclass

from clientplus_core.base.errors import AccessDenied

ROLES = ("admin", "head", "manager", "viewer")
# how a role is named for people: (Russian, English)
ROLE_LABELS = {"admin": ("Администратор", "Administrator"), "head": ("Руководитель", "Head"),
               "manager": ("Менеджер", "Manager"), "viewer": ("Наблюдатель", "Viewer")}


def role_label(role: str, lang: str = "ru") -> str:
    """«Менеджер» for ``manager`` (English with ``lang="en"``); unknown codes as they are."""
    ru, en = ROLE_LABELS.get(role, (role, role))
    return en if lang == "en" else ru


@dataclass(frozen=True)
class Actor:
    """The signed-in user (or the local single-user administrator)."""

    id: int
    login: str
    role: str = "admin"
    full_name: str = ""

    @property
    def sees_everything(self) -> bool:
        return self.role in ("admin", "head", "viewer")

    @property
    def can_write(self) -> bool:
        return self.role != "viewer"


# operation -> roles allowed. Record-level scope is applied on top of this.
PERMISSIONS: dict[str, frozenset[str]] = {
    "client.read": frozenset(ROLES),
    "client.create": frozenset({"admin", "head", "manager"}),
    "client.update": frozenset({"admin", "head", "manager"}),
    "client.delete": frozenset({"admin", "head", "manager"}),
    "client.merge": frozenset({"admin", "head", "manager"}),
    "client.assign_owner": frozenset({"admin", "head"}),
    "client.restore": frozenset({"admin", "head"}),
    "client.import": frozenset({"admin", "head", "manager"}),
    "client.export": frozenset(ROLES),
    "search": frozenset(ROLES),
    "file.upload": frozenset({"admin", "head", "manager"}),
    "file.delete": frozenset({"admin", "head", "manager"}),
    "settings.company": frozenset({"admin"}),
    "settings.write": frozenset({"admin"}),
    "backup": frozenset({"admin"}),
    "audit.read": frozenset({"admin", "head"}),
    "users.manage": frozenset({"admin"}),
    # requisites lookup (DaData): filling cards, and the batch re-check of all clients
    "lookup.use": frozenset({"admin", "head", "manager"}),
    "lookup.refresh": frozenset({"admin", "head"}),
    # sales and documents: record-level scope is the sale's client (see sales.py)
    "sale.read": frozenset(ROLES),
    "sale.create": frozenset({"admin", "head", "manager"}),
    "sale.update": frozenset({"admin", "head", "manager"}),
    "sale.delete": frozenset({"admin", "head", "manager"}),
    "sale.restore": frozenset({"admin", "head"}),
    "sale.export": frozenset(ROLES),
    "document.generate": frozenset({"admin", "head", "manager"}),
    "catalogue.write": frozenset({"admin", "head"}),
    "templates.manage": frozenset({"admin"}),
    "statuses.manage": frozenset({"admin"}),
    # custom fields, saved segments and builder reports (issue 6); a manager's
    # segments and reports are computed over their own clients only
    "fields.manage": frozenset({"admin"}),
    "segments.manage": frozenset({"admin", "head", "manager"}),
    # analytics: dashboard, funnel, reports; record-level scope applies (analytics.py)
    "report.read": frozenset(ROLES),
    # outreach lists (issue 7): consent register, address books, phone lists for SMS;
    # a manager's books and lists hold only their own and shared clients
    "consent.read": frozenset(ROLES),
    "consent.write": frozenset({"admin", "head", "manager"}),
    "addressbook.manage": frozenset({"admin", "head", "manager"}),
    "phones.export": frozenset({"admin", "head", "manager"}),
    # e-mail mailings (issue 7): a manager mails only their own and shared clients;
    # the SMTP settings are the administrator's
    "mailing.manage": frozenset({"admin", "head", "manager"}),
    "mailing.send": frozenset({"admin", "head", "manager"}),
    # organizer (issue 7): admin and head see every task; a manager sees tasks assigned
    # to or created by them and those on clients they can see (tasks.py)
    "task.read": frozenset(ROLES),
    "task.write": frozenset({"admin", "head", "manager"}),
    "settings.mail": frozenset({"admin"}),
    # bank statements (issue 15): loading a statement and resolving its review list;
    # what was matched is read through the sales' own scope ("sale.read")
    "bank.import": frozenset({"admin", "head"}),
}


def can(actor: Actor, operation: str) -> bool:
    """Whether the actor's role allows ``operation`` at all."""
    return actor.role in PERMISSIONS.get(operation, frozenset())


def require(actor: Actor, operation: str) -> None:
    """Raise :class:`AccessDenied` unless the actor's role allows ``operation``."""
    if not can(actor, operation):
        raise AccessDenied(f"Нет доступа: {operation} ({actor.login}, {actor.role})")


def client_scope(actor: Actor, alias: str = "c") -> tuple[str, list[object]]:
    """SQL condition (with parameters) selecting the clients ``actor`` may see."""
    if actor.sees_everything:
        return "1 = 1", []
    return (
        f"({alias}.owner_id = ? OR EXISTS (SELECT 1 FROM client_shares s "
        f"WHERE s.client_id = {alias}.id AND s.user_id = ?))",
        [actor.id, actor.id],
    )
