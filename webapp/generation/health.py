"""A circuit breaker per provider, kept in the ``provider_health`` table so every process agrees.

closed ──N failures in a row──> open ──cool-off passed──> half_open (one probe at a time)
half_open ──probe succeeds──> closed;  ──probe fails──> open again
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import or_, update

from ..extensions import db
from ..models import ProviderHealth, utcnow

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _settings() -> tuple[int, int]:
    config = current_app.config
    return config.get("CIRCUIT_FAILURE_THRESHOLD", 5), config.get("CIRCUIT_COOL_OFF_S", 30)


def _row(provider: str) -> ProviderHealth:
    row = db.session.get(ProviderHealth, provider)
    if row is None:
        row = ProviderHealth(provider=provider, state=CLOSED, consecutive_failures=0)
        db.session.add(row)
        db.session.flush()
    return row


def allows_calls(provider: str) -> bool:
    """True while closed; when open, lets one process through as the probe once the cool-off passed."""
    row = db.session.get(ProviderHealth, provider)
    if row is None or row.state == CLOSED:
        return True
    _, cool_off = _settings()
    now = utcnow()
    if row.opened_at and row.opened_at <= now - timedelta(seconds=cool_off):
        # compare-and-set: only one process turns it half-open and makes the probe
        probing = db.session.execute(
            update(ProviderHealth)
            .where(
                ProviderHealth.provider == provider,
                or_(ProviderHealth.state == OPEN, ProviderHealth.updated_at <= now - timedelta(seconds=cool_off)),
            )
            .values(state=HALF_OPEN, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return probing == 1
    return False


def record_success(provider: str) -> None:
    row = db.session.get(ProviderHealth, provider)
    if row is not None and row.state == CLOSED and row.consecutive_failures == 0:
        return  # the common case writes nothing
    row = _row(provider)
    row.state, row.consecutive_failures, row.opened_at, row.last_success_at = CLOSED, 0, None, utcnow()
    db.session.commit()


def record_failure(provider: str, error: str) -> None:
    threshold, _ = _settings()
    row = _row(provider)
    row.consecutive_failures += 1
    row.last_error = error[:1000]
    if row.state == HALF_OPEN or row.consecutive_failures >= threshold:
        row.state, row.opened_at = OPEN, utcnow()
    db.session.commit()


def snapshot(provider: str) -> ProviderHealth | None:
    return db.session.get(ProviderHealth, provider)
