"""A circuit breaker per provider, kept in the ``provider_health`` table so every process agrees.

closed ──N failures in a row──> open ──cool-off passed──> half_open (one probe call at a time)
half_open ──probe answered──> closed;  ──probe failed──> open again

A failure is a call that got no usable answer (unreachable, timeout, 5xx, 429, rejected
credentials). A provider that answers, even to refuse one video, is healthy. Every function
ends its transaction: on SQLite an open transaction holds the write lock.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import ProviderHealth, utcnow

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
H = ProviderHealth


def _settings() -> tuple[int, float]:
    config = current_app.config
    return int(config["CIRCUIT_FAILURE_THRESHOLD"]), float(config["CIRCUIT_COOL_OFF_S"])


def _ensure_row(provider: str) -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    db.session.execute(
        insert(H)
        .values(provider=provider, state=CLOSED, consecutive_failures=0, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["provider"])
    )


def call_budget(provider: str) -> int | None:
    """How many calls this process may make now: None while closed (no limit), 1 when this
    process is the probe of a half-open circuit, 0 while open or another process probes."""
    try:
        row = db.session.execute(select(H.state, H.opened_at).where(H.provider == provider)).first()
        if row is None or row.state == CLOSED:
            return None
        _, cool_off = _settings()
        now = utcnow()
        cooled = now - timedelta(seconds=cool_off)
        if row.opened_at is None or row.opened_at > cooled:
            return 0
        # compare-and-set: one process turns it half-open and makes the probe; a probe that
        # never reported (its process died) is given up after another cool-off
        probing = db.session.execute(
            update(H)
            .where(H.provider == provider, or_(H.state == OPEN, H.updated_at <= cooled))
            .values(state=HALF_OPEN, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        return 1 if probing == 1 else 0
    finally:
        db.session.commit()


def record_success(provider: str) -> None:
    """The provider answered: close the circuit (the common case writes nothing)."""
    row = db.session.execute(select(H.state, H.consecutive_failures).where(H.provider == provider)).first()
    if row is not None and (row.state != CLOSED or row.consecutive_failures):
        now = utcnow()
        db.session.execute(
            update(H)
            .where(H.provider == provider)
            .values(state=CLOSED, consecutive_failures=0, opened_at=None, last_success_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    db.session.commit()


def record_failure(provider: str, error: str, count: int = 1, *, after_success: bool = False) -> bool:
    """``count`` calls in a row failed (the last with ``error``); ``after_success``: they came
    after an answered call, so the run starts over. Returns True when the circuit is open."""
    threshold, _ = _settings()
    _ensure_row(provider)
    now = utcnow()
    failures = count if after_success else H.consecutive_failures + count
    opens = or_(H.state == HALF_OPEN, failures >= threshold)
    state = db.session.execute(
        update(H)
        .where(H.provider == provider)
        .values(
            consecutive_failures=failures,
            last_error=error[:1000],
            # an open circuit keeps its opening time: late failures of calls made before it
            # opened must not push the probe back
            state=case((H.state == OPEN, OPEN), (opens, OPEN), else_=H.state),
            opened_at=case((H.state == OPEN, H.opened_at), (opens, now), else_=H.opened_at),
            updated_at=now,
        )
        .returning(H.state)
        .execution_options(synchronize_session=False)
    ).scalar()
    db.session.commit()
    return state == OPEN


def snapshot(provider: str) -> ProviderHealth | None:
    return db.session.get(ProviderHealth, provider)
