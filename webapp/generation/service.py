"""Creating, listing, canceling, retrying and deleting videos: the rules views and the API call."""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, joinedload

from .. import media
from ..catalog.products import get_product
from ..extensions import db
from ..models import (
    Bulk,
    ImageStatus,
    Product,
    ProductImage,
    Template,
    User,
    Video,
    VideoEvent,
    VideoStatus,
    Workspace,
    utcnow,
)
from ..numbers import parse_id
from ..pagination import Page, paginate
from ..providers.base import ProviderError
from ..providers.registry import get_provider
from ..render.spec import speech_room
from ..render.voice import estimated_speech_s
from . import brand, queue, quota
from .choice import Choice, choose
from .contract import BulkCreate, Contract, CreateVideo, VideoRequest, parse
from .errors import (
    GenerationError,
    IdempotencyConflict,
    InvalidState,
    NotFound,
    QuotaExceeded,
)
from .lifecycle import transition
from .script import SPEECH_ESTIMATE_LOW, write_script

log = logging.getLogger(__name__)

SORTS = {
    "createdAt": Video.created_at,
    "generatedDate": Video.started_at,
    "product": Product.title,
    "template": Template.name,
    "status": Video.status,
}
MAX_SELECTION = 100  # videos one bulk action of the list takes: a few pages' worth
NO_IMAGES = "This product has no images yet. Add at least one image before generating a video."


def _fingerprint(request: Contract) -> str:
    return hashlib.sha256(request.model_dump_json().encode()).hexdigest()


def script_for(product: Product, request: VideoRequest, choice: Choice, cta: str | None = None) -> list[str]:
    """What the video will say: the lines the request gives, else written from the merchant's
    instructions, else from the product (``script``) to fit the chosen length, ending on the
    brand's call to action. A GenerationError when the voice could not say the merchant's words
    in the chosen length (found now, not when the render fails)."""
    duration = request.options.duration
    room = speech_room(duration) if choice.voiceover else None
    if request.options.script:
        lines = list(request.options.script)
    else:
        lines = draft_script(product, request.custom_instructions, cta, duration=duration,
                             voiceover=choice.voiceover).splitlines()
    spoken_s = estimated_speech_s(lines)
    if room is not None and spoken_s * SPEECH_ESTIMATE_LOW > room:
        length = f"a {duration:g} s video" if duration else "the longest video"
        raise GenerationError(
            f"This script takes about {spoken_s:.0f} s to say, even spoken briskly; {length} has "
            f"room for {room:.1f} s of speech before its end card. Choose a longer video, leave the length empty "
            "(the video follows the voice), or shorten the script.", "options.duration")
    return lines


def draft_script(product: Product, instructions: str, cta: str | None = None, *,
                 duration: float | None = None, voiceover: bool = True) -> str:
    """The script a new video of ``product`` would say, one line per line, for a person to edit;
    ``cta``: the workspace's call to action (looked up when not given). Written from the
    product, it is as long as the voice can say in ``duration``."""
    return "\n".join(write_script(
        title=product.title, description=product.description, price=product.price_label,
        compare_at_price=product.compare_at_label, instructions=instructions,
        cta=cta if cta is not None else brand.call_to_action(product.workspace_id),
        speech_room_s=speech_room(duration) if voiceover else None,
    ).lines)


# --------------------------------------------------------------- create ----


