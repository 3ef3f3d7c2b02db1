"""The periodic jobs: dispatch queued videos, sync generating ones, reap what is stuck.

Each tick claims videos with a lease (``webapp.leases``), so any number of processes can run
the ticks against one database and each video is worked by one of them at a time; pending
videos are claimed in the queue's fair order (``queue``). What a provider reports is applied by
``reports``, the same code as for callbacks.

Provider calls run in two bounded thread pools per process (submits, and polls). A sync tick
claims due videos in batches, polls them in the pool, and writes the polls that changed nothing
but progress back in one statement per batch; a finished job is applied (and its result
mirrored) one by one. A circuit breaker per provider (``health``) stops calls to a provider
that stopped answering, without holding up the other providers' videos.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import repeat
from typing import Any

from flask import Flask, current_app
from sqlalchemy import bindparam, case, delete, or_, select, update

from .. import leases
from ..extensions import db
from ..models import (
    ProductImage,
    Video,
    VideoStatus,
    WebhookDelivery,
    WorkerHeartbeat,
    utcnow,
)
from ..providers.base import (
    GenerationRequest,
    JobNotFound,
    Provider,
    ProviderError,
    ProviderStatus,
    StagedFile,
)
from ..providers.http import OutcomeUnknown, Unreachable
from ..providers.registry import REPORTER, get_provider
from . import health, queue
from .lifecycle import record_event, transition
from .reports import apply_pushed, apply_status
from .requests import build_request, load_for_request
from .service import cancel_at_provider

log = logging.getLogger(__name__)

BACKOFF_FACTOR = 1.5
HEARTBEAT_FRESH_S = 60
WEBHOOK_DELIVERIES_KEPT = timedelta(days=7)
SYNC_TICK_BUDGET_S = 20.0  # a sync tick claims no new batch after this long
# A video due within half a sync tick (jobs.py: every 2 s) is polled in this tick rather than a
# whole tick late: polls land on the tick nearest to when they are due. Only a tick's first claim
# looks ahead, and never by more than half the provider's shortest interval, so a video is never
# polled twice in one tick.
POLL_SLACK_S = 1.0
MAX_SUBMIT_DELAY_S = 60.0


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def _slack(provider: Provider) -> float:
    return min(POLL_SLACK_S, provider.poll_interval[0] / 2)


def _next_poll(provider: Provider, interval: float, progressed: bool, now: datetime) -> tuple[float, datetime]:
    low, high = provider.poll_interval
    interval = low if progressed else min(high, max(low, interval * BACKOFF_FACTOR))
    return interval, now + timedelta(seconds=interval)


@dataclass(frozen=True)
class _Reschedule:
    """A polled video that stays generating: when to poll it next, and its progress if it moved."""

    video_id: int
    interval: float
    progressed: bool
    progress: int | None = None
    message: str | None = None
    delay: float | None = None  # wait exactly this long (Retry-After, an open circuit)


class _CallTally:
    """The outcomes of one batch's calls, for the circuit breaker. Once ``threshold`` calls in
    a row failed, the rest of the batch is not called: a dead provider costs a few timeouts,
    not a batch's worth."""

    def __init__(self, threshold: int) -> None:
        self._lock = threading.Lock()
        self.threshold = threshold
        self.answered = 0
        self.trailing_failures = 0
        self.error = ""

    def answer(self) -> None:
        with self._lock:
            self.answered += 1
            self.trailing_failures = 0

    def fail(self, error: str) -> None:
        with self._lock:
            self.trailing_failures += 1
            self.error = error

    @property
    def tripped(self) -> bool:
        return self.trailing_failures >= self.threshold

    def record(self, provider: str) -> None:
        if self.trailing_failures:
            health.record_failure(provider, self.error, self.trailing_failures, after_success=self.answered > 0)
        elif self.answered:
            health.record_success(provider)


