"""Applying a provider's report to a video: the one place that does it, whoever brings the report
— a poll (the sync job), a callback (webhooks), or a push from a job running in this process
(the local renderer's progress).

Reports about a video that is no longer generating are ignored — completed stays completed —
and progress never goes back, so late, repeated or reordered reports cannot undo news. A
finished remote job is mirrored (downloaded into our storage) before the video completes.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from ..models import Video, VideoStatus, utcnow
from ..providers.base import Provider, ProviderState, ProviderStatus, WebhookReport
from ..providers.mirror import MirrorError, discard, mirror_result
from ..providers.registry import get_provider
from .lifecycle import record_event, record_progress, transition
from .requests import build_request

log = logging.getLogger(__name__)


def apply_status(video: Video, status: ProviderStatus, provider: Provider) -> bool:
    """Applies a provider's report to a generating video; returns True when it progressed."""
    if video.status != VideoStatus.GENERATING.value:
        return False
    match status.state:
        case ProviderState.QUEUED | ProviderState.RUNNING:
            progress = video.progress if status.progress is None else max(video.progress, status.progress)
            message = status.message or video.progress_message
            if (progress, message) == (video.progress, video.progress_message):
                return False
            return record_progress(video.id, progress, message)
        case ProviderState.SUCCEEDED:
            return _complete(video, status, provider)
        case ProviderState.FAILED:
            reason = status.error or f"{provider.label} reported a failure without a reason."
            return transition(video, VideoStatus.FAILED, reason)
        case ProviderState.CANCELED:
            return transition(video, VideoStatus.CANCELED, f"Canceled at {provider.label}.")
    return False


def _complete(video: Video, status: ProviderStatus, provider: Provider) -> bool:
    result = status.result
    if result is None or not (result.video_file or result.video_url):
        return transition(video, VideoStatus.FAILED, f"{provider.label} finished without a video.")
    config = current_app.config
    mirrored = result.video_file is None
    if mirrored:
        workspace_id, video_id = video.workspace_id, video.id
        db.session.commit()  # no transaction while downloading: on SQLite it holds the write lock
        try:
            result = mirror_result(result, config, workspace_id, video_id)
        except MirrorError as error:
            if error.retryable:  # the provider's link lasts a while: the next report tries again
                record_progress(video.id, video.progress, f"Copying the finished video failed; retrying: {error}")
                return False
            return transition(video, VideoStatus.FAILED, f"Could not copy the finished video: {error}")
    started = video.started_at or video.created_at
    moved = transition(
        video,
        VideoStatus.COMPLETED,
        status.message or "Completed",
        progress=100,
        progress_message="Done",
        video_path=result.video_file,
        thumbnail_path=result.thumbnail_file,
        captions_path=result.captions_file,
        remote_video_url=status.result.video_url,
        remote_thumbnail_url=status.result.thumbnail_url,
        duration_s=result.duration,
        width=result.width,
        height=result.height,
        size_bytes=result.size_bytes,
        generation_time_ms=int((utcnow() - started).total_seconds() * 1000),
    )
    if mirrored and not moved:  # another report completed it first: its copy is the one kept
        discard(result, config)
    return moved


def apply_pushed(external_id: str, status: ProviderStatus) -> None:
    """A report a job running in this process pushes between polls (the local renderer's
    progress and completion)."""
    video = db.session.scalar(select(Video).where(Video.external_job_id == external_id))
    if video is not None:
        apply_status(video, status, get_provider(video.provider))


def apply_callback(video: Video, report: WebhookReport, provider: Provider, delivery_id: str) -> bool:
    """A verified callback about ``video``; returns True when it changed the video.

    A callback for a video still pending proves its submit reached the provider (the answer is
    in flight, or was lost): the video is generating. A callback without a status (the provider
    signs nothing else) makes us ask the provider for the job's state now."""
    if video.status == VideoStatus.PENDING.value:
        low = provider.poll_interval[0]
        transition(
            video,
            VideoStatus.GENERATING,
            f"Started by {provider.label} (reported by its callback)",
            external_job_id=report.external_id or video.external_job_id or provider.find_submitted(build_request(video)),
            progress=0,
            progress_message="Starting",
            poll_interval_s=low,
            next_poll_at=utcnow() + timedelta(seconds=low),
            lease_owner=None,
            lease_expires_at=None,
        )
        video = db.session.get(Video, video.id)
    status = report.status
    if status is None:
        status = provider.status(report.external_id or video.external_job_id)
        record_event(video.id, "webhook", f"Callback from {provider.label} ({delivery_id[:60]}): asked for its state: "
                                          f"{status.state.value}")
    else:
        record_event(video.id, "webhook", f"Callback from {provider.label} ({delivery_id[:60]}): {status.state.value}")
    return apply_status(video, status, provider)
