"""Health endpoints for load balancers and orchestrators."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..generation import health
from ..generation.worker import HEARTBEAT_FRESH_S
from ..models import WorkerHeartbeat, utcnow
from ..providers.registry import default_provider_name

bp = Blueprint("system", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Ready when the database answers and a scheduler has beaten in the last minute."""
    try:
        db.session.execute(text("SELECT 1"))
        last_beat = db.session.scalar(select(func.max(WorkerHeartbeat.beat_at)))
        provider = default_provider_name()
        breaker = health.snapshot(provider)
    except SQLAlchemyError as error:
        db.session.rollback()
        return {"status": "unavailable", "reason": f"database unreachable: {error.__class__.__name__}"}, 503
    checks = {
        "database": "ok",
        "provider": {"name": provider, "circuit": breaker.state if breaker else "closed"},
    }
    if last_beat is None or last_beat < utcnow() - timedelta(seconds=HEARTBEAT_FRESH_S):
        reason = "no background worker has reported in the last minute (start `flask worker` or EMBEDDED_WORKER=1)"
        return {"status": "unavailable", "reason": reason, "checks": checks}, 503
    checks["worker"] = "ok"
    return {"status": "ok", "checks": checks}