def create_video(
    workspace: Workspace,
    user: User | None,
    request: CreateVideo,
    *,
    idempotency_key: str | None = None,
    submission: str | None = None,
    on_hold: bool = False,
    client_metadata: dict[str, Any] | None = None,
) -> tuple[Video, bool]:
    """Queues one video, reserving one video of quota. Returns (video, created).

    With an idempotency key already used in this workspace: the same input returns the first
    video (created False); different input is refused. ``submission``: the one-time token of
    the page's form; the form sent again with the same answers (a second click, a resend)
    returns the first video, and with answers changed since makes another. Bad input changes
    nothing. ``on_hold``:
    charged now, started only when ``start_held`` is called (seeds/002's create, then generate).
    ``client_metadata``: a seeds/002 client's own keys, kept with the video.
    """
    choice = choose(request)
    product = get_product(workspace, request.product_id)
    fingerprint = _fingerprint(request)
    if submission is not None:
        idempotency_key = f"form:{submission}:{fingerprint}"
    if idempotency_key is not None:
        _check_idempotency_key(idempotency_key)
        earlier = _video_for_key(workspace, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier, False
    if not product.ready_images:
        raise GenerationError(NO_IMAGES, "productId")
    script = script_for(product, request, choice)
    if quota.reserve(workspace, 1) != 1:
        db.session.rollback()
        raise QuotaExceeded(quota.limit_message(workspace))
    video = Video(**_video_values(workspace, user, product, choice, request, script))
    video.idempotency_key, video.request_fingerprint = idempotency_key, fingerprint
    video.on_hold = on_hold
    video.client_metadata = client_metadata
    video.webhook_url = str(request.webhook_url) if request.webhook_url else None
    db.session.add(video)
    try:
        db.session.flush()
    except IntegrityError:  # the same key, sent twice at once: the other request won
        db.session.rollback()
        return _video_for_key(workspace, idempotency_key, fingerprint), False
    db.session.add(VideoEvent(video_id=video.id, kind="status", to_status="pending",
                              message="Waiting for a generate call" if on_hold else "Queued"))
    db.session.commit()
    if not on_hold:
        queue.wake_workers()
    return video, True


def _video_for_key(workspace: Workspace, key: str, fingerprint: str) -> Video | None:
    video = db.session.scalar(select(Video).filter_by(workspace_id=workspace.id, idempotency_key=key))
    if video is not None and video.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request.", "Idempotency-Key"
        )
    return video


def _video_values(
    workspace: Workspace, user: User | None, product: Product, choice: Choice, request: VideoRequest,
    script: list[str],
) -> dict[str, Any]:
    now = utcnow()
    return {
        "workspace_id": workspace.id,
        "user_id": user.id if user else None,
        "product_id": product.id,
        "template_key": choice.template.key,
        "title": f"{product.title} · {choice.template.name}"[:255],
        "custom_instructions": request.custom_instructions,
        "options": {**request.options.stored(), "voiceover": choice.voiceover},
        "script": script,
        "status": VideoStatus.PENDING.value,
        "progress": 0,
        "progress_message": "Queued",
        "provider": choice.provider.name,
        "model": choice.model,
        "quota_period": quota.current_period(),
        "quota_refunded": False,
        "attempts": 0,
        "poll_interval_s": 2.0,
        "created_at": now,
        "updated_at": now,
    }


@dataclass(frozen=True)
class BulkOutcome:
    product_id: Any
    result: str  # queued | skipped_existing | over_quota | invalid
    product_title: str | None = None
    video_id: int | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"product_id": self.product_id, "result": self.result, "product_title": self.product_title,
                "video_id": self.video_id, "reason": self.reason}


