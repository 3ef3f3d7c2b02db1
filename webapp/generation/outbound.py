"""Outbound webhooks: a workspace's endpoints (and a video's own webhookUrl) are told when a
video ends or a bulk finishes, signed per Standard Webhooks like the callbacks we verify.

- An outbox: ``record_transition`` writes one delivery per destination in the transaction that
  changes the video's status (``lifecycle.transition``), so an event is never lost nor sent for a
  change that rolled back. Body: ``{"type", "timestamp", "data"}``, ``data`` the video as the API
  shows it (or the bulk's tally); the same bytes are signed on every attempt.
- The background worker sends due deliveries (``deliver_due``; any number of processes, each
  delivery leased to one) on a connection pinned to a checked public address, no redirects
  followed, within WEBHOOK_TIMEOUT_S. A 2xx answer is a success; anything else is retried after
  5 s, 1 min, 5 min, 30 min, 2 h, 5 h and 10 h (±20 % jitter): eight attempts over about 18 hours.
  Every attempt is logged (status, latency, the start of the answer).
- An endpoint with no success for three days of failures is disabled; Settings tells the owner
  and can enable it again. "Resend" starts a delivery over, with the same ``webhook-id``.
- Secrets: ``whsec_`` + base64 of HMAC-SHA256(SECRET_KEY, a 192-bit random seed). The database
  keeps only the seed, so a copy of it cannot sign; SECRET_KEY alone neither. (A signing secret
  must be usable to sign, so it cannot be hashed like an API token.) Changing SECRET_KEY changes
  every secret: receivers must then be given the new ones.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, has_request_context
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import selectinload

from .. import fetch, leases, standard_webhooks
from ..extensions import db, writing
from ..models import (
    IN_FLIGHT,
    Bulk,
    OutboundAttempt,
    OutboundDelivery,
    Video,
    VideoStatus,
    WebhookEndpoint,
    Workspace,
    utcnow,
)
from ..numbers import parse_id
from .errors import GenerationError, InvalidState, NotFound

log = logging.getLogger(__name__)

VIDEO_EVENTS = {
    VideoStatus.COMPLETED: "video.completed",
    VideoStatus.FAILED: "video.failed",
    VideoStatus.CANCELED: "video.canceled",
}
BULK_FINISHED = "bulk.finished"
EVENTS = (*VIDEO_EVENTS.values(), BULK_FINISHED)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
RETRY_DELAYS_S = (5, 60, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_DELAYS_S) + 1
JITTER = 0.2
DISABLE_AFTER = timedelta(days=3)
CONNECT_TIMEOUT_S = 5.0
EXCERPT_CHARS = 500
MAX_URL_LENGTH = 2048
MAX_ENDPOINTS = 20
BATCH = 32  # deliveries claimed per tick and process
THREADS = 8  # sent at once: a destination that hangs holds one thread, not the others
LEASE = timedelta(minutes=2)  # longer than any attempt (both timeouts together)
KEPT = timedelta(days=30)
PRUNE_EVERY_S = 3600
SECRET_LABEL = b"reelboard.outbound-webhooks."
# Where the app keeps the function that renders a video as the API does (the api package
# registers it; this layer cannot import it).
VIDEO_RESOURCE = "reelboard.video_resource"


def iso(moment: datetime | None) -> str | None:
    """Stored times are naive UTC."""
    return moment.isoformat(timespec="milliseconds") + "Z" if moment else None


# -------------------------------------------------------------- secrets ----


def _new_seed() -> str:
    return secrets.token_urlsafe(24)


def _signing_key(seed: str) -> bytes:
    return hmac.new(current_app.config["SECRET_KEY"].encode(), SECRET_LABEL + seed.encode(), hashlib.sha256).digest()


def _secret(seed: str) -> str:
    return standard_webhooks.PREFIX + base64.b64encode(_signing_key(seed)).decode()


def video_webhook_secret(workspace: Workspace) -> str:
    """The secret that signs deliveries to videos' own webhookUrl (made on first use)."""
    if workspace.webhook_secret_seed is None:
        with writing():
            db.session.execute(
                update(Workspace).where(Workspace.id == workspace.id, Workspace.webhook_secret_seed.is_(None))
                .values(webhook_secret_seed=_new_seed()).execution_options(synchronize_session=False)
            )
            db.session.commit()
        db.session.refresh(workspace)
    return _secret(workspace.webhook_secret_seed)