def claim(
    status: VideoStatus,
    provider: str,
    limit: int,
    owner: str,
    *,
    include_own: bool = False,
    slack_s: float = 0.0,
    columns: tuple = (Video.id,),
) -> list[Any]:
    """Leases up to ``limit`` due videos in ``status`` at ``provider`` for ``owner``; returns
    their ``columns``. Pending videos are taken in the queue's fair order (``queue``),
    generating ones most overdue first."""
    now = utcnow()
    available = leases.free(Video, now)
    if include_own:
        available = or_(available, Video.lease_owner == owner)
    due = or_(Video.next_poll_at.is_(None), Video.next_poll_at <= now + timedelta(seconds=slack_s))
    conditions = (Video.status == status.value, Video.provider == provider, available, due)
    pending = status is VideoStatus.PENDING
    if pending:
        conditions += (Video.on_hold.is_(False),)
    return leases.claim(
        Video, owner=owner, lease_for=timedelta(seconds=current_app.config["LEASE_S"]), limit=limit,
        conditions=conditions, order_by=(Video.next_poll_at, Video.id),
        candidates=queue.fair_candidates(conditions, limit, provider) if pending else None,
        returning=columns, keep_updated_at=True,
    )


class Worker:
    """The ticks of one process. ``owner`` marks the leases it holds."""

    def __init__(self, app: Flask, owner: str | None = None) -> None:
        self.app = app
        self.owner = owner or new_worker_id()
        threads = int(app.config.get("SYNC_THREADS", 8))
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sync")
        # submits have their own, smaller pool: polls never queue behind a tick's batch of submits
        self._submit_pool = ThreadPoolExecutor(max_workers=max(1, threads // 2), thread_name_prefix="submit")
        app.extensions[REPORTER] = self.report
        # Dispatch on demand (``request_dispatch``): jobs.py sets ``start_dispatch`` to run the
        # dispatch job at once; a request while a dispatch runs makes it go round again.
        self.start_dispatch: Callable[[], None] | None = None
        self._dispatch_state = threading.Lock()
        self._dispatching = False
        self._dispatch_again = False
        self._unwanted_jobs: dict[str, set[str]] = {}  # by provider: jobs the last sync found no video for

    def _in_app(self, function, *args):
        """Runs ``function`` in a pool thread with its own app context and session."""
        with self.app.app_context():
            try:
                return function(*args)
            except Exception:
                log.exception("%s failed for %s", function.__name__, args)
            finally:
                db.session.remove()

    def _providers_with(self, status: VideoStatus) -> list[Provider]:
        names = db.session.scalars(select(Video.provider).where(Video.status == status.value).distinct()).all()
        db.session.commit()
        providers = []
        for name in names:
            try:
                providers.append(get_provider(name))
            except ProviderError as error:
                log.error("videos wait for provider %s: %s", name, error)
        return providers

    # ------------------------------------------------------------ dispatch --

    def request_dispatch(self) -> None:
        """Dispatch now, not at the next tick: videos were queued (``queue.wake_workers``) or a
        render here finished and freed its slot."""
        with self._dispatch_state:
            self._dispatch_again = True
            running = self._dispatching
        if not running and self.start_dispatch is not None:
            self.start_dispatch()

    def dispatch(self) -> int:
        """Hands pending videos to their provider, as many as each has room for, and goes round
        again while dispatch was requested meanwhile."""
        with self._dispatch_state:
            self._dispatching = True
        started = 0
        try:
            while True:
                with self._dispatch_state:
                    self._dispatch_again = False
                started += self._dispatch_round()
                with self._dispatch_state:
                    if not self._dispatch_again:
                        return started
        finally:
            with self._dispatch_state:
                self._dispatching = False

    def _dispatch_round(self) -> int:
        started = 0
        for provider in self._providers_with(VideoStatus.PENDING):
            budget = health.call_budget(provider.name)
            limit = provider.capacity() if budget is None else min(budget, provider.capacity())
            ids = [row.id for row in claim(VideoStatus.PENDING, provider.name, limit, self.owner)]
            tally = _CallTally(int(current_app.config["CIRCUIT_FAILURE_THRESHOLD"]))
            submits = self._submit_pool.map(self._in_app, repeat(self._submit), ids, repeat(provider), repeat(tally))
            started += sum(result or 0 for result in submits)
            tally.record(provider.name)
        return started

    def _submit(self, video_id: int, provider: Provider, tally: _CallTally) -> int:
        if tally.tripped:  # the provider stopped answering during this tick: wait for the breaker
            self._release(video_id, VideoStatus.PENDING, float(current_app.config["CIRCUIT_COOL_OFF_S"]))
            return 0
        video = load_for_request(video_id)
        if video is None or video.status != VideoStatus.PENDING.value or video.lease_owner != self.owner:
            db.session.rollback()
            return 0
        external_id, attempts = video.external_job_id, video.attempts
        # the last submit went out and its answer was lost: the job may exist already
        reconcile = external_id is None and video.submit_started_at is not None
        request = build_request(video)  # as the last submit was sent
        images = video.product.ready_images
        known = [
            StagedFile(image.provider_file_url, image.provider_file_expires_at)
            if image.provider_file_url and image.provider_file_expires_at
            else None
            for image in images
        ]
        image_ids = [image.id for image in images]
        db.session.commit()  # no transaction while the provider is called: on SQLite it holds the write lock
        sent = False
        try:
            if reconcile:
                external_id = provider.find_submitted(request)
            if external_id is None:
                staged = self._stage_inputs(provider, request, image_ids, known)
                attempts += 1
                request = replace(request, reference=f"reelboard-{video_id}-{attempts}")
                if staged is not None:
                    request = replace(request, image_urls=staged)
                if not self._mark_sent(video_id, attempts):
                    return 0  # canceled or taken over meanwhile
                sent = True
                external_id = provider.submit(request)
        except ProviderError as error:
            if error.retryable:
                tally.fail(str(error))
            else:  # the provider answered: it is up, it refused this video
                tally.answer()
            return self._submit_failed(video_id, provider, error, sent)
        except Exception as error:  # a bug must fail the video with a reason, not retry forever
            log.exception("submitting video %s to %s crashed", video_id, provider.name)
            db.session.rollback()
            transition(db.session.get(Video, video_id), VideoStatus.FAILED, f"Could not start the generation: {error}")
            return 0
        tally.answer()
        interval = provider.poll_interval[0]
        in_process = provider.capabilities.in_process
        moved = transition(
            video,
            VideoStatus.GENERATING,
            f"Started by {provider.label}" + (f" (job {external_id})" if not in_process else ""),
            external_job_id=external_id,
            progress=0,
            progress_message="Starting",
            poll_interval_s=interval,
            next_poll_at=utcnow() + timedelta(seconds=interval),
            # a job running here stays leased to this process, which renews the lease while it runs
            lease_owner=self.owner if in_process else None,
            lease_expires_at=utcnow() + timedelta(seconds=current_app.config["LEASE_S"]) if in_process else None,
        )
        if not moved:
            self._submitted_meanwhile(video_id, provider, external_id)
        return int(moved)

    def _mark_sent(self, video_id: int, attempts: int) -> bool:
        """Records the attempt before it is sent, so a submit whose answer is lost (or whose
        process dies) is reconciled before anything is sent again."""
        marked = db.session.execute(
            update(Video)
            .where(Video.id == video_id, Video.lease_owner == self.owner, Video.status == VideoStatus.PENDING.value)
            .values(submit_started_at=utcnow(), attempts=attempts, updated_at=Video.updated_at)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.commit()
        return marked == 1

    def _release(self, video_id: int, status: VideoStatus, delay: float) -> None:
        """Hands a claimed video back untouched, to be taken again after ``delay`` seconds."""
        leases.release(Video, video_id, self.owner, Video.status == status.value,
                       next_poll_at=utcnow() + timedelta(seconds=delay), updated_at=Video.updated_at)

    @staticmethod
    def _stage_inputs(
        provider: Provider, request: GenerationRequest, image_ids: list[int], known: list[StagedFile | None]
    ) -> tuple[str, ...] | None:
        """Copies the product images to the provider's storage where it needs that (Kie.ai),
        reusing the copies recorded on the images while they last; records and returns them."""
        if not provider.capabilities.staged_images:
            return None
        staged = provider.stage_images(request.image_files, known)
        changed = [
            {"b_id": image_id, "b_url": copy.url, "b_expires": copy.expires_at}
            for image_id, copy, before in zip(image_ids, staged, known, strict=True)
            if copy != before
        ]
        if changed:
            table = ProductImage.__table__
            db.session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"))
                .values(provider_file_url=bindparam("b_url"), provider_file_expires_at=bindparam("b_expires")),
                changed,
            )
            db.session.commit()
        return tuple(copy.url for copy in staged)

    def _submitted_meanwhile(self, video_id: int, provider: Provider, external_id: str) -> None:
        """The submit went through but the video changed meanwhile: canceled or deleted by a
        person (stop the job), or started by the provider's own callback (keep the job id)."""
        db.session.rollback()
        status = db.session.scalar(select(Video.status).where(Video.id == video_id))
        if status in (None, VideoStatus.CANCELED.value):
            cancel_at_provider(provider.name, external_id)
            return
        db.session.execute(
            update(Video)
            .where(Video.id == video_id, Video.external_job_id.is_(None), Video.status != VideoStatus.PENDING.value)
            .values(external_job_id=external_id, updated_at=Video.updated_at)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def _submit_failed(self, video_id: int, provider: Provider, error: ProviderError, sent: bool) -> int:
        db.session.rollback()
        video = db.session.get(Video, video_id)
        if video is None or video.status != VideoStatus.PENDING.value:
            return 0
        if not error.retryable:
            transition(video, VideoStatus.FAILED, f"{provider.name} refused the video: {error}")
            return 0
        never_sent = isinstance(error, Unreachable)
        # a request that never reached the provider is not an attempt; while it stays
        # unreachable the circuit breaker pauses dispatch and the video waits in the queue
        attempts = video.attempts - 1 if sent and never_sent else video.attempts
        if attempts >= current_app.config["MAX_ATTEMPTS"] and not never_sent:
            transition(video, VideoStatus.FAILED, f"{provider.name} could not take the video after {attempts} attempts: {error}")
            return 0
        delay = error.retry_after or min(MAX_SUBMIT_DELAY_S, provider.poll_interval[0] * 2 ** max(1, attempts))
        # an answer that was lost leaves submit_started_at set: the next try reconciles first
        answer_lost = isinstance(error, OutcomeUnknown) or (not sent and video.submit_started_at is not None)
        db.session.execute(
            update(Video)
            .where(Video.id == video_id, Video.lease_owner == self.owner, Video.status == VideoStatus.PENDING.value)
            .values(
                lease_owner=None,
                lease_expires_at=None,
                attempts=attempts,
                submit_started_at=video.submit_started_at if answer_lost else None,
                next_poll_at=utcnow() + timedelta(seconds=delay),
                progress_message=f"Waiting to retry: {error}"[:255],
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        record_event(video_id, "provider", f"Submit to {provider.name} failed, retrying in {delay:.0f} s: {error}")
        return 0

    # ---------------------------------------------------------------- sync --

    def sync(self) -> int:
        """Polls the provider of each generating video that is due, in the bounded pool."""
        deadline = time.monotonic() + SYNC_TICK_BUDGET_S
        polled = 0
        for provider in self._providers_with(VideoStatus.GENERATING):
            if provider.capabilities.in_process:
                self._stop_abandoned_jobs(provider)
            polled += self._sync_provider(provider, deadline)
        return polled

    def _sync_provider(self, provider: Provider, deadline: float) -> int:
        config = current_app.config
        batch = int(config["SYNC_BATCH"])
        columns = (Video.id, Video.external_job_id, Video.progress, Video.progress_message, Video.poll_interval_s)
        polled = 0
        slack = _slack(provider)
        while time.monotonic() < deadline:
            budget = health.call_budget(provider.name)
            if budget == 0:
                break
            limit = batch if budget is None else budget
            rows = claim(
                VideoStatus.GENERATING, provider.name, limit, self.owner,
                include_own=True, slack_s=slack if polled == 0 else 0.0, columns=columns,
            )
            if not rows:
                break
            polled_at = utcnow()  # the next polls are counted from now, not from when the batch is done
            tally = _CallTally(int(config["CIRCUIT_FAILURE_THRESHOLD"]))
            cool_off = float(config["CIRCUIT_COOL_OFF_S"])
            polls = list(self._pool.map(self._poll, rows, repeat(provider), repeat(tally), repeat(cool_off)))
            self._write_back(provider, [poll for poll in polls if poll is not None], polled_at)
            tally.record(provider.name)
            polled += len(rows)
            if len(rows) < limit or tally.tripped:
                break
        return polled

    def _poll(self, row: Any, provider: Provider, tally: _CallTally, cool_off: float) -> _Reschedule | None:
        """Asks the provider about one video (in a pool thread); a finished job is applied here,
        anything else comes back to be written with the batch."""
        unchanged = _Reschedule(row.id, row.poll_interval_s, progressed=False)
        try:
            if tally.tripped:
                return replace(unchanged, delay=cool_off)
            try:
                status = provider.status(row.external_job_id)
            except JobNotFound as error:
                tally.answer()
                self._in_app(self._job_lost, row.id, provider, str(error))
                return None
            except ProviderError as error:
                if error.retryable:
                    tally.fail(str(error))
                    return replace(unchanged, delay=error.retry_after)
                tally.answer()
                self._in_app(self._fail_polled, row.id, f"{provider.name} answered with an error: {error}")
                return None
            tally.answer()
            if status.state.finished:
                return unchanged if self._in_app(self._finish, row.id, status, provider) else None
            progress = row.progress if status.progress is None else max(row.progress, status.progress)
            message = (status.message or row.progress_message)[:255]
            if (progress, message) == (row.progress, row.progress_message):
                return unchanged
            return _Reschedule(row.id, row.poll_interval_s, True, progress, message)
        except Exception:
            log.exception("polling video %s at %s crashed", row.id, provider.name)
            return unchanged

    def _owned_generating(self, video_id: int) -> Video | None:
        video = db.session.get(Video, video_id)
        if video is None or video.status != VideoStatus.GENERATING.value or video.lease_owner != self.owner:
            return None
        return video

    def _finish(self, video_id: int, status: ProviderStatus, provider: Provider) -> bool:
        """Applies a finished job; True when the video still generates (its copy will be retried)."""
        video = self._owned_generating(video_id)
        return video is not None and not apply_status(video, status, provider)

    def _fail_polled(self, video_id: int, reason: str) -> None:
        video = self._owned_generating(video_id)
        if video is not None:
            transition(video, VideoStatus.FAILED, reason)

    def _job_lost(self, video_id: int, provider: Provider, error: str) -> None:
        video = self._owned_generating(video_id)
        if video is None:
            return
        if provider.capabilities.in_process:
            self._restart_job(video, provider)
        else:
            transition(video, VideoStatus.FAILED, f"{provider.label} no longer knows this job: {error}")

    def _write_back(self, provider: Provider, polls: list[_Reschedule], polled_at: datetime) -> None:
        """One UPDATE (executemany) for the polls without news, one for those with progress."""
        if not polls:
            return
        now = utcnow()
        in_process = provider.capabilities.in_process
        table = Video.__table__
        quiet, moved = [], []
        for poll in polls:
            interval, next_poll_at = _next_poll(provider, poll.interval, poll.progressed, polled_at)
            if poll.delay:  # not early: the claim's slack must not cut a Retry-After short
                next_poll_at = now + timedelta(seconds=poll.delay + _slack(provider))
            params = {"b_id": poll.video_id, "b_interval": interval, "b_next": next_poll_at}
            if poll.progress is None:
                quiet.append(params)
            else:
                moved.append({**params, "b_progress": poll.progress, "b_message": poll.message})
        mine = (table.c.id == bindparam("b_id"), table.c.status == VideoStatus.GENERATING.value,
                table.c.lease_owner == self.owner)
        schedule = {
            "poll_interval_s": bindparam("b_interval"),
            "next_poll_at": bindparam("b_next"),
            # a job running here stays leased to this process
            "lease_owner": self.owner if in_process else None,
            "lease_expires_at": now + timedelta(seconds=current_app.config["LEASE_S"]) if in_process else None,
        }
        if quiet:
            db.session.execute(update(table).where(*mine).values(**schedule, updated_at=table.c.updated_at), quiet)
        if moved:
            progress = bindparam("b_progress")
            db.session.execute(
                update(table)
                .where(*mine)
                .values(
                    **schedule,
                    progress=case((table.c.progress > progress, table.c.progress), else_=progress),
                    progress_message=bindparam("b_message"),
                    updated_at=now,
                ),
                moved,
            )
        db.session.commit()

    def _restart_job(self, video: Video, provider: Provider) -> None:
        """The process running this video's job stopped: run it again here, within the attempts."""
        if video.attempts >= current_app.config["MAX_ATTEMPTS"]:
            transition(video, VideoStatus.FAILED, f"The render was interrupted {video.attempts} times; giving up.")
            return
        video.attempts += 1
        video.submit_started_at = utcnow()
        request = build_request(video)
        db.session.commit()
        external_id = provider.submit(request)
        db.session.execute(
            update(Video)
            .where(Video.id == video.id, Video.status == VideoStatus.GENERATING.value)
            .values(external_job_id=external_id, progress=0, progress_message="Restarting render")
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        record_event(video.id, "provider", "The worker rendering this video stopped; the render restarted.")
        self._write_back(provider, [_Reschedule(video.id, video.poll_interval_s, progressed=True)], utcnow())

    def _stop_abandoned_jobs(self, provider: Provider) -> None:
        """Stops jobs running here whose video was canceled or deleted, maybe by another process.
        Only when two syncs in a row find no generating video for a job: a job just submitted
        has no video until its submit's transaction commits, and must not be stopped."""
        active = provider.active_jobs()
        still_wanted = set(
            db.session.scalars(
                select(Video.external_job_id).where(
                    Video.external_job_id.in_(active), Video.status == VideoStatus.GENERATING.value
                )
            )
        ) if active else set()
        db.session.commit()
        unwanted = set(active) - still_wanted
        for external_id in unwanted & self._unwanted_jobs.get(provider.name, set()):
            provider.cancel(external_id)
        self._unwanted_jobs[provider.name] = unwanted

    def report(self, external_id: str, status: ProviderStatus) -> None:
        """A report pushed by a job running in this process; applied like a poll. A finished job
        freed its slot: the next queued video is dispatched at once."""
        with self.app.app_context():
            try:
                apply_pushed(external_id, status)
            finally:
                db.session.remove()
        if status.state.finished:
            self.request_dispatch()

    # ---------------------------------------------------------------- reap --

    def reap(self) -> int:
        """Fails generations past the timeout (refunded, canceled at the provider) and clears
        expired leases and old bookkeeping rows."""
        config = current_app.config
        now = utcnow()
        timeout = config["GENERATION_TIMEOUT_S"]
        expired = db.session.scalars(
            select(Video).where(
                Video.status == VideoStatus.GENERATING.value,
                Video.started_at < now - timedelta(seconds=timeout),
            )
        ).all()
        for video in expired:
            external_id, provider_name = video.external_job_id, video.provider
            timed_out = transition(video, VideoStatus.FAILED, f"Timed out: not finished after {_duration(timeout)}.")
            if timed_out and external_id:
                cancel_at_provider(provider_name, external_id)
        leases.clear_expired(Video, updated_at=Video.updated_at)
        db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.received_at < now - WEBHOOK_DELIVERIES_KEPT))
        db.session.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - timedelta(days=1)))
        db.session.commit()
        return len(expired)

    def heartbeat(self) -> None:
        beat = db.session.get(WorkerHeartbeat, self.owner)
        if beat is None:
            db.session.add(WorkerHeartbeat(worker_id=self.owner))
        else:
            beat.beat_at = utcnow()
        db.session.commit()

    def release_leases(self) -> None:
        """On a clean shutdown: hand this process's videos back at once instead of at expiry."""
        leases.release_all(Video, self.owner, next_poll_at=utcnow(), updated_at=Video.updated_at)


def _duration(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