def _sort_bulk(
    workspace: Workspace, product_ids: list[int], template: Template, skip_existing: bool
) -> tuple[list[BulkOutcome | None], list[Product]]:
    """Splits a bulk request: an outcome for each product that will not be queued (None where it
    will), and the products to queue, in request order. Three statements, whatever the size."""
    wanted = list(dict.fromkeys(product_ids))  # drop repeats, keep order
    products = {
        p.id: p
        for p in db.session.scalars(
            select(Product).where(Product.workspace_id == workspace.id, Product.id.in_(wanted))
        )
    }
    with_images = set(
        db.session.scalars(
            select(ProductImage.product_id)
            .where(ProductImage.product_id.in_(list(products)), ProductImage.status == ImageStatus.OK.value)
            .distinct()
        )
    )
    existing = set()
    if skip_existing:
        existing = set(
            db.session.scalars(
                select(Video.product_id).where(
                    Video.workspace_id == workspace.id,
                    Video.product_id.in_(list(products)),
                    Video.template_key == template.key,
                    Video.status == VideoStatus.COMPLETED.value,
                ).distinct()
            )
        )

    outcomes: list[BulkOutcome | None] = []
    candidates: list[Product] = []
    for product_id in wanted:
        product = products.get(product_id)
        if product is None:
            outcomes.append(BulkOutcome(product_id, "invalid", reason="Product not found."))
        elif product.id not in with_images:
            outcomes.append(BulkOutcome(product.id, "invalid", product.title, reason=NO_IMAGES))
        elif product.id in existing:
            outcomes.append(
                BulkOutcome(product.id, "skipped_existing", product.title,
                            reason="Already has a completed video with this template.")
            )
        else:
            outcomes.append(None)
            candidates.append(product)
    return outcomes, candidates


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk request would do now, for the confirmation: nothing is reserved."""

    to_queue: int
    skipped_existing: int
    invalid: int


def plan_bulk(workspace: Workspace, request: BulkCreate) -> BulkPlan:
    choice = choose(request)
    outcomes, candidates = _sort_bulk(workspace, request.product_ids, choice.template, request.skip_existing)
    skipped = sum(1 for o in outcomes if o is not None and o.result == "skipped_existing")
    return BulkPlan(len(candidates), skipped, sum(1 for o in outcomes if o is not None) - skipped)


def create_bulk(
    workspace: Workspace, user: User | None, request: BulkCreate, *, idempotency_key: str | None = None
) -> list[BulkOutcome]:
    """Queues one video per product; not atomic: what fits the quota is queued.

    With an idempotency key already used in this workspace, the same request answers what the
    first one did and queues nothing more; a different request is refused.
    A constant number of statements whatever the number of products: three to sort the request
    (_sort_bulk), one quota reservation, one insert of videos and one of their events.
    """
    choice = choose(request)
    fingerprint = None
    if idempotency_key is not None:
        _check_idempotency_key(idempotency_key)
        fingerprint = _fingerprint(request)
        earlier = _bulk_for_key(workspace, idempotency_key, fingerprint)
        if earlier is not None:
            return earlier
    outcomes, candidates = _sort_bulk(workspace, request.product_ids, choice.template, request.skip_existing)
    cta = brand.call_to_action(workspace.id)
    scripts = {p.id: script_for(p, request, choice, cta) for p in candidates}  # before anything is charged

    granted = quota.reserve(workspace, len(candidates))
    queued, over = candidates[:granted], candidates[granted:]
    bulk = Bulk(workspace_id=workspace.id, user_id=user.id if user else None, template_key=choice.template.key,
                queued=len(queued), idempotency_key=idempotency_key, request_fingerprint=fingerprint)
    db.session.add(bulk)
    try:
        db.session.flush()
    except IntegrityError:  # the same key, sent twice at once: the other request won
        db.session.rollback()
        return _bulk_for_key(workspace, idempotency_key, fingerprint)
    video_ids: dict[int, int] = {}
    if queued:
        rows = [{**_video_values(workspace, user, p, choice, request, scripts[p.id]), "bulk_id": bulk.id}
                for p in queued]
        result = db.session.execute(insert(Video).returning(Video.id, Video.product_id), rows)
        video_ids = {product_id: video_id for video_id, product_id in result}
        db.session.execute(
            insert(VideoEvent),
            [{"video_id": vid, "kind": "status", "to_status": "pending", "message": "Queued (bulk)",
              "created_at": utcnow()} for vid in video_ids.values()],
        )
    over_reason = quota.limit_message(workspace) if over else None
    by_candidate = {p.id: BulkOutcome(p.id, "queued", p.title, video_ids[p.id]) for p in queued}
    by_candidate.update({p.id: BulkOutcome(p.id, "over_quota", p.title, reason=over_reason) for p in over})
    candidate_iter = iter(candidates)
    answer = [outcome if outcome is not None else by_candidate[next(candidate_iter).id] for outcome in outcomes]
    bulk.outcomes = [outcome.as_dict() for outcome in answer]
    if not queued:
        bulk.finished_at = utcnow()
    db.session.commit()  # after reading the products: the commit expires them (one SELECT each to reload)
    if queued:
        queue.wake_workers()
    return answer


def _bulk_for_key(workspace: Workspace, key: str, fingerprint: str) -> list[BulkOutcome] | None:
    bulk = db.session.scalar(select(Bulk).filter_by(workspace_id=workspace.id, idempotency_key=key))
    if bulk is None:
        return None
    if bulk.request_fingerprint != fingerprint:
        raise IdempotencyConflict(
            "This Idempotency-Key was already used with a different request.", "Idempotency-Key"
        )
    return [BulkOutcome(**outcome) for outcome in bulk.outcomes]


def _check_idempotency_key(key: str) -> None:
    if not 0 < len(key) <= 255:
        raise GenerationError("Idempotency-Key must be 1–255 characters.", "Idempotency-Key")


# -------------------------------------------------------------- actions ----


def get_video(workspace: Workspace, video_id: Any) -> Video:
    video_id = parse_id(video_id)
    video = None
    if video_id is not None:
        video = db.session.scalar(
            select(Video).options(joinedload(Video.product)).filter_by(id=video_id, workspace_id=workspace.id)
        )
    if video is None:
        raise NotFound("Video not found.", "id")
    return video


# The files of a video a request may ask for, by name: never a path from the request.
VIDEO_FILES = {"video": "video_path", "poster": "thumbnail_path", "captions": "captions_path"}


def video_file(workspace: Workspace, video_id: Any, kind: str) -> media.MediaFile:
    """One of the workspace's video's files (``VIDEO_FILES``); NotFound when it has none."""
    video = get_video(workspace, video_id)
    path = getattr(video, VIDEO_FILES[kind]) if kind in VIDEO_FILES else None
    if not path:
        raise NotFound("This video has no such file.", "id")
    return media.MediaFile(path, f"{_file_stem(video)}{PurePosixPath(path).suffix}")


def _file_stem(video: Video) -> str:
    """A download's name from the video's title: lowercase ASCII words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", video.title.lower()).strip("-")[:80] or f"video-{video.id}"