def rotate_video_webhook_secret(workspace: Workspace) -> str:
    workspace.webhook_secret_seed = _new_seed()
    db.session.commit()
    return _secret(workspace.webhook_secret_seed)


# ------------------------------------------------------------ endpoints ----


def _allow_private() -> bool:
    return bool(current_app.config.get("ALLOW_PRIVATE_WEBHOOK_HOSTS"))


def check_url(url: Any, field: str = "url") -> str:
    """An absolute http(s) URL whose host resolves to public addresses only; GenerationError
    naming ``field`` otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise GenerationError("Enter the URL to send webhooks to, e.g. https://example.com/hooks/reelboard.", field)
    url = url.strip()
    if len(url) > MAX_URL_LENGTH or any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise GenerationError(f"The URL must be one line without spaces, at most {MAX_URL_LENGTH} characters.", field)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise GenerationError("The URL is not valid.", field) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GenerationError("The URL must start with https:// (or http://) and name a host.", field)
    try:
        fetch.check_destination(url, allow_private=_allow_private())
    except fetch.FetchError as error:
        raise GenerationError(f"Webhooks cannot be sent there: {error}", field) from None
    return url


def check_events(events: Any) -> list[str]:
    if not isinstance(events, list | tuple) or not events or not all(isinstance(e, str) for e in events):
        raise GenerationError(f"Choose at least one event: {', '.join(EVENTS)}.", "events")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        raise GenerationError(f"Unknown event {unknown[0][:60]!r}. Events: {', '.join(EVENTS)}.", "events")
    return [e for e in EVENTS if e in events]


def create_endpoint(workspace: Workspace, url: Any, events: Any) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (also shown later on request)."""
    checked_events = check_events(events)
    checked_url = check_url(url)
    count = db.session.scalar(select(func.count(WebhookEndpoint.id)).where(WebhookEndpoint.workspace_id == workspace.id))
    if count >= MAX_ENDPOINTS:
        raise GenerationError(f"A workspace has at most {MAX_ENDPOINTS} webhook endpoints. Delete one first.", "url")
    endpoint = WebhookEndpoint(workspace_id=workspace.id, url=checked_url, events=checked_events,
                               secret_seed=_new_seed(), created_at=utcnow())
    db.session.add(endpoint)
    db.session.commit()
    return endpoint, _secret(endpoint.secret_seed)


def endpoints_of(workspace: Workspace) -> list[WebhookEndpoint]:
    return list(db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace.id).order_by(WebhookEndpoint.id)
    ))


def get_endpoint(workspace: Workspace, endpoint_id: Any) -> WebhookEndpoint:
    found_id = parse_id(endpoint_id)
    endpoint = None
    if found_id is not None:
        endpoint = db.session.scalar(select(WebhookEndpoint).filter_by(id=found_id, workspace_id=workspace.id))
    if endpoint is None:
        raise NotFound("Webhook endpoint not found.", "id")
    return endpoint


def endpoint_secret(workspace: Workspace, endpoint_id: Any) -> str:
    return _secret(get_endpoint(workspace, endpoint_id).secret_seed)


def delete_endpoint(workspace: Workspace, endpoint_id: Any) -> None:
    """The endpoint and its delivery log go; nothing more is sent to it."""
    db.session.delete(get_endpoint(workspace, endpoint_id))  # its deliveries go by ON DELETE CASCADE
    db.session.commit()


def enable_endpoint(workspace: Workspace, endpoint_id: Any) -> WebhookEndpoint:
    """A disabled endpoint takes events again (its missed deliveries can be resent)."""
    endpoint = get_endpoint(workspace, endpoint_id)
    endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    db.session.commit()
    return endpoint


def disabled_endpoints(workspace: Workspace) -> list[WebhookEndpoint]:
    return [endpoint for endpoint in endpoints_of(workspace) if endpoint.disabled_at is not None]


# --------------------------------------------------------------- outbox ----


