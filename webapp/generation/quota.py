"""Monthly video quota: the one place that reserves and refunds it.

Reserving is one conditional UPDATE on the workspace's ``usage_periods`` row, so concurrent
requests can never take more than the limit, on SQLite or PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import UsagePeriod, Video, Workspace, utcnow

ALMOST_FULL_AT = 75
RED_ABOVE = 90


def current_period() -> str:
    return utcnow().strftime("%Y-%m")


def limit_for(workspace: Workspace) -> int:
    return current_app.config["PLAN_LIMITS"].get(workspace.plan, 0)


@dataclass(frozen=True)
class Usage:
    used: int
    limit: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def percentage(self) -> int:
        return min(100, round(100 * self.used / self.limit)) if self.limit else 100

    @property
    def level(self) -> str:
        """The bar's colour (seeds/002 VideoUsageProgress): blue below 75 %, yellow 75–90 %,
        red above 90 % — compared on the exact share, not the rounded percentage."""
        if self.remaining == 0 or 100 * self.used > RED_ABOVE * self.limit:
            return "full"
        if 100 * self.used >= ALMOST_FULL_AT * self.limit:
            return "almost"
        return "ok"

    @property
    def state(self) -> str:
        """The badge: the limit is reached only when nothing remains (92/100 is almost full)."""
        if self.remaining == 0:
            return "reached"
        return "almost" if 100 * self.used >= ALMOST_FULL_AT * self.limit else "available"

    @property
    def label(self) -> str:
        return {"available": "Available", "almost": "Almost full", "reached": "Limit reached"}[self.state]

    def as_dict(self) -> dict[str, int]:
        return {"used": self.used, "limit": self.limit, "remaining": self.remaining, "percentage": self.percentage}


def usage(workspace: Workspace) -> Usage:
    used = db.session.scalar(
        select(UsagePeriod.used).filter_by(workspace_id=workspace.id, period=current_period())
    )
    return Usage(used or 0, limit_for(workspace))


def limit_message(workspace: Workspace) -> str:
    """The seed's message when the limit is reached."""
    current = usage(workspace)
    return (
        f"Video generation limit reached. You have used {current.used}/{current.limit} videos for this "
        "billing period. Upgrade your plan or wait for the next period to generate more videos."
    )


def _ensure_period_row(workspace_id: int, period: str) -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(UsagePeriod)
        .values(workspace_id=workspace_id, period=period, used=0, last_grant=0)
        .on_conflict_do_nothing(index_elements=["workspace_id", "period"])
    )


def reserve(workspace: Workspace, wanted: int) -> int:
    """Reserves up to ``wanted`` videos this period in the caller's transaction; returns how many.

    One UPDATE grants ``min(wanted, limit - used)`` and records the grant in ``last_grant``
    (both SET expressions see the row as it was), so no read-then-write race is possible.
    """
    if wanted <= 0:
        return 0
    limit = limit_for(workspace)
    period = current_period()
    _ensure_period_row(workspace.id, period)
    grant = case((UsagePeriod.used + wanted <= limit, wanted), else_=limit - UsagePeriod.used)
    granted = db.session.execute(
        update(UsagePeriod)
        .where(
            UsagePeriod.workspace_id == workspace.id,
            UsagePeriod.period == period,
            UsagePeriod.used < limit,
        )
        .values(used=UsagePeriod.used + grant, last_grant=grant)
        .returning(UsagePeriod.last_grant)
    ).scalar()
    return granted or 0


def refund(video: Video) -> bool:
    """Gives back the video's charge, once: guarded by ``quota_refunded`` in the same transaction."""
    claimed = db.session.execute(
        update(Video).where(Video.id == video.id, Video.quota_refunded.is_(False)).values(quota_refunded=True)
    ).rowcount
    if claimed != 1:
        return False
    db.session.execute(
        update(UsagePeriod)
        .where(
            UsagePeriod.workspace_id == video.workspace_id,
            UsagePeriod.period == video.quota_period,
            UsagePeriod.used > 0,
        )
        .values(used=UsagePeriod.used - 1)
    )
    return True
