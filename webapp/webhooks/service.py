"""Receiving a provider's callback: verify, parse, find the video, drop duplicates, apply.

Each provider verifies its own signature (Standard Webhooks for RCK, Kie.ai's HMAC of the task
id for Kie.ai). A report is applied by ``generation.reports``, the same code as a poll, so a
callback can never do what a poll could not (move a finished video, skip the mirror, refund
twice). Every refusal happens before anything is written. A delivery is claimed by its webhook-id
(a unique row) before it is applied, so concurrent copies of one delivery apply once; if it
cannot be applied now, the claim is released and the provider is asked to send it again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..generation.reports import apply_callback
from ..models import Video, VideoStatus, WebhookDelivery, utcnow
from ..providers.base import (
    BadSignature,
    Provider,
    ProviderError,
    ProviderNotConfigured,
    WebhookReport,
)
from ..providers.registry import get_provider

log = logging.getLogger(__name__)


class WebhookRefused(Exception):
    """Nothing was changed; ``http_status`` and ``code`` say why, ``message`` for a person."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


@dataclass(frozen=True)
class Receipt:
    outcome: str  # applied | duplicate | ignored (a late or repeated report: nothing to change)
    video_id: int
    video_status: str

    def as_json(self) -> dict:
        return {"success": True, "outcome": self.outcome, "videoId": self.video_id, "status": self.video_status}


def receive(provider_name: str, headers: Mapping[str, str], body: bytes, outcome: str | None = None) -> Receipt:
    """Handles one delivery to /webhooks/<provider> (``outcome`` None) or to the legacy RCK
    /internal/videos/success|failure (``outcome`` "success" or "failure")."""
    provider = _provider(provider_name)
    delivery_id = _verified(provider, headers, body)
    try:
        report = provider.parse_webhook(headers, body, outcome)
    except ProviderError as error:
        raise WebhookRefused(400, "invalid_payload", str(error)) from error
    video = _video(provider_name, report)
    if video.status == VideoStatus.PENDING.value and video.submit_started_at is None:
        db.session.rollback()
        raise WebhookRefused(409, "not_started", f"Video {video.id} has not been sent to {provider_name} yet.")
    if not _claim(delivery_id, provider_name):
        return Receipt("duplicate", video.id, video.status)
    try:
        changed = apply_callback(db.session.get(Video, video.id), report, provider, delivery_id)
    except Exception as error:
        log.exception("webhook %s from %s for video %s failed", delivery_id, provider_name, video.id)
        _release(delivery_id)
        raise WebhookRefused(503, "retry_later", "The callback could not be applied now; send it again later.") from error
    current = db.session.scalar(select(Video.status).where(Video.id == video.id))
    db.session.commit()
    finished = report.status is not None and report.status.state.finished
    if finished and current == VideoStatus.GENERATING.value:
        # the finished video could not be copied yet (the mirror will be retried)
        _release(delivery_id)
        raise WebhookRefused(503, "retry_later", "The finished video could not be copied yet; send the callback again later.")
    return Receipt("applied" if changed else "ignored", video.id, current)


def _provider(name: str) -> Provider:
    try:
        provider = get_provider(name)
    except ProviderError as error:
        raise WebhookRefused(404, "not_found", f"There is no video provider {name!r}.") from error
    if not provider.capabilities.callbacks:
        raise WebhookRefused(404, "not_found", f"{provider.label} does not send callbacks; its videos are polled.")
    return provider


def _verified(provider: Provider, headers: Mapping[str, str], body: bytes) -> str:
    """The delivery's id, once the provider's own signature scheme accepts it."""
    try:
        return provider.verify_webhook(headers, body, time.time())
    except ProviderNotConfigured as error:
        raise WebhookRefused(503, "not_configured", str(error)) from error
    except BadSignature as error:
        raise WebhookRefused(401, "invalid_signature", str(error)) from error
    except ProviderError as error:  # the body does not even say which job it is about
        raise WebhookRefused(400, "invalid_payload", str(error)) from error


def _video(provider_name: str, report: WebhookReport) -> Video:
    query = select(Video).where(Video.provider == provider_name)
    if report.video_id is not None:
        query = query.where(Video.id == report.video_id)
    elif report.external_id:
        query = query.where(Video.external_job_id == report.external_id)
    else:
        raise WebhookRefused(400, "invalid_payload", "The callback names no video or job.")
    video = db.session.scalar(query)
    db.session.commit()  # on SQLite a read transaction holds the write lock
    if video is None:
        raise WebhookRefused(404, "not_found", "Video not found")
    return video


def _claim(delivery_id: str, provider_name: str) -> bool:
    db.session.add(WebhookDelivery(delivery_id=delivery_id[:255], provider=provider_name, received_at=utcnow()))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return False
    return True


def _release(delivery_id: str) -> None:
    db.session.rollback()
    db.session.execute(delete(WebhookDelivery).where(WebhookDelivery.delivery_id == delivery_id[:255]))
    db.session.commit()
