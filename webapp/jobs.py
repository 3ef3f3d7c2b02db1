"""Periodic jobs, declared as data with stable ids, run by one APScheduler BackgroundScheduler.

The scheduler runs inside ``flask run`` when EMBEDDED_WORKER=1 (never in the reloader's parent
process) and alone in ``flask worker``. gunicorn web workers never start it. Each job only
calls into ``webapp.generation.worker`` (or the catalog, or the storage).

Dispatch also runs on demand, not only on its tick: when videos are queued (PostgreSQL NOTIFY,
heard by ``queue.QueueListener``; directly in this process) and when a render here finishes.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import click
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from .catalog import images
from .extensions import db
from .generation import outbound, previews, queue
from .generation.worker import Worker
from .maintenance import refresh_query_statistics
from .providers.registry import shutdown_providers
from .storage import current_storage

log = logging.getLogger(__name__)

EXTENSION = "reelboard.scheduler"
# What killed processes left half-written (a render's .part, an S3 multipart upload, a scratch
# copy) is removed once it is this old: no write in progress lasts that long.
PARTIALS_KEPT_S = 24 * 3600


@dataclass(frozen=True)
class Running:
    """The jobs of this process: the scheduler, the worker whose ticks it runs, and the listener
    that dispatches as soon as videos are queued (None on SQLite)."""

    scheduler: BackgroundScheduler
    worker: Worker
    listener: queue.QueueListener | None


@dataclass(frozen=True)
class PeriodicJob:
    id: str
    seconds: float
    run: Callable[[Worker], object]
    at_start: bool = False  # also run once as the scheduler starts


_missing_previews = previews.MissingPreviews()


def _template_previews(worker: Worker) -> None:
    if current_app.config["TEMPLATE_PREVIEWS"]:
        _missing_previews(worker.owner)


JOBS = (
    PeriodicJob("dispatch", 1, Worker.dispatch),
    PeriodicJob("sync", 2, Worker.sync),
    PeriodicJob("reap", 30, Worker.reap),
    PeriodicJob("images", 2, lambda worker: images.download_pending(worker.owner)),
    PeriodicJob("webhooks", 1, lambda worker: outbound.deliver_due(worker.owner)),
    PeriodicJob("statistics", 3600, lambda worker: refresh_query_statistics()),
    PeriodicJob("partials", 3600, lambda worker: current_storage().sweep_partials(PARTIALS_KEPT_S)),
    PeriodicJob("previews", 3600, _template_previews, at_start=True),
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


def _run_now(scheduler: BackgroundScheduler, job_id: str) -> None:
    try:
        scheduler.modify_job(job_id, next_run_time=datetime.now(scheduler.timezone))
    except JobLookupError:  # the scheduler is stopping
        pass


def start_scheduler(app: Flask) -> BackgroundScheduler:
    """Starts the jobs in this process (once); returns the running scheduler."""
    if EXTENSION in app.extensions:
        return app.extensions[EXTENSION].scheduler
    worker = Worker(app)
    scheduler = BackgroundScheduler(job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 30})
    for job in JOBS:
        first = {"next_run_time": datetime.now(scheduler.timezone)} if job.at_start else {}
        scheduler.add_job(_tick, "interval", seconds=job.seconds, id=job.id, args=(app, worker, job), **first)
    worker.start_dispatch = lambda: _run_now(scheduler, "dispatch")
    scheduler.start()
    _tick(app, worker, JOBS[-1])  # beat now: /readyz is ready as soon as the worker is
    with app.app_context():
        listener = queue.listen_for_work(worker.request_dispatch)
    app.extensions[queue.LOCAL_WAKE] = worker.request_dispatch
    app.extensions[EXTENSION] = Running(scheduler, worker, listener)
    log.info("scheduler started as %s", worker.owner)
    return scheduler


def stop_scheduler(app: Flask) -> None:
    """Stops the jobs and this process's renders, and hands its videos back to other workers."""
    running: Running | None = app.extensions.pop(EXTENSION, None)
    app.extensions.pop(queue.LOCAL_WAKE, None)
    if running is not None:
        if running.listener is not None:
            running.listener.stop()
        running.worker.start_dispatch = None
        running.scheduler.shutdown(wait=True)
    shutdown_providers(app)
    if running is None:
        return
    with app.app_context():
        running.worker.release_leases()
        db.session.remove()


@click.command("worker")
@with_appcontext
def worker() -> None:
    """Run the background jobs (dispatch, sync, reap) in this process until stopped."""
    app = current_app._get_current_object()
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    start_scheduler(app)
    click.echo("Reelboard worker running. Ctrl-C to stop.")
    stopping.wait()
    stop_scheduler(app)
    click.echo("Worker stopped; its videos were handed back.")


def init_app(app: Flask) -> None:
    """``flask worker``; and in embedded mode the jobs start with the app in ``flask run``, but
    not in the reloader's parent."""
    app.cli.add_command(worker)
    if not app.config["EMBEDDED_WORKER"]:
        return
    reloader_parent = app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true"
    if not reloader_parent:
        start_scheduler(app)
