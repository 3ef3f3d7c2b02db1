"""Numbers from the outside world (URLs, forms, JSON, CSV cells, headers), parsed by one rule.

Only ASCII digits count: ``str.isdigit()`` also accepts "²" or "٣", which ``int()`` then
refuses or reads as something else. Lengths are bounded before converting, so a thousand-digit
"number" is refused cheaply and nothing beyond 64 bits ever reaches a query.
"""

from __future__ import annotations

from typing import Any

from werkzeug.routing import BaseConverter

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database: a bigger number is no id
MAX_DIGITS = 18  # below 2**63: every accepted number fits a 64-bit column


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits 0-9 only."""
    return text.isascii() and text.isdigit()


def parse_int(value: Any, *, minimum: int = 0, maximum: int = 2**63 - 1) -> int | None:
    """A whole number within [minimum, maximum] from an int or a string of ASCII digits
    (a leading minus allowed when ``minimum`` is negative); None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        text = value.strip()
        negative = text.startswith("-") and minimum < 0
        digits = text[1:] if negative else text
        if not is_digits(digits) or len(digits) > MAX_DIGITS:
            return None
        value = -int(digits) if negative else int(digits)
    if not isinstance(value, int):
        return None
    return value if minimum <= value <= maximum else None


def parse_id(value: Any) -> int | None:
    """A record id (a positive 32-bit integer) from JSON, a form or a URL; None otherwise."""
    return parse_int(value, minimum=1, maximum=MAX_ID)


class IdConverter(BaseConverter):
    """``<int:…>`` in every route: ASCII digits only (so /videos/bulk is never taken for an id).
    A number that cannot be an id (0, or beyond 32 bits) becomes 0, which no record has: the
    lookup answers 404 as for any missing id, and no query sees a number its column cannot hold.
    (Refusing it here instead would make werkzeug answer 405 for the route's other methods.)"""

    regex = r"[0-9]{1,19}"
    weight = 50
    part_isolating = True

    def to_python(self, value: str) -> int:
        return parse_id(value) or 0

    def to_url(self, value: Any) -> str:
        return str(int(value))
