"""The video lifecycle: ``transition`` is the one function that changes a video's status.

    pending ──dispatch──> generating ──provider done──> completed
       │                      │──provider error / timeout / attempts exhausted──> failed
       └──cancel──> canceled <┘
    failed|canceled ──retry──> pending

The change is a compare-and-set UPDATE on (id, status), so two processes reporting at once
cannot both move the video, and a late or repeated report never moves it backwards.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import ObjectDeletedError

from ..extensions import db
from ..models import Video, VideoEvent, VideoStatus, utcnow
from . import outbound, quota

log = logging.getLogger(__name__)

S = VideoStatus
ALLOWED: dict[VideoStatus, frozenset[VideoStatus]] = {
    # pending -> failed: the provider refused the submit, or the input cannot be rendered.
    S.PENDING: frozenset({S.GENERATING, S.CANCELED, S.FAILED}),
    S.GENERATING: frozenset({S.COMPLETED, S.FAILED, S.CANCELED}),
    S.FAILED: frozenset({S.PENDING}),
    S.CANCELED: frozenset({S.PENDING}),
    S.COMPLETED: frozenset(),
}

# The timestamp each status stamps when entered.
STAMPS = {S.GENERATING: "started_at", S.COMPLETED: "completed_at", S.FAILED: "failed_at", S.CANCELED: "canceled_at"}


def can_transition(current: str, target: VideoStatus) -> bool:
    return target in ALLOWED[VideoStatus(current)]


def transition(video: Video, target: VideoStatus, message: str, **changes: Any) -> bool:
    """Moves ``video`` to ``target`` with ``changes``, appends the event and commits.

    Anything already staged in the session (a quota reservation for a retry) commits with it.
    Returns False, rolls back and logs when the move is not allowed or another process moved
    the video first.
    """
    video_id = inspect(video).identity[0] if inspect(video).identity else video.id
    try:
        current = VideoStatus(video.status)
    except ObjectDeletedError:  # deleted by a person meanwhile: nothing left to move
        log.info("video %s: deleted before %s (%s)", video_id, target, message)
        db.session.rollback()
        return False
    if not can_transition(current, target):
        log.warning("video %s: refused %s -> %s (%s)", video_id, current, target, message)
        db.session.rollback()
        return False
    now = utcnow()
    values: dict[str, Any] = {"status": target.value, "updated_at": now, **changes}
    if target in STAMPS:
        values.setdefault(STAMPS[target], now)
    if target is S.FAILED:
        values["error"] = message
    if target is not S.GENERATING:
        values.setdefault("lease_owner", None)
        values.setdefault("lease_expires_at", None)
    moved = db.session.execute(
        update(Video)
        .where(Video.id == video_id, Video.status == current.value)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        log.info("video %s: %s -> %s lost the race to another change", video_id, current, target)
        db.session.rollback()
        return False
    db.session.add(
        VideoEvent(video_id=video_id, kind="status", from_status=current.value, to_status=target.value, message=message)
    )
    if target in (S.FAILED, S.CANCELED) and quota.refund(video):
        values["quota_refunded"] = True
    outbound.record_transition(video_id, target)  # its webhooks commit with the change (an outbox)
    db.session.commit()
    if video in db.session:
        db.session.expire(video)
    else:  # a detached copy: keep it true to what was written
        for key, value in values.items():
            set_committed_value(video, key, value)
    log.info("video %s: %s -> %s: %s", video_id, current, target, message)
    return True


def record_event(video_id: int, kind: str, message: str) -> None:
    """A timeline entry that is not a status change (a provider message, a webhook)."""
    db.session.add(VideoEvent(video_id=video_id, kind=kind, message=message))
    db.session.commit()


def record_progress(video_id: int, progress: int, message: str) -> bool:
    """Progress of a generating video; ignored once the video has left ``generating``."""
    changed = db.session.execute(
        update(Video)
        .where(Video.id == video_id, Video.status == S.GENERATING.value)
        .values(progress=max(0, min(100, progress)), progress_message=message[:255], updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return changed == 1
