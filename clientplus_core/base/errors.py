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
