"""Driving the background work from a test: the same ticks the scheduler runs."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from webapp.extensions import db
from webapp.generation.worker import Worker
from webapp.models import Video


def run_worker_until(app, predicate, timeout: float = 90, worker: Worker | None = None) -> Worker:
    """Runs dispatch and sync ticks until ``predicate()`` holds (checked in a fresh session)."""
    worker = worker or Worker(app)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.app_context():
            worker.dispatch()
            worker.sync()
            db.session.remove()
        with app.app_context():
            done = predicate()
            db.session.remove()
        if done:
            return worker
        time.sleep(0.2)
    raise AssertionError(f"not done within {timeout} s")


def fresh(video_id: int) -> Video:
    """The video as it is now, with its events, detached: it holds no transaction open (on
    SQLite an open transaction would block the worker's writes)."""
    db.session.rollback()
    video = db.session.scalar(select(Video).options(selectinload(Video.events)).where(Video.id == video_id))
    db.session.expunge(video)
    db.session.rollback()
    return video
