"""Why a request was refused: one base class with the field at fault, for every layer. Views
turn these into form errors beside the field, or JSON errors with the right status."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")


class AppError(Exception):
    """Bad input or a refused action: nothing was changed. ``field`` names the input at fault;
    ``problems`` is every (field, message) refused at once, this one first, so that a form can
    show each beside its field in one answer."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, field: str | None = None,
                 problems: tuple[tuple[str | None, str], ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.problems = problems or ((field, message),)


def every_check(checks: Iterable[Callable[[], T]]) -> list[T]:
    """What each check returns; when any is refused, one error of the first's kind, message and
    field that carries every problem, so that a form shows them all at once."""
    values, refused = [], []
    for check in checks:
        try:
            values.append(check())
        except AppError as error:
            refused.append(error)
    if refused:
        first = refused[0]
        raise type(first)(first.message, first.field, problems=tuple(p for error in refused for p in error.problems))
    return values


class NotFound(AppError):
    code = "not_found"
    http_status = 404


class QuotaExceeded(AppError):
    code = "quota_exceeded"
    http_status = 429


class IdempotencyConflict(AppError):
    code = "idempotency_conflict"
    http_status = 422


class InvalidState(AppError):
    code = "invalid_state"
    http_status = 409
