"""Periodic jobs, declared as data with stable ids, run by one APScheduler BackgroundScheduler.

The scheduler runs inside ``flask run`` when EMBEDDED_WORKER=1 (never in the reloader's parent
process) and alone in ``flask worker``. gunicorn web workers never start it. Each job only
calls into ``webapp.generation.worker``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

from .catalog import images
from .extensions import db
from .generation.worker import Worker
from .maintenance import refresh_query_statistics
from .providers.registry import shutdown_providers

log = logging.getLogger(__name__)

EXTENSION = "reelboard.scheduler"


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    seconds: float
    run: Callable[[Worker], object]


JOBS = (
    PeriodicJob("dispatch", 1, Worker.dispatch),
    PeriodicJob("sync", 2, Worker.sync),
    PeriodicJob("reap", 30, Worker.reap),
    PeriodicJob("images", 2, lambda worker: images.download_pending(worker.owner)),
    PeriodicJob("statistics", 3600, lambda worker: refresh_query_statistics()),
    PeriodicJob("heartbeat", 10, Worker.heartbeat),
)


def _tick(app: Flask, worker: Worker, job: PeriodicJob) -> None:
    with app.app_context():
        try:
            job.run(worker)
        except Exception:
            log.exception("job %s failed", job.id)
        finally:
            db.session.remove()


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Starts the jobs in this process (once); returns the running scheduler."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION][0]
    worker = Worker(app)
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    for job in JOBS:
        scheduler.add_job(_tick, "interval", seconds=job.seconds, id=job.id, args=(app, worker, job))
    scheduler.start()
    _tick(app, worker, JOBS[-1])  # beat now: /readyz is ready as soon as the worker is
    app.extensions[EXTENSION] = (scheduler, worker)
    log.info("scheduler started as %s", worker.owner)
    return scheduler


def stop_scheduler(app: Flask) -> None:
    """Stops the jobs and this process's renders, and hands its videos back to other workers."""
    scheduler, worker = app.extensions.pop(EXTENSION, (None, None))
    if scheduler is not None:
        scheduler.shutdown(wait=True)
    shutdown_providers(app)
    if worker is None:
        return
    with app.app_context():
        worker.release_leases()
        db.session.remove()


def init_app(app: Flask) -> None:
    """Embedded mode: start with the app in ``flask run``, but not in the reloader's parent."""
    if not app.config["EMBEDDED_WORKER"]:
        return
    reloader_parent = app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    if not reloader_parent:
        start_scheduler(app)
