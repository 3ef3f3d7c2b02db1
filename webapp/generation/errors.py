"""The domain's refusals: ``webapp.errors``, under the names the generation code uses."""

from __future__ import annotations

from ..errors import AppError as GenerationError
from ..errors import IdempotencyConflict, InvalidState, NotFound, QuotaExceeded

__all__ = ["GenerationError", "IdempotencyConflict", "InvalidState", "NotFound", "QuotaExceeded"]
