"""Background work: dispatch queued videos, sync generating ones, reap what is stuck.

Each tick claims videos with a lease in their row (owner + expiry) — FOR UPDATE SKIP LOCKED
on PostgreSQL, a compare-and-set UPDATE on SQLite — so any number of processes can run the
ticks against one database and each video is worked by one of them at a time. A process that
dies loses nothing: its leases expire and another process takes the work over.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import selectinload

from .. import media
from ..extensions import db
from ..models import (
    Product,
    Video,
    VideoStatus,
    WebhookDelivery,
    WorkerHeartbeat,
    utcnow,
)
from ..providers.base import (
    Caption,
    GenerationRequest,
    JobNotFound,
    Provider,
    ProviderError,
    ProviderState,
    ProviderStatus,
)
from ..providers.registry import REPORTER, get_provider
from . import health
from .lifecycle import record_event, record_progress, transition
from .service import cancel_at_provider

log = logging.getLogger(__name__)

SYNC_BATCH = 100
BACKOFF_FACTOR = 1.5
HEARTBEAT_FRESH_S = 60
WEBHOOK_DELIVERIES_KEPT = timedelta(days=7)


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def claim(
    status: VideoStatus, provider: str, limit: int, owner: str, *, include_own: bool = False
) -> list[int]:
    """Leases up to ``limit`` due videos in ``status`` for ``owner``; returns their ids."""
    if limit <= 0:
        return []
    now = utcnow()
    free = or_(Video.lease_expires_at.is_(None), Video.lease_expires_at < now)
    if include_own:
        free = or_(free, Video.lease_owner == owner)
    due = or_(Video.next_poll_at.is_(None), Video.next_poll_at <= now)
    conditions = (Video.status == status.value, Video.provider == provider, free, due)
    candidates = select(Video.id).where(*conditions).order_by(Video.created_at, Video.id).limit(limit)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    claimed = db.session.execute(
        update(Video)
        .where(Video.id.in_(candidates.scalar_subquery()), *conditions)
        .values(lease_owner=owner, lease_expires_at=now + timedelta(seconds=current_app.config["LEASE_S"]))
        .returning(Video.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    db.session.commit()
    return list(claimed)


def build_request(video: Video) -> GenerationRequest:
    product: Product = video.product
    images = product.ready_images
    options = video.options or {}
    base_url = current_app.config["PUBLIC_BASE_URL"]
    return GenerationRequest(
        video_id=video.id,
        reference=f"reelboard-{video.id}-{video.attempts}",
        template=video.template_key,
        title=product.title,
        sku=product.sku,
        description=product.description,
        price=product.price_label,
        image_files=tuple(media.absolute(image.file_path) for image in images),
        image_urls=tuple(image.source_url or media.signed_url(image.file_path, base_url) for image in images),
        custom_instructions=video.custom_instructions,
        aspect_ratio=options.get("aspect_ratio", "16:9"),
        duration=options.get("duration", 8),
        captions=tuple(Caption(c["start"], c["end"], c["text"]) for c in options.get("captions", [])),
        music=options.get("music", False),
        callback_url=f"{base_url}/webhooks/{video.provider}",
        workspace_id=video.workspace_id,
        user_id=video.user_id,
        product_id=product.id,
    )


def _load(video_id: int) -> Video | None:
    return db.session.scalar(
        select(Video)
        .options(selectinload(Video.product).selectinload(Product.images))
        .where(Video.id == video_id)
    )


def _next_poll(provider: Provider, interval: float, progressed: bool) -> tuple[float, Any]:
    low, high = provider.poll_interval
    interval = low if progressed else min(high, max(low, interval * BACKOFF_FACTOR))
    return interval, utcnow() + timedelta(seconds=interval)


class Worker:
    """The ticks of one process. ``owner`` marks the leases it holds."""

    def __init__(self, app: Flask, owner: str | None = None) -> None:
        self.app = app
        self.owner = owner or new_worker_id()
        self._poll_pool = ThreadPoolExecutor(max_workers=app.config.get("SYNC_THREADS", 8), thread_name_prefix="sync")
        app.extensions[REPORTER] = self.report

    # ------------------------------------------------------------ dispatch --

    def dispatch(self) -> int:
        """Hands pending videos to their provider, as many as each has room for."""
        started = 0
        for name in db.session.scalars(
            select(Video.provider).where(Video.status == VideoStatus.PENDING.value).distinct()
        ).all():
            provider = get_provider(name)
            if not health.allows_calls(name):
                continue
            for video_id in claim(VideoStatus.PENDING, name, provider.capacity(), self.owner):
                started += self._submit(video_id, provider)
        return started

    def _submit(self, video_id: int, provider: Provider) -> int:
        video = _load(video_id)
        if video is None or video.status != VideoStatus.PENDING.value or video.lease_owner != self.owner:
            return 0
        config = current_app.config
        try:
            request = build_request(video)
            external_id = video.external_job_id
            if external_id is None and video.submit_started_at is not None:
                # an earlier submit may have reached the provider and lost its answer
                external_id = provider.find_submitted(request)
            if external_id is None:
                video.submit_started_at, video.attempts = utcnow(), video.attempts + 1
                db.session.commit()
                external_id = provider.submit(request)
        except ProviderError as error:
            if error.retryable:
                health.record_failure(provider.name, str(error))
            return self._submit_failed(video, provider, error)
        except Exception as error:  # a bug must fail the video with a reason, not retry forever
            log.exception("submitting video %s to %s crashed", video_id, provider.name)
            transition(video, VideoStatus.FAILED, f"Could not start the generation: {error}")
            return 0
        health.record_success(provider.name)
        interval = provider.poll_interval[0]
        local = provider.name == "local"
        return int(
            transition(
                video,
                VideoStatus.GENERATING,
                f"Started by {provider.name}" + (f" (job {external_id})" if not local else ""),
                external_job_id=external_id,
                progress=0,
                progress_message="Starting",
                poll_interval_s=interval,
                next_poll_at=utcnow() + timedelta(seconds=interval),
                # a local render stays leased to this process, which renews the lease while it runs
                lease_owner=self.owner if local else None,
                lease_expires_at=utcnow() + timedelta(seconds=config["LEASE_S"]) if local else None,
            )
        )

    def _submit_failed(self, video: Video, provider: Provider, error: ProviderError) -> int:
        video_id = video.id
        if error.retryable and video.attempts < current_app.config["MAX_ATTEMPTS"]:
            delay = error.retry_after or min(60.0, 2.0 * 2 ** video.attempts)
            db.session.execute(
                update(Video)
                .where(Video.id == video_id, Video.lease_owner == self.owner)
                .values(lease_owner=None, lease_expires_at=None, next_poll_at=utcnow() + timedelta(seconds=delay),
                        progress_message=f"Waiting to retry: {error}"[:255])
                .execution_options(synchronize_session=False)
            )
            db.session.commit()
            record_event(video_id, "provider", f"Submit to {provider.name} failed, retrying in {delay:.0f} s: {error}")
            return 0
        transition(video, VideoStatus.FAILED, f"{provider.name} refused the video: {error}")
        return 0

    # ---------------------------------------------------------------- sync --

    def sync(self) -> int:
        """Polls the provider of each generating video that is due, in a bounded thread pool."""
        polled = 0
        for name in db.session.scalars(
            select(Video.provider).where(Video.status == VideoStatus.GENERATING.value).distinct()
        ).all():
            provider = get_provider(name)
            if name == "local":
                self._stop_abandoned_renders(provider)
            if not health.allows_calls(name):
                continue
            ids = claim(VideoStatus.GENERATING, name, SYNC_BATCH, self.owner, include_own=True)
            db.session.remove()
            list(self._poll_pool.map(lambda video_id: self._in_app(self._poll, video_id, provider), ids))
            polled += len(ids)
        return polled

    def _in_app(self, function, *args):
        with self.app.app_context():
            try:
                return function(*args)
            except Exception:
                log.exception("%s failed for %s", function.__name__, args)
            finally:
                db.session.remove()

    def _poll(self, video_id: int, provider: Provider) -> None:
        video = _load(video_id)
        if video is None or video.status != VideoStatus.GENERATING.value or video.lease_owner != self.owner:
            return
        try:
            status = provider.status(video.external_job_id)
        except JobNotFound as error:
            if provider.name == "local":
                self._restart_render(video, provider)
            else:
                transition(video, VideoStatus.FAILED, f"{provider.name} no longer knows this job: {error}")
            return
        except ProviderError as error:
            if not error.retryable:
                transition(video, VideoStatus.FAILED, f"{provider.name} answered with an error: {error}")
                return
            health.record_failure(provider.name, str(error))
            self._reschedule(video, provider, progressed=False, delay=error.retry_after)
            return
        health.record_success(provider.name)
        progressed = apply_status(video, status, provider)
        if video.status == VideoStatus.GENERATING.value:
            self._reschedule(video, provider, progressed)

    def _reschedule(self, video: Video, provider: Provider, progressed: bool, delay: float | None = None) -> None:
        interval, next_poll_at = _next_poll(provider, video.poll_interval_s, progressed)
        if delay:
            next_poll_at = utcnow() + timedelta(seconds=delay)
        local = provider.name == "local"
        db.session.execute(
            update(Video)
            .where(Video.id == video.id, Video.lease_owner == self.owner)
            .values(
                poll_interval_s=interval,
                next_poll_at=next_poll_at,
                lease_owner=self.owner if local else None,
                lease_expires_at=utcnow() + timedelta(seconds=current_app.config["LEASE_S"]) if local else None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()

    def _restart_render(self, video: Video, provider: Provider) -> None:
        """The process rendering this video stopped: render it again here, within the attempts."""
        if video.attempts >= current_app.config["MAX_ATTEMPTS"]:
            transition(video, VideoStatus.FAILED, f"The render was interrupted {video.attempts} times; giving up.")
            return
        request = build_request(video)
        video.attempts += 1
        video.submit_started_at = utcnow()
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
        self._reschedule(video, provider, progressed=True)

    def _stop_abandoned_renders(self, provider: Provider) -> None:
        """Kills local renders whose video was canceled or deleted, maybe by another process."""
        active = provider.active_jobs()
        if not active:
            return
        still_wanted = set(
            db.session.scalars(
                select(Video.external_job_id).where(
                    Video.external_job_id.in_(active), Video.status == VideoStatus.GENERATING.value
                )
            )
        )
        for external_id in set(active) - still_wanted:
            provider.cancel(external_id)

    def report(self, external_id: str, status: ProviderStatus) -> None:
        """A provider's pushed report (the local renderer's progress); applied like a poll."""
        with self.app.app_context():
            try:
                video = db.session.scalar(select(Video).where(Video.external_job_id == external_id))
                if video is not None:
                    apply_status(video, status, get_provider(video.provider))
            finally:
                db.session.remove()

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
            if transition(video, VideoStatus.FAILED, f"Timed out: not finished after {_duration(timeout)}."):
                if external_id:
                    cancel_at_provider(provider_name, external_id)
        db.session.execute(
            update(Video)
            .where(Video.lease_expires_at < now)
            .values(lease_owner=None, lease_expires_at=None)
            .execution_options(synchronize_session=False)
        )
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
        db.session.execute(
            update(Video)
            .where(Video.lease_owner == self.owner)
            .values(lease_owner=None, lease_expires_at=None, next_poll_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def apply_status(video: Video, status: ProviderStatus, provider: Provider) -> bool:
    """Applies a provider's report to a generating video; returns True when it progressed.

    Reports about a video that is no longer generating are ignored: completed stays completed.
    """
    if video.status != VideoStatus.GENERATING.value:
        return False
    match status.state:
        case ProviderState.QUEUED | ProviderState.RUNNING:
            progress = video.progress if status.progress is None else status.progress
            message = status.message or video.progress_message
            if (progress, message) == (video.progress, video.progress_message):
                return False
            return record_progress(video.id, progress, message)
        case ProviderState.SUCCEEDED:
            return _complete(video, status, provider)
        case ProviderState.FAILED:
            reason = status.error or f"{provider.name} reported a failure without a reason."
            return transition(video, VideoStatus.FAILED, reason)
        case ProviderState.CANCELED:
            return transition(video, VideoStatus.CANCELED, f"Canceled at {provider.name}.")
    return False


def _complete(video: Video, status: ProviderStatus, provider: Provider) -> bool:
    result = status.result
    if result is None or not (result.video_file or result.video_url):
        return transition(video, VideoStatus.FAILED, f"{provider.name} finished without a video.")
    if result.video_file is None:
        from ..providers.mirror import MirrorError, mirror_result

        try:
            result = mirror_result(result, current_app.config, video.workspace_id, video.id)
        except MirrorError as error:
            return transition(video, VideoStatus.FAILED, f"Could not copy the finished video: {error}")
    started = video.started_at or video.created_at
    return transition(
        video,
        VideoStatus.COMPLETED,
        status.message or "Completed",
        progress=100,
        progress_message="Done",
        video_path=result.video_file,
        thumbnail_path=result.thumbnail_file,
        remote_video_url=status.result.video_url,
        remote_thumbnail_url=status.result.thumbnail_url,
        duration_s=result.duration,
        width=result.width,
        height=result.height,
        size_bytes=result.size_bytes,
        generation_time_ms=int((utcnow() - started).total_seconds() * 1000),
    )


def _duration(seconds: int) -> str:
    return f"{seconds // 60} minutes" if seconds >= 120 else f"{seconds} seconds"