@contextmanager
def _api_urls() -> Iterator[None]:
    """The API's resources hold absolute URLs. In a request they name the host it came to, as
    the API's own answers do; in the worker, PUBLIC_BASE_URL."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.config["PUBLIC_BASE_URL"]):
        yield


def _body(event_type: str, data: dict[str, Any]) -> str:
    payload = {"type": event_type, "timestamp": iso(utcnow()), "data": data}
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _video_data(video: Video) -> dict[str, Any]:
    render: Callable[[Video], dict[str, Any]] | None = current_app.extensions.get(VIDEO_RESOURCE)
    if render is None:
        raise RuntimeError("No video resource is registered: the api package registers it in create_app.")
    with _api_urls():
        return render(video)


@dataclass(frozen=True)
class _Destination:
    endpoint_id: int | None
    url: str


def _enqueue(workspace_id: int, event_type: str, body: str, destinations: list[_Destination],
             video_id: int | None = None) -> None:
    now = utcnow()
    db.session.add_all(
        OutboundDelivery(
            workspace_id=workspace_id, endpoint_id=destination.endpoint_id, url=destination.url,
            message_id=f"msg_{secrets.token_urlsafe(18)}", event_type=event_type, video_id=video_id, body=body,
            status=PENDING, attempts=0, next_attempt_at=now, created_at=now,
        )
        for destination in destinations
    )


def _subscribed(workspace_id: int) -> list[WebhookEndpoint]:
    return list(db.session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.workspace_id == workspace_id, WebhookEndpoint.disabled_at.is_(None))
    ))


def record_transition(video_id: int, target: VideoStatus) -> None:
    """Called by ``lifecycle.transition`` after it moved the video, before it commits: writes the
    event's deliveries, and finishes the video's bulk when this was its last video in flight."""
    event_type = VIDEO_EVENTS.get(target)
    if event_type is None:
        return
    row = db.session.execute(
        select(Video.workspace_id, Video.bulk_id, Video.webhook_url).where(Video.id == video_id)
    ).one_or_none()
    if row is None:
        return
    endpoints = _subscribed(row.workspace_id)
    destinations = [_Destination(e.id, e.url) for e in endpoints if event_type in e.events]
    if row.webhook_url:
        destinations.append(_Destination(None, row.webhook_url))
        db.session.execute(  # the workspace's secret for these, made now if it has none yet
            update(Workspace).where(Workspace.id == row.workspace_id, Workspace.webhook_secret_seed.is_(None))
            .values(webhook_secret_seed=_new_seed()).execution_options(synchronize_session=False)
        )
    if destinations:
        video = db.session.get(Video, video_id, populate_existing=True)  # as it is now, in this transaction
        _enqueue(row.workspace_id, event_type, _body(event_type, _video_data(video)), destinations, video_id)
    if row.bulk_id is not None:
        _finish_bulk(row.bulk_id, row.workspace_id, [e for e in endpoints if BULK_FINISHED in e.events])


def _finish_bulk(bulk_id: int, workspace_id: int, endpoints: list[WebhookEndpoint]) -> None:
    """Marks the bulk finished when none of its videos is pending or generating any more.

    The bulk's row is locked first (PostgreSQL; SQLite writers are serial anyway), so two of its
    videos ending at once cannot both see the other still running and leave it unfinished."""
    locked = db.session.scalar(
        select(Bulk.id).where(Bulk.id == bulk_id, Bulk.finished_at.is_(None)).with_for_update()
    )
    if locked is None:
        return
    running = db.session.scalar(
        select(Video.id).where(Video.bulk_id == bulk_id, Video.status.in_(IN_FLIGHT)).limit(1)
    )
    if running is not None:
        return
    bulk = db.session.get(Bulk, bulk_id)
    bulk.finished_at = utcnow()
    if endpoints:
        tally = dict(db.session.execute(
            select(Video.status, func.count(Video.id)).where(Video.bulk_id == bulk_id).group_by(Video.status)
        ).all())
        data = {
            "id": bulk.id, "template": bulk.template_key, "queued": bulk.queued,
            **{status: tally.get(status, 0) for status in ("completed", "failed", "canceled")},
            "createdAt": iso(bulk.created_at), "finishedAt": iso(bulk.finished_at),
        }
        _enqueue(workspace_id, BULK_FINISHED, _body(BULK_FINISHED, data),
                 [_Destination(e.id, e.url) for e in endpoints])


# ----------------------------------------------------------- deliveries ----


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones (1-based), with jitter."""
    return RETRY_DELAYS_S[attempts - 1] * random.uniform(1 - JITTER, 1 + JITTER)


