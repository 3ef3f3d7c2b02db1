"""Leases: how background work is shared by any number of processes on any number of machines.

A row of work (a video, an image to download) is claimed by writing a lease into it — the
owner and an expiry — and only the owner works it until the lease ends or is released. A
process that dies loses nothing: its leases expire and the row is claimed again.

The claim is one statement per database, always the same form: a CTE picks the candidates
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent claimers skip each other's rows instead
of waiting) and the UPDATE leases exactly those. A CTE is evaluated once; an ``IN (subquery)``
may be re-run per row by PostgreSQL and lease more than ``limit``. On SQLite, writers are
serialised (BEGIN IMMEDIATE) and the UPDATE re-checks the conditions, so the claim is a
compare-and-set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update

from .extensions import db
from .models import utcnow


def free(model: Any, now: Any) -> ColumnElement[bool]:
    """The row is not leased, or its lease ran out."""
    return or_(model.lease_expires_at.is_(None), model.lease_expires_at < now)


def claim(
    model: Any,
    *,
    owner: str,
    lease_for: timedelta,
    limit: int,
    conditions: Sequence[ColumnElement[bool]],
    order_by: Sequence[Any],
    candidates: Any = None,
    returning: Sequence[Any] = (),
    keep_updated_at: bool = False,
) -> list[Any]:
    """Leases up to ``limit`` rows of ``model`` that meet ``conditions`` (free ones, or
    ``conditions`` may admit the owner's own), in ``order_by``; commits and returns
    ``returning`` columns (the ids by default).

    ``candidates`` replaces the plain ``SELECT id … ORDER BY … LIMIT`` when the order needs more
    than columns (a fair turn across workspaces): a select of ``model.id`` already limited, to
    which the row lock is added here. ``keep_updated_at``: a lease is nobody's news, so the
    ``updated_at`` the live pages watch is left as it was."""
    if limit <= 0:
        return []
    now = utcnow()
    query = candidates if candidates is not None else (
        select(model.id).where(*conditions).order_by(*order_by).limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=model, skip_locked=True)
    claimable = query.cte("claimable")
    values: dict[str, Any] = {"lease_owner": owner, "lease_expires_at": now + lease_for}
    if keep_updated_at:
        values["updated_at"] = model.updated_at
    rows = db.session.execute(
        update(model)
        .where(model.id == claimable.c.id, *conditions)
        .values(**values)
        .returning(*(returning or (model.id,)))
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return list(rows)


def release(model: Any, row_id: int, owner: str, *conditions: ColumnElement[bool], **values: Any) -> bool:
    """Ends ``owner``'s lease on one row (with ``values`` written in the same statement);
    False when the lease was no longer theirs."""
    released = db.session.execute(
        update(model)
        .where(model.id == row_id, model.lease_owner == owner, *conditions)
        .values(lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return released == 1


def release_all(model: Any, owner: str, **values: Any) -> int:
    """Hands back every lease ``owner`` holds (a clean shutdown): the work is taken at once."""
    released = db.session.execute(
        update(model)
        .where(model.lease_owner == owner)
        .values(lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return released


def clear_expired(model: Any, **values: Any) -> int:
    """Forgets leases that ran out (their owner died), so the rows look free again."""
    now = utcnow()
    cleared = db.session.execute(
        update(model)
        .where(model.lease_expires_at < now)
        .values(lease_owner=None, lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return cleared
