"""Why a generation request was refused. Views turn these into form errors or JSON errors."""

from __future__ import annotations


class GenerationError(Exception):
    """Bad input or a refused action: nothing was changed. ``field`` names the input at fault."""

    code = "invalid"
    http_status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(GenerationError):
    code = "not_found"
    http_status = 404


class QuotaExceeded(GenerationError):
    code = "quota_exceeded"
    http_status = 429


class IdempotencyConflict(GenerationError):
    code = "idempotency_conflict"
    http_status = 422


class InvalidState(GenerationError):
    code = "invalid_state"
    http_status = 409
