"""Page-by-page listing of a query, shared by the HTML pages and the JSON API."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select

from .extensions import db


@dataclass(frozen=True)
class Page:
    items: list[Any]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    def as_dict(self) -> dict[str, Any]:
        """The pagination object of seeds/000 and the JSON API."""
        return {
            "total": self.total,
            "page": self.page,
            "limit": self.per_page,
            "totalPages": self.pages,
            "hasNext": self.has_next,
            "hasPrev": self.has_prev,
        }


def paginate(query: Select, page: int, per_page: int, *, scalars: bool = True, count_query: Select | None = None) -> Page:
    """One COUNT and one page of rows. ``page`` past the end gives an empty page.

    ``count_query`` replaces the default count of the whole query where a leaner one exists
    (no joins that only serve the columns)."""
    if count_query is None:
        count_query = select(func.count()).select_from(query.order_by(None).subquery())
    total = db.session.scalar(count_query)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page))
    items = list(rows.scalars() if scalars else rows)
    return Page(items, total or 0, page, per_page)