_last_prune = 0.0  # per process: pruning needs no agreement between processes


def deliver_due(owner: str) -> int:
    """Sends the deliveries that are due (the worker's tick); returns how many were attempted."""
    now = utcnow()
    claimed = leases.claim(
        OutboundDelivery, owner=owner, lease_for=LEASE, limit=BATCH,
        conditions=[OutboundDelivery.status == PENDING, OutboundDelivery.next_attempt_at <= now,
                    leases.free(OutboundDelivery, now)],
        order_by=[OutboundDelivery.next_attempt_at, OutboundDelivery.id],
    )
    ids = [row.id for row in claimed]
    if not ids:
        _prune_now_and_then()
        return 0
    app = current_app._get_current_object()
    with ThreadPoolExecutor(max_workers=min(THREADS, len(ids)), thread_name_prefix="webhooks") as pool:
        list(pool.map(lambda delivery_id: _attempt_in_app(app, delivery_id, owner), ids))
    return len(ids)


def _attempt_in_app(app: Flask, delivery_id: int, owner: str) -> None:
    with app.app_context():
        try:
            attempt(delivery_id, owner)
        except Exception:
            log.exception("webhook delivery %s failed", delivery_id)
            db.session.rollback()
        finally:
            db.session.remove()


@dataclass(frozen=True)
class _Send:
    url: str
    body: bytes
    message_id: str
    key: bytes
    endpoint_id: int | None


def _prepare(delivery_id: int, owner: str) -> _Send | None:
    delivery = db.session.get(OutboundDelivery, delivery_id)
    if delivery is None or delivery.lease_owner != owner:
        return None
    endpoint = delivery.endpoint
    if endpoint is not None and endpoint.disabled_at is not None:
        leases.release(OutboundDelivery, delivery_id, owner, status=FAILED, next_attempt_at=None,
                       last_error="Not sent: the endpoint is disabled. Enable it in Settings, then resend.")
        return None
    if endpoint is not None:
        seed = endpoint.secret_seed
    else:
        seed = db.session.scalar(select(Workspace.webhook_secret_seed).where(Workspace.id == delivery.workspace_id))
    return _Send(delivery.url, delivery.body.encode(), delivery.message_id, _signing_key(seed), delivery.endpoint_id)


def attempt(delivery_id: int, owner: str) -> None:
    """One attempt of a delivery leased to ``owner``: signed now, sent, logged, rescheduled."""
    send = _prepare(delivery_id, owner)
    # End the read before the network call: on SQLite a worker's transaction holds the write lock.
    db.session.commit()
    if send is None:
        return
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "webhook-id": send.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": standard_webhooks.sign(send.key, send.message_id, timestamp, send.body),
    }
    started = time.perf_counter()
    status_code, excerpt, error = None, "", None
    try:
        posted = fetch.post(
            send.url, send.body, headers, allow_private=_allow_private(),
            timeout=(CONNECT_TIMEOUT_S, float(current_app.config.get("WEBHOOK_TIMEOUT_S", 15))),
            excerpt_bytes=EXCERPT_CHARS * 4,
        )
        status_code, excerpt = posted.status, posted.excerpt[:EXCERPT_CHARS]
    except fetch.FetchError as failure:
        error = str(failure)[:EXCERPT_CHARS]
    latency_ms = round((time.perf_counter() - started) * 1000)
    succeeded = status_code is not None and 200 <= status_code < 300
    if not succeeded and error is None:
        error = f"The endpoint answered {status_code}."
    _record(delivery_id, owner, send.endpoint_id, succeeded, status_code, latency_ms, excerpt, error)


