"""The exceptions esc raises on purpose, each carrying the exit code of SPEC §5."""

from __future__ import annotations


class EscError(Exception):
    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def line(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class UsageError(EscError):
    """A bad flag or value: exit 2."""

    exit_code = 2


class NotFound(EscError):
    exit_code = 3


class Conflict(EscError):
    """An illegal transition, a refused move, or a race lost to another writer: exit 4."""

    exit_code = 4


class StoreError(EscError):
    """Missing, uninitialised, foreign, newer, locked or damaged store: exit 5."""

    exit_code = 5