def cancel_video(workspace: Workspace, video_id: Any, reason: str = "Canceled by user") -> Video:
    video = get_video(workspace, video_id)
    if not video.in_flight:
        raise InvalidState("Only a pending or generating video can be canceled.")
    external_id, provider_name = video.external_job_id, video.provider
    if not transition(video, VideoStatus.CANCELED, reason):
        raise InvalidState("The video finished before it could be canceled.")
    if external_id:
        cancel_at_provider(provider_name, external_id)
    return video


def cancel_at_provider(provider_name: str, external_id: str) -> None:
    """Best effort: the video is already canceled here, whatever the provider answers."""
    try:
        get_provider(provider_name).cancel(external_id)
    except ProviderError as error:
        log.warning("cancel of %s at %s failed: %s", external_id, provider_name, error)


def retry_video(workspace: Workspace, video_id: Any) -> Video:
    """A failed or canceled video goes back to pending, charged again (it was refunded)."""
    video = get_video(workspace, video_id)
    if video.status not in (VideoStatus.FAILED.value, VideoStatus.CANCELED.value):
        raise InvalidState("Only a failed or canceled video can be retried.")
    if not video.product.ready_images:
        raise GenerationError(NO_IMAGES, "productId")
    changes: dict[str, Any] = {
        # attempts count the tries of this generation; the timeline keeps the earlier ones
        "attempts": 0, "error": None, "progress": 0, "progress_message": "Queued", "external_job_id": None,
        "submit_started_at": None, "next_poll_at": None, "poll_interval_s": 2.0, "started_at": None,
        "completed_at": None, "failed_at": None, "canceled_at": None,
        "on_hold": False,  # a retry is a request to generate: a canceled held video is queued
    }
    if video.quota_refunded:
        if quota.reserve(workspace, 1) != 1:
            db.session.rollback()
            raise QuotaExceeded(quota.limit_message(workspace))
        changes.update(quota_refunded=False, quota_period=quota.current_period())
    if not transition(video, VideoStatus.PENDING, "Retry requested", **changes):
        raise InvalidState("The video changed while it was being retried. Reload and try again.")
    queue.wake_workers()
    return video


NOT_HELD = "Video not found or already generating"  # seeds/002's one answer for both


