"""Exceptions a user can act on. Entry points turn them into one-line messages."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix; ``str(err)`` is a message fit to show."""


class ValidationError(UserError):
    """One or more fields are wrong. ``errors`` maps field name -> message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class NotFound(UserError):
    """The record does not exist (or is outside the actor's scope)."""


class AccessDenied(UserError):
    """The actor may not do this."""


class ConflictError(UserError):
    """An optimistic-locking conflict: somebody saved the record first."""

    def __init__(self, message: str, changed_by: str = "", changed_at: str = "",
                 changes: dict[str, tuple[object, object]] | None = None):
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.changes = changes or {}
        super().__init__(message)


class DuplicateWarning(UserError):
    """A client with the same INN, phone or e-mail already exists."""

    def __init__(self, message: str, existing_ids: list[int]):
        self.existing_ids = existing_ids
        super().__init__(message)


DISK_FULL = "Недостаточно места на диске"


class DiskFullError(UserError):
    """The disk that holds the data folder is full (or the database reached its size
    limit): what was being saved is not saved, and nothing stored before is lost.
    ``str(err)`` starts with «Недостаточно места на диске» and says what was not saved."""

    def __init__(self, what: str = "изменения не сохранены, данные остались прежними"):
        super().__init__(f"{DISK_FULL}: {what}. Освободите место на диске с папкой данных"
                         " и повторите.")


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says the disk is full: SQLite's ``SQLITE_FULL`` ("database or
    disk is full") or an ``OSError`` with ``errno`` ``ENOSPC`` (28) or ``EDQUOT``."""
    import errno
    import sqlite3

    if isinstance(exc, DiskFullError):
        return True
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        return (code is not None and code & 0xFF == sqlite3.SQLITE_FULL) or \
            "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