def _record(delivery_id: int, owner: str, endpoint_id: int | None, succeeded: bool, status_code: int | None,
            latency_ms: int, excerpt: str, error: str | None) -> None:
    now = utcnow()
    db.session.add(OutboundAttempt(delivery_id=delivery_id, attempted_at=now, status_code=status_code,
                                   latency_ms=latency_ms, response_excerpt=excerpt, error=error))
    attempts = (db.session.scalar(select(OutboundDelivery.attempts).where(OutboundDelivery.id == delivery_id)) or 0) + 1
    if succeeded:
        values: dict[str, Any] = {"status": DELIVERED, "delivered_at": now, "next_attempt_at": None, "last_error": None}
    elif attempts >= MAX_ATTEMPTS:
        values = {"status": FAILED, "next_attempt_at": None, "last_error": error}
    else:
        values = {"next_attempt_at": now + timedelta(seconds=retry_delay(attempts)), "last_error": error}
    if endpoint_id is not None:
        _endpoint_health(endpoint_id, succeeded, error, now)
    if not leases.release(OutboundDelivery, delivery_id, owner, attempts=attempts, **values):
        log.info("webhook delivery %s: lease lost during the attempt; the log keeps it", delivery_id)


def _endpoint_health(endpoint_id: int, succeeded: bool, error: str | None, now: datetime) -> None:
    if succeeded:
        db.session.execute(
            update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
            .values(failing_since=None, last_success_at=now).execution_options(synchronize_session=False)
        )
        return
    db.session.execute(
        update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=now).execution_options(synchronize_session=False)
    )
    disabled = db.session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.disabled_at.is_(None),
               WebhookEndpoint.failing_since <= now - DISABLE_AFTER)
        .values(disabled_at=now, disabled_reason=f"No delivery succeeded for {DISABLE_AFTER.days} days. Last error: {error}")
        .execution_options(synchronize_session=False)
    ).rowcount
    if disabled:
        log.warning("webhook endpoint %s disabled after %s days of failures: %s", endpoint_id, DISABLE_AFTER.days, error)


def resend(workspace: Workspace, delivery_id: Any) -> OutboundDelivery:
    """Starts a delivery over now (same webhook-id, so a receiver can tell it is the same event),
    with the whole retry schedule ahead of it."""
    delivery = get_delivery(workspace, delivery_id)
    if delivery.status == PENDING:
        raise InvalidState("This delivery is still being tried; it will be sent again by itself.")
    if delivery.endpoint is not None and delivery.endpoint.disabled_at is not None:
        raise InvalidState("The endpoint is disabled: enable it first, then resend.")
    delivery.status, delivery.attempts, delivery.next_attempt_at = PENDING, 0, utcnow()
    delivery.delivered_at = delivery.last_error = None
    db.session.commit()
    return delivery


def get_delivery(workspace: Workspace, delivery_id: Any) -> OutboundDelivery:
    found_id = parse_id(delivery_id)
    delivery = None
    if found_id is not None:
        delivery = db.session.scalar(
            select(OutboundDelivery).options(selectinload(OutboundDelivery.attempt_log))
            .filter_by(id=found_id, workspace_id=workspace.id)
        )
    if delivery is None:
        raise NotFound("Delivery not found.", "id")
    return delivery


def recent_deliveries(workspace: Workspace, endpoint_id: Any = None, limit: int = 20) -> list[OutboundDelivery]:
    """The newest deliveries (of one endpoint, or all), each with its attempts."""
    query = select(OutboundDelivery).options(selectinload(OutboundDelivery.attempt_log)).where(
        OutboundDelivery.workspace_id == workspace.id
    )
    if endpoint_id is not None:
        query = query.where(OutboundDelivery.endpoint_id == get_endpoint(workspace, endpoint_id).id)
    return list(db.session.scalars(query.order_by(OutboundDelivery.id.desc()).limit(limit)))


def _prune_now_and_then() -> None:
    """Finished deliveries older than 30 days go (their attempts with them), hourly per process."""
    global _last_prune
    if time.monotonic() - _last_prune < PRUNE_EVERY_S:
        return
    _last_prune = time.monotonic()
    pruned = db.session.execute(
        delete(OutboundDelivery).where(OutboundDelivery.status != PENDING, OutboundDelivery.created_at < utcnow() - KEPT)
    ).rowcount
    db.session.commit()
    if pruned:
        log.info("pruned %s old webhook deliveries", pruned)