def start_held(workspace: Workspace, video_id: Any) -> Video:
    """Starts a video made ``on_hold`` (seeds/002: POST /api/videos, then /:id/generate): from
    now on it waits in the queue like any other. One conditional UPDATE, so of two calls at once
    one starts it; the other, like a video that is unknown, another workspace's, already started
    or finished, is refused with the seed's words."""
    video_id = parse_id(video_id)
    started = video_id is not None and db.session.execute(
        update(Video)
        .where(Video.id == video_id, Video.workspace_id == workspace.id, Video.status == VideoStatus.PENDING.value,
               Video.on_hold.is_(True))
        .values(on_hold=False, progress_message="Queued", updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not started:
        db.session.rollback()
        raise GenerationError(NOT_HELD, "id")
    db.session.add(VideoEvent(video_id=video_id, kind="status", to_status="pending", message="Generate requested: queued"))
    db.session.commit()
    queue.wake_workers()
    return get_video(workspace, video_id)


def update_held(
    workspace: Workspace,
    video_id: Any,
    *,
    template: str | None = None,
    custom_instructions: str | None = None,
    client_metadata: dict[str, Any] | None = None,
) -> Video:
    """seeds/002's PUT /api/videos/:id: a new template or new custom instructions for a video
    still waiting for its generate call (checked against its provider and model as at creation;
    a script written from the old instructions is written again); the client's metadata of any
    video. Anything else, or a video that has started, is refused and nothing changes."""
    video = get_video(workspace, video_id)
    changes: dict[str, Any] = {}
    if template is not None or custom_instructions is not None:
        if not (video.status == VideoStatus.PENDING.value and video.on_hold):
            field = "template" if template is not None else "customInstructions"
            raise GenerationError("Only a video still waiting for its generate call can change its template or "
                                  "custom instructions; this one has started.", field)
        request = parse(VideoRequest, {
            "template": template or video.template_key, "options": video.options or {}, "provider": video.provider,
            "model": video.model,
            "custom_instructions": video.custom_instructions if custom_instructions is None else custom_instructions,
        })
        choice = choose(request)
        changes = {"template_key": choice.template.key, "custom_instructions": request.custom_instructions,
                   "title": f"{video.product.title} · {choice.template.name}"[:255]}
        if not request.options.script:  # the script was written from the instructions: write it again
            changes["script"] = script_for(video.product, request, choice)
    if client_metadata is not None:
        changes["client_metadata"] = client_metadata
    if not changes:
        return video
    held = (Video.status == VideoStatus.PENDING.value, Video.on_hold.is_(True)) if "template_key" in changes else ()
    updated = db.session.execute(
        update(Video).where(Video.id == video.id, *held).values(**changes, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if updated != 1:  # its generate call came first
        db.session.rollback()
        raise GenerationError("The video started meanwhile; its template and instructions can no longer change.",
                              "template")
    db.session.commit()
    db.session.expire(video)
    return video


def delete_video(workspace: Workspace, video_id: Any) -> None:
    """Deletes the video and its files; one still in flight is canceled (and refunded) first."""
    video = get_video(workspace, video_id)
    if video.in_flight:
        try:
            cancel_video(workspace, video.id, "Canceled because the video was deleted")
        except InvalidState:
            pass  # it finished meanwhile: delete it all the same
        video = get_video(workspace, video.id)
    files = (video.video_path, video.thumbnail_path, video.captions_path)
    db.session.delete(video)
    db.session.commit()
    media.remove(*files)


def selected_ids(raw_ids: Sequence[Any]) -> list[int]:
    """The ids a bulk action of the list was given: real ids, each once, at most MAX_SELECTION."""
    ids = list(dict.fromkeys(i for i in map(parse_id, raw_ids) if i is not None))
    if not ids:
        raise GenerationError("Select at least one video.", "videoIds")
    if len(ids) > MAX_SELECTION:
        raise GenerationError(f"Select at most {MAX_SELECTION} videos at once.", "videoIds")
    return ids


def delete_videos(workspace: Workspace, raw_ids: Sequence[Any]) -> int:
    """Deletes the workspace's videos among ``raw_ids`` (each as ``delete_video`` does: one in
    flight is canceled and refunded first); returns how many. Another workspace's ids are
    ignored, like ids that do not exist."""
    ids = selected_ids(raw_ids)
    found = db.session.scalars(select(Video.id).where(Video.workspace_id == workspace.id, Video.id.in_(ids))).all()
    for video_id in found:
        delete_video(workspace, video_id)
    return len(found)


@dataclass(frozen=True)
class RetryOutcome:
    """What retrying a selection did: the videos queued again, those that were neither failed
    nor canceled, and those the quota or their product refused (with the first reason)."""

    retried: list[int]
    not_retryable: int
    refused: int
    reason: str | None = None


def retry_videos(workspace: Workspace, raw_ids: Sequence[Any]) -> RetryOutcome:
    """Retries the failed and canceled videos among ``raw_ids``, each charged again as
    ``retry_video`` does, until the quota is used up; the others are counted, not touched.
    InvalidState when none of them failed or was canceled."""
    ids = selected_ids(raw_ids)
    rows = db.session.execute(
        select(Video.id, Video.status).where(Video.workspace_id == workspace.id, Video.id.in_(ids)).order_by(Video.id)
    ).all()
    retryable = [video_id for video_id, status in rows if status in (VideoStatus.FAILED.value, VideoStatus.CANCELED.value)]
    if not retryable:
        raise InvalidState("None of the selected videos failed or was canceled: there is nothing to retry.")
    retried, refused, reason = [], 0, None
    for video_id in retryable:
        try:
            retry_video(workspace, video_id)
        except GenerationError as error:
            refused += 1
            reason = reason or error.message
        else:
            retried.append(video_id)
    return RetryOutcome(retried, len(rows) - len(retryable), refused, reason)


def zip_members(workspace: Workspace, raw_ids: Sequence[Any]) -> list[media.MediaFile]:
    """The MP4 files of the workspace's completed videos among ``raw_ids``, each with a file
    name unique within the ZIP; NotFound when none of them has one."""
    ids = selected_ids(raw_ids)
    videos = db.session.scalars(
        select(Video).where(
            Video.workspace_id == workspace.id, Video.id.in_(ids), Video.status == VideoStatus.COMPLETED.value,
            Video.video_path.is_not(None),
        ).order_by(Video.id)
    ).all()
    if not videos:
        raise NotFound("None of the selected videos is finished: only finished videos can be downloaded.", "videoIds")
    return [media.MediaFile(v.video_path, f"{_file_stem(v)}-{v.id}{PurePosixPath(v.video_path).suffix}") for v in videos]


# -------------------------------------------------------------- queries ----


def _video_conditions(
    workspace: Workspace, status: str | Sequence[str] | None, search: str | None, product_id: int | None,
    template: str | None = None, held: bool | None = None,
) -> list:
    conditions = [Video.workspace_id == workspace.id]
    if isinstance(status, str) and status:
        conditions.append(Video.status == status)
    elif status:
        conditions.append(Video.status.in_(list(status)))
    if held is not None:
        conditions.append(Video.on_hold.is_(held))
    if product_id:
        conditions.append(Video.product_id == product_id)
    if template:
        conditions.append(Video.template_key == template)
    if search:
        text = search.strip()
        # products first: scanning the products table beats joining every video to its product
        matching_products = select(Product.id).where(
            Product.workspace_id == workspace.id,
            or_(Product.title.icontains(text, autoescape=True), Product.sku.icontains(text, autoescape=True)),
        )
        conditions.append(or_(Video.product_id.in_(matching_products), Video.title.icontains(text, autoescape=True)))
    return conditions


def list_videos(
    workspace: Workspace,
    page: int = 1,
    per_page: int = 20,
    *,
    status: str | Sequence[str] | None = None,
    search: str | None = None,
    product_id: int | None = None,
    template: str | None = None,
    held: bool | None = None,
    sort: str = "createdAt",
    order: str = "desc",
) -> Page:
    """A page of the workspace's videos with product and template, filtered and sorted: two
    statements (the count, and the rows with their product and template joined). ``status``:
    one or several; ``held``: only videos that wait (or do not wait) for a generate call."""
    conditions = _video_conditions(workspace, status, search, product_id, template, held)
    count = select(func.count(Video.id)).where(*conditions)
    column = SORTS.get(sort, Video.created_at)
    direction = column.asc() if order == "asc" else column.desc()
    tie = Video.id.asc() if order == "asc" else Video.id.desc()
    # generatedDate is empty until a video starts: those come last either way
    ordering = (column.is_(None), direction, tie) if column is Video.started_at else (direction, tie)
    rows = (
        select(Video)
        .join(Video.product)
        .outerjoin(Video.template)
        .options(contains_eager(Video.product), contains_eager(Video.template))
        .where(*conditions)
        .order_by(*ordering)
    )
    return paginate(rows, page, per_page, count_query=count)


@dataclass(frozen=True)
class ProductVideos:
    """A product's latest video and how many it has, for the products table."""

    latest: Video
    count: int


def latest_videos(workspace: Workspace, product_ids: Sequence[int]) -> dict[int, ProductVideos]:
    """For each of these products that has a video: its latest one and the count. One statement
    (a window over the products' videos), whatever the number of products."""
    if not product_ids:
        return {}
    newest_first = (Video.created_at.desc(), Video.id.desc())
    ranked = (
        select(
            Video.id.label("id"),
            func.row_number().over(partition_by=Video.product_id, order_by=newest_first).label("rank"),
            func.count(Video.id).over(partition_by=Video.product_id).label("count"),
        )
        .where(Video.workspace_id == workspace.id, Video.product_id.in_(list(product_ids)))
        .subquery()
    )
    rows = db.session.execute(
        select(Video, ranked.c.count).join(ranked, ranked.c.id == Video.id).where(ranked.c.rank == 1)
    )
    return {video.product_id: ProductVideos(video, count) for video, count in rows}


def product_choices(workspace: Workspace, limit: int = 500) -> list[Product]:
    """Products offered in the generate form's selector."""
    return list(
        db.session.scalars(select(Product).where(Product.workspace_id == workspace.id).order_by(Product.title).limit(limit))
    )
